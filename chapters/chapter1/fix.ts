/**
 * The fix: a linear head, measured with a correct accuracy, beside the ReLU head at the same
 * budget and seed.
 */
import type { RunResult, TestReport } from "./reproduce.ts";

export interface HeadComparison {
  reluValidation: number;
  linearValidation: number;
  /** linear − ReLU, final validation accuracy. */
  gap: number;
  reluTest: number;
  linearTest: number;
  reluAllZeroRows: number;
  linearAllZeroRows: number;
  reluDeadClasses: number[];
}

export function compareHeads(
  relu: RunResult,
  linear: RunResult,
  reluTest: TestReport,
  linearTest: TestReport,
): HeadComparison {
  const reluValidation = relu.measurements.at(-1)!.accuracy;
  const linearValidation = linear.measurements.at(-1)!.accuracy;
  return {
    reluValidation,
    linearValidation,
    gap: linearValidation - reluValidation,
    reluTest: reluTest.accuracy,
    linearTest: linearTest.accuracy,
    reluAllZeroRows: reluTest.allZeroRows,
    linearAllZeroRows: linearTest.allZeroRows,
    reluDeadClasses: reluTest.deadClasses,
  };
}

/** Below this gap in validation accuracy we call the heads level at this seed. */
export const LEVEL_GAP = 0.01;

/** A sentence built from the comparison, for the task and the notebook. */
export function describeComparison(c: HeadComparison): string {
  const level = Math.abs(c.gap) < LEVEL_GAP;
  const heads = level
    ? `the heads are level at this seed (validation ${c.reluValidation.toFixed(3)} ReLU, ${
      c.linearValidation.toFixed(3)
    } linear)`
    : `the ${c.gap > 0 ? "linear" : "ReLU"} head is ahead by ${
      Math.abs(c.gap).toFixed(3)
    } at this seed (validation ${c.reluValidation.toFixed(3)} ReLU, ${
      c.linearValidation.toFixed(3)
    } linear)`;
  const dead = c.reluAllZeroRows > 0 || c.reluDeadClasses.length > 0
    ? `; the ReLU head left ${
      (100 * c.reluAllZeroRows).toFixed(1)
    }% of test rows all zero and ${c.reluDeadClasses.length} dead classes`
    : "; the ReLU head has no all-zero row and no dead class here";
  return heads + dead;
}
