/**
 * The fast CPU backend: tensors live in one WebAssembly memory, and the work
 * is done by SIMD kernels emitted from TypeScript (kernels.ts).
 *
 * float32 matmul (with the linear layer's bias), the element-wise ops that
 * SIMD computes exactly, the reductions down the columns (bias gradients) and
 * the optimiser updates run in WebAssembly; gather and slices are copies
 * within the memory. The rest (exp, log, sigmoid, tanh, the softmax family,
 * the other reductions, argmax, im2col, col2im and pooling, and every op on
 * float64 but the matmul (gradient checks, Chapter 5's float64 runs) run the
 * CPU reference's own loops on typed-array views of the same memory: no input
 * is copied, and those ops match the reference exactly. Their cost is small
 * at the MLP's shapes (the softmax works on [128, 10]).
 */
import { CpuBackend, isColumn } from "../cpu.ts";
import type {
  AdamHyper,
  Backend,
  BinaryOp,
  Reduction,
  UnaryOp,
  WindowGeometry,
} from "../backend.ts";
import { checkValuesFitShape, type DType, sizeOf, Tensor, type TypedArray } from "../../tensor.ts";
import { Allocator } from "./allocator.ts";
import {
  instantiate,
  type Kernels,
  MEMORY,
  moduleBytes,
  relaxedSimdAvailable,
  SCRATCH_BYTES,
} from "./module.ts";
import { TILE_COLUMNS, TILE_ROWS, unaryBodies } from "./kernels.ts";
import { MAIN_SCRATCH, MatmulThreads } from "./threads.ts";

/** Where a tensor's values are: a block of the module's memory. */
export interface WasmStorage {
  readonly offset: number;
  readonly bytes: number;
}

const storageOf = (t: Tensor) => t.storage as WasmStorage;
const bytesPerElement = (dtype: DType) => (dtype === "float64" ? 8 : 4);

/**
 * The matmul's depth is cut into blocks so that B's packed panels for one block
 * (depth x n floats) stay within about half of the 1 MiB L2 cache.
 */
const PACKED_B_BYTES_TARGET = 512 * 1024;

export interface WasmBackendOptions {
  /** Use the relaxed-SIMD fused multiply-add when the engine has it (default: detect). */
  relaxed?: boolean;
  /** 1, or 2 for a worker thread sharing the matmuls (default 1). */
  threads?: 1 | 2;
  /**
   * Smallest matmul, in multiply-adds (m n k), that is split between the two
   * threads; smaller ones stay on the calling thread, where they are cheaper
   * than the hand-over.
   */
  threadMinimumWork?: number;
}

/** Below about a million multiply-adds (the MLP's 10-wide layer), a second thread does not pay. */
export const THREAD_MINIMUM_WORK = 1 << 20;

export class WasmBackend implements Backend {
  readonly name = "wasm" as const;
  readonly description: string;
  readonly relaxed: boolean;
  readonly threads: 1 | 2;
  readonly threadMinimumWork: number;
  readonly memory: WebAssembly.Memory;
  readonly #matmulThreads: MatmulThreads | null;
  readonly #kernels: Kernels;
  readonly #allocator: Allocator;
  /** The reference, run on views of this memory for the ops kept in TypeScript. */
  readonly #reference = new CpuBackend();
  /**
   * Frees the block of a tensor that was dropped without being disposed (a
   * dataset uploaded by train() and then forgotten, say): on the CPU the
   * garbage collector would have taken its array, so here it takes the block.
   */
  readonly #unreachable = new FinalizationRegistry<WasmStorage>((block) =>
    this.#allocator.free(block)
  );
  #buffer: ArrayBufferLike | null = null;
  #f32: Float32Array<ArrayBufferLike> = new Float32Array(0);
  #f64: Float64Array<ArrayBufferLike> = new Float64Array(0);

  constructor(options: WasmBackendOptions = {}) {
    this.relaxed = options.relaxed ?? relaxedSimdAvailable();
    this.threads = options.threads ?? 1;
    this.threadMinimumWork = options.threadMinimumWork ?? THREAD_MINIMUM_WORK;
    const shared = this.threads > 1;
    this.memory = new WebAssembly.Memory({
      initial: MEMORY.initialPages,
      maximum: MEMORY.maximumPages,
      shared,
    });
    const bytes = moduleBytes({ relaxed: this.relaxed, shared });
    this.#kernels = instantiate(bytes, this.memory);
    this.#matmulThreads = shared ? new MatmulThreads(this.memory, bytes, this.#kernels) : null;
    this.#allocator = new Allocator(this.memory, SCRATCH_BYTES);
    this.description = `WebAssembly SIMD on the CPU, ${this.threads} thread${
      this.threads > 1 ? "s" : ""
    }${this.relaxed ? ", fused multiply-add" : ""}`;
  }

  /** Stop the worker thread now, if there is one (it also closes by itself when idle). */
  stopThreads(): void {
    this.#matmulThreads?.stop();
  }

  /** Bytes in live tensors (and matmul scratch), and the top of the heap. */
  stats(): { bytesInUse: number; top: number } {
    return this.#allocator.stats();
  }

  // Views ------------------------------------------------------------------------

  /** Typed-array views of the whole memory, remade when the memory has grown. */
  #views(): void {
    if (this.#buffer !== this.memory.buffer) {
      const buffer = this.#buffer = this.memory.buffer;
      this.#f32 = new Float32Array(buffer);
      this.#f64 = new Float64Array(buffer);
    }
  }

  /** The tensor's values as a typed array over this memory (valid until the next allocation). */
  view(t: Tensor): TypedArray {
    this.#views();
    const { offset } = storageOf(t);
    return t.dtype === "float64"
      ? this.#f64.subarray(offset / 8, offset / 8 + t.size)
      : this.#f32.subarray(offset / 4, offset / 4 + t.size);
  }

  #allocate(shape: readonly number[], dtype: DType): Tensor {
    const block = this.#allocator.allocate(sizeOf(shape) * bytesPerElement(dtype));
    const tensor = new Tensor(this, block, [...shape], dtype);
    this.#unreachable.register(tensor, block, tensor);
    return tensor;
  }

  /** A CPU tensor whose storage is a view of `t`'s values: the reference reads it in place. */
  #asReference(t: Tensor): Tensor {
    return new Tensor(this.#reference, this.view(t), t.shape, t.dtype);
  }

  /** Copy a reference result into this memory. */
  #fromReference(result: Tensor): Tensor {
    const out = this.#allocate(result.shape, result.dtype);
    this.view(out).set(result.storage as TypedArray);
    return out;
  }

  // Memory -----------------------------------------------------------------------

  fromValues(values: ArrayLike<number>, shape: readonly number[], dtype: DType): Tensor {
    checkValuesFitShape(values, shape);
    const out = this.#allocate(shape, dtype);
    this.view(out).set(values);
    return out;
  }

  zeros(shape: readonly number[], dtype: DType): Tensor {
    const out = this.#allocate(shape, dtype);
    this.view(out).fill(0);
    return out;
  }

  read(t: Tensor): Promise<TypedArray> {
    return Promise.resolve(this.view(t).slice());
  }

  release(t: Tensor): void {
    this.#unreachable.unregister(t);
    this.#allocator.free(storageOf(t));
  }

  reshape(t: Tensor, shape: readonly number[]): Tensor {
    return new Tensor(this, t.storage, [...shape], t.dtype, t);
  }

  flush(): void {}

  // Linear algebra -------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
    if (a.dtype === "float64") return this.#matmulF64(a, b, transposeA, transposeB);
    if (a.dtype !== "float32") {
      return this.#fromReference(
        this.#reference.matmul(this.#asReference(a), this.#asReference(b), transposeA, transposeB),
      );
    }
    return this.#matmul(a, b, transposeA, transposeB, null);
  }

  /**
   * float64: panels packed here (zero-padded to whole 4 x 4 tiles), the tile loop in wasm
   * (`tilesF64Kernel`: multiply then add, in depth order, as the reference rounds), and the valid
   * part of the padded product copied out. The values are the reference's to the bit.
   */
  #matmulF64(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
    const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const n = transposeB ? b.shape[0] : b.shape[1];
    const out = this.#allocate([m, n], "float64");
    if (k === 0 || m === 0 || n === 0) {
      this.view(out).fill(0);
      return out;
    }
    const aRow = transposeA ? 1 : k, aCol = transposeA ? m : 1;
    const bRow = transposeB ? 1 : n, bCol = transposeB ? k : 1;
    const mPadded = Math.ceil(m / 4) * 4, nPadded = Math.ceil(n / 4) * 4;
    const packedA = this.#allocator.allocate(mPadded * k * 8);
    const packedB = this.#allocator.allocate(nPadded * k * 8);
    const product = this.#allocator.allocate(mPadded * nPadded * 8);
    const left = this.view(a), right = this.view(b), all = this.#f64; // views after allocating
    // Panel q of A holds rows 4q..4q+3 side by side for each depth; B's panels likewise hold columns.
    const pack = (
      from: Float64Array | Float32Array,
      into: number,
      count: number,
      padded: number,
      stride: number, // between rows of A (columns of B)
      step: number, // between depths
    ) => {
      const panels = all.subarray(into / 8, into / 8 + padded * k);
      for (let index = 0; index < padded; index++) {
        const start = (index >> 2) * 4 * k + (index & 3);
        if (index >= count) {
          for (let p = 0; p < k; p++) panels[start + 4 * p] = 0;
          continue;
        }
        for (let p = 0, source = index * stride; p < k; p++, source += step) {
          panels[start + 4 * p] = from[source];
        }
      }
    };
    pack(left, packedA.offset, m, mPadded, aRow, aCol);
    pack(right, packedB.offset, n, nPadded, bCol, bRow);
    this.#kernels.tiles_f64(packedA.offset, packedB.offset, product.offset, mPadded, nPadded, k);
    const values = this.view(out), first = product.offset / 8;
    for (let i = 0; i < m; i++) {
      values.set(all.subarray(first + i * nPadded, first + i * nPadded + n), i * n);
    }
    this.#allocator.free(packedA);
    this.#allocator.free(packedB);
    this.#allocator.free(product);
    return out;
  }

  /** x w + bias with the bias added in the matmul's epilogue: no second pass over the output. */
  linear(x: Tensor, w: Tensor, bias: Tensor): Tensor {
    if (x.dtype !== "float32") {
      const product = this.matmul(x, w, false, false);
      const out = this.binary("add", product, bias);
      product.dispose();
      return out;
    }
    return this.#matmul(x, w, false, false, bias);
  }

  #matmul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean, bias: Tensor | null) {
    const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const n = transposeB ? b.shape[0] : b.shape[1];
    const out = this.#allocate([m, n], "float32");
    if (k === 0 || m === 0 || n === 0) {
      const values = this.view(out);
      if (bias) { for (let i = 0; i < m; i++) values.set(this.view(bias), i * n); }
      else values.fill(0);
      return out;
    }
    // Element (i, p) of op(A) sits at i * aRow + p * aCol; (p, j) of op(B) at p * bRow + j * bCol.
    const aRow = transposeA ? 1 : k, aCol = transposeA ? m : 1;
    const bRow = transposeB ? 1 : n, bCol = transposeB ? k : 1;
    // The packed panels are whole tiles: rows of A in fours, columns of B in eights.
    const mPadded = Math.ceil(m / TILE_ROWS) * TILE_ROWS;
    const nPadded = Math.ceil(n / TILE_COLUMNS) * TILE_COLUMNS;
    const blocks = Math.max(1, Math.ceil((k * nPadded * 4) / PACKED_B_BYTES_TARGET));
    const depthBlock = Math.ceil(k / blocks);
    const packedA = this.#allocator.allocate(mPadded * depthBlock * 4);
    const packedB = this.#allocator.allocate(nPadded * depthBlock * 4);
    const kernels = this.#kernels;
    const aStart = storageOf(a).offset, bStart = storageOf(b).offset, c = storageOf(out).offset;
    for (let p0 = 0; p0 < k; p0 += depthBlock) {
      const depth = Math.min(depthBlock, k - p0);
      kernels.pack4(aStart + 4 * p0 * aCol, packedA.offset, m, depth, aRow, aCol);
      kernels.pack8(bStart + 4 * p0 * bRow, packedB.offset, n, depth, bCol, bRow);
      const accumulate = p0 > 0 ? 1 : 0;
      // The bias goes in with the last depth block, after the whole sum.
      const biasOffset = bias && p0 + depth === k ? storageOf(bias).offset : 0;
      const [pa, pb] = [packedA.offset, packedB.offset];
      if (this.#matmulThreads && m * n * depth >= this.threadMinimumWork) {
        this.#matmulThreads.tiles(pa, pb, c, m, n, depth, accumulate, biasOffset);
      } else {
        kernels.tiles(pa, pb, c, m, n, depth, accumulate, MAIN_SCRATCH, 0, m, biasOffset);
      }
    }
    this.#allocator.free(packedA);
    this.#allocator.free(packedB);
    return out;
  }

  // Element-wise -------------------------------------------------------------------

  unary(op: UnaryOp, x: Tensor, a: number, b: number): Tensor {
    if (x.dtype !== "float32" || !(op in unaryBodies)) {
      return this.#fromReference(this.#reference.unary(op, this.#asReference(x), a, b));
    }
    const out = this.#allocate(x.shape, "float32");
    this.#kernels[`unary_${op}`](storageOf(x).offset, storageOf(out).offset, x.size, a, b);
    return out;
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
    if (a.dtype !== "float32") {
      return this.#fromReference(
        this.#reference.binary(op, this.#asReference(a), this.#asReference(b)),
      );
    }
    const out = this.#allocate(a.shape, "float32");
    const [pa, pb, po] = [storageOf(a).offset, storageOf(b).offset, storageOf(out).offset];
    // The same forms as the reference: same size, a column [rows, 1], a scalar, a row.
    if (b.size === a.size) this.#kernels[`binary_${op}_same`](pa, pb, po, a.size);
    else if (isColumn(a, b)) {
      this.#kernels[`binary_${op}_column`](pa, pb, po, a.shape[0], a.shape[1]);
    } else if (b.size === 1) this.#kernels[`binary_${op}_scalar`](pa, pb, po, a.size);
    else this.#kernels[`binary_${op}_row`](pa, pb, po, a.size / b.size, b.size);
    return out;
  }

  // Reductions and the softmax family: the reference's loops on views ------------------

  reduceAll(op: Reduction, x: Tensor): Tensor {
    return this.#fromReference(this.#reference.reduceAll(op, this.#asReference(x)));
  }
  reduceRows(op: Reduction, x: Tensor): Tensor {
    if (x.dtype !== "float32") {
      return this.#fromReference(this.#reference.reduceRows(op, this.#asReference(x)));
    }
    const [rows, cols] = x.shape;
    const out = this.#allocate([cols], "float32");
    this.#kernels[`reduceRows_${op}`](storageOf(x).offset, storageOf(out).offset, rows, cols);
    return out;
  }
  reduceColumns(op: Reduction, x: Tensor): Tensor {
    return this.#fromReference(this.#reference.reduceColumns(op, this.#asReference(x)));
  }
  argmaxRows(x: Tensor): Tensor {
    return this.#fromReference(this.#reference.argmaxRows(this.#asReference(x)));
  }
  softmax(x: Tensor): Tensor {
    return this.#fromReference(this.#reference.softmax(this.#asReference(x)));
  }
  logSoftmax(x: Tensor): Tensor {
    return this.#fromReference(this.#reference.logSoftmax(this.#asReference(x)));
  }
  pickColumns(x: Tensor, labels: Tensor): Tensor {
    return this.#fromReference(
      this.#reference.pickColumns(this.#asReference(x), this.#asReference(labels)),
    );
  }
  oneHot(labels: Tensor, classes: number, dtype: DType): Tensor {
    return this.#fromReference(this.#reference.oneHot(this.#asReference(labels), classes, dtype));
  }

  // Data movement: copies within the memory ---------------------------------------------

  gatherRows(x: Tensor, indices: Tensor): Tensor {
    const cols = x.shape[0] === 0 ? 0 : x.size / x.shape[0];
    const count = indices.size;
    const out = this.#allocate([count, ...x.shape.slice(1)], x.dtype);
    const all = (this.view(x), x.dtype === "float64" ? this.#f64 : this.#f32);
    const index = this.view(indices);
    const width = bytesPerElement(x.dtype);
    const from = storageOf(x).offset / width, to = storageOf(out).offset / width;
    if (cols < 16) {
      // Labels and other narrow rows: a plain loop, since a copyWithin call per value costs
      // more than the value.
      for (let r = 0; r < count; r++) {
        const start = from + index[r] * cols;
        for (let c = 0; c < cols; c++) all[to + r * cols + c] = all[start + c];
      }
      return out;
    }
    for (let r = 0; r < count; r++) {
      const start = from + index[r] * cols;
      all.copyWithin(to + r * cols, start, start + cols);
    }
    return out;
  }

  sliceColumns(x: Tensor, start: number, count: number): Tensor {
    const [rows, cols] = x.shape;
    const out = this.#allocate([rows, count], x.dtype);
    const all = (this.view(x), x.dtype === "float64" ? this.#f64 : this.#f32);
    const width = bytesPerElement(x.dtype);
    const from = storageOf(x).offset / width, to = storageOf(out).offset / width;
    for (let r = 0; r < rows; r++) {
      all.copyWithin(to + r * count, from + r * cols + start, from + r * cols + start + count);
    }
    return out;
  }

  // Optimiser updates, in place ---------------------------------------------------------

  sgdUpdate(param: Tensor, grad: Tensor, learningRate: number, weightDecay: number): void {
    if (param.dtype !== "float32") {
      return this.#reference.sgdUpdate(
        this.#asReference(param),
        this.#asReference(grad),
        learningRate,
        weightDecay,
      );
    }
    this.#kernels.sgd(
      storageOf(param).offset,
      storageOf(grad).offset,
      param.size,
      learningRate,
      weightDecay,
    );
  }

  momentumUpdate(
    param: Tensor,
    velocity: Tensor,
    grad: Tensor,
    learningRate: number,
    momentum: number,
    weightDecay: number,
  ): void {
    if (param.dtype !== "float32") {
      return this.#reference.momentumUpdate(
        this.#asReference(param),
        this.#asReference(velocity),
        this.#asReference(grad),
        learningRate,
        momentum,
        weightDecay,
      );
    }
    this.#kernels.momentum(
      storageOf(param).offset,
      storageOf(velocity).offset,
      storageOf(grad).offset,
      param.size,
      learningRate,
      momentum,
      weightDecay,
    );
  }

  adamUpdate(param: Tensor, m: Tensor, v: Tensor, grad: Tensor, hyper: AdamHyper): void {
    if (param.dtype !== "float32") {
      return this.#reference.adamUpdate(
        this.#asReference(param),
        this.#asReference(m),
        this.#asReference(v),
        this.#asReference(grad),
        hyper,
      );
    }
    const { learningRate, beta1, beta2, epsilon, weightDecay, step } = hyper;
    this.#kernels.adam(
      storageOf(param).offset,
      storageOf(m).offset,
      storageOf(v).offset,
      storageOf(grad).offset,
      param.size,
      learningRate,
      beta1,
      beta2,
      epsilon,
      weightDecay,
      1 - beta1 ** step,
      1 - beta2 ** step,
    );
  }

  addInPlace(target: Tensor, source: Tensor): void {
    if (target.dtype !== "float32") {
      return this.#reference.addInPlace(this.#asReference(target), this.#asReference(source));
    }
    const t = storageOf(target).offset;
    this.#kernels.binary_add_same(t, storageOf(source).offset, t, target.size);
  }

  assign(target: Tensor, source: Tensor): void {
    this.view(target).set(this.view(source));
  }

  // Convolution and pooling: the reference's loops on views ---------------------------------

  im2col(x: Tensor, g: WindowGeometry): Tensor {
    return this.#fromReference(this.#reference.im2col(this.#asReference(x), g));
  }

  col2im(cols: Tensor, g: WindowGeometry): Tensor {
    return this.#fromReference(this.#reference.col2im(this.#asReference(cols), g));
  }

  maxPool(x: Tensor, g: WindowGeometry): { output: Tensor; argmax: Tensor } {
    const { output, argmax } = this.#reference.maxPool(this.#asReference(x), g);
    return { output: this.#fromReference(output), argmax: this.#fromReference(argmax) };
  }

  maxPoolBackward(dy: Tensor, argmax: Tensor, g: WindowGeometry): Tensor {
    return this.#fromReference(
      this.#reference.maxPoolBackward(this.#asReference(dy), this.#asReference(argmax), g),
    );
  }
}
