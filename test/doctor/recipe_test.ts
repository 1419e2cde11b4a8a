import assert from "node:assert/strict";
import { parseRecipe, RecipeError } from "../../lib/doctor/recipe.ts";

const pima = {
  name: "free text",
  notes: "free text",
  task: "classification",
  data: {
    source: "csv",
    path: "pima.csv",
    target: "Outcome",
    header: true,
    validationSplit: 0.2,
    inputScale: "raw",
    labels: "index",
    order: "as-stored",
  },
  model: [
    { dense: 12, activation: "relu", kernelInitializer: "random_uniform:0.05" },
    { dropout: 0.2 },
    { dense: 1, activation: "sigmoid" },
  ],
  loss: "binary_crossentropy",
  metrics: ["accuracy"],
  optimizer: { name: "sgd", learningRate: 0.01, momentum: 0.9 },
  epochs: 150,
  batchSize: 10,
  shuffle: true,
  seed: 0,
};

function rejects(recipe: unknown, pattern: RegExp) {
  assert.throws(() => parseRecipe(recipe), (error: unknown) => {
    assert.ok(error instanceof RecipeError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("the spec's example recipe parses, with Keras defaults filled in", () => {
  const recipe = parseRecipe(pima);
  assert.equal(recipe.data.target![0], "Outcome");
  assert.deepEqual(recipe.model[0], {
    kind: "dense",
    units: 12,
    activation: { name: "relu" },
    kernelInitializer: { name: "random_uniform", value: 0.05 },
    biasInitializer: { name: "zeros" },
  });
  assert.deepEqual(recipe.model[1], { kind: "dropout", rate: 0.2 });
  assert.equal(recipe.optimizer.epsilon, 1e-7);
  assert.equal(recipe.optimizer.nesterov, false);
  assert.deepEqual(recipe.loss, { name: "binary_crossentropy", fromLogits: false });
});

Deno.test("defaults: epochs 1, batch 32, shuffle, seed 0, glorot_uniform, each optimiser's rate", () => {
  const recipe = parseRecipe({
    task: "regression",
    data: { source: "synthetic", kind: "sine" },
    model: [{ dense: 8, activation: "tanh" }, { dense: 1 }, "relu", { batchNormalization: {} }],
    loss: "mean_squared_error",
    optimizer: "rmsprop",
  });
  assert.equal(recipe.epochs, 1);
  assert.equal(recipe.batchSize, 32);
  assert.equal(recipe.shuffle, true);
  assert.equal(recipe.optimizer.learningRate, 0.001);
  assert.equal(recipe.optimizer.rho, 0.9);
  assert.equal(recipe.loss.name, "mse");
  assert.deepEqual(recipe.model[1], {
    kind: "dense",
    units: 1,
    activation: { name: "linear" },
    kernelInitializer: { name: "glorot_uniform" },
    biasInitializer: { name: "zeros" },
  });
  assert.deepEqual(recipe.model[2], { kind: "activation", activation: { name: "relu" } });
  assert.deepEqual(recipe.model[3], { kind: "batchNormalization", momentum: 0.99, epsilon: 1e-3 });
  assert.equal(recipe.data.synthetic!.features, 1);
  const sgd = parseRecipe({ ...pima, optimizer: { name: "sgd" } });
  assert.equal(sgd.optimizer.learningRate, 0.01);
  const adadelta = parseRecipe({ ...pima, optimizer: { name: "adadelta" } });
  assert.equal(adadelta.optimizer.rho, 0.95);
  const leaky = parseRecipe({ ...pima, model: [{ dense: 2, activation: "leaky_relu" }] });
  assert.deepEqual((leaky.model[0] as { activation: unknown }).activation, {
    name: "leaky_relu",
    alpha: 0.3,
  });
});

Deno.test("an unknown field is an error naming it, with the near miss and what is allowed", () => {
  rejects(
    { ...pima, optimizer: { name: "adam", learning_rate: 0.1 } },
    /optimizer\.learning_rate: unknown field \(did you mean "learningRate"\?\)/,
  );
  rejects(
    { ...pima, epoch: 3 },
    /epoch: unknown field \(did you mean "epochs"\?\); allowed here: .*epochs/,
  );
  rejects({ ...pima, optimizer: { name: "adam", momentum: 0.9 } }, /optimizer\.momentum: unknown/);
  rejects(
    { ...pima, model: [{ dense: 4, activaton: "relu" }] },
    /model\[0\]\.activaton: unknown field/,
  );
});

Deno.test("invalid values name the field, the value and what is allowed", () => {
  rejects({ ...pima, task: "clasification" }, /task: "clasification" is not one of classification/);
  rejects({ ...pima, model: [{ dense: 0 }] }, /model\[0\]\.dense: must be at least 1, got 0/);
  rejects(
    { ...pima, model: [{ dense: 4, activation: "gelu" }] },
    /model\[0\]\.activation: "gelu" is not one of linear, relu/,
  );
  rejects(
    { ...pima, optimizer: { name: "adam", learningRate: "0.001" } },
    /optimizer\.learningRate: expected a number, got "0\.001" \(write it as a number/,
  );
  rejects({ ...pima, loss: "crossentropy" }, /loss: "crossentropy" is not one of/);
  rejects({ ...pima, epochs: 2.5 }, /epochs: expected a whole number, got 2\.5/);
  rejects(
    { ...pima, model: [{ dense: 4, kernelInitializer: "he_normal:2" }] },
    /only constant, random_normal and random_uniform take a parameter/,
  );
  rejects({ ...pima, model: [{ conv2d: 3 }] }, /model\[0\]: a layer is/);
  rejects({ ...pima, loss: { name: "mse", fromLogits: true } }, /only the cross-entropies/);
  rejects(
    { ...pima, data: { ...pima.data, kind: "blobs" } },
    /data\.kind: only a synthetic source/,
  );
  rejects(
    { ...pima, data: { source: "synthetic", kind: "sine" } },
    /data\.kind: "sine" is a regression set, but task is "classification"/,
  );
  rejects(
    { ...pima, data: { source: "mnist", classes: [3, 3] } },
    /data\.classes: a class is listed twice/,
  );
  rejects({ ...pima, model: [] }, /model: expected a non-empty list/);
  const { loss: _loss, ...noLoss } = pima;
  rejects(noLoss, /loss: missing/);
  rejects(
    { ...pima, data: { ...pima.data, validationSplit: 0.6, testSplit: 0.5 } },
    /testSplit/,
  );
});
