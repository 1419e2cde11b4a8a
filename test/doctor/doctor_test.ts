// The doctor's fast tests: the checks that need no training, posted histories, the in-code
// preflight, fixes applied to recipes. The full case suite (training every case) is in
// test/full/doctor.full.ts.
import assert from "node:assert/strict";
import { loadRecipeData } from "../../lib/doctor/build.ts";
import { diagnose } from "../../lib/doctor/checks.ts";
import { Doctor } from "../../lib/doctor/doctor.ts";
import { parseRecipe } from "../../lib/doctor/recipe.ts";
import { applyFix, formatReport, makeReport, parseHistory } from "../../lib/doctor/report.ts";
import { Linear, ReLU, Sequential, SoftmaxCrossEntropy } from "../../lib/mod.ts";
import { makeShape } from "../../lib/data/shapes.ts";
import { CASES } from "./cases.ts";

/** Faults the setup alone shows, before any training. */
const PREFLIGHT = new Set([
  "output-activation-mismatch",
  "loss-mismatch",
  "zero-initialisation",
  "unnormalised-targets",
  "unshuffled-data",
]);

Deno.test("faults visible in the setup are ranked first without training; their twins have no error", async () => {
  for (const c of CASES.filter((x) => PREFLIGHT.has(x.fault) && !x.history)) {
    for (const [recipeJson, planted] of [[c.recipe, true], [c.fixed, false]] as const) {
      const recipe = parseRecipe(recipeJson);
      const data = await loadRecipeData(recipe);
      const { findings } = diagnose({ recipe, data });
      if (planted) {
        assert.equal(
          findings[0]?.id,
          c.fault,
          `${c.name}: ${findings.map((f) => f.id)}`,
        );
      } else {
        const errors = findings.filter((f) => f.severity === "error").map((f) => f.id);
        assert.deepEqual(errors, [], `${c.name} (fixed)`);
      }
    }
  }
});

Deno.test("posted histories: the planted fault comes first, and the twin's curves raise no error", async () => {
  for (const c of CASES.filter((x) => x.history)) {
    const recipe = parseRecipe(c.recipe);
    const data = await loadRecipeData(recipe);
    const planted = makeReport({ recipe, data, history: parseHistory(c.history) });
    assert.equal(
      planted.findings[0].id,
      c.fault,
      `${c.name}: ${planted.findings.map((f) => f.id)}`,
    );
    const twin = makeReport({ recipe, data, history: parseHistory(c.fixedHistory) });
    assert.ok(
      twin.healthy,
      `${c.name} (fixed): ${twin.findings.map((f) => `${f.id}:${f.severity}`)}`,
    );
  }
});

Deno.test("a history's keys are checked; acc and val_acc are read as accuracy", () => {
  assert.deepEqual(parseHistory({ acc: [0.5], val_acc: [0.4] }), {
    accuracy: [0.5],
    val_accuracy: [0.4],
  });
  assert.throws(() => parseHistory({ losses: [1] }), /unknown key "losses"/);
  assert.throws(() => parseHistory({ loss: ["1"] }), /history\.loss: expected a list of numbers/);
});

Deno.test("a fix is applied at its field path, and the fixed recipe still parses", () => {
  const recipe = CASES.find((c) => c.fault === "relu-before-softmax")!.recipe;
  const fixed = applyFix(recipe, { field: "model[1].activation", from: "relu", to: "linear" });
  assert.equal((fixed.model as Record<string, unknown>[])[1].activation, "linear");
  assert.equal(
    (recipe.model as Record<string, unknown>[])[1].activation,
    "relu",
    "the original is untouched",
  );
  const rate = applyFix(recipe, { field: "optimizer.learningRate", from: 0.01, to: 0.001 });
  assert.equal(parseRecipe(rate).optimizer.learningRate, 0.001);
  const bare = applyFix(recipe, { field: "model[2].activation", from: "softmax", to: "sigmoid" });
  assert.deepEqual((bare.model as unknown[])[2], { activation: "sigmoid" });
  parseRecipe(bare);
});

Deno.test("in code: preflight names zero initialisation, and a healthy model passes the one-batch test", async () => {
  const data = makeShape({ kind: "blobs", count: 200, features: 4, classes: 3, seed: 1 });
  const zeroed = new Sequential([
    new Linear(4, 16, { weightInit: "zeros" }),
    new ReLU(),
    new Linear(16, 3),
  ]);
  const broken = await new Doctor(zeroed, new SoftmaxCrossEntropy(), data).preflight();
  assert.equal(broken.findings[0].id, "zero-initialisation");
  assert.equal(broken.healthy, false);
  const healthyModel = new Sequential([
    new Linear(4, 16, { weightInit: "he-normal" }),
    new ReLU(),
    new Linear(16, 3, { weightInit: "glorot-uniform" }),
  ]);
  const before = await healthyModel.parameters()[0].value.data();
  const report = await new Doctor(healthyModel, new SoftmaxCrossEntropy(), data).preflight();
  assert.ok(report.healthy, formatReport(report));
  assert.deepEqual(
    await healthyModel.parameters()[0].value.data(),
    before,
    "the one-batch test's weights were restored",
  );
});
