/**
 * A second case suite, written apart from cases.ts and in the style of real Stack Overflow and
 * GitHub questions about dense networks that do not learn: the Keras tutorial's Pima diabetes MLP,
 * house prices in dollars, the iris CSV with string species (stored sorted, as the UCI file is),
 * MNIST and Fashion-MNIST with the usual wrong heads and losses, learning rates, epochs, optimisers
 * and initialisers. Each case is the asker's recipe and its fixed twin (the one change the accepted
 * answer made). The CSVs are fixtures in test/doctor/fixtures/ (make_fixtures.ts writes them).
 */
import type { DoctorCase } from "./cases.ts";

const FIXTURES = "test/doctor/fixtures";

/** One recipe and the same recipe with one field path changed: the asker's fault and its fix. */
function twin(
  name: string,
  fault: DoctorCase["fault"],
  recipe: Record<string, unknown>,
  fix: (r: Record<string, unknown>) => void,
): DoctorCase {
  const fixed = structuredClone(recipe);
  fix(fixed);
  return { name, fault, recipe, fixed, recipeDir: FIXTURES };
}

type R = Record<string, unknown>;
const data = (r: R) => r.data as R;
const layers = (r: R) => r.model as R[];

/** The Keras "first network" tutorial: 12-8-1 on the eight Pima columns. */
const pima = (overrides: R = {}, dataOverrides: R = {}): R => ({
  name: "pima",
  task: "classification",
  data: {
    source: "csv",
    path: "pima.csv",
    target: "Outcome",
    validationSplit: 0.2,
    inputScale: "standardise",
    ...dataOverrides,
  },
  model: [
    { dense: 12, activation: "relu" },
    { dense: 8, activation: "relu" },
    { dense: 1, activation: "sigmoid" },
  ],
  loss: "binary_crossentropy",
  metrics: ["accuracy"],
  optimizer: { name: "adam" },
  epochs: 150,
  batchSize: 10,
  ...overrides,
});

const housing = (overrides: R = {}, dataOverrides: R = {}): R => ({
  task: "regression",
  data: {
    source: "csv",
    path: "housing.csv",
    target: "price",
    validationSplit: 0.2,
    inputScale: "standardise",
    targetScale: "standardise",
    ...dataOverrides,
  },
  model: [{ dense: 64, activation: "relu" }, { dense: 64, activation: "relu" }, { dense: 1 }],
  loss: "mse",
  metrics: ["mae"],
  optimizer: { name: "adam" },
  epochs: 100,
  batchSize: 32,
  ...overrides,
});

const iris = (overrides: R = {}, dataOverrides: R = {}): R => ({
  task: "classification",
  data: {
    source: "csv",
    path: "iris.csv",
    target: "species",
    order: "shuffled",
    validationSplit: 0.2,
    inputScale: "raw",
    ...dataOverrides,
  },
  model: [{ dense: 10, activation: "relu" }, { dense: 3, activation: "softmax" }],
  loss: "sparse_categorical_crossentropy",
  metrics: ["accuracy"],
  optimizer: { name: "adam", learningRate: 0.01 },
  epochs: 100,
  batchSize: 8,
  ...overrides,
});

const digits = (overrides: R = {}, dataOverrides: R = {}): R => ({
  task: "classification",
  data: {
    source: "mnist",
    trainCount: 3000,
    testCount: 500,
    validationSplit: 0.1,
    inputScale: "unit",
    labels: "one-hot",
    ...dataOverrides,
  },
  model: [{ dense: 128, activation: "relu" }, { dense: 10, activation: "softmax" }],
  loss: "categorical_crossentropy",
  metrics: ["accuracy"],
  optimizer: { name: "adam" },
  epochs: 10,
  batchSize: 32,
  ...overrides,
});

const fashion = (overrides: R = {}, dataOverrides: R = {}): R =>
  digits(overrides, { source: "fashion-mnist", ...dataOverrides });

const moons = (overrides: R = {}): R => ({
  task: "classification",
  data: { source: "synthetic", kind: "moons", count: 1000, noise: 0.15, validationSplit: 0.2 },
  model: [{ dense: 16, activation: "relu" }, { dense: 16, activation: "relu" }, {
    dense: 1,
    activation: "sigmoid",
  }],
  loss: "binary_crossentropy",
  optimizer: { name: "adam", learningRate: 0.01 },
  epochs: 50,
  batchSize: 32,
  ...overrides,
});

export const REAL_CASES: DoctorCase[] = [
  twin(
    "Pima MLP on raw features under SGD",
    "unnormalised-inputs",
    pima({ optimizer: { name: "sgd", learningRate: 0.01 } }, { inputScale: "raw" }),
    (r) => data(r).inputScale = "standardise",
  ),
  twin(
    "Pima MLP with one linear output under binary_crossentropy",
    "output-activation-mismatch",
    pima({
      model: [{ dense: 12, activation: "relu" }, { dense: 8, activation: "relu" }, { dense: 1 }],
    }),
    (r) => layers(r)[2].activation = "sigmoid",
  ),
  twin(
    "Pima MLP with softmax on its one output",
    "output-activation-mismatch",
    pima({
      model: [{ dense: 12, activation: "relu" }, { dense: 8, activation: "relu" }, {
        dense: 1,
        activation: "softmax",
      }],
    }),
    (r) => layers(r)[2].activation = "sigmoid",
  ),
  twin(
    "Pima MLP initialised to zeros everywhere",
    "zero-initialisation",
    pima({
      model: [
        { dense: 12, activation: "relu", kernelInitializer: "zeros" },
        { dense: 8, activation: "relu", kernelInitializer: "zeros" },
        { dense: 1, activation: "sigmoid", kernelInitializer: "zeros" },
      ],
    }),
    (r) => layers(r).forEach((l) => delete l.kernelInitializer),
  ),
  twin(
    "Pima MLP under Adadelta at tf.keras 2's 0.001",
    "optimizer-choice",
    pima({ optimizer: { name: "adadelta", learningRate: 0.001 }, epochs: 20 }),
    (r) => r.optimizer = { name: "adam", learningRate: 0.001 },
  ),
  twin(
    "Pima MLP, batch of 1 under SGD at learning rate 1.0",
    "learning-rate-too-high",
    pima({ optimizer: { name: "sgd", learningRate: 1.0 }, batchSize: 1, epochs: 20 }),
    (r) => (r.optimizer as R).learningRate = 0.01,
  ),
  twin(
    "house prices in dollars as the regression target",
    "unnormalised-targets",
    housing({}, { targetScale: "raw" }),
    (r) => data(r).targetScale = "standardise",
  ),
  twin(
    "house features in square feet and years, unscaled, under SGD",
    "unnormalised-inputs",
    housing({ optimizer: { name: "sgd", learningRate: 0.01 } }, { inputScale: "raw" }),
    (r) => data(r).inputScale = "standardise",
  ),
  twin(
    "standardised house prices through a relu output",
    "output-activation-mismatch",
    housing({
      model: [{ dense: 64, activation: "relu" }, { dense: 64, activation: "relu" }, {
        dense: 1,
        activation: "relu",
      }],
    }),
    (r) => layers(r)[2].activation = "linear",
  ),
  twin(
    "a sine regression through a sigmoid output",
    "output-activation-mismatch",
    {
      task: "regression",
      data: { source: "synthetic", kind: "sine", count: 1000, noise: 0.1, validationSplit: 0.2 },
      model: [{ dense: 32, activation: "tanh" }, { dense: 32, activation: "tanh" }, {
        dense: 1,
        activation: "sigmoid",
      }],
      loss: "mse",
      optimizer: { name: "adam", learningRate: 0.01 },
      epochs: 100,
      batchSize: 32,
    },
    (r) => layers(r)[2].activation = "linear",
  ),
  twin(
    "iris CSV as stored (sorted by species) with validation_split 0.2",
    "unshuffled-data",
    iris({}, { order: "as-stored" }),
    (r) => data(r).order = "shuffled",
  ),
  twin(
    "iris with binary_crossentropy on three one-hot species",
    "loss-mismatch",
    iris({ loss: "binary_crossentropy" }, { labels: "one-hot" }),
    (r) => r.loss = "categorical_crossentropy",
  ),
  twin(
    "iris with categorical_crossentropy on integer species",
    "loss-mismatch",
    iris({ loss: "categorical_crossentropy" }, { labels: "index" }),
    (r) => r.loss = "sparse_categorical_crossentropy",
  ),
  twin(
    "iris with relu on the last dense layer before a softmax",
    "relu-before-softmax",
    iris({
      model: [{ dense: 10, activation: "relu" }, { dense: 3, activation: "relu" }, "softmax"],
    }),
    (r) => layers(r)[1].activation = "linear",
  ),
  twin(
    "MNIST with softmax and binary_crossentropy",
    "loss-mismatch",
    digits({ loss: "binary_crossentropy" }),
    (r) => r.loss = "categorical_crossentropy",
  ),
  twin(
    "MNIST with sigmoid on the ten outputs",
    "output-activation-mismatch",
    digits({
      model: [{ dense: 128, activation: "relu" }, { dense: 10, activation: "sigmoid" }],
      optimizer: { name: "sgd", learningRate: 0.01 },
      epochs: 5,
    }),
    (r) => layers(r)[1].activation = "softmax",
  ),
  twin(
    "MNIST classifier trained with mean squared error",
    "loss-mismatch",
    digits({ loss: "mse", optimizer: { name: "sgd", learningRate: 0.01 }, epochs: 5 }),
    (r) => r.loss = "categorical_crossentropy",
  ),
  twin(
    "MNIST on raw 0-255 pixels under SGD",
    "unnormalised-inputs",
    digits({ optimizer: { name: "sgd", learningRate: 0.01 } }, { inputScale: "raw" }),
    (r) => data(r).inputScale = "unit",
  ),
  twin(
    "Fashion-MNIST under Adam at learning rate 1.0",
    "learning-rate-too-high",
    fashion({ optimizer: { name: "adam", learningRate: 1.0 } }),
    (r) => (r.optimizer as R).learningRate = 0.001,
  ),
  twin(
    "Fashion-MNIST under SGD at 1e-6",
    "learning-rate-too-low",
    fashion({ optimizer: { name: "sgd", learningRate: 1e-6 } }),
    (r) => (r.optimizer as R).learningRate = 0.01,
  ),
  twin(
    "MNIST for two epochs of plain SGD",
    "too-few-epochs",
    digits({ optimizer: { name: "sgd", learningRate: 0.01 }, epochs: 2, batchSize: 64 }),
    (r) => r.epochs = 40,
  ),
  twin(
    "MNIST with weights drawn from N(0, 1) into tanh units",
    "bad-init-scale",
    digits({
      model: [
        { dense: 256, activation: "tanh", kernelInitializer: "random_normal:1" },
        { dense: 10, activation: "softmax" },
      ],
      optimizer: { name: "sgd", learningRate: 0.01 },
    }),
    (r) => delete layers(r)[0].kernelInitializer,
  ),
  twin(
    "moons through a network with no non-linearity",
    "insufficient-capacity",
    moons({
      model: [{ dense: 16 }, { dense: 16 }, { dense: 1, activation: "sigmoid" }],
    }),
    (r) => {
      layers(r)[0].activation = "relu";
      layers(r)[1].activation = "relu";
    },
  ),
  twin(
    "Pima with categorical_crossentropy on its one sigmoid output",
    "loss-mismatch",
    pima({ loss: "categorical_crossentropy", epochs: 20 }),
    (r) => r.loss = "binary_crossentropy",
  ),
  twin(
    "Pima MLP with every weight initialised to ones",
    "zero-initialisation",
    pima({
      model: [
        { dense: 12, activation: "relu", kernelInitializer: "ones" },
        { dense: 8, activation: "relu", kernelInitializer: "ones" },
        { dense: 1, activation: "sigmoid" },
      ],
      epochs: 30,
    }),
    (r) => layers(r).forEach((l) => delete l.kernelInitializer),
  ),
  twin(
    "MNIST with Dense(128) left without an activation",
    "insufficient-capacity",
    digits({ model: [{ dense: 128 }, { dense: 128 }, { dense: 10, activation: "softmax" }] }),
    (r) => {
      layers(r)[0].activation = "relu";
      layers(r)[1].activation = "relu";
    },
  ),
  twin(
    "house prices, five epochs of plain SGD",
    "too-few-epochs",
    housing({ optimizer: { name: "sgd", learningRate: 0.001 }, epochs: 5 }),
    (r) => r.epochs = 200,
  ),
  twin(
    "moons with the whole set as one batch for ten epochs",
    "batch-size",
    moons({ batchSize: 800, epochs: 10 }),
    (r) => r.batchSize = 32,
  ),
];
