/**
 * Training: `train()` (minibatch epochs with hooks, validation and a
 * non-finite stop), `trainFullBatch()`, `evaluate()`, `predict()`, and their
 * types. The loop is in loop.ts; the rest is split by concern.
 *
 * @module
 */
export * from "./types.ts";
export { releaseUploads } from "./device_data.ts";
export { evaluate, type Evaluation, predict } from "./evaluate.ts";
export { type FullBatchHistory, train, trainFullBatch } from "./loop.ts";
export { type Batcher, FixedOrderBatcher, ShuffledBatcher } from "./batcher.ts";
