/**
 * Errors a learner will meet say where and what: the layer's name, the shape it
 * got and the shape it expected.
 */
import assert from "node:assert/strict";
import {
  BinaryCrossEntropy,
  evaluate,
  Linear,
  MeanSquaredError,
  mlp,
  predict,
  ReLU,
  Sequential,
  SGD,
  ShapeError,
  SoftmaxCrossEntropy,
  type Tensor,
  tensor,
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
  // One-hot rows in place of indices: the message says what they look like and what to give.
  assert.throws(
    () => new SoftmaxCrossEntropy().forward(logits, zeros([8, 10])),
    isShapeError(
      /the labels are \[8, 10\], one row per example like the logits: one-hot targets\? This loss wants one class index per example, labels \[8\]/,
    ),
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

// Bad input found in review: each gets a message naming what is wrong, not a hang or a NaN.

function blobs(count: number): Dataset {
  const inputs = new Float32Array(count * 2).map((_, i) => (i % 7) / 7 - 0.5);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  return { name: "blobs", inputs, count, features: 2, labels, classes: 3 };
}

Deno.test("a NaN in the data is reported with its example and feature, before training", async () => {
  const data = blobs(12);
  data.inputs[5] = NaN;
  const model = mlp([2, 8, 3]);
  await assert.rejects(
    train({
      model,
      loss: new SoftmaxCrossEntropy(),
      optimizer: new SGD({ learningRate: 0.1 }),
      train: data,
      epochs: 1,
      batchSize: 4,
      progress: "none",
    }),
    /non-finite input, NaN, at example 2, feature 1/,
  );
});

Deno.test("ReLU passes NaN through, so the non-finite check sees it", async () => {
  const { relu, step } = await import("../lib/ops.ts");
  const x = tensor([NaN, -1, 2], [3]);
  const [a, b, c] = await relu(x).data();
  assert.ok(Number.isNaN(a));
  assert.deepEqual([b, c], [0, 2]);
  assert.ok(Number.isNaN((await step(x).data())[0]));
});

Deno.test("evaluate and predict reject a batch size of 0 instead of looping forever", async () => {
  const model = mlp([2, 4, 3]);
  await assert.rejects(
    evaluate(model, new SoftmaxCrossEntropy(), blobs(6), 0),
    /batchSize must be an integer >= 1/,
  );
  await assert.rejects(predict(model, blobs(6), 0), /predict: batchSize must be an integer >= 1/);
});

Deno.test("an empty dataset, an unknown progress mode, bad init and reduction options are named", async () => {
  const empty: Dataset = {
    ...blobs(3),
    inputs: new Float32Array(0),
    count: 0,
    labels: new Uint8Array(0),
  };
  const options = {
    model: mlp([2, 4, 3]),
    loss: new SoftmaxCrossEntropy(),
    optimizer: new SGD({ learningRate: 0.1 }),
    epochs: 1,
    batchSize: 2,
  };
  await assert.rejects(train({ ...options, train: empty, progress: "none" }), /has no examples/);
  await assert.rejects(
    train({ ...options, train: blobs(6), progress: "fancy" as "none" }),
    /progress must be one of auto, bar, epochs, none/,
  );
  assert.throws(
    () => new Linear(2, 2, { weightInit: { name: "uniform", low: 1, high: -1 } }),
    /low < high/,
  );
  assert.throws(() => new Linear(2, 2, { weightInit: { name: "normal", std: -1 } }), /std >= 0/);
  assert.throws(
    () => new BinaryCrossEntropy({ outputReduction: "max" as "sum" }),
    /outputReduction must be "mean" or "sum", got "max"/,
  );
});

Deno.test("values that do not fill a shape, and class indices out of range, are errors", async () => {
  assert.throws(() => tensor([1, 2, 3, 4, 5], [2, 3]), /5 values cannot fill shape \[2, 3\]/);
  assert.throws(() => tensor([], [-1, 0]), /whole numbers >= 0/);
  const logits = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.throws(
    () => new SoftmaxCrossEntropy().forward(logits, tensor([0, 7], [2])),
    /row 1 has class index 7; class indices are whole numbers 0..2/,
  );
  assert.throws(
    () => new SoftmaxCrossEntropy().forward(logits, tensor([1.5, 0], [2])),
    /row 0 has class index 1.5/,
  );
  const { gradcheckLayer } = await import("../lib/gradcheck.ts");
  assert.throws(
    () => gradcheckLayer(new ReLU(), undefined as unknown as Tensor),
    /the input is missing; pass a float64 tensor/,
  );
});
