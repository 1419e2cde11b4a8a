/**
 * Chapter 1's claims, on budgets that run in seconds. The claims about the
 * full four-epoch runs are asserted in test/full/chapter1.full.ts (run by CI).
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
  SWEEP,
} from "../chapters/chapter1.ts";
import { Random } from "../lib/random.ts";

const data = await loadChapterData({ trainCount: SWEEP.trainCount });

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

Deno.test("ReLU logits at learning rate 0.01: every seed loses classes; linear logits never do", async () => {
  const rows = await reluLogitSweep(data, { ...SWEEP, seeds: SWEEP.seeds });
  for (const seed of SWEEP.seeds) {
    const relu = rows.find((r) => r.seed === seed && r.logits === "relu")!;
    const linear = rows.find((r) => r.seed === seed && r.logits === "linear")!;
    assert.ok(relu.allZeroRows > 0.2, `seed ${seed}: all-zero rows ${relu.allZeroRows}`);
    assert.ok(relu.deadClasses.length >= 3, `seed ${seed}: dead classes ${relu.deadClasses}`);
    assert.ok(relu.testAccuracy < linear.testAccuracy - 0.15, `seed ${seed}`);
    assert.equal(linear.allZeroRows, 0);
    assert.equal(linear.deadClasses.length, 0);
    assert.ok(linear.testAccuracy > 0.8, `seed ${seed}: linear ${linear.testAccuracy}`);
  }
  // The worst seed: seed 1 keeps only two classes alive.
  const worst = rows.find((r) => r.seed === 1 && r.logits === "relu")!;
  assert.ok(worst.testAccuracy < 0.35, `seed 1 accuracy ${worst.testAccuracy}`);
});
