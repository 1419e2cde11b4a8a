/**
 * What the chapter runs, in one place: the notebook's first cell, the task and the tests read it.
 *
 * `full` is what the chapter's prose states (seeds 0-4); `smoke` is the notebook smoke test's
 * budget (it checks that the cells run, not what they show).
 */
export interface Budget {
  /** Every claim is measured on each of these seeds (initialisation, shuffling, the 500 images). */
  seeds: number[];
  /** Epochs per run (the asker's 50). */
  epochs: number;
  /** The learning rates tried besides the asker's 0.03 (the asker: "other rates gave the same"). */
  sweepLearningRates: number[];
}

export const BUDGETS: { full: Budget; smoke: Budget } = {
  full: { seeds: [0, 1, 2, 3, 4], epochs: 50, sweepLearningRates: [0.1, 0.01] },
  smoke: { seeds: [0], epochs: 2, sweepLearningRates: [0.01] },
};

/** The same budget on other seeds: `--seed 10` runs seeds 10-14. */
export function budgetFrom(firstSeed: number, budget: Budget = BUDGETS.full): Budget {
  return { ...budget, seeds: budget.seeds.map((_, i) => firstSeed + i) };
}
