/**
 * Chapter 3's claims at the budgets of `deno task chapter3` and the notebook: data seed 0,
 * network seeds 0-4 (BUDGETS.full), 1,000 full-batch steps on 64 points, every experiment (about
 * a minute of CPU). Each test asserts what the notebook's prose says holds across the seeds, on
 * every seed, with margins taken from the spread measured there and at seeds 10-14. Too slow for
 * `deno task test`; CI runs them with `deno task test:full`. The quick checks are in
 * test/chapter3_test.ts.
 */
import assert from "node:assert/strict";
import { assertClose } from "../helpers.ts";
import { cpu } from "../../lib/backend/mod.ts";
import {
  AT_FLOOR,
  BUDGETS,
  capacityExperiment,
  capacityFigure,
  chapterEvidence,
  deepSigmoidMechanism,
  depthFigure,
  initFitsFigure,
  labelNoiseFigure,
  learningCurvesFigure,
  lossSurfaceFigure,
  makeProblem,
  NOISE_FLOOR,
  oneHiddenLayerOf16,
  outputActivationFigure,
  RECIPE,
  runAllExperiments,
  scaleFitsFigure,
  segmentFigure,
  STUCK,
  summarise,
  verdicts,
} from "../../chapters/chapter3.ts";

const results = await runAllExperiments({ seed: 0, ...BUDGETS.full });
const atFloor = AT_FLOOR * NOISE_FLOOR, stuck = STUCK * NOISE_FLOOR;

/** Within `relative` of `expected` (the shared helper, with a relative tolerance). */
function near(actual: number, expected: number, relative: number, what: string): void {
  assertClose(actual, expected, { relative }, what);
}

function every(values: number[], test: (v: number) => boolean, what: string): void {
  assert.ok(values.every(test), `${what}: [${values.join(", ")}]`);
}

Deno.test("the full budget: seeds 0-4 for every setting", () => {
  for (const r of results.scale.rawDollars) {
    assert.deepEqual(r.runs.map((run) => run.seed), [0, 1, 2, 3, 4]);
  }
});

Deno.test("reproduce: raw prices give 8.90 under Adam and Var(y) under SGD, at every depth and seed", () => {
  const { scale } = results;
  assert.deepEqual(scale.depths, [1, 2, 3]);
  every(
    scale.raw.flatMap((r) => r.train.values),
    (v) => Math.abs(v / 8.90 - 1) < 0.005,
    "raw, Adam",
  );
  every(
    scale.rawSgd.flatMap((r) => r.train.values),
    (v) => Math.abs(v / scale.targetVariance - 1) < 1e-3,
    "raw, SGD: the mean price",
  );
  every(scale.standardised.flatMap((r) => r.train.values), (v) => v <= atFloor, "standardised");
  near(scale.saturatedAtInit.raw, 0.984, 0.005, "saturated first-layer units, raw");
  assert.equal(scale.saturatedAtInit.standardised, 0);
  near(scale.outputDollarsPerStepBound, 0.34, 1e-9, "(16 + 1) × 0.02");
  assert.ok(scale.largestRawPrediction < 1.05 * RECIPE.steps * scale.outputDollarsPerStepBound);
  near(scale.stepsToReachMeanPrice, 8.62e5, 0.005, "steps to reach the mean price");
});

Deno.test("capacity: one unit is stuck, 16 reach the floor, the deepest fits below the true function", () => {
  const { capacity } = results;
  const width = new Map(capacity.byWidth.map((p) => [p.width, p.result]));
  every(width.get(1)!.train.values, (v) => v >= 25 * NOISE_FLOOR, "one hidden unit");
  const means = [1, 2, 4, 8, 16].map((w) => width.get(w)!.train.mean);
  every(means.slice(1).map((m, i) => m / means[i]), (ratio) => ratio < 1, "train MSE by width");
  every(width.get(16)!.train.values, (v) => v <= atFloor, "16 units");
  const deepest = capacity.byDepth.at(-1)!.result;
  // Lower on average, not on every seed: the worst 4-layer seed is above the best 1-layer seed on
  // wasm (seeds 0-4 and 10-14); on cpu's rounding, seeds 0-4, it is just below.
  assert.ok(
    deepest.train.mean < capacity.byDepth[0].result.train.mean,
    "4 layers below 1 on average",
  );
  every(
    deepest.train.values,
    (v) => v < capacity.trainNoise,
    "4 layers of 16 below the true function",
  );
  for (const p of [...capacity.byWidth, ...capacity.byDepth]) {
    every(
      p.result.validation.values,
      (v) => v > capacity.validationNoise,
      `${p.result.label} validation`,
    );
  }
});

Deno.test("label noise: on every seed the validation MSE is just above σ²", () => {
  const evidence = chapterEvidence(results).labelNoise;
  assert.equal(verdicts(results)[4].claim, "Label noise");
  assert.equal(verdicts(results)[4].verdict, "right");
  assert.deepEqual(evidence.points.map((p) => p.noiseStd), [0, 0.1, 0.2, 0.3]);
});

Deno.test("init: tiny weights learn only the mean under momentum; Adam leaves; large weights validate worse", () => {
  const { init, problem } = results;
  const find = (label: string, optimizer: string) =>
    init.find((p) => p.label === label && p.optimizer.name === optimizer)!.result;
  every(
    find("N(0, 0.0001²)", "momentum").train.values,
    (v) => Math.abs(v / problem.constantModelMse.mean - 1) < 1e-3,
    "momentum from tiny weights",
  );
  assert.ok(find("N(0, 0.0001²)", "adam").train.max < problem.constantModelMse.mean / 3);
  const glorotWorst = find("Glorot", "adam").validation.max;
  const worse = find("N(0, 3²)", "adam").validation.values.filter((v) => v >= 3 * glorotWorst);
  assert.equal(worse.length, 4, "N(0, 3²) validates worse than 3 × Glorot's worst in 4 of 5 seeds");
  // Tiny weights cost some seeds part of the budget, even under Adam.
  assert.ok(find("N(0, 0.0001²)", "adam").train.max > find("Glorot", "adam").train.max);
});

Deno.test("output: bounded outputs stay far above the floor, a linear one reaches it", () => {
  const { output } = results;
  for (const p of output.filter((p) => p.outputActivation !== "identity")) {
    every(p.result.train.values, (v) => v >= Math.max(stuck, p.bestPossibleTrainMse), p.label);
  }
  every(
    output.find((p) => p.label === "tanh hidden, linear output")!.result.train.values,
    (v) => v <= atFloor,
    "linear",
  );
});

Deno.test("learning rate: 0.00001 barely moves; the final MSE falls as the rate rises to 0.1", () => {
  const { learningRate } = results;
  const [slowest] = learningRate;
  slowest.result.runs.forEach((run) =>
    assert.ok(
      run.trainMse >= 0.5 * run.initialTrainMse,
      `seed ${run.seed}: ${run.initialTrainMse} → ${run.trainMse}`,
    )
  );
  const means = learningRate.map((p) => p.result.train.mean);
  every(means.slice(1).map((m, i) => m / means[i]), (ratio) => ratio < 1, "by rate");
  for (const p of learningRate.slice(3)) {
    every(p.result.train.values, (v) => v <= atFloor, `lr ${p.learningRate}`);
  }
});

Deno.test("depth: the 8 × 8 sigmoid plateau is a collapse to one direction, not a vanishing gradient", () => {
  const { depth } = results;
  const evidence = chapterEvidence(results).mechanism;
  const mechanism = deepSigmoidMechanism(evidence);
  assert.equal(mechanism.mechanism, "collapsed to few directions");
  assert.equal(mechanism.oneDirectionSeeds, 5, "every seed: some layer carries one function of x");
  assert.equal(mechanism.atOneUnitSeeds, 5, "every seed: the MSE of one hidden unit");
  for (const s of evidence.seeds) {
    assert.ok(
      s.firstLayerMovement > 1,
      `seed ${s.seed}: the first layer moved ${s.firstLayerMovement}`,
    );
    assert.ok(s.plateauFromStep <= 500, `seed ${s.seed}: plateau from step ${s.plateauFromStep}`);
    assert.ok(
      s.firstLayerSaturated > 0.5,
      `seed ${s.seed}: first layer saturated ${s.firstLayerSaturated}`,
    );
    near(
      s.train,
      (evidence.oneHiddenUnit[0] + evidence.oneHiddenUnit[1]) / 2,
      0.05,
      `seed ${s.seed}: one unit's fit`,
    );
  }
  const eight = depth.find((p) => p.activation === "sigmoid" && p.depth === 8)!;
  every(
    eight.trained.flatMap((t) => t.topComponentShare),
    (v) => v > 0.98,
    "one direction in every layer",
  );
  // At initialisation the signal fades layer by layer: the old explanation, true but not the cause.
  assert.ok(eight.signalPerLayer.at(-1)! < 1e-3 * eight.signalPerLayer[0]);
  const sigmoid = (d: number) =>
    depth.find((p) => p.activation === "sigmoid" && p.depth === d)!.result.train;
  assert.ok(sigmoid(4).mean < sigmoid(1).mean, "4 sigmoid layers train better than 1");
  assert.ok(sigmoid(8).min > sigmoid(1).max, "8 sigmoid layers train worse than 1, on every seed");
  for (const p of depth.filter((p) => p.activation === "tanh" && p.depth >= 2)) {
    every(p.result.train.values, (v) => v <= atFloor, `tanh, ${p.depth} layers`);
  }
});

Deno.test("convexity: equal minima with a barrier between, and every seed at the floor", () => {
  const { twoWeight, permutation, seedPairs, capacity } = results;
  assert.deepEqual([twoWeight.minimumA.loss, twoWeight.minimumB.loss, twoWeight.midpoint.loss], [
    0,
    0,
    1,
  ]);
  near(twoWeight.hessianAtMidpoint[0], -2, 1e-6, "Hessian at the origin");
  // The same function: equal to float32 rounding (the 16 units are summed in another order).
  near(permutation.permutedTrainMse, permutation.trainMse, 1e-5, "permuted train MSE");
  assert.ok(permutation.largestOutputDifference <= 1e-6);
  assert.equal(seedPairs.length, 10);
  for (const p of seedPairs) {
    assert.ok(p.midpointTrainMse > 10 * Math.max(...p.trainMse), `seeds ${p.seeds}: a barrier`);
    assert.ok(
      p.averagedPredictionTrainMse <= (p.trainMse[0] + p.trainMse[1]) / 2,
      "convex in the predictions",
    );
  }
  every(oneHiddenLayerOf16(capacity).train.values, (v) => v <= atFloor, "every seed at the floor");
});

Deno.test("verdicts: computed from this run's evidence, the labels the notebook shows", () => {
  assert.deepEqual(verdicts(results).map((v) => v.verdict), [
    "right",
    "partly right",
    "partly right", // more layers can represent more: lower on average, not on every seed
    "partly right",
    "right",
    "partly right",
    "right",
    "right",
    "partly right",
  ]);
  assert.ok(!/NaN|undefined|Infinity/.test(JSON.stringify(summarise(results))));
});

Deno.test("figures: every builder gives a vega-lite spec with finite numbers", async () => {
  const r = results;
  const specs = [
    scaleFitsFigure(r.scale, r.problem),
    capacityFigure(r.capacity),
    labelNoiseFigure(r.labelNoise),
    await initFitsFigure(r.init, r.problem),
    learningCurvesFigure(r.init.map((p) => ({ label: p.label, result: p.result })), "init"),
    await outputActivationFigure(r.output, r.problem),
    depthFigure(r.depth),
    lossSurfaceFigure(r.twoWeight),
    segmentFigure(r.permutation, r.seedPairs),
  ];
  for (const spec of specs) {
    assert.match(String(spec.$schema), /vega-lite/);
    assert.ok(!JSON.stringify(spec).includes("NaN"));
  }
});

Deno.test("more layers represent more: on average, not on every seed (cpu seeds 0-4: every seed; seeds 10-14: worse than the worst 1-layer seed)", async () => {
  // The thin margin the notebook states: the same depths of 16 on the readable reference...
  const depthsOnly = { ...BUDGETS.full, widths: [16], depths: [1, 4] };
  const onCpu = await capacityExperiment(makeProblem({ seed: 0 }), { ...depthsOnly, backend: cpu });
  const [oneCpu, fourCpu] = onCpu.byDepth.map((p) => p.result.train);
  assert.ok(fourCpu.max < oneCpu.min, `cpu: 4 layers ${fourCpu.max} vs 1 layer ${oneCpu.min}`);
  assert.deepEqual([fourCpu.min.toFixed(5), fourCpu.max.toFixed(5)], ["0.00657", "0.00736"]);
  // ...and seeds 10-14 on the chapter's backend (`--seed 10`: data seed 10 too).
  const other = await capacityExperiment(makeProblem({ seed: 10 }), {
    ...depthsOnly,
    seeds: [10, 11, 12, 13, 14],
  });
  const [one, four] = other.byDepth.map((p) => p.result.train);
  assert.ok(four.mean < one.mean, "seeds 10-14: lower on average");
  assert.ok(
    four.max > one.max,
    `seeds 10-14: worst 4-layer ${four.max} vs worst 1-layer ${one.max}`,
  );
});
