/**
 * The CPU backend: typed arrays and plain loops. This is the reference the
 * WebGPU backend is tested against, so clarity comes first, except in matmul,
 * where nearly all of training's time goes.
 */
import { checkValuesFitShape, type DType, sizeOf, Tensor, type TypedArray } from "../tensor.ts";
import type {
  AdamHyper,
  Backend,
  BinaryOp,
  Reduction,
  UnaryOp,
  WindowGeometry,
} from "./backend.ts";

function arrayOf(dtype: DType, size: number): TypedArray {
  return dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
}

const values = (t: Tensor) => t.storage as TypedArray;

/** True when b is a column [rows, 1] to broadcast along the rows of a 2-D a. */
export function isColumn(a: Tensor, b: Tensor): boolean {
  return a.rank === 2 && b.rank === 2 && b.shape[1] === 1 && b.shape[0] === a.shape[0] &&
    a.shape[1] !== 1;
}

export class CpuBackend implements Backend {
  readonly name = "cpu" as const;
  readonly description = "JavaScript on the CPU";

  #make(data: TypedArray, shape: readonly number[], dtype: DType): Tensor {
    return new Tensor(this, data, [...shape], dtype);
  }

  fromValues(data: ArrayLike<number>, shape: readonly number[], dtype: DType): Tensor {
    checkValuesFitShape(data, shape);
    const out = arrayOf(dtype, sizeOf(shape));
    out.set(data);
    return this.#make(out, shape, dtype);
  }

  zeros(shape: readonly number[], dtype: DType): Tensor {
    return this.#make(arrayOf(dtype, sizeOf(shape)), shape, dtype);
  }

  read(t: Tensor): Promise<TypedArray> {
    return Promise.resolve(values(t).slice());
  }

  release(): void {}

  reshape(t: Tensor, shape: readonly number[]): Tensor {
    return new Tensor(this, values(t), [...shape], t.dtype, t);
  }

  flush(): void {}

  matmul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
    const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const n = transposeB ? b.shape[0] : b.shape[1];
    const out = arrayOf(a.dtype, m * n);
    // Element (i, p) of op(A) sits at i * aRow + p * aCol; likewise for B.
    const aRow = transposeA ? 1 : k, aCol = transposeA ? m : 1;
    const bRow = transposeB ? 1 : n, bCol = transposeB ? k : 1;
    matmulBlocked(values(a), values(b), out, m, k, n, aRow, aCol, bRow, bCol);
    return this.#make(out, [m, n], a.dtype);
  }

  unary(op: UnaryOp, x: Tensor, a: number, b: number): Tensor {
    const input = values(x);
    const out = arrayOf(x.dtype, input.length);
    const f = unaryFunctions[op];
    for (let i = 0; i < input.length; i++) out[i] = f(input[i], a, b);
    return this.#make(out, x.shape, x.dtype);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
    const left = values(a), right = values(b);
    const out = arrayOf(a.dtype, left.length);
    const f = binaryFunctions[op];
    if (right.length === left.length) {
      for (let i = 0; i < left.length; i++) out[i] = f(left[i], right[i]);
    } else if (isColumn(a, b)) {
      // b is [rows, 1]: one value per row, repeated along it.
      const cols = a.shape[1];
      for (let i = 0; i < left.length; i++) out[i] = f(left[i], right[Math.floor(i / cols)]);
    } else {
      // b is a row vector [cols], repeated down the rows, or a scalar [1].
      const period = right.length;
      for (let i = 0; i < left.length; i++) out[i] = f(left[i], right[i % period]);
    }
    return this.#make(out, a.shape, a.dtype);
  }

  reduceAll(op: Reduction, x: Tensor): Tensor {
    const input = values(x);
    let acc = op === "max" ? -Infinity : 0;
    if (op === "max") { for (let i = 0; i < input.length; i++) acc = Math.max(acc, input[i]); }
    else for (let i = 0; i < input.length; i++) acc += input[i];
    if (op === "mean") acc /= input.length;
    return this.fromValues([acc], [1], x.dtype);
  }

  reduceRows(op: Reduction, x: Tensor): Tensor {
    const [rows, cols] = x.shape;
    const input = values(x);
    // Accumulate in float64, like the other reductions, then store in the tensor's dtype.
    const totals = new Float64Array(cols);
    if (op === "max") totals.fill(-Infinity);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      if (op === "max") {
        for (let c = 0; c < cols; c++) totals[c] = Math.max(totals[c], input[base + c]);
      } else for (let c = 0; c < cols; c++) totals[c] += input[base + c];
    }
    if (op === "mean") { for (let c = 0; c < cols; c++) totals[c] /= rows; }
    const out = arrayOf(x.dtype, cols);
    out.set(totals);
    return this.#make(out, [cols], x.dtype);
  }

  reduceColumns(op: Reduction, x: Tensor): Tensor {
    const [rows, cols] = x.shape;
    const input = values(x);
    const out = arrayOf(x.dtype, rows);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let acc = op === "max" ? -Infinity : 0;
      if (op === "max") { for (let c = 0; c < cols; c++) acc = Math.max(acc, input[base + c]); }
      else for (let c = 0; c < cols; c++) acc += input[base + c];
      out[r] = op === "mean" ? acc / cols : acc;
    }
    return this.#make(out, [rows], x.dtype);
  }

  argmaxRows(x: Tensor): Tensor {
    const [rows, cols] = x.shape;
    const input = values(x);
    const out = arrayOf(x.dtype, rows);
    for (let r = 0; r < rows; r++) {
      let best = 0;
      // Strict ">" keeps the first maximum: a row of equal values predicts class 0.
      for (let c = 1; c < cols; c++) if (input[r * cols + c] > input[r * cols + best]) best = c;
      out[r] = best;
    }
    return this.#make(out, [rows], x.dtype);
  }

  softmax(x: Tensor): Tensor {
    const [rows, cols] = x.shape;
    const input = values(x);
    const out = arrayOf(x.dtype, input.length);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, input[base + c]);
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        out[base + c] = Math.exp(input[base + c] - max);
        sum += out[base + c];
      }
      for (let c = 0; c < cols; c++) out[base + c] /= sum;
    }
    return this.#make(out, x.shape, x.dtype);
  }

  logSoftmax(x: Tensor): Tensor {
    const [rows, cols] = x.shape;
    const input = values(x);
    const out = arrayOf(x.dtype, input.length);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, input[base + c]);
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += Math.exp(input[base + c] - max);
      // (x − max) − log Σ, not x − (max + log Σ): the latter loses x's digits when max is huge.
      const logSum = Math.log(sum);
      for (let c = 0; c < cols; c++) out[base + c] = (input[base + c] - max) - logSum;
    }
    return this.#make(out, x.shape, x.dtype);
  }

  pickColumns(x: Tensor, labels: Tensor): Tensor {
    const [rows, cols] = x.shape;
    const input = values(x), label = values(labels);
    checkClassIndices("pickColumns", label, cols);
    const out = arrayOf(x.dtype, rows);
    for (let r = 0; r < rows; r++) out[r] = input[r * cols + label[r]];
    return this.#make(out, [rows], x.dtype);
  }

  oneHot(labels: Tensor, classes: number, dtype: DType): Tensor {
    const label = values(labels);
    checkClassIndices("oneHot", label, classes);
    const out = arrayOf(dtype, label.length * classes);
    for (let r = 0; r < label.length; r++) out[r * classes + label[r]] = 1;
    return this.#make(out, [label.length, classes], dtype);
  }

  gatherRows(x: Tensor, indices: Tensor): Tensor {
    const cols = x.size / x.shape[0];
    const input = values(x), index = values(indices);
    const out = arrayOf(x.dtype, index.length * cols);
    for (let r = 0; r < index.length; r++) {
      out.set(input.subarray(index[r] * cols, (index[r] + 1) * cols), r * cols);
    }
    return this.#make(out, [index.length, ...x.shape.slice(1)], x.dtype);
  }

  sliceColumns(x: Tensor, start: number, count: number): Tensor {
    const [rows, cols] = x.shape;
    const input = values(x);
    const out = arrayOf(x.dtype, rows * count);
    for (let r = 0; r < rows; r++) {
      out.set(input.subarray(r * cols + start, r * cols + start + count), r * count);
    }
    return this.#make(out, [rows, count], x.dtype);
  }

  sgdUpdate(param: Tensor, grad: Tensor, learningRate: number, weightDecay: number): void {
    const p = values(param), g = values(grad);
    for (let i = 0; i < p.length; i++) p[i] -= learningRate * (g[i] + weightDecay * p[i]);
  }

  momentumUpdate(
    param: Tensor,
    velocity: Tensor,
    grad: Tensor,
    learningRate: number,
    momentum: number,
    weightDecay: number,
  ): void {
    const p = values(param), v = values(velocity), g = values(grad);
    for (let i = 0; i < p.length; i++) {
      v[i] = momentum * v[i] + g[i] + weightDecay * p[i];
      p[i] -= learningRate * v[i];
    }
  }

  adamUpdate(param: Tensor, m: Tensor, v: Tensor, grad: Tensor, hyper: AdamHyper): void {
    const p = values(param), mean = values(m), variance = values(v), g = values(grad);
    const { learningRate, beta1, beta2, epsilon, weightDecay, step } = hyper;
    const correction1 = 1 - beta1 ** step, correction2 = 1 - beta2 ** step;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + weightDecay * p[i];
      mean[i] = beta1 * mean[i] + (1 - beta1) * gi;
      variance[i] = beta2 * variance[i] + (1 - beta2) * gi * gi;
      const mHat = mean[i] / correction1, vHat = variance[i] / correction2;
      p[i] -= learningRate * mHat / (Math.sqrt(vHat) + epsilon);
    }
  }

  addInPlace(target: Tensor, source: Tensor): void {
    const t = values(target), s = values(source);
    for (let i = 0; i < t.length; i++) t[i] += s[i];
  }

  assign(target: Tensor, source: Tensor): void {
    values(target).set(values(source));
  }

  // Convolution and pooling, NHWC. Patch row r = (n, oy, ox); column (ky, kx, c).

  im2col(x: Tensor, g: WindowGeometry): Tensor {
    const input = values(x);
    const patch = g.kernelHeight * g.kernelWidth * g.channels;
    const out = arrayOf(x.dtype, g.batch * g.outHeight * g.outWidth * patch);
    forEachWindowRun(g, (o, i, length) => {
      for (let t = 0; t < length; t++) out[o + t] = input[i + t];
    });
    return this.#make(out, [g.batch * g.outHeight * g.outWidth, patch], x.dtype);
  }

  col2im(cols: Tensor, g: WindowGeometry): Tensor {
    const patches = values(cols);
    const out = arrayOf(cols.dtype, g.batch * g.height * g.width * g.channels);
    // Overlapping windows read the same pixel: their gradients add up.
    forEachWindowRun(g, (o, i, length) => {
      for (let t = 0; t < length; t++) out[i + t] += patches[o + t];
    });
    return this.#make(out, [g.batch, g.height, g.width, g.channels], cols.dtype);
  }

  maxPool(x: Tensor, g: WindowGeometry): { output: Tensor; argmax: Tensor } {
    const input = values(x);
    const { channels: C, height: H, width: W } = g;
    const size = g.batch * g.outHeight * g.outWidth * C;
    const out = arrayOf(x.dtype, size), argmax = arrayOf(x.dtype, size);
    for (let n = 0, o = 0; n < g.batch; n++) {
      for (let oy = 0; oy < g.outHeight; oy++) {
        // The window's rows and columns that are inside the image (padding never wins).
        const y0 = oy * g.strideHeight - g.padTop;
        const ky0 = Math.max(0, -y0), ky1 = Math.min(g.kernelHeight, H - y0);
        for (let ox = 0; ox < g.outWidth; ox++) {
          const x0 = ox * g.strideWidth - g.padLeft;
          const kx0 = Math.max(0, -x0), kx1 = Math.min(g.kernelWidth, W - x0);
          for (let c = 0; c < C; c++, o++) {
            // Ties: the first maximum in scan order (row by row) wins.
            let best = -Infinity, at = -1;
            for (let ky = ky0; ky < ky1; ky++) {
              const row = ((n * H + y0 + ky) * W + x0) * C + c;
              for (let kx = kx0; kx < kx1; kx++) {
                const i = row + kx * C;
                const v = input[i];
                // A NaN wins too (and keeps winning), so the pool does not hide it.
                if (at < 0 || v > best || (v !== v && best === best)) {
                  best = v;
                  at = i;
                }
              }
            }
            out[o] = best;
            argmax[o] = at;
          }
        }
      }
    }
    const shape = [g.batch, g.outHeight, g.outWidth, C];
    return { output: this.#make(out, shape, x.dtype), argmax: this.#make(argmax, shape, x.dtype) };
  }

  maxPoolBackward(dy: Tensor, argmax: Tensor, g: WindowGeometry): Tensor {
    const upstream = values(dy), at = values(argmax);
    const out = arrayOf(dy.dtype, g.batch * g.height * g.width * g.channels);
    for (let o = 0; o < upstream.length; o++) out[at[o]] += upstream[o];
    return this.#make(out, [g.batch, g.height, g.width, g.channels], dy.dtype);
  }
}

/**
 * Call visit(patchIndex, inputIndex, length) for every run of window taps that lands inside the
 * image, in the order of the patch matrix: the taps of one kernel row that are inside the image
 * are `length` consecutive values in the input (NHWC) and in the patch row alike. Taps on the
 * padding are skipped (they read 0).
 */
function forEachWindowRun(
  g: WindowGeometry,
  visit: (o: number, i: number, length: number) => void,
): void {
  const { channels: C, kernelHeight: KH, kernelWidth: KW, height: H, width: W } = g;
  const patch = KH * KW * C;
  for (let n = 0, row = 0; n < g.batch; n++) {
    for (let oy = 0; oy < g.outHeight; oy++) {
      for (let ox = 0; ox < g.outWidth; ox++, row++) {
        const x0 = ox * g.strideWidth - g.padLeft;
        const kx0 = Math.max(0, -x0), kx1 = Math.min(KW, W - x0);
        if (kx1 <= kx0) continue;
        for (let ky = 0; ky < KH; ky++) {
          const y = oy * g.strideHeight - g.padTop + ky;
          if (y < 0 || y >= H) continue;
          visit(
            row * patch + (ky * KW + kx0) * C,
            ((n * H + y) * W + x0 + kx0) * C,
            (kx1 - kx0) * C,
          );
        }
      }
    }
  }
}

/**
 * A class index outside [0, classes) would read or write a neighbouring row.
 * The CPU can check cheaply; the WebGPU kernels cannot see values without a
 * read-back, so there the training loop's dataset check is what stands guard.
 */
function checkClassIndices(op: string, labels: TypedArray, classes: number): void {
  for (let r = 0; r < labels.length; r++) {
    const label = labels[r];
    if (!(Number.isInteger(label) && label >= 0 && label < classes)) {
      throw new Error(
        `${op}: row ${r} has class index ${label}; class indices are whole numbers 0..${
          classes - 1
        }`,
      );
    }
  }
}

const unaryFunctions: Record<UnaryOp, (x: number, a: number, b: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  square: (x) => x * x,
  abs: Math.abs,
  scale: (x, a) => x * a,
  addScalar: (x, a) => x + a,
  clip: (x, a, b) => Math.min(Math.max(x, a), b),
  // NaN passes through (NaN > 0 is false): a ReLU must not hide a NaN from the non-finite check.
  relu: (x) => (x > 0 || x !== x ? x : 0),
  leakyRelu: (x, a) => (x > 0 ? x : a * x),
  // Written so that exp never overflows: for x < 0 use e^x / (1 + e^x).
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  tanh: Math.tanh,
  step: (x) => (x !== x ? x : x > 0 ? 1 : 0),
  leakyStep: (x, a) => (x !== x ? x : x > 0 ? 1 : a),
  isNonFinite: (x) => (Number.isFinite(x) ? 0 : 1),
};

const binaryFunctions: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  equal: (a, b) => (a === b ? 1 : 0),
  greater: (a, b) => (a > b ? 1 : 0),
  maximum: (a, b) => Math.max(a, b),
};

/**
 * C = op(A) op(B), with op(A) m x k and op(B) k x n given by strides.
 *
 * Register blocking: each pass computes a 4 x 4 block of C in 16 local
 * variables, so every value loaded from A or B is used four times; k runs
 * innermost. First, op(A) is copied into panels of 4 rows and op(B) into panels
 * of 4 columns, interleaved so that the inner loop reads both contiguously
 * whatever the transposes (this packing is O(mk + kn), the product O(mkn)).
 * Edges that do not fill a block fall back to a plain dot product.
 */
function matmulBlocked(
  a: TypedArray,
  b: TypedArray,
  c: TypedArray,
  m: number,
  k: number,
  n: number,
  aRow: number,
  aCol: number,
  bRow: number,
  bCol: number,
): void {
  const m4 = m - (m % 4), n4 = n - (n % 4);
  const aPanels = packPanels(a, m4, k, aRow, aCol);
  const bPanels = packPanels(b, n4, k, bCol, bRow);
  for (let i = 0; i < m4; i += 4) {
    const aStart = i * k;
    for (let j = 0; j < n4; j += 4) {
      const bStart = j * k;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let p = 0, ap = aStart, bp = bStart; p < k; p++, ap += 4, bp += 4) {
        const x0 = aPanels[ap], x1 = aPanels[ap + 1], x2 = aPanels[ap + 2], x3 = aPanels[ap + 3];
        const y0 = bPanels[bp], y1 = bPanels[bp + 1], y2 = bPanels[bp + 2], y3 = bPanels[bp + 3];
        c00 += x0 * y0, c01 += x0 * y1, c02 += x0 * y2, c03 += x0 * y3;
        c10 += x1 * y0, c11 += x1 * y1, c12 += x1 * y2, c13 += x1 * y3;
        c20 += x2 * y0, c21 += x2 * y1, c22 += x2 * y2, c23 += x2 * y3;
        c30 += x3 * y0, c31 += x3 * y1, c32 += x3 * y2, c33 += x3 * y3;
      }
      let o = i * n + j;
      c[o] = c00, c[o + 1] = c01, c[o + 2] = c02, c[o + 3] = c03;
      o += n;
      c[o] = c10, c[o + 1] = c11, c[o + 2] = c12, c[o + 3] = c13;
      o += n;
      c[o] = c20, c[o + 1] = c21, c[o + 2] = c22, c[o + 3] = c23;
      o += n;
      c[o] = c30, c[o + 1] = c31, c[o + 2] = c32, c[o + 3] = c33;
    }
  }
  // The ragged right edge (all rows) and bottom edge (full-width columns).
  for (let i = 0; i < m; i++) {
    for (let j = i < m4 ? n4 : 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[i * aRow + p * aCol] * b[p * bRow + j * bCol];
      c[i * n + j] = sum;
    }
  }
}

/**
 * Copy rows 0..rows-1 (rows a multiple of 4) of a strided matrix into panels:
 * panel q holds rows 4q..4q+3, interleaved as [r0[p], r1[p], r2[p], r3[p]] for each p.
 * Float64 panels hold float32 inputs exactly, and the products are the same;
 * one panel type keeps the inner loop monomorphic (fast) for both dtypes.
 */
function packPanels(
  x: TypedArray,
  rows: number,
  k: number,
  rowStride: number,
  colStride: number,
): Float64Array {
  const panels = new Float64Array(rows * k);
  for (let i = 0; i < rows; i += 4) {
    let o = i * k;
    for (let p = 0; p < k; p++) {
      const base = p * colStride + i * rowStride;
      panels[o++] = x[base];
      panels[o++] = x[base + rowStride];
      panels[o++] = x[base + 2 * rowStride];
      panels[o++] = x[base + 3 * rowStride];
    }
  }
  return panels;
}
