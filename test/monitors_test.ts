/**
 * Monitors measure what they claim: dead ReLU units, saturated sigmoids,
 * gradient norms, the update:weight ratio, histogram snapshots.
 */
import assert from "node:assert/strict";
import {
  activationMonitor,
  cpu,
  gradientMonitor,
  histogramMonitor,
  layerStatistics,
  Linear,
  mlp,
  MonitorLog,
  Random,
  ReLU,
  rowsFor,
  Sequential,
  SGD,
  SoftmaxCrossEntropy,
  tensor,
  train,
  type TrainOptions,
} from "../lib/mod.ts";
import type { Dataset } from "../lib/data/dataset.ts";

/** Points and their mirror images: every unit with non-zero weights and zero bias fires on one of a pair. */
function mirrored(count = 32, features = 2, seed = 0): Dataset {
  const random = new Random(seed);
  const inputs = new Float32Array(count * features), labels = new Uint8Array(count);
  for (let i = 0; i < count; i += 2) {
    for (let j = 0; j < features; j++) {
      const v = random.normal();
      inputs[i * features + j] = v;
      inputs[(i + 1) * features + j] = -v;
    }
    labels[i] = 0;
    labels[i + 1] = 1;
  }
  return { name: "mirrored", inputs, count, features, labels, classes: 2 };
}

function options(overrides: Partial<TrainOptions> & Pick<TrainOptions, "model">): TrainOptions {
  return {
    loss: new SoftmaxCrossEntropy(),
    optimizer: new SGD({ learningRate: 0.1 }),
    train: mirrored(),
    epochs: 2,
    batchSize: 8,
    progress: "none",
    ...overrides,
  };
}

Deno.test("layerStatistics: dead fraction is 1 with a very negative bias, 0 for a healthy ReLU layer", async () => {
  const data = mirrored(64);
  const dead = mlp([2, 10, 2], { seed: 1, biasInit: { name: "constant", value: -100 } });
  const deadStats = await layerStatistics(dead, data);
  assert.deepEqual(deadStats.map((s) => s.layer), ["linear1", "relu1", "linear2"]);
  assert.equal(deadStats[1].deadFraction, 1);
  assert.equal(deadStats[1].mean, 0);
  assert.equal(deadStats[1].std, 0);
  assert.equal(
    deadStats[0].deadFraction,
    undefined,
    "only ReLU-family layers have a dead fraction",
  );

  const healthy = mlp([2, 10, 2], { seed: 1 });
  const healthyStats = await layerStatistics(healthy, data);
  assert.equal(healthyStats[1].deadFraction, 0);

  // Half dead: a hand-made layer where 2 of 4 units have a hugely negative bias.
  const layer = new Linear(2, 4);
  cpu.assign(layer.bias.value, tensor([0, -100, 0, -100], [4]));
  const half = await layerStatistics(new Sequential([layer, new ReLU()]), data);
  assert.equal(half[1].deadFraction, 0.5);
});

Deno.test("layerStatistics: mean, std and max |value| of each output, by hand; a probe tensor is left alone", async () => {
  const layer = new Linear(1, 2);
  cpu.assign(layer.weight.value, tensor([1, -1], [1, 2]));
  const model = new Sequential([layer, new ReLU()]);
  const probe = tensor([1, 2, 3], [3, 1]);
  const [linear, relu] = await layerStatistics(model, probe);
  // linear1 outputs [1, −1, 2, −2, 3, −3]: mean 0, std √(28/6), max |·| 3
  assert.equal(linear.mean, 0);
  assert.ok(Math.abs(linear.std - Math.sqrt(28 / 6)) < 1e-12);
  assert.equal(linear.maxAbs, 3);
  // relu1 outputs [1, 0, 2, 0, 3, 0]; the second unit never fires.
  assert.equal(relu.mean, 1);
  assert.equal(relu.deadFraction, 0.5);
  assert.equal(probe.disposed, false, "the caller's probe tensor must survive");
  assert.deepEqual(Array.from(await probe.data()), [1, 2, 3]);
});

Deno.test("layerStatistics: saturated fraction is high for sigmoid/tanh with huge weights, 0 with small ones", async () => {
  const data = mirrored(64, 4);
  for (const activation of ["sigmoid", "tanh"] as const) {
    const huge = mlp([4, 32, 2], { seed: 2, activation, weightInit: { name: "normal", std: 100 } });
    const hugeStats = await layerStatistics(huge, data);
    assert.equal(hugeStats[1].kind, activation);
    assert.ok(
      hugeStats[1].saturatedFraction! > 0.95,
      `${activation}: ${hugeStats[1].saturatedFraction}`,
    );
    const small = mlp([4, 32, 2], {
      seed: 2,
      activation,
      weightInit: { name: "normal", std: 0.01 },
    });
    assert.equal((await layerStatistics(small, data))[1].saturatedFraction, 0);
  }
});

Deno.test("activationMonitor: rows per layer at step 1 and every `every` steps, with dead fractions", async () => {
  const log = new MonitorLog();
  const model = mlp([2, 8, 2], { seed: 3, biasInit: { name: "constant", value: -100 } });
  await train(
    options({ model, epochs: 2, hooks: [activationMonitor(mirrored(), { log, every: 3 })] }),
  );
  // 32 examples in batches of 8: steps 1..8; measured at 1, 3, 6.
  const dead = log.select("dead-fraction", "relu1");
  assert.deepEqual(dead.map((r) => r.step), [1, 3, 6]);
  assert.ok(dead.every((r) => r.value === 1), "a dead layer stays dead: its gradient is 0");
  assert.deepEqual(dead.map((r) => r.epoch), [1, 1, 2]);
  assert.equal(log.last("dead-fraction", "relu1"), 1);
  assert.equal(log.last("dead-fraction", "linear1"), undefined);
  assert.deepEqual([...new Set(log.select("activation-mean").map((r) => r.layer))], [
    "linear1",
    "relu1",
    "linear2",
  ]);
  assert.deepEqual(log.select("max-abs-output").map((r) => r.layer), [
    "linear2",
    "linear2",
    "linear2",
  ]);
  assert.deepEqual(rowsFor(log, "dead-fraction")[0], { step: 1, layer: "relu1", value: 1 });
});

Deno.test("gradientMonitor: a zero-initialised ReLU net's first layer has gradient norm exactly 0", async () => {
  const log = new MonitorLog();
  const model = mlp([2, 6, 2], { weightInit: "zeros" });
  // All labels 0, so that the output bias has something to learn from uniform logits.
  const oneClass = { ...mirrored(), labels: new Uint8Array(32) };
  await train(
    options({ model, train: oneClass, epochs: 1, hooks: [gradientMonitor({ log, every: 1 })] }),
  );
  const at = (name: string, step = 1) =>
    log.select("gradient-norm", name).find((r) => r.step === step)!.value;
  assert.equal(at("linear1.weight"), 0);
  assert.equal(at("linear1.bias"), 0);
  assert.equal(at("linear2.weight"), 0, "the hidden activations are all 0");
  assert.ok(at("linear2.bias") > 0, "only the output bias learns");
  assert.equal(log.select("weight-norm", "linear1.weight")[0].value, 0);
  // Nothing ever moves the first layer: every later step is 0 too.
  assert.ok(log.select("gradient-norm", "linear1.weight").every((r) => r.value === 0));
  assert.ok(log.select("update-ratio", "linear1.weight").every((r) => r.value === 0));
});

Deno.test("gradientMonitor: with plain SGD the update ratio is lr·‖g‖/‖w‖", async () => {
  const log = new MonitorLog();
  const learningRate = 0.05;
  const model = mlp([2, 6, 2], { seed: 4 });
  await train(
    options({
      model,
      optimizer: new SGD({ learningRate }),
      epochs: 2,
      hooks: [gradientMonitor({ log, every: 2 })],
    }),
  );
  const ratios = log.select("update-ratio");
  assert.deepEqual([...new Set(ratios.map((r) => r.step))], [1, 2, 4, 6, 8]);
  let compared = 0;
  for (const row of ratios) {
    const gradient = log.select("gradient-norm", row.layer).find((r) => r.step === row.step)!.value;
    const weight = log.select("weight-norm", row.layer).find((r) => r.step === row.step)!.value;
    if (weight === 0) {
      // The biases start at 0: any update is infinitely large relative to them.
      assert.equal(row.value, gradient === 0 ? 0 : Infinity);
      continue;
    }
    const expected = learningRate * gradient / weight;
    assert.ok(
      Math.abs(row.value - expected) < 1e-4 * expected,
      `${row.layer} step ${row.step}: ${row.value} vs ${expected}`,
    );
    compared++;
  }
  assert.ok(compared >= 10, `compared ${compared} rows`);
});

Deno.test("histogramMonitor: one snapshot at the start and one per epoch", async () => {
  const log = new MonitorLog();
  const model = mlp([2, 4, 2], { seed: 5 });
  const initial = Array.from(await model.parameters()[2].value.data());
  const epochs = 3;
  await train(
    options({
      model,
      epochs,
      hooks: [histogramMonitor(["linear2.weight", "linear1.bias"], { log })],
    }),
  );
  assert.equal(log.snapshots.length, 2 * (epochs + 1));
  const weights = log.snapshots.filter((s) => s.parameter === "linear2.weight");
  assert.equal(weights.length, epochs + 1);
  assert.deepEqual(weights.map((s) => s.step), [0, 4, 8, 12]);
  assert.deepEqual(weights.map((s) => s.epoch), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(weights[0].values), initial);
  assert.deepEqual(
    Array.from(weights.at(-1)!.values),
    Array.from(await model.parameters()[2].value.data()),
  );

  // everySteps adds snapshots inside epochs without doubling the one at an epoch's end.
  const stepped = new MonitorLog();
  await train(
    options({
      model: mlp([2, 4, 2]),
      epochs: 2,
      hooks: [histogramMonitor(["linear1.weight"], { log: stepped, everySteps: 3 })],
    }),
  );
  assert.deepEqual(stepped.snapshots.map((s) => s.step), [0, 3, 4, 6, 8]);

  await assert.rejects(
    () =>
      train(
        options({ model: mlp([2, 4, 2]), hooks: [histogramMonitor(["linear9.weight"], { log })] }),
      ),
    /histogramMonitor: no parameter "linear9.weight"; the model has linear1.weight, linear1.bias, linear2.weight, linear2.bias/,
  );
});
