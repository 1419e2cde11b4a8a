/**
 * WebGPU against the CPU: the backend-generic parity suite (parity_cases.ts),
 * then what only WebGPU has: windowed gathers, the float32-only refusal, and
 * choosing the adapter.
 *
 * Runs on any adapter, software ones included (Mesa's llvmpipe in CI, about
 * 0.2 GFLOP/s, so the shapes are small). No flag or permission is needed.
 * Without an adapter every test here is skipped, with a message saying so.
 */
import assert from "node:assert/strict";
import { cpu } from "../lib/backend/mod.ts";
import {
  type Adapter,
  findAdapter,
  isSoftwareAdapter,
  requestWebGpuBackend,
  WebGpuBackend,
  webGpuBackendIfAvailable,
} from "../lib/backend/webgpu.ts";
import { Linear, type Tensor } from "../lib/mod.ts";
import { assertClose, assertSame, defineParitySuite, randomValues } from "./parity_cases.ts";

let gpu: WebGpuBackend | null = null;
let whyNot = "";
try {
  gpu = await webGpuBackendIfAvailable();
  if (!gpu) whyNot = "no WebGPU adapter";
} catch (error) {
  whyNot = `the WebGPU device could not be created: ${(error as Error).message}`;
}
if (!gpu) {
  console.warn(`webgpu parity tests SKIPPED: ${whyNot} (they need a GPU or Mesa's llvmpipe)`);
}

defineParitySuite("webgpu", () => Promise.resolve(gpu));

function gpuTest(name: string, fn: (gpu: WebGpuBackend) => Promise<void>): void {
  Deno.test({
    name: `webgpu: ${name}`,
    ignore: gpu === null,
    // The device and its buffers live for the whole file, not one test.
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => fn(gpu!),
  });
}

gpuTest("gatherRows from a source larger than one binding, in windows", async (gpu) => {
  // Bindings of at most 64 rows of 3 floats: 200 rows are gathered in 4 windows.
  const small = new WebGpuBackend(gpu.device, gpu.adapterInfo, { maxBindingBytes: 64 * 3 * 4 });
  const values = randomValues(200 * 3, 31);
  const indices = [199, 0, 64, 63, 128, 127, 150, 5, 199, 70];
  const gx = small.fromValues(values, [200, 3], "float32"),
    cx = cpu.fromValues(values, [200, 3], "float32");
  const gi = small.fromValues(indices, [indices.length], "float32");
  const ci = cpu.fromValues(indices, [indices.length], "float32");
  await assertSame(small.gatherRows(gx, gi), cpu.gatherRows(cx, ci), "windowed gatherRows");
  assert.ok(small.stats().dispatches >= 4, "one dispatch per window");
});

gpuTest(
  "a step's parameter updates are one dispatch, and run where they were asked for",
  async (gpu) => {
    const own = new WebGpuBackend(gpu.device, gpu.adapterInfo);
    const sizes = [12, 3, 40, 5];
    const params = sizes.map((n, i) => own.fromValues(randomValues(n, 80 + i), [n], "float32"));
    const grads = sizes.map((n, i) => own.fromValues(randomValues(n, 90 + i), [n], "float32"));
    const expected = await Promise.all(params.map(async (p, i) => {
      const [value, grad] = [await p.data(), await grads[i].data()];
      return value.map((v, j) => v - 0.1 * (grad[j] + 0.01 * v));
    }));
    params.forEach((p, i) => own.sgdUpdate(p, grads[i], 0.1, 0.01));
    // Released before anything else is recorded: the queued update must still read it.
    grads[3].dispose();
    own.fromValues(new Float32Array(5).fill(1000), [5], "float32"); // would overwrite it if free
    own.flush();
    assert.equal(own.dispatchesByKernel().get("sgd_4"), 1, `${[...own.dispatchesByKernel()]}`);
    for (let i = 0; i < params.length; i++) {
      assertClose(await params[i].data(), expected[i], `parameter ${i}`);
    }
    // A read between two updates of one parameter sees the first.
    own.sgdUpdate(params[0], grads[0], 1, 0);
    const afterOne = await params[0].data();
    own.sgdUpdate(params[0], grads[0], 1, 0);
    const gradient = await grads[0].data();
    assertClose(await params[0].data(), afterOne.map((v, j) => v - gradient[j]), "second update");
    // Different hyperparameters are not batched together; Adam fits 2 per dispatch in 8 bindings.
    const before = own.stats().dispatches;
    own.sgdUpdate(params[1], grads[1], 0.1, 0);
    own.sgdUpdate(params[2], grads[2], 0.2, 0);
    own.flush();
    assert.equal(own.stats().dispatches - before, 2);
    own.destroy();
  },
);

gpuTest("float64 is refused with the operation's name", async (gpu) => {
  assert.throws(
    () => gpu.fromValues([1, 2], [2], "float64"),
    /webgpu fromValues: float64.*float32 only/,
  );
  assert.throws(() => gpu.zeros([2], "float64"), /webgpu zeros: float64/);
  const labels = gpu.fromValues([0, 1], [2], "float32");
  assert.throws(() => gpu.oneHot(labels, 2, "float64"), /webgpu oneHot: float64/);
  const fake = {
    ...labels,
    dtype: "float64",
    shape: [2, 1],
    size: 2,
    rank: 2,
  } as unknown as Tensor;
  assert.throws(() => gpu.matmul(fake, fake, true, false), /webgpu matmul: float64/);
  assert.throws(() => gpu.softmax(fake), /webgpu softmax: float64/);
  assert.throws(() => new Linear(2, 2, { backend: gpu, dtype: "float64" }), /float64/);
  await Promise.resolve();
});

// Choosing the backend -------------------------------------------------------------------

gpuTest("auto skips software adapters; webgpu takes them; no adapter is an error", async (gpu) => {
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const software = isSoftwareAdapter(gpu.adapterInfo);
  const auto = await requestWebGpuBackend("auto", log);
  if (software) {
    assert.equal(auto, null);
    assert.match(lines.at(-1)!, /software renderer.*using the CPU/);
  } else {
    assert.equal(auto, gpu);
  }
  assert.equal(await requestWebGpuBackend("webgpu", log), gpu);
  assert.match(lines.at(-1)!, /^backend webgpu: WebGPU on /);
  if (software) {
    // The real probe, before any run: a measured factor, whatever it is here.
    assert.match(
      lines.at(-1)!,
      /software renderer.*probe.*ms on the CPU backend: (about as fast, so )?expect this run/,
    );
  }

  const none = () =>
    Promise.resolve<Adapter>({
      adapter: null,
      software: false,
      reason: "no WebGPU adapter was found",
    });
  assert.equal(await requestWebGpuBackend("auto", log, none), null);
  assert.match(lines.at(-1)!, /no WebGPU adapter was found; using the CPU/);
  await assert.rejects(
    () => requestWebGpuBackend("webgpu", log, none),
    /backend webgpu: no WebGPU adapter/,
  );

  const info = (description: string, fallback = false) =>
    ({
      description,
      vendor: "",
      architecture: "",
      device: "",
      isFallbackAdapter: fallback,
    }) as unknown as GPUAdapterInfo;
  // A software adapter's line says how much slower to expect, from the probe's timings.
  const { adapter } = await findAdapter();
  const llvmpipe = () => Promise.resolve<Adapter>({ adapter, software: true });
  const probe = (webGpuMs: number, cpuMs: number) => () =>
    Promise.resolve({ webGpuMs, cpuMs, work: "test work" });
  await requestWebGpuBackend("webgpu", log, llvmpipe, probe(630, 100));
  assert.match(
    lines.at(-1)!,
    /software renderer.*expect this run to take about 6\.3 times as long/,
  );
  await requestWebGpuBackend("webgpu", log, llvmpipe, probe(4200, 100));
  assert.match(lines.at(-1)!, /about 42 times as long/);
  await requestWebGpuBackend("webgpu", log, llvmpipe, probe(140, 100));
  assert.match(lines.at(-1)!, /about as fast, so expect this run to take about as long/);
  await requestWebGpuBackend("webgpu", log, llvmpipe, probe(160, 100));
  assert.match(lines.at(-1)!, /about 1\.6 times as long/);

  assert.equal(isSoftwareAdapter(info("llvmpipe (LLVM 15.0.6, 256 bits)")), true);
  assert.equal(isSoftwareAdapter(info("lavapipe")), true);
  assert.equal(isSoftwareAdapter(info("SwiftShader Device (Subzero)")), true);
  assert.equal(isSoftwareAdapter(info("some GPU", true)), true);
  assert.equal(isSoftwareAdapter(info("NVIDIA H100 80GB HBM3")), false);
  assert.equal(isSoftwareAdapter(info("AMD Radeon RX 7900 XTX (RADV NAVI31)")), false);
});
