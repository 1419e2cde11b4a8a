/**
 * The WebGPU backend's speed: matmul GFLOP/s at the MLP's shapes and at large
 * squares, and the time of one training epoch of a 784-128-10 MLP on 60,000
 * synthetic inputs (an epoch's cost does not depend on pixel values).
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
  type WebGpuBackend,
  webGpuBackendIfAvailable,
} from "../lib/backend/webgpu.ts";
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
console.log(
  `limits: storage binding ${mib(gpu.device.limits.maxStorageBufferBindingSize)}, ` +
    `buffer ${mib(gpu.device.limits.maxBufferSize)}`,
);
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

const mlpShapes: Shape[] = [
  { name: "x W1: 128x784 @ 784x128", m: 128, k: 784, n: 128, transposeA: false, transposeB: false },
  {
    name: "dW1 = xᵀ dy: (128x784)ᵀ @ 128x128",
    m: 784,
    k: 128,
    n: 128,
    transposeA: true,
    transposeB: false,
  },
  {
    name: "dx = dy W1ᵀ: 128x128 @ (784x128)ᵀ",
    m: 128,
    k: 128,
    n: 784,
    transposeA: false,
    transposeB: true,
  },
  { name: "512x784 @ 784x256", m: 512, k: 784, n: 256, transposeA: false, transposeB: false },
];
const squares = (quick ? [128, 256, 512] : [1024, 2048, 4096]).map((size) => ({
  name: `${size}x${size} @ ${size}x${size}`,
  m: size,
  k: size,
  n: size,
  transposeA: false,
  transposeB: false,
}));

/** Largest relative error of `count` entries of C against float64 dot products. */
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

async function timeMatmul(
  shape: Shape,
): Promise<{ gflops: number; ms: number; error: number; reps: number }> {
  const { m, k, n, transposeA, transposeB } = shape;
  const aValues = uniformValues(m * k, 1), bValues = uniformValues(k * n, 2);
  const a = gpu!.fromValues(aValues, transposeA ? [k, m] : [m, k], "float32");
  const b = gpu!.fromValues(bValues, transposeB ? [n, k] : [k, n], "float32");
  const first = gpu!.matmul(a, b, transposeA, transposeB);
  const error = await checkEntries(shape, aValues, bValues, first);
  first.dispose();
  // Calibrate on one run, then fill about half a second (at most 256 dispatches).
  let started = performance.now();
  gpu!.matmul(a, b, transposeA, transposeB).dispose();
  await drain(gpu!);
  const once = Math.max(performance.now() - started - readMs, 0.01);
  const reps = Math.max(1, Math.min(256, Math.round(500 / once)));
  started = performance.now();
  for (let r = 0; r < reps; r++) gpu!.matmul(a, b, transposeA, transposeB).dispose();
  await drain(gpu!);
  const ms = Math.max(performance.now() - started - readMs, 1e-3) / reps;
  a.dispose();
  b.dispose();
  return { gflops: (2 * m * k * n) / (ms * 1e6), ms, error, reps };
}

console.log("| matmul | ms | GFLOP/s | dispatches timed | max rel. error |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const shape of [...mlpShapes, ...squares]) {
  const { gflops, ms, error, reps } = await timeMatmul(shape);
  console.log(
    `| ${shape.name} | ${ms.toFixed(3)} | ${gflops.toFixed(1)} | ${reps} | ${
      error.toExponential(1)
    } |`,
  );
  if (!(error < 1e-4)) console.log(`  ^ WRONG RESULT: relative error ${error}`);
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
