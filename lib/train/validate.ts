/**
 * Checks of what `train()`, `evaluate()` and `predict()` are given, made before
 * any work starts, so that a mistake is reported as what it is (labels shorter
 * than the data, a NaN in the targets) rather than as a failure deep inside.
 *
 * @module
 */
import type { Dataset } from "../data/dataset.ts";
import type { Layer } from "../layers/layer.ts";
import { Sequential } from "../layers/sequential.ts";
import type { Loss } from "../losses.ts";

/** How a value reads in a message: a string is quoted, so "3" is told apart from 3. */
export function shown(value: unknown): string {
  if (typeof value === "string") return `the string "${value}"`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return `a ${value.constructor?.name ?? "object"}`;
  return String(value);
}

/** Throw unless `value` is an integer >= 1, naming the function and the argument. */
export function positiveInteger(where: string, what: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${where}: ${what} must be an integer >= 1, got ${shown(value)}`);
  }
}

/** Throw unless `model` is a Sequential (a bare layer is the usual mistake: say how to wrap it). */
export function checkModel(where: string, model: unknown): asserts model is Sequential {
  if (model instanceof Sequential) return;
  const kind = (model as Layer | undefined)?.kind;
  if (typeof kind === "string") {
    throw new TypeError(
      `${where}: model must be a Sequential, got a bare ${kind} layer; wrap it: new Sequential([layer])`,
    );
  }
  throw new TypeError(
    `${where}: model must be a Sequential (e.g. mlp([784, 128, 10]) or new Sequential([...])), got ${
      shown(model)
    }`,
  );
}

/** Values already checked to be finite (the scan is not free). */
const finiteArrays = new WeakSet<Float32Array>();

/** A NaN in the data would surface as "non-finite output of linear1" or "the loss": say where it really is. */
function checkFinite(
  what: string,
  dataset: Dataset,
  field: "inputs" | "targets",
  values: Float32Array,
  width: number,
): void {
  if (finiteArrays.has(values)) return;
  const index = values.findIndex((v) => !Number.isFinite(v));
  if (index >= 0) {
    const [value, column] = field === "inputs" ? ["input", "feature"] : ["target", "target column"];
    throw new Error(
      `${what} "${dataset.name}" has a non-finite ${value}, ${values[index]}, at ` +
        `example ${Math.floor(index / width)}, ${column} ${index % width}`,
    );
  }
  finiteArrays.add(values);
}

/** Throw, naming the dataset and the field, if a dataset cannot feed `model` and `loss`. */
export function validateDataset(
  what: string,
  dataset: Dataset,
  model: Sequential,
  loss?: Loss,
): void {
  if (!(Number.isInteger(dataset.count) && dataset.count >= 1)) {
    throw new Error(`${what} "${dataset.name}" has no examples (count ${dataset.count})`);
  }
  if (dataset.inputs.length !== dataset.count * dataset.features) {
    throw new Error(
      `${what} "${dataset.name}": ${dataset.inputs.length} input values for ${dataset.count} ` +
        `examples of ${dataset.features} features`,
    );
  }
  // Only a first weighted layer that takes flat rows (Linear) says how wide they must be;
  // a Conv2d checks its own input.
  const first = model.layers.find((l) => l.parameters().length > 0) as
    | (Layer & { inFeatures?: number })
    | undefined;
  if (first?.inFeatures !== undefined && first.inFeatures !== dataset.features) {
    throw new Error(
      `${what} "${dataset.name}" has ${dataset.features} features but the model's first layer ` +
        `with weights (${first.name}) expects ${first.inFeatures}`,
    );
  }
  if (dataset.labels && dataset.labels.length !== dataset.count) {
    throw new Error(
      `${what} "${dataset.name}" has ${dataset.labels.length} labels for ${dataset.count} examples; ` +
        `give one label per example`,
    );
  }
  const targetSize = dataset.targetSize ?? 1;
  if (dataset.targets && dataset.targets.length !== dataset.count * targetSize) {
    throw new Error(
      `${what} "${dataset.name}" has ${dataset.targets.length} target values for ${dataset.count} ` +
        `examples of ${targetSize} (targetSize); give ${dataset.count * targetSize}`,
    );
  }
  checkFinite(what, dataset, "inputs", dataset.inputs, dataset.features);
  if (dataset.targets) checkFinite(what, dataset, "targets", dataset.targets, targetSize);
  if (!loss) return;
  if (loss.targetRange && dataset.targets) {
    const [low, high] = loss.targetRange;
    const index = dataset.targets.findIndex((v) => v < low || v > high);
    if (index >= 0) {
      throw new RangeError(
        `${loss.name} wants targets in [${low}, ${high}], but ${what} "${dataset.name}" has target ` +
          `${dataset.targets[index]} at example ${Math.floor(index / targetSize)}, target column ` +
          `${index % targetSize}`,
      );
    }
  }
  if (loss.targetKind === "labels" && !dataset.labels) {
    if (dataset.targets && targetSize > 1) {
      throw new Error(
        `${loss.name} wants a class index per example in labels, but ${what} "${dataset.name}" ` +
          `has ${targetSize}-column targets (one-hot?) and no labels; give labels = the argmax ` +
          `of each target row (argmaxRows(targets, ${targetSize}))`,
      );
    }
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

/** Layers whose outputs are not confined to [0, 1]. */
const unboundedKinds = new Set(["linear", "identity", "relu", "leaky-relu", "tanh"]);

/**
 * A loss on probabilities (binary cross-entropy) after a layer that gives
 * logits would clip them silently to ε or 1 − ε: an error on every backend,
 * from the model's structure, before any work.
 */
export function checkModelFitsLoss(where: string, model: Sequential, loss: Loss): void {
  const last = model.layers.at(-1);
  if (!loss.outputRange || !last || !unboundedKinds.has(last.kind)) return;
  const [low, high] = loss.outputRange;
  throw new Error(
    `${where}: ${loss.name} wants the model's outputs in [${low}, ${high}] (probabilities), but its ` +
      `last layer (${last.name}) gives unbounded values (logits): end the model with a Sigmoid, ` +
      `or use BinaryCrossEntropyWithLogits`,
  );
}

/** Warnings already given, so each is printed once per process. */
const warned = new Set<string>();

/**
 * Legal but almost surely a mistake: a softmax layer before a loss that applies
 * its own softmax squashes the logits into [0, 1], and the loss then sees
 * nearly uniform probabilities and learns slowly. Returns the warning (or null).
 */
export function softmaxBeforeLossWarning(model: Sequential, loss: Loss): string | null {
  const last = model.layers.at(-1);
  if (last?.kind !== "softmax" || loss.targetKind !== "labels") return null;
  return `${loss.name} applies its own softmax to the logits, but the model's last layer ` +
    `(${last.name}) is already a softmax: the loss sees softmax(softmax(z)), whose ` +
    `probabilities differ from each other by a factor e at most. Remove ${last.name} and give the loss the logits.`;
}

/** Print a warning on stderr once per process. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(`warning: ${message}`);
}
