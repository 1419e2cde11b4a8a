/**
 * One run of one setting from one seed, with the measurements every section of the chapter
 * reads: the loss and accuracy per epoch, the largest logit at every step, the first step whose
 * loss is not finite (and what the logits were then), the share of dead ReLU units, and the
 * validation accuracy at the end.
 *
 * float32 runs go through lib's `train()` with `onNonFinite: "record"`, so that training keeps
 * going after a NaN as the asker's did. lib's `train()` runs in float32 only, so the float64 run
 * (the NumPy default) is a short loop here that repeats `train()`'s steps and shuffling.
 */
import {
  Adam,
  type Backend,
  closeScope,
  cpu,
  evaluate,
  mlp,
  NaiveSoftmaxCrossEntropy,
  openScope,
  type Optimizer,
  Random,
  type Sequential,
  SGD,
  SoftmaxCrossEntropy,
  type StepContext,
  type Tensor,
  tidy,
  train,
} from "../../lib/mod.ts";
import { argmax, equal, gatherRows, sum } from "../../lib/ops.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import { ASKER_SETUP, type ChapterData, classZeroShare } from "./question.ts";
import { chapterBackend } from "../backend.ts";

export type LossKind = "naive" | "log-sum-exp";

export interface Setting {
  activation: "relu" | "sigmoid";
  /** "naive": softmax as exp(z) / Σ exp(z), then log (lib's NaiveSoftmaxCrossEntropy). */
  loss: LossKind;
  optimizer: "adam" | "sgd";
  learningRate: number;
  batchSize: number;
  epochs: number;
  dtype: "float32" | "float64";
  /**
   * Keep training to the last epoch after the weights turn NaN (as the asker did), or stop at
   * the end of that epoch: NaN never leaves a weight, so no later epoch can differ.
   */
  continueAfterCollapse: boolean;
}

/** The asker's setting, with our assumptions: ReLU, naive softmax, Adam 0.03, float32. */
export const ASKER_SETTING: Setting = {
  activation: "relu",
  loss: "naive",
  optimizer: "adam",
  learningRate: ASKER_SETUP.learningRate,
  batchSize: ASKER_SETUP.batchSize,
  epochs: ASKER_SETUP.epochs,
  dtype: "float32",
  continueAfterCollapse: true,
};

/** "ReLU, naive softmax, Adam 0.03, float32". */
export function describeSetting(s: Setting): string {
  const loss = s.loss === "naive" ? "naive softmax" : "log-sum-exp";
  return `${s.activation === "relu" ? "ReLU" : "sigmoid"}, ${loss}, ${
    s.optimizer === "adam" ? "Adam" : "SGD"
  } ${s.learningRate}, ${s.dtype}`;
}

export interface EpochPoint {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
}

/**
 * The collapse: the first update that made a weight NaN (NaN then spreads to every weight and
 * never leaves), and the logits of that step's forward pass.
 */
export interface Collapse {
  step: number;
  epoch: number;
  /** The step's loss (NaN or Infinity). */
  loss: number;
  /** Largest finite logit of that step's batch (the weights were still finite then). */
  largestLogit: number;
  /** Largest logit of every step before it. */
  largestLogitBefore: number;
  /** Were all of that step's logits finite? Then the NaN was made inside the loss. */
  logitsFinite: boolean;
  /** Share of dead ReLU units on the training images at that step, per hidden layer. */
  deadFraction: number[];
}

export interface RunResult {
  seed: number;
  setting: Setting;
  epochs: EpochPoint[];
  /** The largest logit of each step's batch (NaN where none was finite). */
  largestLogitPerStep: Float64Array;
  /** Largest finite logit over the whole run. */
  largestLogit: number;
  collapse: Collapse | null;
  /**
   * The first step whose loss was not finite. Without a collapse at the same step it was an
   * infinite loss with finite gradients: the label's probability rounded to 0 and log(0) = −∞.
   */
  firstNonFiniteLoss: { step: number; epoch: number; loss: number; largestLogit: number } | null;
  /** Dead ReLU units (zero on every training image) per hidden layer at the end; empty for sigmoid. */
  deadFraction: number[];
  /** Share of the parameters that are NaN or infinite at the end. */
  nonFiniteParameterFraction: number;
  /**
   * Per weight layer after the first, the share of negative weights: a hidden unit that fires
   * lowers the classes (or units) its negative outgoing weights point to.
   */
  negativeOutgoingWeightShare: number[];
  validationAccuracy: number;
  /** What predicting class 0 for every image scores, on the training and validation images. */
  classZeroShare: { train: number; validation: number };
  /** The last epoch's mean training loss. */
  finalTrainLoss: number;
}

/** Ends a run at the end of the epoch of its collapse (later epochs repeat it). */
class StopAfterCollapse extends Error {}

function makeLoss(kind: LossKind) {
  return kind === "naive" ? new NaiveSoftmaxCrossEntropy() : new SoftmaxCrossEntropy();
}

function makeOptimizer(setting: Setting): Optimizer {
  return setting.optimizer === "adam"
    ? new Adam({ learningRate: setting.learningRate })
    : new SGD({ learningRate: setting.learningRate });
}

function largestFinite(values: ArrayLike<number>): { largest: number; allFinite: boolean } {
  let largest = -Infinity, allFinite = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) largest = Math.max(largest, v);
    else allFinite = false;
  }
  return { largest: largest === -Infinity ? NaN : largest, allFinite };
}

/** Per hidden ReLU layer, the share of units whose output is 0 (or NaN) on every example. */
export async function deadUnitFractions(model: Sequential, inputs: Tensor): Promise<number[]> {
  model.forward(inputs);
  const fractions: number[] = [];
  for (const layer of model.layers) {
    if (layer.kind !== "relu" || !layer.output) continue;
    const values = await layer.output.data();
    const [rows, units] = layer.output.shape;
    let dead = 0;
    for (let u = 0; u < units; u++) {
      let alive = false;
      for (let r = 0; r < rows && !alive; r++) alive = values[r * units + u] > 0;
      if (!alive) dead++;
    }
    fractions.push(dead / units);
  }
  return fractions;
}

async function nonFiniteShare(model: Sequential): Promise<number> {
  let bad = 0, total = 0;
  for (const p of model.parameters()) {
    const values = await p.value.data();
    for (const v of values) if (!Number.isFinite(v)) bad++;
    total += values.length;
  }
  return bad / total;
}

async function negativeWeightShares(model: Sequential): Promise<number[]> {
  const weights = model.parameters().filter((p) => p.name.endsWith(".weight")).slice(1);
  const shares: number[] = [];
  for (const w of weights) {
    const values = await w.value.data();
    let negative = 0;
    for (const v of values) if (v < 0) negative++;
    shares.push(negative / values.length);
  }
  return shares;
}

/** Records the largest logit per step, the first non-finite loss and the collapse. */
class StepRecorder {
  readonly largestPerStep: number[] = [];
  largestSoFar = -Infinity;
  collapse: Collapse | null = null;
  firstNonFiniteLoss: RunResult["firstNonFiniteLoss"] = null;
  #pending: Omit<Collapse, "deadFraction"> & { deadFraction: number[] } | null = null;

  constructor(readonly model: Sequential, readonly trainInputs: Tensor) {}

  /** Call after backward(), before the update (the weights are those that made this step). */
  async beforeUpdate(step: number, epoch: number, loss: number, logits: Tensor): Promise<void> {
    const { largest, allFinite } = largestFinite(await logits.data());
    this.largestPerStep.push(largest);
    if (!Number.isFinite(loss) && !this.firstNonFiniteLoss) {
      this.firstNonFiniteLoss = { step, epoch, loss, largestLogit: largest };
    }
    if (!this.collapse) {
      // Measured now, while the weights are finite; kept if this update turns them NaN.
      this.#pending = Number.isFinite(loss) ? null : {
        step,
        epoch,
        loss,
        largestLogit: largest,
        largestLogitBefore: this.largestSoFar,
        logitsFinite: allFinite,
        deadFraction: await deadUnitFractions(this.model, this.trainInputs),
      };
      if (Number.isFinite(largest)) this.largestSoFar = Math.max(this.largestSoFar, largest);
    }
  }

  /**
   * Call after the update. A NaN anywhere in the output gradient reaches the last layer's bias
   * in the same update (its gradient sums that gradient's rows), so checking those few values
   * finds the step that poisoned the weights.
   */
  async afterUpdate(step: number, epoch: number, loss: number, logits: Tensor): Promise<void> {
    if (this.collapse) return;
    const lastBias = this.model.parameters().at(-1)!.value;
    const values = await lastBias.data();
    if (values.every(Number.isFinite)) return;
    this.collapse = this.#pending ?? {
      step,
      epoch,
      loss,
      largestLogit: largestFinite(await logits.data()).largest,
      largestLogitBefore: this.largestSoFar,
      logitsFinite: false,
      deadFraction: [],
    };
  }
}

/** Train one setting from one seed on the chapter's data. */
export async function runSetting(
  setting: Setting,
  seed: number,
  data: ChapterData,
  backend: Backend = chapterBackend(),
): Promise<RunResult> {
  // float64 (the NumPy default) runs on the CPU backends only: WebGPU has no float64, so there
  // it goes to the reference. wasm computes float64 with the reference's values to the bit.
  const device = setting.dtype === "float64" && backend.name === "webgpu" ? cpu : backend;
  const model = mlp([...ASKER_SETUP.sizes], {
    activation: setting.activation,
    weightInit: ASKER_SETUP.weightInit,
    seed,
    backend: device,
    dtype: setting.dtype,
  });
  const trainInputs = device.fromValues(
    data.train.inputs,
    [data.train.count, data.train.features],
    setting.dtype,
  );
  const recorder = new StepRecorder(model, trainInputs);
  const epochs = setting.dtype === "float64"
    ? await trainFloat64(model, setting, seed, data.train, recorder)
    : await trainFloat32(model, setting, seed, data.train, recorder);

  const nonFiniteParameterFraction = await nonFiniteShare(model);
  const negativeOutgoingWeightShare = await negativeWeightShares(model);
  const deadFraction = await deadUnitFractions(model, trainInputs);
  const validationAccuracy = setting.dtype === "float64"
    ? await accuracyOf(model, data.validation, "float64")
    : (await evaluate(model, makeLoss(setting.loss), data.validation)).accuracy!;
  const largestLogitPerStep = Float64Array.from(recorder.largestPerStep);
  return {
    seed,
    setting,
    epochs,
    largestLogitPerStep,
    largestLogit: largestFinite(largestLogitPerStep).largest,
    collapse: recorder.collapse,
    firstNonFiniteLoss: recorder.firstNonFiniteLoss,
    deadFraction,
    nonFiniteParameterFraction,
    negativeOutgoingWeightShare,
    validationAccuracy,
    classZeroShare: {
      train: classZeroShare(data.train),
      validation: classZeroShare(data.validation),
    },
    finalTrainLoss: epochs.at(-1)!.trainLoss,
  };
}

async function trainFloat32(
  model: Sequential,
  setting: Setting,
  seed: number,
  trainSet: Dataset,
  recorder: StepRecorder,
): Promise<EpochPoint[]> {
  const epochs: EpochPoint[] = [];
  try {
    await train({
      model,
      loss: makeLoss(setting.loss),
      optimizer: makeOptimizer(setting),
      train: trainSet,
      epochs: setting.epochs,
      batchSize: setting.batchSize,
      seed,
      onNonFinite: "record",
      progress: "none",
      hooks: [{
        beforeUpdate: async (context: StepContext) => {
          const [loss] = await context.loss.data();
          await recorder.beforeUpdate(context.step, context.epoch, loss, model.output!);
        },
        afterUpdate: async (context: StepContext) => {
          const [loss] = await context.loss.data();
          await recorder.afterUpdate(context.step, context.epoch, loss, model.output!);
        },
        onEpochEnd: (record) => {
          epochs.push({
            epoch: record.epoch,
            trainLoss: record.trainLoss,
            trainAccuracy: record.trainAccuracy!,
          });
          if (recorder.collapse && !setting.continueAfterCollapse) throw new StopAfterCollapse();
        },
      }],
    });
  } catch (error) {
    if (!(error instanceof StopAfterCollapse)) throw error;
  }
  return epochs;
}

/** train()'s loop in float64: the same shuffles (Random(seed), a permutation per epoch). */
async function trainFloat64(
  model: Sequential,
  setting: Setting,
  seed: number,
  trainSet: Dataset,
  recorder: StepRecorder,
): Promise<EpochPoint[]> {
  const loss = makeLoss(setting.loss);
  const optimizer = makeOptimizer(setting);
  const parameters = model.parameters();
  const device = parameters[0].value.backend;
  const inputs = device.fromValues(trainSet.inputs, [trainSet.count, trainSet.features], "float64");
  const labels = device.fromValues(trainSet.labels!, [trainSet.count], "float64");
  const random = new Random(seed);
  const epochs: EpochPoint[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= setting.epochs; epoch++) {
    const order = random.permutation(trainSet.count);
    let lossSum = 0, correct = 0;
    for (let start = 0; start < trainSet.count; start += setting.batchSize) {
      const rows = order.subarray(start, Math.min(start + setting.batchSize, trainSet.count));
      step++;
      // The step's tensors are freed at its end, as train() does (wasm memory is not collected).
      const scope = openScope();
      try {
        const indices = device.fromValues(Float64Array.from(rows), [rows.length], "float64");
        const batchLabels = gatherRows(labels, indices);
        const output = model.forward(gatherRows(inputs, indices));
        const [lossValue] = await loss.forward(output, batchLabels).data();
        model.backward(loss.backward());
        await recorder.beforeUpdate(step, epoch, lossValue, output);
        optimizer.step(parameters);
        await recorder.afterUpdate(step, epoch, lossValue, output);
        lossSum += lossValue * rows.length;
        correct += (await sum(equal(argmax(output), batchLabels)).data())[0];
      } finally {
        closeScope(scope);
      }
    }
    epochs.push({
      epoch,
      trainLoss: lossSum / trainSet.count,
      trainAccuracy: correct / trainSet.count,
    });
    if (recorder.collapse && !setting.continueAfterCollapse) break;
  }
  return epochs;
}

/** Accuracy of the model on a dataset (argmax of the logits: an all-NaN row predicts class 0). */
async function accuracyOf(
  model: Sequential,
  dataset: Dataset,
  dtype: "float32" | "float64",
): Promise<number> {
  const backend = model.parameters()[0].value.backend;
  const inputs = backend.fromValues(dataset.inputs, [dataset.count, dataset.features], dtype);
  const labels = backend.fromValues(dataset.labels!, [dataset.count], dtype);
  const correct = tidy(() => sum(equal(argmax(model.forward(inputs)), labels)));
  return (await correct.data())[0] / dataset.count;
}

/** Every seed of a setting, one after another. */
export async function runSeeds(
  setting: Setting,
  seeds: number[],
  dataFor: (seed: number) => Promise<ChapterData>,
  backend: Backend = chapterBackend(),
  onRun?: (run: RunResult) => void,
): Promise<RunResult[]> {
  const runs: RunResult[] = [];
  for (const seed of seeds) {
    const run = await runSetting(setting, seed, await dataFor(seed), backend);
    onRun?.(run);
    runs.push(run);
  }
  return runs;
}

/** Smallest, largest and mean of some numbers. */
export interface Spread {
  min: number;
  max: number;
  mean: number;
}

export function spreadOf(values: number[]): Spread {
  return {
    min: Math.min(...values),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}

/** "0.85-0.89" (or one number when all seeds agree to the digits shown). */
export function formatRange(spread: Spread, digits = 2): string {
  // Logits of a diverged run reach 1e17: those read better as powers of ten.
  const format = (v: number) => Math.abs(v) >= 1e5 ? v.toExponential(1) : v.toFixed(digits);
  const low = format(spread.min), high = format(spread.max);
  return low === high ? low : `${low}-${high}`;
}
