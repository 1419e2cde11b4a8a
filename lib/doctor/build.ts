/**
 * From a recipe to what trains: the data (splits, order, scaling, label format, as Keras reads
 * them), the model (Linear layers and activations, dropout, batch normalisation), the loss with
 * Keras' numerics and the optimiser. Where tf.keras 2 does something implicit, this does it too:
 * a cross-entropy on the output of a softmax (or a sigmoid) is computed from the logits before it,
 * as TensorFlow 2's Keras does, so the loss never sees a rounded-off 0.
 */
import type { Backend } from "../backend/backend.ts";
import { cpu } from "../backend/mod.ts";
import { loadFashionMnist } from "../data/fashion_mnist.ts";
import { loadMnist } from "../data/mnist.ts";
import { loadCsv } from "../data/csv.ts";
import type { Dataset } from "../data/dataset.ts";
import { makeShape } from "../data/shapes.ts";
import { subset, takeRows } from "../data/transforms.ts";
import type { Init } from "../init.ts";
import { LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from "../layers/activations.ts";
import type { Layer } from "../layers/layer.ts";
import { Linear } from "../layers/linear.ts";
import { Sequential } from "../layers/sequential.ts";
import type { Loss } from "../losses.ts";
import { Random } from "../random.ts";
import {
  BatchNormalization,
  Dropout,
  ELU,
  KerasBinaryCrossEntropy,
  KerasBinaryCrossEntropyFromLogits,
  KerasHinge,
  KerasLogitCrossEntropy,
  KerasMeanAbsoluteError,
  KerasMeanSquaredError,
  KerasOptimizer,
  KerasProbabilityCrossEntropy,
  SELU,
  Softplus,
} from "./keras.ts";
import type { Activation, Initializer, LayerSpec, Recipe } from "./recipe.ts";

/** The data as the recipe's training sees it, and what was done to it. */
export interface RecipeData {
  train: Dataset;
  validation?: Dataset;
  test?: Dataset;
  /** Classes (classification), outputs per example (multilabel, regression). */
  classes?: number;
  outputs: number;
  /** Statistics of the training inputs as the network sees them (after inputScale). */
  inputs: {
    min: number;
    max: number;
    meanAbs: number;
    largestFeatureStd: number;
    smallestFeatureStd: number;
  };
  /** Regression and multilabel targets as the loss sees them. */
  targets?: { min: number; max: number; mean: number; std: number };
  /** Things the report should say, e.g. "asked for 50,000 rows, the source has 8,000". */
  notes: string[];
}

const IMAGE_BYTE_SCALE = 255;

function ordered(ds: Dataset, order: Recipe["data"]["order"], seed: number): Dataset {
  if (order === "as-stored") return ds;
  const rows = Array.from({ length: ds.count }, (_, i) => i);
  if (order === "shuffled") new Random(seed).shuffle(rows);
  else rows.sort((a, b) => ds.labels![a] - ds.labels![b] || a - b);
  return takeRows(ds, rows);
}

/** The last `fraction` of the rows, as Keras' validation_split takes them. */
function splitTail(ds: Dataset, fraction: number): [Dataset, Dataset | undefined] {
  const held = Math.floor(ds.count * fraction);
  if (held === 0) return [ds, undefined];
  const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  return [takeRows(ds, rows(0, ds.count - held)), takeRows(ds, rows(ds.count - held, ds.count))];
}

function featureStats(ds: Dataset) {
  const { inputs, count, features } = ds;
  let min = Infinity, max = -Infinity, sumAbs = 0;
  const stds: number[] = [];
  for (let j = 0; j < features; j++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < count; i++) {
      const v = inputs[i * features + j];
      s += v;
      s2 += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
      sumAbs += Math.abs(v);
    }
    const mean = s / count;
    stds.push(Math.sqrt(Math.max(0, s2 / count - mean * mean)));
  }
  return { min, max, meanAbs: sumAbs / inputs.length, stds };
}

/** Per-feature affine maps fitted on the training rows, applied to every split. */
function scaleInputs(
  splits: Dataset[],
  how: Recipe["data"]["inputScale"],
  isImage: boolean,
): Dataset[] {
  if (how === "raw") return splits;
  const train = splits[0], features = train.features;
  const shift = new Float64Array(features), factor = new Float64Array(features).fill(1);
  if (how === "unit" && isImage) factor.fill(1 / IMAGE_BYTE_SCALE);
  else {
    const { stds } = featureStats(train);
    for (let j = 0; j < features; j++) {
      let min = Infinity, max = -Infinity, s = 0;
      for (let i = 0; i < train.count; i++) {
        const v = train.inputs[i * features + j];
        s += v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (how === "standardise") {
        shift[j] = -s / train.count;
        factor[j] = stds[j] > 0 ? 1 / stds[j] : 1;
      } else {
        // minmax, and "unit" for a source that is not images
        shift[j] = -min;
        factor[j] = max > min ? 1 / (max - min) : 1;
      }
    }
  }
  return splits.map((ds) => {
    const inputs = new Float32Array(ds.inputs.length);
    for (let i = 0; i < ds.count; i++) {
      for (let j = 0; j < features; j++) {
        inputs[i * features + j] = (ds.inputs[i * features + j] + shift[j]) * factor[j];
      }
    }
    return { ...ds, inputs, valueRange: undefined };
  });
}

async function sourceSets(
  recipe: Recipe,
  recipeDir: string,
): Promise<{ sets: Dataset[]; notes: string[] }> {
  const { data, seed } = recipe;
  const notes: string[] = [];
  if (data.source === "mnist" || data.source === "fashion-mnist") {
    const quiet = { onProgress: () => {} };
    const { train, test } = data.source === "mnist"
      ? await loadMnist(quiet)
      : await loadFashionMnist(quiet);
    // Keras' datasets give 0-255 bytes; the MNIST package stores 0-1, so "raw" is bytes for both.
    const asBytes = (ds: Dataset) =>
      data.source === "mnist"
        ? {
          ...ds,
          inputs: ds.inputs.map((v) => Math.round(v * IMAGE_BYTE_SCALE)),
          valueRange: [0, 255] as [number, number],
        }
        : ds;
    const pick = (ds: Dataset, count: number | undefined, what: string) => {
      let chosen = data.classes ? subset(ds, { classes: data.classes }) : ds;
      if (count !== undefined) {
        if (count > chosen.count) {
          notes.push(
            `asked for ${count} ${what} rows; ${data.source} has ${chosen.count}, so all of them were used`,
          );
        } else chosen = subset(chosen, { count, seed });
      }
      return chosen;
    };
    return {
      sets: [
        pick(asBytes(train), data.trainCount, "training"),
        pick(asBytes(test), data.testCount, "test"),
      ],
      notes,
    };
  }
  if (data.source === "csv") {
    const path = data.path!.startsWith("/") ? data.path! : `${recipeDir}/${data.path}`;
    const kind = recipe.task === "classification"
      ? "classes"
      : recipe.task === "multilabel"
      ? "multilabel"
      : "regression";
    return {
      sets: [
        await loadCsv(path, {
          kind,
          header: data.header,
          delimiter: data.delimiter,
          target: data.target,
        }),
      ],
      notes,
    };
  }
  const spec = data.synthetic!;
  return { sets: [makeShape({ ...spec, seed })], notes };
}

/** The recipe's data, split, ordered and scaled as Keras would see it. */
export async function loadRecipeData(recipe: Recipe, recipeDir = "."): Promise<RecipeData> {
  const { data, task, seed } = recipe;
  const isImage = data.source === "mnist" || data.source === "fashion-mnist";
  const { sets, notes } = await sourceSets(recipe, recipeDir);
  let [trainAll, test] = sets;
  trainAll = ordered(trainAll, data.order, seed);
  if (!isImage) {
    if (data.trainCount !== undefined && data.trainCount < trainAll.count) {
      trainAll = takeRows(trainAll, Array.from({ length: data.trainCount }, (_, i) => i));
    }
    if (data.testSplit > 0) {
      [trainAll, test] = splitTail(trainAll, data.testSplit) as [Dataset, Dataset];
    }
  }
  const [train, validation] = splitTail(trainAll, data.validationSplit);
  let splits = [train, validation, test].filter((ds): ds is Dataset => ds !== undefined);
  splits = scaleInputs(splits, data.inputScale, isImage);
  if (task === "regression" && data.targetScale === "standardise") {
    const t = splits[0].targets!;
    const mean = t.reduce((a, b) => a + b, 0) / t.length;
    const std = Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / t.length) || 1;
    splits = splits.map((ds) => ({ ...ds, targets: ds.targets!.map((v) => (v - mean) / std) }));
  }
  const [scaledTrain, ...rest] = splits;
  const scaledValidation = validation ? rest.shift() : undefined;
  const scaledTest = test ? rest.shift() : undefined;
  const stats = featureStats(scaledTrain);
  const outputs = task === "classification"
    ? (scaledTrain.classes ?? 2)
    : scaledTrain.targetSize ?? 1;
  let targets: RecipeData["targets"];
  if (scaledTrain.targets) {
    const t = scaledTrain.targets;
    let min = Infinity, max = -Infinity, s = 0;
    for (const v of t) {
      s += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const mean = s / t.length;
    const std = Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / t.length);
    targets = { min, max, mean, std };
  }
  return {
    train: scaledTrain,
    validation: scaledValidation,
    test: scaledTest,
    classes: task === "classification" ? scaledTrain.classes : undefined,
    outputs,
    inputs: {
      min: stats.min,
      max: stats.max,
      meanAbs: stats.meanAbs,
      largestFeatureStd: Math.max(...stats.stds),
      smallestFeatureStd: Math.min(...stats.stds),
    },
    targets,
    notes,
  };
}

// The model ---------------------------------------------------------------------------------

export function initFor(spec: Initializer): Init {
  switch (spec.name) {
    case "zeros":
      return "zeros";
    case "ones":
      return { name: "constant", value: 1 };
    case "constant":
      return { name: "constant", value: spec.value! };
    case "random_normal":
      return { name: "normal", std: spec.value! };
    case "random_uniform":
      return { name: "uniform", low: -spec.value!, high: spec.value! };
    case "glorot_uniform":
      return "glorot-uniform";
    case "glorot_normal":
      return "glorot-normal";
    case "he_normal":
      return "he-normal";
    case "he_uniform":
      return "he-uniform";
    case "lecun_normal":
      // std √(1 / fanIn) = He's √(2 / fanIn) times 1/√2
      return { name: "he-normal", gain: Math.SQRT1_2 };
  }
}

export function activationLayer(activation: Activation): Layer | null {
  switch (activation.name) {
    case "linear":
      return null;
    case "relu":
      return new ReLU();
    case "leaky_relu":
      return new LeakyReLU(activation.alpha ?? 0.3);
    case "elu":
      return new ELU(1);
    case "selu":
      return new SELU();
    case "sigmoid":
      return new Sigmoid();
    case "tanh":
      return new Tanh();
    case "softmax":
      return new Softmax();
    case "softplus":
      return new Softplus();
  }
}

/** What the network ends in, and whether the loss takes over its last activation (as TF 2 does). */
export interface Head {
  /** The activation applied last in the recipe ("linear" when none). */
  outputActivation: Activation["name"];
  /** The final softmax or sigmoid that the cross-entropy reads as logits instead (TF 2's shortcut). */
  folded: "softmax" | "sigmoid" | null;
}

export interface BuiltModel {
  model: Sequential;
  loss: Loss;
  optimizer: KerasOptimizer;
  head: Head;
  /** Regularised weights: the Linear layer and its l1/l2 strength. */
  regularised: { layer: Linear; kind: "l1" | "l2"; lambda: number }[];
  /** "labels" when the loss takes class indices, else dense targets. */
  targetKind: "labels" | "dense";
  /** The width of the network's output (the last dense layer's units). */
  outputWidth: number;
}

/** The activation that ends the model, following trailing dropout and batch-normalisation layers. */
export function outputActivation(model: LayerSpec[]): Activation["name"] {
  for (let i = model.length - 1; i >= 0; i--) {
    const layer = model[i];
    if (layer.kind === "activation") return layer.activation.name;
    if (layer.kind === "dense") return layer.activation.name;
  }
  return "linear";
}

/** The recipe's network, loss and optimiser, seeded by the recipe. */
export function buildModel(
  recipe: Recipe,
  data: Pick<RecipeData, "train" | "outputs">,
  backend: Backend = cpu,
): BuiltModel {
  const random = new Random(recipe.seed);
  const layers: Layer[] = [];
  const regularised: BuiltModel["regularised"] = [];
  let width = data.train.features;
  recipe.model.forEach((spec, i) => {
    if (spec.kind === "dense") {
      const linear = new Linear(width, spec.units, {
        weightInit: initFor(spec.kernelInitializer),
        biasInit: initFor(spec.biasInitializer),
        random,
        backend,
      });
      layers.push(linear);
      if (spec.kernelRegularizer) regularised.push({ layer: linear, ...spec.kernelRegularizer });
      const act = activationLayer(spec.activation);
      if (act) layers.push(act);
      width = spec.units;
    } else if (spec.kind === "dropout") {
      layers.push(new Dropout(spec.rate, recipe.seed * 1000 + i));
    } else if (spec.kind === "batchNormalization") {
      layers.push(new BatchNormalization(width, spec.momentum, spec.epsilon, backend));
    } else {
      const act = activationLayer(spec.activation);
      if (act) layers.push(act);
    }
  });
  const last = outputActivation(recipe.model);
  const { name, fromLogits } = recipe.loss;
  let folded: Head["folded"] = null;
  const lastLayer = layers.at(-1);
  const crossEntropy = name === "categorical_crossentropy" ||
    name === "sparse_categorical_crossentropy";
  if (!fromLogits && crossEntropy && lastLayer instanceof Softmax) folded = "softmax";
  if (!fromLogits && name === "binary_crossentropy" && lastLayer instanceof Sigmoid) {
    folded = "sigmoid";
  }
  if (folded) layers.pop();
  let loss: Loss;
  if (crossEntropy) {
    loss = fromLogits || folded ? new KerasLogitCrossEntropy() : new KerasProbabilityCrossEntropy();
  } else if (name === "binary_crossentropy") {
    loss = fromLogits || folded
      ? new KerasBinaryCrossEntropyFromLogits()
      : new KerasBinaryCrossEntropy();
  } else if (name === "mse") loss = new KerasMeanSquaredError();
  else if (name === "mae") loss = new KerasMeanAbsoluteError();
  else loss = new KerasHinge();
  const { optimizer: o } = recipe;
  const optimizer = new KerasOptimizer({
    name: o.name,
    learningRate: o.learningRate,
    momentum: o.momentum,
    nesterov: o.nesterov,
    rho: o.rho,
    beta1: o.beta1,
    beta2: o.beta2,
    epsilon: o.epsilon,
    decay: o.decay,
    clipnorm: o.clipnorm,
    clipvalue: o.clipvalue,
  });
  return {
    model: new Sequential(layers),
    loss,
    optimizer,
    head: { outputActivation: last, folded },
    regularised,
    targetKind: loss.targetKind,
    outputWidth: width,
  };
}

/**
 * The dataset in the form the loss reads: class indices for the cross-entropies, dense targets
 * (one-hot rows, or 0/1 for a single output) for the others. The labels stay, for accuracy.
 */
export function forLoss(
  ds: Dataset,
  built: Pick<BuiltModel, "targetKind" | "outputWidth">,
): Dataset {
  if (built.targetKind === "labels" || !ds.labels) return ds;
  const outputs = built.outputWidth;
  const targets = new Float32Array(ds.count * outputs);
  for (let i = 0; i < ds.count; i++) {
    const label = ds.labels[i];
    if (outputs === 1) targets[i] = label;
    else if (label < outputs) targets[i * outputs + label] = 1;
  }
  const { labels: _labels, classes: _classes, ...rest } = ds;
  return { ...rest, targets, targetSize: outputs, labels: undefined };
}
