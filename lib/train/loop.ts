/**
 * The training loop: minibatches reshuffled each epoch, a validation pass after
 * each epoch, a history of losses and accuracies, hooks for monitors, progress.
 *
 * On every backend the data is uploaded once, each step's work stays on the
 * device, and the epoch's loss and accuracy are summed there and read back once
 * per epoch. On the CPU a non-finite loss is caught at the step it happens; on
 * WebGPU (where a read costs about 12 ms) at the end of the epoch, and the step
 * is recovered from a per-step record kept on the device.
 *
 * @module
 */
import type { Backend } from "../backend/backend.ts";
import type { Dataset } from "../data/dataset.ts";
import {
  type Parameter,
  restoreTrainingModes,
  setTrainingMode,
  trainableParameters,
} from "../layers/layer.ts";
import type { Sequential } from "../layers/sequential.ts";
import type { Loss } from "../losses.ts";
import { gatherRows, scale } from "../ops.ts";
import type { Optimizer } from "../optim.ts";
import { Random } from "../random.ts";
import { closeScope, keep, openScope, type Tensor } from "../tensor.ts";
import { batchTarget, type DeviceDataset, range, upload } from "./device_data.ts";
import { correctCount, evaluate, type Evaluation } from "./evaluate.ts";
import { locateNonFinite, markNonFinite } from "./non_finite.ts";
import { Progress } from "./progress.ts";
import {
  type EpochRecord,
  type FullBatchOptions,
  type History,
  NonFiniteLossError,
  type NonFiniteReport,
  type StepContext,
  type TrainOptions,
} from "./types.ts";
import {
  checkModel,
  checkModelFitsLoss,
  positiveInteger,
  softmaxBeforeLossWarning,
  validateDataset,
  warnOnce,
} from "./validate.ts";

/**
 * Train `model` and return its history: one record per epoch. See
 * {@link TrainOptions} for the knobs. A non-finite loss stops training with a
 * {@link NonFiniteLossError} naming the step and the first layer where a NaN
 * or infinity appeared, unless `onNonFinite: "record"`.
 *
 * @example
 * ```ts
 * import { mlp, SGD, SoftmaxCrossEntropy, train } from "../mod.ts";
 * import assert from "node:assert/strict";
 *
 * // Two classes told apart by the sign of the first feature.
 * const inputs = Float32Array.of(1, 0, 2, 1, -1, 0, -2, 1);
 * const data = { name: "signs", inputs, count: 4, features: 2, labels: Uint8Array.of(1, 1, 0, 0), classes: 2 };
 * const history = await train({
 *   model: mlp([2, 2], { seed: 0 }),
 *   loss: new SoftmaxCrossEntropy(),
 *   optimizer: new SGD({ learningRate: 0.5 }),
 *   train: data,
 *   epochs: 20,
 *   batchSize: 4,
 *   progress: "none",
 * });
 * assert.ok(history.epochs[19].trainLoss < history.epochs[0].trainLoss);
 * ```
 */
export async function train(options: TrainOptions): Promise<History> {
  const run = prepareRun(options);
  const { model, history } = run;
  // Dropout and its kind drop values in the steps; evaluate() switches them off for validation.
  const modesBefore = setTrainingMode(model, true);
  try {
    await trainEpochs(run, options.epochs);
  } finally {
    restoreTrainingModes(modesBefore);
  }
  return history;
}

/** The epochs of a prepared run, each with its validation pass and hooks. */
async function trainEpochs(run: Run, epochs: number): Promise<void> {
  const { model, loss, validation, hooks, progress, history } = run;
  for (let epoch = 1; epoch <= epochs && run.step < run.maxSteps; epoch++) {
    const started = performance.now();
    const sums = await trainEpoch(run, epoch);
    const record: EpochRecord = {
      epoch,
      trainLoss: sums.loss / sums.seen,
      trainAccuracy: run.device.labels ? sums.correct / sums.seen : undefined,
      steps: run.step,
      seconds: 0,
    };
    if (validation) {
      const result = await evaluate(model, loss, validation);
      record.validationLoss = result.loss;
      record.validationAccuracy = result.accuracy;
    }
    record.seconds = (performance.now() - started) / 1000;
    history.epochs.push(record);
    progress.epoch(record);
    for (const hook of hooks) await hook.onEpochEnd?.(record, model);
  }
  progress.done();
}

/** What stays the same through a run, and the step count that grows. */
interface Run {
  model: Sequential;
  loss: Loss;
  optimizer: Optimizer;
  parameters: Parameter[];
  backend: Backend;
  trainSet: Dataset;
  validation?: Dataset;
  device: DeviceDataset;
  batchSize: number;
  shuffle: boolean;
  random: Random;
  hooks: NonNullable<TrainOptions["hooks"]>;
  onNonFinite: "stop" | "record";
  maxSteps: number;
  progress: Progress;
  history: History;
  /** On the CPU the loss is read every step; elsewhere flagged on the device. */
  checkEachStep: boolean;
  stepsPerEpoch: number;
  step: number;
}

/** Check the options (each error names the argument) and set up the run. */
function prepareRun(options: TrainOptions): Run {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      "train: give one options object: train({ model, loss, optimizer, train, epochs, batchSize })",
    );
  }
  const { model, loss, optimizer, train: trainSet, validation, epochs, batchSize } = options;
  checkModel("train", model);
  if (!loss || typeof loss.forward !== "function") {
    throw new TypeError("train: loss is missing; give e.g. loss: new SoftmaxCrossEntropy()");
  }
  if (!optimizer || typeof optimizer.step !== "function") {
    throw new TypeError(
      "train: optimizer is missing; give e.g. optimizer: new SGD({ learningRate: 0.1 })",
    );
  }
  if (!trainSet || !(trainSet.inputs instanceof Float32Array)) {
    throw new TypeError(
      "train: train (the training set) must be a Dataset with Float32Array inputs",
    );
  }
  positiveInteger("train", "epochs", epochs);
  positiveInteger("train", "batchSize", batchSize);
  const { seed = 0, shuffle = true, hooks = [], onNonFinite = "stop", maxSteps = Infinity } =
    options;
  if (onNonFinite !== "stop" && onNonFinite !== "record") {
    throw new Error(`train: onNonFinite must be "stop" or "record", got "${onNonFinite}"`);
  }
  if (typeof seed !== "number") throw new TypeError(`train: seed must be a number, got "${seed}"`);
  validateDataset("training set", trainSet, model, loss);
  if (validation) validateDataset("validation set", validation, model, loss);
  checkModelFitsLoss("train", model, loss);
  const warning = softmaxBeforeLossWarning(model, loss);
  if (warning) warnOnce(warning);

  const allParameters = model.parameters();
  const backend = allParameters[0]?.value.backend;
  if (!backend) throw new Error("train: the model has no parameters");
  // Frozen layers' parameters are not handed to the optimiser (and get no gradient).
  const parameters = trainableParameters(model);
  if (parameters.length === 0) {
    throw new Error(
      "train: every layer of the model is frozen, so nothing would change; unfreeze() " +
        "the layers to train (e.g. the head)",
    );
  }
  if (allParameters.some((p) => p.value.dtype !== "float32")) {
    throw new Error(
      "train: the model's parameters are float64; training runs in float32 (float64 is for gradcheck)",
    );
  }
  return {
    model,
    loss,
    optimizer,
    parameters,
    backend,
    trainSet,
    validation,
    device: upload(trainSet, backend),
    batchSize,
    shuffle,
    random: new Random(seed),
    hooks,
    onNonFinite,
    maxSteps,
    progress: new Progress(options.progress ?? "auto", options.label ?? "train", epochs),
    history: { epochs: [] },
    // A read is free on the CPU backends (cpu, wasm); WebGPU pays about 12 ms, so it checks per epoch.
    checkEachStep: backend.name !== "webgpu",
    stepsPerEpoch: Math.ceil(trainSet.count / batchSize),
    step: 0,
  };
}

/** One pass over the training set; returns the epoch's sums, read back once. */
async function trainEpoch(
  run: Run,
  epoch: number,
): Promise<{ loss: number; correct: number; seen: number }> {
  const { backend, trainSet, batchSize, history, stepsPerEpoch } = run;
  const order = run.shuffle
    ? run.random.permutation(trainSet.count)
    : Uint32Array.from(range(0, trainSet.count));
  // Per-epoch sums, kept on the device: loss × batch size, correct predictions,
  // and per step a 0/1 flag of whether its loss was non-finite.
  const lossSum = keep(backend.zeros([1], "float32"));
  const correct = keep(backend.zeros([1], "float32"));
  const nonFiniteSteps = keep(backend.zeros([stepsPerEpoch], "float32"));
  let seen = 0, stepsThisEpoch = 0, totalLoss = 0, totalCorrect = 0;
  let flags: ArrayLike<number> | null = null;
  const found = (report: NonFiniteReport) => {
    if (run.onNonFinite === "stop") throw new NonFiniteLossError(report);
    history.nonFinite ??= report;
  };
  try {
    for (let start = 0; start < trainSet.count && run.step < run.maxSteps; start += batchSize) {
      const end = Math.min(start + batchSize, trainSet.count);
      run.step++;
      const indexInEpoch = stepsThisEpoch++;
      seen += end - start;
      // Everything the step makes is released when it ends.
      await asyncTidy(() =>
        trainingStep(run, order.subarray(start, end), epoch, { lossSum, correct }, found, {
          flags: nonFiniteSteps,
          index: indexInEpoch,
        })
      );
      run.progress.step(epoch, stepsThisEpoch, stepsPerEpoch);
    }
    totalLoss = (await lossSum.data())[0];
    totalCorrect = (await correct.data())[0];
    flags = run.checkEachStep ? null : await nonFiniteSteps.data();
  } finally {
    // Also when a step throws (a non-finite loss, a failing hook): nothing stays allocated.
    lossSum.dispose();
    correct.dispose();
    nonFiniteSteps.dispose();
    run.progress.interrupted();
  }
  const firstBad = flags && !history.nonFinite ? Array.from(flags).findIndex((f) => f !== 0) : -1;
  if (firstBad >= 0) {
    const badStep = run.step - stepsThisEpoch + firstBad + 1;
    found(await locateNonFinite(run.model, run.loss, badStep, epoch, NaN, true));
  }
  return { loss: totalLoss, correct: totalCorrect, seen };
}

/**
 * One step of minibatch gradient descent: forward, loss, backward, a check for
 * a non-finite loss, hooks, the update, and the epoch's sums.
 */
async function trainingStep(
  run: Run,
  rows: Uint32Array,
  epoch: number,
  sums: { lossSum: Tensor; correct: Tensor },
  onNonFiniteFound: (report: NonFiniteReport) => void,
  flagAt: { flags: Tensor; index: number },
): Promise<void> {
  const { model, loss, backend, device, step } = run;
  const indices = backend.fromValues(rows, [rows.length], "float32");
  const inputs = gatherRows(device.inputs, indices);
  const output = model.forward(inputs);
  const batchLoss = loss.forward(output, batchTarget(loss, device, run.trainSet, indices));
  model.backward(loss.backward());
  const context: StepContext = {
    step,
    epoch,
    model,
    parameters: run.parameters,
    optimizer: run.optimizer,
    loss: batchLoss,
    inputs,
  };
  if (run.checkEachStep) {
    const [value] = await batchLoss.data();
    if (!Number.isFinite(value)) {
      onNonFiniteFound(await locateNonFinite(model, loss, step, epoch, value));
    }
  } else {
    markNonFinite(backend, flagAt.flags, batchLoss, flagAt.index, run.stepsPerEpoch);
  }
  for (const hook of run.hooks) await hook.beforeUpdate?.(context);
  run.optimizer.step(run.parameters);
  for (const hook of run.hooks) await hook.afterUpdate?.(context);
  backend.addInPlace(sums.lossSum, scale(batchLoss, rows.length));
  if (device.labels) {
    backend.addInPlace(sums.correct, correctCount(output, gatherRows(device.labels, indices)));
  }
  backend.flush();
}

/** Like tidy(), for an async step (hooks may read values back). */
async function asyncTidy(fn: () => Promise<void>): Promise<void> {
  const scope = openScope();
  try {
    await fn();
  } finally {
    closeScope(scope);
  }
}

/** What `trainFullBatch` returns: the history (one record per step) and the loss curve. */
export interface FullBatchHistory extends History {
  /**
   * The training loss before each step and after the last: `steps + 1` values.
   * (With the whole set in one batch, step k's recorded loss is the loss at the
   * weights before its update.)
   */
  losses: number[];
  /** Loss and accuracy on the training set after the last step. */
  final: Evaluation;
}

/**
 * Full-batch gradient descent: every step uses the whole training set, in order
 * (shuffling would change only the order of a sum), for `steps` steps. Each
 * step is one record of the history. Progress is off unless asked for (one line
 * per step would be a long log).
 */
export async function trainFullBatch(options: FullBatchOptions): Promise<FullBatchHistory> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      "trainFullBatch: give one options object: trainFullBatch({ model, loss, optimizer, train, steps })",
    );
  }
  positiveInteger("trainFullBatch", "steps", options.steps);
  const { steps, ...rest } = options;
  const history = await train({
    progress: "none",
    ...rest,
    epochs: steps,
    batchSize: options.train?.count,
    shuffle: false,
  });
  const final = await evaluate(options.model, options.loss, options.train);
  return {
    ...history,
    losses: [...history.epochs.map((record) => record.trainLoss), final.loss],
    final,
  };
}
