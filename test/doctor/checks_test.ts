// The checks added for the real-fault suite (real_cases.ts), fed recorded evidence and evidence
// that should flip them, without training: the suite itself trains in test/full/doctor.full.ts.
import assert from "node:assert/strict";
import { loadRecipeData, type RecipeData } from "../../lib/doctor/build.ts";
import { diagnose, priorLoss, storedSortedByClass } from "../../lib/doctor/checks.ts";
import { parseRecipe, type Recipe } from "../../lib/doctor/recipe.ts";
import { makeReport } from "../../lib/doctor/report.ts";
import type { LayerMeasure, RunMeasures } from "../../lib/doctor/run.ts";
import { REAL_CASES } from "./real_cases.ts";

const blobs = (overrides: Record<string, unknown> = {}) => ({
  task: "classification",
  data: {
    source: "synthetic",
    kind: "blobs",
    count: 400,
    features: 4,
    classes: 3,
    validationSplit: 0.2,
    order: "shuffled",
  },
  model: [{ dense: 16, activation: "relu" }, { dense: 3, activation: "softmax" }],
  loss: "sparse_categorical_crossentropy",
  optimizer: { name: "sgd", learningRate: 1.0 },
  epochs: 5,
  ...overrides,
});

/** A run that ended at `finalLoss` with the given layer measures (nothing else measured). */
function run(
  finalLoss: number,
  layers: LayerMeasure[],
  initialLayers: LayerMeasure[],
  initialLoss = Math.log(3),
): RunMeasures {
  return {
    initialLoss,
    epochs: [1, 2, 3, 4, 5].map((epoch) => ({
      epoch,
      trainLoss: finalLoss,
      largestLogit: 1,
      seconds: 0.1,
    })),
    stepsRun: 50,
    epochsRun: 5,
    epochsAsked: 5,
    stoppedByBudget: false,
    seconds: 0.5,
    layers,
    initialLayers,
  };
}

async function setup(json: Record<string, unknown>): Promise<{ recipe: Recipe; data: RecipeData }> {
  const recipe = parseRecipe(json);
  return { recipe, data: await loadRecipeData(recipe, "test/doctor/fixtures") };
}

Deno.test("a CSV stored sorted by class is seen as sorted; the same rows shuffled are not", async () => {
  const stored = await setup({
    ...blobs(),
    data: { source: "csv", path: "iris.csv", target: "species", validationSplit: 0.2 },
  });
  assert.ok(storedSortedByClass(stored.data));
  const { findings } = diagnose(stored);
  assert.equal(findings[0].id, "unshuffled-data");
  assert.match(findings[0].evidence[0], /the validation rows hold classes 2 only/);
  const shuffled = await setup({
    ...blobs(),
    data: {
      source: "csv",
      path: "iris.csv",
      target: "species",
      validationSplit: 0.2,
      order: "shuffled",
    },
  });
  assert.ok(!storedSortedByClass(shuffled.data));
  assert.ok(!diagnose(shuffled).findings.some((f) => f.id === "unshuffled-data"));
});

Deno.test("ReLUs alive at the start and dead after steps of 50% are the learning rate's doing, not at 0.1% steps", async () => {
  const e = await setup(blobs());
  const prior = priorLoss(e.recipe, e.data);
  const alive = [{ layer: "relu1", kind: "relu", deadFraction: 0.05 }];
  const dead = { layer: "relu1", kind: "relu", deadFraction: 1 };
  const bigSteps = { layer: "linear1", kind: "linear", updateRatio: 0, largestUpdateRatio: 0.5 };
  const killed = diagnose({ ...e, run: run(prior, [bigSteps, dead], alive) }).findings;
  assert.equal(killed[0].id, "learning-rate-too-high", killed.map((f) => f.id).join(" "));
  assert.equal(killed[0].severity, "error");
  assert.match(killed[0].evidence.join(" "), /that were alive before the first step are dead/);
  // The same dead layer after small steps: dead-relu names it, the rate is not blamed with an error.
  const smallSteps = { ...bigSteps, largestUpdateRatio: 1e-3 };
  const slow = diagnose({ ...e, run: run(prior, [smallSteps, dead], alive) }).findings;
  assert.equal(slow[0].id, "dead-relu", slow.map((f) => f.id).join(" "));
  assert.ok(!slow.some((f) => f.id === "learning-rate-too-high" && f.severity === "error"));
});

Deno.test("a categorical cross-entropy over one output is a loss-mismatch error; binary is not", async () => {
  const pima = REAL_CASES.find((c) => c.name.startsWith("Pima with categorical_crossentropy"))!;
  for (const [json, planted] of [[pima.recipe, true], [pima.fixed, false]] as const) {
    const { findings } = diagnose(await setup(json));
    const mismatch = findings.find((f) => f.id === "loss-mismatch");
    if (planted) {
      assert.equal(findings[0].id, "loss-mismatch");
      assert.equal(mismatch?.severity, "error");
      assert.match(mismatch!.evidence[0], /the loss is 0 for every example/);
    } else assert.equal(mismatch, undefined);
  }
  const sparse = await setup({ ...pima.recipe, loss: "sparse_categorical_crossentropy" });
  assert.match(diagnose(sparse).findings[0].evidence[0], /label 1 is out of range/);
});

Deno.test("hidden layers without an activation are named even when the loss fell; relu ones are not", async () => {
  const linear = await setup(
    blobs({
      model: [{ dense: 16 }, { dense: 16 }, { dense: 3, activation: "softmax" }],
      optimizer: { name: "adam" },
    }),
  );
  const learned = run(0.1 * priorLoss(linear.recipe, linear.data), [], []);
  const report = makeReport({ ...linear, run: learned }, 10);
  assert.equal(report.findings[0].id, "insufficient-capacity");
  assert.equal(report.findings[0].severity, "note");
  assert.deepEqual(report.findings[0].fix, {
    field: "model[0].activation",
    from: "linear",
    to: "relu",
  });
  // A note does not make the run unhealthy, and "healthy" follows it.
  assert.ok(report.healthy);
  assert.equal(report.findings.at(-1)!.id, "healthy");
  const relu = await setup(
    blobs({
      model: [{ dense: 16, activation: "relu" }, { dense: 3, activation: "softmax" }],
      optimizer: { name: "adam" },
    }),
  );
  const clean = makeReport({ ...relu, run: learned }, 10);
  assert.ok(!clean.findings.some((f) => f.id === "insufficient-capacity"));
  assert.equal(clean.findings[0].id, "healthy");
});

Deno.test("gradients that grow while the loss falls well are a note, and a warning when it did not learn", async () => {
  const e = await setup(blobs({ optimizer: { name: "adam" } }));
  const prior = priorLoss(e.recipe, e.data);
  const growing = {
    layer: "linear1",
    kind: "linear",
    firstGradientNorm: 1e-4,
    lastGradientNorm: 0.5,
    largestGradientNorm: 0.5,
  };
  const find = (loss: number) =>
    diagnose({ ...e, run: run(loss, [growing], []) }).findings.find((f) =>
      f.id === "exploding-gradients"
    );
  assert.equal(find(0.1 * prior)?.severity, "note");
  assert.equal(find(prior)?.severity, "warning");
});
