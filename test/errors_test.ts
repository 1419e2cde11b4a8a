/**
 * Errors a learner will meet say where and what: the layer's name, the shape it
 * got and the shape it expected.
 */
import assert from "node:assert/strict";
import {
  Linear,
  MeanSquaredError,
  mlp,
  ReLU,
  Sequential,
  SGD,
  ShapeError,
  SoftmaxCrossEntropy,
  train,
  zeros,
} from "../lib/mod.ts";
import type { Dataset } from "../lib/data/dataset.ts";

function isShapeError(pattern: RegExp) {
  return (e: Error) => {
    assert.ok(e instanceof ShapeError, `expected a ShapeError, got ${e}`);
    assert.equal(e.name, "ShapeError");
    assert.match(e.message, pattern);
    return true;
  };
}

Deno.test("Linear(784 → 128) fed [32, 100] names the layer, the input's shape and the 784 it expected", () => {
  const model = mlp([784, 128, 10]);
  assert.throws(() => model.forward(zeros([32, 100])), (e: Error) => {
    assert.ok(e instanceof ShapeError);
    assert.match(e.message, /linear1/);
    assert.match(e.message, /\[32, 100\]/);
    assert.match(e.message, /784/);
    assert.equal(e.message, "linear1: expected input [batch, 784], got [32, 100]");
    return true;
  });
});

Deno.test("a mismatch deeper in the model names that layer", () => {
  const model = new Sequential([new Linear(4, 3), new ReLU(), new Linear(5, 2)]);
  assert.throws(
    () => model.forward(zeros([2, 4])),
    isShapeError(/^linear2: expected input \[batch, 5\], got \[2, 3\]$/),
  );
  // A 1-D input is caught too, before any arithmetic.
  assert.throws(
    () => mlp([4, 2]).forward(zeros([4])),
    isShapeError(/linear1: expected input \[batch, 4\], got \[4\]/),
  );
});

Deno.test("labels of shape [N, 1] given to SoftmaxCrossEntropy: the message says to flatten them", () => {
  const logits = zeros([8, 10]);
  const labels = zeros([8, 1]);
  assert.throws(
    () => new SoftmaxCrossEntropy().forward(logits, labels),
    isShapeError(/expected one class index per example, labels \[8\], got \[8, 1\].*flatten/),
  );
  // One-hot rows in place of indices are caught the same way.
  assert.throws(
    () => new SoftmaxCrossEntropy().forward(logits, zeros([8, 10])),
    isShapeError(/got \[8, 10\]/),
  );
});

Deno.test("backward() with a gradient of the wrong shape names the layer and both shapes", () => {
  const model = mlp([3, 4, 2]);
  model.forward(zeros([5, 3]));
  assert.throws(
    () => model.backward(zeros([5, 3])),
    isShapeError(
      /^linear2: backward\(\) got a gradient of shape \[5,3\] but the output was \[5,2\]$/,
    ),
  );
  const relu = model.layers[1];
  assert.throws(
    () => relu.backward(zeros([4, 4])),
    isShapeError(/^relu1: backward\(\) got a gradient/),
  );
});

Deno.test("a model whose layers do not chain fails at the first training step, naming the layer", async () => {
  const data: Dataset = {
    name: "tiny",
    inputs: new Float32Array(8),
    count: 4,
    features: 2,
    labels: new Uint8Array(4),
    classes: 2,
  };
  const model = new Sequential([new Linear(2, 3), new ReLU(), new Linear(4, 2)]);
  await assert.rejects(
    () =>
      train({
        model,
        loss: new SoftmaxCrossEntropy(),
        optimizer: { name: "none", learningRate: 1, step() {} },
        train: data,
        epochs: 1,
        batchSize: 4,
        progress: "none",
      }),
    isShapeError(/linear2: expected input \[batch, 4\], got \[4, 3\]/),
  );
});

Deno.test("a class index the model has no output for is rejected before training", async () => {
  // Without the check, pickColumns would read the next row's logit: a wrong but finite loss.
  const data: Dataset = {
    name: "ten-classes",
    inputs: new Float32Array(8),
    count: 4,
    features: 2,
    labels: new Uint8Array([9, 0, 1, 2]),
    classes: 10,
  };
  const setup = {
    loss: new SoftmaxCrossEntropy(),
    optimizer: new SGD({ learningRate: 0.1 }),
    epochs: 1,
    batchSize: 4,
    progress: "none" as const,
  };
  await assert.rejects(
    () => train({ ...setup, model: mlp([2, 9]), train: data }),
    /training set "ten-classes" has class index 9, but the model's last layer with weights \(linear1\) has 9 outputs/,
  );
  // A dense loss one-hot encodes labels: the dataset's class count must cover them.
  await assert.rejects(
    () =>
      train({
        ...setup,
        loss: new MeanSquaredError(),
        model: mlp([2, 10]),
        train: { ...data, classes: 5 },
      }),
    /mean-squared-error one-hot encodes the labels of training set "ten-classes", but its classes \(5\) do not cover class index 9/,
  );
  const history = await train({ ...setup, model: mlp([2, 10]), train: data });
  assert.equal(history.epochs.length, 1);
});
