/**
 * Batchers: which rows each step trains on. `train()` reshuffles every epoch
 * (`ShuffledBatcher` is that order, for loops of your own); `FixedOrderBatcher`
 * is what many tutorials' `next_batch` does: walk the data in its stored order
 * and wrap around to the start, never reshuffling. With a fixed order, step i
 * always sees batch i mod (batches per epoch), which is what makes a progress
 * line printed every k steps repeat (Chapter 6).
 *
 * @module
 */
import { Random } from "../random.ts";
import { positiveInteger } from "./validate.ts";

/** Hands out the row indices of successive batches. */
export interface Batcher {
  /** The rows of the next batch. */
  next(): Uint32Array;
  /** Full batches in one pass over the data. */
  readonly batchesPerEpoch: number;
}

/**
 * Batches of `batchSize` consecutive rows in stored order: batch b holds rows
 * [b·size, (b + 1)·size). A remainder too small for a full batch is skipped and
 * the walk starts again at row 0, as in tutorials that reset the index when
 * `start + batch_size > n` (so every batch has the same size). No reshuffle.
 *
 * @example
 * ```ts
 * import { FixedOrderBatcher } from "../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const batcher = new FixedOrderBatcher(10, 4); // rows 8, 9 are never visited
 * assert.deepEqual([...batcher.next()], [0, 1, 2, 3]);
 * assert.deepEqual([...batcher.next()], [4, 5, 6, 7]);
 * assert.deepEqual([...batcher.next()], [0, 1, 2, 3]); // wrapped: period 2 batches
 * ```
 */
export class FixedOrderBatcher implements Batcher {
  readonly batchesPerEpoch: number;
  /** The index of the batch the next call returns. */
  batchIndex = 0;

  /**
   * Batches over `count` rows in their stored order.
   *
   * @param count rows in the data
   * @param batchSize rows per batch, at most `count`
   */
  constructor(readonly count: number, readonly batchSize: number) {
    positiveInteger("FixedOrderBatcher", "count", count);
    positiveInteger("FixedOrderBatcher", "batchSize", batchSize);
    if (batchSize > count) {
      throw new Error(
        `FixedOrderBatcher: batchSize ${batchSize} is larger than the ${count} rows of the data`,
      );
    }
    this.batchesPerEpoch = Math.floor(count / batchSize);
  }

  next(): Uint32Array {
    const start = this.batchIndex * this.batchSize;
    this.batchIndex = (this.batchIndex + 1) % this.batchesPerEpoch;
    return Uint32Array.from({ length: this.batchSize }, (_, i) => start + i);
  }
}

/**
 * `train()`'s order: a fresh permutation of the rows every epoch (seeded), cut
 * into batches; the last batch of an epoch may be smaller.
 */
export class ShuffledBatcher implements Batcher {
  readonly batchesPerEpoch: number;
  readonly #random: Random;
  #order: Uint32Array = new Uint32Array(0);
  #position = 0;

  /**
   * Batches over `count` rows, reshuffled every epoch as train() does.
   *
   * @param count rows in the data
   * @param batchSize rows per batch
   * @param seed seeds the permutations (default 0)
   */
  constructor(readonly count: number, readonly batchSize: number, seed = 0) {
    positiveInteger("ShuffledBatcher", "count", count);
    positiveInteger("ShuffledBatcher", "batchSize", batchSize);
    this.batchesPerEpoch = Math.ceil(count / batchSize);
    this.#random = new Random(seed);
  }

  next(): Uint32Array {
    if (this.#position >= this.#order.length) {
      this.#order = this.#random.permutation(this.count);
      this.#position = 0;
    }
    const batch = this.#order.slice(this.#position, this.#position + this.batchSize);
    this.#position += this.batchSize;
    return batch;
  }
}
