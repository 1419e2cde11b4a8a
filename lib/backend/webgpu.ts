/**
 * Choosing WebGPU: an adapter is asked for once per process and its device is
 * shared by every caller.
 *
 * "auto" takes WebGPU only on a hardware adapter. Mesa's llvmpipe and
 * lavapipe, and SwiftShader, emulate a GPU on the CPU, more slowly than the
 * CPU backend itself, so "auto" says so and returns null (the CPU). Asking
 * for "webgpu" explicitly accepts them: that is how the parity tests run on
 * machines without a GPU. No adapter at all is an error then. On a software
 * adapter, "webgpu" first times a training step's kernels on it and on the
 * CPU (about a second) and says how much longer the run will take.
 *
 * When the program unloads, every device made here is destroyed with its
 * buffers (releaseWebGpu), so that the process exit has no GPU state left to
 * tear down.
 *
 * Deno (2.x) needs no flag and no permission for WebGPU: `navigator.gpu` is
 * there in plain `deno run` and `deno test`. On Linux it runs through Vulkan,
 * or through OpenGL ES (EGL) when no Vulkan driver is installed, which is how
 * Mesa's llvmpipe serves it on machines with only libegl-mesa0 and libgl1-mesa-dri.
 */
import type { Backend } from "./backend.ts";
import type { Tensor } from "../tensor.ts";
import { CpuBackend } from "./cpu.ts";
import { adapterName, WebGpuBackend } from "./webgpu/backend.ts";
import { isSoftwareAdapter } from "./webgpu/adapter.ts";

export { WebGpuBackend } from "./webgpu/backend.ts";
export type { WebGpuOptions, WebGpuStats } from "./webgpu/backend.ts";
export { isSoftwareAdapter } from "./webgpu/adapter.ts";
export { tilingNames, TILINGS } from "./webgpu/matmul.ts";
export type { Tiling, TilingName } from "./webgpu/matmul.ts";

export interface Adapter {
  adapter: GPUAdapter | null;
  software: boolean;
  /** Why there is no adapter, when there is none. */
  reason?: string;
}

let adapterPromise: Promise<Adapter> | null = null;
let backendPromise: Promise<WebGpuBackend> | null = null;

/** The adapter Deno offers (high-performance preferred), and whether it is a software one. */
export async function findAdapter(): Promise<Adapter> {
  if (typeof navigator === "undefined" || !("gpu" in navigator) || !navigator.gpu) {
    return { adapter: null, software: false, reason: "this runtime has no navigator.gpu" };
  }
  try {
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) {
      return {
        adapter: null,
        software: false,
        reason: "no WebGPU adapter was found (Deno found no Vulkan, Metal, D3D12 or OpenGL driver)",
      };
    }
    return { adapter, software: isSoftwareAdapter(adapter.info, adapter) };
  } catch (error) {
    return {
      adapter: null,
      software: false,
      reason: `requestAdapter failed: ${(error as Error).message}`,
    };
  }
}

/** Every backend made here, with the device it owns, for releaseWebGpu(). */
const created: WebGpuBackend[] = [];

/**
 * Destroy every buffer and device made here. Called when the program unloads,
 * so that the GPU driver is not torn down by the process exit while the
 * device and its buffers are still alive (see BENCHMARKS.md, "the abort at
 * exit"). Using a backend afterwards is an error.
 */
export function releaseWebGpu(): void {
  for (const backend of created.splice(0)) {
    backend.destroy();
    backend.device.destroy();
  }
  adapterPromise = null;
  backendPromise = null;
}

globalThis.addEventListener("unload", releaseWebGpu);

async function createBackend(adapter: GPUAdapter): Promise<WebGpuBackend> {
  // Ask for the adapter's largest buffers: the defaults (128 MiB per binding,
  // 256 MiB per buffer) are smaller than a training set of images.
  const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize, maxBufferSize },
  });
  const backend = new WebGpuBackend(device, adapter.info, {
    software: isSoftwareAdapter(adapter.info, adapter),
  });
  created.push(backend);
  return backend;
}

/** The shared WebGPU backend on whatever adapter there is, software included; null when none. */
export async function webGpuBackendIfAvailable(): Promise<WebGpuBackend | null> {
  const { adapter } = await (adapterPromise ??= findAdapter());
  return adapter ? await (backendPromise ??= createBackend(adapter)) : null;
}

/** Milliseconds the same work took on WebGPU and on the CPU backend. */
export interface ProbeTiming {
  webGpuMs: number;
  cpuMs: number;
  /** What the work was, for the message. */
  work: string;
}

const PROBE_REPEATS = 2;

/**
 * The kernels of one SGD step of a 784-128-10 MLP on a batch of 128 (the
 * chapters' model): its five products and its element-wise work, on
 * made-up values. The loss kernels are left out: they are small.
 */
function probeStep(b: Backend, x: Tensor, w1: Tensor, bias1: Tensor, w2: Tensor): void {
  const kept: Tensor[] = [];
  const keep = (t: Tensor) => (kept.push(t), t);
  const z1 = keep(b.matmul(x, w1, false, false));
  const h = keep(b.unary("relu", keep(b.binary("add", z1, bias1)), 0, 0));
  const out = keep(b.matmul(h, w2, false, false));
  const dOut = keep(b.unary("scale", out, 1 / 128, 0));
  const dW2 = keep(b.matmul(h, dOut, true, false));
  const dh = keep(
    b.binary("mul", keep(b.matmul(dOut, w2, false, true)), keep(b.unary("step", z1, 0, 0))),
  );
  const dW1 = keep(b.matmul(x, dh, true, false));
  const db1 = keep(b.reduceRows("sum", dh));
  b.sgdUpdate(w1, dW1, 1e-9, 0);
  b.sgdUpdate(w2, dW2, 1e-9, 0);
  b.sgdUpdate(bias1, db1, 1e-9, 0);
  for (const t of kept) t.dispose();
}

/**
 * Time PROBE_REPEATS steps' kernels (probeStep) on both backends: about a
 * second on llvmpipe. The WebGPU ones are recorded together and read once,
 * less the cost of a read alone: a training step reads nothing back.
 */
export async function probeSpeed(backend: WebGpuBackend): Promise<ProbeTiming> {
  const values = (count: number, scale: number) =>
    Float32Array.from({ length: count }, (_, i) => scale * ((i % 7) - 3));
  const cpu = new CpuBackend();
  const timeOn = async (b: Backend, readMs: number) => {
    const x = b.fromValues(values(128 * 784, 0.1), [128, 784], "float32");
    const w1 = b.fromValues(values(784 * 128, 0.01), [784, 128], "float32");
    const bias1 = b.zeros([128], "float32");
    const w2 = b.fromValues(values(128 * 10, 0.01), [128, 10], "float32");
    // Compile the shaders, fill the pool, let V8 optimise the CPU loops.
    for (let r = 0; r < 2; r++) probeStep(b, x, w1, bias1, w2);
    await b.zeros([1], "float32").data();
    const started = performance.now();
    for (let r = 0; r < PROBE_REPEATS; r++) probeStep(b, x, w1, bias1, w2);
    await b.zeros([1], "float32").data();
    const ms = Math.max(performance.now() - started - readMs, 0.01);
    for (const t of [x, w1, bias1, w2]) t.dispose();
    return ms;
  };
  let readMs = performance.now();
  await backend.zeros([1], "float32").data();
  readMs = performance.now() - readMs;
  return {
    webGpuMs: await timeOn(backend, readMs),
    cpuMs: await timeOn(cpu, 0),
    work: `the kernels of ${PROBE_REPEATS} training steps of a 784-128-10 MLP, batch 128`,
  };
}

/** Below this ratio a software adapter is called "about as fast as the CPU backend". */
const SAME_SPEED_RATIO = 1.5;

/** What a run on a software adapter should expect, from a probe's timings. */
export function slowdownMessage(timing: ProbeTiming): string {
  const ratio = timing.webGpuMs / timing.cpuMs;
  const measured = `a quick probe (${timing.work}) took ${timing.webGpuMs.toFixed(0)} ms on it ` +
    `and ${timing.cpuMs.toFixed(0)} ms on the CPU backend`;
  if (ratio < SAME_SPEED_RATIO) {
    return `${measured}: about as fast, so expect this run to take about as long as with --backend=cpu`;
  }
  const times = ratio < 10 ? ratio.toFixed(1) : ratio.toFixed(0);
  return `${measured}: expect this run to take about ${times} times as long as with --backend=cpu`;
}

/**
 * The backend for "webgpu" or "auto" (see the module comment), with one line to
 * `log` about the decision. `adapterSource` replaces the shared adapter (tests
 * use it to pretend there is none, or a software one). On a software adapter
 * the line says how much slower than the CPU backend to expect, measured by
 * `probe` before any long run starts.
 */
export async function requestWebGpuBackend(
  choice: "webgpu" | "auto",
  log: (line: string) => void,
  adapterSource?: () => Promise<Adapter>,
  probe: (backend: WebGpuBackend) => Promise<ProbeTiming> = probeSpeed,
): Promise<Backend | null> {
  const { adapter, software, reason } = adapterSource
    ? await adapterSource()
    : await (adapterPromise ??= findAdapter());
  if (!adapter) {
    if (choice === "auto") {
      log(`backend auto: ${reason}; using the CPU`);
      return null;
    }
    throw new Error(`backend webgpu: ${reason}. Use --backend=cpu (or auto).`);
  }
  const name = adapterName(adapter.info);
  if (software && choice === "auto") {
    log(
      `backend auto: the only WebGPU adapter is ${name}, a software renderer on the CPU, slower ` +
        `than the CPU backend; using the CPU`,
    );
    return null;
  }
  const backend = adapterSource
    ? await createBackend(adapter)
    : await (backendPromise ??= createBackend(adapter));
  if (software) {
    log(
      `backend ${choice}: WebGPU on ${name}, a software renderer on the CPU (correct but slow); ` +
        slowdownMessage(await probe(backend)),
    );
  } else {
    log(`backend ${choice}: WebGPU on ${name}`);
  }
  return backend;
}
