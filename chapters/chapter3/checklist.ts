/**
 * The checklist the asker was given, one experiment per item: the scale of inputs and targets,
 * capacity against the noise floor, label noise, the initial weight scale, the output
 * activation, the learning rate, and depth in a fixed budget.
 */
import type { Dataset } from "../../lib/data/dataset.ts";
import { standardize } from "../../lib/data/mod.ts";
import type { Init } from "../../lib/init.ts";
import type { ActivationName } from "../../lib/layers/activations.ts";
import { Linear } from "../../lib/layers/linear.ts";
import type { Sequential } from "../../lib/layers/sequential.ts";
import { gradientMonitor, layerStatistics, MonitorLog } from "../../lib/monitors.ts";
import { closeScope, openScope } from "../../lib/tensor.ts";
import { makeProblem, type Problem, requireRegression, X_RANGE } from "./problem.ts";
import {
  buildNetwork,
  evenlySpaced,
  type NetworkSetting,
  type OptimizerSetting,
  predictAt,
  RECIPE,
  type RunOptions,
  scaleSpread,
  type SettingResult,
  type Spread,
  trainNetwork,
  trainSeeds,
  withRecipe,
} from "./training.ts";

// 1. The asker's symptom, and scale: house prices versus standardised ----------------------

/** The same function on a house-price scale: x in [0, 3000] square feet, y in dollars. */
export const SQUARE_FEET_PER_UNIT = 500;
export const DOLLARS_PER_UNIT = 100_000;
export const DOLLARS_OFFSET = 300_000;

export function toHousePrices(dataset: Dataset): Dataset {
  const { inputs, targets } = requireRegression(dataset, "toHousePrices");
  return {
    ...dataset,
    name: `${dataset.name} (house prices)`,
    inputs: inputs.map((x) => SQUARE_FEET_PER_UNIT * (x - X_RANGE[0])),
    targets: targets.map((y) => DOLLARS_OFFSET + DOLLARS_PER_UNIT * y),
    valueRange: [0, SQUARE_FEET_PER_UNIT * (X_RANGE[1] - X_RANGE[0])],
  };
}

/**
 * Inputs and targets shifted and scaled to mean 0, standard deviation 1, with the training
 * set's statistics (also applied to the validation set). `targetStats` converts MSEs back.
 */
export function standardiseBoth(trainSet: Dataset, validation: Dataset) {
  const inputs = standardize(trainSet);
  const { targets } = requireRegression(trainSet, "standardiseBoth");
  const mean = targets.reduce((a, b) => a + b, 0) / targets.length;
  const std = Math.sqrt(targets.reduce((a, b) => a + (b - mean) ** 2, 0) / targets.length);
  const scaleTargets = (ds: Dataset) => ds.targets!.map((t) => (t - mean) / std);
  return {
    train: { ...inputs.dataset, targets: scaleTargets(trainSet) },
    validation: {
      ...standardize(validation, { stats: inputs.stats }).dataset,
      targets: scaleTargets(validation),
    },
    inputStats: { mean: inputs.stats.mean[0], std: inputs.stats.std[0] },
    targetStats: { mean, std },
  };
}

export interface ScaleResult {
  depths: number[];
  /** MSE in dollars², per depth. */
  rawDollars: SettingResult[];
  /** MSE in the function's own units (dollars² / 100,000²), so that the floor is 0.01 in both. */
  raw: { depth: number; train: Spread; validation: Spread }[];
  standardised: { depth: number; train: Spread; validation: Spread }[];
  /** The raw prices again under plain SGD (`RAW_SGD`), the likelier from-scratch optimiser. */
  rawSgd: { depth: number; train: Spread; validation: Spread }[];
  /** Var(y) in the function's units: the training MSE of predicting the mean price. */
  targetVariance: number;
  /** Fraction of first-layer tanh outputs beyond ±0.99 at initialisation, on the training inputs. */
  saturatedAtInit: { raw: number; standardised: number };
  meanPrice: number;
  /**
   * Adam moves each weight by about the learning rate per step, and a tanh unit's output is at
   * most 1 in size, so the network's output can move by at most (last hidden width + 1) × lr
   * dollars per step: this bound, and the steps it implies to reach the mean price.
   */
  outputDollarsPerStepBound: number;
  stepsToReachMeanPrice: number;
  /** The largest |output| (dollars) of any raw run on the training inputs after training. */
  largestRawPrediction: number;
  /** Predictions over the square-feet range, first seed, for a figure. */
  fits: { squareFeet: number[]; raw: number[]; standardised: number[] };
}

/** Plain SGD on raw prices: at 0.01 it neither diverges nor learns more than the mean. */
export const RAW_SGD: OptimizerSetting = { name: "sgd", learningRate: 0.01 };

/**
 * The answer's example: house-price units straight into the recipe network, at 1, 2 and 3 hidden
 * layers, under Adam and under plain SGD, against the same data standardised. MSEs are reported
 * in the function's units.
 */
export async function scaleExperiment(
  problem: Problem,
  options: RunOptions & { depths?: number[] } = {},
): Promise<ScaleResult> {
  const depths = options.depths ?? [1, 2, 3];
  const house = {
    train: toHousePrices(problem.train),
    validation: toHousePrices(problem.validation),
  };
  const scaled = standardiseBoth(house.train, house.validation);
  const toFunctionUnits = 1 / DOLLARS_PER_UNIT ** 2;
  const fromStandardised = (scaled.targetStats.std / DOLLARS_PER_UNIT) ** 2;
  const rawDollars: SettingResult[] = [];
  const raw = [], standardised = [], rawSgd = [];
  let rawFirst: Sequential | undefined, standardisedFirst: Sequential | undefined;
  for (const depth of depths) {
    const setting = withRecipe({ hidden: Array(depth).fill(16) });
    const r = await trainSeeds(
      house,
      setting,
      `raw dollars, ${depth} hidden (MSE in dollars²)`,
      options,
    );
    const s = await trainSeeds(
      scaled,
      setting,
      `standardised, ${depth} hidden (MSE in standardised units)`,
      options,
    );
    const sgd = await trainSeeds(
      house,
      { ...setting, optimizer: RAW_SGD },
      `raw dollars, SGD, ${depth} hidden (MSE in dollars²)`,
      options,
    );
    rawSgd.push({
      depth,
      train: scaleSpread(sgd.train, toFunctionUnits),
      validation: scaleSpread(sgd.validation, toFunctionUnits),
    });
    rawDollars.push(r);
    raw.push({
      depth,
      train: scaleSpread(r.train, toFunctionUnits),
      validation: scaleSpread(r.validation, toFunctionUnits),
    });
    standardised.push({
      depth,
      train: scaleSpread(s.train, fromStandardised),
      validation: scaleSpread(s.validation, fromStandardised),
    });
    rawFirst ??= r.runs[0].model;
    standardisedFirst ??= s.runs[0].model;
  }
  const firstTanhSaturation = async (data: Dataset) => {
    const model = buildNetwork(RECIPE, options.seeds?.[0] ?? 0, options.backend);
    const stats = await layerStatistics(model, data, data.count);
    return stats.find((s) => s.kind === "tanh")!.saturatedFraction!;
  };
  let largestRawPrediction = 0;
  for (const result of rawDollars) {
    for (const run of result.runs) {
      const outputs = await predictAt(run.model, Array.from(house.train.inputs));
      for (const v of outputs) largestRawPrediction = Math.max(largestRawPrediction, Math.abs(v));
    }
  }
  const meanPrice = house.train.targets!.reduce((a, b) => a + b, 0) / house.train.count;
  const dollarsPerStep = (RECIPE.hidden.at(-1)! + 1) * RECIPE.optimizer.learningRate;
  const squareFeet = evenlySpaced(0, 3000, 121);
  const standardisedInputs = squareFeet.map((x) =>
    (x - scaled.inputStats.mean) / scaled.inputStats.std
  );
  return {
    depths,
    rawDollars,
    raw,
    standardised,
    rawSgd,
    targetVariance: problem.constantModelMse.mean,
    saturatedAtInit: {
      raw: await firstTanhSaturation(house.train),
      standardised: await firstTanhSaturation(scaled.train),
    },
    meanPrice,
    outputDollarsPerStepBound: dollarsPerStep,
    stepsToReachMeanPrice: meanPrice / dollarsPerStep,
    largestRawPrediction,
    fits: {
      squareFeet,
      raw: await predictAt(rawFirst!, squareFeet),
      standardised: (await predictAt(standardisedFirst!, standardisedInputs)).map((z) =>
        scaled.targetStats.mean + scaled.targetStats.std * z
      ),
    },
  };
}

// 2. Capacity and the noise floor ------------------------------------------------------------

export interface CapacityPoint {
  width: number;
  depth: number;
  parameters: number;
  result: SettingResult;
}

export interface CapacityResult {
  byWidth: CapacityPoint[];
  byDepth: CapacityPoint[];
  depthWidth: number;
  trainNoise: number;
  validationNoise: number;
}

function parameterCount(hidden: number[]): number {
  const sizes = [1, ...hidden, 1];
  let n = 0;
  for (let i = 0; i + 1 < sizes.length; i++) n += sizes[i] * sizes[i + 1] + sizes[i + 1];
  return n;
}

/**
 * Training and validation MSE against the width of one hidden layer, and against the number of
 * hidden layers of `depthWidth` units. Everything else is the recipe.
 */
export async function capacityExperiment(
  problem: Problem,
  options: RunOptions & { widths?: number[]; depths?: number[]; depthWidth?: number } = {},
): Promise<CapacityResult> {
  const { widths = [1, 2, 4, 8, 16, 32], depths = [1, 2, 3, 4], depthWidth = 16 } = options;
  const cache = new Map<string, CapacityPoint>();
  const point = async (width: number, depth: number) => {
    const key = `${width}x${depth}`;
    if (!cache.has(key)) {
      const hidden = Array(depth).fill(width);
      const label = depth === 1
        ? `1 hidden layer of ${width}`
        : `${depth} hidden layers of ${width}`;
      const result = await trainSeeds(problem, withRecipe({ hidden }), label, options);
      cache.set(key, { width, depth, parameters: parameterCount(hidden), result });
    }
    return cache.get(key)!;
  };
  const byWidth = [];
  for (const width of widths) byWidth.push(await point(width, 1));
  const byDepth = [];
  for (const depth of depths) byDepth.push(await point(depthWidth, depth));
  return {
    byWidth,
    byDepth,
    depthWidth,
    trainNoise: problem.trainNoise,
    validationNoise: problem.validationNoise,
  };
}

// 3. Label noise: the floor moves with σ² -----------------------------------------------------

export interface LabelNoisePoint {
  noiseStd: number;
  trainNoise: number;
  validationNoise: number;
  result: SettingResult;
}

/** The same inputs with more or less noise on the targets, one hidden layer of 16. */
export async function labelNoiseExperiment(
  options: RunOptions & { seed?: number; noiseStds?: number[] } = {},
): Promise<LabelNoisePoint[]> {
  const { seed = 0, noiseStds = [0, 0.1, 0.2, 0.3] } = options;
  const points = [];
  for (const noiseStd of noiseStds) {
    const problem = makeProblem({ seed, noiseStd });
    const result = await trainSeeds(
      problem,
      withRecipe({ hidden: [16] }),
      `noise σ = ${noiseStd}`,
      options,
    );
    points.push({
      noiseStd,
      trainNoise: problem.trainNoise,
      validationNoise: problem.validationNoise,
      result,
    });
  }
  return points;
}

// 4. Initialisation scale ---------------------------------------------------------------------

export interface InitPoint {
  label: string;
  weightInit: Init;
  optimizer: OptimizerSetting;
  result: SettingResult;
  /** Measured at initialisation, first seed, on the training inputs. */
  atInit: {
    /** Standard deviation of the network's output over the inputs: how much signal gets through. */
    outputStd: number;
    /** Fraction of tanh outputs beyond ±0.99, over both hidden layers. */
    saturatedFraction: number;
    /** Norm of the first layer's weight gradient at step 1. */
    firstLayerGradientNorm: number;
  };
}

export const INIT_CHOICES: { label: string; weightInit: Init }[] = [
  { label: "N(0, 0.0001²)", weightInit: { name: "normal", std: 1e-4 } },
  { label: "Glorot", weightInit: "glorot-normal" },
  { label: "N(0, 1)", weightInit: { name: "normal", std: 1 } },
  { label: "N(0, 3²)", weightInit: { name: "normal", std: 3 } },
];

export const MOMENTUM: OptimizerSetting = { name: "momentum", learningRate: 0.01 };

/**
 * The recipe with each initial weight scale, under Adam; and the tiny and Glorot scales under
 * SGD with momentum, which (unlike Adam) takes steps proportional to the gradient.
 */
export async function initExperiment(
  problem: Problem,
  options: RunOptions & { choices?: typeof INIT_CHOICES; momentumLabels?: string[] } = {},
): Promise<InitPoint[]> {
  const { choices = INIT_CHOICES, momentumLabels = ["N(0, 0.0001²)", "Glorot"] } = options;
  const points: InitPoint[] = [];
  const plan = [
    ...choices.map((c) => ({ ...c, optimizer: RECIPE.optimizer })),
    ...choices.filter((c) => momentumLabels.includes(c.label)).map((c) => ({
      ...c,
      optimizer: MOMENTUM,
    })),
  ];
  for (const { label, weightInit, optimizer } of plan) {
    const setting = withRecipe({ weightInit, optimizer });
    const result = await trainSeeds(problem, setting, `init ${label}, ${optimizer.name}`, options);
    points.push({
      label,
      weightInit,
      optimizer,
      result,
      atInit: await measureAtInit(problem, setting, options),
    });
  }
  return points;
}

async function measureAtInit(problem: Problem, setting: NetworkSetting, options: RunOptions) {
  const seed = options.seeds?.[0] ?? 0;
  const model = buildNetwork(setting, seed, options.backend);
  const stats = await layerStatistics(model, problem.train, problem.train.count);
  const tanhLayers = stats.filter((s) => s.saturatedFraction !== undefined);
  const log = new MonitorLog();
  await trainNetwork(problem, { ...setting, steps: 1 }, seed, {
    backend: options.backend,
    hooks: [gradientMonitor({ log, every: Number.MAX_SAFE_INTEGER })],
  });
  return {
    outputStd: stats.at(-1)!.std,
    saturatedFraction: tanhLayers.length === 0
      ? 0
      : tanhLayers.reduce((s, l) => s + l.saturatedFraction!, 0) / tanhLayers.length,
    firstLayerGradientNorm: log.last("gradient-norm", "linear1.weight")!,
  };
}

// 5. The output activation --------------------------------------------------------------------

export interface OutputPoint {
  label: string;
  activation: ActivationName;
  outputActivation: ActivationName;
  result: SettingResult;
  /** The least MSE any model with this output range can reach on the training targets. */
  bestPossibleTrainMse: number;
  /** Runs whose output is exactly 0 for every training input at the end. */
  deadOutputRuns: number;
  /**
   * With ReLU hidden layers, per run: the fraction of hidden units that are off (input ≤ 0) for
   * every training input at the end, over all hidden layers.
   */
  deadHiddenFraction?: number[];
}

/** Mean of (y − clamp(y, low, high))²: the error left when predictions must lie in [low, high]. */
export function clampedTargetMse(dataset: Dataset, low: number, high: number): number {
  const { targets, count } = requireRegression(dataset, "clampedTargetMse");
  let sum = 0;
  for (const t of targets) sum += (t - Math.min(high, Math.max(low, t))) ** 2;
  return sum / count;
}

const OUTPUT_RANGE: Partial<Record<ActivationName, [number, number]>> = {
  identity: [-Infinity, Infinity],
  sigmoid: [0, 1],
  relu: [0, Infinity],
  tanh: [-1, 1],
};

/** Hidden and output activations to try; ReLU hidden layers get He initialisation, their usual pairing. */
export const OUTPUT_CHOICES: { activation: ActivationName; outputActivation: ActivationName }[] = [
  { activation: "tanh", outputActivation: "identity" },
  { activation: "tanh", outputActivation: "sigmoid" },
  { activation: "tanh", outputActivation: "relu" },
  { activation: "relu", outputActivation: "identity" },
  { activation: "relu", outputActivation: "relu" },
];

/** The recipe with ReLU or sigmoid on the output, and with ReLU in the hidden layers. */
export async function outputActivationExperiment(
  problem: Problem,
  options: RunOptions & { choices?: typeof OUTPUT_CHOICES } = {},
): Promise<OutputPoint[]> {
  const points = [];
  for (const { activation, outputActivation } of options.choices ?? OUTPUT_CHOICES) {
    const weightInit: Init = activation === "relu" ? "he-normal" : RECIPE.weightInit;
    const output = outputActivation === "identity" ? "linear" : outputActivation;
    const hidden = activation === "relu" ? "relu hidden (He init)" : `${activation} hidden`;
    const label = `${hidden}, ${output} output`;
    const result = await trainSeeds(
      problem,
      withRecipe({ activation, outputActivation, weightInit }),
      label,
      options,
    );
    let deadOutputRuns = 0;
    const deadHiddenFraction = [];
    for (const run of result.runs) {
      const outputs = await predictAt(run.model, Array.from(problem.train.inputs));
      if (outputs.every((v) => v === 0)) deadOutputRuns++;
      const stats = await layerStatistics(run.model, problem.train, problem.train.count);
      const hidden = stats.slice(0, -1).filter((s) => s.deadFraction !== undefined);
      if (hidden.length > 0) {
        deadHiddenFraction.push(
          hidden.reduce((sum, s) => sum + s.deadFraction!, 0) / hidden.length,
        );
      }
    }
    const [low, high] = OUTPUT_RANGE[outputActivation] ?? [-Infinity, Infinity];
    points.push({
      label,
      activation,
      outputActivation,
      result,
      bestPossibleTrainMse: clampedTargetMse(problem.train, low, high),
      deadOutputRuns,
      ...(deadHiddenFraction.length > 0 ? { deadHiddenFraction } : {}),
    });
  }
  return points;
}

// 6. The learning rate ------------------------------------------------------------------------

export interface LearningRatePoint {
  learningRate: number;
  result: SettingResult;
}

export async function learningRateExperiment(
  problem: Problem,
  options: RunOptions & { learningRates?: number[] } = {},
): Promise<LearningRatePoint[]> {
  // 0.02 is the recipe's rate, already trained by the other experiments.
  const learningRates = options.learningRates ?? [1e-5, 1e-4, 1e-3, 0.02, 0.1];
  const points = [];
  for (const learningRate of learningRates) {
    if (!(learningRate > 0)) throw new Error(`learning rates must be > 0, got ${learningRate}`);
    const setting = withRecipe({ optimizer: { name: "adam", learningRate } });
    points.push({
      learningRate,
      result: await trainSeeds(problem, setting, `Adam, learning rate ${learningRate}`, options),
    });
  }
  return points;
}

// 7. Depth in a fixed budget ------------------------------------------------------------------

export interface DepthPoint {
  activation: ActivationName;
  depth: number;
  result: SettingResult;
  /** At initialisation, first seed: per hidden layer, the mean over units of each unit's
   * standard deviation across the inputs (how much the layer still varies with x). */
  signalPerLayer: number[];
  /** ‖∂L/∂W‖ of the first and the last weight matrix at step 1. */
  firstLayerGradientNorm: number;
  lastLayerGradientNorm: number;
  /** At initialisation, first seed: per hidden layer, the share of its variance in one direction. */
  topComponentShareAtInit: number[];
  /** After training, one entry per seed. */
  trained: TrainedAnalysis[];
}

/** What a trained network's hidden layers carry, and how far its weights moved. */
export interface TrainedAnalysis {
  seed: number;
  /**
   * Per hidden layer: the share of the units' variance over the inputs that lies along one
   * direction (the top principal component). 1 means every unit is the same function of x, up
   * to scale and offset: the layer passes on one number.
   */
  topComponentShare: number[];
  /**
   * Per hidden layer: how many principal directions hold `DIRECTIONS_SHARE` of its variance.
   * The smallest over the layers bounds how many functions of x reach the output.
   */
  directions: number[];
  /** Per hidden layer: the fraction of outputs in the flat tails (the monitors' threshold). */
  saturatedFraction: number[];
  /** Per weight matrix: ‖W_trained − W_init‖ / ‖W_init‖. */
  weightMovement: number[];
  /** The first recorded step from which the training MSE stays within 1% of its final value. */
  plateauFromStep: number;
}

/** Networks of `width` units per layer, 1 to 8 layers deep, the same steps for all. */
export async function depthExperiment(
  problem: Problem,
  options: RunOptions & { activations?: ActivationName[]; depths?: number[]; width?: number } = {},
): Promise<DepthPoint[]> {
  const { activations = ["sigmoid", "tanh"], depths = [1, 2, 4, 8], width = 8 } = options;
  const points = [];
  for (const activation of activations) {
    for (const depth of depths) {
      const setting = withRecipe({ hidden: Array(depth).fill(width), activation });
      const result = await trainSeeds(
        problem,
        setting,
        `${activation}, ${depth} × ${width}`,
        options,
      );
      const seed = options.seeds?.[0] ?? 0;
      const log = new MonitorLog();
      await trainNetwork(problem, { ...setting, steps: 1 }, seed, {
        backend: options.backend,
        hooks: [gradientMonitor({ log, every: Number.MAX_SAFE_INTEGER })],
      });
      const atInit = buildNetwork(setting, seed, options.backend);
      const trained = [];
      for (const run of result.runs) {
        const initial = buildNetwork(setting, run.seed, options.backend);
        const layers = await hiddenLayerOutputs(run.model, problem.train);
        trained.push({
          seed: run.seed,
          topComponentShare: layers.map(topComponentShare),
          directions: layers.map((l) => directionsHolding(l, DIRECTIONS_SHARE)),
          saturatedFraction: layers.map((l) => l.saturatedFraction),
          weightMovement: await weightMovement(initial, run.model),
          plateauFromStep: plateauFromStep(run.curve),
        });
      }
      points.push({
        activation,
        depth,
        result,
        signalPerLayer: await signalPerLayer(atInit, problem.train),
        firstLayerGradientNorm: log.last("gradient-norm", "linear1.weight")!,
        lastLayerGradientNorm: log.last("gradient-norm", `linear${depth + 1}.weight`)!,
        topComponentShareAtInit: (await hiddenLayerOutputs(atInit, problem.train)).map(
          topComponentShare,
        ),
        trained,
      });
    }
  }
  return points;
}

/**
 * For each hidden activation layer: the mean over its units of each unit's standard deviation
 * across the dataset's inputs. A layer whose units no longer vary with x passes on no signal.
 */
export async function signalPerLayer(model: Sequential, dataset: Dataset): Promise<number[]> {
  const backend = model.parameters()[0].value.backend;
  const scope = openScope();
  try {
    model.forward(backend.fromValues(dataset.inputs, [dataset.count, dataset.features], "float32"));
    const signals = [];
    for (const layer of model.layers.slice(0, -1)) {
      if (layer instanceof Linear || !layer.output) continue;
      const values = await layer.output.data();
      const [rows, units] = layer.output.shape;
      let total = 0;
      for (let unit = 0; unit < units; unit++) {
        let sum = 0, sumSquares = 0;
        for (let r = 0; r < rows; r++) {
          const v = values[r * units + unit];
          sum += v;
          sumSquares += v * v;
        }
        const mean = sum / rows;
        total += Math.sqrt(Math.max(0, sumSquares / rows - mean * mean));
      }
      signals.push(total / units);
    }
    return signals;
  } finally {
    closeScope(scope);
  }
}

export interface LayerOutput {
  values: Float32Array | Float64Array;
  rows: number;
  units: number;
  saturatedFraction: number;
}

/** Each hidden activation layer's output on the dataset's inputs, read back. */
async function hiddenLayerOutputs(model: Sequential, dataset: Dataset): Promise<LayerOutput[]> {
  const stats = await layerStatistics(model, dataset, dataset.count);
  const backend = model.parameters()[0].value.backend;
  const scope = openScope();
  try {
    model.forward(backend.fromValues(dataset.inputs, [dataset.count, dataset.features], "float32"));
    const outputs = [];
    for (const [i, layer] of model.layers.slice(0, -1).entries()) {
      if (layer instanceof Linear || !layer.output) continue;
      const [rows, units] = layer.output.shape;
      outputs.push({
        values: await layer.output.data(),
        rows,
        units,
        saturatedFraction: stats[i].saturatedFraction ?? 0,
      });
    }
    return outputs;
  } finally {
    closeScope(scope);
  }
}

/**
 * The largest eigenvalue of the units' covariance over the rows, over its trace (power
 * iteration): the share of the layer's variance along its top principal component.
 */
export function topComponentShare(layer: LayerOutput): number {
  const { units } = layer;
  const covariance = covarianceOf(layer);
  let trace = 0;
  for (let i = 0; i < units; i++) trace += covariance[i][i];
  if (!(trace > 0)) return 1; // a constant layer carries at most one (empty) direction
  let vector = new Float64Array(units).fill(1 / Math.sqrt(units)), eigenvalue = 0;
  for (let iteration = 0; iteration < 500; iteration++) {
    const next = covariance.map((row) => row.reduce((s, c, j) => s + c * vector[j], 0));
    eigenvalue = Math.hypot(...next);
    if (eigenvalue === 0) break;
    vector = Float64Array.from(next, (v) => v / eigenvalue);
  }
  return eigenvalue / trace;
}

/** A direction count covers this share of a layer's variance. */
export const DIRECTIONS_SHARE = 0.95;

/** The units' covariance over the rows. */
function covarianceOf({ values, rows, units }: LayerOutput): Float64Array[] {
  const mean = new Float64Array(units);
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < units; u++) mean[u] += values[r * units + u] / rows;
  }
  const covariance = Array.from({ length: units }, () => new Float64Array(units));
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < units; i++) {
      const di = values[r * units + i] - mean[i];
      for (let j = 0; j < units; j++) {
        covariance[i][j] += di * (values[r * units + j] - mean[j]) / rows;
      }
    }
  }
  return covariance;
}

/** Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations, largest first. */
export function symmetricEigenvalues(matrix: Float64Array[]): number[] {
  const a = matrix.map((row) => Float64Array.from(row));
  const n = a.length;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i][j] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (a[p][q] === 0) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const [akp, akq] = [a[k][p], a[k][q]];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const [apk, aqk] = [a[p][k], a[q][k]];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
      }
    }
  }
  return a.map((row, i) => row[i]).sort((x, y) => y - x);
}

/** How many principal directions hold `share` of the layer's variance (0 for a constant layer). */
export function directionsHolding(layer: LayerOutput, share: number): number {
  const eigenvalues = symmetricEigenvalues(covarianceOf(layer)).map((v) => Math.max(0, v));
  const total = eigenvalues.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return 0;
  let held = 0;
  for (let k = 0; k < eigenvalues.length; k++) {
    held += eigenvalues[k];
    if (held >= share * total) return k + 1;
  }
  return eigenvalues.length;
}

/** Per weight matrix (biases aside): ‖W_after − W_before‖ / ‖W_before‖. */
async function weightMovement(before: Sequential, after: Sequential): Promise<number[]> {
  const weights = (m: Sequential) =>
    m.layers.filter((l): l is Linear => l instanceof Linear).map((l) => l.weight.value);
  const [from, to] = [weights(before), weights(after)];
  const movement = [];
  for (let i = 0; i < from.length; i++) {
    const [a, b] = [await from[i].data(), await to[i].data()];
    let moved = 0, size = 0;
    for (let k = 0; k < a.length; k++) {
      moved += (b[k] - a[k]) ** 2;
      size += a[k] ** 2;
    }
    movement.push(Math.sqrt(moved / size));
  }
  return movement;
}

/** The first recorded step from which the MSE stays within 1% of the curve's last value. */
export function plateauFromStep(curve: { step: number; mse: number }[]): number {
  const last = curve.at(-1)!.mse;
  let from = curve.at(-1)!.step;
  for (let i = curve.length - 1; i >= 0 && Math.abs(curve[i].mse - last) <= 0.01 * last; i--) {
    from = curve[i].step;
  }
  return from;
}
