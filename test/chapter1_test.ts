/**
 * Chapter 1's claims, on budgets that run in seconds. The claims about the
 * full runs (two epochs to reproduce, six to fix) are in test/full/chapter1.full.ts (run by CI).
 */
import assert from "node:assert/strict";
import {
  accuracy,
  accuracyLowerBound,
  allZeroRowFraction,
  argmaxRows,
  broadcastAccuracy,
  buildModel,
  deadLogitClasses,
  LN10,
  LN2,
  loadChapterData,
  measure,
  permutationTest,
  reluLogitSweep,
} from "../chapters/chapter1.ts";
import { Random } from "../lib/random.ts";

const data = await loadChapterData({ trainCount: 3000 });

Deno.test("the split is balanced: 1,000 test images per class", () => {
  const counts = new Array(10).fill(0);
  for (const label of data.test.labels!) counts[label]++;
  assert.deepEqual(counts, new Array(10).fill(1000));
});

Deno.test("the broadcast metric prints 0.1 on balanced labels, whatever the predictions", () => {
  const labels = data.test.labels!;
  const random = new Random(7);
  const cases = {
    perfect: Int32Array.from(labels),
    allClassZero: new Int32Array(labels.length),
    random: Int32Array.from(labels, () => random.integer(10)),
  };
  for (const [name, predictions] of Object.entries(cases)) {
    assert.ok(Math.abs(broadcastAccuracy(predictions, labels) - 0.1) < 0.001, name);
  }
  assert.equal(accuracy(cases.perfect, labels), 1);
  assert.equal(accuracy(cases.allClassZero, labels), 0.1);
});

Deno.test("the broadcast metric counts pairs: hand-computed on 4 examples", () => {
  // predictions [0, 0, 1, 2], labels [0, 1, 1, 1]: pairs equal = 2·1 (class 0) + 1·3 (class 1) = 5 of 16.
  assert.equal(broadcastAccuracy([0, 0, 1, 2], [0, 1, 1, 1]), 5 / 16);
  assert.equal(accuracy([0, 0, 1, 2], [0, 1, 1, 1]), 2 / 4);
});

Deno.test("the permutation test separates the metrics", () => {
  const labels = data.test.labels!;
  const perfect = Int32Array.from(labels);
  const correct = permutationTest(accuracy, perfect, labels, 5, 0);
  const broken = permutationTest(broadcastAccuracy, perfect, labels, 5, 0);
  assert.equal(correct.observed, 1);
  assert.ok(Math.abs(correct.shuffledMean - 0.1) < 0.01, `shuffled ${correct.shuffledMean}`);
  assert.equal(broken.largestChange, 0);
});

Deno.test("the accuracy bound: a misclassified example costs at least ln 2", () => {
  assert.equal(accuracyLowerBound(0), 1);
  assert.ok(Math.abs(accuracyLowerBound(LN2 / 2) - 0.5) < 1e-12);
  assert.equal(accuracyLowerBound(5), 0);
  // Tight case: one example at p_true = 1/2 (loss ln 2) is the most a wrong argmax can have.
  assert.ok(Math.abs(accuracyLowerBound(LN2) - 0) < 1e-12);
});

Deno.test("all-zero rows and dead classes, by hand", () => {
  const rows = [
    new Float32Array([0, 0, 0]),
    new Float32Array([0, 2, 0]),
    new Float32Array([0, 0, 0]),
  ];
  assert.equal(allZeroRowFraction(rows), 2 / 3);
  assert.deepEqual(deadLogitClasses(rows), [0, 2]);
  assert.deepEqual(Array.from(argmaxRows(rows)), [0, 1, 0]);
});

Deno.test("loss at initialisation is 2.440 for seed 0 (ln 10 = 2.303 would be uniform)", async () => {
  for (const logits of ["relu", "linear"] as const) {
    const m = await measure(buildModel({ logits, epochs: 0, seed: 0 }), data.validation, 0);
    const expected = logits === "relu" ? 2.440 : 2.508;
    assert.ok(Math.abs(m.validationLoss - expected) < 0.005, `${logits}: ${m.validationLoss}`);
    assert.ok(m.validationLoss > LN10, "a random net is a little worse than uniform");
    assert.equal(m.broadcastAccuracy.toFixed(4), "0.1000");
  }
});

Deno.test("on 3,000 examples, one epoch at learning rate 0.01 (seed 1): ReLU logits lose classes", async () => {
  const small = await loadChapterData({ trainCount: 3000 });
  const rows = await reluLogitSweep(small, { seeds: [1], learningRate: 0.01, epochs: 1 });
  const relu = rows.find((r) => r.logits === "relu")!;
  const linear = rows.find((r) => r.logits === "linear")!;
  assert.ok(relu.allZeroRows > 0.05, `all-zero rows ${relu.allZeroRows}`);
  assert.ok(relu.deadClasses.length >= 1, `dead classes ${relu.deadClasses}`);
  assert.ok(
    relu.testAccuracy < linear.testAccuracy - 0.05,
    `${relu.testAccuracy} vs ${linear.testAccuracy}`,
  );
  assert.equal(linear.allZeroRows, 0);
  assert.ok(linear.testAccuracy > 0.7, `linear ${linear.testAccuracy}`);
});
