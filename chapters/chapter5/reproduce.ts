/**
 * Reproduce: the asker's setting from several seeds. Each run trains well for some epochs,
 * then the loss turns NaN and the accuracy drops to the share of class 0 and stays there.
 */
import { cpu } from "../../lib/backend/mod.ts";
import { argmax } from "../../lib/ops.ts";
import { argmaxRows } from "../../lib/metrics.ts";
import type { Backend } from "../../lib/backend/backend.ts";
import type { Budget } from "./budgets.ts";
import type { ChapterData } from "./question.ts";
import {
  ASKER_SETTING,
  type RunResult,
  runSeeds,
  type Setting,
  type Spread,
  spreadOf,
} from "./training.ts";

/** How the experiments get their data and report progress: the same for every section. */
export interface ExperimentOptions {
  budget: Budget;
  dataFor: (seed: number) => Promise<ChapterData>;
  backend?: Backend;
  onRun?: (run: RunResult) => void;
}

/** A setting with the budget's epochs. */
export function withBudget(setting: Setting, budget: Budget): Setting {
  return { ...setting, epochs: budget.epochs };
}

/** The asker's setting on every seed of the budget, trained to the last epoch as they did. */
export function reproduceCollapse(options: ExperimentOptions): Promise<RunResult[]> {
  const { budget, dataFor, backend, onRun } = options;
  return runSeeds(withBudget(ASKER_SETTING, budget), budget.seeds, dataFor, backend, onRun);
}

export interface CollapseSummary {
  runs: number;
  /** Runs whose loss became non-finite. */
  collapsed: number;
  /** The epoch of the first non-finite loss, over the collapsed runs. */
  collapseEpoch: Spread | null;
  /** Best training accuracy of an epoch before the collapse, over the collapsed runs. */
  bestAccuracyBefore: Spread | null;
  /**
   * Collapsed runs in which every epoch after the collapse scored exactly the share of class 0
   * on the training images, and the validation accuracy at the end is exactly its share there.
   */
  classZeroAfter: number;
  /** Collapsed runs that end with every weight NaN (so no later epoch can differ). */
  allWeightsNonFinite: number;
  /** The share of class 0 in the training and validation images (seed 0's training draw). */
  classZeroShare: { train: Spread; validation: number };
}

export function summariseCollapse(runs: RunResult[]): CollapseSummary {
  const collapsed = runs.filter((r) => r.collapse !== null);
  const epochOf = (r: RunResult) => r.collapse!.epoch;
  const before = collapsed
    .map((r) => r.epochs.filter((e) => e.epoch < epochOf(r)).map((e) => e.trainAccuracy))
    .filter((accuracies) => accuracies.length > 0)
    .map((accuracies) => Math.max(...accuracies));
  const classZeroAfter = collapsed.filter((r) => {
    const after = r.epochs.filter((e) => e.epoch > epochOf(r));
    return after.length > 0 &&
      after.every((e) => e.trainAccuracy === r.classZeroShare.train) &&
      r.validationAccuracy === r.classZeroShare.validation;
  }).length;
  return {
    runs: runs.length,
    collapsed: collapsed.length,
    collapseEpoch: collapsed.length ? spreadOf(collapsed.map(epochOf)) : null,
    bestAccuracyBefore: before.length ? spreadOf(before) : null,
    classZeroAfter,
    allWeightsNonFinite: collapsed.filter((r) => r.nonFiniteParameterFraction === 1).length,
    classZeroShare: {
      train: spreadOf(runs.map((r) => r.classZeroShare.train)),
      validation: runs[0].classZeroShare.validation,
    },
  };
}

/** What argmax says about a row of NaNs: lib's backend (training accuracy) and lib/metrics. */
export async function argmaxOfNanRow(classes = 10): Promise<{ backend: number; metrics: number }> {
  const row = new Float32Array(classes).fill(NaN);
  const [backendIndex] = await argmax(cpu.fromValues(row, [1, classes], "float32")).data();
  const [metricsIndex] = argmaxRows([row]);
  return { backend: backendIndex, metrics: metricsIndex };
}
