/**
 * The WebGPU backend's speed: matmul GFLOP/s at the MLP's shapes and at large
 * squares, with the tiling chosen for the adapter and with each tiling forced
 * (the figures the per-adapter choice in matmul.ts should follow); dispatches
 * per training step, by kernel; and the time of one training epoch of a
 * 784-128-10 MLP on 60,000 synthetic inputs (an epoch's cost does not depend
 * on pixel values), against the goals of issue 13.
 *
 *   deno run bench/webgpu_bench.ts            full sizes (for a real GPU)
 *   deno run bench/webgpu_bench.ts --quick    small sizes (Mesa's llvmpipe, CI)
 *   add --cpu to time the same epoch on the CPU backend too
 *
 * No flags or permissions are needed. It imports no npm package, so it runs
 * where no registry is reachable (the GPU machine: see DEVICE.md). Each matmul
 * is checked against float64 dot products before it is timed; timings record
 * many dispatches, submit them at once and wait for one small read at the end,
 * minus the cost of that read measured alone.
 */
import { cpu } from "../lib/backend/mod.ts";
import {
  findAdapter,
  releaseWebGpu,
  type TilingName,
  tilingNames,
  TILINGS,
  WebGpuBackend,
  webGpuBackendIfAvailable,
} from "../lib/backend/webgpu.ts";
import { fitsLimits } from "../lib/backend/webgpu/matmul.ts";
import type { Backend } from "../lib/backend/backend.ts";
import type { Dataset } from "../lib/data/dataset.ts";
import { mlp, Random, SGD, SoftmaxCrossEntropy, type Tensor, train } from "../lib/mod.ts";

const quick = Deno.args.includes("--quick");
const withCpu = Deno.args.includes("--cpu");

const { adapter, software } = await findAdapter();
const gpu = await webGpuBackendIfAvailable();
if (!adapter || !gpu) {
  console.log("No WebGPU adapter: nothing to measure.");
  Deno.exit(1);
}
const info = adapter.info;
console.log(`# WebGPU benchmark${quick ? " (--quick)" : ""}\n`);
console.log(`adapter: ${info.description || "(no description)"}`);
console.log(
  `vendor ${info.vendor || "-"}, architecture ${info.architecture || "-"}, device ${
    info.device || "-"
  }`,
);
console.log(`software renderer: ${software ? "yes" : "no"}`);
const limits = gpu.device.limits;
console.log(
  `limits: storage binding ${mib(limits.maxStorageBufferBindingSize)}, ` +
    `buffer ${
      mib(limits.maxBufferSize)
    }, workgroup memory ${limits.maxComputeWorkgroupStorageSize} B, ` +
    `${limits.maxComputeInvocationsPerWorkgroup} threads per workgroup, ` +
    `${limits.maxStorageBuffersPerShaderStage} storage buffers per shader`,
);
console.log(`matmul tilings chosen for this adapter: ${gpu.tilings.map((t) => t.name).join(", ")}`);
console.log(`Deno ${Deno.version.deno}, V8 ${Deno.version.v8}\n`);

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function uniformValues(count: number, seed: number): Float32Array {
  const random = new Random(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = random.uniform() - 0.5;
  return out;
}

/** Wait for everything submitted so far: one read of a one-value tensor. */
async function drain(backend: WebGpuBackend): Promise<void> {
  const marker = backend.zeros([1], "float32");
  await marker.data();
  marker.dispose();
}

// Round trips --------------------------------------------------------------------------

await drain(gpu);
let readMs = Infinity;
for (let i = 0; i < 5; i++) {
  const started = performance.now();
  await drain(gpu);
  readMs = Math.min(readMs, performance.now() - started);
}
const oneDispatchMs = await (async () => {
  const x = gpu.fromValues([1], [1], "float32");
  const rounds = 200;
  await drain(gpu);
  const started = performance.now();
  for (let i = 0; i < rounds; i++) {
    gpu.unary("relu", x, 0, 0).dispose();
    gpu.flush();
  }
  await drain(gpu);
  x.dispose();
  return (performance.now() - started - readMs) / rounds;
})();
console.log(`read back one value (submit + mapAsync): ${readMs.toFixed(2)} ms`);
console.log(`one small dispatch per submit: ${(oneDispatchMs * 1000).toFixed(0)} us\n`);

// Matmul -------------------------------------------------------------------------------

interface Shape {
  name: string;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

const product = (m: number, k: number, n: number, transposeA = false, transposeB = false) => ({
  name: `${transposeA ? `(${k}x${m})ᵀ` : `${m}x${k}`} @ ${
    transposeB ? `(${n}x${k})ᵀ` : `${k}x${n}`
  }`,
  m,
  k,
  n,
  transposeA,
  transposeB,
});

// The issue's shapes first, then the MLP step's other products (layer 2 is n = 10: split-K's case).
const shapes: Shape[] = [
  product(128, 784, 128),
  product(512, 784, 256),
  ...(quick ? [256] : [1024, 2048, 4096]).map((size) => product(size, size, size)),
  product(784, 128, 128, true, false), // dW1 = xᵀ dh
  product(128, 128, 784, false, true), // dx = dh W1ᵀ (not needed for the input, for scale)
  product(128, 128, 10), // h W2
  product(128, 128, 10, true, false), // dW2 = hᵀ dy
];

/** Largest relative error of 64 entries of C against float64 dot products. */
async function checkEntries(
  shape: Shape,
  a: Float32Array,
  b: Float32Array,
  c: Tensor,
): Promise<number> {
  const { m, k, n, transposeA, transposeB } = shape;
  const values = await c.data();
  const random = new Random(9);
  let worst = 0;
  for (let t = 0; t < 64; t++) {
    const i = random.integer(m), j = random.integer(n);
    let sum = 0, magnitude = 0;
    for (let p = 0; p < k; p++) {
      const x = transposeA ? a[p * m + i] : a[i * k + p];
      const y = transposeB ? b[j * k + p] : b[p * n + j];
      sum += x * y;
      magnitude += Math.abs(x * y);
    }
    worst = Math.max(worst, Math.abs(values[i * n + j] - sum) / (magnitude || 1));
  }
  return worst;
}

interface MatmulTiming {
  gflops: number;
  ms: number;
  error: number;
  reps: number;
}

async function timeMatmul(backend: WebGpuBackend, shape: Shape): Promise<MatmulTiming> {
  const { m, k, n, transposeA, transposeB } = shape;
  const aValues = uniformValues(m * k, 1), bValues = uniformValues(k * n, 2);
  const a = backend.fromValues(aValues, transposeA ? [k, m] : [m, k], "float32");
  const b = backend.fromValues(bValues, transposeB ? [n, k] : [k, n], "float32");
  const first = backend.matmul(a, b, transposeA, transposeB);
  const error = await checkEntries(shape, aValues, bValues, first);
  first.dispose();
  // Calibrate on one run, then fill about half a second (at most 256 dispatches).
  let started = performance.now();
  backend.matmul(a, b, transposeA, transposeB).dispose();
  await drain(backend);
  const once = Math.max(performance.now() - started - readMs, 0.01);
  const reps = Math.max(1, Math.min(256, Math.round(500 / once)));
  started = performance.now();
  for (let r = 0; r < reps; r++) backend.matmul(a, b, transposeA, transposeB).dispose();
  await drain(backend);
  const ms = Math.max(performance.now() - started - readMs, 1e-3) / reps;
  a.dispose();
  b.dispose();
  return { gflops: (2 * m * k * n) / (ms * 1e6), ms, error, reps };
}

function gflopsCell(t: MatmulTiming): string {
  return t.error < 1e-4 ? t.gflops.toFixed(1) : `WRONG (error ${t.error.toExponential(1)})`;
}

// The adapter's own choice, then (on a GPU, or with --tilings) each tiling forced, without split-K.
const forced = (!software || Deno.args.includes("--tilings"))
  ? tilingNames.filter((name) => fitsLimits(TILINGS[name], limits))
  : [];
const forcedBackends = new Map<TilingName, WebGpuBackend>(
  forced.map((
    name,
  ) => [name, new WebGpuBackend(gpu.device, gpu.adapterInfo, { tiling: name, splits: 1 })]),
);
console.log(
  'GFLOP/s of C = op(A) op(B), float32; "auto" is what this adapter gets (tiling, k splits).\n',
);
console.log(
  `| product | auto: plan | auto: ms | auto: GFLOP/s | ${
    forced.map((n) => `${n} GFLOP/s`).join(" | ")
  }${forced.length ? " |" : ""}`,
);
console.log(`| --- | --- | ---: | ---: |${forced.map(() => " ---: |").join("")}`);
const autoGflops = new Map<string, number>();
for (const shape of shapes) {
  const plan = gpu.planMatmul(shape.m, shape.k, shape.n);
  const auto = await timeMatmul(gpu, shape);
  if (auto.error < 1e-4) autoGflops.set(shape.name, auto.gflops);
  const cells = [];
  for (const backend of forcedBackends.values()) {
    cells.push(gflopsCell(await timeMatmul(backend, shape)));
  }
  console.log(
    `| ${shape.name} | ${plan.tiling.name}, ${plan.splits} split${plan.splits > 1 ? "s" : ""} | ` +
      `${auto.ms.toFixed(3)} | ${gflopsCell(auto)} |${cells.map((c) => ` ${c} |`).join("")}`,
  );
}
for (const backend of forcedBackends.values()) backend.destroy();

// Dispatches per step ---------------------------------------------------------------------

/**
 * Dispatches per training step of 784-128-10 on batches of 128, by kernel: two
 * one-epoch runs of 2 and 4 steps, differenced, so that what happens once per
 * epoch (the loss read, the shuffle) cancels out.
 */
async function dispatchesPerStep(backend: WebGpuBackend): Promise<[number, Map<string, number>]> {
  const run = async (steps: number) => {
    const before = backend.dispatchesByKernel();
    await timeEpochs(backend, syntheticImages(128 * steps), 1);
    const after = backend.dispatchesByKernel();
    return new Map([...after].map(([key, count]) => [key, count - (before.get(key) ?? 0)]));
  };
  const two = await run(2), four = await run(4);
  const perStep = new Map<string, number>();
  for (const [key, count] of four) {
    const difference = (count - (two.get(key) ?? 0)) / 2;
    if (difference !== 0) perStep.set(key, difference);
  }
  return [[...perStep.values()].reduce((a, b) => a + b, 0), perStep];
}

// One epoch -------------------------------------------------------------------------------

function syntheticImages(count: number): Dataset {
  const inputs = uniformValues(count * 784, 3).map((v) => v + 0.5); // like pixels scaled to [0, 1]
  const random = new Random(4);
  const labels = Uint8Array.from({ length: count }, () => random.integer(10));
  return { name: `synthetic ${count} x 784`, inputs, count, features: 784, labels, classes: 10 };
}

async function timeEpochs(backend: Backend, data: Dataset, epochs: number): Promise<number[]> {
  const model = mlp([784, 128, 10], { backend, seed: 0 });
  const history = await train({
    model,
    loss: new SoftmaxCrossEntropy(),
    optimizer: new SGD({ learningRate: 0.01 }),
    train: data,
    epochs,
    batchSize: 128,
    progress: "none",
  });
  return history.epochs.map((e) => e.seconds);
}

/** Issue 13's goals on an H100/H200-class GPU, beside what they compare with (DEVICE.md). */
const GOALS = {
  /** At least 10 TFLOP/s at 4096³: about 20% of cuBLAS fp32 (51.6 TFLOP/s on an H100, TF32 off). */
  gflopsAt4096: 10_000,
  /** An epoch no slower than PyTorch CUDA's on an H100 (0.35 s), as recorded in DEVICE.md. */
  epochSeconds: 0.35,
};

/** "met" or "not met (x of y)" for a measured figure against a goal; null when not measured. */
function goalVerdict(measured: number | undefined, goal: number, higherIsBetter: boolean): string {
  if (measured === undefined) return "not measured at this size";
  const met = higherIsBetter ? measured >= goal : measured <= goal;
  return met
    ? `met (${measured.toFixed(2)} against ${goal})`
    : `not met (${measured.toFixed(2)} against ${goal})`;
}

console.log("\nDispatches per training step (784-128-10, batch 128, SGD), by kernel:");
const [perStep, byKernel] = await dispatchesPerStep(gpu);
console.log(
  `  this adapter's plan: ${perStep} (${[...byKernel].map(([k, n]) => `${k} ${n}`).join(", ")})`,
);
if (software) {
  // What a GPU would get: its tilings and split-K plan (splits add a summing dispatch each).
  const gpuPlan = new WebGpuBackend(gpu.device, gpu.adapterInfo, { software: false });
  const [gpuPerStep, gpuByKernel] = await dispatchesPerStep(gpuPlan);
  console.log(
    `  a GPU's plan: ${gpuPerStep} (${[...gpuByKernel].map(([k, n]) => `${k} ${n}`).join(", ")})`,
  );
  gpuPlan.destroy();
}

const count = quick ? 1024 : 60_000;
const data = syntheticImages(count);
const steps = Math.ceil(count / 128);
console.log(
  `\nOne epoch of 784-128-10 (ReLU, softmax cross-entropy, SGD), batch 128, ${count} inputs, ${steps} steps:`,
);
let started = performance.now();
const seconds = await timeEpochs(gpu, data, 2);
console.log(
  `  WebGPU: first epoch ${seconds[0].toFixed(2)} s (with upload and shader compilation), ` +
    `second ${seconds[1].toFixed(2)} s (${
      ((seconds[1] / steps) * 1000).toFixed(2)
    } ms per step); ` +
    `total with setup ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
const stats = gpu.stats();
console.log(
  `  pool: ${mib(stats.allocatedBytes)} allocated in ${stats.buffersCreated} buffers, ` +
    `${stats.reuses} reuses; ${stats.pipelines} pipelines; ${stats.dispatches} dispatches in ` +
    `${stats.submits} submits; ${stats.bindGroupsCreated} bind groups made for ` +
    `${stats.bindGroupLookups} dispatches`,
);
if (withCpu) {
  started = performance.now();
  const cpuSeconds = await timeEpochs(cpu, data, 1);
  console.log(`  CPU backend: one epoch ${cpuSeconds[0].toFixed(2)} s`);
}

if (!quick) {
  console.log("\nIssue 13's goals (for an H100/H200-class GPU; thresholds in GOALS):");
  const at4096 = autoGflops.get(product(4096, 4096, 4096).name);
  console.log(`  4096³ at 10 TFLOP/s or more: ${goalVerdict(at4096, GOALS.gflopsAt4096, true)}`);
  console.log(
    `  an epoch in 0.35 s or less: ${goalVerdict(seconds[1], GOALS.epochSeconds, false)}`,
  );
}
releaseWebGpu();
