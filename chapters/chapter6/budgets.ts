/**
 * Chapter 6's budgets, used by the notebook's first cell, `deno task chapter6` and the tests.
 * Full: the base pre-trained on 4,000 images for 2 epochs (cached), the tutorial's 600
 * iterations (13 progress lines) and the fixes on seeds 0-2 (the task runs K..K+2 from
 * `--seed K`). Smoke: a smaller base and shorter runs on two seeds, to check that every cell runs.
 */
export interface Budget {
  /** Seeds of the fine-tuning runs (the head's initialisation, which 1,000 images per class). */
  seeds: number[];
  /** Pre-training images (of the 8 other classes) and epochs; the base's seed is fixed. */
  pretrainImages: number;
  pretrainEpochs: number;
  /** Tutorial iterations (batches of 32), progress every 50. */
  iterations: number;
  /** Epochs of the fixed head (true labels, reshuffled) and of the unfrozen last conv block. */
  fixEpochs: number;
  unfreezeEpochs: number;
}

export const BUDGETS: { full: Budget; smoke: Budget } = {
  full: {
    seeds: [0, 1, 2],
    pretrainImages: 4000,
    pretrainEpochs: 2,
    iterations: 600,
    fixEpochs: 10,
    unfreezeEpochs: 2,
  },
  smoke: {
    seeds: [0, 1],
    pretrainImages: 800,
    pretrainEpochs: 1,
    iterations: 151,
    fixEpochs: 2,
    unfreezeEpochs: 1,
  },
};

/** seed, seed + 1, seed + 2: the task's seeds from `--seed`. */
export function seedsFrom(seed: number, count = 3): number[] {
  return Array.from({ length: count }, (_, i) => seed + i);
}
