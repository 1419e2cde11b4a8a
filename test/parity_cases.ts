/**
 * The parity suite: every kernel, layer, loss and optimiser, and whole
 * training runs, with the same inputs on a backend and on the CPU reference,
 * compared within float32 tolerances (NaN and infinities must match exactly:
 * the broken losses are there to produce them).
 *
 * It knows nothing about the backend it tests: each backend's test file calls
 * `defineParitySuite` with a label and a way to get the backend, e.g.
 *
 *   defineParitySuite("webgpu", () => webGpuBackendIfAvailable());
 *
 * The shapes are small: Mesa's llvmpipe, the WebGPU adapter on machines
 * without a GPU, runs at about 0.2 GFLOP/s.
 */
import assert from "node:assert/strict";
import { cpu } from "../lib/backend/mod.ts";
import type { Backend, BinaryOp, Reduction, UnaryOp } from "../lib/backend/backend.ts";
import { gaussianBlobs } from "../lib/data/synthetic.ts";
import type { Dataset } from "../lib/data/dataset.ts";
import {
  Adam,
  BinaryCrossEntropy,
  BinaryCrossEntropyWithLogits,
  type History,
  LeakyReLU,
  Linear,
  type Loss,
  MeanSquaredError,
  mlp,
  Momentum,
  NaiveSoftmaxCrossEntropy,
  type Optimizer,
  Random,
  ReLU,
  type Sequential,
  SGD,
  Sigmoid,
  Softmax,
  SoftmaxCrossEntropy,
  Tanh,
  type Tensor,
  train,
  type TrainingHook,
  UnclippedBinaryCrossEntropy,
} from "../lib/mod.ts";
import type { Layer } from "../lib/layers/layer.ts";
import { activationMonitor, gradientMonitor, MonitorLog } from "../lib/monitors.ts";

interface ParityCase {
  name: string;
  fn: (tested: Backend) => Promise<void>;
}

/** The cases, in the order they run; each compares `tested` with `cpu`. */
const cases: ParityCase[] = [];

function parityCase(name: string, fn: (tested: Backend) => Promise<void>): void {
  cases.push({ name, fn });
}

/**
 * Registers one test, `${label} parity`, with a step per case. `getBackend` is
 * called once, when the test starts; when it gives null every step is skipped
 * (reported as ignored) and a warning says so: the caller's getBackend should
 * say why (no adapter, say) before returning null.
 */
export function defineParitySuite(
  label: string,
  getBackend: () => Promise<Backend | null>,
): void {
  Deno.test({
    name: `${label} parity`,
    // A backend's device and buffers live for the whole suite, not one step.
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const tested = await getBackend();
      if (!tested) console.warn(`${label} parity SKIPPED: no backend to test`);
      for (const { name, fn } of cases) {
        await t.step({
          name: `${label} parity: ${name}`,
          ignore: tested === null,
          sanitizeResources: false,
          sanitizeOps: false,
          fn: () => fn(tested!),
        });
      }
    },
  });
}

// Helpers ----------------------------------------------------------------------------

interface Tolerance {
  relative: number;
  absolute: number;
}

const tight: Tolerance = { relative: 1e-5, absolute: 1e-6 };

/** Equal within tolerance; NaN only where NaN, infinities only where the same infinity. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  tolerance: Tolerance = tight,
): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} values, expected ${expected.length}`,
  );
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const ok = Number.isNaN(e)
      ? Number.isNaN(a)
      : !Number.isFinite(e)
      ? a === e
      : Math.abs(a - e) <= tolerance.absolute + tolerance.relative * Math.abs(e);
    if (!ok) assert.fail(`${what}: element ${i} is ${a}, ${e} on the CPU`);
  }
}

export async function assertSame(
  testedTensor: Tensor,
  cpuTensor: Tensor,
  what: string,
  tolerance = tight,
) {
  assert.deepEqual(testedTensor.shape, cpuTensor.shape, `${what}: shapes differ`);
  assertClose(await testedTensor.data(), await cpuTensor.data(), what, tolerance);
}

export function randomValues(count: number, seed: number, scale = 1): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: count }, () => scale * random.normal());
}

/** The same values on both backends. */
export function pair(
  tested: Backend,
  values: ArrayLike<number>,
  shape: number[],
): [Tensor, Tensor] {
  return [tested.fromValues(values, shape, "float32"), cpu.fromValues(values, shape, "float32")];
}

const specials = [
  NaN,
  Infinity,
  -Infinity,
  -100,
  -20,
  -3.5,
  -1,
  -0.5,
  -1e-3,
  -0,
  0,
  1e-3,
  0.5,
  1,
  3.5,
  17,
  20,
  88,
  89,
  100,
];

// Kernels ------------------------------------------------------------------------------

parityCase("matmul, every transpose, odd and even shapes", async (tested) => {
  // [m, k, n]: multiples of 4 or not in each place (the vec4 paths), several
  // 64 x 64 tiles, and k = 0.
  const shapes = [
    [1, 1, 1],
    [3, 5, 7],
    [4, 8, 12],
    [5, 4, 8],
    [8, 5, 4],
    [4, 7, 5],
    [17, 33, 65],
    [64, 64, 64],
    [70, 37, 130],
    [130, 20, 3],
    [2, 0, 3],
  ];
  let seed = 1;
  for (const [m, k, n] of shapes) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        const a = randomValues(m * k, seed++), b = randomValues(k * n, seed++);
        const [ga, ca] = pair(tested, a, transposeA ? [k, m] : [m, k]);
        const [gb, cb] = pair(tested, b, transposeB ? [n, k] : [k, n]);
        await assertSame(
          tested.matmul(ga, gb, transposeA, transposeB),
          cpu.matmul(ca, cb, transposeA, transposeB),
          `matmul ${m}x${k}x${n}${transposeA ? " Aᵀ" : ""}${transposeB ? " Bᵀ" : ""}`,
          { relative: 1e-5, absolute: 1e-5 * Math.sqrt(k + 1) },
        );
      }
    }
  }
});

parityCase("unary ops, special values included", async (tested) => {
  const values = [...specials, ...randomValues(40, 7, 3)];
  const [gx, cx] = pair(tested, values, [values.length]);
  const ops: [UnaryOp, number, number][] = [
    ["neg", 0, 0],
    ["exp", 0, 0],
    ["log", 0, 0],
    ["sqrt", 0, 0],
    ["square", 0, 0],
    ["abs", 0, 0],
    ["scale", 2.5, 0],
    ["addScalar", -1.5, 0],
    ["clip", -1, 2],
    ["relu", 0, 0],
    ["leakyRelu", 0.1, 0],
    ["sigmoid", 0, 0],
    ["tanh", 0, 0],
    ["step", 0, 0],
    ["leakyStep", 0.1, 0],
    ["isNonFinite", 0, 0],
  ];
  for (const [op, a, b] of ops) {
    await assertSame(tested.unary(op, gx, a, b), cpu.unary(op, cx, a, b), `unary ${op}`, {
      relative: 1e-5,
      absolute: 1e-6,
    });
  }
});

parityCase("binary ops with every broadcast: same shape, row, column, scalar", async (tested) => {
  const rows = 5, cols = 7;
  // Small integers make ties (equal, greater, maximum); zeros make x / 0.
  const random = new Random(3);
  const integers = (n: number) => Array.from({ length: n }, () => random.integer(5) - 2);
  const left = integers(rows * cols);
  left[3] = NaN, left[4] = Infinity, left[5] = -Infinity;
  const [ga, ca] = pair(tested, left, [rows, cols]);
  const forms: [string, number[]][] = [
    ["same shape", [rows, cols]],
    ["row", [cols]],
    ["column", [rows, 1]],
    ["scalar", [1]],
  ];
  const ops: BinaryOp[] = ["add", "sub", "mul", "div", "equal", "greater", "maximum"];
  for (const [form, shape] of forms) {
    const right = integers(shape.reduce((p, d) => p * d, 1));
    if (right.length > 2) right[1] = NaN;
    const [gb, cb] = pair(tested, right, shape);
    for (const op of ops) {
      await assertSame(tested.binary(op, ga, gb), cpu.binary(op, ca, cb), `${op} (${form})`);
    }
  }
  // A column [n, 1] with a column [n, 1] is the same shape, not a broadcast.
  const [gc, cc] = pair(tested, [1, 2, 3], [3, 1]);
  const [gd, cd] = pair(tested, [10, 20, 30], [3, 1]);
  await assertSame(tested.binary("sub", gc, gd), cpu.binary("sub", cc, cd), "sub of two columns");
});

parityCase("reductions: sum, max, mean over all, rows and columns", async (tested) => {
  const shapes = [[1, 1], [37, 53], [3, 300], [300, 3]];
  let seed = 10;
  for (const shape of shapes) {
    const [gx, cx] = pair(tested, randomValues(shape[0] * shape[1], seed++), shape);
    for (const op of ["sum", "max", "mean"] as Reduction[]) {
      const tolerance = { relative: 1e-5, absolute: 1e-5 * Math.sqrt(gx.size) };
      await assertSame(
        tested.reduceAll(op, gx),
        cpu.reduceAll(op, cx),
        `${op} of all, [${shape}]`,
        tolerance,
      );
      await assertSame(
        tested.reduceRows(op, gx),
        cpu.reduceRows(op, cx),
        `${op} axis 0, [${shape}]`,
        tolerance,
      );
      await assertSame(
        tested.reduceColumns(op, gx),
        cpu.reduceColumns(op, cx),
        `${op} axis 1, [${shape}]`,
        tolerance,
      );
    }
  }
  // NaN wins max (as Math.max) and spreads through sums; infinities survive.
  const [gx, cx] = pair(tested, [1, NaN, 3, -Infinity, 5, 6, Infinity, 2, 1], [3, 3]);
  for (const op of ["sum", "max", "mean"] as Reduction[]) {
    await assertSame(tested.reduceAll(op, gx), cpu.reduceAll(op, cx), `${op} of all with NaN`);
    await assertSame(tested.reduceRows(op, gx), cpu.reduceRows(op, cx), `${op} axis 0 with NaN`);
    await assertSame(
      tested.reduceColumns(op, gx),
      cpu.reduceColumns(op, cx),
      `${op} axis 1 with NaN`,
    );
  }
});

parityCase("argmax takes the first maximum, exactly as the CPU", async (tested) => {
  const wide = new Float32Array(3 * 150);
  wide[5] = 2, wide[69] = 2, wide[133] = 2; // ties in different threads' columns: 5
  wide[150 + 149] = 1; // the last column
  wide[300 + 64] = -1, wide[300] = -1; // row of zeros with two -1: column 1
  const cases: [string, number[], number[]][] = [
    ["distinct", [1, 3, 2, 9, 0, 4], [2, 3]],
    ["ties", [5, 5, 5, 1, 7, 7], [2, 3]],
    ["NaN first", [NaN, 1, 2, 1, NaN, 2], [2, 3]],
    ["NaN later", [1, NaN, 0, -Infinity, -Infinity, NaN], [2, 3]],
    ["all -Infinity", [-Infinity, -Infinity, -Infinity], [1, 3]],
    ["one column", [3, 1, 2], [3, 1]],
    ["wide rows", Array.from(wide), [3, 150]],
  ];
  for (const [name, values, shape] of cases) {
    const [gx, cx] = pair(tested, values, shape);
    await assertSame(tested.argmaxRows(gx), cpu.argmaxRows(cx), `argmax (${name})`, {
      relative: 0,
      absolute: 0,
    });
  }
});

parityCase("softmax and logSoftmax, stable for large logits", async (tested) => {
  const cases: [string, ArrayLike<number>, number[]][] = [
    ["random", randomValues(7 * 13, 20, 3), [7, 13]],
    ["wide rows", randomValues(3 * 150, 21, 2), [3, 150]],
    ["large logits", [1000, 999, 0, -1000, 5, 90, 89, 0, 1, 2], [2, 5]],
    ["with -Infinity", [-Infinity, 0, 1, 2, -Infinity, 3], [2, 3]],
    ["with NaN", [NaN, 0, 1, 2, 3, 4], [2, 3]],
  ];
  for (const [name, values, shape] of cases) {
    const [gx, cx] = pair(tested, values, shape);
    await assertSame(tested.softmax(gx), cpu.softmax(cx), `softmax (${name})`);
    await assertSame(tested.logSoftmax(gx), cpu.logSoftmax(cx), `logSoftmax (${name})`, {
      relative: 1e-5,
      absolute: 1e-5,
    });
  }
  // Logits of 1e30: softmax still works, and logSoftmax must compute (x − max) − log Σ:
  // x − (max + log Σ) would round log 2 away next to 1e30 and give 0, not −0.693.
  const [gx, cx] = pair(tested, [1e30, 1e30, 0, 1, 2], [1, 5]);
  await assertSame(tested.softmax(gx), cpu.softmax(cx), "softmax (logits of 1e30)");
  assertClose(
    (await tested.logSoftmax(gx).data()).subarray(0, 2),
    [-Math.LN2, -Math.LN2],
    "logSoftmax (1e30)",
  );
});

parityCase("pickColumns, oneHot, gatherRows, sliceColumns", async (tested) => {
  const [gx, cx] = pair(tested, randomValues(6 * 4, 30), [6, 4]);
  const [gl, cl] = pair(tested, [3, 0, 1, 3, 2, 0], [6]);
  await assertSame(tested.pickColumns(gx, gl), cpu.pickColumns(cx, cl), "pickColumns");
  await assertSame(tested.oneHot(gl, 4, "float32"), cpu.oneHot(cl, 4, "float32"), "oneHot");
  await assertSame(
    tested.oneHot(gl, 7, "float32"),
    cpu.oneHot(cl, 7, "float32"),
    "oneHot, 7 classes",
  );
  const [gi, ci] = pair(tested, [5, 0, 0, 2, 5], [5]);
  await assertSame(tested.gatherRows(gx, gi), cpu.gatherRows(cx, ci), "gatherRows");
  const [gv, cv] = pair(tested, [10, 11, 12, 13, 14, 15], [6]);
  await assertSame(tested.gatherRows(gv, gi), cpu.gatherRows(cv, ci), "gatherRows of a vector");
  for (const [start, count] of [[0, 4], [1, 2], [3, 1], [2, 0]]) {
    await assertSame(
      tested.sliceColumns(gx, start, count),
      cpu.sliceColumns(cx, start, count),
      `sliceColumns(${start}, ${count})`,
    );
  }
});

parityCase(
  "a class index out of range is an error naming the value, as on the CPU",
  async (tested) => {
    const [gx, cx] = pair(tested, randomValues(4 * 4, 32), [4, 4]);
    const cases: [number[], RegExp][] = [
      [[3, 0, 4, 1], /class index 4\b.*0\.\.3/],
      [[0, -1, 2, 1], /class index -1\b/],
      [[0, 1.5, 2, 1], /class index 1\.5\b/],
    ];
    for (const [labels, message] of cases) {
      for (const backend of [tested, cpu]) {
        const x = backend === cpu ? cx : gx;
        const l = backend.fromValues(labels, [4], "float32");
        assert.throws(() => backend.pickColumns(x, l), message, `pickColumns [${labels}]`);
        assert.throws(() => backend.oneHot(l, 4, "float32"), message, `oneHot [${labels}]`);
        // A loss given such labels stops, instead of reading a neighbouring row.
        assert.throws(() => new SoftmaxCrossEntropy().forward(x, l), message, `loss [${labels}]`);
      }
    }
    // Labels gathered from uploaded ones (a batch of a dataset) are checked too.
    const all = tested.fromValues([0, 1, 7, 2], [4], "float32");
    const batch = tested.gatherRows(all, tested.fromValues([2, 0, 1, 3], [4], "float32"));
    assert.throws(() => tested.pickColumns(gx, batch), /class index 7\b/);
    await Promise.resolve();
  },
);

parityCase("linear: x W + bias in one kernel, where the backend has one", async (tested) => {
  const linear = (tested as { linear?: (x: Tensor, w: Tensor, b: Tensor) => Tensor }).linear;
  if (!linear) return; // ops.linear falls back to matmul + add, compared above
  for (const [m, k, n] of [[1, 1, 1], [6, 9, 7], [17, 33, 10], [70, 37, 130], [3, 0, 5]]) {
    const [gx, cx] = pair(tested, randomValues(m * k, 33), [m, k]);
    const [gw, cw] = pair(tested, randomValues(k * n, 34), [k, n]);
    const [gb, cb] = pair(tested, randomValues(n, 35), [n]);
    await assertSame(
      linear.call(tested, gx, gw, gb),
      cpu.binary("add", cpu.matmul(cx, cw, false, false), cb),
      `linear ${m}x${k}x${n}`,
      { relative: 1e-5, absolute: 1e-5 * Math.sqrt(k + 1) },
    );
  }
});

parityCase("optimiser updates in place: SGD, momentum, Adam", async (tested) => {
  const n = 37;
  const start = randomValues(n, 40);
  const grads = [randomValues(n, 41), randomValues(n, 42), randomValues(n, 43)];
  const setups: [
    string,
    (b: Backend, p: Tensor, states: Tensor[], g: Tensor, step: number) => void,
    number,
  ][] = [
    ["sgd", (b, p, _s, g) => b.sgdUpdate(p, g, 0.1, 0.01), 0],
    ["momentum", (b, p, [v], g) => b.momentumUpdate(p, v, g, 0.1, 0.9, 0.01), 1],
    ["adam", (b, p, [m, v], g, step) =>
      b.adamUpdate(p, m, v, g, {
        learningRate: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
        weightDecay: 0.01,
        step,
      }), 2],
  ];
  for (const [name, update, stateCount] of setups) {
    const [gp, cp] = pair(tested, start, [n]);
    const gs = Array.from({ length: stateCount }, () => tested.zeros([n], "float32"));
    const cs = Array.from({ length: stateCount }, () => cpu.zeros([n], "float32"));
    for (let step = 1; step <= grads.length; step++) {
      const [gg, cg] = pair(tested, grads[step - 1], [n]);
      update(tested, gp, gs, gg, step);
      update(cpu, cp, cs, cg, step);
    }
    await assertSame(gp, cp, `${name}: parameter after 3 steps`);
    for (let i = 0; i < stateCount; i++) await assertSame(gs[i], cs[i], `${name}: state ${i}`);
  }
});

parityCase("memory kernels: zeros on reused buffers, assign, addInPlace, views", async (tested) => {
  const used = tested.fromValues([1, 2, 3, 4, 5], [5], "float32");
  used.dispose();
  const zeros = tested.zeros([5], "float32"); // may take the buffer just released
  assert.deepEqual(Array.from(await zeros.data()), [0, 0, 0, 0, 0]);
  const source = tested.fromValues([1, 2, 3, 4, 5], [5], "float32");
  tested.addInPlace(zeros, source);
  tested.addInPlace(zeros, source);
  assert.deepEqual(Array.from(await zeros.data()), [2, 4, 6, 8, 10]);
  tested.assign(zeros, source);
  assert.deepEqual(Array.from(await zeros.data()), [1, 2, 3, 4, 5]);
  // A reshaped view keeps the storage alive after the original is disposed.
  const matrix = tested.fromValues([1, 2, 3, 4, 5, 6], [2, 3], "float32");
  const flat = tested.reshape(matrix, [6]);
  matrix.dispose();
  const other = tested.fromValues([9, 9, 9, 9, 9, 9], [6], "float32"); // must not take that buffer
  assert.deepEqual(Array.from(await flat.data()), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(await other.data()), [9, 9, 9, 9, 9, 9]);
  // Integer arrays upload as floats.
  const bytes = tested.fromValues(new Uint8Array([0, 7, 255]), [3], "float32");
  assert.deepEqual(Array.from(await bytes.data()), [0, 7, 255]);
});

// Layers, losses, training ---------------------------------------------------------------

/** Forward and backward of a layer on both backends; outputs, input gradients and parameter gradients compared. */
async function compareLayer(
  name: string,
  make: (backend: Backend) => Layer,
  tested: Backend,
  input: Float32Array,
  inputShape: number[],
  outputShape: number[],
  tolerance: Tolerance = tight,
): Promise<void> {
  const gl = make(tested), cl = make(cpu);
  const [gx, cx] = pair(tested, input, inputShape);
  await assertSame(gl.forward(gx), cl.forward(cx), `${name} forward`, tolerance);
  const dy = randomValues(outputShape[0] * outputShape[1], 99);
  const [gdy, cdy] = pair(tested, dy, outputShape);
  await assertSame(
    gl.backward(gdy, true)!,
    cl.backward(cdy, true)!,
    `${name} backward (input gradient)`,
    tolerance,
  );
  const gp = gl.parameters(), cp = cl.parameters();
  for (let i = 0; i < cp.length; i++) {
    await assertSame(gp[i].grad!, cp[i].grad!, `${name} gradient of ${cp[i].name}`, tolerance);
  }
}

parityCase(
  "layers forward and backward: Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, Sequential",
  async (tested) => {
    const x = randomValues(6 * 9, 50, 2);
    x[0] = 0, x[1] = 30, x[2] = -30; // the kink and saturation
    const loose = { relative: 1e-5, absolute: 1e-5 };
    await compareLayer(
      "Linear(9 → 7)",
      (b) => new Linear(9, 7, { backend: b, random: new Random(1) }),
      tested,
      x,
      [6, 9],
      [6, 7],
      loose,
    );
    await compareLayer(
      "Linear(9 → 7), uniform bias",
      (b) =>
        new Linear(9, 7, {
          backend: b,
          random: new Random(2),
          biasInit: { name: "uniform", low: -1, high: 1 },
        }),
      tested,
      x,
      [6, 9],
      [6, 7],
      loose,
    );
    await compareLayer("ReLU", () => new ReLU(), tested, x, [6, 9], [6, 9]);
    await compareLayer("LeakyReLU", () => new LeakyReLU(0.05), tested, x, [6, 9], [6, 9]);
    await compareLayer("Sigmoid", () => new Sigmoid(), tested, x, [6, 9], [6, 9]);
    await compareLayer("Tanh", () => new Tanh(), tested, x, [6, 9], [6, 9]);
    await compareLayer("Softmax", () => new Softmax(), tested, x, [6, 9], [6, 9]);
    for (const activation of ["relu", "tanh", "sigmoid", "leaky-relu"] as const) {
      await compareLayer(
        `Sequential mlp([9, 8, 5, 3], ${activation})`,
        (b) => mlp([9, 8, 5, 3], { backend: b, activation, seed: 3 }),
        tested,
        x,
        [6, 9],
        [6, 3],
        loose,
      );
    }
  },
);

/** A loss on both backends: forward value and backward gradient. */
async function compareLoss(
  name: string,
  make: () => Loss,
  tested: Backend,
  output: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: [number, number],
): Promise<[number, number]> {
  const gl = make(), cl = make();
  const [go, co] = pair(tested, output, shape);
  const targetShape = gl.targetKind === "labels" ? [shape[0]] : shape;
  const [gt, ct] = pair(tested, target, targetShape);
  const gLoss = gl.forward(go, gt), cLoss = cl.forward(co, ct);
  const tolerance = { relative: 1e-5, absolute: 1e-6 };
  await assertSame(gLoss, cLoss, `${name} forward`, tolerance);
  await assertSame(gl.backward(), cl.backward(), `${name} backward`, tolerance);
  return [(await gLoss.data())[0], (await cLoss.data())[0]];
}

parityCase("losses forward and backward, and the broken variants' NaN", async (tested) => {
  const n = 6, k = 4;
  const logits = randomValues(n * k, 60, 2);
  const labels = [0, 3, 1, 2, 3, 0];
  const random = new Random(61);
  const probabilities = Array.from({ length: n * k }, () => 0.02 + 0.96 * random.uniform());
  const targets = Array.from({ length: n * k }, () => random.integer(2));
  const dense = randomValues(n * k, 62);
  const shape: [number, number] = [n, k];

  await compareLoss(
    "softmax cross-entropy",
    () => new SoftmaxCrossEntropy(),
    tested,
    logits,
    labels,
    shape,
  );
  await compareLoss(
    "naive softmax cross-entropy",
    () => new NaiveSoftmaxCrossEntropy(),
    tested,
    logits,
    labels,
    shape,
  );
  await compareLoss(
    "binary cross-entropy",
    () => new BinaryCrossEntropy(),
    tested,
    probabilities,
    targets,
    shape,
  );
  await compareLoss(
    "binary cross-entropy (sum over outputs)",
    () => new BinaryCrossEntropy({ outputReduction: "sum" }),
    tested,
    probabilities,
    targets,
    shape,
  );
  await compareLoss(
    "unclipped binary cross-entropy",
    () => new UnclippedBinaryCrossEntropy(),
    tested,
    probabilities,
    targets,
    shape,
  );
  await compareLoss(
    "BCE with logits",
    () => new BinaryCrossEntropyWithLogits(),
    tested,
    logits,
    targets,
    shape,
  );
  await compareLoss(
    "mean squared error",
    () => new MeanSquaredError(),
    tested,
    logits,
    dense,
    shape,
  );

  // Where the broken forms break, they break the same way on the backend tested.
  const huge = logits.map((v, i) => (i % 5 === 0 ? 100 : v));
  const [naive] = await compareLoss(
    "naive softmax CE, a logit of 100",
    () => new NaiveSoftmaxCrossEntropy(),
    tested,
    huge,
    labels,
    shape,
  );
  assert.ok(
    Number.isNaN(naive),
    `exp(100) overflows float32 and Infinity / Infinity is NaN, got ${naive}`,
  );
  const [stable] = await compareLoss(
    "softmax CE, a logit of 100",
    () => new SoftmaxCrossEntropy(),
    tested,
    huge,
    labels,
    shape,
  );
  assert.ok(Number.isFinite(stable));
  const saturated = probabilities.map((p, i) => (i % 3 === 0 ? 1 - targets[i] : p)); // confidently wrong: p = 0 or 1
  const [unclipped] = await compareLoss(
    "unclipped BCE on saturated outputs",
    () => new UnclippedBinaryCrossEntropy(),
    tested,
    saturated,
    targets,
    shape,
  );
  assert.ok(!Number.isFinite(unclipped), `log(0) makes the loss non-finite, got ${unclipped}`);
  const [clipped] = await compareLoss(
    "clipped BCE on saturated outputs",
    () => new BinaryCrossEntropy(),
    tested,
    saturated,
    targets,
    shape,
  );
  assert.ok(Number.isFinite(clipped));
  await compareLoss(
    "BCE with logits, logits of ±100",
    () => new BinaryCrossEntropyWithLogits(),
    tested,
    logits.map((v, i) => (i % 2 ? 100 : -100) + v),
    targets,
    shape,
  );
});

function blobs(count: number, seed: number): Dataset {
  return gaussianBlobs({ count, classes: 3, features: 6, separation: 2, seed });
}

interface Run {
  history: History;
  model: Sequential;
}

async function trainOn(
  backend: Backend,
  optimizer: () => Optimizer,
  options: { epochs: number; batchSize: number; hooks?: TrainingHook[]; loss?: Loss },
  trainSet: Dataset,
  validation?: Dataset,
): Promise<Run> {
  const model = mlp([6, 16, 3], { backend, seed: 4 });
  const history = await train({
    model,
    loss: options.loss ?? new SoftmaxCrossEntropy(),
    optimizer: optimizer(),
    train: trainSet,
    validation,
    epochs: options.epochs,
    batchSize: options.batchSize,
    hooks: options.hooks,
    seed: 5,
    progress: "none",
  });
  return { history, model };
}

function assertSameHistory(g: History, c: History, what: string, count: number): void {
  assert.equal(g.epochs.length, c.epochs.length);
  for (let i = 0; i < c.epochs.length; i++) {
    const ge = g.epochs[i], ce = c.epochs[i];
    const at = `${what}, epoch ${ce.epoch}`;
    assertClose(
      [ge.trainLoss, ge.validationLoss ?? 0],
      [ce.trainLoss, ce.validationLoss ?? 0],
      `${at} losses`,
      {
        relative: 1e-4,
        absolute: 1e-5,
      },
    );
    // An example whose two best logits are within rounding may flip: allow one per set.
    assertClose(
      [ge.trainAccuracy ?? 0, ge.validationAccuracy ?? 0],
      [ce.trainAccuracy ?? 0, ce.validationAccuracy ?? 0],
      `${at} accuracies`,
      { relative: 0, absolute: 1.01 / count },
    );
    assert.equal(ge.steps, ce.steps);
  }
}

parityCase("one training step by hand: forward, loss, backward, update", async (tested) => {
  const x = randomValues(8 * 6, 70);
  const labels = [0, 1, 2, 0, 1, 2, 0, 1];
  const results: Tensor[][] = [];
  for (const backend of [tested, cpu]) {
    const model = mlp([6, 16, 3], { backend, seed: 4 });
    const loss = new SoftmaxCrossEntropy();
    const optimizer = new Adam({ learningRate: 0.01, weightDecay: 1e-3 });
    const input = backend.fromValues(x, [8, 6], "float32");
    const target = backend.fromValues(labels, [8], "float32");
    const value = loss.forward(model.forward(input), target);
    model.backward(loss.backward());
    optimizer.step(model.parameters());
    backend.flush();
    results.push([value, ...model.parameters().map((p) => p.value)]);
  }
  const [g, c] = results;
  for (let i = 0; i < c.length; i++) {
    await assertSame(g[i], c[i], i === 0 ? "loss" : `parameter ${i}`);
  }
});

parityCase(
  "an MLP trained for a few epochs has the same history (SGD, momentum, Adam)",
  async (tested) => {
    const trainSet = blobs(240, 1), validation = blobs(90, 2);
    const setups: [string, () => Optimizer, number][] = [
      ["SGD", () => new SGD({ learningRate: 0.1 }), 32],
      [
        "momentum",
        () => new Momentum({ learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4 }),
        50,
      ],
      ["Adam", () => new Adam({ learningRate: 0.01 }), 64],
    ];
    for (const [name, optimizer, batchSize] of setups) {
      const g = await trainOn(tested, optimizer, { epochs: 3, batchSize }, trainSet, validation);
      const c = await trainOn(cpu, optimizer, { epochs: 3, batchSize }, trainSet, validation);
      assertSameHistory(g.history, c.history, name, 90);
      const gp = g.model.parameters(), cp = c.model.parameters();
      for (let i = 0; i < cp.length; i++) {
        await assertSame(gp[i].value, cp[i].value, `${name}: ${cp[i].name} after training`, {
          relative: 1e-3,
          absolute: 1e-4,
        });
      }
      assert.ok(
        c.history.epochs.at(-1)!.trainLoss < c.history.epochs[0].trainLoss,
        `${name} learns`,
      );
    }
  },
);

parityCase("hooks and monitors see the same numbers", async (tested) => {
  const trainSet = blobs(96, 3);
  const logs: MonitorLog[] = [];
  const losses: number[][] = [];
  for (const backend of [tested, cpu]) {
    const log = new MonitorLog();
    const stepLosses: number[] = [];
    const lossHook: TrainingHook = {
      async beforeUpdate(context) {
        stepLosses.push((await context.loss.data())[0]);
      },
    };
    await trainOn(
      backend,
      () => new SGD({ learningRate: 0.1 }),
      {
        epochs: 2,
        batchSize: 24,
        hooks: [
          lossHook,
          gradientMonitor({ log, every: 3 }),
          activationMonitor(trainSet, { log, every: 3, count: 32 }),
        ],
      },
      trainSet,
    );
    logs.push(log);
    losses.push(stepLosses);
  }
  assertClose(losses[0], losses[1], "per-step loss read in a hook", {
    relative: 1e-4,
    absolute: 1e-6,
  });
  const [g, c] = logs;
  assert.equal(g.rows.length, c.rows.length);
  assert.ok(c.rows.length > 0);
  for (let i = 0; i < c.rows.length; i++) {
    const gr = g.rows[i], cr = c.rows[i];
    assert.deepEqual([gr.step, gr.layer, gr.metric], [cr.step, cr.layer, cr.metric]);
    assertClose([gr.value], [cr.value], `${cr.metric} of ${cr.layer} at step ${cr.step}`, {
      relative: 2e-3,
      absolute: 1e-5,
    });
  }
});

parityCase("a non-finite loss is found at the same step as on the CPU", async (tested) => {
  const trainSet = blobs(96, 6);
  const reports = [];
  for (const backend of [tested, cpu]) {
    const model = mlp([6, 16, 3], { backend, seed: 4 });
    const history = await train({
      model,
      loss: new NaiveSoftmaxCrossEntropy(),
      optimizer: new SGD({ learningRate: 50 }),
      train: trainSet,
      epochs: 2,
      batchSize: 16,
      onNonFinite: "record",
      progress: "none",
    });
    assert.ok(history.nonFinite, `${backend.name}: the loss should blow up`);
    reports.push(history.nonFinite);
  }
  const [g, c] = reports;
  assert.equal(g!.step, c!.step, "same step");
});
