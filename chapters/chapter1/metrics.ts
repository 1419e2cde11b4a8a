/**
 * The measurements of Chapter 1, on predictions and logits read back from the model.
 *
 * `accuracy` is the correct metric; `broadcastAccuracy` and `batchBroadcastAccuracy` are the
 * asker's possible bug, built literally; the rest are what a decision table needs: the bound
 * that any correct accuracy obeys, all-zero logit rows, dead classes, a prediction histogram and
 * a permutation test.
 */
import { LN2, Random, SoftmaxCrossEntropy, tensor } from "../../lib/mod.ts";

// The library's argmax, accuracy and ln 2, re-exported so the chapter reads as one module.
export { accuracy, argmaxRows, LN2 } from "../../lib/mod.ts";
export const LN10 = Math.log(10);

function sameLength(where: string, predictions: ArrayLike<number>, labels: ArrayLike<number>) {
  if (predictions.length !== labels.length || labels.length === 0) {
    throw new Error(
      `${where}: needs as many predictions as labels (at least one), got ${predictions.length} predictions for ${labels.length} labels`,
    );
  }
}

/**
 * BROKEN ON PURPOSE: what `np.mean(predictions == labels)` computes when predictions have
 * shape (N,) and labels (N, 1). Broadcasting compares every prediction with every label, an
 * N x N table, and averages it. Counting the table's equal cells class by class gives
 *   mean = Σ_k (#predicted k)(#labelled k) / N²,
 * which is what this computes (the table itself is 10⁸ cells on 10,000 rows: 100 MB of NumPy
 * booleans, and 3.6 GB on 60,000 rows). With N/10 labels per class it is
 * (N/10) Σ_k #predicted k / N² = 1/10, for any predictions at all.
 */
export function broadcastAccuracy(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
): number {
  sameLength("broadcastAccuracy", predictions, labels);
  const predicted = new Map<number, number>(), labelled = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    predicted.set(predictions[i], (predicted.get(predictions[i]) ?? 0) + 1);
    labelled.set(labels[i], (labelled.get(labels[i]) ?? 0) + 1);
  }
  let equal = 0;
  for (const [k, count] of predicted) equal += count * (labelled.get(k) ?? 0);
  return equal / (labels.length * labels.length);
}

export interface BatchBroadcast {
  /** Mean over batches of the broadcast metric computed batch by batch. */
  mean: number;
  /** The lowest and highest batch. */
  lowest: number;
  highest: number;
  batches: number;
}

/**
 * The broadcast bug computed per minibatch, as a training loop that averages a batch metric
 * would: each batch of B rows gives a B x B table. Its expectation is not 1/10: the B diagonal
 * pairs agree with probability a (the true accuracy), the others with about 1/10, so
 *   E ≈ 1/10 + (a − 1/10)/B,   at most 1/10 + 0.9/B   (see `expectedBatchBroadcast`).
 * Rows are taken in `order` (a shuffled order, like a training loader's); a last short batch
 * is dropped so that every batch has B rows.
 */
export function batchBroadcastAccuracy(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  batchSize: number,
  order: ArrayLike<number>,
): BatchBroadcast {
  sameLength("batchBroadcastAccuracy", predictions, labels);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > labels.length) {
    throw new Error(
      `batchBroadcastAccuracy: batchSize must be an integer from 1 to ${labels.length}, got ${batchSize}`,
    );
  }
  const values: number[] = [];
  for (let start = 0; start + batchSize <= order.length; start += batchSize) {
    const rows = Array.from({ length: batchSize }, (_, i) => order[start + i]);
    values.push(
      broadcastAccuracy(rows.map((r) => predictions[r]), rows.map((r) => labels[r])),
    );
  }
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    lowest: Math.min(...values),
    highest: Math.max(...values),
    batches: values.length,
  };
}

/** E[per-batch broadcast metric] for true accuracy a, batch size B and C balanced classes. */
export function expectedBatchBroadcast(trueAccuracy: number, batchSize: number, classes = 10) {
  return 1 / classes + (trueAccuracy - 1 / classes) / batchSize;
}

/** A seeded shuffled order of `count` rows, for `batchBroadcastAccuracy`. */
export function shuffledOrder(count: number, seed: number): Uint32Array {
  return new Random(seed).permutation(count);
}

/** Fraction of rows whose logits are all exactly zero: argmax can only say "class 0" for them. */
export function allZeroRowFraction(logits: Float32Array[]): number {
  let zero = 0;
  for (const row of logits) if (row.every((v) => v === 0)) zero++;
  return zero / logits.length;
}

/** Classes whose logit is zero for every example: they can win only a tie. */
export function deadLogitClasses(logits: Float32Array[]): number[] {
  const classes = logits[0].length;
  const dead: number[] = [];
  for (let c = 0; c < classes; c++) if (logits.every((row) => row[c] === 0)) dead.push(c);
  return dead;
}

/** How many examples are predicted as each class. */
export function predictionHistogram(predictions: ArrayLike<number>, classes: number): number[] {
  const counts = new Array(classes).fill(0);
  for (let i = 0; i < predictions.length; i++) counts[predictions[i]]++;
  return counts;
}

/**
 * The least accuracy consistent with a mean cross-entropy L on the same examples.
 * A misclassified example has p_true ≤ 1/2 (another class is at least as likely),
 * so it contributes at least ln 2 to the sum: error ≤ L / ln 2.
 */
export function accuracyLowerBound(meanCrossEntropy: number): number {
  return Math.max(0, 1 - meanCrossEntropy / LN2);
}

/** Mean softmax cross-entropy of read-back logits, by the library's own loss on the CPU. */
export function meanCrossEntropy(logits: Float32Array[], labels: ArrayLike<number>): number {
  const classes = logits[0].length;
  const flat = new Float32Array(logits.length * classes);
  logits.forEach((row, i) => flat.set(row, i * classes));
  const loss = new SoftmaxCrossEntropy().forward(
    tensor(flat, [logits.length, classes]),
    tensor(Float32Array.from(labels), [labels.length]),
  );
  return (loss.storage as Float32Array)[0];
}

export interface PermutationTest {
  /** The metric on the true pairing of predictions and labels. */
  observed: number;
  /** The mean of the metric after shuffling the labels, over the trials. */
  shuffledMean: number;
  /** Largest |shuffled − observed|: zero means the metric ignores which prediction goes with which label. */
  largestChange: number;
}

/**
 * A metric that measures agreement must fall to chance when the labels are shuffled against
 * the predictions. One that does not move is not looking at the pairing, or the predictions
 * do not vary (a head that predicts one class also gives 0.1 either way).
 */
export function permutationTest(
  metric: (predictions: ArrayLike<number>, labels: ArrayLike<number>) => number,
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  trials = 5,
  seed = 0,
): PermutationTest {
  const observed = metric(predictions, labels);
  const random = new Random(seed);
  const shuffled = Array.from(
    { length: trials },
    () => metric(predictions, random.shuffle(Array.from(labels))),
  );
  return {
    observed,
    shuffledMean: shuffled.reduce((a, b) => a + b, 0) / trials,
    largestChange: Math.max(...shuffled.map((s) => Math.abs(s - observed))),
  };
}
