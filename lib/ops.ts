/**
 * Operations on tensors. Each checks its inputs once, with a message that names
 * the shapes, then calls the kernel of the tensor's backend (tfjs-core's op /
 * kernel split). Layers, losses and optimisers are written in these.
 */
import type { BinaryOp, Reduction, UnaryOp } from "./backend/backend.ts";
import { shapeString, Tensor } from "./tensor.ts";

export class ShapeError extends Error {
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

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/** op(a) @ op(b). Transposes are read in place, never materialised. */
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

// Element-wise -----------------------------------------------------------------

function unary(op: UnaryOp, x: Tensor, a = 0, b = 0): Tensor {
  x.assertAlive(op);
  return x.backend.unary(op, x, a, b);
}

export const neg = (x: Tensor) => unary("neg", x);
export const exp = (x: Tensor) => unary("exp", x);
export const log = (x: Tensor) => unary("log", x);
export const sqrt = (x: Tensor) => unary("sqrt", x);
export const square = (x: Tensor) => unary("square", x);
export const abs = (x: Tensor) => unary("abs", x);
export const scale = (x: Tensor, factor: number) => unary("scale", x, factor);
export const addScalar = (x: Tensor, value: number) => unary("addScalar", x, value);
export const clip = (x: Tensor, min: number, max: number) => unary("clip", x, min, max);
export const relu = (x: Tensor) => unary("relu", x);
export const leakyRelu = (x: Tensor, slope: number) => unary("leakyRelu", x, slope);
export const sigmoid = (x: Tensor) => unary("sigmoid", x);
export const tanh = (x: Tensor) => unary("tanh", x);
/** 1 where x > 0, else 0: the derivative of ReLU. */
export const step = (x: Tensor) => unary("step", x);
/** 1 where x > 0, else `slope`: the derivative of leaky ReLU. */
export const leakyStep = (x: Tensor, slope: number) => unary("leakyStep", x, slope);
/** 1 where x is NaN or ±Infinity, else 0. */
export const isNonFinite = (x: Tensor) => unary("isNonFinite", x);

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

export const add = (a: Tensor, b: Tensor) => binary("add", a, b);
export const sub = (a: Tensor, b: Tensor) => binary("sub", a, b);
export const mul = (a: Tensor, b: Tensor) => binary("mul", a, b);
export const div = (a: Tensor, b: Tensor) => binary("div", a, b);
export const equal = (a: Tensor, b: Tensor) => binary("equal", a, b);
export const greater = (a: Tensor, b: Tensor) => binary("greater", a, b);
export const maximum = (a: Tensor, b: Tensor) => binary("maximum", a, b);

// Reductions -------------------------------------------------------------------

/** Reduce everything (axis undefined, giving [1]), down the rows (axis 0) or along them (axis 1). */
function reduce(op: Reduction, x: Tensor, axis?: 0 | 1): Tensor {
  x.assertAlive(op);
  if (axis === undefined) return x.backend.reduceAll(op, x);
  require2d(`${op}(axis ${axis})`, x);
  return axis === 0 ? x.backend.reduceRows(op, x) : x.backend.reduceColumns(op, x);
}

export const sum = (x: Tensor, axis?: 0 | 1) => reduce("sum", x, axis);
export const mean = (x: Tensor, axis?: 0 | 1) => reduce("mean", x, axis);
export const max = (x: Tensor, axis?: 0 | 1) => reduce("max", x, axis);

/** The index of each row's largest value; ties go to the first (lowest) index. */
export function argmax(x: Tensor): Tensor {
  require2d("argmax", x);
  x.assertAlive("argmax");
  return x.backend.argmaxRows(x);
}

// Softmax family ---------------------------------------------------------------

export function softmax(x: Tensor): Tensor {
  require2d("softmax", x);
  x.assertAlive("softmax");
  return x.backend.softmax(x);
}

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

export function oneHot(labels: Tensor, classes: number): Tensor {
  labels.assertAlive("oneHot");
  if (labels.rank !== 1) {
    throw new ShapeError(`oneHot: labels must be 1-D, got ${shapeString(labels.shape)}`);
  }
  return labels.backend.oneHot(labels, classes, labels.dtype);
}

// Data movement ----------------------------------------------------------------

export function gatherRows(x: Tensor, indices: Tensor): Tensor {
  sameBackend("gatherRows", x, indices);
  if (indices.rank !== 1) {
    throw new ShapeError(`gatherRows: indices must be 1-D, got ${shapeString(indices.shape)}`);
  }
  return x.backend.gatherRows(x, indices);
}

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

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
