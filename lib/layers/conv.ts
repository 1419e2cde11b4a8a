/**
 * Convolution, max pooling and flattening, for images stored NHWC:
 * [batch, height, width, channels].
 *
 * Why NHWC: a convolution is then a Linear layer on patches. im2col turns each
 * output position's window into a row, [N·outH·outW, kH·kW·C], and the patches
 * times the kernel matrix W [kH·kW·C, out] plus the bias is already the output
 * [N, outH, outW, out] in NHWC, with no transpose kernel; the backward pass is
 * Linear's (dW = colsᵀ dy, db = Σ dy, dcols = dy Wᵀ) followed by col2im. It is
 * also TensorFlow's default layout, and a flat grey-scale image row (784 values
 * of a 28 x 28 picture) is already [28, 28, 1]. Every layer here keeps NHWC.
 *
 * @module
 */
import type { Backend, WindowGeometry } from "../backend/backend.ts";
import { cpu } from "../backend/mod.ts";
import { type Init, initName, initValues } from "../init.ts";
import { linear, matmul, reshape, ShapeError, sum } from "../ops.ts";
import { Random } from "../random.ts";
import { type DType, shapeString, type Tensor } from "../tensor.ts";
import { Layer, type Parameter } from "./layer.ts";

/** "valid" (no padding), "same" (TensorFlow's: out = ceil(in / stride)), or zeros on each side. */
export type Padding = "valid" | "same" | number;

/** A size given once for both axes, or as [height, width]. */
export type Pair = number | readonly [number, number];

function pairOf(owner: string, what: string, value: Pair): [number, number] {
  const pair: [number, number] = typeof value === "number"
    ? [value, value]
    : [value?.[0], value?.[1]];
  if (!pair.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(
      `${owner}: ${what} must be a positive integer or [height, width] of them, got ${
        JSON.stringify(value)
      }`,
    );
  }
  return pair;
}

function checkPadding(owner: string, padding: Padding): void {
  const ok = padding === "valid" || padding === "same" ||
    (Number.isInteger(padding) && (padding as number) >= 0);
  if (!ok) {
    throw new Error(
      `${owner}: padding must be "valid", "same" or a whole number >= 0, got ${
        JSON.stringify(padding)
      }`,
    );
  }
}

/** Output size and leading padding along one axis; throws, naming the layer, when the window does not fit. */
function axis(
  layer: string,
  what: "height" | "width",
  size: number,
  kernel: number,
  stride: number,
  padding: Padding,
): { out: number; padBefore: number } {
  if (padding === "same") {
    // TensorFlow: out = ceil(in / stride); the padding is split, the odd one after.
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + kernel - size, 0);
    return { out, padBefore: Math.floor(total / 2) };
  }
  const pad = padding === "valid" ? 0 : padding;
  if (size + 2 * pad < kernel) {
    throw new ShapeError(
      `${layer}: the input's ${what} is ${size}${pad ? ` (${size + 2 * pad} padded)` : ""}, ` +
        `smaller than the ${kernel}-wide window; expected a ${what} of at least ${
          kernel - 2 * pad
        } (or padding "same")`,
    );
  }
  return { out: Math.floor((size + 2 * pad - kernel) / stride) + 1, padBefore: pad };
}

/** The window geometry for an NHWC input shape. */
export function windowGeometry(
  layer: string,
  shape: readonly number[],
  kernel: [number, number],
  stride: [number, number],
  padding: Padding,
): WindowGeometry {
  const [batch, height, width, channels] = shape;
  const rows = axis(layer, "height", height, kernel[0], stride[0], padding);
  const cols = axis(layer, "width", width, kernel[1], stride[1], padding);
  return {
    batch,
    height,
    width,
    channels,
    kernelHeight: kernel[0],
    kernelWidth: kernel[1],
    strideHeight: stride[0],
    strideWidth: stride[1],
    padTop: rows.padBefore,
    padLeft: cols.padBefore,
    outHeight: rows.out,
    outWidth: cols.out,
  };
}

type WindowKernel = "im2col" | "col2im" | "maxPool" | "maxPoolBackward";

/** The backend's kernel, or an error naming the layer, the kernel and the backend. */
function kernelOf<K extends WindowKernel>(
  layer: string,
  backend: Backend,
  name: K,
): NonNullable<Backend[K]> {
  const kernel = backend[name];
  if (!kernel) {
    throw new Error(
      `${layer}: the ${backend.name} backend has no ${name} kernel yet; run this network ` +
        `on the cpu backend (--backend cpu)`,
    );
  }
  return kernel.bind(backend) as NonNullable<Backend[K]>;
}

/**
 * The input as NHWC: a rank-4 tensor as it is, or flat rows [N, H·W·C] read as
 * [N, H, W, C] when the layer knows the image size. Throws, naming the layer,
 * the dimension and what it expected.
 */
function asImages(
  layer: string,
  x: Tensor,
  channels: number | undefined,
  imageSize: [number, number] | undefined,
): Tensor {
  if (x.rank === 4) {
    if (channels !== undefined && x.shape[3] !== channels) {
      throw new ShapeError(
        `${layer}: expected ${channels} input channels (the last dimension of NHWC ` +
          `[batch, height, width, ${channels}]), got ${shapeString(x.shape)}`,
      );
    }
    return x;
  }
  if (x.rank === 2 && imageSize && channels !== undefined) {
    const [h, w] = imageSize;
    if (x.shape[1] !== h * w * channels) {
      throw new ShapeError(
        `${layer}: flat input rows must hold ${h}·${w}·${channels} = ${h * w * channels} ` +
          `values (an image [${h}, ${w}, ${channels}]), got ${shapeString(x.shape)}`,
      );
    }
    return reshape(x, [x.shape[0], h, w, channels]);
  }
  throw new ShapeError(
    `${layer}: expected images [batch, height, width, channels] (NHWC), got ` +
      `${shapeString(x.shape)}${
        x.rank === 2 ? "; for flat rows give the layer imageSize: [height, width]" : ""
      }`,
  );
}

/** Conv2d's settings. */
export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: Pair;
  /** "valid" (default), "same", or rows/columns of zeros on each side. */
  padding?: Padding;
  /** Read flat input rows [N, H·W·C] as images of this [height, width]. */
  imageSize?: readonly [number, number];
  /** How the kernel starts (default "he-normal", fan-in kH·kW·C). */
  weightInit?: Init;
  /** How the bias starts (default "zeros"). */
  biasInit?: Init;
  /** Where the initial values come from; a fixed seed by default. */
  random?: Random;
  /** Where the parameters live (default the CPU). */
  backend?: Backend;
  /** "float32" (default) for training, "float64" for gradcheck. */
  dtype?: DType;
}

/**
 * A 2-D convolution (cross-correlation, as every framework computes it) on NHWC images:
 * y[n, i, j, o] = b[o] + Σ_{ky, kx, c} x[n, i·s + ky − pad, j·s + kx − pad, c] W[(ky, kx, c), o].
 *
 * @example
 * ```ts
 * import { Conv2d, tensor } from "../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const conv = new Conv2d(1, 4, 3, { padding: "same", imageSize: [5, 5] });
 * const y = conv.forward(tensor(new Array(2 * 25).fill(1), [2, 25])); // flat rows
 * assert.deepEqual(y.shape, [2, 5, 5, 4]);
 * assert.throws(() => conv.forward(tensor(new Array(24).fill(1), [1, 24])), /5·5·1 = 25/);
 * ```
 */
export class Conv2d extends Layer {
  /** The kernel as a matrix, [kH·kW·inChannels, outChannels]. */
  readonly weight: Parameter;
  /** [outChannels]. */
  readonly bias: Parameter;
  /** [height, width] of the window. */
  readonly kernelSize: [number, number];
  /** [height, width] of the step. */
  readonly stride: [number, number];
  /** "valid", "same" (TensorFlow's rule) or rows and columns of zeros on each side. */
  readonly padding: Padding;
  /** [height, width] when the input comes as flat rows, e.g. [28, 28] for 784 pixels. */
  readonly imageSize?: [number, number];
  /** How the kernels were initialised. */
  readonly weightInit: Init;
  #cols: Tensor | null = null;
  #geometry: WindowGeometry | null = null;

  /**
   * A convolution with `outChannels` kernels of `kernelSize` over `inChannels` channels.
   *
   * @param inChannels channels of the input (1 for grey-scale)
   * @param outChannels channels of the output: the number of kernels
   * @param kernelSize the window, e.g. 3 or [3, 5]
   */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dOptions = {},
  ) {
    super("conv");
    for (const [what, value] of [["inChannels", inChannels], ["outChannels", outChannels]]) {
      if (!Number.isInteger(value) || (value as number) < 1) {
        throw new Error(`Conv2d: ${what} must be a positive integer, got ${JSON.stringify(value)}`);
      }
    }
    this.kernelSize = pairOf("Conv2d", "kernelSize", kernelSize);
    this.stride = pairOf("Conv2d", "stride", options.stride ?? 1);
    this.padding = options.padding ?? "valid";
    checkPadding("Conv2d", this.padding);
    if (options.imageSize) this.imageSize = pairOf("Conv2d", "imageSize", options.imageSize);
    const {
      weightInit = "he-normal",
      biasInit = "zeros",
      random = new Random(0),
      backend = cpu,
      dtype = "float32",
    } = options;
    this.weightInit = weightInit;
    const taps = this.kernelSize[0] * this.kernelSize[1];
    const fanIn = taps * inChannels, fanOut = taps * outChannels;
    const w = initValues(weightInit, fanIn * outChannels, fanIn, fanOut, random);
    const b = initValues(biasInit, outChannels, fanIn, fanOut, random);
    this.weight = {
      name: "weight",
      value: backend.fromValues(w, [fanIn, outChannels], dtype),
      grad: null,
    };
    this.bias = { name: "bias", value: backend.fromValues(b, [outChannels], dtype), grad: null };
  }

  /** cols = im2col(x);  y = cols W + b, read as [N, outH, outW, out] */
  forward(x: Tensor): Tensor {
    const images = asImages(this.name, x, this.inChannels, this.imageSize);
    const g = windowGeometry(this.name, images.shape, this.kernelSize, this.stride, this.padding);
    const cols = kernelOf(this.name, images.backend, "im2col")(images, g);
    this.input = x;
    this.#cols = cols;
    this.#geometry = g;
    const y = linear(cols, this.weight.value, this.bias.value);
    this.output = reshape(y, [g.batch, g.outHeight, g.outWidth, this.outChannels]);
    return this.output;
  }

  /** dW = colsᵀ dy,  db = Σ_positions dy,  dx = col2im(dy Wᵀ) */
  backward(dy: Tensor, needInputGradient = true): Tensor | null {
    const x = this.requireInput();
    this.checkGradient(dy, this.requireOutput());
    const g = this.#geometry!;
    const rows = reshape(dy, [g.batch * g.outHeight * g.outWidth, this.outChannels]);
    if (!this.frozen) {
      this.weight.grad = matmul(this.#cols!, rows, { transposeA: true });
      this.bias.grad = sum(rows, 0);
    }
    if (!needInputGradient) return null;
    const dcols = matmul(rows, this.weight.value, { transposeB: true });
    const dx = kernelOf(this.name, dcols.backend, "col2im")(dcols, g);
    return x.rank === 4 ? dx : reshape(dx, x.shape);
  }

  /** [weight, bias]. */
  override parameters(): Parameter[] {
    return [this.weight, this.bias];
  }

  /** e.g. "Conv2d(1 → 8, 3x3, stride 1, same, he-normal)". */
  override describe(): string {
    const [kh, kw] = this.kernelSize, [sh, sw] = this.stride;
    return `Conv2d(${this.inChannels} → ${this.outChannels}, ${kh}x${kw}, stride ${
      sh === sw ? sh : `${sh}x${sw}`
    }, ${this.padding}, ${initName(this.weightInit)})`;
  }
}

/** MaxPool2d's settings. */
export interface MaxPool2dOptions {
  /** Step between windows (default: the window size, so windows do not overlap). */
  stride?: Pair;
  /** "valid" (default), "same", or rows/columns on each side that never win. */
  padding?: Padding;
}

/**
 * The largest value in each window, per channel, on NHWC images.
 * Backward sends each output's gradient to the input that was the maximum (the
 * argmax mask). Ties: the first maximum in scan order (row by row, left to right)
 * takes all of it, as in PyTorch, so the gradient still sums to that of the output.
 *
 * @example
 * ```ts
 * import { MaxPool2d, tensor } from "../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new MaxPool2d(2);
 * const y = pool.forward(tensor([1, 5, 2, 2], [1, 2, 2, 1]));
 * assert.deepEqual(Array.from(await y.data()), [5]);
 * const dx = pool.backward(tensor([1], [1, 1, 1, 1]));
 * assert.deepEqual(Array.from(await dx!.data()), [0, 1, 0, 0]);
 * ```
 */
export class MaxPool2d extends Layer {
  /** [height, width] of the window. */
  readonly poolSize: [number, number];
  /** [height, width] of the step (the window by default). */
  readonly stride: [number, number];
  /** "valid", "same" or a number of padded rows and columns (padding never wins). */
  readonly padding: Padding;
  #argmax: Tensor | null = null;
  #geometry: WindowGeometry | null = null;

  /**
   * The largest value of each window.
   *
   * @param poolSize the window, e.g. 2 or [2, 3]
   */
  constructor(poolSize: Pair, options: MaxPool2dOptions = {}) {
    super("maxpool");
    this.poolSize = pairOf("MaxPool2d", "poolSize", poolSize);
    this.stride = pairOf("MaxPool2d", "stride", options.stride ?? this.poolSize);
    this.padding = options.padding ?? "valid";
    checkPadding("MaxPool2d", this.padding);
  }

  /** y[n, i, j, c] = max over the window of x[n, ·, ·, c]; remember where */
  forward(x: Tensor): Tensor {
    const images = asImages(this.name, x, undefined, undefined);
    const g = windowGeometry(this.name, images.shape, this.poolSize, this.stride, this.padding);
    const { output, argmax } = kernelOf(this.name, x.backend, "maxPool")(images, g);
    this.input = x;
    this.#argmax = argmax;
    this.#geometry = g;
    return (this.output = output);
  }

  /** dx[argmax of each window] += dy; zero elsewhere */
  backward(dy: Tensor, needInputGradient = true): Tensor | null {
    this.checkGradient(dy, this.requireOutput());
    if (!needInputGradient) return null;
    return kernelOf(this.name, dy.backend, "maxPoolBackward")(dy, this.#argmax!, this.#geometry!);
  }

  /** e.g. "MaxPool2d(2x2, stride 2, valid)". */
  override describe(): string {
    const [ph, pw] = this.poolSize, [sh, sw] = this.stride;
    return `MaxPool2d(${ph}x${pw}, stride ${sh === sw ? sh : `${sh}x${sw}`}, ${this.padding})`;
  }
}

/**
 * [batch, ...] to [batch, everything else], in NHWC order (channels fastest),
 * so that a Linear layer can follow a convolution.
 */
export class Flatten extends Layer {
  constructor() {
    super("flatten");
  }

  /** y = x read as [N, H·W·C] (a view: no copy) */
  forward(x: Tensor): Tensor {
    if (x.rank < 2) {
      throw new ShapeError(`${this.name}: expected [batch, ...], got ${shapeString(x.shape)}`);
    }
    this.input = x;
    return (this.output = reshape(x, [x.shape[0], x.size / x.shape[0]]));
  }

  /** dx = dy read as the input's shape */
  backward(dy: Tensor, needInputGradient = true): Tensor | null {
    const x = this.requireInput();
    this.checkGradient(dy, this.requireOutput());
    return needInputGradient ? reshape(dy, x.shape) : null;
  }
}
