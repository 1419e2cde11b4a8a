/**
 * Conv2d, MaxPool2d, Flatten and Dropout; freezing; train/eval modes; the
 * soft-target cross-entropy both ways; the fixed-order batcher.
 */
import assert from "node:assert/strict";
import {
  Adam,
  Conv2d,
  cpu,
  Dropout,
  evaluate,
  FixedOrderBatcher,
  Flatten,
  gradcheckLayer,
  gradcheckLoss,
  Linear,
  loadWeights,
  MaxPool2d,
  type Padding,
  Random,
  ReLU,
  saveWeights,
  Sequential,
  SGD,
  ShapeError,
  ShuffledBatcher,
  SoftmaxCrossEntropy,
  SoftTargetCrossEntropy,
  train,
  trainableParameters,
} from "../lib/mod.ts";
import type { Tensor } from "../lib/tensor.ts";

function randomTensor(shape: number[], seed: number, dtype: "float32" | "float64" = "float64") {
  const random = new Random(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return cpu.fromValues(Float64Array.from({ length: size }, () => random.normal()), shape, dtype);
}

const f64 = (t: Tensor) => t.storage as Float64Array;

// Odd sizes, strides that do and do not divide, every padding kind, several channels.
const convCases: {
  input: [number, number, number, number];
  out: number;
  kernel: number | [number, number];
  stride: number | [number, number];
  padding: Padding;
  expected: [number, number];
}[] = [
  { input: [2, 5, 7, 3], out: 4, kernel: 3, stride: 1, padding: "valid", expected: [3, 5] },
  { input: [2, 5, 7, 3], out: 2, kernel: 3, stride: 2, padding: "same", expected: [3, 4] },
  { input: [1, 6, 5, 2], out: 3, kernel: [2, 3], stride: [2, 1], padding: 1, expected: [4, 5] },
  { input: [3, 4, 4, 1], out: 2, kernel: 3, stride: 1, padding: "same", expected: [4, 4] },
  { input: [1, 7, 7, 2], out: 3, kernel: 5, stride: 3, padding: "valid", expected: [1, 1] },
];

for (const c of convCases) {
  Deno.test(`Conv2d ${c.input} kernel ${c.kernel} stride ${c.stride} padding ${c.padding}: output [${c.expected}] and gradients pass gradcheck in float64`, () => {
    const conv = new Conv2d(c.input[3], c.out, c.kernel, {
      stride: c.stride,
      padding: c.padding,
      dtype: "float64",
      biasInit: "he-normal",
      random: new Random(3),
    });
    const x = randomTensor(c.input, 7);
    assert.deepEqual(conv.forward(x).shape, [c.input[0], ...c.expected, c.out]);
    // The output is linear in x, W and b: the central difference has no truncation
    // error, so a larger step only cuts its rounding error (tiny entries failed at 1e-5).
    const report = gradcheckLayer(conv, x, { step: 1e-3 });
    assert.ok(report.passed, JSON.stringify(report.entries));
    assert.equal(report.entries.length, 3);
  });
}

Deno.test("Conv2d matches a direct sum over the window (same padding, stride 2)", () => {
  const conv = new Conv2d(2, 3, 3, {
    stride: 2,
    padding: "same",
    dtype: "float64",
    biasInit: "he-normal",
  });
  const x = randomTensor([1, 5, 5, 2], 2);
  const y = f64(conv.forward(x));
  const w = f64(conv.weight.value), b = f64(conv.bias.value), xs = f64(x);
  // out 3x3, total padding (3-1)*2+3-5 = 2, one before.
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      for (let o = 0; o < 3; o++) {
        let expected = b[o];
        for (let ky = 0; ky < 3; ky++) {
          for (let kx = 0; kx < 3; kx++) {
            const yy = i * 2 - 1 + ky, xx = j * 2 - 1 + kx;
            if (yy < 0 || yy >= 5 || xx < 0 || xx >= 5) continue;
            for (let c = 0; c < 2; c++) {
              expected += xs[(yy * 5 + xx) * 2 + c] * w[((ky * 3 + kx) * 2 + c) * 3 + o];
            }
          }
        }
        assert.ok(Math.abs(y[(i * 3 + j) * 3 + o] - expected) < 1e-12);
      }
    }
  }
});

Deno.test("col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>", () => {
  const g = {
    batch: 2,
    height: 5,
    width: 4,
    channels: 3,
    kernelHeight: 3,
    kernelWidth: 2,
    strideHeight: 2,
    strideWidth: 1,
    padTop: 1,
    padLeft: 0,
    outHeight: 3,
    outWidth: 3,
  };
  const x = randomTensor([2, 5, 4, 3], 1);
  const cols = cpu.im2col!(x, g);
  const c = randomTensor([...cols.shape], 2);
  const back = cpu.col2im!(c, g);
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  assert.ok(Math.abs(dot(f64(cols), f64(c)) - dot(f64(x), f64(back))) < 1e-10);
});

Deno.test("Conv2d reads flat rows as images when given imageSize, and its input gradient comes back flat", () => {
  const conv = new Conv2d(2, 2, 3, { padding: "same", imageSize: [3, 5], dtype: "float64" });
  const x = randomTensor([2, 30], 4);
  assert.deepEqual(conv.forward(x).shape, [2, 3, 5, 2]);
  const report = gradcheckLayer(conv, x);
  assert.ok(report.passed, JSON.stringify(report.entries));
});

Deno.test("Conv2d and MaxPool2d name the layer, the dimension and what they expected", () => {
  const conv = new Conv2d(3, 4, 3);
  assert.throws(
    () => conv.forward(randomTensor([1, 5, 5, 2], 0, "float32")),
    (e: Error) =>
      e instanceof ShapeError && /conv: expected 3 input channels/.test(e.message) &&
      /\[1, 5, 5, 2\]/.test(e.message),
  );
  assert.throws(
    () => conv.forward(randomTensor([1, 2, 5, 3], 0, "float32")),
    /conv: the input's height is 2, smaller than the 3-wide window; expected a height of at least 3/,
  );
  assert.throws(
    () => conv.forward(randomTensor([2, 75], 0, "float32")),
    /for flat rows give the layer imageSize/,
  );
  assert.throws(
    () => new Conv2d(1, 2, 3, { imageSize: [4, 4] }).forward(randomTensor([2, 15], 0, "float32")),
    /4·4·1 = 16/,
  );
  assert.throws(() => new Conv2d(1, 2, 0), /kernelSize must be a positive integer/);
  assert.throws(
    () => new Conv2d(1, 2, 3, { padding: "full" as Padding }),
    /padding must be "valid", "same"/,
  );
  assert.throws(
    () => new MaxPool2d(2).forward(randomTensor([1, 1, 4, 3], 0, "float32")),
    /maxpool: the input's height is 1/,
  );
  assert.throws(
    () => new MaxPool2d(2).forward(randomTensor([4, 3], 0, "float32")),
    /maxpool: expected images \[batch, height, width, channels\]/,
  );
  assert.throws(
    () => conv.backward(randomTensor([1, 1], 0, "float32")),
    /backward\(\) called before forward\(\)/,
  );
});

for (
  const [size, stride, padding, shape] of [
    [2, 2, "valid", [2, 5, 7, 3]],
    [3, 2, "same", [1, 5, 5, 2]],
    [3, 1, 1, [2, 4, 3, 2]],
  ] as const
) {
  Deno.test(`MaxPool2d ${size}x${size} stride ${stride} padding ${padding} on [${shape}]: gradient passes gradcheck (distinct values, no ties)`, () => {
    const pool = new MaxPool2d(size, { stride, padding });
    const x = randomTensor([...shape], 11);
    const report = gradcheckLayer(pool, x);
    assert.ok(report.passed, JSON.stringify(report.entries));
  });
}

Deno.test("MaxPool2d ties: the first maximum in scan order takes the whole gradient; padding never wins", async () => {
  const pool = new MaxPool2d(2);
  // One window, all four equal: the top-left one gets it.
  pool.forward(cpu.fromValues([3, 3, 3, 3], [1, 2, 2, 1], "float64"));
  assert.deepEqual(
    Array.from(await pool.backward(cpu.fromValues([1], [1, 1, 1, 1], "float64"))!.data()),
    [1, 0, 0, 0],
  );
  // All negative, padded by "same": the maximum is a real value, not a padded 0.
  const padded = new MaxPool2d(2, { padding: "same" });
  const y = padded.forward(cpu.fromValues([-5, -4, -3], [1, 1, 3, 1], "float64"));
  assert.deepEqual(Array.from(await y.data()), [-4, -3]);
});

Deno.test("Flatten: NHWC to rows and back; gradcheck passes", () => {
  const flatten = new Flatten();
  const x = randomTensor([2, 3, 2, 2], 5);
  assert.deepEqual(flatten.forward(x).shape, [2, 12]);
  assert.ok(gradcheckLayer(flatten, x).passed);
});

Deno.test("A small CNN (conv, relu, pool, flatten, linear) passes gradcheck end to end", () => {
  const random = new Random(1);
  const model = new Sequential([
    new Conv2d(1, 3, 3, { padding: "same", imageSize: [6, 6], dtype: "float64", random }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(3, 2, 3, { dtype: "float64", random }),
    new Flatten(),
    new Linear(2, 2, { dtype: "float64", random }),
  ]);
  const report = gradcheckLayer(model, randomTensor([2, 36], 9), { tolerance: 1e-4 });
  assert.ok(report.passed, JSON.stringify(report.entries));
});

Deno.test("Dropout: training drops about rate of the values and scales the rest; backward uses the same mask; evaluation is the identity", async () => {
  const dropout = new Dropout(0.25, { seed: 3 });
  const x = cpu.fromValues(new Float32Array(4000).fill(1), [40, 100], "float32");
  const y = await dropout.forward(x).data();
  const dropped = y.filter((v) => v === 0).length / y.length;
  assert.ok(dropped > 0.22 && dropped < 0.28, `dropped ${dropped}`);
  assert.ok(y.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
  const dx = await dropout.backward(x)!.data();
  assert.deepEqual(Array.from(dx), Array.from(y));
  dropout.training = false;
  assert.equal(dropout.forward(x), x);
  assert.throws(() => new Dropout(1), /rate is the fraction dropped, in \[0, 1\)/);
});

Deno.test("train() runs Dropout in training mode and evaluate() in evaluation mode, then restores the mode", async () => {
  const seen: boolean[] = [];
  class Spy extends Dropout {
    override forward(x: Tensor): Tensor {
      seen.push(this.training);
      return super.forward(x);
    }
  }
  const spy = new Spy(0.5);
  spy.training = false; // the caller's mode before train()
  const model = new Sequential([new Linear(2, 4), spy, new Linear(4, 2)]);
  const data = {
    name: "four",
    inputs: Float32Array.of(1, 0, 0, 1, -1, 0, 0, -1),
    count: 4,
    features: 2,
    labels: Uint8Array.of(0, 1, 0, 1),
    classes: 2,
  };
  await train({
    model,
    loss: new SoftmaxCrossEntropy(),
    optimizer: new SGD({ learningRate: 0.1 }),
    train: data,
    validation: data,
    epochs: 1,
    batchSize: 2,
    progress: "none",
  });
  assert.deepEqual(seen, [true, true, false]); // two steps, then validation
  assert.equal(spy.training, false);
  spy.training = true;
  await evaluate(model, new SoftmaxCrossEntropy(), data);
  assert.equal(seen.at(-1), false);
  assert.equal(spy.training, true);
});

Deno.test("freezing: a frozen layer's parameters get no gradient and no update; the rest train", async () => {
  const base = new Sequential([
    new Conv2d(1, 2, 3, { padding: "same", imageSize: [4, 4] }),
    new ReLU(),
    new Flatten(),
  ]);
  const head = new Linear(32, 2);
  const model = new Sequential([base, head]);
  base.freeze();
  assert.deepEqual(trainableParameters(model).map((p) => p.name), [
    "linear1.weight",
    "linear1.bias",
  ]);
  const before = await saveWeights(model);
  const random = new Random(2);
  const data = {
    name: "random",
    inputs: Float32Array.from({ length: 8 * 16 }, () => random.normal()),
    count: 8,
    features: 16,
    labels: Uint8Array.of(0, 1, 0, 1, 0, 1, 0, 1),
    classes: 2,
  };
  await train({
    model,
    loss: new SoftmaxCrossEntropy(),
    optimizer: new Adam({ learningRate: 0.01 }),
    train: data,
    epochs: 2,
    batchSize: 4,
    progress: "none",
  });
  const after = await saveWeights(model);
  const conv = base.layers[0] as Conv2d;
  assert.equal(conv.weight.grad, null);
  // (Compared by values: a nested Sequential's parameter names grow a prefix on every
  // parameters() call, a bug of sequential.ts reported to the lead.)
  const values = (saved: typeof before) => saved.parameters.map((p) => p.data);
  assert.deepEqual(values(after).slice(0, 2), values(before).slice(0, 2)); // conv: bit-identical
  assert.notDeepEqual(values(after)[2], values(before)[2]); // the head moved
  base.unfreeze();
  assert.equal(trainableParameters(model).length, 4);
  model.freeze();
  await assert.rejects(
    () =>
      train({
        model,
        loss: new SoftmaxCrossEntropy(),
        optimizer: new SGD({ learningRate: 0.1 }),
        train: data,
        epochs: 1,
        batchSize: 4,
        progress: "none",
      }),
    /every layer of the model is frozen/,
  );
});

Deno.test("saveWeights/loadWeights round-trip a CNN bit for bit", async () => {
  const make = (seed: number) =>
    new Sequential([
      new Conv2d(1, 4, 3, { padding: "same", imageSize: [6, 6], random: new Random(seed) }),
      new MaxPool2d(2),
      new Flatten(),
      new Linear(36, 3, { random: new Random(seed) }),
    ]);
  const a = make(1), b = make(2);
  const saved = JSON.parse(JSON.stringify(await saveWeights(a)));
  loadWeights(b, saved);
  const x = randomTensor([2, 36], 3, "float32");
  assert.deepEqual(Array.from(await b.forward(x).data()), Array.from(await a.forward(x).data()));
  assert.throws(
    () =>
      loadWeights(new Sequential([new Conv2d(1, 5, 3), new Flatten(), new Linear(5, 3)]), saved),
    /conv1.weight is \[9, 5\] in the model but \[9, 4\]/,
  );
});

Deno.test("SoftTargetCrossEntropy: logits gradient passes gradcheck; labels gradient passes a central difference when not stopped", () => {
  const logits = randomTensor([3, 4], 1);
  const random = new Random(5);
  const raw = Float64Array.from({ length: 12 }, () => random.uniform());
  for (let r = 0; r < 3; r++) {
    const s = raw.subarray(r * 4, r * 4 + 4).reduce((a, b) => a + b, 0);
    for (let k = 0; k < 4; k++) raw[r * 4 + k] /= s;
  }
  const labels = cpu.fromValues(raw, [3, 4], "float64");
  for (const stop of [true, false]) {
    const loss = new SoftTargetCrossEntropy({ stopGradientThroughLabels: stop });
    assert.ok(gradcheckLoss(loss, logits, labels).passed);
  }
  const loss = new SoftTargetCrossEntropy({ stopGradientThroughLabels: false });
  loss.forward(logits, labels);
  const analytic = f64(loss.labelsBackward()).slice();
  const t = f64(labels), h = 1e-5;
  for (let i = 0; i < t.length; i++) {
    const keep = t[i];
    t[i] = keep + h;
    const up = f64(loss.forward(logits, labels))[0];
    t[i] = keep - h;
    const down = f64(loss.forward(logits, labels))[0];
    t[i] = keep;
    const numeric = (up - down) / (2 * h);
    assert.ok(
      Math.abs(numeric - analytic[i]) / Math.max(1e-12, Math.abs(numeric) + Math.abs(analytic[i])) <
        1e-7,
    );
  }
  assert.throws(
    () => new SoftTargetCrossEntropy({ stopGradientThroughLabels: true }).labelsBackward(),
    /stopGradientThroughLabels: true/,
  );
  assert.throws(
    () => new SoftTargetCrossEntropy({} as never),
    /say whether gradient flows into the labels/,
  );
});

Deno.test("SoftTargetCrossEntropy with one-hot labels equals SoftmaxCrossEntropy", async () => {
  const logits = randomTensor([3, 4], 2, "float32");
  const soft = new SoftTargetCrossEntropy({ stopGradientThroughLabels: true });
  const hard = new SoftmaxCrossEntropy();
  const a =
    (await soft.forward(logits, cpu.oneHot(cpu.fromValues([0, 3, 1], [3], "float32"), 4, "float32"))
      .data())[0];
  const b = (await hard.forward(logits, cpu.fromValues([0, 3, 1], [3], "float32")).data())[0];
  assert.ok(Math.abs(a - b) < 1e-6);
});

Deno.test("FixedOrderBatcher walks in stored order and wraps without reshuffling; ShuffledBatcher is train()'s order", () => {
  const fixed = new FixedOrderBatcher(400, 32);
  assert.equal(fixed.batchesPerEpoch, 12);
  const firsts = Array.from({ length: 25 }, () => fixed.next()[0]);
  assert.deepEqual(firsts.slice(0, 13), [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 0]);
  assert.deepEqual(firsts.slice(12), firsts.slice(0, 13));
  assert.throws(() => new FixedOrderBatcher(10, 11), /batchSize 11 is larger than the 10 rows/);
  const shuffled = new ShuffledBatcher(10, 4, 7);
  const epoch = [...shuffled.next(), ...shuffled.next(), ...shuffled.next()];
  assert.deepEqual([...epoch].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(epoch, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(epoch, [...new Random(7).permutation(10)]);
});
