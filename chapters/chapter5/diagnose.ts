/**
 * Diagnose: two mechanisms give a ~0.1 accuracy, and measurements tell them apart.
 *
 * Softmax overflow: exp(z) is Infinity in float32 once a logit z passes ln(FLT_MAX) = 88.72,
 * and Infinity / Infinity is NaN; the NaN gradient makes every weight NaN in one update. In
 * float64 the threshold is 709.78, which is why NumPy-default code rarely shows it.
 * Dying ReLU: every hidden unit's input is negative on every image, the output is constant,
 * and the loss sits at ln 10 (a uniform guess), finite.
 *
 * Each is a run of the chapter's network; `classifyRun` is the decision table.
 */
import { ASKER_SETTING, type RunResult, runSeeds, type Setting } from "./training.ts";
import { type ExperimentOptions, withBudget } from "./reproduce.ts";
import { FLOAT32_EXP_LIMIT, FLOAT64_EXP_LIMIT, LN10 } from "./question.ts";

/** The asker's setting in float64 (the NumPy default): same seeds, same shuffles. */
export const FLOAT64_SETTING: Setting = {
  ...ASKER_SETTING,
  dtype: "float64",
  continueAfterCollapse: false,
};
/** Sigmoid hidden units under the asker's optimiser and naive softmax. */
export const SIGMOID_SETTING: Setting = { ...ASKER_SETTING, activation: "sigmoid" };
/** Plain SGD at a large learning rate with a stable loss: the textbook dying ReLU. */
export const DYING_RELU_SETTING: Setting = {
  ...ASKER_SETTING,
  loss: "log-sum-exp",
  optimizer: "sgd",
  learningRate: 3,
};

export function float64Runs(options: ExperimentOptions): Promise<RunResult[]> {
  return runOn(FLOAT64_SETTING, options);
}

export function sigmoidRuns(options: ExperimentOptions): Promise<RunResult[]> {
  return runOn(SIGMOID_SETTING, options);
}

export function dyingReluRuns(options: ExperimentOptions): Promise<RunResult[]> {
  return runOn(DYING_RELU_SETTING, options);
}

/** The asker's setting at other learning rates (each run stops one epoch after a collapse). */
export async function learningRateSweep(
  options: ExperimentOptions,
): Promise<{ learningRate: number; runs: RunResult[] }[]> {
  const sweep = [];
  for (const learningRate of options.budget.sweepLearningRates) {
    const setting = { ...ASKER_SETTING, learningRate, continueAfterCollapse: false };
    sweep.push({ learningRate, runs: await runOn(setting, options) });
  }
  return sweep;
}

function runOn(setting: Setting, options: ExperimentOptions): Promise<RunResult[]> {
  const { budget, dataFor, backend, onRun } = options;
  return runSeeds(withBudget(setting, budget), budget.seeds, dataFor, backend, onRun);
}

// The decision table --------------------------------------------------------------------------

export type Mechanism = "softmax overflow" | "dying ReLU" | "learning" | "other failure";

/** Thresholds of the decision table, with why. */
export const DECISION_THRESHOLDS = {
  /** A uniform guess over ten classes scores ln 10 = 2.303; a dead network cannot beat it by much. */
  lossNearLn10: 0.1,
  /** "Nearly all units dead": in at least one hidden layer, at least 90% of units never fire. */
  deadShare: 0.9,
  /** A network that learned anything from 500 images scores far above the ~0.1 of a constant guess. */
  learnedAccuracy: 0.5,
};

export interface RunEvidence {
  /** The collapse (weights turned NaN), if any: were that step's logits finite, the largest. */
  collapse: { logitsFinite: boolean; largestLogit: number } | null;
  dtype: "float32" | "float64";
  finalTrainLoss: number;
  /** Largest dead share over the hidden layers, at the end (empty network state: NaN). */
  largestDeadShare: number;
  validationAccuracy: number;
}

export function evidenceOf(run: RunResult): RunEvidence {
  return {
    collapse: run.collapse
      ? { logitsFinite: run.collapse.logitsFinite, largestLogit: run.collapse.largestLogit }
      : null,
    dtype: run.setting.dtype,
    finalTrainLoss: run.finalTrainLoss,
    largestDeadShare: run.deadFraction.length ? Math.max(...run.deadFraction) : 0,
    validationAccuracy: run.validationAccuracy,
  };
}

/**
 * Which mechanism a run shows. Rows, in order:
 *  1. the weights turned NaN (the collapse) at a step whose logits were all finite and whose
 *     largest logit passed ln(max float) of the run's dtype: softmax overflow;
 *  2. any other collapse: another numerical failure (not separated further here);
 *  3. no collapse, the loss within 0.1 of ln 10, and at least 90% of some hidden layer dead:
 *     dying ReLU;
 *  4. no collapse and a validation accuracy of at least 0.5: learning;
 *  5. anything else: another failure.
 */
export function classifyRun(evidence: RunEvidence): { mechanism: Mechanism; reason: string } {
  const t = DECISION_THRESHOLDS;
  const limit = evidence.dtype === "float64" ? FLOAT64_EXP_LIMIT : FLOAT32_EXP_LIMIT;
  const c = evidence.collapse;
  if (c && c.logitsFinite && c.largestLogit > limit) {
    return {
      mechanism: "softmax overflow",
      reason: `the weights turned NaN at a step with finite logits, the largest ` +
        `${c.largestLogit.toFixed(2)} > ln(max ${evidence.dtype}) = ${limit.toFixed(2)}`,
    };
  }
  if (c) {
    return {
      mechanism: "other failure",
      reason: `the weights turned NaN, but not from the softmax (largest logit ` +
        `${c.largestLogit.toFixed(2)}, logits ${c.logitsFinite ? "finite" : "not finite"})`,
    };
  }
  const dead = `${(100 * evidence.largestDeadShare).toFixed(0)}% of a hidden layer dead`;
  if (
    Math.abs(evidence.finalTrainLoss - LN10) <= t.lossNearLn10 &&
    evidence.largestDeadShare >= t.deadShare
  ) {
    return {
      mechanism: "dying ReLU",
      reason: `finite loss ${evidence.finalTrainLoss.toFixed(3)} (ln 10 = ${
        LN10.toFixed(3)
      }), ${dead}`,
    };
  }
  if (evidence.validationAccuracy >= t.learnedAccuracy) {
    return {
      mechanism: "learning",
      reason: `finite weights, validation accuracy ${evidence.validationAccuracy.toFixed(3)}`,
    };
  }
  return {
    mechanism: "other failure",
    reason: `finite loss ${evidence.finalTrainLoss.toFixed(3)}, validation accuracy ` +
      `${evidence.validationAccuracy.toFixed(3)}, ${dead}`,
  };
}

/** How many runs of a group each mechanism explains. */
export function mechanismCounts(runs: RunResult[]): Record<Mechanism, number> {
  const counts: Record<Mechanism, number> = {
    "softmax overflow": 0,
    "dying ReLU": 0,
    "learning": 0,
    "other failure": 0,
  };
  for (const run of runs) counts[classifyRun(evidenceOf(run)).mechanism]++;
  return counts;
}

/** Collapsed runs whose first NaN step had its largest logit past ln(FLT_MAX), and none before. */
export function overflowAtFirstNaN(runs: RunResult[]): number {
  return runs.filter((r) =>
    r.collapse !== null && r.collapse.logitsFinite &&
    r.collapse.largestLogit > FLOAT32_EXP_LIMIT && r.collapse.largestLogitBefore < FLOAT32_EXP_LIMIT
  ).length;
}
