/**
 * The chapter's budgets, one object used by the notebook's first cell, `deno task chapter2` and
 * the tests: `full` is what the prose describes, `smoke` checks in seconds that the code runs.
 */
export interface Budget {
  /** Training digits for the reproduction and the fix (8,000 is the whole split). */
  trainCount: number;
  /** Full-batch steps of the zero-initialised reproduction (lr 0.3). */
  reproductionSteps: number;
  /** The sweep over what the asker changed: its training digits, and steps × lr per run. */
  sweepTrainCount: number;
  sweepStepsAtLearningRateOne: number;
  /** Sigmoid hidden units from zeros: training digits, steps, and the steps it is read at. */
  symmetryTrainCount: number;
  symmetrySteps: number;
  symmetryCheckpoints: number[];
  /** Steps of each Glorot run beside it. */
  glorotSteps: number;
  /** Steps of each He run, and the steps at which the two outputs are compared. */
  fixSteps: number;
  fixHorizons: number[];
  /** How many seeds, from the chosen one up, for everything that draws random numbers. */
  seedCount: number;
}

export const BUDGETS: { full: Budget; smoke: Budget } = {
  full: {
    trainCount: 8000,
    reproductionSteps: 90,
    sweepTrainCount: 500,
    sweepStepsAtLearningRateOne: 36,
    symmetryTrainCount: 1000,
    symmetrySteps: 600,
    symmetryCheckpoints: [60, 600],
    glorotSteps: 60,
    fixSteps: 30,
    fixHorizons: [5, 10, 20, 30],
    seedCount: 3,
  },
  smoke: {
    trainCount: 500,
    reproductionSteps: 5,
    sweepTrainCount: 100,
    sweepStepsAtLearningRateOne: 3,
    symmetryTrainCount: 200,
    symmetrySteps: 6,
    symmetryCheckpoints: [3, 6],
    glorotSteps: 3,
    fixSteps: 4,
    fixHorizons: [2, 4],
    seedCount: 2,
  },
};

/** The seeds a budget runs from `first`: first, first + 1, ... */
export function seedsFor(budget: Budget, first = 0): number[] {
  if (!Number.isSafeInteger(first) || first < 0) {
    throw new Error(`seedsFor: the first seed must be a whole number >= 0, got ${first}`);
  }
  return Array.from({ length: budget.seedCount }, (_, i) => first + i);
}
