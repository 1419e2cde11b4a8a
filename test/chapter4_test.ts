/**
 * Chapter 4's claims on quick budgets (a few dozen steps on seeds 0-2), and its verdict
 * functions fed the recorded evidence and evidence that flips them. The full-budget claims are
 * in test/full/chapter4.full.ts.
 */
import assert from "node:assert/strict";
import {
  adviceVerdict,
  ANSWER,
  BUDGETS,
  buildNetwork,
  correlation,
  countParameters,
  countVerdict,
  layerReading,
  loadChapterData,
  mechanismVerdict,
  memorisationVerdict,
  RELU_SGD,
  runSetting,
  type RunSummary,
  seedsFrom,
  SIGMOID_ADAM,
  SIGMOID_SGD,
  summariseRun,
  VISIBLE_SPREAD,
} from "../chapters/chapter4.ts";
import { cpu } from "../lib/backend/mod.ts";
import { SoftmaxCrossEntropy } from "../lib/losses.ts";

const data = await loadChapterData();
const quick = { steps: 40, batchSize: 16, snapshots: 2, curveRows: 100 };

Deno.test("the count: 277,500 weights and 1,005 biases, 278,505 parameters, from the model", () => {
  const count = countParameters(buildNetwork(SIGMOID_SGD, 0));
  assert.deepEqual(count, { weights: 277_500, biases: 1_005, total: 278_505 });
  assert.equal(50 + 500 + 500 + 5, ANSWER.claimedNeurons, '"1,055 neurons" counts the inputs');
});

Deno.test("the data: 30,000 / 5,000 rows of 50 unit-variance components keeping about 89%", () => {
  assert.equal(data.train.count, 30_000);
  assert.equal(data.test.count, 5_000);
  assert.equal(data.train.features, 50);
  assert.ok(
    data.explainedVariance > 0.885 && data.explainedVariance < 0.892,
    `${data.explainedVariance}`,
  );
  for (const component of [0, 25, 49]) {
    let m = 0, s = 0;
    for (let r = 0; r < 30_000; r++) m += data.train.inputs[r * 50 + component] / 30_000;
    for (let r = 0; r < 30_000; r++) s += (data.train.inputs[r * 50 + component] - m) ** 2;
    assert.ok(Math.abs(m) < 1e-3 && Math.abs(s / 29_999 - 1) < 1e-3, `component ${component}`);
  }
});

Deno.test("softmax cross-entropy: Σ_k ∂L/∂z_k = 0 in every row, so Σ_k ∂L/∂b_k = 0", async () => {
  const logits = cpu.fromValues([3, -1, 0.5, 2, 9, -4, 0, 0, 1], [3, 3], "float32");
  const labels = cpu.fromValues([0, 2, 1], [3], "float32");
  const loss = new SoftmaxCrossEntropy();
  loss.forward(logits, labels);
  const dz = await loss.backward().data();
  for (let row = 0; row < 3; row++) {
    const sum = dz[row * 3] + dz[row * 3 + 1] + dz[row * 3 + 2];
    assert.ok(Math.abs(sum) < 1e-7, `row ${row}: ${sum}`);
  }
});

// Quick runs on seeds 0-2: sigmoid SGD (the picture), and Adam (which breaks the invariant).
const sigmoidRuns: RunSummary[] = [];
const topHiddenPerStep: number[][] = [];
for (const seed of seedsFrom(0, 3)) {
  const run = await runSetting(data, SIGMOID_SGD, seed, 30_000, quick);
  sigmoidRuns.push(summariseRun(run));
  topHiddenPerStep.push(run.topHiddenMean);
}
const adamRun = summariseRun(await runSetting(data, SIGMOID_ADAM, 0, 30_000, quick));
const reluRun = summariseRun(await runSetting(data, RELU_SGD, 0, 30_000, quick));

Deno.test("under SGD the output biases' mean never moves; under Adam it does", () => {
  for (const run of sigmoidRuns) {
    assert.ok(run.largestGradientSum < 1e-6, `seed ${run.seed}: Σ ∂L/∂b ${run.largestGradientSum}`);
    assert.ok(run.outputMeanDrift < 1e-5, `seed ${run.seed}: drift ${run.outputMeanDrift}`);
    assert.ok(run.biasSpread[2] > 0.1, `seed ${run.seed}: the biases do spread`);
  }
  // Adam divides each coordinate by its own RMS, which breaks Σ Δb_k = 0: 100x the SGD bound.
  assert.ok(adamRun.outputMeanDrift > 1e-4, `Adam drift ${adamRun.outputMeanDrift}`);
});

Deno.test("within 40 steps, sigmoid SGD moves the output biases 10x more than the hidden ones", () => {
  for (const run of sigmoidRuns) {
    const [first, second, output] = run.biasSpread;
    assert.ok(output > 10 * Math.max(first, second), `seed ${run.seed}: ${run.biasSpread}`);
    assert.ok(Math.max(first, second) < VISIBLE_SPREAD, `seed ${run.seed}: ${run.biasSpread}`);
    assert.ok(run.gradientRatio > 20, `seed ${run.seed}: gradient ratio ${run.gradientRatio}`);
  }
});

Deno.test("the top sigmoid layer drops from a mean of 0.5 to below 0.15 within 10 steps", () => {
  for (const [i, run] of sigmoidRuns.entries()) {
    assert.ok(
      Math.abs(run.topHidden.first - 0.5) < 0.02,
      `seed ${run.seed}: ${run.topHidden.first}`,
    );
    const atStep10 = topHiddenPerStep[i][9];
    assert.ok(atStep10 < 0.15, `seed ${run.seed}: ${atStep10} at step 10`);
  }
});

Deno.test("ReLU with He weights: the ratio of output to hidden bias gradients is smaller", () => {
  assert.ok(
    reluRun.gradientRatio < Math.min(...sigmoidRuns.map((r) => r.gradientRatio)),
    `ReLU ${reluRun.gradientRatio}`,
  );
});

Deno.test("correlation: +1, −1 and a known value", () => {
  assert.ok(Math.abs(correlation([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
  assert.ok(Math.abs(correlation([1, 2, 3], [3, 2, 1]) + 1) < 1e-12);
  assert.ok(Math.abs(correlation([1, 2, 3, 4], [1, 3, 2, 4]) - 0.8) < 1e-12);
  assert.throws(() => correlation([1], [1]), /same length >= 2/);
});

Deno.test("BUDGETS: full and smoke share one shape; smoke is smaller", () => {
  assert.deepEqual(Object.keys(BUDGETS.full).sort(), Object.keys(BUDGETS.smoke).sort());
  assert.ok(BUDGETS.smoke.run.steps < BUDGETS.full.run.steps);
  assert.ok(BUDGETS.full.seedCount >= 3, "a claim on random draws is measured on >= 3 seeds");
});

// Verdicts: the recorded evidence, and evidence that flips each one.

Deno.test("count verdict: 6.25M is wrong; a count within 10% would be right", () => {
  const counted = { counted: 278_505, weights: 277_500 };
  assert.equal(countVerdict({ claimed: 6_250_000, ...counted }).verdict, "wrong");
  assert.match(countVerdict({ claimed: 6_250_000, ...counted }).reason, /22\.4 times/);
  assert.equal(countVerdict({ claimed: 280_000, ...counted }).verdict, "right");
  assert.equal(countVerdict({ claimed: 500_000, ...counted }).verdict, "partly right");
});

Deno.test("layer reading: only the output moving fits the 0-based reading; flips with linear2", () => {
  // The recorded evidence of seeds 0-2 at the full budget.
  const recorded = {
    spreads: [[0.0069, 0.0093, 1.17], [0.0091, 0.0109, 0.953], [0.0084, 0.0125, 1.49]],
  };
  assert.equal(layerReading(recorded).reading, "output layer (0-based)");
  const hidden = { spreads: [[0.01, 0.3, 0.02], [0.01, 0.2, 0.01], [0.01, 0.5, 0.03]] };
  assert.equal(layerReading(hidden).reading, "second hidden layer (1-based)");
  const flat = { spreads: [[0.01, 0.01, 0.01]] };
  assert.equal(layerReading(flat).reading, "neither");
});

Deno.test("mechanism verdict: biases moving without overfitting make it wrong; flips when they track overfitting", () => {
  const recorded = {
    largeGap: [0.018, 0.017, 0.011],
    largeSpread: [1.17, 0.953, 1.49],
    smallGap: [0.12, 0.14, 0.11],
    smallSpread: [1.05, 1.24, 1.37],
  };
  assert.equal(mechanismVerdict(recorded).verdict, "wrong");
  const tracks = { ...recorded, largeSpread: [0.01, 0.02, 0.01] };
  assert.equal(mechanismVerdict(tracks).verdict, "right");
  const bothOverfit = { ...recorded, largeGap: [0.1, 0.1, 0.1], largeSpread: [0.01, 0.02, 0.5] };
  assert.equal(mechanismVerdict(bothOverfit).verdict, "partly right");
});

Deno.test("memorisation verdict: zeroing the biases costs the overfit net no more, so wrong; flips", () => {
  // The recorded evidence of seeds 0-2 at the full budget.
  const recorded = {
    smallTrain: [0.946, 0.91, 0.928],
    smallTrainWithoutBias: [0.852, 0.928, 0.928],
    largeTrain: [0.825, 0.675, 0.664],
    largeTrainWithoutBias: [0.642, 0.679, 0.55],
    largestClassShare: 0.2,
  };
  assert.equal(memorisationVerdict(recorded).verdict, "wrong");
  const undone = { ...recorded, smallTrainWithoutBias: [0.5, 0.6, 0.55] };
  assert.equal(memorisationVerdict(undone).verdict, "partly right");
  assert.match(memorisationVerdict(undone).reason, /more in the network that memorised/);
});

Deno.test("advice verdict: right when the curves separate the regimes, partly right when not", () => {
  assert.equal(
    adviceVerdict({ smallGap: [0.12, 0.14, 0.11], largeGap: [0.018, 0.017, 0.011] }).verdict,
    "right",
  );
  assert.equal(
    adviceVerdict({ smallGap: [0.01, 0.12, 0.09], largeGap: [0.01, 0, -0.01] }).verdict,
    "partly right",
  );
});
