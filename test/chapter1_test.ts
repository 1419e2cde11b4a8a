/**
 * Chapter 1's claims on budgets that run in seconds: the metrics by hand, each row of the
 * decision table both ways, the verdict on recorded and on flipped evidence, and a smoke run.
 * The claims about the full runs are in test/full/chapter1.full.ts (run by CI).
 */
import assert from "node:assert/strict";
import { assertClose } from "./helpers.ts";
import {
  accuracy,
  accuracyLowerBound,
  allZeroRowFraction,
  type AnswerEvidence,
  answerEvidence,
  answerVerdict,
  argmaxRows,
  batchBroadcastAccuracy,
  BEHIND_LINEAR,
  boundRow,
  broadcastAccuracy,
  BUDGETS,
  buildModel,
  completenessVerdict,
  deadLogitClasses,
  type DecisionEvidence,
  decisionEvidence,
  decisionTable,
  expectedBatchBroadcast,
  histogramRow,
  LN10,
  LN2,
  loadChapterData,
  LOSS_EXCLUDING_CHANCE,
  measure,
  permutationTest,
  reluExplainsVerdict,
  reluIsABugVerdict,
  runStory,
  seedSweep,
  showsSymptom,
  shuffledOrder,
  type SweepRow,
  sweepSeeds,
  variesRow,
  zeroRowsRow,
} from "../chapters/chapter1.ts";
import { Random } from "../lib/mod.ts";

const data = await loadChapterData({ trainCount: BUDGETS.smoke.story.trainCount });
const labels = data.test.labels!;

Deno.test("the split is balanced: 1,000 validation and 1,000 test images per class", () => {
  for (const set of [data.validation, data.test]) {
    const counts = new Array(10).fill(0);
    for (const label of set.labels!) counts[label]++;
    assert.deepEqual(counts, new Array(10).fill(1000), set.name);
  }
});

Deno.test("the N x N broadcast metric reads 0.1 on balanced labels, whatever the predictions", () => {
  const random = new Random(7);
  const cases = {
    perfect: Int32Array.from(labels),
    allClassZero: new Int32Array(labels.length),
    random: Int32Array.from(labels, () => random.integer(10)),
  };
  for (const [name, predictions] of Object.entries(cases)) {
    assertClose(broadcastAccuracy(predictions, labels), 0.1, 1e-9, name);
  }
  assert.equal(accuracy(cases.perfect, labels), 1);
  assert.equal(accuracy(cases.allClassZero, labels), 0.1);
});

/** The N x N table of `predictions == labels[:, None]`, built literally, and its mean. */
function broadcastTableMean(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  let equal = 0;
  for (let row = 0; row < labels.length; row++) {
    for (let column = 0; column < predictions.length; column++) {
      if (predictions[column] === labels[row]) equal++;
    }
  }
  return equal / (labels.length * predictions.length);
}

Deno.test("the broadcast metric is the mean of the literal N x N table", () => {
  const random = new Random(11);
  const some = Array.from({ length: 500 }, () => random.integer(10));
  const truth = Array.from({ length: 500 }, () => random.integer(10));
  assertClose(broadcastAccuracy(some, truth), broadcastTableMean(some, truth), 1e-15);
});

Deno.test("the broadcast metric counts pairs: hand-computed on 4 examples", () => {
  // predictions [0, 0, 1, 2], labels [0, 1, 1, 1]: equal pairs 2·1 (class 0) + 1·3 (class 1) = 5 of 16.
  assert.equal(broadcastAccuracy([0, 0, 1, 2], [0, 1, 1, 1]), 5 / 16);
  assert.equal(accuracy([0, 0, 1, 2], [0, 1, 1, 1]), 2 / 4);
  assert.throws(() => broadcastAccuracy([0, 1], [0]), /2 predictions for 1 labels/);
});

Deno.test("per batch, the broadcast metric drifts to 1/10 + (a − 1/10)/B, not 0.1", () => {
  const order = shuffledOrder(labels.length, 3);
  const perfect = batchBroadcastAccuracy(Int32Array.from(labels), labels, 64, order);
  assert.equal(perfect.batches, Math.floor(labels.length / 64));
  // 156 batches: the mean's standard error is about 0.0006 here; 0.003 is five of them.
  assertClose(perfect.mean, expectedBatchBroadcast(1, 64), 0.003, "perfect predictions");
  assertClose(expectedBatchBroadcast(1, 64), 0.1 + 0.9 / 64, 1e-12);
  assert.ok(perfect.mean > 0.105, `perfect: ${perfect.mean} is visibly above 0.1`);
  const classZero = batchBroadcastAccuracy(new Int32Array(labels.length), labels, 64, order);
  assertClose(classZero.mean, expectedBatchBroadcast(0.1, 64), 0.003, "one class");
  // With B = N the per-batch metric is the N x N one.
  assertClose(
    batchBroadcastAccuracy(Int32Array.from(labels), labels, labels.length, order).mean,
    0.1,
    1e-9,
  );
});

Deno.test("the permutation test: the correct metric falls to chance, the broadcast one does not move, and neither moves for a one-class head", () => {
  const perfect = Int32Array.from(labels);
  const correct = permutationTest(accuracy, perfect, labels, 3, 0);
  const broken = permutationTest(broadcastAccuracy, perfect, labels, 3, 0);
  assert.equal(correct.observed, 1);
  assertClose(correct.shuffledMean, 0.1, 0.01, "shuffled");
  assert.equal(broken.largestChange, 0);
  const oneClass = permutationTest(accuracy, new Int32Array(labels.length), labels, 3, 0);
  assert.equal(oneClass.largestChange, 0, "a one-class head is invariant too");
});

Deno.test("the accuracy bound: a misclassified example costs at least ln 2", () => {
  assert.equal(accuracyLowerBound(0), 1);
  assertClose(accuracyLowerBound(LN2 / 2), 0.5);
  assert.equal(accuracyLowerBound(5), 0);
  assertClose(accuracyLowerBound(LN2), 0);
  // The bound excludes an accuracy of 0.1 exactly when L < 0.9 ln 2 = 0.624.
  assertClose(LOSS_EXCLUDING_CHANCE, 0.6238, 1e-4);
  assertClose(accuracyLowerBound(LOSS_EXCLUDING_CHANCE), 0.1, 1e-12);
});

Deno.test("all-zero rows and dead classes, by hand", () => {
  const rows = [new Float32Array([0, 0, 0]), new Float32Array([0, 2, 0]), new Float32Array(3)];
  assert.equal(allZeroRowFraction(rows), 2 / 3);
  assert.deepEqual(deadLogitClasses(rows), [0, 2]);
  assert.deepEqual(Array.from(argmaxRows(rows)), [0, 1, 0]);
});

// The decision table: each row fed evidence for both of its outcomes.

const balanced = (share: number[]) => share.map((s) => Math.round(s * 10_000));
const spread = balanced(new Array(10).fill(0.1));
const oneClass = balanced([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const metricBug: DecisionEvidence = {
  reportedAccuracy: 0.1,
  loss: 0.42,
  histogram: spread,
  reportedShuffleChange: 0,
  allZeroRows: 0,
};

Deno.test("row 1: the bound exposes a printed 0.1 only when the loss is below 0.624", () => {
  assert.equal(boundRow(metricBug).pointsTo, "metric bug");
  assert.equal(boundRow(metricBug).answer, "yes");
  const highLoss = { ...metricBug, loss: 0.867 };
  assert.equal(boundRow(highLoss).pointsTo, "nothing", "L = 0.867: the bound is 0, silent");
  assert.equal(boundRow(highLoss).answer, "no");
  assert.equal(boundRow({ ...metricBug, reportedAccuracy: 0.85 }).pointsTo, "nothing");
});

Deno.test("row 2: varying predictions with a metric that ignores the pairing point to the metric; one-class predictions leave the test silent", () => {
  assert.equal(variesRow(metricBug).pointsTo, "metric bug");
  assert.equal(variesRow({ ...metricBug, reportedShuffleChange: 0.75 }).pointsTo, "nothing");
  const stuck = { ...metricBug, histogram: oneClass };
  assert.equal(variesRow(stuck).answer, "no");
  assert.equal(variesRow(stuck).pointsTo, "the model");
});

Deno.test("row 3: all-zero logit rows point to the ReLU head", () => {
  assert.equal(zeroRowsRow({ ...metricBug, allZeroRows: 0.146 }).pointsTo, "ReLU head");
  assert.equal(zeroRowsRow(metricBug).pointsTo, "nothing");
});

Deno.test("row 4: classes never predicted point to the model, to the ReLU head beside zero rows", () => {
  const missing = balanced([0.2, 0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
  assert.equal(histogramRow({ ...metricBug, histogram: missing }).pointsTo, "the model");
  assert.equal(
    histogramRow({ ...metricBug, histogram: missing, allZeroRows: 0.1 }).pointsTo,
    "ReLU head",
  );
  assert.equal(histogramRow(metricBug).pointsTo, "nothing");
});

Deno.test("the table on a dead head (all logits zero): accuracy exactly 0.1, only rows 2-4 speak", () => {
  const dead = Array.from({ length: labels.length }, () => new Float32Array(10));
  const evidence = decisionEvidence(dead, labels, "correct");
  assert.equal(evidence.reportedAccuracy, 0.1);
  assertClose(evidence.loss, LN10, 1e-5, "ten equal logits");
  const { rows, supported } = decisionTable(evidence);
  assert.deepEqual(rows.map((r) => r.pointsTo), ["nothing", "the model", "ReLU head", "ReLU head"]);
  assert.deepEqual(supported, ["the model", "ReLU head"]);
  // The same dead head printed with the broadcast metric gives the same table: nothing in it
  // can tell the two apart, because the correct accuracy is 0.1 too.
  const broadcast = decisionTable(decisionEvidence(dead, labels, "broadcast"));
  assert.deepEqual(broadcast.rows.map((r) => r.pointsTo), rows.map((r) => r.pointsTo));
});

// The verdict: recorded evidence, and evidence that flips it.

/** Recorded with the full budgets, sweep seeds 0-4 (`deno task chapter1 --seed 0 --json`). */
const recorded: AnswerEvidence = {
  runs: 15,
  reluLostClasses: 13,
  linearLostClasses: 0,
  reluWithSymptom: 10,
  linearWithSymptom: 0,
  broadcastLossFell: true,
  broadcastLargestDistanceFromChance: 0,
};

Deno.test("verdict on the recorded evidence: partly right (right, may be the whole story, incomplete)", () => {
  const { overall, parts } = answerVerdict(recorded);
  assert.equal(overall.grade, "partly right");
  assert.deepEqual(parts.map((p) => p.grade), ["right", "right", "wrong"]);
  assert.match(overall.reason, /no way to check/);
  assert.match(parts[0].reason, /13 of 15 runs/);
});

Deno.test("verdict flips: no metric alternative makes it right; a harmless ReLU head makes it wrong", () => {
  const noMetricBug = { ...recorded, broadcastLargestDistanceFromChance: 0.3 };
  assert.equal(completenessVerdict(noMetricBug).grade, "right");
  assert.equal(answerVerdict(noMetricBug).overall.grade, "right");
  const harmless = { ...recorded, reluLostClasses: 0, reluWithSymptom: 0 };
  assert.equal(reluIsABugVerdict(harmless).grade, "wrong");
  assert.equal(reluExplainsVerdict(harmless).grade, "wrong");
  assert.equal(answerVerdict(harmless).overall.grade, "wrong");
  assert.equal(reluIsABugVerdict({ ...recorded, linearLostClasses: 2 }).grade, "partly right");
});

Deno.test("the symptom: training loss falls epoch after epoch while accuracy ends 0.1 below the linear head", () => {
  const row = (head: "relu" | "linear", trainLoss: number[], final: number): SweepRow => ({
    seed: 0,
    optimizer: "Adam 0.01",
    head,
    trainLoss,
    validationLoss: 1.18,
    validationAccuracy: final,
    allZeroRows: 0,
    deadClasses: [],
    neverPredicted: [],
    tableSays: [],
  });
  const linear = row("linear", [0.77, 0.5], 0.84);
  assert.ok(showsSymptom(row("relu", [1.4, 1.18], 0.64), linear));
  assert.ok(!showsSymptom(row("relu", [1.4, 1.41], 0.64), linear), "loss did not fall");
  assert.ok(!showsSymptom(row("relu", [1.4, 1.18], 0.84 - BEHIND_LINEAR / 2), linear));
  assert.ok(!showsSymptom(linear, linear));
  const evidence = answerEvidence([row("relu", [1.4, 1.18], 0.64), linear], [
    {
      epoch: 0,
      step: 0,
      validationLoss: 2.4,
      accuracy: 0.05,
      broadcastAccuracy: 0.1,
      batchBroadcastAccuracy: 0.1,
      allZeroRows: 0,
      accuracyBound: 0,
    },
    {
      epoch: 1,
      step: 9,
      validationLoss: 0.4,
      accuracy: 0.85,
      broadcastAccuracy: 0.1,
      batchBroadcastAccuracy: 0.11,
      allZeroRows: 0,
      accuracyBound: 0.4,
    },
  ]);
  assert.equal(evidence.reluWithSymptom, 1);
  assert.equal(evidence.broadcastLossFell, true);
});

Deno.test("the untrained network: loss above ln 10, both metrics near chance", async () => {
  for (const head of ["relu", "linear"] as const) {
    const m = await measure(buildModel({ head, seed: 0 }), data.validation, {
      epoch: 0,
      step: 0,
      batchSize: 64,
      seed: 0,
    });
    assert.ok(m.validationLoss > LN10, `${head}: ${m.validationLoss}`);
    assertClose(m.broadcastAccuracy, 0.1, 1e-9);
  }
});

Deno.test("smoke budget: a story run measures more than 3 points, the loss falls, the N x N metric stays at 0.1", async () => {
  const run = await runStory(data, BUDGETS.smoke.story, "relu", { seed: 0 });
  assert.ok(run.measurements.length > 3, `${run.measurements.length} points`);
  assert.ok(run.measurements.at(-1)!.validationLoss < run.measurements[0].validationLoss);
  for (const m of run.measurements) assertClose(m.broadcastAccuracy, 0.1, 1e-9);
  assert.equal(run.history.epochs.length, BUDGETS.smoke.story.epochs);
});

Deno.test("smoke budget: the sweep runs both heads on each seed", async () => {
  const seeds = sweepSeeds(3, BUDGETS.smoke.sweep.seedCount);
  assert.deepEqual(seeds, [3]);
  const rows = await seedSweep(data, { ...BUDGETS.smoke.sweep, seeds });
  assert.deepEqual(rows.map((r) => r.head), ["relu", "linear"]);
  for (const r of rows) assert.equal(r.trainLoss.length, BUDGETS.smoke.sweep.epochs);
  assert.equal(rows[1].allZeroRows, 0, "a linear head never gives a row of exact zeros");
});
