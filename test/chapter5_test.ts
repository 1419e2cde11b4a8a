/**
 * Chapter 5's claims on budgets that run in seconds: the asker's ReLU passes gradcheck; argmax
 * of a NaN row is class 0; on seed 0 the asker's setting collapses by softmax overflow (the
 * largest logit passes 88.72 at the step that makes the weights NaN) and the same run in
 * float64 passes that point unharmed; the decision table's rows; and every verdict fed the
 * recorded evidence of the full run (chapters/chapter5/recorded_evidence.json) and evidence that
 * flips it. The claims across seeds 0-4 at the full budget are in test/full/chapter5.full.ts.
 */
import assert from "node:assert/strict";
import {
  argmaxOfNanRow,
  ASKER_SETTING,
  type ChapterEvidence,
  checkAskersRelu,
  classifyRun,
  evidenceOf,
  FLOAT32_EXP_LIMIT,
  FLOAT64_EXP_LIMIT,
  FLOAT64_SETTING,
  learningRateVerdict,
  LN10,
  loadChapterData,
  reluBlameVerdict,
  type RunEvidence,
  runSetting,
  stabilityVerdict,
  verdictsFrom,
} from "../chapters/chapter5.ts";

const recorded: ChapterEvidence = JSON.parse(
  Deno.readTextFileSync(new URL("../chapters/chapter5/recorded_evidence.json", import.meta.url)),
);

Deno.test("the asker's ReLU (derivative from its outputs) passes lib's gradcheck", () => {
  const check = checkAskersRelu();
  assert.ok(check.report.passed, `max relative error ${check.report.maxRelativeError}`);
  assert.ok(check.report.maxRelativeError < 1e-7);
  // y > 0 exactly when x > 0, so the two backward passes agree everywhere, at 0 too.
  assert.equal(check.largestDifferenceFromLibRelu, 0);
});

Deno.test("argmax of a row of NaNs is class 0, in lib's backend and in lib/metrics", async () => {
  assert.deepEqual(await argmaxOfNanRow(), { backend: 0, metrics: 0 });
});

Deno.test("seed 0: the collapse is a softmax overflow, and float64 passes the same point", async () => {
  const data = await loadChapterData(0);
  const float32 = await runSetting({ ...ASKER_SETTING, continueAfterCollapse: false }, 0, data);
  const c = float32.collapse;
  assert.ok(c, "the asker's setting collapses on seed 0");
  assert.ok(c.logitsFinite, "every logit was finite at the collapsing step");
  assert.ok(c.largestLogit > FLOAT32_EXP_LIMIT, `largest logit ${c.largestLogit}`);
  assert.ok(c.largestLogitBefore < FLOAT32_EXP_LIMIT, `before: ${c.largestLogitBefore}`);
  assert.equal(float32.nonFiniteParameterFraction, 1, "every weight is NaN afterwards");
  assert.equal(float32.validationAccuracy, float32.classZeroShare.validation);
  assert.equal(classifyRun(evidenceOf(float32)).mechanism, "softmax overflow");

  // The same seed and shuffles in float64, a few epochs past the float32 collapse.
  const epochs = c.epoch + 3;
  const float64 = await runSetting({ ...FLOAT64_SETTING, epochs }, 0, data);
  assert.equal(float64.collapse, null);
  assert.ok(float64.largestLogit > FLOAT32_EXP_LIMIT, `float64 largest ${float64.largestLogit}`);
  assert.ok(float64.largestLogit < FLOAT64_EXP_LIMIT);
});

Deno.test("the decision table: each row, and the evidence that moves a run to another", () => {
  const learning: RunEvidence = {
    collapse: null,
    dtype: "float32",
    finalTrainLoss: 0.01,
    largestDeadShare: 0.2,
    validationAccuracy: 0.88,
  };
  assert.equal(classifyRun(learning).mechanism, "learning");
  const overflow = { ...learning, collapse: { logitsFinite: true, largestLogit: 89.04 } };
  assert.equal(classifyRun(overflow).mechanism, "softmax overflow");
  // 89 overflows float32, not float64.
  assert.equal(classifyRun({ ...overflow, dtype: "float64" }).mechanism, "other failure");
  assert.equal(
    classifyRun({ ...learning, collapse: { logitsFinite: true, largestLogit: 85 } }).mechanism,
    "other failure",
  );
  const dying = {
    ...learning,
    finalTrainLoss: LN10 + 0.03,
    largestDeadShare: 1,
    validationAccuracy: 0.1,
  };
  assert.equal(classifyRun(dying).mechanism, "dying ReLU");
  assert.equal(classifyRun({ ...dying, largestDeadShare: 0.8 }).mechanism, "other failure");
  assert.equal(classifyRun({ ...dying, finalTrainLoss: 1.2 }).mechanism, "other failure");
  assert.equal(classifyRun({ ...learning, validationAccuracy: 0.3 }).mechanism, "other failure");
});

Deno.test("the verdicts on the recorded evidence", () => {
  const [relu, stability, rates] = verdictsFrom(recorded);
  assert.equal(relu.grade, "wrong");
  assert.equal(stability.grade, "partly right");
  assert.equal(rates.grade, "partly right");
  for (const v of [relu, stability, rates]) assert.match(v.reason, /\d/);
});

Deno.test("the ReLU verdict flips when ReLU falls behind, or a collapse is not an overflow", () => {
  const e = recorded.reluBlame;
  const behind = (gap: number) => ({ ...e.reluFixed, mean: e.sigmoid.mean - gap });
  assert.equal(reluBlameVerdict({ ...e, reluFixed: behind(0.1) }).grade, "right");
  assert.equal(reluBlameVerdict({ ...e, reluFixed: behind(0.05) }).grade, "partly right");
  assert.equal(
    reluBlameVerdict({ ...e, explainedByOverflow: e.collapsed - 1 }).grade,
    "partly right",
  );
});

Deno.test("the stability verdict flips with the ReLU's gradcheck and with the overflow count", () => {
  const e = recorded.stability;
  assert.equal(stabilityVerdict({ ...e, reluGradcheckPassed: false }).grade, "right");
  assert.equal(stabilityVerdict({ ...e, overflowAtFirstNaN: 0 }).grade, "wrong");
  assert.equal(stabilityVerdict({ ...e, float64Collapsed: 1 }).grade, "partly right");
  assert.equal(stabilityVerdict({ ...e, collapsed: 0, overflowAtFirstNaN: 0 }).grade, "wrong");
});

Deno.test("the learning-rate verdict: right if every rate collapses, wrong if only 0.03 does", () => {
  const e = recorded.learningRates;
  const all = e.rates.map((r) => ({ ...r, collapsed: r.runs }));
  assert.equal(learningRateVerdict({ ...e, rates: all }).grade, "right");
  const none = e.rates.map((r) => ({ ...r, collapsed: 0 }));
  assert.equal(learningRateVerdict({ ...e, rates: none }).grade, "wrong");
});
