/**
 * What a learner gets wrong, and the message that says what to do (issue 11 §2):
 * each bad input is an error that names the argument, the tensor or the field,
 * and the value; a legal but almost surely mistaken setup is a warning.
 */
import assert from "node:assert/strict";
import {
  Adam,
  BinaryCrossEntropy,
  BinaryCrossEntropyWithLogits,
  evaluate,
  Linear,
  MeanSquaredError,
  mlp,
  Momentum,
  predict,
  Sequential,
  SGD,
  Softmax,
  SoftmaxCrossEntropy,
  tensor,
  tidy,
  train,
  type TrainOptions,
} from "../lib/mod.ts";
import type { Dataset } from "../lib/data/dataset.ts";

function classification(count = 6): Dataset {
  const inputs = Float32Array.from({ length: count * 2 }, (_, i) => (i % 5) - 2);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 2);
  return { name: "pairs", inputs, count, features: 2, labels, classes: 2 };
}

function regression(count = 6): Dataset {
  const inputs = Float32Array.from({ length: count }, (_, i) => i / count);
  return {
    name: "line",
    inputs,
    count,
    features: 1,
    targets: inputs.map((x) => 2 * x),
    targetSize: 1,
  };
}

function options(overrides: Partial<TrainOptions>): TrainOptions {
  return {
    model: mlp([2, 3, 2], { seed: 0 }),
    loss: new SoftmaxCrossEntropy(),
    optimizer: new SGD({ learningRate: 0.1 }),
    train: classification(),
    epochs: 1,
    batchSize: 3,
    progress: "none",
    ...overrides,
  };
}

Deno.test("labels shorter than the dataset: the labels are named, not 'values cannot fill shape'", async () => {
  const short = { ...classification(6), labels: Uint8Array.of(0, 1, 0) };
  await assert.rejects(
    () => train(options({ train: short })),
    /training set "pairs" has 3 labels for 6 examples; give one label per example/,
  );
  const targets = { ...regression(6), targets: Float32Array.of(1, 2) };
  await assert.rejects(
    () => train(options({ model: mlp([1, 1]), loss: new MeanSquaredError(), train: targets })),
    /training set "line" has 2 target values for 6 examples of 1 \(targetSize\); give 6/,
  );
});

Deno.test("a NaN in regression targets names the targets, before training", async () => {
  const data = regression(6);
  data.targets![4] = NaN;
  await assert.rejects(
    () => train(options({ model: mlp([1, 1]), loss: new MeanSquaredError(), train: data })),
    /training set "line" has a non-finite target, NaN, at example 4, target column 0/,
  );
});

Deno.test("one-hot targets given to a loss that wants class indices: say so and how to convert", async () => {
  const base = classification(4);
  const oneHot = Float32Array.from(
    { length: 8 },
    (_, i) => (i % 2 === base.labels![i >> 1] ? 1 : 0),
  );
  const data: Dataset = { ...base, labels: undefined, targets: oneHot, targetSize: 2 };
  await assert.rejects(
    () => train(options({ train: data })),
    /softmax-cross-entropy wants a class index per example in labels, but training set "pairs" has 2-column targets \(one-hot\?\) and no labels; give labels = the argmax of each target row \(argmaxRows\(targets, 2\)\)/,
  );
});

Deno.test("tidy(async ...) is an error that says why and what to use instead", async () => {
  const asyncFn = (async () => {
    await Promise.resolve();
    return tensor([1], [1]);
  }) as unknown as () => void;
  assert.throws(
    () => tidy(asyncFn),
    /tidy: the function returned a Promise\. tidy\(\) is synchronous.*use openScope\(\) and closeScope\(\)/,
  );
  assert.deepEqual(Array.from(await tidy(() => tensor([2], [1])).data()), [2], "sync tidy works");
});

Deno.test("a bare layer passed as the model says to wrap it in a Sequential", async () => {
  const layer = new Linear(2, 2) as unknown as Sequential;
  const wrap =
    /model must be a Sequential, got a bare linear layer; wrap it: new Sequential\(\[layer\]\)/;
  await assert.rejects(() => train(options({ model: layer })), new RegExp(`train: ${wrap.source}`));
  await assert.rejects(() => evaluate(layer, new SoftmaxCrossEntropy(), classification()), wrap);
  await assert.rejects(() => predict(layer, classification()), wrap);
  await assert.rejects(
    () => train(options({ model: undefined as unknown as Sequential })),
    /train: model must be a Sequential \(e\.g\. mlp\(\[784, 128, 10\]\) or new Sequential\(\[\.\.\.\]\)\), got undefined/,
  );
  assert.throws(
    () => new Sequential(new Linear(2, 2) as unknown as Linear[]),
    /Sequential: give a list of layers, .*got a bare linear layer/,
  );
  assert.throws(
    () => new Sequential([new Linear(2, 2), "relu" as unknown as Linear]),
    /Sequential: item 1 of the list is not a layer \(got relu\)/,
  );
  // The right call still trains.
  const history = await train(options({ model: new Sequential([new Linear(2, 2)]) }));
  assert.equal(history.epochs.length, 1);
});

Deno.test("an optimiser built without options says how to build it", () => {
  const Optimisers = [SGD, Momentum, Adam] as unknown as (new (options?: unknown) => unknown)[];
  for (const Optimizer of Optimisers) {
    assert.throws(
      () => new Optimizer(),
      new RegExp(
        `${Optimizer.name}: give the options, e\\.g\\. new ${Optimizer.name}\\(\\{ learningRate: 0\\.01 \\}\\); got undefined`,
      ),
    );
  }
  assert.throws(
    () => new SGD({} as { learningRate: number }),
    /SGD: learningRate must be a finite number > 0, got undefined/,
  );
});

Deno.test("numbers given as strings are named as strings", async () => {
  const asNumber = (s: string) => s as unknown as number;
  assert.throws(
    () => new SGD({ learningRate: asNumber("0.1") }),
    /SGD: learningRate must be a finite number > 0, got the string "0\.1" \(give a number\)/,
  );
  assert.throws(
    () => new Adam({ learningRate: 0.1, beta1: asNumber("0.9") }),
    /Adam: beta1 must be in \[0, 1\), got the string "0\.9"/,
  );
  await assert.rejects(
    () => train(options({ epochs: asNumber("3") })),
    /train: epochs must be an integer >= 1, got the string "3"/,
  );
  await assert.rejects(
    () => train(options({ batchSize: asNumber("32") })),
    /train: batchSize must be an integer >= 1, got the string "32"/,
  );
  assert.throws(
    () => new Linear(asNumber("784"), 10),
    /Linear: inFeatures must be a positive integer, got the string "784" \(give a number\)/,
  );
  assert.throws(
    () => mlp([asNumber("784"), 10]),
    /mlp: size 0 is "784", a string; sizes are numbers/,
  );
});

Deno.test("binary cross-entropy given logits, or targets outside [0, 1], is an error naming the tensor and the value", async () => {
  const bce = new BinaryCrossEntropy();
  const targets = tensor([1, 0, 0, 1], [2, 2]);
  // Direct calls, where the values are in memory (the CPU).
  assert.throws(
    () => bce.forward(tensor([0.9, 0.2, 2.5, 0.4], [2, 2]), targets),
    /binary-cross-entropy: the probabilities \(its first argument\) must lie in \[0, 1\], but row 1, column 0 is 2\.5: logits\? Apply a Sigmoid first, or use BinaryCrossEntropyWithLogits/,
  );
  assert.throws(
    () => bce.forward(tensor([0.9, 0.2, 0.5, 0.4], [2, 2]), tensor([1, 0, 0, 3], [2, 2])),
    /binary-cross-entropy: the targets must lie in \[0, 1\], but row 1, column 1 is 3/,
  );
  assert.throws(
    () =>
      new BinaryCrossEntropyWithLogits().forward(
        tensor([5, -3, 0, 1], [2, 2]),
        tensor([1, -1, 0, 1], [2, 2]),
      ),
    /binary-cross-entropy-with-logits: the targets must lie in \[0, 1\], but row 0, column 1 is -1/,
  );
  // Values inside [0, 1] (the edges included) pass.
  assert.ok(bce.forward(tensor([1, 0, 0.5, 0.5], [2, 2]), targets));

  // In training, from the model and the data (so on every backend, before any step).
  const data: Dataset = { ...regression(4), targets: Float32Array.of(0, 1, 1, 0) };
  await assert.rejects(
    () => train(options({ model: mlp([1, 1]), loss: bce, train: data })),
    /train: binary-cross-entropy wants the model's outputs in \[0, 1\] \(probabilities\), but its last layer \(linear1\) gives unbounded values \(logits\): end the model with a Sigmoid, or use BinaryCrossEntropyWithLogits/,
  );
  const withSigmoid = mlp([1, 1], { outputActivation: "sigmoid" });
  const outside: Dataset = { ...data, targets: Float32Array.of(0, 1, 2, 0) };
  for (const loss of [bce, new BinaryCrossEntropyWithLogits()]) {
    await assert.rejects(
      () =>
        train(options({ model: loss === bce ? withSigmoid : mlp([1, 1]), loss, train: outside })),
      new RegExp(
        `${loss.name} wants targets in \\[0, 1\\], but training set "line" has target 2 at example 2, target column 0`,
      ),
    );
  }
  const history = await train(
    options({ model: withSigmoid, loss: bce, train: data, batchSize: 2 }),
  );
  assert.ok(Number.isFinite(history.epochs[0].trainLoss), "a sigmoid output and 0/1 targets train");
});

Deno.test("a softmax layer before SoftmaxCrossEntropy is a warning (once), and a plain model gets none", async () => {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...parts: unknown[]) => warnings.push(parts.join(" "));
  try {
    await train(options({ model: new Sequential([new Linear(2, 2), new Softmax()]) }));
    await train(options({ model: new Sequential([new Linear(2, 2), new Softmax()]) }));
    await train(options({ model: mlp([2, 2]) }));
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(
    warnings[0],
    /warning: softmax-cross-entropy applies its own softmax to the logits, but the model's last layer \(softmax1\) is already a softmax.*Remove softmax1 and give the loss the logits/,
  );
});
