/**
 * Chapter 2: why does the training loss flatten? (all-zero initialisation)
 *
 * The question: an MNIST classifier with leaky-ReLU hidden layers, ten sigmoid
 * outputs and binary cross-entropy summed over them, trained by full-batch
 * gradient descent from all-zero weights and biases. The loss always started
 * at 6.98 and always ended at 3.24, whatever the learning rate, depth, width or
 * activation. The answer the asker got: "zero weights are symmetric, use random
 * initialisation".
 *
 * Both numbers can be derived. At zero every output is sigmoid(0) = 1/2, so the
 * loss is 10 ln 2 = 6.93. With f(0) = 0 every hidden activation is exactly 0,
 * so every weight gradient is exactly 0, forever; only the ten output biases
 * learn, and the best they can do is predict the class frequencies p_k for
 * every input: a loss of Σ_k H(p_k), 3.248 on MNIST. This module reproduces
 * both, measures why, and fixes it.
 */
import type { Backend } from "../lib/backend/backend.ts";
import { cpu } from "../lib/backend/mod.ts";
import { classCounts, loadMnist, subset } from "../lib/data/mod.ts";
import type { Dataset } from "../lib/data/dataset.ts";
import type { Init } from "../lib/init.ts";
import type { Linear } from "../lib/layers/linear.ts";
import { mlp, type Sequential } from "../lib/layers/sequential.ts";
import {
  BinaryCrossEntropy,
  type BinaryCrossEntropyOptions,
  type Loss,
  SoftmaxCrossEntropy,
} from "../lib/losses.ts";
import {
  gradientMonitor,
  type LayerStatistics,
  layerStatistics,
  MonitorLog,
} from "../lib/monitors.ts";
import { oneHot, sigmoid } from "../lib/ops.ts";
import { SGD } from "../lib/optim.ts";
import { tidy } from "../lib/tensor.ts";
import { imageGrid, lineChart, sideBySide, stacked, type VegaLiteSpec } from "../lib/plot.ts";
import { evaluate, type History, predict, train, type TrainingHook } from "../lib/train.ts";

export const LN2 = Math.log(2);
export const OUTPUTS = 10;

/** What the asker saw, whatever they changed. */
export const ASKER_START_LOSS = 6.98;
export const ASKER_END_LOSS = 3.24;

/**
 * Class counts of the original MNIST training set (60,000 images, LeCun et al.),
 * for comparison with our 8,000-image split: the plateau barely depends on which
 * MNIST split one trains on, because MNIST's classes are nearly balanced.
 */
export const MNIST_60K_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];

// The two numbers, from first principles -----------------------------------------

/** Binary entropy in nats: H(p) = −p ln p − (1 − p) ln(1 − p). */
export function binaryEntropy(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binaryEntropy: p must be in [0, 1], got ${p}`);
  const term = (q: number) => (q === 0 ? 0 : -q * Math.log(q));
  return term(p) + term(1 - p);
}

/** The fraction of examples in each class. */
export function classFrequencies(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) throw new Error("classFrequencies: no examples");
  return counts.map((count) => count / total);
}

export function datasetFrequencies(dataset: Dataset): number[] {
  return classFrequencies(classCounts(dataset));
}

/**
 * The least loss a network can reach when only its output biases learn: each
 * sigmoid output then predicts its class's frequency p_k for every input, and
 * the summed binary cross-entropy is Σ_k H(p_k).
 */
export function classFrequencyEntropy(frequencies: readonly number[]): number {
  return frequencies.reduce((sum, p) => sum + binaryEntropy(p), 0);
}

/** The most frequent class and its frequency: what a constant predictor says. */
export function majorityClass(
  frequencies: readonly number[],
): { label: number; frequency: number } {
  let label = 0;
  for (let k = 1; k < frequencies.length; k++) if (frequencies[k] > frequencies[label]) label = k;
  return { label, frequency: frequencies[label] };
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));
/** ln(1 + e^x) without overflow. */
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** Summed binary cross-entropy when output k is sigmoid(b_k) for every input: Σ_k p_k ln(1 + e^{−b_k}) + (1 − p_k) ln(1 + e^{b_k}). */
export function constantOutputLoss(
  biases: readonly number[],
  frequencies: readonly number[],
): number {
  return frequencies.reduce(
    (sum, p, k) => sum + p * softplus(-biases[k]) + (1 - p) * softplus(biases[k]),
    0,
  );
}

/**
 * The network with zero weights, reduced to what it is: ten output biases.
 * Full-batch gradient descent on them, b_k ← b_k − lr (sigmoid(b_k) − p_k),
 * in float64. Returns the loss before each step and after the last:
 * steps + 1 values. If the network really is only its biases, its loss curve
 * is this one.
 */
export function biasOnlyLossCurve(
  frequencies: readonly number[],
  learningRate: number,
  steps: number,
): number[] {
  const biases = frequencies.map(() => 0);
  const losses = [constantOutputLoss(biases, frequencies)];
  for (let step = 0; step < steps; step++) {
    for (let k = 0; k < biases.length; k++) {
      biases[k] -= learningRate * (logistic(biases[k]) - frequencies[k]);
    }
    losses.push(constantOutputLoss(biases, frequencies));
  }
  return losses;
}

/** Steps the bias-only model needs to come within `gap` of the plateau Σ_k H(p_k). */
export function stepsToPlateau(
  frequencies: readonly number[],
  learningRate: number,
  gap: number,
  limit = 1e6,
): number {
  const floor = classFrequencyEntropy(frequencies);
  const biases = frequencies.map(() => 0);
  for (let step = 0; step <= limit; step++) {
    if (constantOutputLoss(biases, frequencies) - floor < gap) return step;
    for (let k = 0; k < biases.length; k++) {
      biases[k] -= learningRate * (logistic(biases[k]) - frequencies[k]);
    }
  }
  return Infinity;
}

/** Solve f(x) = target for increasing f on [low, high] by bisection. */
function solveIncreasing(
  f: (x: number) => number,
  target: number,
  low: number,
  high: number,
): number {
  for (let i = 0; i < 200; i++) {
    const middle = (low + high) / 2;
    if (f(middle) < target) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/** The same bias b on all outputs that makes the starting loss equal `target` (b > 0: the outputs start above 1/2). */
export function uniformOutputBiasForLoss(target: number, frequencies: readonly number[]): number {
  return solveIncreasing(
    (b) => constantOutputLoss(frequencies.map(() => b), frequencies),
    target,
    0,
    5,
  );
}

/**
 * E[ln(1 + e^z)] for z ~ Normal(0, std²), by the trapezoid rule over ±10 std.
 * Random logits that do not depend on the target cost, per output,
 * E[softplus(z) − t z] = E[softplus(z)] ≈ ln 2 + std²/8.
 */
export function expectedSoftplus(std: number): number {
  if (std === 0) return LN2;
  const points = 4001, span = 10 * std, h = (2 * span) / (points - 1);
  let total = 0;
  for (let i = 0; i < points; i++) {
    const z = -span + i * h;
    const weight = i === 0 || i === points - 1 ? 0.5 : 1;
    total += weight * softplus(z) * Math.exp(-0.5 * (z / std) ** 2);
  }
  return (total * h) / (std * Math.sqrt(2 * Math.PI));
}

/** The spread of random, target-independent logits that makes the starting loss over `outputs` outputs equal `target`. */
export function logitSpreadForLoss(target: number, outputs = OUTPUTS): number {
  return solveIncreasing((std) => outputs * expectedSoftplus(std), target, 0, 5);
}

export interface StartingLossCandidate {
  /** What would have to be different for the start to read this value. */
  explanation: string;
  loss: number;
  /** Whether the value rounds to the asker's 6.98. */
  matchesAsker: boolean;
}

/**
 * The starting loss under the setup and under the variations that could turn
 * 6.93 into 6.98. The first four are measured with the library's loss on
 * sigmoid(0) outputs in float32; the last two are solved for.
 */
export async function startingLossCandidates(
  frequencies: readonly number[],
  backend: Backend = cpu,
): Promise<StartingLossCandidate[]> {
  const rows = 100;
  const measure = (options: BinaryCrossEntropyOptions, epsilon?: number) =>
    tidy(() => {
      const half = sigmoid(backend.zeros([rows, OUTPUTS], "float32"));
      const labels = backend.fromValues(
        Float32Array.from({ length: rows }, (_, i) => i % OUTPUTS),
        [rows],
        "float32",
      );
      const loss = new BinaryCrossEntropy(options, epsilon).forward(half, oneHot(labels, OUTPUTS));
      return loss;
    });
  const read = async (tensor: ReturnType<typeof measure>) => {
    const [value] = await tensor.data();
    tensor.dispose();
    return value;
  };
  const summed = await read(measure({ outputReduction: "sum" }));
  const bias = uniformOutputBiasForLoss(ASKER_START_LOSS, frequencies);
  const spread = logitSpreadForLoss(ASKER_START_LOSS);
  const candidates: [string, number][] = [
    ["the setup: every output sigmoid(0) = 1/2, BCE summed over 10 outputs, ε = 1e-7", summed],
    [
      "BCE averaged over the 10 outputs instead (PyTorch's and Keras's default)",
      await read(measure({ outputReduction: "mean" })),
    ],
    [
      "probabilities clipped to [0.01, 0.99] instead of [1e-7, 1 − 1e-7]",
      await read(measure({ outputReduction: "sum" }, 0.01)),
    ],
    ["the loss in bits (log base 2) instead of nats", summed / LN2],
    [
      `all ten output biases at +${bias.toFixed(4)} instead of 0`,
      constantOutputLoss(frequencies.map(() => bias), frequencies),
    ],
    [
      `random logits of std ${spread.toFixed(3)} (small random weights, not zeros)`,
      OUTPUTS * expectedSoftplus(spread),
    ],
  ];
  return candidates.map(([explanation, loss]) => ({
    explanation,
    loss,
    matchesAsker: Math.abs(loss - ASKER_START_LOSS) < 0.005,
  }));
}

// Networks ------------------------------------------------------------------------

export type HiddenActivation = "relu" | "leaky-relu" | "tanh" | "sigmoid";
/** "sigmoid-bce-sum": the asker's outputs; "softmax-ce": linear logits into softmax cross-entropy. */
export type OutputKind = "sigmoid-bce-sum" | "softmax-ce";

export interface NetworkConfig {
  hiddenSizes: number[];
  activation: HiddenActivation;
  weightInit: Init;
  biasInit?: Init;
  output: OutputKind;
  learningRate: number;
  /** Full-batch gradient-descent steps (one step per epoch). */
  steps: number;
}

/**
 * The asker's setup as we run it: one hidden layer of 32 leaky-ReLU units,
 * everything zero, lr 0.3. 90 steps is where the bias-only model is within
 * 0.005 of the plateau at this learning rate (stepsToPlateau gives 88).
 */
export const ASKER_NETWORK: NetworkConfig = {
  hiddenSizes: [32],
  activation: "leaky-relu",
  weightInit: "zeros",
  biasInit: "zeros",
  output: "sigmoid-bce-sum",
  learningRate: 0.3,
  steps: 90,
};

/** The fix: the same network and learning rate, He-initialised weights. */
export const HE_FIX: NetworkConfig = { ...ASKER_NETWORK, weightInit: "he-normal", steps: 30 };
/** The conventional classifier beside it: linear logits into softmax cross-entropy. */
export const SOFTMAX_FIX: NetworkConfig = { ...HE_FIX, output: "softmax-ce" };

export function describeConfig(config: NetworkConfig): string {
  const init = typeof config.weightInit === "string" ? config.weightInit : config.weightInit.name;
  return `784-${config.hiddenSizes.join("-")}-10 ${config.activation}, ${init} weights, ` +
    `${config.output}, lr ${config.learningRate}`;
}

export function buildNetwork(
  config: NetworkConfig,
  options: { seed?: number; backend?: Backend } = {},
): Sequential {
  for (const size of config.hiddenSizes) {
    if (!Number.isInteger(size) || size < 1) {
      throw new Error(
        `buildNetwork: hidden sizes must be positive integers, got [${config.hiddenSizes}]`,
      );
    }
  }
  return mlp([784, ...config.hiddenSizes, OUTPUTS], {
    activation: config.activation,
    outputActivation: config.output === "sigmoid-bce-sum" ? "sigmoid" : "identity",
    weightInit: config.weightInit,
    biasInit: config.biasInit ?? "zeros",
    seed: options.seed ?? 0,
    backend: options.backend ?? cpu,
  });
}

export function lossFor(output: OutputKind): Loss {
  return output === "sigmoid-bce-sum"
    ? new BinaryCrossEntropy({ outputReduction: "sum" })
    : new SoftmaxCrossEntropy();
}

// Monitors specific to this chapter -----------------------------------------------

/**
 * How different the hidden units of each hidden layer are: the largest
 * |W[i, j] − W[i, 0]| over inputs i and units j of the layer's incoming weights
 * (unit j's column of W, its row in PyTorch's layout), and likewise for the
 * biases. Zero means every unit is a copy of unit 0.
 */
export async function hiddenUnitSpread(
  model: Sequential,
): Promise<{ layer: string; weightSpread: number; biasSpread: number }[]> {
  const linears = model.layers.filter((layer) => layer.kind === "linear") as Linear[];
  const result = [];
  for (const linear of linears.slice(0, -1)) {
    const weights = await linear.weight.value.data();
    const biases = await linear.bias.value.data();
    const units = linear.outFeatures;
    let weightSpread = 0, biasSpread = 0;
    for (let i = 0; i < linear.inFeatures; i++) {
      const first = weights[i * units];
      for (let j = 1; j < units; j++) {
        weightSpread = Math.max(weightSpread, Math.abs(weights[i * units + j] - first));
      }
    }
    for (let j = 1; j < units; j++) {
      biasSpread = Math.max(biasSpread, Math.abs(biases[j] - biases[0]));
    }
    result.push({ layer: linear.name, weightSpread, biasSpread });
  }
  return result;
}

/** Logs "unit-spread" (see hiddenUnitSpread) for each hidden Linear layer every `every` steps. */
export function unitSpreadMonitor(log: MonitorLog, every = 10): TrainingHook {
  return {
    async afterUpdate(context) {
      if (context.step !== 1 && context.step % every !== 0) return;
      for (const { layer, weightSpread } of await hiddenUnitSpread(context.model as Sequential)) {
        log.add({
          step: context.step,
          epoch: context.epoch,
          layer: `${layer}.weight`,
          metric: "unit-spread",
          value: weightSpread,
        });
      }
    },
  };
}

/**
 * Logs "loss-minus-class-entropy": the step's training loss minus Σ_k H(p_k).
 * It reaching ~0 and staying there says: this network has learned the class
 * frequencies and nothing else.
 */
export function classEntropyGapMonitor(
  log: MonitorLog,
  classEntropy: number,
  every = 1,
): TrainingHook {
  return {
    async beforeUpdate(context) {
      if (context.step !== 1 && context.step % every !== 0) return;
      const [loss] = await context.loss.data();
      log.add({
        step: context.step,
        epoch: context.epoch,
        layer: "loss",
        metric: "loss-minus-class-entropy",
        value: loss - classEntropy,
      });
    },
  };
}

/** Prints "label: step s/n, loss x" every `every` steps (full-batch runs have one step per epoch). */
export function stepProgress(
  label: string,
  totalSteps: number,
  write: (line: string) => void,
  every = 30,
): TrainingHook {
  return {
    async beforeUpdate(context) {
      if (context.step % every !== 0 && context.step !== totalSteps) return;
      const [loss] = await context.loss.data();
      write(`  ${label}: step ${context.step}/${totalSteps}, loss ${loss.toFixed(4)}`);
    },
  };
}

// Running a network ---------------------------------------------------------------

export interface ChapterData {
  train: Dataset;
  test: Dataset;
}

/** MNIST as lib/data gives it: 8,000 training and 2,000 test digits, values in [0, 1]. */
export async function loadChapterData(): Promise<ChapterData> {
  return await loadMnist();
}

/** A stratified subset of the training digits, for cheap sweeps. */
export function trainingSubset(data: ChapterData, count: number, seed = 0): Dataset {
  const result = subset(data.train, { count, seed });
  result.name = `mnist/train (${count} of ${data.train.count})`;
  return result;
}

export interface Run {
  config: NetworkConfig;
  model: Sequential;
  history: History;
  /** Training loss before each step and after the last (steps + 1 values). */
  lossCurve: number[];
  startLoss: number;
  finalLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** The distinct classes the trained network predicts on the test digits. */
  predictedClasses: number[];
  seconds: number;
}

export interface RunOptions {
  seed?: number;
  backend?: Backend;
  hooks?: TrainingHook[];
}

/** Argmax of each row; ties go to the lowest index. */
export function predictedLabels(outputs: Float32Array[]): number[] {
  return outputs.map((row) => {
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
    return best;
  });
}

/**
 * Full-batch gradient descent, as the asker ran it: batch = the whole training
 * set, plain SGD, `config.steps` steps. (Shuffling is off: with the whole set
 * in one batch it would change only the order of a sum.)
 */
export async function trainFullBatch(
  config: NetworkConfig,
  trainSet: Dataset,
  test: Dataset,
  options: RunOptions = {},
): Promise<Run> {
  const started = performance.now();
  const model = buildNetwork(config, options);
  const loss = lossFor(config.output);
  const history = await train({
    model,
    loss,
    optimizer: new SGD({ learningRate: config.learningRate }),
    train: trainSet,
    epochs: config.steps,
    batchSize: trainSet.count,
    seed: options.seed ?? 0,
    shuffle: false,
    hooks: options.hooks,
    progress: "none",
  });
  const end = await evaluate(model, loss, trainSet);
  const onTest = await evaluate(model, loss, test);
  const predictions = predictedLabels(await predict(model, test));
  return {
    config,
    model,
    history,
    lossCurve: [...history.epochs.map((record) => record.trainLoss), end.loss],
    startLoss: history.epochs[0].trainLoss,
    finalLoss: end.loss,
    trainAccuracy: end.accuracy!,
    testAccuracy: onTest.accuracy!,
    predictedClasses: [...new Set(predictions)].sort((a, b) => a - b),
    seconds: (performance.now() - started) / 1000,
  };
}

// Part 2: reproduce ---------------------------------------------------------------

export interface Reproduction {
  run: Run;
  classEntropy: number;
  /** finalLoss − classEntropy. */
  plateauGap: number;
  majority: { label: number; frequency: number };
  testMajorityFrequency: number;
  /** The same curve from the ten-bias model, in float64. */
  biasOnlyCurve: number[];
  /** Largest |network loss − bias-only loss| over the steps. */
  biasOnlyLargestDifference: number;
  log: MonitorLog;
  /** The largest gradient norm of any weight matrix at any step, and of the output biases. */
  largestWeightGradientNorm: number;
  largestHiddenBiasGradientNorm: number;
  outputBiasGradientNormAtStep1: number;
  /** Statistics of every layer's output on the first 512 training digits after training. */
  layers: LayerStatistics[];
}

/** The largest value of a metric over the rows whose layer name matches. */
function largest(
  log: MonitorLog,
  metric: string,
  layerMatches: (layer: string) => boolean,
): number {
  return Math.max(
    0,
    ...log.select(metric).filter((row) => layerMatches(row.layer)).map((row) => row.value),
  );
}

/**
 * Train the asker's network (or `config`, for `steps` steps if given) on `train`
 * (default: all training digits) with monitors on every step, and compare it with
 * the ten-bias model.
 */
export async function reproduce(
  data: ChapterData,
  options: RunOptions & { config?: NetworkConfig; steps?: number; train?: Dataset } = {},
): Promise<Reproduction> {
  const baseConfig = options.config ?? ASKER_NETWORK;
  const config = { ...baseConfig, steps: options.steps ?? baseConfig.steps };
  const trainSet = options.train ?? data.train;
  const frequencies = datasetFrequencies(trainSet);
  const classEntropy = classFrequencyEntropy(frequencies);
  const log = new MonitorLog();
  const run = await trainFullBatch(config, trainSet, data.test, {
    ...options,
    hooks: [
      gradientMonitor({ log, every: 1 }),
      classEntropyGapMonitor(log, classEntropy),
      unitSpreadMonitor(log),
      ...(options.hooks ?? []),
    ],
  });
  const biasOnlyCurve = biasOnlyLossCurve(frequencies, config.learningRate, config.steps);
  const lastLinear = `linear${config.hiddenSizes.length + 1}`;
  return {
    run,
    classEntropy,
    plateauGap: run.finalLoss - classEntropy,
    majority: majorityClass(frequencies),
    testMajorityFrequency: majorityClass(datasetFrequencies(data.test)).frequency,
    biasOnlyCurve,
    biasOnlyLargestDifference: Math.max(
      ...run.lossCurve.map((loss, i) => Math.abs(loss - biasOnlyCurve[i])),
    ),
    log,
    largestWeightGradientNorm: largest(log, "gradient-norm", (layer) => layer.endsWith(".weight")),
    largestHiddenBiasGradientNorm: largest(
      log,
      "gradient-norm",
      (layer) => layer.endsWith(".bias") && !layer.startsWith(lastLinear + "."),
    ),
    outputBiasGradientNormAtStep1: log.select("gradient-norm", `${lastLinear}.bias`)[0].value,
    layers: await layerStatistics(run.model, trainSet, 512),
  };
}

// Part 3: diagnose ----------------------------------------------------------------

/**
 * The monitors' readings at a few steps, one row per step: each parameter's
 * gradient norm, the spread between hidden units, and loss − Σ H(p_k).
 */
export function monitorSummary(
  log: MonitorLog,
  steps: number[],
): Record<string, number>[] {
  return steps.map((step) => {
    const row: Record<string, number> = { step };
    for (const entry of log.rows.filter((r) => r.step === step)) {
      if (entry.metric === "gradient-norm") row[`‖∇ ${entry.layer}‖`] = entry.value;
      if (entry.metric === "unit-spread") row[`spread ${entry.layer}`] = entry.value;
      if (entry.metric === "loss-minus-class-entropy") row["loss − Σ H(p_k)"] = entry.value;
    }
    return row;
  });
}

export interface SweepEntry {
  label: string;
  config: NetworkConfig;
  lossCurve: number[];
  finalLoss: number;
  plateauGap: number;
  largestWeightGradientNorm: number;
  trainAccuracy: number;
  distinctPredictions: number;
}

export interface Sweep {
  trainCount: number;
  classEntropy: number;
  majorityFrequency: number;
  entries: SweepEntry[];
  /** Largest difference between the loss curves of runs that share a learning rate. */
  largestDifferenceAtEqualLearningRate: number;
  /** Largest difference between any run's curve and the ten-bias model's. */
  largestDifferenceFromBiasOnly: number;
}

/**
 * What the asker changed, one thing at a time from 784-32-10 leaky ReLU at lr 1:
 * the learning rate, the depth, the width and the activation (all with f(0) = 0).
 * Steps per run: `stepsAtLearningRateOne` / lr; the default 36 is enough for the
 * ten-bias model to be within 0.001 of the plateau (smaller values are for quick checks).
 */
export function sweepConfigs(
  stepsAtLearningRateOne = 36,
): { label: string; config: NetworkConfig }[] {
  if (!Number.isInteger(stepsAtLearningRateOne) || stepsAtLearningRateOne < 1) {
    throw new Error(
      `sweepConfigs: stepsAtLearningRateOne must be a positive integer, got ${stepsAtLearningRateOne}`,
    );
  }
  const stepsAt = (learningRate: number) => Math.ceil(stepsAtLearningRateOne / learningRate);
  const base: NetworkConfig = { ...ASKER_NETWORK, learningRate: 1, steps: stepsAt(1) };
  const withRate = (learningRate: number) => ({
    ...base,
    learningRate,
    steps: stepsAt(learningRate),
  });
  return [
    { label: "lr 0.3", config: withRate(0.3) },
    { label: "lr 1 (base: 784-32-10 leaky ReLU)", config: base },
    { label: "lr 3", config: withRate(3) },
    { label: "2 hidden layers", config: { ...base, hiddenSizes: [32, 32] } },
    { label: "4 hidden layers", config: { ...base, hiddenSizes: [32, 32, 32, 32] } },
    { label: "width 8", config: { ...base, hiddenSizes: [8] } },
    { label: "width 128", config: { ...base, hiddenSizes: [128] } },
    { label: "ReLU", config: { ...base, activation: "relu" } },
    { label: "tanh", config: { ...base, activation: "tanh" } },
  ];
}

/**
 * Train each configuration from zeros with a gradient monitor on every step,
 * and compare every loss curve with the others and with the ten-bias model's.
 */
export async function zeroInitSweep(
  trainSet: Dataset,
  test: Dataset,
  options: RunOptions & {
    configs?: { label: string; config: NetworkConfig }[];
    /** Called after each run, e.g. to show progress. */
    onEntry?: (entry: SweepEntry) => void;
  } = {},
): Promise<Sweep> {
  const frequencies = datasetFrequencies(trainSet);
  const classEntropy = classFrequencyEntropy(frequencies);
  const entries: SweepEntry[] = [];
  let largestDifferenceFromBiasOnly = 0;
  for (const { label, config } of options.configs ?? sweepConfigs()) {
    const log = new MonitorLog();
    const run = await trainFullBatch(config, trainSet, test, {
      ...options,
      hooks: [gradientMonitor({ log, every: 1 })],
    });
    const trainPredictions = predictedLabels(await predict(run.model, trainSet));
    const entry: SweepEntry = {
      label,
      config,
      lossCurve: run.lossCurve,
      finalLoss: run.finalLoss,
      plateauGap: run.finalLoss - classEntropy,
      largestWeightGradientNorm: largest(
        log,
        "gradient-norm",
        (layer) => layer.endsWith(".weight"),
      ),
      trainAccuracy: run.trainAccuracy,
      distinctPredictions: new Set(trainPredictions).size,
    };
    const biasOnly = biasOnlyLossCurve(frequencies, config.learningRate, config.steps);
    entry.lossCurve.forEach((loss, i) => {
      largestDifferenceFromBiasOnly = Math.max(
        largestDifferenceFromBiasOnly,
        Math.abs(loss - biasOnly[i]),
      );
    });
    entries.push(entry);
    options.onEntry?.(entry);
  }
  let largestDifferenceAtEqualLearningRate = 0;
  for (const a of entries) {
    for (const b of entries) {
      if (a.config.learningRate !== b.config.learningRate) continue;
      a.lossCurve.forEach((loss, i) => {
        largestDifferenceAtEqualLearningRate = Math.max(
          largestDifferenceAtEqualLearningRate,
          Math.abs(loss - b.lossCurve[i]),
        );
      });
    }
  }
  return {
    trainCount: trainSet.count,
    classEntropy,
    majorityFrequency: majorityClass(frequencies).frequency,
    entries,
    largestDifferenceAtEqualLearningRate,
    largestDifferenceFromBiasOnly,
  };
}

/**
 * A one-hidden-layer network whose hidden units are identical is a network of
 * width 1: unit 0's incoming weights, and outgoing weights summed over the units.
 */
export async function collapseToWidthOne(
  model: Sequential,
  backend: Backend = cpu,
): Promise<Sequential> {
  const linears = model.layers.filter((layer) => layer.kind === "linear") as Linear[];
  if (linears.length !== 2) {
    throw new Error(`collapseToWidthOne: needs one hidden layer, got ${linears.length - 1}`);
  }
  const [hidden, output] = linears;
  const activation = model.layers[1].kind as HiddenActivation;
  const narrow = mlp([hidden.inFeatures, 1, output.outFeatures], {
    activation,
    outputActivation: model.layers.at(-1)!.kind === "sigmoid" ? "sigmoid" : "identity",
    weightInit: "zeros",
    backend,
  });
  const [narrowHidden, narrowOutput] = narrow.layers.filter((layer) =>
    layer.kind === "linear"
  ) as Linear[];
  const units = hidden.outFeatures;
  const w1 = await hidden.weight.value.data();
  const w2 = await output.weight.value.data();
  const firstColumn = Float32Array.from({ length: hidden.inFeatures }, (_, i) => w1[i * units]);
  const summedRows = Float32Array.from({ length: output.outFeatures }, (_, k) => {
    let total = 0;
    for (let j = 0; j < units; j++) total += w2[j * output.outFeatures + k];
    return total;
  });
  narrowHidden.weight.value = backend.fromValues(firstColumn, [hidden.inFeatures, 1], "float32");
  narrowHidden.bias.value = backend.fromValues(
    [(await hidden.bias.value.data())[0]],
    [1],
    "float32",
  );
  narrowOutput.weight.value = backend.fromValues(summedRows, [1, output.outFeatures], "float32");
  narrowOutput.bias.value = backend.fromValues(
    await output.bias.value.data(),
    [output.outFeatures],
    "float32",
  );
  return narrow;
}

export interface SymmetryStudy {
  trainCount: number;
  zeroInit: Run;
  /** Gradient norm of the hidden weights at each monitored step (0 at step 1, then not). */
  hiddenWeightGradientNorms: { step: number; value: number }[];
  spread: { layer: string; weightSpread: number; biasSpread: number }[];
  largestHiddenWeight: number;
  /** The trained net collapsed to one hidden unit: its accuracy and its largest output difference. */
  collapsedTestAccuracy: number;
  collapsedLargestOutputDifference: number;
  /** A width-1 network trained the same way from zeros. */
  widthOne: Run;
  /** The fix for sigmoid hidden units: Glorot initialisation. */
  glorot: Run;
  glorotSpread: number;
  log: MonitorLog;
}

/** Training digits for the sweep and for the symmetry study (subsets, to keep them cheap). */
export const SWEEP_TRAIN_COUNT = 500;
export const SYMMETRY_TRAIN_COUNT = 1000;

/** The symmetry study's network: the asker's with sigmoid hidden units (f(0) = 1/2), 60 steps. */
export const SIGMOID_ZERO: NetworkConfig = { ...ASKER_NETWORK, activation: "sigmoid", steps: 60 };

/**
 * Sigmoid hidden units from zeros: gradients that are not zero, but the same for every unit.
 * `config` (default SIGMOID_ZERO, for `steps` steps if given) is the zero-initialised
 * network; the width-1 and Glorot runs are the same with one hidden unit and with Glorot weights.
 */
export async function symmetryStudy(
  trainSet: Dataset,
  test: Dataset,
  options: RunOptions & { config?: NetworkConfig; steps?: number } = {},
): Promise<SymmetryStudy> {
  const backend = options.backend ?? cpu;
  const baseConfig = options.config ?? SIGMOID_ZERO;
  const config = { ...baseConfig, steps: options.steps ?? baseConfig.steps };
  if (config.hiddenSizes.length !== 1) {
    throw new Error(
      `symmetryStudy: needs one hidden layer, got hidden sizes [${config.hiddenSizes}]`,
    );
  }
  const log = new MonitorLog();
  const zeroInit = await trainFullBatch(config, trainSet, test, {
    ...options,
    hooks: [
      gradientMonitor({ log, every: 1 }),
      unitSpreadMonitor(log, 10),
      ...(options.hooks ?? []),
    ],
  });
  const spread = await hiddenUnitSpread(zeroInit.model);
  const hiddenWeights = await (zeroInit.model.layers[0] as Linear).weight.value.data();
  const collapsed = await collapseToWidthOne(zeroInit.model, backend);
  const wideOutputs = await predict(zeroInit.model, test);
  const narrowOutputs = await predict(collapsed, test);
  let collapsedLargestOutputDifference = 0;
  wideOutputs.forEach((row, r) =>
    row.forEach((value, k) => {
      collapsedLargestOutputDifference = Math.max(
        collapsedLargestOutputDifference,
        Math.abs(value - narrowOutputs[r][k]),
      );
    })
  );
  const collapsedTest = await evaluate(collapsed, lossFor(config.output), test);
  const widthOne = await trainFullBatch({ ...config, hiddenSizes: [1] }, trainSet, test, options);
  const glorot = await trainFullBatch(
    { ...config, weightInit: "glorot-normal" },
    trainSet,
    test,
    options,
  );
  return {
    trainCount: trainSet.count,
    zeroInit,
    hiddenWeightGradientNorms: log.select("gradient-norm", "linear1.weight").map((
      { step, value },
    ) => ({ step, value })),
    spread,
    largestHiddenWeight: Math.max(...hiddenWeights.map(Math.abs)),
    collapsedTestAccuracy: collapsedTest.accuracy!,
    collapsedLargestOutputDifference,
    widthOne,
    glorot,
    glorotSpread: (await hiddenUnitSpread(glorot.model))[0].weightSpread,
    log,
  };
}

// Part 4: fix ---------------------------------------------------------------------

export interface Fix {
  he: Run;
  softmax: Run;
}

/**
 * The asker's network and learning rate with He-initialised weights, and the softmax
 * classifier beside it, each for `steps` full-batch steps (default HE_FIX.steps).
 */
export async function fix(
  data: ChapterData,
  options: RunOptions & { steps?: number; write?: (line: string) => void } = {},
): Promise<Fix> {
  const steps = options.steps ?? HE_FIX.steps;
  const progress = (label: string) =>
    options.write ? [stepProgress(label, steps, options.write, 10)] : [];
  const he = await trainFullBatch({ ...HE_FIX, steps }, data.train, data.test, {
    ...options,
    hooks: progress("He init, sigmoid + BCE"),
  });
  const softmax = await trainFullBatch({ ...SOFTMAX_FIX, steps }, data.train, data.test, {
    ...options,
    hooks: progress("He init, softmax CE"),
  });
  return { he, softmax };
}

// Figures -------------------------------------------------------------------------

/** The reproduction's loss per step, the ten-bias model's, and the two derived numbers. */
export function plateauFigure(reproduction: Reproduction): VegaLiteSpec {
  const network = reproduction.run.lossCurve.map((y, x) => ({ x, y, series: "network" }));
  const biasOnly = reproduction.biasOnlyCurve.map((y, x) => ({ x, y, series: "10 biases alone" }))
    .filter((point) => point.x % 3 === 0);
  return lineChart({
    title: "Zero init: the loss falls from 10 ln 2 to Σ H(p_k), and stops",
    data: [...network, ...biasOnly],
    xTitle: "full-batch gradient-descent step",
    yTitle: "training loss (BCE summed over 10 outputs)",
    seriesTitle: "model",
    rules: [
      { y: 10 * LN2, label: `10 ln 2 = ${(10 * LN2).toFixed(4)}` },
      { y: reproduction.classEntropy, label: `Σ H(p_k) = ${reproduction.classEntropy.toFixed(4)}` },
    ],
  });
}

/** Gradient norm per parameter per step: leaky ReLU from zeros, and sigmoid from zeros. */
export function gradientNormFigure(reproduction: Reproduction, study: SymmetryStudy): VegaLiteSpec {
  const panel = (log: MonitorLog, title: string, lastStep = Infinity) =>
    lineChart({
      title,
      data: log.select("gradient-norm").filter(({ step }) => step <= lastStep).map((
        { step, layer, value },
      ) => ({ x: step, y: value, series: layer })),
      xTitle: "step",
      yTitle: "L2 norm of the gradient",
      seriesTitle: "parameter",
      width: 300,
      height: 220,
    });
  return sideBySide(
    [
      panel(reproduction.log, "leaky ReLU hidden, zero init"),
      panel(study.log, "sigmoid hidden, zero init (first 20 steps)", 20),
    ],
    "Gradient norms: with f(0) = 0 only the output bias has a gradient",
  );
}

/**
 * Loss per step of the sweep, one line per learning rate: runs that share a
 * learning rate have identical curves, so each line stands for all of them.
 */
export function sweepFigure(sweep: Sweep): VegaLiteSpec {
  const rates = [...new Set(sweep.entries.map((entry) => entry.config.learningRate))];
  const data = rates.flatMap((rate) => {
    const runs = sweep.entries.filter((entry) => entry.config.learningRate === rate);
    const series = `lr ${rate} (${runs.length} run${runs.length > 1 ? "s" : ""})`;
    return runs[0].lossCurve.map((y, x) => ({ x, y, series }));
  });
  return lineChart({
    title: `Whatever was changed, the loss lands on Σ H(p_k) (${sweep.trainCount} training digits)`,
    data,
    xTitle: "full-batch gradient-descent step",
    yTitle: "training loss",
    seriesTitle: "learning rate",
    rules: [{ y: sweep.classEntropy, label: `Σ H(p_k) = ${sweep.classEntropy.toFixed(4)}` }],
  });
}

/** The first-layer weights of 8 hidden units as 28x28 images, zero init vs Glorot (sigmoid hidden units). */
export async function hiddenUnitImages(study: SymmetryStudy, units = 8): Promise<VegaLiteSpec> {
  const pictures = async (run: Run, name: string) => {
    const linear = run.model.layers[0] as Linear;
    const w = await linear.weight.value.data();
    const images = new Float32Array(units * 784);
    for (let j = 0; j < units; j++) {
      for (let i = 0; i < 784; i++) images[j * 784 + i] = w[i * linear.outFeatures + j];
    }
    const extreme = Math.max(...images.map(Math.abs)) || 1;
    return imageGrid({
      images,
      count: units,
      height: 28,
      width: 28,
      columns: units,
      pixelSize: 2,
      range: [-extreme, extreme],
      labels: Array.from({ length: units }, (_, j) => `unit ${j}`),
      title: `${name}, after ${run.config.steps} steps`,
    });
  };
  return stacked(
    [await pictures(study.zeroInit, "zero init"), await pictures(study.glorot, "Glorot init")],
    "Incoming weights of 8 sigmoid hidden units (grey = 0)",
  );
}

/** Training accuracy per step: zero init (flat at the majority class) and the two fixes. */
export function fixFigure(fixed: Fix, reproduction: Reproduction): VegaLiteSpec {
  const steps = fixed.he.config.steps;
  const curve = (run: Run, series: string) =>
    run.history.epochs.slice(0, steps).map((record) => ({
      x: record.epoch,
      y: record.trainAccuracy!,
      series,
    }));
  return lineChart({
    title: "Training accuracy per step: zero init stays at the majority class; He init learns",
    data: [
      ...curve(reproduction.run, "zero init"),
      ...curve(fixed.he, "He, sigmoid + BCE"),
      ...curve(fixed.softmax, "He, softmax CE"),
    ],
    xTitle: "full-batch gradient-descent step",
    yTitle: "training accuracy",
    seriesTitle: "network",
    yDomain: [0, 1],
    rules: [{ y: reproduction.majority.frequency, label: "majority class" }],
  });
}

// The task ------------------------------------------------------------------------

if (import.meta.main) {
  const { runChapter } = await import("./cli.ts");
  await runChapter(
    { number: 2, title: "Why does the training loss flatten? (zero initialisation)" },
    Deno.args,
    async (ctx) => {
      const { report, backend, seed } = ctx;
      const data = await loadChapterData();
      const frequencies = datasetFrequencies(data.train);
      const entropy = classFrequencyEntropy(frequencies);

      report.heading("1. The question");
      report.line(
        `Zero-initialised MLP on MNIST, sigmoid outputs, BCE summed over 10 outputs, full-batch GD.`,
      );
      report.line(
        `Asker: the loss always starts at ${ASKER_START_LOSS} and ends at ${ASKER_END_LOSS}.`,
      );
      report.table([
        ["start, every output 1/2: 10 ln 2", (10 * LN2).toFixed(4)],
        ["end, biases only: Σ_k H(p_k), our 8,000-digit split", entropy.toFixed(4)],
        [
          "  the same for MNIST's 60,000 training digits",
          classFrequencyEntropy(classFrequencies(MNIST_60K_TRAIN_COUNTS)).toFixed(4),
        ],
        ["  the same for 10 balanced classes: 10 H(0.1)", (10 * binaryEntropy(0.1)).toFixed(4)],
      ]);
      report.line("What would make the start read 6.98:");
      const candidates = await startingLossCandidates(frequencies, backend);
      report.table(
        candidates.map((
          c,
        ) => [c.explanation, `${c.loss.toFixed(4)}${c.matchesAsker ? "  <- 6.98" : ""}`]),
      );

      report.heading("2. Reproduce");
      report.line(
        `${
          describeConfig(ASKER_NETWORK)
        }, ${ASKER_NETWORK.steps} full-batch steps on ${data.train.count} digits`,
      );
      const reproduction = await reproduce(data, {
        seed,
        backend,
        hooks: [stepProgress("zero init", ASKER_NETWORK.steps, report.line.bind(report), 30)],
      });
      const { run } = reproduction;
      report.table([
        ["start loss", run.startLoss.toFixed(4)],
        [`loss after ${ASKER_NETWORK.steps} steps`, run.finalLoss.toFixed(4)],
        ["class-frequency entropy Σ H(p_k)", entropy.toFixed(4)],
        ["gap", reproduction.plateauGap.toFixed(4)],
        [
          "train accuracy / majority class frequency",
          `${run.trainAccuracy.toFixed(5)} / ${reproduction.majority.frequency.toFixed(5)}`,
        ],
        [
          "test accuracy / majority class frequency",
          `${run.testAccuracy.toFixed(4)} / ${reproduction.testMajorityFrequency.toFixed(4)}`,
        ],
        ["classes predicted on the test split", run.predictedClasses.join(", ")],
      ]);
      await report.figure("plateau", plateauFigure(reproduction));

      report.heading("3. Diagnose");
      report.line(
        "Monitors (gradient norm per parameter, unit spread, loss − Σ H(p_k)) at steps 1, 30, 60, 90:",
      );
      for (const row of monitorSummary(reproduction.log, [1, 30, 60, 90])) {
        report.line(
          "  " +
            Object.entries(row).map(([name, value]) =>
              `${name} ${Number.isInteger(value) ? value : value.toFixed(4)}`
            ).join(", "),
        );
      }
      report.table([
        [
          "largest weight-gradient norm, any layer, any step",
          reproduction.largestWeightGradientNorm,
        ],
        ["largest hidden-bias gradient norm, any step", reproduction.largestHiddenBiasGradientNorm],
        [
          "output-bias gradient norm at step 1",
          reproduction.outputBiasGradientNormAtStep1.toFixed(4),
        ],
        ["hidden activations: largest |h| on 512 digits", reproduction.layers[1].maxAbs],
        [
          "largest |network loss − ten-bias loss| over the steps",
          reproduction.biasOnlyLargestDifference.toExponential(2),
        ],
      ]);
      const sweepTrain = trainingSubset(data, SWEEP_TRAIN_COUNT);
      report.line(
        `Sweep on ${sweepTrain.count} training digits (Σ H(p_k) = ${
          classFrequencyEntropy(datasetFrequencies(sweepTrain)).toFixed(4)
        }):`,
      );
      // Each run's line is printed as it finishes, so the sweep shows its progress.
      const labelWidth = Math.max(...sweepConfigs().map(({ label }) => label.length));
      const sweep = await zeroInitSweep(sweepTrain, data.test, {
        seed,
        backend,
        onEntry: (entry) =>
          report.line(
            `  ${entry.label.padEnd(labelWidth)}  ${entry.config.steps} steps, loss ${
              entry.finalLoss.toFixed(4)
            }, gap ${entry.plateauGap.toFixed(4)}, max |grad W| ${entry.largestWeightGradientNorm}`,
          ),
      });
      report.line(
        `Same learning rate, any architecture: curves differ by at most ${sweep.largestDifferenceAtEqualLearningRate}.`,
      );
      await report.figure("sweep", sweepFigure(sweep));

      const symmetryTrain = trainingSubset(data, SYMMETRY_TRAIN_COUNT);
      report.line(
        `Sigmoid hidden units (f(0) = 1/2), zero init, ${SIGMOID_ZERO.steps} steps on ${symmetryTrain.count} digits:`,
      );
      const study = await symmetryStudy(symmetryTrain, data.test, { seed, backend });
      report.table([
        [
          "hidden-weight gradient norm at steps 1, 2, 60",
          [1, 2, SIGMOID_ZERO.steps].map((s) =>
            study.hiddenWeightGradientNorms[s - 1].value.toExponential(2)
          ).join(", "),
        ],
        ["spread between hidden units' weights", study.spread[0].weightSpread],
        ["largest |hidden weight|", study.largestHiddenWeight.toExponential(2)],
        [
          "test accuracy: width 32 / collapsed to width 1 / width 1 trained",
          `${study.zeroInit.testAccuracy} / ${study.collapsedTestAccuracy} / ${study.widthOne.testAccuracy}`,
        ],
        [
          "largest output difference, width 32 vs collapsed",
          study.collapsedLargestOutputDifference.toExponential(2),
        ],
        [
          "Glorot init: unit spread / test accuracy",
          `${study.glorotSpread.toFixed(4)} / ${study.glorot.testAccuracy}`,
        ],
      ]);
      await report.figure("gradient-norms", gradientNormFigure(reproduction, study));
      await report.figure("hidden-units", await hiddenUnitImages(study));

      report.heading("4. Fix");
      const fixed = await fix(data, { seed, backend, write: report.line.bind(report) });
      report.table([
        [
          `He init, sigmoid + BCE: test accuracy after ${HE_FIX.steps} steps`,
          fixed.he.testAccuracy,
        ],
        [
          `He init, softmax CE: test accuracy after ${SOFTMAX_FIX.steps} steps`,
          fixed.softmax.testAccuracy,
        ],
      ]);
      await report.figure("fix", fixFigure(fixed, reproduction));
      report.line(
        "Verdict on 'zero weights are symmetric, use random init': right about the init;",
      );
      report.line(
        "incomplete: with f(0) = 0 the weight gradients are exactly zero, not merely symmetric,",
      );
      report.line(
        "and the 3.24 plateau, Σ H(p_k), already said 'only the output biases are learning'.",
      );

      return {
        startLoss: run.startLoss,
        tenLn2: 10 * LN2,
        classEntropy: entropy,
        finalLoss: run.finalLoss,
        plateauGap: reproduction.plateauGap,
        trainAccuracy: run.trainAccuracy,
        testAccuracy: run.testAccuracy,
        majorityFrequency: reproduction.majority.frequency,
        largestWeightGradientNorm: reproduction.largestWeightGradientNorm,
        sweepLargestGap: Math.max(...sweep.entries.map((e) => Math.abs(e.plateauGap))),
        sigmoidUnitSpread: study.spread[0].weightSpread,
        heTestAccuracy: fixed.he.testAccuracy,
        softmaxTestAccuracy: fixed.softmax.testAccuracy,
      };
    },
  );
}
