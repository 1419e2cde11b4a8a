/**
 * Training one network setting from several seeds, full batch, and measuring it: the harness
 * every experiment of chapter 3 shares. Results are means and spreads (min to max) over seeds.
 */
import type { Backend } from "../../lib/backend/backend.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import type { Init } from "../../lib/init.ts";
import type { ActivationName } from "../../lib/layers/activations.ts";
import { mlp, type Sequential } from "../../lib/layers/sequential.ts";
import { MeanSquaredError } from "../../lib/losses.ts";
import { Adam, Momentum, type Optimizer, SGD } from "../../lib/optim.ts";
import {
  evaluate,
  type NonFiniteReport,
  predict,
  train,
  type TrainingHook,
} from "../../lib/train/mod.ts";
import { chapterBackend } from "../backend.ts";

export interface OptimizerSetting {
  name: "adam" | "sgd" | "momentum";
  learningRate: number;
}

/** A network and how it is trained: full-batch steps on the training set. */
export interface NetworkSetting {
  hidden: number[];
  activation: ActivationName;
  outputActivation: ActivationName;
  weightInit: Init;
  biasInit: Init;
  optimizer: OptimizerSetting;
  steps: number;
}

/**
 * The setting every experiment starts from and changes one thing of: two tanh layers of 16,
 * Glorot initialisation, a linear output, Adam at 0.02 for 1,000 full-batch steps.
 */
export const RECIPE: NetworkSetting = {
  hidden: [16, 16],
  activation: "tanh",
  outputActivation: "identity",
  weightInit: "glorot-normal",
  biasInit: "zeros",
  optimizer: { name: "adam", learningRate: 0.02 },
  steps: 1000,
};

/** Five seeds per setting: one run takes well under a second, so the chapter states every claim on 5. */
export const SEEDS_PER_SETTING = 5;

/** The seeds a chapter run uses: `count` consecutive ones from the chapter's seed. */
export function seedsFrom(seed: number, count = SEEDS_PER_SETTING): number[] {
  if (!Number.isInteger(seed) || !Number.isInteger(count) || count < 1) {
    throw new Error(`seedsFrom: need an integer seed and a count >= 1, got ${seed} and ${count}`);
  }
  return Array.from({ length: count }, (_, i) => seed + i);
}

export interface RunResult {
  seed: number;
  /** Training MSE at initialisation (before the first update). */
  initialTrainMse: number;
  trainMse: number;
  validationMse: number;
  /** Training MSE before step 1, 10, 20, ...: the learning curve, thinned for figures. */
  curve: { step: number; mse: number }[];
  /** Set when the loss became NaN or infinite. */
  diverged?: NonFiniteReport;
  seconds: number;
  model: Sequential;
}

export interface Spread {
  mean: number;
  min: number;
  max: number;
  values: number[];
}

export interface SettingResult {
  label: string;
  setting: NetworkSetting;
  runs: RunResult[];
  initial: Spread;
  train: Spread;
  validation: Spread;
  /** True when another experiment had already trained this setting and its runs are shared. */
  reused?: boolean;
}

export interface RunOptions {
  seeds?: number[];
  backend?: Backend;
  /** Train every setting for this many steps instead of its own (small budgets for smoke tests). */
  steps?: number;
}

export const CURVE_EVERY = 10;

export function spreadOf(values: number[]): Spread {
  if (values.length === 0) throw new Error("spreadOf: no values");
  const sum = values.reduce((a, b) => a + b, 0);
  return { mean: sum / values.length, min: Math.min(...values), max: Math.max(...values), values };
}

export function scaleSpread(spread: Spread, factor: number): Spread {
  return spreadOf(spread.values.map((v) => v * factor));
}

export function withRecipe(change: Partial<NetworkSetting>): NetworkSetting {
  return { ...RECIPE, ...change };
}

function checkSetting(setting: NetworkSetting): void {
  for (const width of setting.hidden) {
    if (!Number.isInteger(width) || width < 1) {
      throw new Error(`hidden layer widths must be integers >= 1, got [${setting.hidden}]`);
    }
  }
  if (!Number.isInteger(setting.steps) || setting.steps < 1) {
    throw new Error(`steps must be an integer >= 1, got ${setting.steps}`);
  }
}

export function buildNetwork(
  setting: NetworkSetting,
  seed: number,
  backend: Backend = chapterBackend(),
): Sequential {
  checkSetting(setting);
  return mlp([1, ...setting.hidden, 1], {
    activation: setting.activation,
    outputActivation: setting.outputActivation,
    weightInit: setting.weightInit,
    biasInit: setting.biasInit,
    seed,
    backend,
  });
}

function makeOptimizer({ name, learningRate }: OptimizerSetting): Optimizer {
  if (name === "adam") return new Adam({ learningRate });
  if (name === "momentum") return new Momentum({ learningRate, momentum: 0.9 });
  if (name === "sgd") return new SGD({ learningRate });
  throw new Error(`unknown optimiser "${name}": choose adam, momentum or sgd`);
}

/** Train one network on the full training set for `setting.steps` steps and measure it. */
export async function trainNetwork(
  data: { train: Dataset; validation: Dataset },
  setting: NetworkSetting,
  seed: number,
  options: { backend?: Backend; hooks?: TrainingHook[] } = {},
): Promise<RunResult> {
  const model = buildNetwork(setting, seed, options.backend);
  const loss = new MeanSquaredError();
  const started = performance.now();
  const history = await train({
    model,
    loss,
    optimizer: makeOptimizer(setting.optimizer),
    train: data.train,
    epochs: setting.steps,
    batchSize: data.train.count, // full batch: one epoch is one step
    seed,
    progress: "none",
    onNonFinite: "record",
    hooks: options.hooks,
  });
  const curve = history.epochs
    .filter((record) => record.steps === 1 || record.steps % CURVE_EVERY === 0)
    .map((record) => ({ step: record.steps, mse: record.trainLoss }));
  return {
    seed,
    initialTrainMse: history.epochs[0].trainLoss,
    trainMse: (await evaluate(model, loss, data.train)).loss,
    validationMse: (await evaluate(model, loss, data.validation)).loss,
    curve,
    diverged: history.nonFinite,
    seconds: (performance.now() - started) / 1000,
    model,
  };
}

/**
 * The same setting trained from each seed. Several experiments share a setting (the recipe is
 * also "2 hidden layers of 16" and "Glorot"): a setting already trained on the same data with
 * the same seeds is not trained again, and its runs (models included) are shared.
 */
export async function trainSeeds(
  data: { train: Dataset; validation: Dataset },
  setting: NetworkSetting,
  label: string,
  options: RunOptions = {},
): Promise<SettingResult> {
  const seeds = options.seeds ?? seedsFrom(0);
  if (seeds.length === 0) throw new Error(`trainSeeds (${label}): no seeds given`);
  const backend = options.backend ?? chapterBackend();
  if (options.steps !== undefined) setting = { ...setting, steps: options.steps };
  const key = JSON.stringify([setting, seeds, backend.name]);
  let byValidation = trainedSettings.get(data.train);
  if (!byValidation) trainedSettings.set(data.train, byValidation = new WeakMap());
  let trained = byValidation.get(data.validation);
  if (!trained) byValidation.set(data.validation, trained = new Map());
  let result = trained.get(key);
  if (result) {
    result = { ...result, label, reused: true };
  } else {
    const runs: RunResult[] = [];
    for (const seed of seeds) runs.push(await trainNetwork(data, setting, seed, options));
    result = {
      label,
      setting,
      runs,
      initial: spreadOf(runs.map((r) => r.initialTrainMse)),
      train: spreadOf(runs.map((r) => r.trainMse)),
      validation: spreadOf(runs.map((r) => r.validationMse)),
    };
    trained.set(key, result);
  }
  return result;
}

/** Trained settings by training set, validation set, and setting with seeds and backend. */
const trainedSettings = new WeakMap<Dataset, WeakMap<Dataset, Map<string, SettingResult>>>();

/** "0.0123 (0.0101–0.0150)": mean and range over seeds. */
export function formatSpread(spread: Spread, digits = 3): string {
  const f = (v: number) => formatNumber(v, digits);
  return `${f(spread.mean)} (${f(spread.min)}–${f(spread.max)})`;
}

export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  if (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3) {
    return value.toExponential(digits - 1);
  }
  return value.toPrecision(digits);
}

/** The model's output at each x. */
export async function predictAt(model: Sequential, xs: number[]): Promise<number[]> {
  const grid: Dataset = {
    name: "grid",
    inputs: Float32Array.from(xs),
    count: xs.length,
    features: 1,
  };
  return (await predict(model, grid)).map((row) => row[0]);
}

export function evenlySpaced(low: number, high: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => low + (high - low) * i / (count - 1));
}
