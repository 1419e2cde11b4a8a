/**
 * The types of training: what `train()` is given (TrainOptions), what it
 * returns (History of EpochRecords), what hooks see (StepContext), and the
 * error a non-finite loss raises.
 *
 * @module
 */
import type { Layer, Parameter } from "../layers/layer.ts";
import type { Sequential } from "../layers/sequential.ts";
import type { Loss } from "../losses.ts";
import type { Optimizer } from "../optim.ts";
import type { Tensor } from "../tensor.ts";
import type { Dataset } from "../data/dataset.ts";

/** One epoch's numbers, as `train()` records them in its History. */
export interface EpochRecord {
  /** 1 for the first epoch. */
  epoch: number;
  /** Mean training loss over the epoch's steps (weights changing as it goes, as Keras reports). */
  trainLoss: number;
  /** Fraction of training examples the model got right as it went (labelled data only). */
  trainAccuracy?: number;
  /** Mean loss on the validation set after the epoch, when one was given. */
  validationLoss?: number;
  /** Accuracy on the validation set after the epoch (labelled data only). */
  validationAccuracy?: number;
  /** Global step count at the end of the epoch. */
  steps: number;
  /** Wall-clock seconds the epoch took, validation included. */
  seconds: number;
}

/** Where and when training first met a non-finite value. */
export interface NonFiniteReport {
  /** The global step (1-based) whose loss was non-finite. */
  step: number;
  /** The epoch of that step. */
  epoch: number;
  /** Where the first non-finite value appeared, e.g. "output of linear2" or "the loss". */
  where: string;
  /** How many values, and what to try. */
  detail: string;
}

/** What `train()` returns: one record per epoch. */
export interface History {
  /** One record per finished epoch, in order. */
  epochs: EpochRecord[];
  /** Set when a non-finite loss appeared and the caller asked to record the collapse. */
  nonFinite?: NonFiniteReport;
}

/** Thrown by `train()` when the loss becomes NaN or infinite (unless `onNonFinite: "record"`). */
export class NonFiniteLossError extends Error {
  /** The error's name. */
  override name = "NonFiniteLossError";
  /**
   * The error for a report.
   *
   * @param report where and when the non-finite value appeared
   */
  constructor(readonly report: NonFiniteReport) {
    super(
      `training stopped: the loss became non-finite at step ${report.step} (epoch ${report.epoch}); ` +
        `first non-finite value: ${report.where}. ${report.detail}`,
    );
  }
}

/** What a step hook sees: the step, the model, and the batch's loss and inputs. */
export interface StepContext {
  /** The global step, 1-based. */
  step: number;
  /** The epoch, 1-based. */
  epoch: number;
  /** The model being trained. */
  model: Layer;
  /** The model's parameters, with this step's gradients in `grad`. */
  parameters: Parameter[];
  /** The optimiser that is about to (or just did) update them. */
  optimizer: Optimizer;
  /** The batch's mean loss, [1], still on the device. */
  loss: Tensor;
  /** The batch's inputs, [batch, features]. */
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
  /** After each epoch's record (validation included) is made. */
  onEpochEnd?(record: EpochRecord, model: Layer): void | Promise<void>;
}

/**
 * How training reports progress (on stderr): "bar" redraws one line in a
 * terminal, "epochs" prints a line per epoch, "none" is silent, and "auto"
 * (the default) picks "bar" in a terminal and "epochs" elsewhere.
 */
export type ProgressMode = "auto" | "bar" | "epochs" | "none";

/** Everything `train()` needs. `model`, `loss`, `optimizer`, `train`, `epochs` and `batchSize` are required. */
export interface TrainOptions {
  /** The network, a Sequential (wrap a single layer: `new Sequential([layer])`). */
  model: Sequential;
  /** The loss to minimise, e.g. `new SoftmaxCrossEntropy()`. */
  loss: Loss;
  /** The optimiser that updates the parameters, e.g. `new SGD({ learningRate: 0.1 })`. */
  optimizer: Optimizer;
  /** The training set. */
  train: Dataset;
  /** Evaluated after every epoch when given. */
  validation?: Dataset;
  /** Passes over the training set, an integer >= 1. */
  epochs: number;
  /** Examples per step, an integer >= 1 (the last batch of an epoch may be smaller). */
  batchSize: number;
  /** Seeds the shuffling (default 0). */
  seed?: number;
  /** Reshuffle the examples every epoch (default true). */
  shuffle?: boolean;
  /** Observers called inside each step and after each epoch. */
  hooks?: TrainingHook[];
  /** "stop" (default) throws NonFiniteLossError; "record" keeps training and notes it in the history. */
  onNonFinite?: "stop" | "record";
  /** How to report progress (default "auto"). */
  progress?: ProgressMode;
  /** A label for progress lines. */
  label?: string;
  /** Stop after this many steps in total (for quick experiments). */
  maxSteps?: number;
}

/** `trainFullBatch`'s options: those of `train()` without the batching, and steps instead of epochs. */
export interface FullBatchOptions
  extends Omit<TrainOptions, "epochs" | "batchSize" | "shuffle" | "maxSteps" | "seed"> {
  /** Gradient steps, each on the whole training set: an integer >= 1. */
  steps: number;
}
