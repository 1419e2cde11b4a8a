/**
 * A second thread for the matmul: one Worker running the same module on the
 * same shared memory, taking row chunks of C from a counter in that memory.
 *
 * No message is posted per op (postMessage costs 50-70 us); the calling thread
 * writes a job into a control block, bumps its generation, and works on the
 * job itself. Each chunk is claimed with one compare-and-swap on a word that
 * holds (generation << 16 | next chunk), so a thread holding an older job's
 * arguments can never claim a newer job's chunk. Whoever is free takes the next
 * chunk: on a loaded machine the worker may take none, and the job still
 * finishes (a barrier, where each thread owns half, would wait for it).
 *
 * Every value of C is computed by one thread, by the same code in the same k
 * order, so the results do not depend on which thread took which chunk.
 *
 * After a job the worker spins for about 200 us (waking a spinning thread
 * costs about 1 us, Atomics.notify about 20 us), then sleeps; after half a
 * second with no work it closes, so that a finished program can exit, and the
 * next job starts a new one (the job runs on the calling thread meanwhile).
 * The worker is loaded from a data: URL, so it needs no read permission.
 */
import type { Kernels } from "./module.ts";

/** Byte offset of the control block (inside the module's scratch area) and its i32 slots. */
export const CONTROL_BYTES = 512;
const CLAIM = 0, COMPLETED = 1, SLEEPING = 2, STATE = 3, TOTAL = 4, ROWS_PER_CHUNK = 5, ARGS = 6;
/** Worker states. */
const NONE = 0, STARTING = 1, RUNNING = 2;
/** Byte offsets of each thread's 4 x 8 edge block for the tile kernel. */
export const MAIN_SCRATCH = 0, WORKER_SCRATCH = 256;
const IDLE_CLOSE_MS = 500, SPIN_MS = 0.2;

/**
 * The worker's whole program. It runs from its source text (a data: URL), so
 * it may use nothing from outside this function: the layout comes in the message.
 */
function workerProgram() {
  // In a worker, the global scope receives the messages posted to it.
  (self as unknown as { onmessage: (event: MessageEvent) => void }).onmessage = (event) => {
    const { bytes, memory, layout } = event.data;
    const { control, claim, completed, sleeping, state, total, rowsPerChunk, args, scratch } =
      layout;
    const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
      .exports as Record<string, (...a: number[]) => void>;
    const words = new Int32Array(memory.buffer, control, 32);
    Atomics.store(words, state, layout.running);
    let seen = Atomics.load(words, claim) >>> 16;
    while (true) {
      let word = Atomics.load(words, claim);
      const spinUntil = performance.now() + layout.spinMs;
      while (word >>> 16 === seen && performance.now() < spinUntil) {
        word = Atomics.load(words, claim);
      }
      if (word >>> 16 === seen) {
        Atomics.store(words, sleeping, 1);
        const woke = Atomics.wait(words, claim, word, layout.idleMs);
        Atomics.store(words, sleeping, 0);
        if (woke === "timed-out") {
          Atomics.store(words, state, layout.none);
          (self as unknown as { close(): void }).close();
          return;
        }
        continue;
      }
      seen = word >>> 16;
      while (true) {
        const current = Atomics.load(words, claim);
        if (current >>> 16 !== seen) break;
        const chunk = current & 0xffff;
        const chunks = words[total], rows = words[rowsPerChunk];
        if (chunk >= chunks) break;
        // aPacked, bPacked, c, m, n, depth, accumulate, bias: the job's, as of this claim word.
        const [aPacked, bPacked, c, m, n, depth, accumulate, bias] = words.slice(args, args + 8);
        if (Atomics.compareExchange(words, claim, current, current + 1) !== current) continue;
        const [start, end] = [chunk * rows, Math.min(m, (chunk + 1) * rows)];
        kernels.tiles(aPacked, bPacked, c, m, n, depth, accumulate, scratch, start, end, bias);
        Atomics.add(words, completed, 1);
      }
    }
  };
}

export class MatmulThreads {
  readonly #words: Int32Array;
  #worker: Worker | null = null;
  #generation = 0;

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly bytes: Uint8Array,
    readonly kernels: Kernels,
  ) {
    this.#words = new Int32Array(memory.buffer, CONTROL_BYTES, 32);
    this.#words.fill(0);
  }

  /** Start the worker if there is none; it joins jobs once it has compiled the module. */
  #ensureWorker(): void {
    if (Atomics.load(this.#words, STATE) !== NONE) return;
    this.#worker?.terminate();
    Atomics.store(this.#words, STATE, STARTING);
    const source = `(${workerProgram.toString()})()`;
    this.#worker = new Worker(`data:text/javascript,${encodeURIComponent(source)}`, {
      type: "module",
    });
    this.#worker.postMessage({
      bytes: this.bytes,
      memory: this.memory,
      layout: {
        control: CONTROL_BYTES,
        claim: CLAIM,
        completed: COMPLETED,
        sleeping: SLEEPING,
        state: STATE,
        total: TOTAL,
        rowsPerChunk: ROWS_PER_CHUNK,
        args: ARGS,
        scratch: WORKER_SCRATCH,
        spinMs: SPIN_MS,
        idleMs: IDLE_CLOSE_MS,
        running: RUNNING,
        none: NONE,
      },
    });
  }

  /** Whether a worker is running now (it closes after half a second without work). */
  get running(): boolean {
    return Atomics.load(this.#words, STATE) === RUNNING;
  }

  /**
   * C (+)= packed A x packed B, rows split into chunks that this thread and the
   * worker claim in turn. Returns when every chunk is done.
   */
  tiles(
    aPacked: number,
    bPacked: number,
    c: number,
    m: number,
    n: number,
    depth: number,
    accumulate: number,
    bias: number,
  ): void {
    this.#ensureWorker();
    const words = this.#words;
    // About 8 chunks of whole 4-row panels: enough to even out, few enough to claim cheaply.
    const panels = Math.ceil(m / 4);
    const rows = 4 * Math.max(1, Math.ceil(panels / 8));
    const chunks = Math.ceil(m / rows);
    words[TOTAL] = chunks;
    words[ROWS_PER_CHUNK] = rows;
    words.set([aPacked, bPacked, c, m, n, depth, accumulate, bias], ARGS);
    Atomics.store(words, COMPLETED, 0);
    this.#generation = (this.#generation + 1) & 0x7fff;
    Atomics.store(words, CLAIM, this.#generation << 16);
    if (Atomics.load(words, SLEEPING)) Atomics.notify(words, CLAIM);
    while (true) {
      const current = Atomics.load(words, CLAIM);
      const chunk = current & 0xffff;
      if (chunk >= chunks) break;
      if (Atomics.compareExchange(words, CLAIM, current, current + 1) !== current) continue;
      this.kernels.tiles(
        aPacked,
        bPacked,
        c,
        m,
        n,
        depth,
        accumulate,
        MAIN_SCRATCH,
        chunk * rows,
        Math.min(m, (chunk + 1) * rows),
        bias,
      );
      Atomics.add(words, COMPLETED, 1);
    }
    // The worker may still be inside its last chunk.
    while (Atomics.load(words, COMPLETED) < chunks) { /* spin: a chunk takes microseconds */ }
  }

  /** Stop the worker now (it would close by itself after half a second idle). */
  stop(): void {
    this.#worker?.terminate();
    this.#worker = null;
    Atomics.store(this.#words, STATE, NONE);
  }
}
