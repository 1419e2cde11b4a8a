/**
 * Chapter 1's claims on the full budgets of `deno task chapter1` and the notebook, on every seed
 * the chapter states: the sweep on seeds 0-4, the story run on seeds 0-2 (and 10, for one
 * remark). Too slow for `deno task test`; CI runs them with `deno task test:full`.
 */
import assert from "node:assert/strict";
import * as chapter from "../../chapters/chapter1.ts";

const budget = chapter.BUDGETS.full;
const STORY_SEEDS = [0, 1, 2];
const SWEEP_SEEDS = chapter.sweepSeeds(0, budget.sweep.seedCount);

const sweepData = await chapter.loadChapterData({ trainCount: budget.sweep.trainCount });
const sweep = await chapter.seedSweep(sweepData, { ...budget.sweep, seeds: SWEEP_SEEDS });
const runsOf = (optimizer: string, head: chapter.Head) =>
  sweep.filter((r) => r.optimizer === optimizer && r.head === head);
const linearOf = (r: chapter.SweepRow) =>
  sweep.find((l) => l.head === "linear" && l.seed === r.seed && l.optimizer === r.optimizer)!;

const data = await chapter.loadChapterData();
const stories = new Map<number, { relu: chapter.RunResult; linear: chapter.RunResult }>();
for (const seed of STORY_SEEDS) {
  stories.set(seed, {
    relu: await chapter.runStory(data, budget.story, "relu", { seed }),
    linear: await chapter.runStory(data, budget.story, "linear", { seed }),
  });
}

Deno.test("sweep: no linear head loses a class, on any optimiser or seed", () => {
  for (const r of sweep.filter((r) => r.head === "linear")) {
    assert.equal(r.allZeroRows, 0, `${r.optimizer} seed ${r.seed}`);
    assert.deepEqual(r.neverPredicted, [], `${r.optimizer} seed ${r.seed}`);
  }
});

Deno.test("sweep: the ReLU head is never ahead of the linear head by more than 0.01", () => {
  for (const r of sweep.filter((r) => r.head === "relu")) {
    assert.ok(
      r.validationAccuracy <= linearOf(r).validationAccuracy + 0.01,
      `${r.optimizer} seed ${r.seed}: ${r.validationAccuracy} vs ${linearOf(r).validationAccuracy}`,
    );
  }
});

Deno.test("sweep, Adam 0.01: every ReLU head loses classes; most show the symptom", () => {
  const relu = runsOf("Adam 0.01", "relu");
  for (const r of relu) assert.ok(chapter.lostClasses(r), `seed ${r.seed}`);
  const symptom = relu.filter((r) => chapter.showsSymptom(r, linearOf(r))).length;
  assert.ok(symptom >= 3, `${symptom} of ${relu.length}`);
});

Deno.test("sweep: the counts and ranges the notebook quotes for seeds 0-4", () => {
  const quoted = {
    "Adam 0.001": { lost: 4, symptom: 3, relu: [0.620, 0.813], linear: [0.813, 0.829] },
    "Adam 0.01": { lost: 5, symptom: 4, relu: [0.100, 0.638], linear: [0.811, 0.842] },
    "SGD 0.1": { lost: 4, symptom: 3, relu: [0.638, 0.696], linear: [0.657, 0.804] },
  };
  for (const [optimizer, q] of Object.entries(quoted)) {
    const relu = runsOf(optimizer, "relu");
    assert.equal(relu.filter(chapter.lostClasses).length, q.lost, `${optimizer}: lost classes`);
    const symptom = relu.filter((r) => chapter.showsSymptom(r, linearOf(r))).length;
    assert.equal(symptom, q.symptom, `${optimizer}: symptom`);
    for (const head of ["relu", "linear"] as const) {
      const [low, high] = q[head];
      for (const r of runsOf(optimizer, head)) {
        // The quoted range, printed to 3 decimals: each run inside it, to rounding.
        assert.ok(
          r.validationAccuracy > low - 0.0006 && r.validationAccuracy < high + 0.0006,
          `${optimizer} ${head} seed ${r.seed}: ${r.validationAccuracy} outside ${low}-${high}`,
        );
      }
    }
  }
});

Deno.test("sweep, Adam 0.01: on one seed every logit row is zero, accuracy exactly 0.1, loss ln 10", () => {
  const dead = runsOf("Adam 0.01", "relu").filter((r) => r.allZeroRows === 1);
  assert.equal(dead.length, 1);
  assert.equal(dead[0].validationAccuracy, 0.1);
  assert.ok(Math.abs(dead[0].validationLoss - chapter.LN10) < 1e-4, `${dead[0].validationLoss}`);
  const classesPredicted = runsOf("Adam 0.01", "relu").map((r) => 10 - r.neverPredicted.length);
  assert.deepEqual(classesPredicted.sort((a, b) => a - b).slice(0, 3), [1, 2, 3]);
});

Deno.test("sweep: plain SGD 0.1 learns less in two epochs: every linear SGD loss above every linear Adam 0.001 one", () => {
  const sgd = runsOf("SGD 0.1", "linear").map((r) => r.validationLoss);
  const adam = runsOf("Adam 0.001", "linear").map((r) => r.validationLoss);
  assert.ok(Math.min(...sgd) > Math.max(...adam), `${sgd} vs ${adam}`);
});

Deno.test("story run, seed 10: the ReLU head's all-zero rows appear during training and are gone at the end", async () => {
  const relu = await chapter.runStory(data, budget.story, "relu", { seed: 10 });
  assert.ok(relu.measurements.some((m) => m.allZeroRows > 0.01));
  assert.equal(relu.measurements.at(-1)!.allZeroRows, 0);
});

Deno.test("verdict on the sweep and the story run of seed 0: partly right, parts right / right / wrong", () => {
  const evidence = chapter.answerEvidence(sweep, stories.get(0)!.relu.measurements);
  const verdict = chapter.answerVerdict(evidence);
  assert.equal(verdict.overall.grade, "partly right");
  assert.deepEqual(verdict.parts.map((p) => p.grade), ["right", "right", "wrong"]);
});

for (const seed of STORY_SEEDS) {
  Deno.test(`story run, seed ${seed}: the loss falls, the N x N metric reads 0.1000 throughout, the per-batch one follows 1/10 + (a − 1/10)/64`, () => {
    const { relu, linear } = stories.get(seed)!;
    for (const run of [relu, linear]) {
      const m = run.measurements;
      assert.ok(m.length > 3, `${m.length} points`);
      assert.ok(m.at(-1)!.validationLoss <= chapter.STORY_LOSS_FALL * m[0].validationLoss);
      for (const point of m) {
        assert.equal(point.broadcastAccuracy.toFixed(4), "0.1000");
        const expected = chapter.expectedBatchBroadcast(point.accuracy, budget.story.batchSize);
        assert.ok(
          Math.abs(point.batchBroadcastAccuracy - expected) < 0.004,
          `${run.config.head} at ${point.epoch}: ${point.batchBroadcastAccuracy} vs ${expected}`,
        );
      }
    }
  });

  Deno.test(`story run, seed ${seed}: the linear head passes 0.84, the ReLU head is not ahead, the table finds the metric bug`, async () => {
    const { relu, linear } = stories.get(seed)!;
    const reluTest = await chapter.testReport(relu.model, data.test);
    const linearTest = await chapter.testReport(linear.model, data.test);
    const c = chapter.compareHeads(relu, linear, reluTest, linearTest);
    assert.ok(c.linearValidation > 0.84, `linear ${c.linearValidation}`);
    assert.ok(c.gap > -0.01, `the ReLU head is ahead by ${-c.gap}`);
    assert.equal(c.linearAllZeroRows, 0);
    const logits = await chapter.predictLogits(relu.model, data.test);
    const diagnosis = chapter.decisionTable(
      chapter.decisionEvidence(logits, data.test.labels!, "broadcast", seed),
    );
    assert.ok(diagnosis.supported.includes("metric bug"), `seed ${seed}: ${diagnosis.supported}`);
  });
}
