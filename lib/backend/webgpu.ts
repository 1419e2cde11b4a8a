/**
 * Choosing WebGPU: an adapter is asked for once per process and its device is
 * shared by every caller.
 *
 * "auto" takes WebGPU only on a hardware adapter. Mesa's llvmpipe and
 * lavapipe, and SwiftShader, emulate a GPU on the CPU, more slowly than the
 * CPU backend itself, so "auto" says so and returns null (the CPU). Asking
 * for "webgpu" explicitly accepts them: that is how the parity tests run on
 * machines without a GPU. No adapter at all is an error then.
 *
 * Deno (2.x) needs no flag and no permission for WebGPU: `navigator.gpu` is
 * there in plain `deno run` and `deno test`. On Linux it runs through Vulkan,
 * or through OpenGL ES (EGL) when no Vulkan driver is installed, which is how
 * Mesa's llvmpipe serves it on machines with only libegl-mesa0 and libgl1-mesa-dri.
 */
import type { Backend } from "./backend.ts";
import { adapterName, WebGpuBackend } from "./webgpu/backend.ts";

export { WebGpuBackend } from "./webgpu/backend.ts";
export type { WebGpuStats } from "./webgpu/backend.ts";

const SOFTWARE_ADAPTERS = /llvmpipe|lavapipe|softpipe|swiftshader|software|microsoft basic render/i;

/** True for an adapter that emulates a GPU on the CPU. */
export function isSoftwareAdapter(info: GPUAdapterInfo, adapter?: GPUAdapter): boolean {
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (adapter as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter;
  const names = [info.description, info.vendor, info.architecture, info.device].join(" ");
  return fallback === true || SOFTWARE_ADAPTERS.test(names);
}

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

async function createBackend(adapter: GPUAdapter): Promise<WebGpuBackend> {
  // Ask for the adapter's largest buffers: the defaults (128 MiB per binding,
  // 256 MiB per buffer) are smaller than a training set of images.
  const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize, maxBufferSize },
  });
  return new WebGpuBackend(device, adapter.info);
}

/** The shared WebGPU backend on whatever adapter there is, software included; null when none. */
export async function webGpuBackendIfAvailable(): Promise<WebGpuBackend | null> {
  const { adapter } = await (adapterPromise ??= findAdapter());
  return adapter ? await (backendPromise ??= createBackend(adapter)) : null;
}

/**
 * The backend for "webgpu" or "auto" (see the module comment), with one line to
 * `log` about the decision. `adapterSource` replaces the shared adapter (tests
 * use it to pretend there is none, or a software one).
 */
export async function requestWebGpuBackend(
  choice: "webgpu" | "auto",
  log: (line: string) => void,
  adapterSource?: () => Promise<Adapter>,
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
  log(
    `backend ${choice}: WebGPU on ${name}${
      software ? " (a software renderer: correct but slow)" : ""
    }`,
  );
  return backend;
}
