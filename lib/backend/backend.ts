/**
 * The seam between the math and the machine.
 *
 * Every operation the library needs is a kernel here, implemented once per
 * backend: `cpu.ts` with plain loops (the readable reference) and `webgpu.ts`
 * with WGSL shaders. Kernels trust their inputs: shapes are checked once, with
 * a message a learner can act on, in `lib/ops.ts` before a kernel is called.
 *
 * Kernels return new tensors, except the optimiser updates, which change a
 * parameter (and its optimiser state) in place.
 */
import type { DType, Tensor, TypedArray } from "../tensor.ts";

/** Backend-specific storage: a typed array on the CPU, a GPU buffer on WebGPU. */
export type Storage = unknown;

/** Element-wise functions of one input; `a` and `b` are scalar parameters. */
export type UnaryOp =
  | "neg"
  | "exp"
  | "log"
  | "sqrt"
  | "square"
  | "abs"
  | "scale" // x * a
  | "addScalar" // x + a
  | "clip" // min(max(x, a), b)
  | "relu" // max(x, 0)
  | "leakyRelu" // x > 0 ? x : a * x
  | "sigmoid" // 1 / (1 + exp(-x))
  | "tanh"
  | "step" // x > 0 ? 1 : 0
  | "leakyStep" // x > 0 ? 1 : a
  | "isNonFinite"; // 1 where x is NaN or infinite, else 0

/**
 * Element-wise functions of two inputs. `b` has the shape of `a`, or is a row
 * vector broadcast down the rows of `a` ([rows, cols] with [cols]), or a column
 * broadcast along them ([rows, cols] with [rows, 1]), or a scalar ([1]).
 */
export type BinaryOp = "add" | "sub" | "mul" | "div" | "equal" | "greater" | "maximum";

export type Reduction = "sum" | "max" | "mean";

export interface AdamHyper {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

export interface Backend {
  readonly name: "cpu" | "webgpu";
  /** What it runs on, e.g. "JavaScript on the CPU" or the GPU adapter's name. */
  readonly description: string;

  // Memory -----------------------------------------------------------------
  fromValues(values: ArrayLike<number>, shape: readonly number[], dtype: DType): Tensor;
  zeros(shape: readonly number[], dtype: DType): Tensor;
  read(t: Tensor): Promise<TypedArray>;
  release(t: Tensor): void;
  /**
   * Same storage, new shape (sizes must match). Construct the result with
   * `new Tensor(backend, storage, shape, dtype, t)` so that it counts as a view
   * of `t`: the storage is released only when both are disposed.
   */
  reshape(t: Tensor, shape: readonly number[]): Tensor;
  /** Submit queued work (WebGPU); a no-op on the CPU. */
  flush(): void;

  // Linear algebra ------------------------------------------------------------
  /** op(a) op(b) where op transposes when asked; a, b are 2-D. */
  matmul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor;

  // Element-wise ----------------------------------------------------------------
  unary(op: UnaryOp, x: Tensor, a: number, b: number): Tensor;
  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor;

  // Reductions ----------------------------------------------------------------
  /** Over everything, giving shape [1]. */
  reduceAll(op: Reduction, x: Tensor): Tensor;
  /** Over axis 0 of a 2-D tensor (down the columns), giving [cols]. */
  reduceRows(op: Reduction, x: Tensor): Tensor;
  /** Over axis 1 of a 2-D tensor (along each row), giving [rows]. */
  reduceColumns(op: Reduction, x: Tensor): Tensor;
  /** Index of the largest value in each row (the first one on ties), as floats: [rows]. */
  argmaxRows(x: Tensor): Tensor;

  // Softmax family --------------------------------------------------------------
  /** Row-wise softmax, computed stably (max subtracted first). */
  softmax(x: Tensor): Tensor;
  /** Row-wise log-softmax by log-sum-exp. */
  logSoftmax(x: Tensor): Tensor;
  /** x[i, labels[i]] for each row i: [rows]. */
  pickColumns(x: Tensor, labels: Tensor): Tensor;
  /** One-hot rows of width `classes` for float class indices. */
  oneHot(labels: Tensor, classes: number, dtype: DType): Tensor;

  // Data movement ---------------------------------------------------------------
  /** Rows of `x` at the float `indices`. */
  gatherRows(x: Tensor, indices: Tensor): Tensor;
  /** Columns [start, start + count) of a 2-D tensor. */
  sliceColumns(x: Tensor, start: number, count: number): Tensor;

  // Optimiser updates, in place ---------------------------------------------------
  /** p -= lr * (g + wd * p) */
  sgdUpdate(param: Tensor, grad: Tensor, learningRate: number, weightDecay: number): void;
  /** v = mu * v + (g + wd * p); p -= lr * v */
  momentumUpdate(
    param: Tensor,
    velocity: Tensor,
    grad: Tensor,
    learningRate: number,
    momentum: number,
    weightDecay: number,
  ): void;
  /** Adam (Kingma and Ba) with L2 weight decay added to the gradient. */
  adamUpdate(param: Tensor, m: Tensor, v: Tensor, grad: Tensor, hyper: AdamHyper): void;
  /** target += source, in place (for accumulating losses and counts on the device). */
  addInPlace(target: Tensor, source: Tensor): void;
  /** Copy source's values into target, in place. */
  assign(target: Tensor, source: Tensor): void;
}
