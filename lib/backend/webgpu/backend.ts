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
 * Memory comes from a pool keyed by size (pool.ts): a tensor's buffer goes
 * back to the pool when the tensor is disposed, and the next step's tensors of
 * the same size take it again, so memory stops growing after the first steps.
 */
import { checkValuesFitShape, type DType, sizeOf, Tensor, type TypedArray } from "../../tensor.ts";
import type { AdamHyper, Backend, BinaryOp, Reduction, UnaryOp } from "../backend.ts";
import { MATMUL_TILE, matmulParams, matmulShader } from "./matmul.ts";
import { BufferPool, type PoolStats, StagingPool, UniformArena } from "./pool.ts";
import {
  adamShader,
  addInPlaceShader,
  argmaxRowsShader,
  binaryShader,
  Broadcast,
  ELEMENTWISE_WORKGROUP,
  gatherRowsShader,
  momentumShader,
  oneHotShader,
  pickColumnsShader,
  reduceAllShader,
  reduceColumnsShader,
  reduceRowsShader,
  sgdShader,
  sliceColumnsShader,
  softmaxShader,
  unaryShader,
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

  /**
   * Several backends may share one device, each with its own pool (tests do).
   * `maxBindingBytes` lowers the binding limit, to exercise windowed gathers.
   */
  constructor(
    readonly device: GPUDevice,
    readonly adapterInfo: GPUAdapterInfo,
    options: { maxBindingBytes?: number } = {},
  ) {
    this.description = describeAdapter(adapterInfo);
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

  /** Give free pooled buffers back to the GPU; returns the bytes freed. */
  trim(): number {
    this.flush();
    // Cached bind groups may name the buffers about to go.
    this.#bindGroups.clear();
    return this.pool.trim();
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
    this.pool.release(bufferOf(t), this.#encoder !== null);
  }

  /** A view: the tensor class releases the storage after both are disposed. */
  reshape(t: Tensor, shape: readonly number[]): Tensor {
    return new Tensor(this, t.storage, [...shape], t.dtype, t);
  }

  flush(): void {
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
    const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const n = transposeB ? b.shape[0] : b.shape[1];
    const out = this.#output(m * n, [m, n]);
    if (m === 0 || n === 0) return out;
    const [left, right, result] = [
      this.#bound(a, "matmul"),
      this.#bound(b, "matmul"),
      bufferOf(out),
    ];
    this.#dispatch(
      "matmul",
      matmulShader,
      matmulParams(m, k, n, transposeA, transposeB),
      [],
      // Each as scalars and as vec4s (see matmul.ts).
      [left, left, right, right, result, result],
      [Math.ceil(n / MATMUL_TILE), Math.ceil(m / MATMUL_TILE)],
    );
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
    this.#elementwise("sgd", sgdShader, [param.size], [learningRate, weightDecay], [
      this.#bound(grad, "sgdUpdate"),
      this.#bound(param, "sgdUpdate"),
    ], param.size);
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
    this.#elementwise("momentum", momentumShader, [param.size], [
      learningRate,
      momentum,
      weightDecay,
    ], [
      this.#bound(grad, "momentumUpdate"),
      this.#bound(param, "momentumUpdate"),
      this.#bound(velocity, "momentumUpdate"),
    ], param.size);
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
    this.#elementwise("adam", adamShader, [param.size], values, [
      this.#bound(grad, "adamUpdate"),
      this.#bound(param, "adamUpdate"),
      this.#bound(m, "adamUpdate"),
      this.#bound(v, "adamUpdate"),
    ], param.size);
  }

  addInPlace(target: Tensor, source: Tensor): void {
    requireFloat32s("addInPlace", target, source);
    this.#elementwise("addInPlace", addInPlaceShader, [target.size], [], [
      this.#bound(source, "addInPlace"),
      this.#bound(target, "addInPlace"),
    ], target.size);
  }

  assign(target: Tensor, source: Tensor): void {
    requireFloat32s("assign", target, source);
    const bytes = Math.min(target.size, source.size) * 4;
    if (bytes > 0) {
      this.#copyCommand().copyBufferToBuffer(bufferOf(source), 0, bufferOf(target), 0, bytes);
    }
  }

  // Recording ---------------------------------------------------------------------------

  #wrap(buffer: GPUBuffer, shape: readonly number[]): Tensor {
    return new Tensor(this, buffer, [...shape], "float32");
  }

  /** A new tensor for a kernel to write (its buffer may be one that pending commands read first). */
  #output(size: number, shape: readonly number[]): Tensor {
    return this.#wrap(this.pool.acquire(size * 4, false), shape);
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
    groups: [number, number],
  ): void {
    if (groups[0] === 0 || groups[1] === 0) return;
    const kernel = this.#kernel(key, source);
    const encoder = this.#ensureEncoder();
    const uniform = this.#uniforms.write(floats, integers);
    const bindGroup = this.#bindGroup(key, kernel, uniform, bindings);
    this.#pass ??= encoder.beginComputePass();
    this.#pass.setPipeline(kernel.pipeline);
    this.#pass.setBindGroup(0, bindGroup);
    this.#pass.dispatchWorkgroups(groups[0], groups[1]);
    this.#counts.dispatches++;
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

  #throwDeviceError(): void {
    if (this.#deviceError) {
      const message = this.#deviceError;
      this.#deviceError = null;
      throw new Error(`webgpu: ${message}`);
    }
  }
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
