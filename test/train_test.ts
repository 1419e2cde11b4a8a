/**
 * The training loop: it learns toy problems, is deterministic under a seed,
 * agrees with evaluate() and predict() and with sums done by hand, rejects bad
 * setups with clear errors, and stops (or records) at the first non-finite loss.
 */
import assert from "node:assert/strict";
import {
  Adam,
  BinaryCrossEntropyWithLogits,
  evaluate,
  type History,
  Linear,
  type Loss,
  MeanSquaredError,
  mlp,
  Momentum,
  NaiveSoftmaxCrossEntropy,
  NonFiniteLossError,
  ops,
  predict,
  Random,
  ReLU,
  Sequential,
  SGD,
  SoftmaxCrossEntropy,
  type Tensor,
  tensor,
  train,
  trainFullBatch,
  type TrainOptions,
} from "../lib/mod.ts";
import { assertClose } from "./helpers.ts";
import type { Dataset } from "../lib/data/dataset.ts";

/** XOR: points near the corners (±1, ±1), label 1 when the signs differ. */
function xor(count = 64, seed = 0, noise = 0.1): Dataset {
  const random = new Random(seed);
  const inputs = new Float32Array(count * 2), labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const a = i & 1, b = (i >> 1) & 1;
    inputs[2 * i] = 2 * a - 1 + noise * random.normal();
    inputs[2 * i + 1] = 2 * b - 1 + noise * random.normal();
    labels[i] = a ^ b;
  }
  return { name: "xor", inputs, count, features: 2, labels, classes: 2 };
}

/** Three Gaussian blobs in 2-D, centres on a circle of radius 3. */
function blobs(count = 90, seed = 0): Dataset {
  const random = new Random(seed);
  const inputs = new Float32Array(count * 2), labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 3, angle = (2 * Math.PI * label) / 3;
    inputs[2 * i] = 3 * Math.cos(angle) + 0.5 * random.normal();
    inputs[2 * i + 1] = 3 * Math.sin(angle) + 0.5 * random.normal();
    labels[i] = label;
  }
  return { name: "blobs", inputs, count, features: 2, labels, classes: 3 };
}

/** y = slope · x + intercept on x in [−2, 2], no noise. */
function line(count = 32, seed = 5, slope = 3, intercept = 0): Dataset {
  const random = new Random(seed);
  const inputs = new Float32Array(count), targets = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    inputs[i] = random.uniformIn(-2, 2);
    targets[i] = slope * inputs[i] + intercept;
  }
  return { name: "line", inputs, count, features: 1, targets, targetSize: 1 };
}

function options(overrides: Partial<TrainOptions> & Pick<TrainOptions, "model">): TrainOptions {
  return {
    loss: new SoftmaxCrossEntropy(),
    optimizer: new Adam({ learningRate: 0.05 }),
    train: xor(),
    epochs: 3,
    batchSize: 16,
    progress: "none",
    ...overrides,
  };
}

/** A history without its timings, which differ between runs. */
function withoutTimes(history: History) {
  return history.epochs.map(({ seconds: _, ...rest }) => rest);
}

async function parameterValues(model: Sequential): Promise<number[][]> {
  return await Promise.all(model.parameters().map(async (p) => Array.from(await p.value.data())));
}

// Learning ---------------------------------------------------------------------

Deno.test("train: a small tanh net learns XOR to near-zero loss", async () => {
  const model = mlp([2, 8, 2], { seed: 1, activation: "tanh" });
  const history = await train(options({ model, epochs: 100 }));
  assert.equal(history.epochs.length, 100);
  const first = history.epochs[0], last = history.epochs.at(-1)!;
  assert.ok(first.trainLoss > 0.3, `first epoch loss ${first.trainLoss}`);
  assert.ok(last.trainLoss < 0.01, `final loss ${last.trainLoss}`);
  assert.equal(last.trainAccuracy, 1);
  assert.equal(last.steps, 100 * 4);
  assert.equal(history.nonFinite, undefined);
  const final = await evaluate(model, new SoftmaxCrossEntropy(), xor(64, 99));
  assert.equal(final.accuracy, 1, "it generalises to fresh XOR points");
});

Deno.test("train: a ReLU net with momentum separates blobs; a dense loss trains on labels via one-hot", async () => {
  const model = mlp([2, 16, 3], { seed: 2 });
  const history = await train(
    options({
      model,
      train: blobs(),
      optimizer: new Momentum({ learningRate: 0.05 }),
      epochs: 30,
      batchSize: 10,
    }),
  );
  assert.ok(history.epochs.at(-1)!.trainLoss < 0.05, `${history.epochs.at(-1)!.trainLoss}`);
  assert.equal(history.epochs.at(-1)!.trainAccuracy, 1);

  // BinaryCrossEntropyWithLogits is a dense loss: the labels become one-hot targets.
  const binary = mlp([2, 8, 2], { seed: 3, activation: "tanh" });
  const bce = await train(
    options({ model: binary, loss: new BinaryCrossEntropyWithLogits(), epochs: 100 }),
  );
  assert.ok(bce.epochs.at(-1)!.trainLoss < 0.02, `${bce.epochs.at(-1)!.trainLoss}`);
  assert.equal(bce.epochs.at(-1)!.trainAccuracy, 1);
});

Deno.test("train: linear regression with MSE reaches near-zero loss and the true coefficients", async () => {
  const model = new Sequential([new Linear(1, 1, { random: new Random(0) })]);
  const history = await train({
    model,
    loss: new MeanSquaredError(),
    optimizer: new SGD({ learningRate: 0.1 }),
    train: line(32, 5, 3, -1),
    epochs: 60,
    batchSize: 8,
    progress: "none",
  });
  assert.ok(history.epochs.at(-1)!.trainLoss < 1e-8, `${history.epochs.at(-1)!.trainLoss}`);
  assert.equal(history.epochs.at(-1)!.trainAccuracy, undefined, "no accuracy without labels");
  const [[w], [b]] = await parameterValues(model);
  assert.ok(Math.abs(w - 3) < 1e-3 && Math.abs(b + 1) < 1e-3, `w ${w}, b ${b}`);
});

// Determinism ------------------------------------------------------------------

Deno.test("train: the same seed gives bit-identical histories and weights; another seed does not", async () => {
  const run = async (seed: number, modelSeed = 4) => {
    const model = mlp([2, 6, 2], { seed: modelSeed });
    const history = await train(
      options({ model, seed, epochs: 5, batchSize: 8, validation: xor(32, 7) }),
    );
    return { history: withoutTimes(history), weights: await parameterValues(model) };
  };
  const a = await run(11), b = await run(11);
  assert.deepEqual(a.history, b.history);
  assert.deepEqual(a.weights, b.weights);
  assert.ok(a.history.every((e) => e.validationLoss !== undefined));

  const otherShuffle = await run(12);
  assert.notDeepEqual(otherShuffle.history, a.history);
  assert.notDeepEqual(otherShuffle.weights, a.weights);
  const otherInit = await run(11, 5);
  assert.notDeepEqual(otherInit.history, a.history);
});

Deno.test("train: without shuffling, the seed does not matter", async () => {
  const run = async (seed: number) => {
    const model = mlp([2, 6, 2], { seed: 4 });
    return withoutTimes(await train(options({ model, seed, shuffle: false, epochs: 2 })));
  };
  assert.deepEqual(await run(1), await run(2));
});

// Bookkeeping ------------------------------------------------------------------

Deno.test("train: the epoch loss is the example-weighted mean of the step losses; hooks see each step", async () => {
  const model = mlp([2, 4, 2], { seed: 6 });
  const stepLosses: number[] = [], batchSizes: number[] = [], steps: number[] = [];
  let afterUpdates = 0, epochEnds = 0;
  let escaped: Tensor | null = null;
  const history = await train(
    options({
      model,
      train: xor(10), // batches of 4, 4 and 2
      batchSize: 4,
      epochs: 2,
      optimizer: new SGD({ learningRate: 0.1 }),
      hooks: [{
        async beforeUpdate(context) {
          stepLosses.push(await ops.scalar(context.loss));
          batchSizes.push(context.inputs.shape[0]);
          steps.push(context.step);
          assert.ok(context.parameters.every((p) => p.grad !== null));
          escaped = context.loss;
        },
        afterUpdate() {
          afterUpdates++;
        },
        onEpochEnd(record) {
          epochEnds++;
          assert.equal(record.epoch, epochEnds);
        },
      }],
    }),
  );
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(batchSizes, [4, 4, 2, 4, 4, 2]);
  assert.equal(afterUpdates, 6);
  assert.equal(epochEnds, 2);
  for (const [epoch, record] of history.epochs.entries()) {
    const range = [3 * epoch, 3 * epoch + 3];
    let weighted = 0;
    for (let i = range[0]; i < range[1]; i++) weighted += stepLosses[i] * batchSizes[i];
    assert.ok(
      Math.abs(record.trainLoss - weighted / 10) < 1e-6,
      `${record.trainLoss} vs ${weighted / 10}`,
    );
    assert.equal(record.steps, range[1]);
  }
  // A tensor from inside a step is released when the step ends, and says so.
  await assert.rejects(async () => await escaped!.data(), /disposed tensor.*keep\(\)/);
});

Deno.test("train: maxSteps stops early", async () => {
  const history = await train(options({ model: mlp([2, 4, 2]), epochs: 10, maxSteps: 6 }));
  assert.equal(history.epochs.length, 2);
  assert.equal(history.epochs.at(-1)!.steps, 6);
});

Deno.test("evaluate() and predict() agree with a manual computation", async () => {
  const model = mlp([2, 5, 3], { seed: 8 });
  const data = blobs(23, 3); // 23 examples: batches of 7 leave a ragged last one
  await train(options({ model, train: data, epochs: 2, batchSize: 5 }));

  const rows = await predict(model, data, 7);
  assert.equal(rows.length, 23);
  assert.ok(rows.every((r) => r.length === 3));
  // predict() is the model's forward pass on all the inputs.
  const direct = await model.forward(tensor(data.inputs, [23, 2])).data();
  assert.deepEqual(rows.flatMap((r) => Array.from(r)), Array.from(direct));

  // Cross-entropy and accuracy by hand from the logits, in float64.
  let lossSum = 0, correct = 0;
  rows.forEach((logits, i) => {
    const max = Math.max(...logits);
    const logSumExp = max + Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0));
    lossSum += logSumExp - logits[data.labels![i]];
    const predicted = logits.indexOf(max); // the first maximum, as argmax does
    if (predicted === data.labels![i]) correct++;
  });
  for (const batchSize of [7, 1000, 1]) {
    const result = await evaluate(model, new SoftmaxCrossEntropy(), data, batchSize);
    assert.ok(
      Math.abs(result.loss - lossSum / 23) < 1e-5,
      `batch ${batchSize}: ${result.loss} vs ${lossSum / 23}`,
    );
    assert.equal(result.accuracy, correct / 23);
  }

  // Regression: MSE by hand, and no accuracy.
  const regression = new Sequential([new Linear(1, 1, { random: new Random(1) })]);
  const points = line(9);
  const predictions = (await predict(regression, points)).map((r) => r[0]);
  let squared = 0;
  predictions.forEach((p, i) => squared += (p - points.targets![i]) ** 2);
  const mse = await evaluate(regression, new MeanSquaredError(), points, 4);
  assert.ok(Math.abs(mse.loss - squared / 9) < 1e-5 * Math.max(1, squared / 9));
  assert.equal(mse.accuracy, undefined);
});

Deno.test("train: the last validation loss equals evaluate() on the validation set", async () => {
  const model = mlp([2, 4, 2], { seed: 9 });
  const validation = xor(40, 3);
  const history = await train(options({ model, validation, epochs: 3 }));
  const check = await evaluate(model, new SoftmaxCrossEntropy(), validation);
  assert.equal(history.epochs.at(-1)!.validationLoss, check.loss);
  assert.equal(history.epochs.at(-1)!.validationAccuracy, check.accuracy);
});

// Bad setups -------------------------------------------------------------------

Deno.test("train: bad batch sizes, epochs and modes are rejected with clear errors", async () => {
  const model = mlp([2, 4, 2]);
  for (const batchSize of [0, -1, 1.5, NaN]) {
    await assert.rejects(
      () => train(options({ model, batchSize })),
      new RegExp(`train: batchSize must be an integer >= 1, got ${batchSize}`),
    );
  }
  for (const epochs of [0, -3, 2.5]) {
    await assert.rejects(
      () => train(options({ model, epochs })),
      new RegExp(`train: epochs must be an integer >= 1, got ${epochs}`),
    );
  }
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => train(options({ model, onNonFinite: "ignore" as any })),
    /onNonFinite must be "stop" or "record", got "ignore"/,
  );
  await assert.rejects(
    () => train(options({ model: new Sequential([new ReLU()]) })),
    /train: the model has no parameters/,
  );
});

Deno.test("train: a dataset that does not fit the model or the loss is rejected before training", async () => {
  await assert.rejects(
    () => train(options({ model: mlp([3, 4, 2]) })),
    /training set "xor" has 2 features but the model's first layer with weights \(linear1\) expects 3/,
  );
  const wide: Dataset = { ...xor(8), name: "wide", features: 4, count: 4 };
  await assert.rejects(
    () => train(options({ model: mlp([4, 2]), validation: xor(8) })),
    /training set "xor" has 2 features/,
  );
  await assert.rejects(
    () => train(options({ model: mlp([2, 2]), validation: wide })),
    /validation set "wide" has 4 features but the model's first layer with weights \(linear1\) expects 2/,
  );
  await assert.rejects(
    () => train(options({ model: mlp([2, 2]), train: { ...xor(8), count: 5 } })),
    /training set "xor": 16 input values for 5 examples of 2 features/,
  );
  // A loss that needs class labels, given a regression dataset.
  await assert.rejects(
    () => train(options({ model: mlp([1, 2]), train: line() })),
    /softmax-cross-entropy needs class labels, but training set "line" has none/,
  );
  await assert.rejects(
    () => evaluate(mlp([1, 2]), new SoftmaxCrossEntropy(), line()),
    /softmax-cross-entropy needs class labels, but evaluate "line" has none/,
  );
  const bare: Dataset = { name: "bare", inputs: new Float32Array(4), count: 2, features: 2 };
  await assert.rejects(
    () => train(options({ model: mlp([2, 1]), loss: new MeanSquaredError(), train: bare })),
    /mean-squared-error needs targets, but training set "bare" has none/,
  );
  // Dense targets of the wrong width fail at the first step, naming both shapes.
  await assert.rejects(
    () => train(options({ model: mlp([1, 3]), loss: new MeanSquaredError(), train: line() })),
    /mean-squared-error: output \[16, 3\] and target \[16, 1\] must both be \[batch, outputs\]/,
  );
});

// Non-finite losses ------------------------------------------------------------

function divergingRegression(overrides: Partial<TrainOptions> = {}): TrainOptions {
  return {
    model: mlp([1, 8, 1], { seed: 1 }),
    loss: new MeanSquaredError(),
    optimizer: new SGD({ learningRate: 3 }), // far too large: the weights blow up
    train: line(),
    epochs: 50,
    batchSize: 8,
    progress: "none",
    ...overrides,
  };
}

Deno.test("train: a huge learning rate stops with NonFiniteLossError naming the step and the layer", async () => {
  const error = await train(divergingRegression()).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof NonFiniteLossError, `${error}`);
  assert.equal(error.report.step, 5);
  assert.equal(error.report.epoch, 2);
  assert.equal(error.report.where, "output of linear2");
  assert.match(
    error.message,
    /^training stopped: the loss became non-finite at step 5 \(epoch 2\); first non-finite value: output of linear2\./,
  );
  assert.match(error.report.detail, /of 8 values are NaN or infinite/);

  // One step earlier everything was still finite.
  const before = await train(divergingRegression({ maxSteps: 4 }));
  assert.ok(before.epochs.every((e) => Number.isFinite(e.trainLoss)));
  assert.equal(before.nonFinite, undefined);
});

Deno.test("train: an overflow in the first layer is reported there, at step 1", async () => {
  const huge: Dataset = { ...xor(8), name: "huge", inputs: xor(8).inputs.map((v) => v * 1e10) };
  const model = mlp([2, 4, 2], { weightInit: { name: "constant", value: 1e30 } });
  const error = await train(options({ model, train: huge, batchSize: 4 })).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof NonFiniteLossError, `${error}`);
  assert.equal(error.report.step, 1);
  assert.equal(error.report.where, "output of linear1");
  assert.match(error.message, /at step 1 \(epoch 1\); first non-finite value: output of linear1/);
});

Deno.test("train: the naive softmax with huge inputs stops at step 1 in the loss; 'record' keeps going", async () => {
  const huge: Dataset = { ...xor(), name: "xor×1000", inputs: xor().inputs.map((v) => v * 1000) };
  const setup = (onNonFinite: "stop" | "record", loss: Loss = new NaiveSoftmaxCrossEntropy()) =>
    options({
      model: mlp([2, 8, 2], { seed: 1 }),
      train: huge,
      loss,
      optimizer: new SGD({ learningRate: 0.1 }),
      epochs: 3,
      onNonFinite,
    });

  const error = await train(setup("stop")).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof NonFiniteLossError, `${error}`);
  assert.equal(error.name, "NonFiniteLossError");
  assert.equal(error.report.step, 1);
  assert.equal(error.report.where, "the loss (naive-softmax-cross-entropy (exp/sum, float32))");
  assert.match(
    error.report.detail,
    /Every layer's output was finite but the loss was NaN\. The largest \|output\| was \d/,
  );

  const recorded = await train(setup("record"));
  assert.equal(recorded.epochs.length, 3, "training went on");
  assert.equal(recorded.epochs.at(-1)!.steps, 12);
  assert.ok(recorded.nonFinite, "history.nonFinite is set");
  assert.equal(recorded.nonFinite.step, 1);
  assert.equal(recorded.nonFinite.epoch, 1);
  assert.match(recorded.nonFinite.where, /^the loss/);
  assert.ok(Number.isNaN(recorded.epochs[0].trainLoss));

  // The stable loss on the same data stays finite.
  const stable = await train(setup("stop", new SoftmaxCrossEntropy()));
  assert.ok(stable.epochs.every((e) => Number.isFinite(e.trainLoss)));
});

Deno.test("trainFullBatch: one step per record on the whole set, in order; the curve ends at evaluate()", async () => {
  const data = blobs(60);
  const setup = () => ({
    model: mlp([2, 8, 3], { seed: 4 }),
    loss: new SoftmaxCrossEntropy(),
    optimizer: new SGD({ learningRate: 0.2 }),
    train: data,
  });
  const full = setup();
  const before = await evaluate(full.model, full.loss, data);
  const result = await trainFullBatch({ ...full, steps: 5 });
  assert.equal(result.epochs.length, 5);
  assert.deepEqual(result.epochs.map((e) => e.steps), [1, 2, 3, 4, 5]);
  assert.equal(result.losses.length, 6);
  assertClose(result.losses[0], before.loss, 1e-6, "the first loss is the loss before any update");
  const after = await evaluate(full.model, full.loss, data);
  assert.equal(result.final.loss, after.loss);
  assert.equal(result.losses[5], after.loss);
  assert.ok(result.losses[5] < result.losses[0], "the loss falls");
  // The same as train() with batch = count and no shuffling, whatever the seed.
  const byHand = setup();
  const history = await train({
    ...byHand,
    epochs: 5,
    batchSize: data.count,
    shuffle: false,
    seed: 9,
    progress: "none",
  });
  assert.deepEqual(withoutTimes(history), withoutTimes(result));
  assert.deepEqual(
    await byHand.model.parameters()[0].value.data(),
    await full.model.parameters()[0].value.data(),
  );
  await assert.rejects(
    () => trainFullBatch({ ...setup(), steps: 0 }),
    /trainFullBatch: steps must be an integer >= 1, got 0/,
  );
});
