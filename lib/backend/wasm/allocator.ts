/**
 * Memory for tensors inside the module's linear memory.
 *
 * Blocks are 16-byte aligned and padded to whole 16-byte vectors, so kernels
 * can run f32x4 loops over the padded length. A released block goes on a free
 * list for its exact size: a training step allocates the same shapes every
 * time, so after the first step every allocation is a reuse, and memory stops
 * growing. Fresh blocks come from the top; the memory grows when the top
 * passes its end. Blocks are never merged (a simple allocator for a workload
 * of repeated shapes, not a general malloc).
 */
export class Allocator {
  readonly #free = new Map<number, number[]>();
  #top: number;
  #bytesInUse = 0;

  /** `start`: the first byte this allocator may hand out (below it: the module's scratch). */
  constructor(readonly memory: WebAssembly.Memory, start: number) {
    this.#top = roundUp(start);
  }

  /** A block of at least `bytes` bytes; its contents are whatever was there. */
  allocate(bytes: number): { offset: number; bytes: number } {
    const size = Math.max(16, roundUp(bytes));
    this.#bytesInUse += size;
    const reused = this.#free.get(size)?.pop();
    if (reused !== undefined) return { offset: reused, bytes: size };
    const offset = this.#top;
    const end = offset + size;
    const available = this.memory.buffer.byteLength;
    if (end > available) {
      // Grow by at least a quarter, so that a growing dataset does not grow one page at a time.
      const needed = Math.ceil((end - available) / 65536);
      const pages = Math.max(needed, Math.ceil(available / 65536 / 4));
      try {
        this.memory.grow(pages);
      } catch {
        this.memory.grow(needed);
      }
    }
    this.#top = end;
    return { offset, bytes: size };
  }

  free(block: { offset: number; bytes: number }): void {
    this.#bytesInUse -= block.bytes;
    const list = this.#free.get(block.bytes);
    if (list) list.push(block.offset);
    else this.#free.set(block.bytes, [block.offset]);
  }

  /** Bytes in live blocks, and the high-water mark of the memory handed out. */
  stats(): { bytesInUse: number; top: number } {
    return { bytesInUse: this.#bytesInUse, top: this.#top };
  }
}

const roundUp = (bytes: number) => Math.ceil(bytes / 16) * 16;
