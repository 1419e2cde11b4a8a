/**
 * The WebGPU backend: tensors live in GPU buffers, kernels are WGSL compute
 * shaders, and nothing comes back to JavaScript unless read.
 *
 * Every kernel is recorded into one command encoder (inside one compute pass
 * where it can be) and nothing runs until flush(), which the training loop
 * calls once per step, or until a read needs the values. A read copies the
 * tensor into a staging buffer, submits, and waits for the map (about 12 ms
 * whatever the size): so reads are rare, and never per step.
 *
 * Fewer dispatches: `linear` adds the bias in the matmul's epilogue, and a
 * step's optimiser updates are queued and recorded as one dispatch (see
 * #update).
 *
 * Memory comes from a pool keyed by size (pool.ts): a tensor's buffer goes
 * back to the pool when the tensor is disposed, and the next step's tensors of
 * the same size take it again, so memory stops growing after the first steps.
 */
import { checkValuesFitShape, type DType, sizeOf, Tensor, type TypedArray } from "../../tensor.ts";
import type { AdamHyper, Backend, BinaryOp, Reduction, UnaryOp } from "../backend.ts";
import {
  fitsLimits,
  matmulParams,
  type MatmulPlan,
  matmulShader,
  planMatmul,
  splitSumShader,
  tileCols,
  tileRows,
  type Tiling,
  type TilingName,
  TILINGS,
} from "./matmul.ts";
import { isSoftwareAdapter } from "./adapter.ts";
import type { WindowGeometry } from "../backend.ts";
import {
  col2imShader,
  im2colShader,
  maxPoolBackwardShader,
  maxPoolShader,
  windowParams,
} from "./conv.ts";
import { BufferPool, type PoolStats, StagingPool, UniformArena } from "./pool.ts";
import {
  addInPlaceShader,
  argmaxRowsShader,
  binaryShader,
  Broadcast,
  ELEMENTWISE_WORKGROUP,
  gatherRowsShader,
  oneHotShader,
  pickColumnsShader,
  reduceAllShader,
  reduceColumnsShader,
  reduceRowsShader,
  sliceColumnsShader,
  softmaxShader,
  unaryShader,
  updateBuffers,
  type UpdateKind,
  updateShader,
} from "./shaders.ts";

/** A buffer, or a window of one, to bind to a kernel. */
type Binding = GPUBuffer | { buffer: GPUBuffer; offset: number; size: number };

interface Kernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** The most workgroups in one dimension of a dispatch (WebGPU's default limit). */
const MAX_GROUPS = 65535;
/** Submit on our own after this many commands, so that an encoder never grows without bound. */
const MAX_COMMANDS = 1024;
/** Forget the cached bind groups when there are this many. */
const MAX_BIND_GROUPS = 4096;

export interface WebGpuStats extends PoolStats {
  /** Bytes of the staging buffers used to read values back. */
  stagingBytes: number;
  pipelines: number;
  submits: number;
  dispatches: number;
  reads: number;
  bindGroupLookups: number;
  bindGroupsCreated: number;
}

export class WebGpuBackend implements Backend {
  readonly name = "webgpu" as const;
  readonly description: string;
  readonly pool: BufferPool;
  readonly #staging: StagingPool;
  readonly #uniforms: UniformArena;
  readonly #kernels = new Map<string, Kernel>();
  readonly #maxBinding: number;
  readonly #bindingAlignment: number;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #commands = 0;
  #counts = { submits: 0, dispatches: 0, reads: 0, bindGroupLookups: 0, bindGroupsCreated: 0 };
  readonly #bindGroups = new Map<string, GPUBindGroup>();
  readonly #bufferIds = new WeakMap<GPUBuffer, number>();
  #nextBufferId = 0;
  #deviceError: string | null = null;
  #destroyed = false;
  #queuedUpdates: {
    kind: UpdateKind;
    key: string;
    hyper: number[];
    sizes: number[];
    buffers: GPUBuffer[];
  } | null = null;
  readonly #dispatchesByKernel = new Map<string, number>();
  /**
   * What uploaded values a buffer holds, kept while nothing on the GPU writes
   * it: the labels uploaded once per dataset, and the batches gathered from
   * them, carry it to pickColumns and oneHot, which check their class indices
   * against it without reading anything back.
   */
  readonly #uploadedRanges = new WeakMap<GPUBuffer, ValueRange>();

  /** The matmul tilings this backend chooses from, per product (see matmul.ts). */
  readonly tilings: readonly Tiling[];
  readonly software: boolean;
  readonly #forcedSplits: number | undefined;

  /**
   * Several backends may share one device, each with its own pool (tests do).
   * `maxBindingBytes` lowers the binding limit, to exercise windowed gathers.
   */
  constructor(
    readonly device: GPUDevice,
    readonly adapterInfo: GPUAdapterInfo,
    options: WebGpuOptions = {},
  ) {
    this.description = describeAdapter(adapterInfo);
    this.software = options.software ?? isSoftwareAdapter(adapterInfo);
    this.tilings = chooseTilings(device.limits, this.software, options.tiling ?? "auto");
    this.#forcedSplits = options.splits;
    this.pool = new BufferPool(device);
    this.#staging = new StagingPool(device);
    this.#uniforms = new UniformArena(device, device.limits.minUniformBufferOffsetAlignment);
    this.#maxBinding = Math.min(
      options.maxBindingBytes ?? Infinity,
      device.limits.maxStorageBufferBindingSize,
    );
    this.#bindingAlignment = device.limits.minStorageBufferOffsetAlignment;
    device.addEventListener("uncapturederror", (event) => {
      this.#deviceError ??= (event as GPUUncapturedErrorEvent).error.message;
    });
    device.lost.then((info) => {
      this.#deviceError ??= `the GPU device was lost (${info.reason}): ${info.message}`;
    });
  }

  /** Memory and work counters, for tests and benchmarks. */
  stats(): WebGpuStats {
    return {
      ...this.pool.stats,
      stagingBytes: this.#staging.allocatedBytes,
      pipelines: this.#kernels.size,
      ...this.#counts,
    };
  }

  /** Dispatches so far by kernel (e.g. "matmul_tile128k16_bias"), for the benchmark. */
  dispatchesByKernel(): Map<string, number> {
    return new Map(this.#dispatchesByKernel);
  }

  /** Give free pooled buffers back to the GPU; returns the bytes freed. */
  trim(): number {
    this.flush();
    // Cached bind groups may name the buffers about to go.
    this.#bindGroups.clear();
    return this.pool.trim();
  }

  /**
   * Drop what is recorded and not submitted, then destroy every buffer this backend made
   * (tensors still alive included) and forget its pipelines. The device is
   * its owner's to destroy: several backends may share it.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#endPass();
    this.#encoder = null; // dropped unsubmitted: nothing may run after this
    this.#bindGroups.clear();
    this.#kernels.clear();
    this.pool.destroyAll();
    this.#staging.destroyAll();
    this.#uniforms.destroy();
  }

  // Memory -------------------------------------------------------------------------

  fromValues(values: ArrayLike<number>, shape: readonly number[], dtype: DType): Tensor {
    requireFloat32("fromValues", dtype);
    checkValuesFitShape(values, shape);
    const size = sizeOf(shape);
    const data =
      (values instanceof Float32Array ? values : Float32Array.from(values)) as Float32Array<
        ArrayBuffer
      >;
    const buffer = this.pool.acquire(size * 4, true);
    if (size > 0) this.device.queue.writeBuffer(buffer, 0, data, 0, size);
    this.#uploadedRanges.set(buffer, valueRange(data, size));
    return this.#wrap(buffer, shape);
  }

  zeros(shape: readonly number[], dtype: DType): Tensor {
    requireFloat32("zeros", dtype);
    const out = this.#output(sizeOf(shape), shape);
    this.#copyCommand().clearBuffer(bufferOf(out));
    return out;
  }

  async read(t: Tensor): Promise<TypedArray> {
    t.assertAlive("read");
    const bytes = t.size * 4;
    this.#counts.reads++;
    if (bytes === 0) return new Float32Array(0);
    const staging = this.#staging.acquire(bytes);
    this.#copyCommand().copyBufferToBuffer(bufferOf(t), 0, staging, 0, bytes);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (error) {
      this.#throwDeviceError();
      throw error;
    }
    const values = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.#staging.release(staging);
    this.#throwDeviceError();
    return values;
  }

  /** Called once per storage, when the tensor and all its views are disposed. */
  release(t: Tensor): void {
    this.#recordQueuedUpdates(); // they may read this buffer
    this.#uploadedRanges.delete(bufferOf(t));
    this.pool.release(bufferOf(t), this.#encoder !== null);
  }

  /** A view: the tensor class releases the storage after both are disposed. */
  reshape(t: Tensor, shape: readonly number[]): Tensor {
    return new Tensor(this, t.storage, [...shape], t.dtype, t);
  }

  flush(): void {
    this.#recordQueuedUpdates();
    if (!this.#encoder) return;
    this.#endPass();
    this.#uniforms.upload(this.device.queue);
    this.device.queue.submit([this.#encoder.finish()]);
    this.#encoder = null;
    this.#commands = 0;
    this.#counts.submits++;
    this.pool.submitted();
    this.#throwDeviceError();
  }

  // Linear algebra -------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
    requireFloat32s("matmul", a, b);
    return this.#matmul(a, b, transposeA, transposeB, null);
  }

  /** x W + bias in one dispatch: the bias is added in the matmul's epilogue. */
  linear(x: Tensor, weight: Tensor, bias: Tensor): Tensor {
    requireFloat32s("linear", x, weight, bias);
    return this.#matmul(x, weight, false, false, bias);
  }

  /** How a product of these sizes runs (for tests and the benchmark). */
  planMatmul(m: number, k: number, n: number): MatmulPlan {
    return planMatmul(m, k, n, {
      software: this.software,
      tilings: this.tilings,
      forcedSplits: this.#forcedSplits,
    });
  }

  #matmul(
    a: Tensor,
    b: Tensor,
    transposeA: boolean,
    transposeB: boolean,
    bias: Tensor | null,
  ): Tensor {
    const op = bias ? "linear" : "matmul";
    const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const n = transposeB ? b.shape[0] : b.shape[1];
    const out = this.#output(m * n, [m, n]);
    if (m === 0 || n === 0) return out;
    const { tiling, splits, kChunk } = this.planMatmul(m, k, n);
    const [left, right] = [this.#bound(a, op), this.#bound(b, op)];
    const biasBinding = bias ? [this.#bound(bias, op)] : [];
    // A split writes its partial products to a scratch [splits, m, n] and sums them after.
    const scratch = splits > 1 ? this.pool.acquire(splits * m * n * 4, false) : null;
    const result = scratch ?? bufferOf(out);
    const fused = bias !== null && scratch === null;
    this.#dispatch(
      `matmul_${tiling.name}${fused ? "_bias" : ""}`,
      () => matmulShader(tiling, fused),
      matmulParams(m, k, n, transposeA, transposeB, kChunk),
      [],
      // Each as scalars and as vec4s (see matmul.ts).
      [left, left, right, right, result, result, ...(fused ? biasBinding : [])],
      [Math.ceil(n / tileCols(tiling)), Math.ceil(m / tileRows(tiling)), splits],
    );
    if (scratch) {
      this.#elementwise(
        `splitSum${bias ? "_bias" : ""}`,
        () => splitSumShader(bias !== null, ELEMENTWISE_WORKGROUP),
        [m * n, n, splits],
        [],
        [scratch, bufferOf(out), ...biasBinding],
        m * n,
      );
      this.pool.release(scratch, true);
    }
    return out;
  }

  // Element-wise ---------------------------------------------------------------------

  unary(op: UnaryOp, x: Tensor, a: number, b: number): Tensor {
    requireFloat32s(op, x);
    const out = this.#output(x.size, x.shape);
    this.#elementwise(`unary_${op}`, () => unaryShader(op), [x.size], [a, b], [
      this.#bound(x, op),
      bufferOf(out),
    ], x.size);
    return out;
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
    requireFloat32s(op, a, b);
    let broadcast: number = Broadcast.same, period = 1;
    if (b.size !== a.size) {
      const column = a.rank === 2 && b.rank === 2 && b.shape[1] === 1 &&
        b.shape[0] === a.shape[0] &&
        a.shape[1] !== 1;
      // As on the CPU: a column [rows, 1] repeats along each row, anything else (a row or a scalar) cycles.
      [broadcast, period] = column ? [Broadcast.divide, a.shape[1]] : [Broadcast.modulo, b.size];
    }
    const out = this.#output(a.size, a.shape);
    this.#elementwise(`binary_${op}`, () => binaryShader(op), [a.size, broadcast, period], [], [
      this.#bound(a, op),
      this.#bound(b, op),
      bufferOf(out),
    ], a.size);
    return out;
  }

  // Reductions -----------------------------------------------------------------------

  reduceAll(op: Reduction, x: Tensor): Tensor {
    requireFloat32s(op, x);
    const out = this.#output(1, [1]);
    this.#dispatch(`reduceAll_${op}`, () => reduceAllShader(op), [x.size], [], [
      this.#bound(x, op),
      bufferOf(out),
    ], [1, 1]);
    return out;
  }

  reduceRows(op: Reduction, x: Tensor): Tensor {
    requireFloat32s(op, x);
    const [rows, cols] = x.shape;
    const out = this.#output(cols, [cols]);
    this.#elementwise(`reduceRows_${op}`, () => reduceRowsShader(op), [rows, cols], [], [
      this.#bound(x, op),
      bufferOf(out),
    ], cols);
    return out;
  }

  reduceColumns(op: Reduction, x: Tensor): Tensor {
    requireFloat32s(op, x);
    const rows = x.shape[0];
    const out = this.#output(rows, [rows]);
    this.#rowwise(`reduceColumns_${op}`, () => reduceColumnsShader(op), x, out, op);
    return out;
  }

  argmaxRows(x: Tensor): Tensor {
    requireFloat32s("argmax", x);
    const out = this.#output(x.shape[0], [x.shape[0]]);
    this.#rowwise("argmaxRows", argmaxRowsShader, x, out, "argmax");
    return out;
  }

  // Softmax family ---------------------------------------------------------------------

  softmax(x: Tensor): Tensor {
    requireFloat32s("softmax", x);
    const out = this.#output(x.size, x.shape);
    this.#rowwise("softmax", () => softmaxShader(false), x, out, "softmax");
    return out;
  }

  logSoftmax(x: Tensor): Tensor {
    requireFloat32s("logSoftmax", x);
    const out = this.#output(x.size, x.shape);
    this.#rowwise("logSoftmax", () => softmaxShader(true), x, out, "logSoftmax");
    return out;
  }

  pickColumns(x: Tensor, labels: Tensor): Tensor {
    requireFloat32s("pickColumns", x, labels);
    const [rows, cols] = x.shape;
    this.#checkClassIndices("pickColumns", labels, cols);
    const out = this.#output(rows, [rows]);
    this.#elementwise("pickColumns", pickColumnsShader, [rows, cols], [], [
      this.#bound(x, "pickColumns"),
      this.#bound(labels, "pickColumns"),
      bufferOf(out),
    ], rows);
    return out;
  }

  oneHot(labels: Tensor, classes: number, dtype: DType): Tensor {
    requireFloat32s("oneHot", labels);
    requireFloat32("oneHot", dtype);
    this.#checkClassIndices("oneHot", labels, classes);
    const count = labels.size * classes;
    const out = this.#output(count, [labels.size, classes]);
    this.#elementwise("oneHot", oneHotShader, [count, classes], [], [
      this.#bound(labels, "oneHot"),
      bufferOf(out),
    ], count);
    return out;
  }

  // Data movement ----------------------------------------------------------------------

  /**
   * The source may be larger than one binding allows (a dataset of 60,000 x 784
   * floats is 188 MB; llvmpipe binds at most 128 MiB): then it is bound in
   * windows of whole rows and gathered in one pass per window.
   */
  gatherRows(x: Tensor, indices: Tensor): Tensor {
    requireFloat32s("gatherRows", x, indices);
    const rows = x.shape[0];
    const cols = rows === 0 ? 0 : x.size / rows;
    const count = indices.size * cols;
    const out = this.#output(count, [indices.size, ...x.shape.slice(1)]);
    if (count === 0) return out;
    const rowBytes = cols * 4;
    // Windows start at multiples of 64 rows: 64 x 4 bytes x cols is a multiple of 256,
    // the largest offset alignment WebGPU allows an adapter to ask for.
    let windowRows = Math.floor(this.#maxBinding / rowBytes / 64) * 64;
    if (windowRows === 0) {
      throw new Error(`gatherRows: a row of ${cols} floats is too large to bind on this GPU`);
    }
    if (windowRows >= rows) windowRows = rows;
    const buffer = bufferOf(x);
    for (let first = 0; first < rows; first += windowRows) {
      const windowSize = Math.min(windowRows, rows - first);
      const offset = first * rowBytes;
      if (offset % this.#bindingAlignment !== 0) throw new Error("gatherRows: misaligned window");
      this.#elementwise("gatherRows", gatherRowsShader, [count, cols, first, windowSize], [], [
        { buffer, offset, size: windowSize * rowBytes },
        this.#bound(indices, "gatherRows"),
        bufferOf(out),
      ], count);
    }
    // The rows gathered hold some of the source's values (and so its class indices).
    const range = this.#uploadedRanges.get(bufferOf(x));
    if (range) this.#uploadedRanges.set(bufferOf(out), range);
    return out;
  }

  sliceColumns(x: Tensor, start: number, count: number): Tensor {
    requireFloat32s("sliceColumns", x);
    const [rows, cols] = x.shape;
    const size = rows * count;
    const out = this.#output(size, [rows, count]);
    this.#elementwise("sliceColumns", sliceColumnsShader, [size, cols, start, count], [], [
      this.#bound(x, "sliceColumns"),
      bufferOf(out),
    ], size);
    return out;
  }

  // Optimiser updates, in place ----------------------------------------------------------

  sgdUpdate(param: Tensor, grad: Tensor, learningRate: number, weightDecay: number): void {
    requireFloat32s("sgdUpdate", param, grad);
    this.#update("sgd", [learningRate, weightDecay], param, [grad, param]);
  }

  momentumUpdate(
    param: Tensor,
    velocity: Tensor,
    grad: Tensor,
    learningRate: number,
    momentum: number,
    weightDecay: number,
  ): void {
    requireFloat32s("momentumUpdate", param, velocity, grad);
    this.#update("momentum", [learningRate, momentum, weightDecay], param, [
      grad,
      param,
      velocity,
    ]);
  }

  adamUpdate(param: Tensor, m: Tensor, v: Tensor, grad: Tensor, hyper: AdamHyper): void {
    requireFloat32s("adamUpdate", param, m, v, grad);
    const { learningRate, beta1, beta2, epsilon, weightDecay, step } = hyper;
    const values = [
      learningRate,
      beta1,
      1 - beta1,
      beta2,
      1 - beta2,
      epsilon,
      weightDecay,
      1 - beta1 ** step,
      1 - beta2 ** step,
    ];
    this.#update("adam", values, param, [grad, param, m, v]);
  }

  /**
   * Queue an update; consecutive updates of one kind with the same
   * hyperparameters become one dispatch (see updateShader). The queue is
   * recorded before anything else is: every other command, a flush, a read
   * and a release record it first, so it runs exactly where it was asked for.
   */
  #update(kind: UpdateKind, hyper: number[], param: Tensor, tensors: Tensor[]): void {
    this.#uploadedRanges.delete(bufferOf(param));
    const key = `${kind}|${hyper.join(",")}`;
    const perParameter = updateBuffers[kind].length;
    const room = Math.min(
      Math.floor(this.device.limits.maxStorageBuffersPerShaderStage / perParameter),
      // The uniform slot holds 16 values: a count per parameter, then the hyperparameters.
      16 - hyper.length,
    );
    const queued = this.#queuedUpdates;
    const buffers = tensors.map((t) => this.#bound(t, `${kind}Update`));
    if (
      queued && (queued.key !== key || queued.sizes.length >= room ||
        queued.buffers.some((b) => buffers.includes(b)))
    ) {
      this.#recordQueuedUpdates();
    }
    if (!this.#queuedUpdates) {
      this.#queuedUpdates = { kind, key, hyper, sizes: [], buffers: [] };
    }
    this.#queuedUpdates.sizes.push(param.size);
    this.#queuedUpdates.buffers.push(...buffers);
  }

  #recordQueuedUpdates(): void {
    const queued = this.#queuedUpdates;
    if (!queued) return;
    this.#queuedUpdates = null;
    const { kind, hyper, sizes, buffers } = queued;
    this.#elementwise(
      `${kind}_${sizes.length}`,
      () => updateShader(kind, sizes.length),
      sizes,
      hyper,
      buffers,
      Math.max(...sizes),
    );
  }

  addInPlace(target: Tensor, source: Tensor): void {
    requireFloat32s("addInPlace", target, source);
    this.#uploadedRanges.delete(bufferOf(target));
    this.#elementwise("addInPlace", addInPlaceShader, [target.size], [], [
      this.#bound(source, "addInPlace"),
      this.#bound(target, "addInPlace"),
    ], target.size);
  }

  assign(target: Tensor, source: Tensor): void {
    requireFloat32s("assign", target, source);
    const range = this.#uploadedRanges.get(bufferOf(source));
    if (range && target.size <= source.size) this.#uploadedRanges.set(bufferOf(target), range);
    else this.#uploadedRanges.delete(bufferOf(target));
    const bytes = Math.min(target.size, source.size) * 4;
    if (bytes > 0) {
      this.#copyCommand().copyBufferToBuffer(bufferOf(source), 0, bufferOf(target), 0, bytes);
    }
  }

  // Convolution and pooling, NHWC (shaders in conv.ts) ------------------------------------

  im2col(x: Tensor, g: WindowGeometry): Tensor {
    requireFloat32s("im2col", x);
    const rows = g.batch * g.outHeight * g.outWidth;
    const patch = g.kernelHeight * g.kernelWidth * g.channels;
    const out = this.#output(rows * patch, [rows, patch]);
    this.#elementwise("im2col", im2colShader, windowParams(g, rows * patch), [], [
      this.#bound(x, "im2col"),
      bufferOf(out),
    ], rows * patch);
    return out;
  }

  col2im(cols: Tensor, g: WindowGeometry): Tensor {
    requireFloat32s("col2im", cols);
    const count = g.batch * g.height * g.width * g.channels;
    const out = this.#output(count, [g.batch, g.height, g.width, g.channels]);
    this.#elementwise("col2im", col2imShader, windowParams(g, count), [], [
      this.#bound(cols, "col2im"),
      bufferOf(out),
    ], count);
    return out;
  }

  maxPool(x: Tensor, g: WindowGeometry): { output: Tensor; argmax: Tensor } {
    requireFloat32s("maxPool", x);
    const shape = [g.batch, g.outHeight, g.outWidth, g.channels];
    const count = sizeOf(shape);
    const output = this.#output(count, shape), argmax = this.#output(count, shape);
    this.#elementwise("maxPool", maxPoolShader, windowParams(g, count), [], [
      this.#bound(x, "maxPool"),
      bufferOf(output),
      bufferOf(argmax),
    ], count);
    return { output, argmax };
  }

  maxPoolBackward(dy: Tensor, argmax: Tensor, g: WindowGeometry): Tensor {
    requireFloat32s("maxPoolBackward", dy, argmax);
    const count = g.batch * g.height * g.width * g.channels;
    const out = this.#output(count, [g.batch, g.height, g.width, g.channels]);
    this.#elementwise("maxPoolBackward", maxPoolBackwardShader, windowParams(g, count), [], [
      this.#bound(dy, "maxPoolBackward"),
      this.#bound(argmax, "maxPoolBackward"),
      bufferOf(out),
    ], count);
    return out;
  }

  // Recording ---------------------------------------------------------------------------

  #wrap(buffer: GPUBuffer, shape: readonly number[]): Tensor {
    return new Tensor(this, buffer, [...shape], "float32");
  }

  /** A new tensor for a kernel to write (its buffer may be one that pending commands read first). */
  #output(size: number, shape: readonly number[]): Tensor {
    const buffer = this.pool.acquire(size * 4, false);
    this.#uploadedRanges.delete(buffer);
    return this.#wrap(buffer, shape);
  }

  /** The tensor's buffer, checked against the largest binding the device allows. */
  #bound(t: Tensor, op: string): GPUBuffer {
    const buffer = bufferOf(t);
    if (buffer.size > this.#maxBinding) {
      throw new Error(
        `webgpu ${op}: a tensor of shape [${t.shape}] (${
          t.size * 4
        } bytes) is larger than this GPU ` +
          `can bind at once (${this.#maxBinding} bytes)`,
      );
    }
    return buffer;
  }

  #kernel(key: string, source: () => string): Kernel {
    let kernel = this.#kernels.get(key);
    if (!kernel) {
      const module = this.device.createShaderModule({ label: key, code: source() });
      const pipeline = this.device.createComputePipeline({
        label: key,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      kernel = { pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.#kernels.set(key, kernel);
    }
    return kernel;
  }

  #ensureEncoder(): GPUCommandEncoder {
    this.#recordQueuedUpdates();
    if (this.#commands >= MAX_COMMANDS) this.flush();
    this.#commands++;
    return this.#encoder ??= this.device.createCommandEncoder();
  }

  /** The encoder, outside any compute pass, for a copy or a clear. */
  #copyCommand(): GPUCommandEncoder {
    const encoder = this.#ensureEncoder();
    this.#endPass();
    return encoder;
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = null;
  }

  /** Record one dispatch of `key` with these uniforms and storage bindings (binding 1, 2, ...). */
  #dispatch(
    key: string,
    source: () => string,
    integers: number[],
    floats: number[],
    bindings: Binding[],
    groups: [number, number] | [number, number, number],
  ): void {
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    const kernel = this.#kernel(key, source);
    const encoder = this.#ensureEncoder();
    const uniform = this.#uniforms.write(floats, integers);
    const bindGroup = this.#bindGroup(key, kernel, uniform, bindings);
    this.#pass ??= encoder.beginComputePass();
    this.#pass.setPipeline(kernel.pipeline);
    this.#pass.setBindGroup(0, bindGroup);
    this.#pass.dispatchWorkgroups(groups[0], groups[1], groups[2] ?? 1);
    this.#counts.dispatches++;
    this.#dispatchesByKernel.set(key, (this.#dispatchesByKernel.get(key) ?? 0) + 1);
  }

  /**
   * Bind groups are cached by kernel, uniform slot and buffers. A training
   * step asks for the same ones every time: the pool hands out the same
   * buffers in the same order, and the step's dispatches take the same slots.
   */
  #bindGroup(
    key: string,
    kernel: Kernel,
    uniform: { slot: number; binding: GPUBufferBinding },
    bindings: Binding[],
  ): GPUBindGroup {
    let cacheKey = `${key}|${uniform.slot}`;
    for (const b of bindings) {
      cacheKey += b instanceof GPUBuffer
        ? `|${this.#bufferId(b)}`
        : `|${this.#bufferId(b.buffer)}@${b.offset}+${b.size}`;
    }
    let bindGroup = this.#bindGroups.get(cacheKey);
    this.#counts.bindGroupLookups++;
    if (!bindGroup) {
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: uniform.binding }];
      bindings.forEach((b, i) => {
        entries.push({ binding: i + 1, resource: b instanceof GPUBuffer ? { buffer: b } : b });
      });
      bindGroup = this.device.createBindGroup({ layout: kernel.layout, entries });
      if (this.#bindGroups.size >= MAX_BIND_GROUPS) this.#bindGroups.clear();
      this.#bindGroups.set(cacheKey, bindGroup);
      this.#counts.bindGroupsCreated++;
    }
    return bindGroup;
  }

  #bufferId(buffer: GPUBuffer): number {
    let id = this.#bufferIds.get(buffer);
    if (id === undefined) this.#bufferIds.set(buffer, id = this.#nextBufferId++);
    return id;
  }

  /** One thread per element: `count` threads in 256-thread workgroups over a 2-D grid. */
  #elementwise(
    key: string,
    source: () => string,
    integers: number[],
    floats: number[],
    bindings: Binding[],
    count: number,
  ): void {
    this.#dispatch(
      key,
      source,
      integers,
      floats,
      bindings,
      grid(Math.ceil(count / ELEMENTWISE_WORKGROUP)),
    );
  }

  /** One workgroup per row of a 2-D x. */
  #rowwise(key: string, source: () => string, x: Tensor, out: Tensor, op: string): void {
    const [rows, cols] = x.shape;
    this.#dispatch(key, source, [rows, cols], [], [this.#bound(x, op), bufferOf(out)], grid(rows));
  }

  /**
   * As on the CPU, a class index outside [0, classes) is an error (the kernel
   * would read a neighbouring row). Only labels whose values were uploaded
   * are checked: those computed on the GPU (argmax) are in range by
   * construction, and checking them would need a read-back.
   */
  #checkClassIndices(op: string, labels: Tensor, classes: number): void {
    const range = this.#uploadedRanges.get(bufferOf(labels));
    if (!range) return;
    const bad = range.firstNotWhole ??
      (range.min < 0 ? range.min : range.max >= classes ? range.max : null);
    if (bad !== null) {
      throw new Error(
        `${op}: the labels [${labels.shape}] hold class index ${bad}; class indices are ` +
          `whole numbers 0..${classes - 1}`,
      );
    }
  }

  #throwDeviceError(): void {
    if (this.#deviceError) {
      const message = this.#deviceError;
      this.#deviceError = null;
      throw new Error(`webgpu: ${message}`);
    }
  }
}

export interface WebGpuOptions {
  /** Lower the binding limit (tests use it to exercise windowed gathers). */
  maxBindingBytes?: number;
  /** A software adapter (llvmpipe; told from the adapter's name unless given): one tiling, no split-K. */
  software?: boolean;
  /** Force one matmul tiling (tests run the parity suite with each), or choose per adapter. */
  tiling?: TilingName | "auto";
  /** Force the number of k splits of every matmul (1: never split). */
  splits?: number;
}

/**
 * The tilings a backend picks from per product: on a software adapter one,
 * the fastest measured on llvmpipe (tile128k16; tile64k8 where the device
 * cannot hold it); on a GPU, the 128 x 128 tile with the longest k step the device's
 * workgroup memory allows, then 64 x 64 and 32 x 32 for products too small
 * to fill the GPU with large tiles.
 */
function chooseTilings(
  limits: GPUSupportedLimits,
  software: boolean,
  choice: TilingName | "auto",
): Tiling[] {
  if (choice !== "auto") {
    const tiling = TILINGS[choice];
    if (!tiling) throw new Error(`webgpu: unknown matmul tiling "${choice}"`);
    if (!fitsLimits(tiling, limits)) {
      throw new Error(`webgpu: the matmul tiling "${choice}" needs more than this device allows`);
    }
    return [tiling];
  }
  if (software) {
    return [fitsLimits(TILINGS.tile128k16, limits) ? TILINGS.tile128k16 : TILINGS.tile64k8];
  }
  const large = [TILINGS.tile128k16, TILINGS.tile128k8].find((t) => fitsLimits(t, limits));
  return [...(large ? [large] : []), TILINGS.tile64k16, TILINGS.tile32].filter((t) =>
    fitsLimits(t, limits)
  );
}

/** The smallest and largest of uploaded values, and the first that is not a whole number. */
interface ValueRange {
  min: number;
  max: number;
  firstNotWhole: number | null;
}

function valueRange(values: Float32Array, size: number): ValueRange {
  let min = Infinity, max = -Infinity, firstNotWhole: number | null = null;
  for (let i = 0; i < size; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    if (firstNotWhole === null && !Number.isInteger(v)) firstNotWhole = v;
  }
  return { min, max, firstNotWhole };
}

/** `groups` workgroups as a 2-D grid within the per-dimension limit. */
function grid(groups: number): [number, number] {
  if (groups <= MAX_GROUPS) return [groups, 1];
  const y = Math.ceil(groups / MAX_GROUPS);
  return [Math.ceil(groups / y), y];
}

/** A tensor's storage on this backend is its GPU buffer (shared by reshaped views). */
function bufferOf(t: Tensor): GPUBuffer {
  return t.storage as GPUBuffer;
}

function requireFloat32(op: string, dtype: DType): void {
  if (dtype !== "float32") {
    throw new Error(
      `webgpu ${op}: ${dtype} is not supported; the WebGPU backend computes in float32 only ` +
        `(float64 is for gradcheck, on the CPU backend)`,
    );
  }
}

function requireFloat32s(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) requireFloat32(op, t.dtype);
}

/** The adapter's name, e.g. "NVIDIA H100 80GB HBM3" or "llvmpipe (LLVM 15.0.6, 256 bits)". */
export function adapterName(info: GPUAdapterInfo): string {
  return info.description ||
    [info.vendor, info.architecture, info.device].filter((p) => p).join(" ") ||
    "an unnamed adapter";
}

export function describeAdapter(info: GPUAdapterInfo): string {
  return `WebGPU on ${adapterName(info)}`;
}
