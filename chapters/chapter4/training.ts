/**
 * One run of the asker's [50, 500, 500, 5] network, measured as it trains: the three bias
 * vectors at snapshots, each layer's bias-gradient RMS at every step, the mean activation of the
 * top hidden layer, accuracies on training and test rows, and, at the end, what the output bias
 * does (its correlation with −Wᵀ E[h]) and what the trained network scores without it.
 */
import type { Backend } from "../../lib/backend/backend.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import { subset } from "../../lib/data/transforms.ts";
import type { Init } from "../../lib/init.ts";
import type { ActivationName } from "../../lib/layers/activations.ts";
import { Linear } from "../../lib/layers/linear.ts";
import { mlp, Sequential } from "../../lib/layers/sequential.ts";
import { SoftmaxCrossEntropy } from "../../lib/losses.ts";
import { Adam, type Optimizer, SGD } from "../../lib/optim.ts";
import { evaluate, predict, train } from "../../lib/train.ts";
import type { ChapterData } from "./data.ts";
import { chapterBackend } from "../backend.ts";

/** The asker's layer sizes. */
export const SIZES = [50, 500, 500, 5] as const;

/** A way to train the network: the asker's activation and optimiser are not known. */
export interface Setting {
  label: string;
  activation: Extract<ActivationName, "sigmoid" | "relu" | "tanh">;
  weightInit: Init;
  optimizer: { name: "sgd" | "adam"; learningRate: number };
}

/** Our assumption for the picture: sigmoid units, Glorot weights, plain SGD. */
export const SIGMOID_SGD: Setting = {
  label: "sigmoid, SGD 0.5",
  activation: "sigmoid",
  weightInit: "glorot-uniform",
  optimizer: { name: "sgd", learningRate: 0.5 },
};
export const RELU_SGD: Setting = {
  label: "ReLU (He), SGD 0.05",
  activation: "relu",
  weightInit: "he-normal",
  optimizer: { name: "sgd", learningRate: 0.05 },
};
export const SIGMOID_ADAM: Setting = {
  label: "sigmoid, Adam 0.001",
  activation: "sigmoid",
  weightInit: "glorot-uniform",
  optimizer: { name: "adam", learningRate: 0.001 },
};
export const TANH_SGD: Setting = {
  label: "tanh, SGD 0.5",
  activation: "tanh",
  weightInit: "glorot-uniform",
  optimizer: { name: "sgd", learningRate: 0.5 },
};

/** How long a run is and how often it is looked at. */
export interface RunBudget {
  steps: number;
  batchSize: number;
  /** Snapshots of the biases and accuracies after step 0, evenly spaced over the run. */
  snapshots: number;
  /** Rows of the training and test sets the learning curves are measured on. */
  curveRows: number;
}

export interface BiasSnapshot {
  step: number;
  /** The biases of linear1, linear2, linear3 (the output layer). */
  biases: Float32Array[];
  trainAccuracy: number;
  testAccuracy: number;
}

export interface RunResult {
  setting: Setting;
  seed: number;
  trainCount: number;
  parameterCount: { weights: number; biases: number; total: number };
  snapshots: BiasSnapshot[];
  /** Per weight layer, the RMS of ∂L/∂b over the run's steps (root of the mean square). */
  biasGradientRms: number[];
  /** Per step, Σ_k ∂L/∂b_k of the output layer: zero for softmax cross-entropy. */
  outputGradientSums: number[];
  /** Per step, the mean activation of the top hidden layer on the step's batch. */
  topHiddenMean: number[];
  final: {
    trainAccuracy: number;
    testAccuracy: number;
    trainLoss: number;
    testLoss: number;
    /** Train accuracy of the trained network with its output biases put back to 0. */
    trainAccuracyWithoutOutputBias: number;
    /** corr(b, −Wᵀ E[h]) over the 5 classes, E[h] the top hidden layer's mean on training rows. */
    compensationCorrelation: number;
  };
  seconds: number;
}

export interface RunOptions {
  backend?: Backend;
}

const loss = new SoftmaxCrossEntropy();
/** Training rows the final train accuracy is measured on (all of them for N = 500). */
const FINAL_TRAIN_ROWS = 1000;

/** The weight layers of the network, input to output. */
export function linearLayers(model: Sequential): Linear[] {
  return model.layers.filter((layer): layer is Linear => layer instanceof Linear);
}

/** The network for a setting, on a backend. */
export function buildNetwork(setting: Setting, seed: number, backend?: Backend): Sequential {
  backend ??= chapterBackend();
  return mlp([...SIZES], {
    activation: setting.activation,
    weightInit: setting.weightInit,
    seed,
    backend,
  });
}

/** Weights and biases counted from the model's own parameters. */
export function countParameters(model: Sequential): RunResult["parameterCount"] {
  let weights = 0, biases = 0;
  for (const layer of linearLayers(model)) {
    weights += layer.weight.value.size;
    biases += layer.bias.value.size;
  }
  return { weights, biases, total: model.parameterCount() };
}

function makeOptimizer(setting: Setting): Optimizer {
  const { name, learningRate } = setting.optimizer;
  return name === "sgd" ? new SGD({ learningRate }) : new Adam({ learningRate });
}

const curveSets = new WeakMap<Dataset, Map<string, Dataset>>();

/** A fixed stratified sample of a dataset (the same rows for every run), cached. */
function sampleOf(dataset: Dataset, count: number, seed: number): Dataset {
  if (count >= dataset.count) return dataset;
  let byKey = curveSets.get(dataset);
  if (!byKey) curveSets.set(dataset, byKey = new Map());
  const key = `${count}/${seed}`;
  let sample = byKey.get(key);
  if (!sample) byKey.set(key, sample = subset(dataset, { count, seed }));
  return sample;
}

/** The first N training rows of a stratified draw: N = 500 and N = 30,000 come from one table. */
export function trainingSet(data: ChapterData, count: number, seed: number): Dataset {
  if (count >= data.train.count) return data.train;
  return sampleOf(data.train, count, 1000 + seed);
}

/** Train one setting from one seed on `trainCount` rows, measuring as it goes. */
export async function runSetting(
  data: ChapterData,
  setting: Setting,
  seed: number,
  trainCount: number,
  budget: RunBudget,
  options: RunOptions = {},
): Promise<RunResult> {
  const started = performance.now();
  const model = buildNetwork(setting, seed, options.backend);
  const layers = linearLayers(model);
  const topHidden = model.layers[model.layers.length - 2];
  const trainSet = trainingSet(data, trainCount, seed);
  const trainCurve = sampleOf(trainSet, budget.curveRows, 7);
  const testCurve = sampleOf(data.test, budget.curveRows, 7);
  const optimizer = makeOptimizer(setting);
  const snapshotEvery = Math.max(1, Math.ceil(budget.steps / budget.snapshots));

  const snapshots: BiasSnapshot[] = [];
  const snapshot = async (step: number) => {
    snapshots.push({
      step,
      biases: await Promise.all(layers.map((l) => l.bias.value.data() as Promise<Float32Array>)),
      trainAccuracy: (await evaluate(model, loss, trainCurve)).accuracy!,
      testAccuracy: (await evaluate(model, loss, testCurve)).accuracy!,
    });
  };
  await snapshot(0);

  const squaredSums = layers.map(() => 0);
  const outputGradientSums: number[] = [];
  const topHiddenMean: number[] = [];
  let steps = 0;
  const stepsPerEpoch = Math.ceil(trainSet.count / budget.batchSize);
  await train({
    model,
    loss,
    optimizer,
    train: trainSet,
    epochs: Math.ceil(budget.steps / stepsPerEpoch),
    maxSteps: budget.steps,
    batchSize: budget.batchSize,
    seed,
    progress: "none",
    hooks: [{
      beforeUpdate: async () => {
        for (let i = 0; i < layers.length; i++) {
          const grad = await layers[i].bias.grad!.data();
          let squares = 0, total = 0;
          for (const g of grad) [squares, total] = [squares + g * g, total + g];
          squaredSums[i] += squares / grad.length;
          if (i === layers.length - 1) outputGradientSums.push(total);
        }
        topHiddenMean.push(mean(await topHidden.output!.data()));
      },
      afterUpdate: async ({ step }) => {
        steps = step;
        if (step % snapshotEvery === 0) await snapshot(step);
      },
    }],
  });
  if (snapshots.at(-1)!.step !== steps) await snapshot(steps);

  const trainEvaluation = await evaluate(model, loss, sampleOf(trainSet, FINAL_TRAIN_ROWS, 11));
  const testEvaluation = await evaluate(model, loss, data.test);
  const compensationCorrelation = await outputBiasCompensation(model, trainCurve);
  const output = layers.at(-1)!;
  const trainedBias = await output.bias.value.data();
  output.bias.value.backend.assign(
    output.bias.value,
    output.bias.value.backend.zeros(output.bias.value.shape, "float32"),
  );
  const withoutBias = (await evaluate(model, loss, sampleOf(trainSet, FINAL_TRAIN_ROWS, 11)))
    .accuracy!;
  output.bias.value.backend.assign(
    output.bias.value,
    output.bias.value.backend.fromValues(trainedBias, output.bias.value.shape, "float32"),
  );

  return {
    setting,
    seed,
    trainCount: trainSet.count,
    parameterCount: countParameters(model),
    snapshots,
    biasGradientRms: squaredSums.map((s) => Math.sqrt(s / Math.max(1, steps))),
    outputGradientSums,
    topHiddenMean,
    final: {
      trainAccuracy: trainEvaluation.accuracy!,
      testAccuracy: testEvaluation.accuracy!,
      trainLoss: trainEvaluation.loss,
      testLoss: testEvaluation.loss,
      trainAccuracyWithoutOutputBias: withoutBias,
      compensationCorrelation,
    },
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * corr(b, −Wᵀ E[h]) over the classes: the logits are Wᵀ h + b = Wᵀ (h − E[h]) + (Wᵀ E[h] + b),
 * so an output bias that cancels Wᵀ E[h] keeps the intercept Wᵀ E[h] + b near the class priors.
 */
export async function outputBiasCompensation(model: Sequential, rows: Dataset): Promise<number> {
  const output = linearLayers(model).at(-1)!;
  const hidden = await hiddenMean(model, rows);
  const weights = await output.weight.value.data();
  const bias = await output.bias.value.data();
  const [inputs, classes] = output.weight.value.shape;
  const offset = Array.from({ length: classes }, (_, k) => {
    let dot = 0;
    for (let j = 0; j < inputs; j++) dot -= weights[j * classes + k] * hidden[j];
    return dot;
  });
  return correlation(Array.from(bias), offset);
}

/** E[h] of the top hidden layer over `rows`: the network without its last Linear. */
async function hiddenMean(model: Sequential, rows: Dataset): Promise<Float64Array> {
  const body = new Sequential(model.layers.slice(0, -1));
  const outputs = await predict(body, rows);
  const width = outputs[0].length;
  const sums = new Float64Array(width);
  for (const row of outputs) for (let j = 0; j < width; j++) sums[j] += row[j];
  return sums.map((s) => s / outputs.length);
}

export function mean(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total / values.length;
}

export function standardDeviation(values: ArrayLike<number>): number {
  const m = mean(values);
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - m) ** 2;
  return Math.sqrt(squares / values.length);
}

/** Pearson's correlation of two equally long lists. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length < 2) {
    throw new Error(
      `correlation: needs two lists of the same length >= 2, got ${a.length}, ${b.length}`,
    );
  }
  const ma = mean(a), mb = mean(b);
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}
