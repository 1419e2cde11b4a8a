/**
 * Chapter 5's claims at the full budget (BUDGETS.full, the task's and the notebook's) on every
 * seed the chapter states, 0-4. Too slow for `deno task test` (minutes on 2 cores); CI runs it
 * with `deno task test:full`. The ranges asserted are the ones the notebook states.
 */
import assert from "node:assert/strict";
import * as chapter from "../../chapters/chapter5.ts";
import { cpu } from "../../lib/backend/mod.ts";

const budget = chapter.BUDGETS.full;
const results = await chapter.runChapter5({
  budget,
  dataFor: (seed) => chapter.loadChapterData(seed),
});
const summary = chapter.summarise(results);
// The notebook also shows the asker's setting on seeds 10-14, where the collapse is not certain.
const otherSeeds = await chapter.reproduceCollapse({
  budget: chapter.budgetFrom(10, budget),
  dataFor: (seed) => chapter.loadChapterData(seed),
});
const group = (short: string) => {
  const row = summary.groups.find((g) => g.short === short);
  assert.ok(row, `no group "${short}"`);
  return row;
};
const inRange = (what: string, value: number, low: number, high: number) =>
  assert.ok(value >= low && value <= high, `${what}: ${value} is outside [${low}, ${high}]`);

Deno.test("the seeds are 0-4 and the asker's ReLU passes gradcheck", () => {
  assert.deepEqual(summary.seeds, [0, 1, 2, 3, 4]);
  assert.ok(results.reluCheck.report.passed);
});

Deno.test("the asker's setting collapses on 5 of 5 seeds, at epochs 10-15, after training well", () => {
  const c = summary.collapse;
  assert.equal(c.collapsed, 5);
  inRange("first collapse epoch", c.collapseEpoch!.min, 10, 15);
  inRange("last collapse epoch", c.collapseEpoch!.max, 10, 15);
  assert.ok(c.bestAccuracyBefore!.min >= 0.9, `best accuracy before ${c.bestAccuracyBefore!.min}`);
});

Deno.test("seeds 10-14: 5 of 5 collapse, at epochs 12-16, each by overflow; on cpu's rounding seed 12 survives below 88.72", async () => {
  const c = chapter.summariseCollapse(otherSeeds);
  assert.equal(c.collapsed, 5);
  inRange("first collapse epoch", c.collapseEpoch!.min, 12, 16);
  inRange("last collapse epoch", c.collapseEpoch!.max, 12, 16);
  assert.equal(chapter.overflowAtFirstNaN(otherSeeds), 5);
  // Likely, not certain: the same seed on the readable reference, whose float32 sums round in
  // another order, never passes 88.72 and trains all 50 epochs (the notebook says so).
  const [survivor] = await chapter.reproduceCollapse({
    budget: { ...chapter.budgetFrom(12, budget), seeds: [12] },
    dataFor: (seed) => chapter.loadChapterData(seed),
    backend: cpu,
  });
  assert.equal(survivor.collapse, null);
  assert.ok(survivor.largestLogit < chapter.FLOAT32_EXP_LIMIT, `seed 12: ${survivor.largestLogit}`);
  assert.equal(survivor.largestLogit.toFixed(2), "78.20");
  assert.equal(survivor.validationAccuracy.toFixed(3), "0.852");
});

Deno.test("after the collapse every weight is NaN and the accuracy is exactly the share of class 0", () => {
  const c = summary.collapse;
  assert.equal(c.allWeightsNonFinite, 5);
  assert.equal(c.classZeroAfter, 5);
  assert.equal(c.classZeroShare.train.min, 0.1);
  assert.equal(c.classZeroShare.train.max, 0.1);
  assert.equal(c.classZeroShare.validation, 0.1);
});

Deno.test("every collapse starts at the step whose largest logit passes 88.72, none before", () => {
  assert.equal(summary.overflowAtFirstNaN, 5);
  assert.equal(group("asker").mechanisms["softmax overflow"], 5);
});

Deno.test("float64: the same runs never collapse; the largest logit passes 88.72 but stays below 709.78", () => {
  const g = group("float64");
  assert.equal(g.collapsed, 0);
  assert.ok(g.largestLogit.min > chapter.FLOAT32_EXP_LIMIT, `smallest ${g.largestLogit.min}`);
  assert.ok(g.largestLogit.max < chapter.FLOAT64_EXP_LIMIT, `largest ${g.largestLogit.max}`);
});

Deno.test("sigmoid under the same optimiser and loss: no collapse, logits below 20, accuracy 0.87-0.89", () => {
  const g = group("sigmoid");
  assert.equal(g.collapsed, 0);
  assert.ok(g.largestLogit.max < 20, `largest logit ${g.largestLogit.max}`);
  inRange("lowest accuracy", g.validationAccuracy.min, 0.87, 0.89);
  inRange("highest accuracy", g.validationAccuracy.max, 0.87, 0.89);
});

Deno.test("SGD 3 with a stable loss: dying ReLU on 5 of 5 seeds (loss near ln 10, units dead)", () => {
  const g = group(`SGD ${chapter.DYING_RELU_SETTING.learningRate}`);
  assert.equal(g.mechanisms["dying ReLU"], 5);
  assert.ok(g.validationAccuracy.max < 0.15);
  assert.ok(g.deadSecondLayer.min >= 0.9);
});

Deno.test("other learning rates: 0.1 collapses on every seed, 0.01 on none", () => {
  assert.equal(group("naive 0.1").collapsed, 5);
  assert.equal(group("naive 0.01").collapsed, 0);
});

Deno.test("the stable loss alone at 0.03: no collapse, but most first-layer units die", () => {
  const g = group("LSE 0.03");
  assert.equal(g.collapsed, 0);
  assert.ok(g.deadFirstLayer.min > 0.5, `fewest dead ${g.deadFirstLayer.min}`);
});

Deno.test("the fix (log-sum-exp, Adam 1e-3 or 3e-3): 0.86-0.90 on every seed, few dead units", () => {
  for (const short of ["LSE 0.001", "LSE 0.003"]) {
    const g = group(short);
    assert.equal(g.collapsed, 0);
    inRange(`${short} lowest accuracy`, g.validationAccuracy.min, 0.86, 0.9);
    inRange(`${short} highest accuracy`, g.validationAccuracy.max, 0.86, 0.9);
    assert.ok(g.deadFirstLayer.max < 0.2, `${short} most dead ${g.deadFirstLayer.max}`);
  }
});

Deno.test("the verdicts: the answer wrong, the hunch and the learning-rate claim partly right", () => {
  assert.deepEqual(summary.verdicts.map((v) => v.grade), ["wrong", "partly right", "partly right"]);
});
