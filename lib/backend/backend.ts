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

/** How a reduction combines the values it visits. */
export type Reduction = "sum" | "max" | "mean";

/** The settings of one Adam update (Kingma and Ba's names). */
export interface AdamHyper {
  /** Step size α. */
  learningRate: number;
  /** Decay of the running mean of the gradient. */
  beta1: number;
  /** Decay of the running mean of the squared gradient. */
  beta2: number;
  /** Added to √v̂ so the step never divides by zero. */
  epsilon: number;
  /** L2 weight decay λ, added to the gradient as λ w. */
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

/**
 * The kernels every backend implements. Shapes are checked in lib/ops.ts before a kernel runs;
 * kernels trust them. Every tensor a kernel returns is new, except the in-place updates.
 */
export interface Backend {
  /** Which backend: the readable reference, the fast CPU path, or the GPU. */
  readonly name: "cpu" | "wasm" | "webgpu";
  /** What it runs on, e.g. "JavaScript on the CPU" or the GPU adapter's name. */
  readonly description: string;

  // Memory -----------------------------------------------------------------
  /** A tensor holding `values` (row-major) with this shape and dtype. */
  fromValues(values: ArrayLike<number>, shape: readonly number[], dtype: DType): Tensor;
  /** A tensor of zeros. */
  zeros(shape: readonly number[], dtype: DType): Tensor;
  /** The values, copied into JavaScript (a GPU round trip on WebGPU). */
  read(t: Tensor): Promise<TypedArray>;
  /** Frees the storage (called once the last view of it is disposed). */
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
  /**
   * Optional: x w + bias in one kernel (x [rows, in], w [in, out], bias [out]),
   * equal to add(matmul(x, w), bias). `ops.linear` falls back to those two.
   */
  linear?(x: Tensor, w: Tensor, bias: Tensor): Tensor;

  // Element-wise ----------------------------------------------------------------
  /** op applied to every element; `a` and `b` are the op's scalar parameters. */
  unary(op: UnaryOp, x: Tensor, a: number, b: number): Tensor;
  /** op applied element by element, `b` broadcast as {@link BinaryOp} describes. */
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

  // Convolution and pooling (NHWC; see lib/layers/conv.ts) -------------------------
  // Optional while other backends catch up: lib/layers/conv.ts names the missing kernel.
  /** Patches of x [N, H, W, C] as rows: [N·outH·outW, kernelH·kernelW·C]; padding reads 0. */
  im2col?(x: Tensor, g: WindowGeometry): Tensor;
  /** The adjoint of im2col: each patch row summed back into [N, H, W, C]. */
  col2im?(cols: Tensor, g: WindowGeometry): Tensor;
  /** Window maxima [N, outH, outW, C] and, as floats, each maximum's flat index into x. */
  maxPool?(x: Tensor, g: WindowGeometry): { output: Tensor; argmax: Tensor };
  /** dx [N, H, W, C]: each dy value added at its window's argmax, zero elsewhere. */
  maxPoolBackward?(dy: Tensor, argmax: Tensor, g: WindowGeometry): Tensor;
}

/** Where a sliding window (a convolution's kernel, a pooling window) reads, in NHWC. */
export interface WindowGeometry {
  /** Images in the batch (N). */
  batch: number;
  /** Input rows (H). */
  height: number;
  /** Input columns (W). */
  width: number;
  /** Input channels (C). */
  channels: number;
  /** Window rows. */
  kernelHeight: number;
  /** Window columns. */
  kernelWidth: number;
  /** Rows between windows. */
  strideHeight: number;
  /** Columns between windows. */
  strideWidth: number;
  /** Rows and columns of zeros before the image (after it, whatever the output size needs). */
  padTop: number;
  /** Columns of zeros before the image. */
  padLeft: number;
  /** Output rows. */
  outHeight: number;
  /** Output columns. */
  outWidth: number;
}
