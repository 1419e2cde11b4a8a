/**
 * Why the printed numbers repeat: the batching, not the bug. With fixed-order batches and a
 * progress line every `printEvery` iterations, line k shows training batch
 * (k · printEvery) mod B_train and validation batch (k · printEvery) mod B_val, where B is
 * the number of full batches per epoch. The training index is constant when printEvery is a
 * multiple of B_train (here 50 = 1,600 / 32); the validation index cycles with period
 * B_val / gcd(printEvery, B_val) lines (here 12 / gcd(50, 12) = 6).
 */
export function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export interface PrintPattern {
  trainBatches: number;
  validationBatches: number;
  /** The batch each line shows, for lines 0..lines−1. */
  trainBatchAtLine: number[];
  validationBatchAtLine: number[];
  /** Lines before the index repeats: B / gcd(printEvery, B). */
  trainPeriod: number;
  validationPeriod: number;
}

/** The batch indices the progress lines show, derived from the sizes alone. */
export function printPattern(
  trainCount: number,
  validationCount: number,
  batchSize: number,
  printEvery: number,
  lines: number,
): PrintPattern {
  const trainBatches = Math.floor(trainCount / batchSize);
  const validationBatches = Math.floor(validationCount / batchSize);
  const at = (batches: number) =>
    Array.from({ length: lines }, (_, k) => (k * printEvery) % batches);
  return {
    trainBatches,
    validationBatches,
    trainBatchAtLine: at(trainBatches),
    validationBatchAtLine: at(validationBatches),
    trainPeriod: trainBatches / gcd(printEvery, trainBatches),
    validationPeriod: validationBatches / gcd(printEvery, validationBatches),
  };
}

/** A batch's make-up: how many of each class, and what a one-class prediction scores on it. */
export interface BatchComposition {
  counts: number[];
  /** Accuracy if every image is predicted as class c: counts[c] / size. */
  oneClassAccuracy: number[];
}

/** The composition of rows [start, start + size) of `labels`. */
export function batchComposition(
  labels: ArrayLike<number>,
  start: number,
  size: number,
  classes: number,
): BatchComposition {
  const counts = new Array(classes).fill(0);
  for (let i = start; i < start + size; i++) counts[labels[i]]++;
  return { counts, oneClassAccuracy: counts.map((n) => n / size) };
}

/**
 * The printed training accuracy from batch 0's composition and the head's predictions on it:
 * (correct Pullovers + correct Coats) / 32. With every image predicted as one class c it is
 * counts[c] / 32, which a batch of 16 and 16 makes 16 / 32 = 50.00% for either class.
 */
export function accuracyFromComposition(
  counts: number[],
  correctByClass: number[],
): number {
  const size = counts.reduce((a, b) => a + b, 0);
  return correctByClass.reduce((a, b) => a + b, 0) / size;
}
