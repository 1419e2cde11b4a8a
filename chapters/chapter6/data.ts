/**
 * The data: the 8 Fashion-MNIST classes other than Pullover and Coat for pre-training, and
 * Pullover (0) against Coat (1) for fine-tuning: 1,000 + 1,000 training images, read
 * alternately (Pullover, Coat, Pullover, ...) as the tutorial's loader does, the first 1,600 for
 * training and the last 400 for validation; the 2,000 Pullover and Coat images of the test
 * split for the fix's held-out test. Pixels scaled to [0, 1].
 */
import { loadFashionMnist } from "../../lib/data/mod.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import { Random } from "../../lib/random.ts";

export const PULLOVER = 2, COAT = 4;
export const FINE_TUNE_CLASSES = ["Pullover", "Coat"] as const;
export const PER_CLASS = 1000, TRAIN_COUNT = 1600, VALIDATION_COUNT = 400;

/** Rows of `source` at `rows`, pixels / 255, with labels mapped by `labelOf`. */
function pick(
  name: string,
  source: Dataset,
  rows: ArrayLike<number>,
  labelOf: (label: number) => number,
  classes: number,
): Dataset {
  const inputs = new Float32Array(rows.length * 784);
  const labels = new Uint8Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const from = rows[r] * 784;
    for (let j = 0; j < 784; j++) inputs[r * 784 + j] = source.inputs[from + j] / 255;
    labels[r] = labelOf(source.labels![rows[r]]);
  }
  return { name, inputs, count: rows.length, features: 784, labels, classes, imageShape: [28, 28] };
}

/** Indices of `source`'s rows whose label is in `classes`. */
function rowsOf(source: Dataset, classes: number[]): number[] {
  const rows: number[] = [];
  for (let i = 0; i < source.count; i++) if (classes.includes(source.labels![i])) rows.push(i);
  return rows;
}

export interface ChapterData {
  /** The 8 other classes, relabelled 0..7 (pre-training) and their test images. */
  pretrain: Dataset;
  pretrainTest: Dataset;
  /** Pullover vs Coat, alternating: 1,600 training and 400 validation images. */
  train: Dataset;
  validation: Dataset;
  /** Every Pullover and Coat image of the test split. */
  test: Dataset;
}

let cached: { train: Dataset; test: Dataset } | null = null;

/** The chapter's datasets; `seed` chooses which 1,000 images of each class. */
export async function loadChapterData(seed: number, pretrainImages: number): Promise<ChapterData> {
  cached ??= await loadFashionMnist();
  const { train, test } = cached;
  const others = [0, 1, 3, 5, 6, 7, 8, 9];
  const relabel = (label: number) => others.indexOf(label);
  // The base's data is fixed (seed 2017), like a published pre-trained network.
  const otherRows = rowsOf(train, others);
  const order = new Random(2017).permutation(otherRows.length);
  const pretrainRows = Array.from(order.subarray(0, pretrainImages), (i) => otherRows[i]);
  const random = new Random(seed);
  const choose = (label: number) => {
    const rows = rowsOf(train, [label]);
    const chosen = random.permutation(rows.length).subarray(0, PER_CLASS);
    return Array.from(chosen, (i) => rows[i]);
  };
  const pullovers = choose(PULLOVER), coats = choose(COAT);
  const alternating = pullovers.flatMap((p, i) => [p, coats[i]]);
  const binary = (label: number) => (label === PULLOVER ? 0 : 1);
  return {
    pretrain: pick("8 other classes", train, pretrainRows, relabel, 8),
    // 2,000 of the 8,000 test images: enough to say the base learned (±1%), and quick.
    pretrainTest: pick(
      "8 other classes/test",
      test,
      rowsOf(test, others).slice(0, 2000),
      relabel,
      8,
    ),
    train: pick("pullover-coat/train", train, alternating.slice(0, TRAIN_COUNT), binary, 2),
    validation: pick("pullover-coat/validation", train, alternating.slice(TRAIN_COUNT), binary, 2),
    test: pick("pullover-coat/test", test, rowsOf(test, [PULLOVER, COAT]), binary, 2),
  };
}
