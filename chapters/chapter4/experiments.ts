/**
 * Every experiment of chapter 4 in one call, and the numbers each claim is judged on:
 *
 *   reproduce  sigmoid units, SGD, N = 30,000: the picture (only one layer's biases move)
 *   small      the same on N = 500, trained longer: what overfitting looks like
 *   settings   ReLU with He weights and SGD, sigmoid with Adam, tanh with SGD: which reproduce it
 *   baseline   softmax regression on the 50 components
 */
import type { Backend } from "../../lib/backend/backend.ts";
import { mlp } from "../../lib/layers/sequential.ts";
import { SoftmaxCrossEntropy } from "../../lib/losses.ts";
import { Adam } from "../../lib/optim.ts";
import { evaluate, train } from "../../lib/train.ts";
import { type ChapterBudget, seedsFrom } from "./budgets.ts";
import type { ChapterData } from "./data.ts";
import {
  buildNetwork,
  countParameters,
  mean,
  RELU_SGD,
  type RunResult,
  runSetting,
  type Setting,
  SIGMOID_ADAM,
  SIGMOID_SGD,
  standardDeviation,
  TANH_SGD,
} from "./training.ts";
import { chapterBackend } from "../backend.ts";

/** What the answer claimed, in its own numbers. */
export const ANSWER = {
  claimedWeights: 6_250_000,
  claimedNeurons: 1_055,
} as const;

export const SMALL_COUNT = 500;

/** The numbers of one run that the chapter's claims use. */
export interface RunSummary {
  label: string;
  seed: number;
  trainCount: number;
  /** Standard deviation of each layer's biases at the end (all start at 0). */
  biasSpread: number[];
  /** Largest minus smallest bias per layer at the end. */
  biasRange: number[];
  /** RMS of ∂L/∂b per layer over the run. */
  biasGradientRms: number[];
  /** Output-layer RMS over the larger of the two hidden layers'. */
  gradientRatio: number;
  /** The largest |mean of the output biases − its initial value| at any snapshot. */
  outputMeanDrift: number;
  /** The largest |Σ_k ∂L/∂b_k| over the steps. */
  largestGradientSum: number;
  /** Mean activation of the top hidden layer: at step 1, its lowest in the first 50 steps, at the end. */
  topHidden: { first: number; lowest: number; lowestStep: number; last: number };
  compensationCorrelation: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Train minus test accuracy. */
  gap: number;
  trainAccuracyWithoutOutputBias: number;
}

export function summariseRun(run: RunResult): RunSummary {
  const first = run.snapshots[0];
  const last = run.snapshots.at(-1)!;
  const outputMean0 = mean(first.biases[2]);
  const [h1, h2, out] = run.biasGradientRms;
  const early = run.topHiddenMean.slice(0, 50);
  const lowest = Math.min(...early);
  return {
    label: run.setting.label,
    seed: run.seed,
    trainCount: run.trainCount,
    biasSpread: last.biases.map(standardDeviation),
    biasRange: last.biases.map((b) => Math.max(...b) - Math.min(...b)),
    biasGradientRms: run.biasGradientRms,
    gradientRatio: out / Math.max(h1, h2),
    outputMeanDrift: Math.max(
      ...run.snapshots.map((s) => Math.abs(mean(s.biases[2]) - outputMean0)),
    ),
    largestGradientSum: Math.max(...run.outputGradientSums.map(Math.abs)),
    topHidden: {
      first: run.topHiddenMean[0],
      lowest,
      lowestStep: early.indexOf(lowest) + 1,
      last: run.topHiddenMean.at(-1)!,
    },
    compensationCorrelation: run.final.compensationCorrelation,
    trainAccuracy: run.final.trainAccuracy,
    testAccuracy: run.final.testAccuracy,
    gap: run.final.trainAccuracy - run.final.testAccuracy,
    trainAccuracyWithoutOutputBias: run.final.trainAccuracyWithoutOutputBias,
  };
}

export interface ChapterResults {
  seeds: number[];
  budget: ChapterBudget;
  data: {
    train: number;
    test: number;
    features: number;
    classes: number;
    explainedVariance: number;
    /** The best accuracy of a constant prediction on the training rows. */
    largestClassShare: number;
  };
  parameterCount: RunResult["parameterCount"];
  /** Units with a bias (500 + 500 + 5) and the count with the inputs (50 more). */
  neurons: { withBias: number; withInputs: number };
  baselineTestAccuracy: number[];
  reproduce: RunResult[];
  small: RunResult[];
  relu: RunResult[];
  adam: RunResult[];
  tanh: RunResult[];
}

export interface ExperimentOptions {
  seed?: number;
  budget: ChapterBudget;
  backend?: Backend;
  /** Told each run as it ends (a progress line). */
  onRun?: (run: RunResult) => void;
}

/** Softmax regression on the components: the linear baseline. */
export async function linearBaseline(
  data: ChapterData,
  seed: number,
  steps: number,
  backend?: Backend,
): Promise<number> {
  const model = mlp([data.train.features, data.train.classes!], {
    seed,
    backend: backend ?? chapterBackend(),
  });
  const batchSize = 64;
  await train({
    model,
    loss: new SoftmaxCrossEntropy(),
    optimizer: new Adam({ learningRate: 0.01 }),
    train: data.train,
    epochs: Math.ceil(steps * batchSize / data.train.count),
    maxSteps: steps,
    batchSize,
    seed,
    progress: "none",
  });
  return (await evaluate(model, new SoftmaxCrossEntropy(), data.test)).accuracy!;
}

export async function runChapterExperiments(
  data: ChapterData,
  options: ExperimentOptions,
): Promise<ChapterResults> {
  const { budget, backend, onRun } = options;
  const seeds = seedsFrom(options.seed ?? 0, budget.seedCount);
  const runs = async (setting: Setting, count: number, steps = budget.run.steps) => {
    const out: RunResult[] = [];
    for (const seed of seeds) {
      const run = await runSetting(data, setting, seed, count, { ...budget.run, steps }, {
        backend,
      });
      onRun?.(run);
      out.push(run);
    }
    return out;
  };
  const model = buildNetwork(SIGMOID_SGD, 0, backend);
  const baselineTestAccuracy: number[] = [];
  for (const seed of seeds) {
    baselineTestAccuracy.push(await linearBaseline(data, seed, budget.baselineSteps, backend));
  }
  const sizes = [50, 500, 500, 5];
  return {
    seeds,
    budget,
    data: {
      train: data.train.count,
      test: data.test.count,
      features: data.train.features,
      classes: data.train.classes!,
      explainedVariance: data.explainedVariance,
      largestClassShare: largestShare(data.train.labels!, data.train.classes!),
    },
    parameterCount: countParameters(model),
    neurons: {
      withBias: sizes.slice(1).reduce((a, b) => a + b, 0),
      withInputs: sizes.reduce((a, b) => a + b, 0),
    },
    baselineTestAccuracy,
    reproduce: await runs(SIGMOID_SGD, data.train.count),
    small: await runs(SIGMOID_SGD, SMALL_COUNT, budget.smallSteps),
    relu: await runs(RELU_SGD, data.train.count),
    adam: await runs(SIGMOID_ADAM, data.train.count),
    tanh: await runs(TANH_SGD, data.train.count),
  };
}

/** min to max over seeds, e.g. "0.76-0.81". */
export function range(values: number[], digits = 3): string {
  const f = (v: number) => formatNumber(v, digits);
  const lo = Math.min(...values), hi = Math.max(...values);
  return f(lo) === f(hi) ? f(lo) : `${f(lo)} to ${f(hi)}`;
}

/** A number with `digits` significant digits, thousands separated, no exponent above 1e-4. */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 1e-4) return value.toExponential(digits - 1);
  if (Number.isInteger(value) && Math.abs(value) >= 1000) return value.toLocaleString("en-US");
  return Number(value.toPrecision(digits)).toLocaleString("en-US", { maximumFractionDigits: 8 });
}

/** Which settings reproduce the picture: a candidate "layer2" moves visibly, layer 1 does not. */
export const PICTURE_SPREAD = 0.04;

export interface SettingRow {
  setting: string;
  /** Per layer, the end-of-run bias spread (std) across seeds. */
  spreads: number[][];
  gradientRatio: number[];
  outputMeanDrift: number[];
  testAccuracy: number[];
  /** In how many seeds linear1 stays below PICTURE_SPREAD while linear2 or the output exceeds it. */
  reproduces: number;
}

export function settingRows(results: ChapterResults): SettingRow[] {
  return [results.reproduce, results.relu, results.adam, results.tanh].map((runs) => {
    const summaries = runs.map(summariseRun);
    return {
      setting: runs[0].setting.label,
      spreads: summaries.map((s) => s.biasSpread),
      gradientRatio: summaries.map((s) => s.gradientRatio),
      outputMeanDrift: summaries.map((s) => s.outputMeanDrift),
      testAccuracy: summaries.map((s) => s.testAccuracy),
      reproduces: summaries.filter(({ biasSpread: [first, second, output] }) =>
        first < PICTURE_SPREAD && (second > PICTURE_SPREAD || output > PICTURE_SPREAD)
      ).length,
    };
  });
}

function largestShare(labels: Uint8Array, classes: number): number {
  const counts = new Array<number>(classes).fill(0);
  for (const label of labels) counts[label]++;
  return Math.max(...counts) / labels.length;
}
