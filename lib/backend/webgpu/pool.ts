/**
 * GPU memory for tensors: a pool of storage buffers keyed by byte size, so
 * that a training step's buffers, released when the step ends, are reused by
 * the next step instead of allocated again. The pool never shrinks on its own
 * (`trim()` gives free buffers back); after the first epoch it holds what one
 * step needs and stays that size.
 *
 * Reuse has one hazard. Kernels are recorded into a command encoder and run
 * later, in order, so a buffer released while the encoder still holds commands
 * that read it may be handed to a later kernel of the same encoder: the GPU
 * runs the reads first. But `queue.writeBuffer` (uploading values) happens
 * before the encoder is submitted, so a buffer that unsubmitted commands still
 * read must not be overwritten that way. Buffers released while commands are
 * pending therefore wait in `pending` until the submit, and uploads only take
 * buffers from `free`.
 */

export interface PoolStats {
  /** Bytes in every buffer the pool has created and not destroyed: in use and free. */
  allocatedBytes: number;
  /** Bytes held by live tensors. */
  inUseBytes: number;
  buffersCreated: number;
  /** Acquisitions served from the pool instead of a new buffer. */
  reuses: number;
}

const TENSOR_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Sizes round up to 16 bytes, so that every buffer can be bound as array<vec4<f32>>. */
export function pooledSize(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}

export class BufferPool {
  /** Every buffer not yet destroyed, for destroyAll(). */
  #all = new Set<GPUBuffer>();
  #free = new Map<number, GPUBuffer[]>();
  #pending = new Map<number, GPUBuffer[]>();
  #stats: PoolStats = { allocatedBytes: 0, inUseBytes: 0, buffersCreated: 0, reuses: 0 };

  constructor(readonly device: GPUDevice) {}

  get stats(): PoolStats {
    return { ...this.#stats };
  }

  /**
   * A buffer of at least `bytes`. `forUpload` excludes buffers that commands
   * still pending in the encoder may read (see the module comment).
   */
  acquire(bytes: number, forUpload: boolean): GPUBuffer {
    const size = pooledSize(bytes);
    // Kernels take pending buffers first, leaving the free ones to uploads.
    let buffer = forUpload ? undefined : this.#pending.get(size)?.pop();
    buffer ??= this.#free.get(size)?.pop();
    if (buffer) {
      this.#stats.reuses++;
    } else {
      buffer = this.device.createBuffer({ size, usage: TENSOR_USAGE });
      this.#all.add(buffer);
      this.#stats.allocatedBytes += size;
      this.#stats.buffersCreated++;
    }
    this.#stats.inUseBytes += size;
    return buffer;
  }

  /** Give a buffer back; `commandsPending` when the open encoder may still read it. */
  release(buffer: GPUBuffer, commandsPending: boolean): void {
    this.#stats.inUseBytes -= buffer.size;
    listIn(commandsPending ? this.#pending : this.#free, buffer.size).push(buffer);
  }

  /** After a submit: every pending buffer may now be overwritten by an upload. */
  submitted(): void {
    for (const [size, buffers] of this.#pending) listIn(this.#free, size).push(...buffers);
    this.#pending.clear();
  }

  /** Destroy the free buffers (those of live tensors and pending ones stay). */
  trim(): number {
    let freed = 0;
    for (const list of this.#free.values()) {
      for (const buffer of list) {
        freed += buffer.size;
        buffer.destroy();
        this.#all.delete(buffer);
      }
    }
    this.#free.clear();
    this.#stats.allocatedBytes -= freed;
    return freed;
  }

  /** Destroy every buffer of the pool, live tensors' included (the backend is going away). */
  destroyAll(): void {
    for (const buffer of this.#all) buffer.destroy();
    this.#all.clear();
    this.#free.clear();
    this.#pending.clear();
    this.#stats.allocatedBytes = 0;
    this.#stats.inUseBytes = 0;
  }
}

function listIn(lists: Map<number, GPUBuffer[]>, size: number): GPUBuffer[] {
  let list = lists.get(size);
  if (!list) lists.set(size, list = []);
  return list;
}

/** Staging buffers for reading values back (MAP_READ), also pooled by size. */
export class StagingPool {
  #free = new Map<number, GPUBuffer[]>();
  allocatedBytes = 0;

  constructor(readonly device: GPUDevice) {}

  acquire(bytes: number): GPUBuffer {
    const size = pooledSize(bytes);
    const buffer = this.#free.get(size)?.pop();
    if (buffer) return buffer;
    this.allocatedBytes += size;
    return this.device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  release(buffer: GPUBuffer): void {
    listIn(this.#free, buffer.size).push(buffer);
  }

  destroyAll(): void {
    for (const list of this.#free.values()) for (const buffer of list) buffer.destroy();
    this.#free.clear();
    this.allocatedBytes = 0;
  }
}

/**
 * Uniform parameters, one small slot per dispatch. Slots are written into a
 * CPU-side copy as kernels are recorded, and each chunk used by the encoder is
 * uploaded once, just before the submit; chunks are reused by the next encoder
 * (the upload of its values is ordered after the previous submit).
 */
export class UniformArena {
  static readonly chunkBytes = 64 * 1024;
  readonly slotBytes: number;
  readonly slotsPerChunk: number;
  #chunks: { buffer: GPUBuffer; data: ArrayBuffer; u32: Uint32Array; f32: Float32Array }[] = [];
  #used = 0; // slots used in the current encoder, over all chunks

  constructor(readonly device: GPUDevice, alignment: number, readonly maxParams = 16) {
    this.slotBytes = Math.ceil(Math.max(maxParams * 4, alignment) / alignment) * alignment;
    this.slotsPerChunk = Math.floor(UniformArena.chunkBytes / this.slotBytes);
  }

  /**
   * Claim a slot and fill it: the u32 values first, then the f32 values (each
   * shader's Params struct declares them in that order). `slot` numbers the
   * slot within the encoder: the same slot is the same buffer and offset.
   */
  write(
    values: ArrayLike<number>,
    integers: ArrayLike<number>,
  ): { slot: number; binding: { buffer: GPUBuffer; offset: number; size: number } } {
    const slot = this.#used++;
    const chunkIndex = Math.floor(slot / this.slotsPerChunk);
    if (chunkIndex === this.#chunks.length) {
      const data = new ArrayBuffer(UniformArena.chunkBytes);
      this.#chunks.push({
        buffer: this.device.createBuffer({
          size: UniformArena.chunkBytes,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
        data,
        u32: new Uint32Array(data),
        f32: new Float32Array(data),
      });
    }
    const chunk = this.#chunks[chunkIndex];
    const offset = (slot % this.slotsPerChunk) * this.slotBytes;
    const base = offset / 4;
    for (let i = 0; i < integers.length; i++) chunk.u32[base + i] = integers[i];
    for (let i = 0; i < values.length; i++) chunk.f32[base + integers.length + i] = values[i];
    return { slot, binding: { buffer: chunk.buffer, offset, size: this.maxParams * 4 } };
  }

  destroy(): void {
    for (const chunk of this.#chunks) chunk.buffer.destroy();
    this.#chunks = [];
    this.#used = 0;
  }

  /** Upload what this encoder wrote, before it is submitted; then start over. */
  upload(queue: GPUQueue): void {
    let remaining = this.#used;
    for (const chunk of this.#chunks) {
      if (remaining <= 0) break;
      const slots = Math.min(remaining, this.slotsPerChunk);
      queue.writeBuffer(chunk.buffer, 0, chunk.data, 0, slots * this.slotBytes);
      remaining -= slots;
    }
    this.#used = 0;
  }
}
