/**
 * The asker's network on Fashion-MNIST, trained with the head they chose, and measured along
 * the way on the validation set with both the correct and the broadcast accuracy.
 *
 * Our assumptions (the question names none of them): He-normal initialisation, batches of 64,
 * and the optimiser of `OptimizerSetting` (Adam at 0.001, the common default; plain SGD, the
 * likelier from-scratch choice, appears in the seed sweep).
 */
import {
  Adam,
  type Backend,
  type History,
  mlp,
  predict,
  type Sequential,
  SGD,
  SoftmaxCrossEntropy,
  train,
} from "../../lib/mod.ts";
import { loadFashionMnist, scaleToUnitRange, trainTestSplit } from "../../lib/data/mod.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import {
  accuracy,
  accuracyLowerBound,
  allZeroRowFraction,
  argmaxRows,
  batchBroadcastAccuracy,
  broadcastAccuracy,
  deadLogitClasses,
  meanCrossEntropy,
  predictionHistogram,
  shuffledOrder,
} from "./metrics.ts";
import { chapterBackend } from "../backend.ts";

export interface ChapterData {
  train: Dataset;
  validation: Dataset;
  test: Dataset;
}

/**
 * Fashion-MNIST scaled to [0, 1]: the fixed 60,000 / 10,000 split, with 10,000 of the 60,000
 * held out (stratified, 1,000 per class) for validation. `trainCount` takes a stratified subset
 * of the training rows, for the seed sweep and quick tests.
 */
export async function loadChapterData(options: { trainCount?: number } = {}): Promise<ChapterData> {
  const { train: full, test } = await loadFashionMnist();
  const split = trainTestSplit(scaleToUnitRange(full), {
    testCount: 10_000,
    seed: 1,
    names: ["fashion-mnist/train", "fashion-mnist/validation"],
  });
  let trainSet = split.train;
  if (options.trainCount !== undefined && options.trainCount < trainSet.count) {
    trainSet = trainTestSplit(trainSet, { testCount: options.trainCount, seed: 2 }).test;
    trainSet.name = "fashion-mnist/train";
  }
  return { train: trainSet, validation: split.test, test: scaleToUnitRange(test) };
}

/** "relu": the asker's ReLU on the last layer; "linear": the answer's fix. */
export type Head = "relu" | "linear";
export const HEADS: readonly Head[] = ["relu", "linear"];

/** Our assumption for the optimiser: the question does not say. */
export interface OptimizerSetting {
  name: "adam" | "sgd";
  learningRate: number;
}

export function describeOptimizer(setting: OptimizerSetting): string {
  return `${setting.name === "adam" ? "Adam" : "SGD"} ${setting.learningRate}`;
}

export interface RunConfig {
  head: Head;
  optimizer: OptimizerSetting;
  epochs: number;
  batchSize: number;
  seed: number;
  backend?: Backend;
  /** Validation measurements per epoch (1: at epoch ends only; 0: none, not even at the start). */
  measurementsPerEpoch?: number;
  progress?: "auto" | "bar" | "epochs" | "none";
}

/** The validation set at one moment of training, measured on the logits read back. */
export interface Measurement {
  /** Fraction of epochs done (0: the untrained network). */
  epoch: number;
  step: number;
  validationLoss: number;
  accuracy: number;
  broadcastAccuracy: number;
  /** Mean of the broadcast metric over shuffled batches of the run's batch size. */
  batchBroadcastAccuracy: number;
  allZeroRows: number;
  accuracyBound: number;
}

export interface RunResult {
  config: RunConfig;
  model: Sequential;
  /** Per epoch: the training running means (trainLoss, trainAccuracy) of the loop. */
  history: History;
  /** Step 0 is the untrained network. */
  measurements: Measurement[];
}

/** The asker's network: 784-128-10 with a ReLU hidden layer, and the chosen head. */
export function buildModel(config: Pick<RunConfig, "head" | "seed" | "backend">): Sequential {
  return mlp([784, 128, 10], {
    activation: "relu",
    outputActivation: config.head === "relu" ? "relu" : "identity",
    weightInit: "he-normal",
    seed: config.seed,
    backend: config.backend ?? chapterBackend(),
  });
}

function optimizerFor(setting: OptimizerSetting) {
  return setting.name === "adam"
    ? new Adam({ learningRate: setting.learningRate })
    : new SGD({ learningRate: setting.learningRate });
}

/** Loss, both accuracies, all-zero rows and the bound on one dataset, from one forward pass. */
export async function measure(
  model: Sequential,
  dataset: Dataset,
  at: { epoch: number; step: number; batchSize: number; seed: number },
): Promise<Measurement> {
  const logits = await predict(model, dataset);
  const predictions = argmaxRows(logits);
  const labels = dataset.labels!;
  const loss = meanCrossEntropy(logits, labels);
  return {
    epoch: at.epoch,
    step: at.step,
    validationLoss: loss,
    accuracy: accuracy(predictions, labels),
    broadcastAccuracy: broadcastAccuracy(predictions, labels),
    batchBroadcastAccuracy: batchBroadcastAccuracy(
      predictions,
      labels,
      at.batchSize,
      shuffledOrder(labels.length, at.seed),
    ).mean,
    allZeroRows: allZeroRowFraction(logits),
    accuracyBound: accuracyLowerBound(loss),
  };
}

/**
 * Train one configuration with softmax cross-entropy, measuring the validation set before
 * training and `measurementsPerEpoch` times per epoch. The loop's own per-epoch lines are
 * training running means (weights changing as they go), labelled as such.
 */
export async function runExperiment(data: ChapterData, config: RunConfig): Promise<RunResult> {
  const model = buildModel(config);
  const stepsPerEpoch = Math.ceil(data.train.count / config.batchSize);
  const perEpoch = config.measurementsPerEpoch ?? 1;
  const every = Math.max(1, Math.floor(stepsPerEpoch / Math.max(1, perEpoch)));
  const at = (step: number) => ({
    epoch: step / stepsPerEpoch,
    step,
    batchSize: config.batchSize,
    seed: config.seed,
  });
  const measurements = perEpoch > 0 ? [await measure(model, data.validation, at(0))] : [];
  const history = await train({
    model,
    loss: new SoftmaxCrossEntropy(),
    optimizer: optimizerFor(config.optimizer),
    train: data.train,
    epochs: config.epochs,
    batchSize: config.batchSize,
    seed: config.seed,
    progress: config.progress ?? "none",
    label: `[training running mean] ${config.head} head, ${describeOptimizer(config.optimizer)}`,
    hooks: perEpoch === 0 ? [] : [{
      afterUpdate: async ({ step, epoch }) => {
        // Inside the epoch every `every` steps, but not just before its end (measured below).
        const inEpoch = step - (epoch - 1) * stepsPerEpoch;
        if (inEpoch % every === 0 && stepsPerEpoch - inEpoch >= every / 2) {
          measurements.push(await measure(model, data.validation, at(step)));
        }
      },
      onEpochEnd: async (record) => {
        measurements.push(await measure(model, data.validation, at(record.steps)));
      },
    }],
  });
  return { config, model, history, measurements };
}

/** The final measurements on the test split, for the decision table. */
export interface TestReport {
  loss: number;
  accuracy: number;
  broadcastAccuracy: number;
  accuracyBound: number;
  allZeroRows: number;
  deadClasses: number[];
  /** Examples predicted as each class. */
  histogram: number[];
}

export async function testReport(model: Sequential, test: Dataset): Promise<TestReport> {
  const logits = await predict(model, test);
  const predictions = argmaxRows(logits);
  const labels = test.labels!;
  const loss = meanCrossEntropy(logits, labels);
  return {
    loss,
    accuracy: accuracy(predictions, labels),
    broadcastAccuracy: broadcastAccuracy(predictions, labels),
    accuracyBound: accuracyLowerBound(loss),
    allZeroRows: allZeroRowFraction(logits),
    deadClasses: deadLogitClasses(logits),
    histogram: predictionHistogram(predictions, test.classes ?? 10),
  };
}

/** The story run of one head on the budget's data, the chapter's seed and backend. */
export function runStory(
  data: ChapterData,
  story: {
    epochs: number;
    batchSize: number;
    optimizer: OptimizerSetting;
    measurementsPerEpoch: number;
  },
  head: Head,
  options: { seed: number; backend?: Backend; progress?: RunConfig["progress"] },
): Promise<RunResult> {
  return runExperiment(data, { head, ...story, ...options });
}

/** The model's logits on every example of a dataset, read back. */
export function predictLogits(model: Sequential, dataset: Dataset): Promise<Float32Array[]> {
  return predict(model, dataset);
}
