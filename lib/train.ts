/**
 * The training loop: minibatches reshuffled each epoch, a validation pass after
 * each epoch, a history of losses and accuracies, hooks for monitors, progress.
 *
 * On every backend the data is uploaded once, each step's work stays on the
 * device, and the epoch's loss and accuracy are summed there and read back once
 * per epoch. On the CPU a non-finite loss is caught at the step it happens; on
 * WebGPU (where a read costs about 12 ms) at the end of the epoch, and the step
 * is recovered from a per-step record kept on the device.
 */
import type { Backend } from "./backend/backend.ts";
import type { Dataset } from "./data/dataset.ts";
import type { Layer, Parameter } from "./layers/layer.ts";
import type { Sequential } from "./layers/sequential.ts";
import type { Loss } from "./losses.ts";
import { argmax, equal, gatherRows, isNonFinite, mul, oneHot, reshape, scale, sum } from "./ops.ts";
import type { Optimizer } from "./optim.ts";
import { Random } from "./random.ts";
import { closeScope, keep, openScope, type Tensor, tidy } from "./tensor.ts";

export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's steps (weights changing as it goes, as Keras reports). */
  trainLoss: number;
  trainAccuracy?: number;
  validationLoss?: number;
  validationAccuracy?: number;
  /** Global step count at the end of the epoch. */
  steps: number;
  seconds: number;
}

export interface NonFiniteReport {
  step: number;
  epoch: number;
  /** Where the first non-finite value appeared, e.g. "output of linear2" or "the loss". */
  where: string;
  detail: string;
}

export interface History {
  epochs: EpochRecord[];
  /** Set when a non-finite loss appeared and the caller asked to record the collapse. */
  nonFinite?: NonFiniteReport;
}

export class NonFiniteLossError extends Error {
  override name = "NonFiniteLossError";
  constructor(readonly report: NonFiniteReport) {
    super(
      `training stopped: the loss became non-finite at step ${report.step} (epoch ${report.epoch}); ` +
        `first non-finite value: ${report.where}. ${report.detail}`,
    );
  }
}

export interface StepContext {
  step: number;
  epoch: number;
  model: Layer;
  parameters: Parameter[];
  optimizer: Optimizer;
  /** The batch's mean loss, [1], still on the device. */
  loss: Tensor;
  inputs: Tensor;
}

/**
 * Hooks observe training. Step hooks run inside the step, while gradients and
 * activations are alive; anything they read back costs a GPU round trip, so
 * monitors decide how often to look (`every`).
 */
export interface TrainingHook {
  /** After backward(), before the optimiser changes the weights. */
  beforeUpdate?(context: StepContext): void | Promise<void>;
  /** After the update. */
  afterUpdate?(context: StepContext): void | Promise<void>;
  onEpochEnd?(record: EpochRecord, model: Layer): void | Promise<void>;
}

export type ProgressMode = "auto" | "bar" | "epochs" | "none";

export interface TrainOptions {
  model: Sequential;
  loss: Loss;
  optimizer: Optimizer;
  train: Dataset;
  validation?: Dataset;
  epochs: number;
  batchSize: number;
  /** Seeds the shuffling (default 0). */
  seed?: number;
  shuffle?: boolean;
  hooks?: TrainingHook[];
  /** "stop" (default) throws NonFiniteLossError; "record" keeps training and notes it in the history. */
  onNonFinite?: "stop" | "record";
  progress?: ProgressMode;
  /** A label for progress lines. */
  label?: string;
  /** Stop after this many steps in total (for quick experiments). */
  maxSteps?: number;
}

/** Dataset on a backend, uploaded once and reused. */
interface DeviceDataset {
  inputs: Tensor;
  labels?: Tensor;
  targets?: Tensor;
}

const uploads = new WeakMap<Dataset, Map<Backend, DeviceDataset>>();

function upload(dataset: Dataset, backend: Backend): DeviceDataset {
  let perBackend = uploads.get(dataset);
  if (!perBackend) uploads.set(dataset, perBackend = new Map());
  let device = perBackend.get(backend);
  if (!device) {
    device = {
      inputs: keep(
        backend.fromValues(dataset.inputs, [dataset.count, dataset.features], "float32"),
      ),
      labels: dataset.labels
        ? keep(backend.fromValues(dataset.labels, [dataset.count], "float32"))
        : undefined,
      targets: dataset.targets
        ? keep(
          backend.fromValues(dataset.targets, [dataset.count, dataset.targetSize ?? 1], "float32"),
        )
        : undefined,
    };
    perBackend.set(backend, device);
  }
  return device;
}

/**
 * Free the copies of a dataset that training and evaluation uploaded to the
 * backends (they are kept for reuse). GPU memory is not garbage-collected, so
 * code that trains on many datasets in one process calls this when done with one.
 */
export function releaseUploads(dataset: Dataset): void {
  const perBackend = uploads.get(dataset);
  if (!perBackend) return;
  for (const device of perBackend.values()) {
    device.inputs.dispose();
    device.labels?.dispose();
    device.targets?.dispose();
  }
  uploads.delete(dataset);
}

/** Datasets whose inputs were already checked to be finite (the scan is not free). */
const finiteInputs = new WeakSet<Float32Array>();

/** A NaN in the data would surface as "non-finite output of linear1": say where it really is. */
function checkFinite(what: string, dataset: Dataset): void {
  if (finiteInputs.has(dataset.inputs)) return;
  const index = dataset.inputs.findIndex((v) => !Number.isFinite(v));
  if (index >= 0) {
    throw new Error(
      `${what} "${dataset.name}" has a non-finite input, ${dataset.inputs[index]}, at example ` +
        `${Math.floor(index / dataset.features)}, feature ${index % dataset.features}`,
    );
  }
  finiteInputs.add(dataset.inputs);
}

function validateDataset(what: string, dataset: Dataset, model: Sequential, loss?: Loss): void {
  if (!(Number.isInteger(dataset.count) && dataset.count >= 1)) {
    throw new Error(`${what} "${dataset.name}" has no examples (count ${dataset.count})`);
  }
  if (dataset.inputs.length !== dataset.count * dataset.features) {
    throw new Error(
      `${what} "${dataset.name}": ${dataset.inputs.length} input values for ${dataset.count} ` +
        `examples of ${dataset.features} features`,
    );
  }
  checkFinite(what, dataset);
  const first = model.layers.find((l) => "inFeatures" in l) as
    | (Layer & { inFeatures?: number })
    | undefined;
  if (first?.inFeatures !== undefined && first.inFeatures !== dataset.features) {
    throw new Error(
      `${what} "${dataset.name}" has ${dataset.features} features but the model's first layer ` +
        `with weights (${first.name}) expects ${first.inFeatures}`,
    );
  }
  if (!loss) return;
  if (loss.targetKind === "labels" && !dataset.labels) {
    throw new Error(`${loss.name} needs class labels, but ${what} "${dataset.name}" has none`);
  }
  if (loss.targetKind === "dense" && !dataset.labels && !dataset.targets) {
    throw new Error(`${loss.name} needs targets, but ${what} "${dataset.name}" has none`);
  }
  // A class index past the last output would be read from the next row, silently.
  if (dataset.labels && (loss.targetKind === "labels" || !dataset.targets)) {
    let largest = 0;
    for (const label of dataset.labels) largest = Math.max(largest, label);
    if (loss.targetKind === "labels") {
      const last = [...model.layers].reverse().find((l) => "outFeatures" in l) as
        | (Layer & { outFeatures?: number })
        | undefined;
      if (last?.outFeatures !== undefined && largest >= last.outFeatures) {
        throw new Error(
          `${what} "${dataset.name}" has class index ${largest}, but the model's last layer ` +
            `with weights (${last.name}) has ${last.outFeatures} outputs`,
        );
      }
    } else if (dataset.classes === undefined || largest >= dataset.classes) {
      throw new Error(
        `${loss.name} one-hot encodes the labels of ${what} "${dataset.name}", but its ` +
          `classes (${dataset.classes}) do not cover class index ${largest}`,
      );
    }
  }
}

/** The loss's target for a batch: class indices, one-hot rows, or regression targets. */
function batchTarget(loss: Loss, device: DeviceDataset, dataset: Dataset, indices: Tensor): Tensor {
  if (loss.targetKind === "labels") return gatherRows(device.labels!, indices);
  if (device.targets) return gatherRows(device.targets, indices);
  return oneHot(gatherRows(device.labels!, indices), dataset.classes ?? 0);
}

/** Number of correct predictions in the batch, [1] (argmax of the outputs against the labels). */
function correctCount(output: Tensor, labels: Tensor): Tensor {
  return sum(equal(argmax(output), labels));
}

export interface Evaluation {
  loss: number;
  accuracy?: number;
}

/** Mean loss (and accuracy, for labelled data) of the model on a whole dataset. */
export async function evaluate(
  model: Sequential,
  loss: Loss,
  dataset: Dataset,
  batchSize = 1000,
): Promise<Evaluation> {
  const backend = model.parameters()[0]?.value.backend;
  if (!backend) throw new Error("evaluate: the model has no parameters");
  positiveInteger("evaluate", "batchSize", batchSize);
  validateDataset("evaluate", dataset, model, loss);
  const device = upload(dataset, backend);
  const lossSum = keep(backend.zeros([1], "float32"));
  const correct = keep(backend.zeros([1], "float32"));
  for (let start = 0; start < dataset.count; start += batchSize) {
    const end = Math.min(start + batchSize, dataset.count);
    tidy(() => {
      const indices = backend.fromValues(range(start, end), [end - start], "float32");
      const output = model.forward(gatherRows(device.inputs, indices));
      const batchLoss = loss.forward(output, batchTarget(loss, device, dataset, indices));
      backend.addInPlace(lossSum, scale(batchLoss, end - start));
      if (device.labels) {
        backend.addInPlace(correct, correctCount(output, gatherRows(device.labels, indices)));
      }
    });
  }
  backend.flush();
  const [totalLoss] = await lossSum.data();
  const [totalCorrect] = await correct.data();
  lossSum.dispose();
  correct.dispose();
  return {
    loss: totalLoss / dataset.count,
    accuracy: dataset.labels ? totalCorrect / dataset.count : undefined,
  };
}

/** The model's outputs for every example of a dataset, read back: [count, outputs]. */
export async function predict(
  model: Sequential,
  dataset: Dataset,
  batchSize = 1000,
): Promise<Float32Array[]> {
  const backend = model.parameters()[0]?.value.backend;
  if (!backend) throw new Error("predict: the model has no parameters");
  positiveInteger("predict", "batchSize", batchSize);
  validateDataset("predict", dataset, model);
  const device = upload(dataset, backend);
  const rows: Float32Array[] = [];
  for (let start = 0; start < dataset.count; start += batchSize) {
    const end = Math.min(start + batchSize, dataset.count);
    const output = tidy(() => {
      const indices = backend.fromValues(range(start, end), [end - start], "float32");
      return model.forward(gatherRows(device.inputs, indices));
    });
    const values = await output.data();
    output.dispose();
    const width = output.shape[1];
    for (let r = 0; r < end - start; r++) {
      rows.push(Float32Array.from(values.subarray(r * width, (r + 1) * width)));
    }
  }
  return rows;
}

function range(start: number, end: number): Float32Array {
  const out = new Float32Array(end - start);
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}

function positiveInteger(where: string, what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${where}: ${what} must be an integer >= 1, got ${value}`);
  }
}

/** Train `model` and return its history. See TrainOptions for the knobs. */
export async function train(options: TrainOptions): Promise<History> {
  const {
    model,
    loss,
    optimizer,
    train: trainSet,
    validation,
    epochs,
    batchSize,
    seed = 0,
    shuffle = true,
    hooks = [],
    onNonFinite = "stop",
    maxSteps = Infinity,
  } = options;
  positiveInteger("train", "epochs", epochs);
  positiveInteger("train", "batchSize", batchSize);
  if (onNonFinite !== "stop" && onNonFinite !== "record") {
    throw new Error(`train: onNonFinite must be "stop" or "record", got "${onNonFinite}"`);
  }
  validateDataset("training set", trainSet, model, loss);
  if (validation) validateDataset("validation set", validation, model, loss);

  const parameters = model.parameters();
  const backend = parameters[0]?.value.backend;
  if (!backend) throw new Error("train: the model has no parameters");
  if (parameters.some((p) => p.value.dtype !== "float32")) {
    throw new Error(
      "train: the model's parameters are float64; training runs in float32 (float64 is for gradcheck)",
    );
  }
  const device = upload(trainSet, backend);
  const random = new Random(seed);
  const progress = new Progress(options.progress ?? "auto", options.label ?? "train", epochs);
  const history: History = { epochs: [] };
  const checkEachStep = backend.name === "cpu";
  const stepsPerEpoch = Math.ceil(trainSet.count / batchSize);
  let step = 0;

  for (let epoch = 1; epoch <= epochs && step < maxSteps; epoch++) {
    const started = performance.now();
    const order = shuffle
      ? random.permutation(trainSet.count)
      : Uint32Array.from(range(0, trainSet.count));
    // Per-epoch sums, kept on the device: loss × batch size, correct predictions,
    // and per step a 0/1 flag of whether its loss was non-finite.
    const lossSum = keep(backend.zeros([1], "float32"));
    const correct = keep(backend.zeros([1], "float32"));
    const nonFiniteSteps = keep(backend.zeros([stepsPerEpoch], "float32"));
    let seen = 0;
    let stepsThisEpoch = 0;
    let totalLoss = 0, totalCorrect = 0;
    let flags: ArrayLike<number> | null = null;
    try {
      for (let start = 0; start < trainSet.count && step < maxSteps; start += batchSize) {
        const end = Math.min(start + batchSize, trainSet.count);
        step++;
        const indexInEpoch = stepsThisEpoch++;
        seen += end - start;
        // Everything the step makes is released when it ends.
        await asyncTidy(() =>
          trainingStep({
            model,
            loss,
            optimizer,
            parameters,
            hooks,
            backend,
            device,
            trainSet,
            indices: order.subarray(start, end),
            step,
            epoch,
            accumulators: { lossSum, correct },
            checkNow: checkEachStep,
            onNonFiniteFound: (report) => {
              if (onNonFinite === "stop") throw new NonFiniteLossError(report);
              history.nonFinite ??= report;
            },
            markNonFiniteAt: checkEachStep
              ? null
              : { flags: nonFiniteSteps, index: indexInEpoch, length: stepsPerEpoch },
          })
        );
        progress.step(epoch, stepsThisEpoch, stepsPerEpoch);
      }

      totalLoss = (await lossSum.data())[0];
      totalCorrect = (await correct.data())[0];
      flags = checkEachStep ? null : await nonFiniteSteps.data();
    } finally {
      // Also when a step throws (a non-finite loss, a failing hook): nothing stays allocated.
      lossSum.dispose();
      correct.dispose();
      nonFiniteSteps.dispose();
      progress.interrupted();
    }
    if (flags && !history.nonFinite) {
      const firstBad = Array.from(flags).findIndex((f) => f !== 0);
      if (firstBad >= 0) {
        const badStep = step - stepsThisEpoch + firstBad + 1;
        const report = await locateNonFinite(model, loss, badStep, epoch, NaN, true);
        if (onNonFinite === "stop") throw new NonFiniteLossError(report);
        history.nonFinite = report;
      }
    }
    const record: EpochRecord = {
      epoch,
      trainLoss: totalLoss / seen,
      trainAccuracy: device.labels ? totalCorrect / seen : undefined,
      steps: step,
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
  return history;
}

interface StepInputs {
  model: Sequential;
  loss: Loss;
  optimizer: Optimizer;
  parameters: Parameter[];
  hooks: TrainingHook[];
  backend: Backend;
  device: DeviceDataset;
  trainSet: Dataset;
  /** The rows of this minibatch. */
  indices: Uint32Array;
  step: number;
  epoch: number;
  /** Device-side sums for the epoch: loss × batch size, and correct predictions. */
  accumulators: { lossSum: Tensor; correct: Tensor };
  /** Read the loss now (CPU), or flag it on the device for the end of the epoch (GPU). */
  checkNow: boolean;
  onNonFiniteFound: (report: NonFiniteReport) => void;
  markNonFiniteAt: { flags: Tensor; index: number; length: number } | null;
}

/**
 * One step of minibatch gradient descent: forward, loss, backward, a check for
 * a non-finite loss, hooks, the update, and the epoch's sums.
 */
async function trainingStep(s: StepInputs): Promise<void> {
  const { model, loss, backend, device, step, epoch } = s;
  const batchSize = s.indices.length;
  const indices = backend.fromValues(s.indices, [batchSize], "float32");
  const inputs = gatherRows(device.inputs, indices);
  const output = model.forward(inputs);
  const batchLoss = loss.forward(output, batchTarget(loss, device, s.trainSet, indices));
  model.backward(loss.backward());
  const context: StepContext = {
    step,
    epoch,
    model,
    parameters: s.parameters,
    optimizer: s.optimizer,
    loss: batchLoss,
    inputs,
  };

  if (s.checkNow) {
    const [value] = await batchLoss.data();
    if (!Number.isFinite(value)) {
      s.onNonFiniteFound(await locateNonFinite(model, loss, step, epoch, value));
    }
  } else if (s.markNonFiniteAt) {
    const { flags, index, length } = s.markNonFiniteAt;
    markNonFinite(backend, flags, batchLoss, index, length);
  }
  for (const hook of s.hooks) await hook.beforeUpdate?.(context);
  s.optimizer.step(s.parameters);
  for (const hook of s.hooks) await hook.afterUpdate?.(context);
  backend.addInPlace(s.accumulators.lossSum, scale(batchLoss, batchSize));
  if (device.labels) {
    backend.addInPlace(
      s.accumulators.correct,
      correctCount(output, gatherRows(device.labels, indices)),
    );
  }
  backend.flush();
}

/** flags[index] = 1 if the loss is non-finite, without reading it back. */
function markNonFinite(
  backend: Backend,
  flags: Tensor,
  loss: Tensor,
  index: number,
  length: number,
): void {
  const position = reshape(oneHot(backend.fromValues([index], [1], "float32"), length), [length]);
  backend.addInPlace(flags, mul(position, isNonFinite(loss)));
}

/**
 * Find the first place a non-finite value appears: a parameter, then each
 * layer's output in order, then the loss itself.
 */
async function locateNonFinite(
  model: Sequential,
  loss: Loss,
  step: number,
  epoch: number,
  value: number,
  afterTheFact = false,
): Promise<NonFiniteReport> {
  const found = async (t: Tensor | null) => {
    if (!t || t.disposed) return 0;
    return countNonFinite(await t.data());
  };
  const note = afterTheFact
    ? " (found at the end of the epoch; the model's state is as it is now)"
    : "";
  for (const layer of model.layers) {
    for (const p of layer.parameters()) {
      const bad = await found(p.value);
      if (bad > 0) {
        return {
          step,
          epoch,
          where: `${p.name} (a parameter)`,
          detail: `${bad} of ${p.value.size} values are NaN or infinite: an earlier update ` +
            `overflowed; try a smaller learning rate${note}.`,
        };
      }
    }
    const bad = await found(layer.output);
    if (bad > 0 && layer.output) {
      return {
        step,
        epoch,
        where: `output of ${layer.name}`,
        detail: `${bad} of ${layer.output.size} values are NaN or infinite${note}.`,
      };
    }
  }
  const last = model.layers.at(-1)?.output;
  let largest = "";
  if (last && !last.disposed) {
    const values = await last.data();
    let magnitude = 0;
    for (const v of values) magnitude = Math.max(magnitude, Math.abs(v));
    largest = ` The largest |output| was ${magnitude.toPrecision(4)}.`;
  }
  return {
    step,
    epoch,
    where: `the loss (${loss.name})`,
    detail: `Every layer's output was finite but the loss was ${value}.${largest}${note}`,
  };
}

function countNonFinite(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) n++;
  return n;
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

// ---------------------------------------------------------------------------

class Progress {
  readonly mode: Exclude<ProgressMode, "auto">;
  #lastDraw = 0;

  constructor(mode: ProgressMode, readonly label: string, readonly epochs: number) {
    const modes: ProgressMode[] = ["auto", "bar", "epochs", "none"];
    if (!modes.includes(mode)) {
      throw new Error(`train: progress must be one of ${modes.join(", ")}, got "${mode}"`);
    }
    if (mode === "auto") {
      mode = Deno.stderr.isTerminal() ? "bar" : "epochs";
    }
    this.mode = mode;
  }

  step(epoch: number, done: number, total: number): void {
    if (this.mode !== "bar") return;
    const now = performance.now();
    if (now - this.#lastDraw < 100 && done < total) return;
    this.#lastDraw = now;
    const width = 24;
    const filled = Math.round((done / total) * width);
    const bar = "█".repeat(filled) + "·".repeat(width - filled);
    write(`\r${this.label} epoch ${epoch}/${this.epochs} ${bar} ${done}/${total}`);
  }

  epoch(record: EpochRecord): void {
    if (this.mode === "none") return;
    const parts = [
      `${this.label} epoch ${record.epoch}/${this.epochs}`,
      `loss ${record.trainLoss.toFixed(4)}`,
    ];
    if (record.trainAccuracy !== undefined) parts.push(`acc ${record.trainAccuracy.toFixed(4)}`);
    if (record.validationLoss !== undefined) {
      parts.push(`val loss ${record.validationLoss.toFixed(4)}`);
    }
    if (record.validationAccuracy !== undefined) {
      parts.push(`val acc ${record.validationAccuracy.toFixed(4)}`);
    }
    parts.push(`${record.seconds.toFixed(1)} s`);
    // A line per epoch goes through console.error, which a notebook kernel also shows.
    if (this.mode === "bar") write("\r\x1b[2K" + parts.join("  ") + "\n");
    else console.error(parts.join("  "));
  }

  /** After a bar, end the line so that what follows starts on its own. */
  interrupted(): void {
    if (this.mode === "bar" && this.#lastDraw > 0) write("\r\x1b[2K");
    this.#lastDraw = 0;
  }

  done(): void {}
}

const encoder = new TextEncoder();
function write(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}
