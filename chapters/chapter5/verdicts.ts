/**
 * Verdicts, each computed from the measurements by a small function with its thresholds
 * beside it; the reason is built from the numbers.
 */
import { formatRange, type Spread } from "./training.ts";

export type Grade = "right" | "partly right" | "wrong";

export interface Verdict {
  claim: string;
  grade: Grade;
  reason: string;
}

// "ReLU ignores the negative characteristics that MNIST needs" (the answer) ------------------

/**
 * How far below the sigmoid network a fixed ReLU network must score before ReLU itself is to
 * blame. Validation accuracy varies by about 0.02 across seeds (measured: see the notebook),
 * so a gap under 0.03 is noise; over 0.08 it would be a real deficit.
 */
export const RELU_GAP_THRESHOLDS = { noise: 0.03, real: 0.08 };

export interface ReluBlameEvidence {
  /** Validation accuracy of ReLU with the fix (log-sum-exp, a sane learning rate), over seeds. */
  reluFixed: Spread;
  /** Validation accuracy of sigmoid under the asker's own setting, over seeds. */
  sigmoid: Spread;
  /** Share of negative weights out of the fixed ReLU network's hidden units, over seeds. */
  negativeOutgoingShare: Spread;
  /** Collapsed runs of the asker's setting, and how many the softmax overflow explains. */
  collapsed: number;
  explainedByOverflow: number;
}

export function reluBlameVerdict(e: ReluBlameEvidence): Verdict {
  const gap = e.sigmoid.mean - e.reluFixed.mean;
  const accuracies = `ReLU with the fix scores ${formatRange(e.reluFixed)} against the ` +
    `sigmoid's ${formatRange(e.sigmoid)} (mean gap ${gap.toFixed(3)})`;
  const share = e.negativeOutgoingShare;
  const percent = formatRange({ min: 100 * share.min, max: 100 * share.max, mean: 0 }, 0);
  const negatives = `${percent}% of the weights out of its hidden units are negative, so a ` +
    `unit that fires is evidence against classes too`;
  const overflow = `${e.explainedByOverflow} of ${e.collapsed} collapses are softmax overflows`;
  let grade: Grade;
  if (gap > RELU_GAP_THRESHOLDS.real) grade = "right";
  else if (gap > RELU_GAP_THRESHOLDS.noise || e.explainedByOverflow < e.collapsed) {
    grade = "partly right";
  } else grade = "wrong";
  return {
    claim: `"ReLU ignores the negative characteristics" (the answer)`,
    grade,
    reason: `${accuracies}; ${negatives}; ${overflow}.`,
  };
}

// "A numerical issue" (the asker's hunch, in their title) -------------------------------------

export interface StabilityEvidence {
  /** The asker's ReLU passes lib's gradcheck. */
  reluGradcheckPassed: boolean;
  /** Collapsed float32 runs, and those whose first NaN came with a logit past 88.72. */
  collapsed: number;
  overflowAtFirstNaN: number;
  /** The same runs in float64: how many collapsed, and the largest logit seen. */
  float64Collapsed: number;
  float64Runs: number;
  float64LargestLogit: Spread;
  /** The log-sum-exp loss at the asker's 0.03: collapsed runs. */
  stableLossCollapsed: number;
  stableLossRuns: number;
}

/**
 * Right if the collapses are numerical and the asker's ReLU is where they arise; partly right
 * if they are numerical (every collapse an overflow, none in float64 or with a stable loss)
 * but the ReLU is correct; wrong if most collapses are not overflows.
 */
export function stabilityVerdict(e: StabilityEvidence): Verdict {
  const numerical = e.collapsed > 0 && e.overflowAtFirstNaN === e.collapsed &&
    e.float64Collapsed === 0 && e.stableLossCollapsed === 0;
  const mostlyOverflow = e.collapsed > 0 && e.overflowAtFirstNaN >= e.collapsed / 2;
  const facts = `${e.overflowAtFirstNaN} of ${e.collapsed} collapses start at the step where ` +
    `the largest logit passes ln(FLT_MAX) = 88.72; in float64 ${e.float64Collapsed} of ` +
    `${e.float64Runs} runs collapse (largest logit ${formatRange(e.float64LargestLogit, 0)}, ` +
    `below 709.78); with the log-sum-exp loss ${e.stableLossCollapsed} of ${e.stableLossRuns}`;
  const relu = e.reluGradcheckPassed
    ? "the asker's ReLU passes gradcheck, so the instability is in the softmax, not the ReLU"
    : "the asker's ReLU fails gradcheck";
  let grade: Grade;
  if (numerical && !e.reluGradcheckPassed) grade = "right";
  else if (numerical || mostlyOverflow) grade = "partly right";
  else grade = "wrong";
  return {
    claim: `"a numerical issue with relu activation" (the asker's hunch)`,
    grade,
    reason: `${facts}; ${relu}.`,
  };
}

// "Other learning rates gave the same result" (the asker) -------------------------------------

export interface LearningRateEvidence {
  epochs: number;
  /** Per learning rate other than the asker's 0.03 (naive softmax): runs, how many collapsed. */
  rates: { learningRate: number; runs: number; collapsed: number }[];
}

/** Right if every other rate collapses on every seed; wrong if none does; else partly right. */
export function learningRateVerdict(e: LearningRateEvidence): Verdict {
  const all = e.rates.every((r) => r.collapsed === r.runs);
  const none = e.rates.every((r) => r.collapsed === 0);
  const grade: Grade = all ? "right" : none ? "wrong" : "partly right";
  const list = e.rates.map((r) => `${r.learningRate}: ${r.collapsed} of ${r.runs}`).join(", ");
  return {
    claim: `"other learning rates gave the same result" (the asker)`,
    grade,
    reason: `runs that collapse within ${e.epochs} epochs, per learning rate: ${list}.`,
  };
}
