/**
 * Losses against hand-computed values, and the broken-on-purpose variants
 * breaking exactly as documented in float32 while the stable forms do not.
 * (Gradients are checked numerically in gradcheck_test.ts.)
 */
import assert from "node:assert/strict";
import {
  BinaryCrossEntropy,
  BinaryCrossEntropyWithLogits,
  lossByName,
  lossNames,
  MeanSquaredError,
  NaiveSoftmaxCrossEntropy,
  ops,
  ShapeError,
  SoftmaxCrossEntropy,
  type Tensor,
  tensor,
  UnclippedBinaryCrossEntropy,
} from "../lib/mod.ts";
import { assertArraysClose } from "./helpers.ts";

const f64 = { dtype: "float64" as const };

async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

Deno.test("SoftmaxCrossEntropy: mean of −log p[label]; gradient (p − onehot) / N", async () => {
  const loss = new SoftmaxCrossEntropy();
  assert.equal(loss.targetKind, "labels");
  // Row 1: p = [0.25, 0.75], label 1; row 2: p = [0.5, 0.5], label 0.
  const logits = tensor([0, Math.log(3), 7, 7], [2, 2], f64);
  const value = loss.forward(logits, tensor([1, 0], [2], f64));
  assert.deepEqual(value.shape, [1]);
  assertArraysClose(await values(value), [(-Math.log(0.75) + Math.LN2) / 2]);
  assertArraysClose(await values(loss.backward()), [0.25 / 2, -0.25 / 2, -0.5 / 2, 0.5 / 2]);
  // Uniform logits over K classes give ln K.
  const uniform = new SoftmaxCrossEntropy().forward(
    tensor(new Array(30).fill(0), [3, 10]),
    tensor([0, 4, 9], [3]),
  );
  assertArraysClose(await values(uniform), [Math.log(10)], 1e-6);
});

Deno.test("BinaryCrossEntropy: mean and sum over outputs, averaged over examples", async () => {
  const p = tensor([0.5, 0.8, 0.9, 0.25], [2, 2], f64);
  const t = tensor([1, 0, 1, 1], [2, 2], f64);
  const perElement = [-Math.log(0.5), -Math.log(0.2), -Math.log(0.9), -Math.log(0.25)];
  const total = perElement.reduce((a, b) => a + b);

  const meanLoss = new BinaryCrossEntropy();
  assert.equal(meanLoss.outputReduction, "mean");
  assert.equal(meanLoss.targetKind, "dense");
  assertArraysClose(await values(meanLoss.forward(p, t)), [total / 4]);
  // dL/dp = (p − t) / (p (1 − p)), over N·K = 4
  const gradient = [-0.5 / 0.25, 0.8 / 0.16, -0.1 / 0.09, -0.75 / 0.1875];
  assertArraysClose(await values(meanLoss.backward()), gradient.map((g) => g / 4));

  const sumLoss = new BinaryCrossEntropy({ outputReduction: "sum" });
  assertArraysClose(await values(sumLoss.forward(p, t)), [total / 2]);
  assertArraysClose(await values(sumLoss.backward()), gradient.map((g) => g / 2));

  // The documented starting point: 10 outputs at p = 0.5 give ln 2 (mean) or 10 ln 2 (sum).
  const half = tensor(new Array(40).fill(0.5), [4, 10]);
  const targets = tensor(Array.from({ length: 40 }, (_, i) => i % 2), [4, 10]);
  assertArraysClose(
    await values(new BinaryCrossEntropy().forward(half, targets)),
    [Math.LN2],
    1e-6,
  );
  assertArraysClose(
    await values(new BinaryCrossEntropy({ outputReduction: "sum" }).forward(half, targets)),
    [10 * Math.LN2],
    1e-6,
  );
});

Deno.test("BinaryCrossEntropyWithLogits: max(z,0) − zt + log(1+e^−|z|), gradient sigmoid(z) − t", async () => {
  const z = tensor([0, 2, -3, 0.5], [2, 2], f64);
  const t = tensor([1, 0, 0, 1], [2, 2], f64);
  const softplus = (v: number) => Math.log1p(Math.exp(v));
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const perElement = [softplus(0), softplus(2), softplus(-3), softplus(-0.5)];
  const loss = new BinaryCrossEntropyWithLogits();
  assertArraysClose(await values(loss.forward(z, t)), [perElement.reduce((a, b) => a + b) / 4]);
  assertArraysClose(
    await values(loss.backward()),
    [sigmoid(0) - 1, sigmoid(2), sigmoid(-3), sigmoid(0.5) - 1].map((g) => g / 4),
  );
  // It agrees with BinaryCrossEntropy on sigmoid(z), for both reductions.
  for (const outputReduction of ["mean", "sum"] as const) {
    const direct = await values(
      new BinaryCrossEntropy({ outputReduction }).forward(ops.sigmoid(z), t),
    );
    const fused = await values(new BinaryCrossEntropyWithLogits({ outputReduction }).forward(z, t));
    assertArraysClose(fused, direct, 1e-12);
  }
  // And stays finite where the sigmoid saturates in float32: ℓ(1000, 0) = 1000.
  const big = new BinaryCrossEntropyWithLogits().forward(
    tensor([1000, -1000], [1, 2]),
    tensor([0, 0], [1, 2]),
  );
  assertArraysClose(await values(big), [500], 1e-6);
});

Deno.test("MeanSquaredError: mean over all elements of (y − t)², gradient 2 (y − t) / size", async () => {
  const loss = new MeanSquaredError();
  const y = tensor([1, 2, 3, 4], [2, 2], f64);
  const t = tensor([0, 2, 5, 4], [2, 2], f64);
  assertArraysClose(await values(loss.forward(y, t)), [5 / 4]);
  assertArraysClose(await values(loss.backward()), [0.5, 0, -1, 0]);
});

Deno.test("NaiveSoftmaxCrossEntropy: NaN for a logit around 100 in float32; SoftmaxCrossEntropy is finite", async () => {
  const logits = tensor([100, 0, 0, 1, 2, 3], [2, 3]);
  const labels = tensor([0, 2], [2]);
  const naive = new NaiveSoftmaxCrossEntropy();
  const broken = await ops.scalar(naive.forward(logits, labels));
  assert.ok(Number.isNaN(broken), `expected NaN, got ${broken}`);
  // exp(100) overflowed: Infinity / Infinity is NaN, and the gradient is NaN too.
  assert.ok((await values(naive.backward())).some(Number.isNaN));

  const stable = new SoftmaxCrossEntropy();
  const fine = await ops.scalar(stable.forward(logits, labels));
  assert.ok(Number.isFinite(fine));
  // Row 1 is confidently right (≈ 0), row 2 is −log softmax([1, 2, 3])[2].
  const row2 = -(3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)));
  assertArraysClose([fine], [row2 / 2], 1e-6);
  assert.ok((await values(stable.backward())).every(Number.isFinite));

  // Below the overflow the two agree: the naive form is right on paper.
  const moderate = tensor([20, 0, -5, 1, 2, 3], [2, 3]);
  assertArraysClose(
    [await ops.scalar(new NaiveSoftmaxCrossEntropy().forward(moderate, labels))],
    [await ops.scalar(new SoftmaxCrossEntropy().forward(moderate, labels))],
    1e-6,
  );
});

Deno.test("UnclippedBinaryCrossEntropy: Infinity for a saturated sigmoid; BinaryCrossEntropy is finite", async () => {
  // In float32 sigmoid(20) is exactly 1 and sigmoid(−20) rounds to about 2e-9.
  const p = ops.sigmoid(tensor([20, -1], [1, 2]));
  assert.deepEqual((await values(p))[0], 1);
  const wrongTarget = tensor([0, 0], [1, 2]); // the saturated output is confidently wrong
  const unclipped = await ops.scalar(new UnclippedBinaryCrossEntropy().forward(p, wrongTarget));
  assert.equal(unclipped, Infinity);
  const clipped = await ops.scalar(new BinaryCrossEntropy().forward(p, wrongTarget));
  assert.ok(Number.isFinite(clipped), `clipped BCE gave ${clipped}`);
  // −log(ε) with ε = 1e-7 (in float32, 1 − 1e-7 rounds to 1 − 1.19e-7), averaged with −log(1 − σ(−1)).
  const expected = (-Math.log(1 - Math.fround(1 - 1e-7)) - Math.log(1 - 1 / (1 + Math.E))) / 2;
  assertArraysClose([clipped], [expected], 1e-5);

  // A saturated output that is right is worse still without clipping: 0 · log 0 is NaN.
  const rightTarget = tensor([1, 0], [1, 2]);
  assert.ok(
    Number.isNaN(await ops.scalar(new UnclippedBinaryCrossEntropy().forward(p, rightTarget))),
  );
  const rightLoss = new BinaryCrossEntropy();
  assert.ok(await ops.scalar(rightLoss.forward(p, rightTarget)) < 0.2);
  assert.ok((await values(rightLoss.backward())).every(Number.isFinite));
});

Deno.test("losses check shapes; labels of shape [N, 1] are called out", () => {
  const logits = tensor(new Array(12).fill(0), [4, 3]);
  assert.throws(
    () => new SoftmaxCrossEntropy().forward(logits, tensor([0, 1, 2, 0], [4, 1])),
    (e: Error) => {
      assert.ok(e instanceof ShapeError);
      assert.match(
        e.message,
        /softmax-cross-entropy: expected one class index per example, labels \[4\], got \[4, 1\]/,
      );
      assert.match(e.message, /flatten them/);
      return true;
    },
  );
  assert.throws(
    () => new NaiveSoftmaxCrossEntropy().forward(logits, tensor([0, 1], [2])),
    /naive-softmax-cross-entropy.*labels \[4\], got \[2\]/,
  );
  assert.throws(
    () => new SoftmaxCrossEntropy().forward(tensor([0, 0], [2]), tensor([0, 1], [2])),
    /expected logits \[batch, classes\], got \[2\]/,
  );
  for (
    const loss of [
      new MeanSquaredError(),
      new BinaryCrossEntropy(),
      new BinaryCrossEntropyWithLogits(),
    ]
  ) {
    assert.throws(
      () => loss.forward(logits, tensor(new Array(8).fill(0), [4, 2])),
      new RegExp(
        `${loss.name}: output \\[4, 3\\] and target \\[4, 2\\] must both be \\[batch, outputs\\]`,
      ),
    );
    assert.throws(() => loss.backward(), /backward\(\) before forward\(\)/);
  }
  assert.throws(() => new SoftmaxCrossEntropy().backward(), /backward\(\) before forward\(\)/);
});

Deno.test("lossByName: every listed name; unknown names list the choices", () => {
  const built = lossNames.map((name) => lossByName(name));
  assert.deepEqual(built.map((l) => l.constructor.name), [
    "SoftmaxCrossEntropy",
    "NaiveSoftmaxCrossEntropy",
    "BinaryCrossEntropy",
    "UnclippedBinaryCrossEntropy",
    "BinaryCrossEntropyWithLogits",
    "MeanSquaredError",
  ]);
  assert.deepEqual(built.map((l) => l.targetKind), [
    "labels",
    "labels",
    "dense",
    "dense",
    "dense",
    "dense",
  ]);
  const summed = lossByName("binary-cross-entropy", {
    outputReduction: "sum",
  }) as BinaryCrossEntropy;
  assert.equal(summed.outputReduction, "sum");
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => lossByName("hinge" as any),
    /unknown loss "hinge": choose one of softmax-cross-entropy, naive-softmax-cross-entropy, binary-cross-entropy/,
  );
});
