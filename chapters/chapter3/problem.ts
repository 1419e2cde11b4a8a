/**
 * The problem every experiment of chapter 3 uses: a 1-D regression whose noise we know,
 *
 *   y = sin 2x + 0.3x + ε,   ε ~ N(0, 0.1²),   x uniform in [−3, 3],
 *
 * so that the mean squared error of the true function itself, σ² = 0.01, is the least any model
 * can expect on fresh data: the noise floor.
 */
import type { Dataset } from "../../lib/data/dataset.ts";
import { regression1d } from "../../lib/data/mod.ts";

export const NOISE_STD = 0.1;
/** σ² = 0.1²: the mean squared error of the true function itself, the least any model can expect on fresh data. */
export const NOISE_FLOOR = 0.01;
export const X_RANGE: [number, number] = [-3, 3];
export const TRAIN_COUNT = 64;
export const VALIDATION_COUNT = 1000;

/** The function under the noise. */
export function trueFunction(x: number): number {
  return Math.sin(2 * x) + 0.3 * x;
}

export interface Problem {
  train: Dataset;
  /** A fresh sample of the same process, never trained on. */
  validation: Dataset;
  noiseStd: number;
  /** MSE of the true function on each split: the floor this particular sample realises. */
  trainNoise: number;
  validationNoise: number;
  /** Two trivial models on the training targets: predicting their mean, and predicting 0. */
  constantModelMse: { mean: number; zero: number };
  /** The training MSE of the least-squares straight line a + b·x. */
  linearFitMse: number;
  /** The smallest and largest training target. */
  targetRange: [number, number];
}

/**
 * `trainCount` noisy points to learn from and `validationCount` fresh ones. The same `seed`
 * gives the same inputs x whatever `noiseStd` is, so that only the noise differs.
 */
export function makeProblem(
  options: { seed?: number; noiseStd?: number; trainCount?: number; validationCount?: number } = {},
): Problem {
  const {
    seed = 0,
    noiseStd = NOISE_STD,
    trainCount = TRAIN_COUNT,
    validationCount = VALIDATION_COUNT,
  } = options;
  // The same arguments give the same Problem object, so that trained settings can be reused.
  const key = JSON.stringify([seed, noiseStd, trainCount, validationCount]);
  const made = problems.get(key);
  if (made) return made;
  const sample = (count: number, sampleSeed: number, name: string) => ({
    ...regression1d({ count, fn: trueFunction, noiseStd, xRange: X_RANGE, seed: sampleSeed }),
    name,
  });
  const trainSet = sample(trainCount, 1000 + seed, "chapter3/train");
  const validation = sample(validationCount, 2000 + seed, "chapter3/validation");
  const problem = {
    train: trainSet,
    validation,
    noiseStd,
    trainNoise: trueFunctionMse(trainSet),
    validationNoise: trueFunctionMse(validation),
    constantModelMse: constantModelMse(trainSet),
    linearFitMse: linearFitMse(trainSet),
    targetRange: [Math.min(...trainSet.targets!), Math.max(...trainSet.targets!)] as [
      number,
      number,
    ],
  };
  problems.set(key, problem);
  return problem;
}

const problems = new Map<string, Problem>();

/** Mean of (y − f(x))² over a dataset: what a perfect model of f would score on it. */
export function trueFunctionMse(dataset: Dataset): number {
  const { inputs, targets, count } = requireRegression(dataset, "trueFunctionMse");
  let sum = 0;
  for (let i = 0; i < count; i++) sum += (targets[i] - trueFunction(inputs[i])) ** 2;
  return sum / count;
}

/** The MSE of predicting the targets' mean for every x (their variance), and of predicting 0. */
export function constantModelMse(dataset: Dataset): { mean: number; zero: number } {
  const { targets, count } = requireRegression(dataset, "constantModelMse");
  const mean = targets.reduce((a, b) => a + b, 0) / count;
  return {
    mean: targets.reduce((a, t) => a + (t - mean) ** 2, 0) / count,
    zero: targets.reduce((a, t) => a + t * t, 0) / count,
  };
}

/** The training MSE of the least-squares line a + b·x: the best any model linear in x can do. */
export function linearFitMse(dataset: Dataset): number {
  const { inputs, targets, count } = requireRegression(dataset, "linearFitMse");
  let meanX = 0, meanY = 0;
  for (let i = 0; i < count; i++) {
    meanX += inputs[i] / count;
    meanY += targets[i] / count;
  }
  let sxy = 0, sxx = 0;
  for (let i = 0; i < count; i++) {
    sxy += (inputs[i] - meanX) * (targets[i] - meanY);
    sxx += (inputs[i] - meanX) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += (targets[i] - meanY - slope * (inputs[i] - meanX)) ** 2;
  return sum / count;
}

/** The inputs and targets of a 1-D regression dataset, or an error naming what it has instead. */
export function requireRegression(dataset: Dataset, where: string) {
  if (!dataset.targets || dataset.features !== 1 || (dataset.targetSize ?? 1) !== 1) {
    const targets = dataset.targets ? dataset.targetSize ?? 1 : "no";
    throw new Error(
      `${where}: expected a 1-D regression dataset (1 feature, 1 target), got ` +
        `"${dataset.name}" with ${dataset.features} features and ${targets} targets`,
    );
  }
  return { inputs: dataset.inputs, targets: dataset.targets, count: dataset.count };
}
