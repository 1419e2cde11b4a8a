/**
 * The doctor's case suite: each case is a recipe with one planted fault and its fixed twin. The
 * doctor must rank the planted fault first, and report no error on the twin. Recipes are small
 * (synthetic sets, or a few thousand images) so a case trains in seconds.
 */
import type { FindingId } from "../../lib/doctor/checks.ts";
import type { KerasHistory } from "../../lib/doctor/checks.ts";

export interface DoctorCase {
  name: string;
  fault: FindingId;
  recipe: Record<string, unknown>;
  /** The same recipe with the fault removed. */
  fixed: Record<string, unknown>;
  /** Curves as an asker posts them: the doctor then diagnoses without training. */
  history?: KerasHistory;
  fixedHistory?: KerasHistory;
  /** Where the recipe's CSV paths are relative to (default the working directory). */
  recipeDir?: string;
}

const blobs = (classes = 4, extra: Record<string, unknown> = {}) => ({
  source: "synthetic",
  kind: "blobs",
  count: 1200,
  features: 8,
  classes,
  noise: 0.6,
  validationSplit: 0.2,
  order: "shuffled",
  ...extra,
});

const classifier = (overrides: Record<string, unknown> = {}) => ({
  task: "classification",
  data: blobs(),
  model: [{ dense: 32, activation: "relu" }, { dense: 4, activation: "softmax" }],
  loss: "sparse_categorical_crossentropy",
  optimizer: { name: "adam", learningRate: 0.005 },
  epochs: 20,
  batchSize: 32,
  ...overrides,
});

const mnist = (extra: Record<string, unknown> = {}) => ({
  source: "mnist",
  trainCount: 2000,
  testCount: 500,
  validationSplit: 0.2,
  inputScale: "unit",
  order: "shuffled",
  ...extra,
});

const regression = (overrides: Record<string, unknown> = {}) => ({
  task: "regression",
  data: {
    source: "synthetic",
    kind: "linear",
    count: 1000,
    features: 4,
    noise: 0.1,
    validationSplit: 0.2,
    inputScale: "standardise",
  },
  model: [{ dense: 16, activation: "relu" }, { dense: 1 }],
  loss: "mse",
  optimizer: { name: "adam", learningRate: 0.01 },
  epochs: 30,
  batchSize: 32,
  ...overrides,
});

export const CASES: DoctorCase[] = [
  {
    name: "ReLU on the logits before softmax (Chapter 1)",
    fault: "relu-before-softmax",
    recipe: {
      task: "classification",
      data: mnist(),
      model: [{ dense: 64, activation: "relu" }, { dense: 10, activation: "relu" }, "softmax"],
      loss: "sparse_categorical_crossentropy",
      optimizer: { name: "adam", learningRate: 0.01 },
      epochs: 5,
      batchSize: 32,
    },
    fixed: {
      task: "classification",
      data: mnist(),
      model: [{ dense: 64, activation: "relu" }, { dense: 10, activation: "linear" }, "softmax"],
      loss: "sparse_categorical_crossentropy",
      optimizer: { name: "adam", learningRate: 0.001 },
      epochs: 5,
      batchSize: 32,
    },
  },
  {
    name: "one linear output under binary cross-entropy on probabilities",
    fault: "output-activation-mismatch",
    recipe: {
      ...classifier(),
      data: {
        source: "synthetic",
        kind: "circles",
        count: 1000,
        noise: 0.05,
        validationSplit: 0.2,
      },
      model: [{ dense: 16, activation: "relu" }, { dense: 1, activation: "linear" }],
      loss: "binary_crossentropy",
    },
    fixed: {
      ...classifier(),
      data: {
        source: "synthetic",
        kind: "circles",
        count: 1000,
        noise: 0.05,
        validationSplit: 0.2,
      },
      model: [{ dense: 16, activation: "relu" }, { dense: 1, activation: "sigmoid" }],
      loss: "binary_crossentropy",
    },
  },
  {
    name: "binary cross-entropy on four exclusive classes",
    fault: "loss-mismatch",
    recipe: classifier({ loss: "binary_crossentropy", data: blobs(4, { labels: "one-hot" }) }),
    fixed: classifier({ loss: "categorical_crossentropy", data: blobs(4, { labels: "one-hot" }) }),
  },
  {
    name: "hidden layers initialised to zero (Chapter 2)",
    fault: "zero-initialisation",
    recipe: classifier({
      model: [
        { dense: 32, activation: "relu", kernelInitializer: "zeros" },
        { dense: 4, activation: "softmax" },
      ],
    }),
    fixed: classifier(),
  },
  {
    name: "weights drawn with std 3 into sigmoid layers",
    fault: "bad-init-scale",
    recipe: classifier({
      model: [
        { dense: 64, activation: "sigmoid", kernelInitializer: "random_normal:3" },
        { dense: 64, activation: "sigmoid", kernelInitializer: "random_normal:3" },
        { dense: 4, activation: "softmax" },
      ],
      optimizer: { name: "sgd", learningRate: 0.05 },
    }),
    fixed: classifier({
      model: [
        { dense: 64, activation: "sigmoid" },
        { dense: 64, activation: "sigmoid" },
        { dense: 4, activation: "softmax" },
      ],
      optimizer: { name: "sgd", learningRate: 0.5 },
    }),
  },
  {
    name: "raw 0-255 pixels into sigmoid units with SGD",
    fault: "unnormalised-inputs",
    recipe: {
      task: "classification",
      data: mnist({ inputScale: "raw" }),
      model: [{ dense: 64, activation: "sigmoid" }, { dense: 10, activation: "softmax" }],
      loss: "sparse_categorical_crossentropy",
      optimizer: { name: "sgd", learningRate: 0.1 },
      epochs: 5,
      batchSize: 32,
    },
    fixed: {
      task: "classification",
      data: mnist({ inputScale: "unit" }),
      model: [{ dense: 64, activation: "sigmoid" }, { dense: 10, activation: "softmax" }],
      loss: "sparse_categorical_crossentropy",
      optimizer: { name: "sgd", learningRate: 0.1 },
      epochs: 5,
      batchSize: 32,
    },
  },
  {
    name: "house-price-sized targets, unscaled",
    fault: "unnormalised-targets",
    recipe: regression({
      data: {
        source: "synthetic",
        kind: "linear",
        count: 1000,
        features: 4,
        weights: [40000, 25000, -10000, 60000],
        bias: 180000,
        noise: 5000,
        validationSplit: 0.2,
        inputScale: "standardise",
      },
    }),
    fixed: regression({
      data: {
        source: "synthetic",
        kind: "linear",
        count: 1000,
        features: 4,
        weights: [40000, 25000, -10000, 60000],
        bias: 180000,
        noise: 5000,
        validationSplit: 0.2,
        inputScale: "standardise",
        targetScale: "standardise",
      },
    }),
  },
  {
    name: "SGD at learning rate 20",
    fault: "learning-rate-too-high",
    recipe: classifier({ optimizer: { name: "sgd", learningRate: 20 } }),
    fixed: classifier({ optimizer: { name: "sgd", learningRate: 0.1 } }),
  },
  {
    name: "Adam at learning rate 1e-7",
    fault: "learning-rate-too-low",
    recipe: classifier({ optimizer: { name: "adam", learningRate: 1e-7 } }),
    fixed: classifier(),
  },
  {
    name: "one epoch of slow SGD",
    fault: "too-few-epochs",
    recipe: classifier({ optimizer: { name: "sgd", learningRate: 0.01 }, epochs: 2 }),
    fixed: classifier({ optimizer: { name: "sgd", learningRate: 0.01 }, epochs: 60 }),
  },
  {
    name: "ReLU units started dead by a bias of -10",
    fault: "dead-relu",
    recipe: classifier({
      model: [
        { dense: 32, activation: "relu", biasInitializer: "constant:-10" },
        { dense: 4, activation: "softmax" },
      ],
    }),
    fixed: classifier(),
  },
  {
    name: "sigmoid units started saturated by a bias of 12",
    fault: "saturated-activations",
    recipe: classifier({
      model: [
        { dense: 32, activation: "sigmoid", biasInitializer: "constant:12" },
        { dense: 32, activation: "sigmoid", biasInitializer: "constant:12" },
        { dense: 4, activation: "softmax" },
      ],
      optimizer: { name: "sgd", learningRate: 0.05, momentum: 0.9 },
    }),
    fixed: classifier({
      model: [
        { dense: 32, activation: "sigmoid" },
        { dense: 32, activation: "sigmoid" },
        { dense: 4, activation: "softmax" },
      ],
      optimizer: { name: "sgd", learningRate: 0.05, momentum: 0.9 },
    }),
  },
  {
    name: "eight sigmoid layers under SGD with momentum",
    fault: "vanishing-gradients",
    recipe: classifier({
      model: [
        ...Array.from({ length: 8 }, () => ({ dense: 32, activation: "sigmoid" })),
        { dense: 4, activation: "softmax" },
      ],
      optimizer: { name: "sgd", learningRate: 0.05, momentum: 0.9 },
      epochs: 10,
    }),
    fixed: classifier({
      model: [
        ...Array.from(
          { length: 8 },
          () => ({ dense: 32, activation: "relu", kernelInitializer: "he_normal" }),
        ),
        { dense: 4, activation: "softmax" },
      ],
      optimizer: { name: "adam", learningRate: 0.001 },
      epochs: 10,
    }),
  },
  {
    name: "a linear network on two circles",
    fault: "insufficient-capacity",
    recipe: {
      ...classifier(),
      data: {
        source: "synthetic",
        kind: "circles",
        count: 1000,
        noise: 0.05,
        validationSplit: 0.2,
      },
      model: [{ dense: 16, activation: "linear" }, { dense: 2, activation: "softmax" }],
    },
    fixed: {
      ...classifier(),
      data: {
        source: "synthetic",
        kind: "circles",
        count: 1000,
        noise: 0.05,
        validationSplit: 0.2,
      },
      model: [{ dense: 16, activation: "relu" }, { dense: 2, activation: "softmax" }],
    },
  },
  {
    name: "rows sorted by class, validation split from the end",
    fault: "unshuffled-data",
    recipe: classifier({ data: blobs(4, { order: "sorted-by-class" }) }),
    fixed: classifier({ data: blobs(4, { order: "shuffled" }) }),
  },
  {
    name: "the whole set as one batch, five epochs",
    fault: "batch-size",
    recipe: classifier({
      batchSize: 1200,
      epochs: 5,
      optimizer: { name: "sgd", learningRate: 0.05 },
    }),
    fixed: classifier({ batchSize: 32, epochs: 5, optimizer: { name: "sgd", learningRate: 0.05 } }),
  },
  {
    name: "Adadelta at tf.keras 2's default learning rate",
    fault: "optimizer-choice",
    recipe: classifier({ optimizer: { name: "adadelta" }, epochs: 5 }),
    fixed: classifier({ optimizer: { name: "adam" }, epochs: 5 }),
  },
  {
    name: "a posted history whose validation loss turns up",
    fault: "overfitting",
    recipe: classifier({ epochs: 12 }),
    fixed: classifier({ epochs: 12 }),
    history: {
      loss: [1.2, 0.8, 0.55, 0.4, 0.3, 0.22, 0.16, 0.12, 0.09, 0.07, 0.05, 0.04],
      accuracy: [0.55, 0.7, 0.8, 0.86, 0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.99, 0.99],
      val_loss: [1.1, 0.8, 0.62, 0.55, 0.54, 0.58, 0.63, 0.7, 0.78, 0.86, 0.95, 1.02],
      val_accuracy: [0.56, 0.69, 0.77, 0.8, 0.81, 0.8, 0.8, 0.79, 0.79, 0.78, 0.78, 0.78],
    },
    fixedHistory: {
      loss: [1.2, 0.8, 0.6, 0.5, 0.45, 0.42],
      accuracy: [0.55, 0.7, 0.78, 0.82, 0.84, 0.85],
      val_loss: [1.15, 0.82, 0.63, 0.54, 0.5, 0.48],
      val_accuracy: [0.55, 0.69, 0.77, 0.81, 0.83, 0.84],
    },
  },
  {
    name: "an accuracy stuck at 1/10 while the loss falls (Chapter 1's broadcast metric)",
    fault: "metric-bug",
    recipe: classifier({
      data: blobs(10),
      model: [{ dense: 32, activation: "relu" }, { dense: 10, activation: "softmax" }],
    }),
    fixed: classifier({
      data: blobs(10),
      model: [{ dense: 32, activation: "relu" }, { dense: 10, activation: "softmax" }],
    }),
    history: {
      loss: [2.1, 1.2, 0.7, 0.5, 0.42],
      accuracy: [0.1, 0.1, 0.1, 0.1, 0.1],
    },
    fixedHistory: {
      loss: [2.1, 1.2, 0.7, 0.5, 0.42],
      accuracy: [0.3, 0.62, 0.78, 0.84, 0.86],
    },
  },
  {
    name: "a loss driven to 0 with accuracy at chance (Chapter 6's labels = softmax)",
    fault: "labels-depend-on-model",
    recipe: classifier({
      data: blobs(2),
      model: [{ dense: 32, activation: "relu" }, { dense: 2, activation: "softmax" }],
    }),
    fixed: classifier({
      data: blobs(2),
      model: [{ dense: 32, activation: "relu" }, { dense: 2, activation: "softmax" }],
    }),
    history: {
      loss: [0.6, 0.2, 0.05, 0.01, 0.004],
      accuracy: [0.5, 0.5, 0.5, 0.5, 0.5],
    },
    fixedHistory: {
      loss: [0.6, 0.4, 0.3, 0.25, 0.22],
      accuracy: [0.7, 0.82, 0.87, 0.9, 0.91],
    },
  },
  {
    name: "a validation accuracy that repeats a cycle of six (Chapter 6's fixed batches)",
    fault: "unshuffled-data",
    recipe: classifier({
      data: blobs(2),
      model: [{ dense: 32, activation: "relu" }, { dense: 2, activation: "softmax" }],
    }),
    fixed: classifier({
      data: blobs(2),
      model: [{ dense: 32, activation: "relu" }, { dense: 2, activation: "softmax" }],
    }),
    history: {
      loss: [0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69],
      accuracy: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
      val_accuracy: [
        0.4375,
        0.5625,
        0.5,
        0.46875,
        0.53125,
        0.5,
        0.4375,
        0.5625,
        0.5,
        0.46875,
        0.53125,
        0.5,
      ],
    },
    fixedHistory: {
      loss: [0.6, 0.45, 0.36, 0.31, 0.28, 0.26],
      accuracy: [0.7, 0.8, 0.85, 0.88, 0.9, 0.91],
      val_accuracy: [0.68, 0.79, 0.84, 0.86, 0.87, 0.88],
    },
  },
  {
    name: "validation figures identical to the training figures",
    fault: "evaluated-on-training-data",
    recipe: classifier(),
    fixed: classifier(),
    history: {
      loss: [1.0, 0.7, 0.5, 0.4],
      accuracy: [0.6, 0.75, 0.82, 0.86],
      val_loss: [1.0, 0.7, 0.5, 0.4],
      val_accuracy: [0.6, 0.75, 0.82, 0.86],
    },
    fixedHistory: {
      loss: [1.0, 0.7, 0.5, 0.4],
      accuracy: [0.6, 0.75, 0.82, 0.86],
      val_loss: [1.02, 0.73, 0.55, 0.46],
      val_accuracy: [0.59, 0.73, 0.8, 0.83],
    },
  },
];
