/**
 * CPU benchmark: matmul GFLOP/s at the MLP's shapes and the time of one epoch
 * of a 784-128-10 MLP on the two CPU backends (cpu, the readable reference,
 * and wasm, WebAssembly SIMD), beside the same figures from NumPy
 * (float32, spawned as `python3 bench/numpy_reference.py`) measured in the same
 * run, and a naive triple-loop matmul as a pure-TypeScript peer.
 *
 *   deno run --allow-run=python3 --allow-sys=loadavg bench/cpu_bench.ts
 *
 * Options: --seconds=S (time per figure, default 1), --no-numpy, --python=CMD
 * (then allow running CMD instead), --breakdown (one more epoch, timed kernel
 * by kernel). --allow-sys=loadavg is optional: it prints the load average,
 * because on a shared 2-core machine other processes slow every figure.
 *
 * Ratios are time(wasm) / time(NumPy): 3.0 means NumPy does the same work
 * three times as fast. Besides wall-clock time, the bench records the CPU time
 * of each process, which other processes disturb far less; it compares ours
 * with single-threaded NumPy on that measure too.
 */
import process from "node:process";
import {
  type Backend,
  cpu,
  mlp,
  SGD,
  SoftmaxCrossEntropy,
  type Tensor,
  train,
  wasm,
} from "../lib/mod.ts";
import { matmul } from "../lib/ops.ts";
import type { Dataset } from "../lib/data/dataset.ts";
import { WasmBackend } from "../lib/backend/wasm/backend.ts";

// What both sides measure. numpy_reference.py receives this as --spec.
const matmuls: MatmulShape[] = [
  // [name, m, k, n, transposeA, transposeB]: op(A) is m x k, op(B) is k x n.
  ["x W1 (forward)", 128, 784, 128, false, false],
  ["x^T dy (dW1)", 784, 128, 128, true, false],
  ["dy W1^T (dx)", 128, 128, 784, false, true],
  ["large", 512, 784, 256, false, false],
  ["h W2 (forward)", 128, 128, 10, false, false],
  ["h^T dy (dW2)", 128, 128, 10, true, false],
  ["dy W2^T (dh)", 128, 10, 128, false, true],
];
/** The matmuls of one training step: forward, then backward (layer 1 needs no dx). */
const perStep = [
  "x W1 (forward)",
  "h W2 (forward)",
  "h^T dy (dW2)",
  "dy W2^T (dh)",
  "x^T dy (dW1)",
];
const epochSpec = { count: 60_000, sizes: [784, 128, 10], batch: 128, lr: 0.1 };

type MatmulShape = [string, number, number, number, boolean, boolean];

/** Seconds per call (or per epoch): wall clock, and CPU time of the whole process. */
interface Timing {
  seconds: number;
  cpuSeconds: number;
}

interface MatmulFigure extends Timing {
  name: string;
}

interface EpochFigure extends Timing {
  epochs: number;
  loss: number;
}

interface NumpyResult {
  python: string;
  executable: string;
  numpy: string;
  blas: string;
  cpus: number;
  matmuls: MatmulFigure[];
  epoch: EpochFigure;
}

const args = new Set(Deno.args);
const option = (name: string) =>
  Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const secondsPerFigure = Number(option("seconds") ?? 1);
const python = option("python") ?? "python3";
if (!(secondsPerFigure > 0)) throw new Error(`--seconds must be a positive number`);

const log = (line: string) => console.error(line);
const flops = ([, m, k, n]: MatmulShape) => 2 * m * k * n;
const gflops = (shape: MatmulShape, seconds: number) => flops(shape) / seconds / 1e9;

function cpuSecondsNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Time per call of each function: a few warm-up calls, then `rounds` rounds in
 * turn, each repeating one function for its share of `seconds`; the best round
 * counts (as timeit does), since other processes only ever add time.
 */
function timed(fns: (() => void)[], seconds = secondsPerFigure, rounds = 5): Timing[] {
  for (const fn of fns) for (let i = 0; i < 3; i++) fn();
  const best = fns.map(() => ({ seconds: Infinity, cpuSeconds: Infinity }));
  const share = seconds / rounds / fns.length;
  for (let round = 0; round < rounds; round++) {
    fns.forEach((fn, f) => {
      let calls = 0, elapsed = 0;
      const start = performance.now(), cpuStart = cpuSecondsNow();
      do {
        fn();
        calls++;
        elapsed = (performance.now() - start) / 1000;
      } while (elapsed < share);
      if (elapsed / calls < best[f].seconds) {
        best[f] = { seconds: elapsed / calls, cpuSeconds: (cpuSecondsNow() - cpuStart) / calls };
      }
    });
  }
  return best;
}

/** Uniform values in [0, 1) from a small xorshift generator: fast for 47 million of them. */
function uniformArray(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed | 0 || 1;
  for (let i = 0; i < size; i++) {
    s ^= s << 13, s ^= s >>> 17, s ^= s << 5;
    out[i] = (s >>> 0) / 4294967296;
  }
  return out;
}

function ourMatmul(shape: MatmulShape, backend: Backend): MatmulFigure {
  const [name, m, k, n, transposeA, transposeB] = shape;
  const a = backend.fromValues(uniformArray(m * k, 1), transposeA ? [k, m] : [m, k], "float32");
  const b = backend.fromValues(uniformArray(k * n, 2), transposeB ? [n, k] : [k, n], "float32");
  // Each result is released at once, as a training step's scope does (wasm memory is not GC'd).
  return { name, ...timed([() => matmul(a, b, { transposeA, transposeB }).dispose()])[0] };
}

/** The textbook loop, C[i][j] = Σ_p A[i][p] B[p][j], on row-major Float32Arrays. */
function naiveMatmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number) {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[i * k + p] * b[p * n + j];
      c[i * n + j] = sum;
    }
  }
  return c;
}

/** The naive loop and the blocked kernel, timed in alternating rounds so that both see the same load. */
function naiveFigure(shape: MatmulShape) {
  const [, m, k, n] = shape;
  const a = uniformArray(m * k, 1), b = uniformArray(k * n, 2);
  const aTensor = cpu.fromValues(a, [m, k], "float32"),
    bTensor = cpu.fromValues(b, [k, n], "float32");
  const [naive, blocked] = timed([
    () => naiveMatmul(a, b, m, k, n),
    () => matmul(aTensor, bTensor),
  ]);
  // The blocked kernel must give the plain loop's values.
  const reference = naiveMatmul(a, b, m, k, n);
  const values = matmul(aTensor, bTensor).storage as Float32Array;
  let largestDifference = 0;
  for (let i = 0; i < values.length; i++) {
    const difference = Math.abs(values[i] - reference[i]) / Math.abs(reference[i]);
    largestDifference = Math.max(largestDifference, difference);
  }
  return { naive, blocked, largestDifference };
}

/** Uniform "pixels" and cycling labels: an epoch's cost does not depend on the values. */
function syntheticSet(): Dataset {
  const { count, sizes: [features, , classes] } = epochSpec;
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % classes;
  const inputs = uniformArray(count * features, 3);
  return { name: "synthetic", inputs, count, features, labels, classes };
}

function trainingOptions(dataset: Dataset, backend: Backend = cpu) {
  return {
    model: mlp(epochSpec.sizes, { backend }),
    loss: new SoftmaxCrossEntropy(),
    optimizer: new SGD({ learningRate: epochSpec.lr }),
    train: dataset,
    batchSize: epochSpec.batch,
    progress: "none" as const,
  };
}

/**
 * The faster of two epochs after a short warm-up; one only, when the bench has
 * already run `budget` seconds (a loaded machine), to stay near 90 s in all.
 */
async function ourEpoch(dataset: Dataset, backend: Backend, budget = 60): Promise<EpochFigure> {
  const options = trainingOptions(dataset, backend);
  await train({ ...options, epochs: 1, maxSteps: 60 }); // warm-up: compile, upload the data
  let best: EpochFigure | undefined;
  for (let epoch = 1; epoch <= 2; epoch++) {
    if (best && (performance.now() - started) / 1000 > budget) break;
    const cpuStart = cpuSecondsNow();
    const [record] = (await train({ ...options, epochs: 1 })).epochs;
    const cpuSeconds = cpuSecondsNow() - cpuStart;
    if (!best || record.seconds < best.seconds) {
      best = { seconds: record.seconds, cpuSeconds, epochs: epoch, loss: record.trainLoss };
    }
    best.epochs = epoch;
  }
  return best!;
}

/** One more epoch with every CPU kernel timed: where the epoch's time goes. */
async function breakdown(dataset: Dataset): Promise<void> {
  const totals = new Map<string, number>();
  const backend = cpu as unknown as Record<string, (...a: unknown[]) => unknown>;
  const prototype = Object.getPrototypeOf(cpu) as Record<string, (...a: unknown[]) => unknown>;
  const names = Object.getOwnPropertyNames(prototype).filter((n) => n !== "constructor");
  for (const name of names) {
    const kernel = prototype[name];
    backend[name] = function (...kernelArgs: unknown[]) {
      const start = performance.now();
      const result = kernel.apply(this, kernelArgs);
      let key = name;
      if (name === "matmul") {
        const [a, b, ta, tb] = kernelArgs as [Tensor, Tensor, boolean, boolean];
        key = `matmul [${a.shape}]${ta ? "ᵀ" : ""} @ [${b.shape}]${tb ? "ᵀ" : ""}`;
      } else if (name === "unary" || name === "binary") key = `${name} ${kernelArgs[0]}`;
      totals.set(key, (totals.get(key) ?? 0) + performance.now() - start);
      return result;
    };
  }
  try {
    const history = await train({ ...trainingOptions(dataset), epochs: 1 });
    const epoch = history.epochs[0].seconds;
    let inKernels = 0;
    console.log(`\nBreakdown of one more epoch (${epoch.toFixed(2)} s, each kernel call timed):`);
    for (const [key, ms] of [...totals].sort((x, y) => y[1] - x[1])) {
      inKernels += ms / 1000;
      if (ms >= 10) console.log(`  ${key.padEnd(40)} ${(ms / 1000).toFixed(3)} s`);
    }
    console.log(`  ${"all kernels".padEnd(40)} ${inKernels.toFixed(3)} s`);
    const outside = "outside kernels (ops, scopes, loop)".padEnd(40);
    console.log(`  ${outside} ${(epoch - inKernels).toFixed(3)} s`);
  } finally {
    for (const name of names) delete backend[name];
  }
}

async function numpy(threads?: number): Promise<NumpyResult | string> {
  const permission = Deno.permissions.querySync({ name: "run", command: python });
  if (permission.state !== "granted") {
    return `not measured: ${python} may not run or was not found (give --allow-run=${python}; ` +
      `is ${python} on PATH?)`;
  }
  const script = new URL("./numpy_reference.py", import.meta.url).pathname;
  const spec = { seconds: secondsPerFigure, matmuls, epoch: epochSpec };
  const env: Record<string, string> = {};
  if (threads) {
    for (const name of ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"]) {
      env[name] = String(threads);
    }
  }
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(python, {
      args: [script, "--json", "--spec", JSON.stringify(spec)],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `not measured: ${python} was not found`;
    throw error;
  }
  const text = new TextDecoder().decode(output.stdout).trim();
  try {
    const result = JSON.parse(text.split("\n").at(-1) ?? "");
    if (result.error) return `not measured: ${result.error}`;
    return result as NumpyResult;
  } catch {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3);
    return `not measured: ${python} exited with code ${output.code}: ${stderr.join(" | ")}`;
  }
}

function loadAverage(): string {
  if (Deno.permissions.querySync({ name: "sys", kind: "loadavg" }).state !== "granted") {
    return "not read (add --allow-sys=loadavg)";
  }
  return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
}

// Measure ---------------------------------------------------------------------

const started = performance.now();
const loadBefore = loadAverage();
log(`CPU bench, ${secondsPerFigure} s per figure; load average ${loadBefore}`);

const numpyRuns: { label: string; result: NumpyResult | string }[] = [];
if (!args.has("--no-numpy")) {
  log(`NumPy, default threads...`);
  numpyRuns.push({ label: "NumPy", result: await numpy() });
  log(`NumPy, 1 thread...`);
  numpyRuns.push({ label: "NumPy 1 thread", result: await numpy(1) });
}
const wasmBackend = wasm();
// Two threads on every matmul the bench times, small ones included, to show where they pay.
const wasmThreaded = new WasmBackend({ threads: 2, threadMinimumWork: 0 });
log(`cpu, wasm 1 thread and 2 threads (${wasmBackend.description}): matmul...`);
const ours = matmuls.map((shape) => ourMatmul(shape, cpu));
const oursWasm = matmuls.map((shape) => ourMatmul(shape, wasmBackend));
const oursWasm2 = matmuls.map((shape) => ourMatmul(shape, wasmThreaded));
log(`cpu: naive loop...`);
const naive = naiveFigure(matmuls[0]);
log(`wasm: two epochs (under 1 s each on an idle machine)...`);
const dataset = syntheticSet();
const epochWasm = await ourEpoch(dataset, wasmBackend);
log(`wasm 2 threads: two epochs...`);
// In training, the default threshold keeps the 10-wide layer's matmuls on the calling thread.
const wasmTrainer = new WasmBackend({ threads: 2 });
const epochWasm2 = await ourEpoch(dataset, wasmTrainer);
wasmThreaded.stopThreads();
wasmTrainer.stopThreads();
log(`cpu: two epochs (about 6 s each on an idle machine)...`);
const epoch = await ourEpoch(dataset, cpu);
const loadAfter = loadAverage();
const totalSeconds = (performance.now() - started) / 1000;

// Report ----------------------------------------------------------------------

const measured = numpyRuns.filter((r) => typeof r.result !== "string") as {
  label: string;
  result: NumpyResult;
}[];
for (const { label, result } of numpyRuns) {
  if (typeof result === "string") console.log(`${label}: ${result}`);
}
console.log(
  `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), backends cpu (JavaScript) and wasm ` +
    `(${wasmBackend.description}), float32; ` +
    `${secondsPerFigure} s per figure, ${totalSeconds.toFixed(0)} s in all.`,
);
console.log(`Load average before: ${loadBefore}; after: ${loadAfter}.`);
const first = measured[0]?.result;
if (first) {
  console.log(
    `NumPy ${first.numpy} (${first.blas}), Python ${first.python} (${first.executable}), ` +
      `${first.cpus} CPUs; "NumPy" runs with the BLAS's default threads.`,
  );
}

const fixed = (x: number, digits: number) => x.toFixed(digits);
const shapeText = ([, m, k, n, ta, tb]: MatmulShape) =>
  `${ta ? `(${k}x${m})ᵀ` : `${m}x${k}`} @ ${tb ? `(${n}x${k})ᵀ` : `${k}x${n}`}`;
const epochName = `epoch (s), ${epochSpec.sizes.join("-")} MLP, 60,000 examples, batch 128`;

function table(header: string[], rows: string[][]): void {
  console.log();
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}

interface Column {
  label: string;
  matmuls: MatmulFigure[];
  epoch: Timing;
}
const cpuColumn: Column = { label: "cpu", matmuls: ours, epoch };
const wasmColumn: Column = { label: "wasm 1 thread", matmuls: oursWasm, epoch: epochWasm };
const wasm2Column: Column = { label: "wasm 2 threads", matmuls: oursWasm2, epoch: epochWasm2 };
const numpyColumns: Column[] = measured.map(({ label, result }) => ({ label, ...result }));
const numpy1 = numpyColumns.find((c) => c.label === "NumPy 1 thread");
const numpy2 = numpyColumns.find((c) => c.label === "NumPy");

/**
 * One table: GFLOP/s per matmul and seconds per epoch, by `measure` (wall or
 * CPU time), for each column, then the ratios time(first) ÷ time(second).
 */
function report(
  title: string,
  measure: keyof Timing,
  columns: Column[],
  ratios: [Column, Column | undefined][],
): void {
  console.log(`\n${title}`);
  const pairs = ratios.filter((r): r is [Column, Column] => r[1] !== undefined);
  const header = [
    "figure",
    ...columns.map((c) => c.label),
    ...pairs.map(([a, b]) => `${a.label} ÷ ${b.label}`),
  ];
  const rows = matmuls.map((shape, i) => [
    `matmul GFLOP/s, ${shapeText(shape)} (${shape[0]})`,
    ...columns.map((c) => fixed(gflops(shape, c.matmuls[i][measure]), 2)),
    ...pairs.map(([a, b]) => fixed(a.matmuls[i][measure] / b.matmuls[i][measure], 2)),
  ]);
  rows.push([
    epochName,
    ...columns.map((c) => fixed(c.epoch[measure], 3)),
    ...pairs.map(([a, b]) => fixed(a.epoch[measure] / b.epoch[measure], 2)),
  ]);
  table(header, rows);
}

report(
  "Wall clock (ratios: time ÷ time; 2.0 means the second does the work in half the time):",
  "seconds",
  [cpuColumn, wasmColumn, wasm2Column, ...numpyColumns],
  [
    [wasmColumn, numpy1],
    [wasm2Column, numpy2],
    [wasm2Column, wasmColumn],
    [cpuColumn, wasmColumn],
  ],
);
report(
  "CPU time of each process, less disturbed by other processes (single-threaded runs only):",
  "cpuSeconds",
  [cpuColumn, wasmColumn, ...(numpy1 ? [numpy1] : [])],
  [[wasmColumn, numpy1], [cpuColumn, wasmColumn]],
);

const index = new Map(matmuls.map((shape, i) => [shape[0], i]));
const stepsPerEpoch = epochSpec.count / epochSpec.batch;
const matmulSeconds = (figures: MatmulFigure[], measure: keyof Timing) =>
  stepsPerEpoch * perStep.reduce((sum, name) => sum + figures[index.get(name)!][measure], 0);

const [, m, k, n] = matmuls[0];
const naiveRate = (measure: keyof Timing) => fixed(gflops(matmuls[0], naive.naive[measure]), 2);
const blockedRate = (measure: keyof Timing) => fixed(gflops(matmuls[0], naive.blocked[measure]), 2);
console.log();
console.log(
  `Naive triple loop against the blocked kernel, ${m}x${k} @ ${k}x${n}, in alternating rounds: ` +
    `${naiveRate("seconds")} against ${blockedRate("seconds")} GFLOP/s ` +
    `(CPU time: ${naiveRate("cpuSeconds")} against ${blockedRate("cpuSeconds")}); blocked is ` +
    `${fixed(naive.naive.seconds / naive.blocked.seconds, 1)}x as fast, with the same values ` +
    `(largest relative difference ${naive.largestDifference.toExponential(1)}).`,
);
console.log(
  `wasm 2 threads epoch: ${fixed(epochWasm2.seconds, 3)} s (best of ${epochWasm2.epochs}; loss ${
    fixed(epochWasm2.loss, 3)
  }).`,
);
console.log(
  `wasm epoch: ${fixed(epochWasm.seconds, 3)} s (best of ${epochWasm.epochs}; CPU ${
    fixed(epochWasm.cpuSeconds, 3)
  } s, loss ${fixed(epochWasm.loss, 3)}); its matmuls, at the rates above, make ${
    fixed(matmulSeconds(oursWasm, "seconds"), 3)
  } s of it.`,
);
console.log(
  `cpu epoch: ${fixed(epoch.seconds, 2)} s (best of ${epoch.epochs}; CPU ${
    fixed(epoch.cpuSeconds, 2)
  } s, loss ` +
    `${fixed(epoch.loss, 3)}); its ${perStep.length} matmuls per step, at the rates above, ` +
    `make ${fixed(matmulSeconds(ours, "seconds"), 2)} s ` +
    `(CPU ${fixed(matmulSeconds(ours, "cpuSeconds"), 2)} s) of it.`,
);
for (const { label, result } of measured) {
  console.log(
    `${label} epoch: ${fixed(result.epoch.seconds, 3)} s (best of ${result.epoch.epochs}, ` +
      `loss ${fixed(result.epoch.loss, 3)}); matmuls ${
        fixed(matmulSeconds(result.matmuls, "seconds"), 3)
      } s of it.`,
  );
}

if (args.has("--breakdown")) await breakdown(dataset);
