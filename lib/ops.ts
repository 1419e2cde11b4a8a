/**
 * Operations on tensors. Each checks its inputs once, with a message that names
 * the shapes, then calls the kernel of the tensor's backend (tfjs-core's op /
 * kernel split). Layers, losses and optimisers are written in these.
 */
import type { BinaryOp, Reduction, UnaryOp } from "./backend/backend.ts";
import { shapeString, type Tensor } from "./tensor.ts";

/** Thrown when shapes do not fit; the message names the op (or layer) and the shapes. */
export class ShapeError extends Error {
  /** The error's name. */
  override name = "ShapeError";
}

function sameBackend(op: string, a: Tensor, b: Tensor): void {
  if (a.backend !== b.backend) {
    throw new Error(
      `${op}: tensors live on different backends (${a.backend.name}, ${b.backend.name})`,
    );
  }
  if (a.dtype !== b.dtype) {
    throw new Error(`${op}: dtypes differ (${a.dtype} and ${b.dtype})`);
  }
  a.assertAlive(op);
  b.assertAlive(op);
}

function require2d(op: string, x: Tensor, what = "input"): void {
  if (x.rank !== 2) {
    throw new ShapeError(`${op}: ${what} must be 2-D [rows, columns], got ${shapeString(x.shape)}`);
  }
}

// Linear algebra ---------------------------------------------------------------

/** matmul's transposes. */
export interface MatmulOptions {
  /** Use aᵀ (read in place). */
  transposeA?: boolean;
  /** Use bᵀ (read in place). */
  transposeB?: boolean;
}

/**
 * op(a) @ op(b), where op transposes when asked. Transposes are read in place,
 * never materialised.
 *
 * @example
 * ```ts
 * import { ops, tensor } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const a = tensor([1, 2, 3, 4], [2, 2]);
 * const b = tensor([5, 6, 7, 8], [2, 2]);
 * assert.deepEqual(Array.from(await ops.matmul(a, b).data()), [19, 22, 43, 50]);
 * // aᵀ b, without making aᵀ:
 * assert.deepEqual(Array.from(await ops.matmul(a, b, { transposeA: true }).data()), [26, 30, 38, 44]);
 * assert.throws(() => ops.matmul(a, tensor([1, 2, 3], [3, 1])), /matmul/);
 * ```
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transposeA = false, transposeB = false } = options;
  sameBackend("matmul", a, b);
  require2d("matmul", a, "a");
  require2d("matmul", b, "b");
  const inner = transposeA ? a.shape[0] : a.shape[1];
  const innerB = transposeB ? b.shape[1] : b.shape[0];
  if (inner !== innerB) {
    const name = (s: string, t: boolean) => (t ? `${s}ᵀ` : s);
    throw new ShapeError(
      `matmul: ${name("a", transposeA)} ${name("b", transposeB)} needs matching inner sizes, ` +
        `got a ${shapeString(a.shape)} and b ${shapeString(b.shape)}`,
    );
  }
  return a.backend.matmul(a, b, transposeA, transposeB);
}

/**
 * x w + bias for a linear layer: x [rows, in], w [in, out], bias [out]. One
 * kernel where the backend has one (a matmul whose epilogue adds the bias),
 * else matmul then add; the values are the same either way.
 */
export function linear(x: Tensor, w: Tensor, bias: Tensor): Tensor {
  sameBackend("linear", x, w);
  sameBackend("linear", x, bias);
  if (bias.rank !== 1 || w.rank !== 2 || bias.shape[0] !== w.shape[1]) {
    throw new ShapeError(
      `linear: the bias must be [${w.shape.at(-1)}] for a weight of shape ${
        shapeString(w.shape)
      }, ` +
        `got ${shapeString(bias.shape)}`,
    );
  }
  if (!x.backend.linear) return add(matmul(x, w), bias);
  require2d("linear", x, "x");
  if (x.shape[1] !== w.shape[0]) {
    throw new ShapeError(
      `linear: x ${shapeString(x.shape)} and w ${shapeString(w.shape)} need matching inner sizes`,
    );
  }
  return x.backend.linear(x, w, bias);
}

// Element-wise -----------------------------------------------------------------

function unary(op: UnaryOp, x: Tensor, a = 0, b = 0): Tensor {
  x.assertAlive(op);
  return x.backend.unary(op, x, a, b);
}

/** −x, element-wise. */
export const neg = (x: Tensor): Tensor => unary("neg", x);
/** e^x, element-wise. */
export const exp = (x: Tensor): Tensor => unary("exp", x);
/** The natural log, element-wise. */
export const log = (x: Tensor): Tensor => unary("log", x);
/** √x, element-wise. */
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
/** x², element-wise. */
export const square = (x: Tensor): Tensor => unary("square", x);
/** |x|, element-wise. */
export const abs = (x: Tensor): Tensor => unary("abs", x);
/** x · factor. */
export const scale = (x: Tensor, factor: number): Tensor => unary("scale", x, factor);
/** x + value. */
export const addScalar = (x: Tensor, value: number): Tensor => unary("addScalar", x, value);
/** min(max(x, min), max), element-wise. */
export const clip = (x: Tensor, min: number, max: number): Tensor => unary("clip", x, min, max);
/** max(x, 0), element-wise. */
export const relu = (x: Tensor): Tensor => unary("relu", x);
/** x where x > 0, else slope · x. */
export const leakyRelu = (x: Tensor, slope: number): Tensor => unary("leakyRelu", x, slope);
/** 1 / (1 + e^−x), element-wise. */
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
/** tanh(x), element-wise. */
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
/** 1 where x > 0, else 0: the derivative of ReLU. */
export const step = (x: Tensor): Tensor => unary("step", x);
/** 1 where x > 0, else `slope`: the derivative of leaky ReLU. */
export const leakyStep = (x: Tensor, slope: number): Tensor => unary("leakyStep", x, slope);
/** 1 where x is NaN or ±Infinity, else 0. */
export const isNonFinite = (x: Tensor): Tensor => unary("isNonFinite", x);

function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  sameBackend(op, a, b);
  const fits = sameShape(a.shape, b.shape) ||
    b.size === 1 ||
    (a.rank === 2 && b.rank === 1 && b.shape[0] === a.shape[1]) ||
    (a.rank === 2 && b.rank === 2 && b.shape[1] === 1 && b.shape[0] === a.shape[0]);
  if (!fits) {
    throw new ShapeError(
      `${op}: cannot combine ${shapeString(a.shape)} with ${shapeString(b.shape)}; the second ` +
        `must have the same shape, be a row [${a.shape.at(-1)}], a column [${a.shape[0]}, 1] ` +
        `or a scalar [1]`,
    );
  }
  return a.backend.binary(op, a, b);
}

/** a + b, element-wise; b may be a row vector [cols], a column [rows, 1] or a scalar [1], broadcast. */
export const add = (a: Tensor, b: Tensor): Tensor => binary("add", a, b);
/** a − b, element-wise, broadcasting b as add() does. */
export const sub = (a: Tensor, b: Tensor): Tensor => binary("sub", a, b);
/** a · b, element-wise, broadcasting b as add() does. */
export const mul = (a: Tensor, b: Tensor): Tensor => binary("mul", a, b);
/** a / b, element-wise, broadcasting b as add() does. */
export const div = (a: Tensor, b: Tensor): Tensor => binary("div", a, b);
/** 1 where a = b, else 0. */
export const equal = (a: Tensor, b: Tensor): Tensor => binary("equal", a, b);
/** 1 where a > b, else 0. */
export const greater = (a: Tensor, b: Tensor): Tensor => binary("greater", a, b);
/** max(a, b), element-wise. */
export const maximum = (a: Tensor, b: Tensor): Tensor => binary("maximum", a, b);

// Reductions -------------------------------------------------------------------

/** Reduce everything (axis undefined, giving [1]), down the rows (axis 0) or along them (axis 1). */
function reduce(op: Reduction, x: Tensor, axis?: 0 | 1): Tensor {
  x.assertAlive(op);
  if (axis === undefined) return x.backend.reduceAll(op, x);
  require2d(`${op}(axis ${axis})`, x);
  return axis === 0 ? x.backend.reduceRows(op, x) : x.backend.reduceColumns(op, x);
}

/** The sum: of everything ([1]), down the rows (axis 0) or along them (axis 1). */
export const sum = (x: Tensor, axis?: 0 | 1): Tensor => reduce("sum", x, axis);
/** The mean: of everything ([1]), down the rows (axis 0) or along them (axis 1). */
export const mean = (x: Tensor, axis?: 0 | 1): Tensor => reduce("mean", x, axis);
/** The maximum: of everything ([1]), down the rows (axis 0) or along them (axis 1). */
export const max = (x: Tensor, axis?: 0 | 1): Tensor => reduce("max", x, axis);

/** The index of each row's largest value; ties go to the first (lowest) index. */
export function argmax(x: Tensor): Tensor {
  require2d("argmax", x);
  x.assertAlive("argmax");
  return x.backend.argmaxRows(x);
}

// Softmax family ---------------------------------------------------------------

/** Row-wise softmax, computed stably (the row maximum subtracted first). */
export function softmax(x: Tensor): Tensor {
  require2d("softmax", x);
  x.assertAlive("softmax");
  return x.backend.softmax(x);
}

/** Row-wise log softmax, z − max z − log Σ e^{z − max z}. */
export function logSoftmax(x: Tensor): Tensor {
  require2d("logSoftmax", x);
  x.assertAlive("logSoftmax");
  return x.backend.logSoftmax(x);
}

function checkLabels(op: string, rows: number, labels: Tensor): void {
  if (labels.rank !== 1 || labels.shape[0] !== rows) {
    throw new ShapeError(
      `${op}: expected one class index per row, labels of shape [${rows}], got ${
        shapeString(labels.shape)
      }`,
    );
  }
}

/** x[i, labels[i]] for every row i. */
export function pickColumns(x: Tensor, labels: Tensor): Tensor {
  require2d("pickColumns", x);
  checkLabels("pickColumns", x.shape[0], labels);
  sameBackend("pickColumns", x, labels);
  return x.backend.pickColumns(x, labels);
}

/** Rows of `classes` zeros with a 1 at each label: [N] → [N, classes]. */
export function oneHot(labels: Tensor, classes: number): Tensor {
  labels.assertAlive("oneHot");
  if (labels.rank !== 1) {
    throw new ShapeError(`oneHot: labels must be 1-D, got ${shapeString(labels.shape)}`);
  }
  return labels.backend.oneHot(labels, classes, labels.dtype);
}

// Data movement ----------------------------------------------------------------

/** The rows of x at `indices` ([N] of row numbers), in that order. */
export function gatherRows(x: Tensor, indices: Tensor): Tensor {
  sameBackend("gatherRows", x, indices);
  if (indices.rank !== 1) {
    throw new ShapeError(`gatherRows: indices must be 1-D, got ${shapeString(indices.shape)}`);
  }
  return x.backend.gatherRows(x, indices);
}

/** `count` columns of x starting at column `start`. */
export function sliceColumns(x: Tensor, start: number, count: number): Tensor {
  require2d("sliceColumns", x);
  x.assertAlive("sliceColumns");
  if (start < 0 || count < 0 || start + count > x.shape[1]) {
    throw new ShapeError(
      `sliceColumns: columns [${start}, ${start + count}) out of range for ${shapeString(x.shape)}`,
    );
  }
  return x.backend.sliceColumns(x, start, count);
}

/** The same values with a new shape of the same size (a view, no copy). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  x.assertAlive("reshape");
  const size = shape.reduce((p, d) => p * d, 1);
  if (size !== x.size) {
    throw new ShapeError(`reshape: cannot view ${shapeString(x.shape)} as ${shapeString(shape)}`);
  }
  return x.backend.reshape(x, shape);
}

// Reading back -----------------------------------------------------------------

/** The single value of a [1] tensor, as a number (async: on WebGPU it waits for the GPU). */
export async function scalar(x: Tensor): Promise<number> {
  if (x.size !== 1) throw new ShapeError(`scalar: expected one value, got ${shapeString(x.shape)}`);
  return (await x.data())[0];
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
