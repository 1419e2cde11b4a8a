// Keras' layers, losses and optimisers as the doctor builds them: gradients checked in float64,
// numerics and update rules compared with what tf.keras 2 documents.
import assert from "node:assert/strict";
import { gradcheckLayer, gradcheckLoss, tensor } from "../../lib/mod.ts";
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
} from "../../lib/doctor/keras.ts";
import { Random } from "../../lib/random.ts";

const f64 = { dtype: "float64" as const };
const random = new Random(7);
const normals = (n: number, scale = 1) => Array.from({ length: n }, () => scale * random.normal());
// Values kept away from the kinks at 0 (ELU's second derivative jumps there; MAE's and hinge's slope).
const awayFromZero = (n: number) => normals(n).map((v) => (Math.abs(v) < 0.05 ? v + 0.2 : v));

Deno.test("ELU, SELU, Softplus and batch normalisation pass a float64 gradient check", () => {
  for (const layer of [new ELU(0.7), new SELU(), new Softplus()]) {
    const report = gradcheckLayer(layer, tensor(awayFromZero(12), [3, 4], f64));
    assert.ok(report.passed, `${layer.kind}: ${report.maxRelativeError}`);
  }
  const norm = new BatchNormalization(4, 0.99, 1e-3, undefined, "float64");
  const report = gradcheckLayer(norm, tensor(normals(20, 3), [5, 4], f64));
  assert.ok(report.passed, `batchnorm: ${report.maxRelativeError}`);
});

Deno.test("SELU's constants keep a standard normal input near mean 0, variance 1", async () => {
  const x = tensor(normals(20000), [2000, 10]);
  const y = Array.from(await new SELU().forward(x).data());
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  const variance = y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `${mean} ${variance}`);
});

Deno.test("dropout keeps the expected activation in training and is the identity in evaluation", async () => {
  const dropout = new Dropout(0.25, 3);
  const x = tensor(new Array(40000).fill(1), [400, 100]);
  const y = await dropout.forward(x).data();
  const kept = y.filter((v) => v > 0);
  assert.ok(Math.abs(kept.length / y.length - 0.75) < 0.01);
  assert.ok(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6));
  dropout.training = false;
  assert.deepEqual(await dropout.forward(x).data(), await x.data());
});

Deno.test("batch normalisation: batch statistics in training, moving averages in evaluation", async () => {
  const norm = new BatchNormalization(2, 0.5);
  const x = tensor([1, 10, 3, 30], [2, 2]); // means 2 and 20, variances 1 and 100
  const y = await norm.forward(x).data();
  assert.ok(Math.abs(y[0] + 1) < 1e-3 && Math.abs(y[2] - 1) < 1e-3, `${y}`);
  assert.deepEqual([...await norm.movingMean.data()], [1, 10]); // 0.5·0 + 0.5·mean
  norm.training = false;
  const z = await norm.forward(tensor([1, 10], [1, 2])).data();
  // (1 − 1) / √(50.5 + 0.001)... moving variance 0.5·1 + 0.5·1 = 1 for the first feature
  assert.ok(Math.abs(z[0]) < 1e-6);
});

Deno.test("the Keras losses pass a float64 gradient check, with and without clipping", () => {
  const labels = tensor([0, 2, 1], [3], f64);
  const probabilities = tensor([0.2, 0.3, 0.5, 0.6, 0.1, 0.3, 0.25, 0.5, 0.25], [3, 3], f64);
  const unnormalised = tensor([0.4, 1.3, 0.2, 2, 0.7, 0.9, 0.3, 0.5, 1.5], [3, 3], f64);
  const targets = tensor([0, 1, 1, 0, 1, 0, 0, 1, 1], [3, 3], f64);
  const logits = tensor(awayFromZero(9), [3, 3], f64);
  const cases = [
    [new KerasProbabilityCrossEntropy(), probabilities, labels],
    [new KerasProbabilityCrossEntropy(), unnormalised, labels],
    [new KerasLogitCrossEntropy(), logits, labels],
    [new KerasBinaryCrossEntropy(), probabilities, targets],
    [new KerasBinaryCrossEntropyFromLogits(), logits, targets],
    [new KerasMeanSquaredError(), logits, targets],
    [new KerasMeanAbsoluteError(), logits, targets],
    [new KerasHinge(), logits, targets],
  ] as const;
  for (const [loss, output, target] of cases) {
    const report = gradcheckLoss(loss, output, target);
    assert.ok(report.passed, `${loss.name}: ${report.maxRelativeError}`);
  }
});

Deno.test("Keras numerics: a zero probability is clipped to 1e-7 (loss 16.1, not Infinity)", async () => {
  const loss = new KerasProbabilityCrossEntropy();
  const [value] = await loss.forward(tensor([0, 1], [1, 2]), tensor([0], [1])).data();
  // q = 1e-7 / (1e-7 + (1 − 1e-7)) = 1e-7
  assert.ok(Math.abs(value - -Math.log(1e-7)) < 0.01, `${value}`);
  const bce = new KerasBinaryCrossEntropy();
  const [b] = await bce.forward(tensor([3, -1], [1, 2]), tensor([1, 0], [1, 2])).data();
  // A ReLU output above 1 is clipped to 1 − 1e-7: the loss is that of a perfect prediction.
  assert.ok(b < 1e-6, `${b}`);
});

Deno.test("optimisers: the first update of each matches tf.keras 2's rule", async () => {
  const firstStep = async (options: ConstructorParameters<typeof KerasOptimizer>[0], g = 0.5) => {
    const w = tensor([1], [1]);
    const optimizer = new KerasOptimizer(options);
    optimizer.step([{ name: "w", value: w, grad: tensor([g], [1]) }]);
    return (await w.data())[0] - 1;
  };
  const close = (a: number, b: number, what: string) =>
    assert.ok(Math.abs(a - b) < 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  close(await firstStep({ name: "sgd", learningRate: 0.1 }), -0.05, "sgd");
  close(await firstStep({ name: "sgd", learningRate: 0.1, momentum: 0.9 }), -0.05, "momentum");
  close(
    await firstStep({ name: "sgd", learningRate: 0.1, momentum: 0.9, nesterov: true }),
    -0.05 * 1.9,
    "nesterov",
  );
  // rmsprop: a = 0.1 g², step = lr g / (√a + ε) = lr / √0.1
  close(
    await firstStep({ name: "rmsprop", learningRate: 0.01 }),
    -0.01 / Math.sqrt(0.1),
    "rmsprop",
  );
  // adam, adamax: the first step is lr in the gradient's direction
  close(await firstStep({ name: "adam", learningRate: 0.01 }), -0.01, "adam");
  close(await firstStep({ name: "adamax", learningRate: 0.01 }), -0.01, "adamax");
  // adagrad: a = 0.1 + g² = 0.35
  close(
    await firstStep({ name: "adagrad", learningRate: 0.1 }),
    -0.1 * 0.5 / Math.sqrt(0.35),
    "adagrad",
  );
  // adadelta: a = 0.05 g², Δ = √ε / √(a + ε) g
  const a = 0.05 * 0.25;
  close(
    await firstStep({ name: "adadelta", learningRate: 1 }),
    -Math.sqrt(1e-7) / Math.sqrt(a + 1e-7) * 0.5,
    "adadelta",
  );
  // clipping and decay
  close(await firstStep({ name: "sgd", learningRate: 1, clipvalue: 0.1 }), -0.1, "clipvalue");
  close(await firstStep({ name: "sgd", learningRate: 1, clipnorm: 0.2 }), -0.2, "clipnorm");
  const decayed = new KerasOptimizer({ name: "sgd", learningRate: 1, decay: 0.5 });
  decayed.iterations = 2;
  close(decayed.currentLearningRate(), 0.5, "decay");
});
