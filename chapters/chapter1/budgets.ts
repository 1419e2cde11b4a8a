/**
 * The budgets of Chapter 1, used by the task, the notebook's first cell and the tests.
 */
import type { OptimizerSetting } from "./reproduce.ts";

export const ADAM_DEFAULT: OptimizerSetting = { name: "adam", learningRate: 1e-3 };
export const ADAM_BRISK: OptimizerSetting = { name: "adam", learningRate: 1e-2 };
export const PLAIN_SGD: OptimizerSetting = { name: "sgd", learningRate: 0.1 };

export interface StoryBudget {
  /** Training rows (undefined: all 50,000). */
  trainCount?: number;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerSetting;
  /** Validation measurements per epoch: the learning curve's resolution. */
  measurementsPerEpoch: number;
}

export interface SweepBudget {
  /** The sweep runs the chapter's seed and the next ones: seed, seed + 1, ... */
  seedCount: number;
  optimizers: OptimizerSetting[];
  epochs: number;
  batchSize: number;
  trainCount: number;
}

export interface Budget {
  story: StoryBudget;
  sweep: SweepBudget;
}

export const BUDGETS: { full: Budget; smoke: Budget } = {
  full: {
    story: { epochs: 2, batchSize: 64, optimizer: ADAM_DEFAULT, measurementsPerEpoch: 4 },
    sweep: {
      seedCount: 5,
      optimizers: [ADAM_DEFAULT, ADAM_BRISK, PLAIN_SGD],
      epochs: 2,
      batchSize: 64,
      trainCount: 10_000,
    },
  },
  smoke: {
    story: {
      trainCount: 2000,
      epochs: 1,
      batchSize: 64,
      optimizer: ADAM_DEFAULT,
      measurementsPerEpoch: 4,
    },
    sweep: { seedCount: 1, optimizers: [ADAM_BRISK], epochs: 1, batchSize: 64, trainCount: 2000 },
  },
};

/** The seeds of the sweep for a chapter seed: seed, seed + 1, ..., seed + count − 1. */
export function sweepSeeds(seed: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => seed + i);
}
