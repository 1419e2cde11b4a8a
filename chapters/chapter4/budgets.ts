/**
 * The chapter's budgets, used by the notebook's first cell, the task and the tests. `full` is
 * what the notebook and `deno task chapter4` run (about 2 minutes on two idle cores); `smoke` only
 * checks that the code runs.
 */
import type { RunBudget } from "./training.ts";

export interface ChapterBudget {
  /** How many consecutive seeds each setting is trained from. */
  seedCount: number;
  /** The N = 30,000 runs and the settings compared. */
  run: RunBudget;
  /** The N = 500 run is trained longer, to see it overfit. */
  smallSteps: number;
  /** Steps of the linear baseline (softmax regression). */
  baselineSteps: number;
}

export const BUDGETS: { full: ChapterBudget; smoke: ChapterBudget } = {
  full: {
    seedCount: 3,
    run: { steps: 300, batchSize: 16, snapshots: 10, curveRows: 200 },
    smallSteps: 800,
    baselineSteps: 600,
  },
  smoke: {
    seedCount: 1,
    run: { steps: 30, batchSize: 16, snapshots: 3, curveRows: 100 },
    smallSteps: 40,
    baselineSteps: 30,
  },
};

/** `count` consecutive seeds from `seed`. */
export function seedsFrom(seed: number, count: number): number[] {
  if (!Number.isInteger(seed) || seed < 0 || !Number.isInteger(count) || count < 1) {
    throw new Error(`seedsFrom: need a whole seed >= 0 and a count >= 1, got ${seed}, ${count}`);
  }
  return Array.from({ length: count }, (_, i) => seed + i);
}
