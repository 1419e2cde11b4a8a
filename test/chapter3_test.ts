/**
 * Chapter 3's claims on budgets that run in seconds: exact derivations, the measurements taken
 * at initialisation (the same as the full run's, which takes them on seed 0), and the key claims
 * on seed 0 (or seeds 0 and 2) instead of seeds 0–2. The numbers of the full runs (the task and
 * the notebook) are asserted in test/full/chapter3.full.ts, which CI runs.
 */
import assert from "node:assert/strict";
import {
  buildNetwork,
  capacityExperiment,
  capacityFigure,
  clampedTargetMse,
  constantModelMse,
  depthExperiment,
  depthFigure,
  INIT_CHOICES,
  initExperiment,
  initFitsFigure,
  labelNoiseExperiment,
  labelNoiseFigure,
  learningCurvesFigure,
  learningRateExperiment,
  lossSurfaceFigure,
  makeProblem,
  NOISE_FLOOR,
  outputActivationExperiment,
  outputActivationFigure,
  permutationExperiment,
  permuteHiddenUnits,
  predictAt,
  readWeights,
  RECIPE,
  runAllExperiments,
  scaleExperiment,
  scaleFitsFigure,
  seedPairsExperiment,
  seedsFrom,
  segmentFigure,
  summarise,
  trainSeeds,
  trueFunctionMse,
  twoWeightExample,
  verdicts,
  withRecipe,
  writeWeights,
} from "../chapters/chapter3.ts";
import { gaussianBlobs } from "../lib/data/mod.ts";

const problem = makeProblem({ seed: 0 });
const seed0 = { seeds: [0] };

function near(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= relative * Math.abs(expected),
    `${what}: ${actual}, expected ${expected} ± ${100 * relative}%`,
  );
}

Deno.test("the problem: the samples realise a floor near σ² = 0.01", () => {
  near(problem.trainNoise, 0.0107, 0.005, "true function's MSE on the training points");
  near(problem.validationNoise, 0.00895, 0.005, "true function's MSE on the validation points");
  near(problem.constantModelMse.mean, 0.338, 0.005, "MSE of predicting the mean");
  near(problem.constantModelMse.zero, 0.343, 0.005, "MSE of predicting 0");
  assert.deepEqual(problem.targetRange.map((v) => v.toFixed(2)), ["-1.37", "1.21"]);
  // The same seed gives the same inputs whatever the noise, and no noise means no floor.
  const clean = makeProblem({ seed: 0, noiseStd: 0 });
  assert.deepEqual(clean.train.inputs, problem.train.inputs);
  assert.ok(trueFunctionMse(clean.validation) < 1e-12);
  assert.equal(makeProblem({ seed: 0 }), problem, "the same arguments give the same Problem");
  assert.deepEqual(seedsFrom(0), [0, 1, 2]);
  assert.deepEqual(RECIPE.hidden, [16, 16]);
  assert.equal(RECIPE.steps, 1000);
});

Deno.test("bounded outputs: best possible MSE 0.203 with a sigmoid, 0.202 with a ReLU", () => {
  near(clampedTargetMse(problem.train, 0, 1), 0.203, 0.005, "sigmoid output, in (0, 1)");
  near(clampedTargetMse(problem.train, 0, Infinity), 0.202, 0.005, "ReLU output, ≥ 0");
  assert.equal(clampedTargetMse(problem.train, -Infinity, Infinity), 0);
  // Clamping to [0, 0] is predicting 0.
  near(clampedTargetMse(problem.train, 0, 0), problem.constantModelMse.zero, 1e-12, "[0, 0]");
});

Deno.test("reproduce (seed 0; 1 and 2 hidden layers): raw prices stay at 8.90, standardised reach the floor", async () => {
  const scale = await scaleExperiment(problem, { ...seed0, depths: [1, 2] });
  for (const raw of scale.raw) near(raw.train.mean, 8.90, 0.005, `raw, ${raw.depth} hidden`);
  assert.ok(Math.abs(scale.raw[0].train.mean - scale.raw[1].train.mean) < 1e-3);
  for (const s of scale.standardised) {
    assert.ok(s.train.mean < NOISE_FLOOR, `standardised, ${s.depth} hidden: ${s.train.mean}`);
  }
  // Measured at initialisation on seed 0, as in the full run.
  near(scale.saturatedAtInit.raw, 0.984, 0.005, "saturated first-layer units, raw");
  assert.equal(scale.saturatedAtInit.standardised, 0);
  near(scale.outputDollarsPerStepBound, 0.34, 1e-9, "(16 + 1) × 0.02");
  near(scale.meanPrice, 2.93e5, 0.005, "mean price");
  near(scale.stepsToReachMeanPrice, 8.62e5, 0.005, "steps to reach the mean price");
  // The output climbed about $0.34 a step: never more, and not much less.
  const bound = RECIPE.steps * scale.outputDollarsPerStepBound;
  assert.ok(
    scale.largestRawPrediction > 0.9 * bound && scale.largestRawPrediction < 1.05 * bound,
    `largest raw prediction $${scale.largestRawPrediction}, bound $${bound}`,
  );
});

Deno.test("capacity and convexity (seeds 0 and 2; 1 and 16 units): equal minima, a barrier between", async () => {
  const capacity = await capacityExperiment(problem, {
    seeds: [0, 2],
    widths: [1, 16],
    depths: [1],
  });
  const [one, sixteen] = capacity.byWidth.map((p) => p.result);
  for (const v of one.train.values) near(v, 0.289, 0.02, "one hidden unit");
  for (const v of sixteen.train.values) {
    assert.ok(v < 1.2 * NOISE_FLOOR && v > 0.7 * NOISE_FLOOR, `16 units at the floor: ${v}`);
  }
  for (const v of sixteen.validation.values) assert.ok(v > problem.validationNoise);
  // Seed 0's network is the one the full run permutes: the same numbers.
  const permutation = await permutationExperiment(sixteen.runs[0], problem);
  assert.equal(permutation.permutedTrainMse, permutation.trainMse);
  assert.equal(permutation.trainMse.toPrecision(6), "0.00974230");
  assert.ok(permutation.largestOutputDifference <= 1e-6, `${permutation.largestOutputDifference}`);
  near(permutation.relativeWeightDistance, 1.43, 0.005, "distance / norm");
  near(permutation.midpointTrainMse, 2.28, 0.01, "halfway");
  const [pair] = await seedPairsExperiment(sixteen.runs, problem);
  assert.deepEqual(pair.seeds, [0, 2]);
  near(pair.relativeWeightDistance, 1.22, 0.005, "seeds 0 & 2: distance / norm");
  near(pair.outputRmsDifference, 0.0739, 0.01, "seeds 0 & 2: output RMS difference");
  near(pair.midpointTrainMse, 26.0, 0.01, "seeds 0 & 2: halfway");
  near(pair.averagedPredictionTrainMse, 0.00820, 0.01, "seeds 0 & 2: averaged predictions");
  assert.ok(pair.averagedPredictionTrainMse <= (pair.trainMse[0] + pair.trainMse[1]) / 2);
});

Deno.test("label noise (seed 0; σ = 0 and 0.3): the validation MSE sits just above σ²", async () => {
  const [clean, noisy] = await labelNoiseExperiment({ ...seed0, seed: 0, noiseStds: [0, 0.3] });
  assert.ok(clean.result.validation.mean < 0.002, `σ = 0: ${clean.result.validation.mean}`);
  assert.ok(noisy.result.validation.mean > noisy.validationNoise);
  near(noisy.result.validation.mean, 0.09, 0.25, "σ = 0.3: validation near σ² = 0.09");
  assert.ok(noisy.result.train.mean < 0.09, "σ = 0.3: train dips below σ²");
});

Deno.test("init (seed 0): at initialisation, the same measurements as the full run", async () => {
  // One training step each: what is measured here is taken before it.
  const init = await initExperiment(problem, { ...seed0, steps: 1, momentumLabels: [] });
  assert.deepEqual(init.map((p) => p.label), INIT_CHOICES.map((c) => c.label));
  const [tiny, glorot, one, large] = init.map((p) => p.atInit);
  near(tiny.outputStd, 5.55e-12, 0.01, "output std, N(0, 0.0001²)");
  near(tiny.firstLayerGradientNorm, 2.94e-8, 0.01, "first-layer gradient, N(0, 0.0001²)");
  near(glorot.outputStd, 0.239, 0.01, "output std, Glorot");
  assert.equal(glorot.saturatedFraction, 0);
  near(one.saturatedFraction, 0.204, 0.01, "saturated, N(0, 1)");
  near(large.saturatedFraction, 0.546, 0.01, "saturated, N(0, 3²)");
});

Deno.test("init (seed 0; tiny weights): momentum stays on the saddle, Adam leaves it", async () => {
  const init = await initExperiment(problem, {
    ...seed0,
    choices: INIT_CHOICES.filter((c) => c.label === "N(0, 0.0001²)"),
  });
  const adam = init.find((p) => p.optimizer.name === "adam")!.result.train.mean;
  const momentum = init.find((p) => p.optimizer.name === "momentum")!.result.train.mean;
  near(momentum, problem.constantModelMse.mean, 0.001, "momentum learns only the mean");
  assert.ok(adam < NOISE_FLOOR, `Adam reaches the floor: ${adam}`);
});

Deno.test("output activation (seed 0; tanh hidden, ReLU output): the output dies at 0", async () => {
  const [relu] = await outputActivationExperiment(problem, {
    ...seed0,
    choices: [{ activation: "tanh", outputActivation: "relu" }],
  });
  assert.equal(relu.deadOutputRuns, 1);
  near(relu.result.train.mean, problem.constantModelMse.zero, 1e-3, "the MSE of predicting 0");
  assert.equal(relu.deadHiddenFraction, undefined, "tanh units are never dead");
});

Deno.test("learning rate (seed 0; 0.00001): barely moves in 1,000 steps", async () => {
  const [slow] = await learningRateExperiment(problem, { ...seed0, learningRates: [1e-5] });
  const { initial, train } = slow.result;
  near(initial.mean, 0.421, 0.005, "seed 0's MSE at initialisation");
  assert.ok(train.mean > 0.7 * initial.mean, `${initial.mean} → ${train.mean}`);
  assert.ok(train.mean < initial.mean, "it does move, a little");
});

Deno.test("depth (seed 0; sigmoid 8 × 8, at initialisation): the signal fades layer by layer", async () => {
  const [eight] = await depthExperiment(problem, {
    ...seed0,
    steps: 1,
    activations: ["sigmoid"],
    depths: [8],
  });
  const signal = eight.signalPerLayer;
  assert.equal(signal.length, 8);
  near(signal[0], 0.233, 0.005, "signal in the first layer");
  near(signal[7], 4.17e-6, 0.01, "signal in the 8th layer");
  // Each layer passes on less variation than it received (the sigmoid's slope is at most 1/4).
  for (let i = 1; i < 8; i++) assert.ok(signal[i] < signal[i - 1] / 3, `layer ${i + 1}`);
  near(eight.firstLayerGradientNorm, 2.90e-6, 0.01, "first-layer gradient at step 1");
  assert.ok(eight.lastLayerGradientNorm > 1e5 * eight.firstLayerGradientNorm);
});

Deno.test("two weights: minima at (1, 1) and (−1, −1), a saddle at the origin between", async () => {
  const twoWeight = await twoWeightExample({ gridCount: 5 });
  assert.equal(twoWeight.minimumA.loss, 0);
  assert.equal(twoWeight.minimumB.loss, 0);
  assert.equal(twoWeight.midpoint.loss, 1);
  assert.deepEqual(twoWeight.midpoint.gradient.map(Math.abs), [0, 0]);
  const [low, high] = twoWeight.hessianAtMidpoint;
  near(low, -2, 1e-6, "Hessian at the origin");
  near(high, 2, 1e-6, "Hessian at the origin");
  assert.ok(Math.abs(twoWeight.hessianAtMinimum[0]) < 1e-6, "flat along the valley");
  near(twoWeight.hessianAtMinimum[1], 4, 1e-6, "Hessian at (1, 1)");
  near(twoWeight.predictionLossSecondDerivative, 2, 1e-4, "d²L/dŷ²");
  assert.equal(twoWeight.lossAtPredictionMidpoint, 0);
  const [first, second] = twoWeight.descents.map((d) => d.path.at(-1)!);
  assert.ok(first.w1 > 0 && first.w2 > 0 && second.w1 < 0 && second.w2 < 0, "two valleys");
  for (const end of [first, second]) near(end.w1 * end.w2, 1, 1e-6, "on the hyperbola w1 w2 = 1");
  assert.equal(twoWeight.surface.loss.length, 5);
  assert.equal(twoWeight.surface.loss[2][2], 1, "the grid's centre is the saddle");
});

Deno.test("a hidden-unit permutation leaves the function unchanged", async () => {
  const model = buildNetwork(withRecipe({ hidden: [4, 3] }), 5);
  const xs = Array.from(problem.validation.inputs.subarray(0, 50));
  const before = await predictAt(model, xs);
  const weights = await readWeights(model);
  for (const [layer, permutation] of [[1, [2, 0, 3, 1]], [2, [1, 2, 0]]] as const) {
    const permuted = permuteHiddenUnits(model, weights, layer, permutation);
    assert.ok(permuted.some((v, i) => v !== weights[i]), `layer ${layer}: the weights moved`);
    writeWeights(model, permuted);
    const after = await predictAt(model, xs);
    assert.ok(after.every((v, i) => Math.abs(v - before[i]) < 1e-5), `layer ${layer}`);
  }
  writeWeights(model, weights);
});

Deno.test("every experiment, verdict and figure runs (seeds 0 and 1, 20 steps)", async () => {
  const r = await runAllExperiments({ seeds: [0, 1], steps: 20 });
  assert.deepEqual(verdicts(r).map(({ claim, verdict }) => [claim, verdict]), [
    ["Normalise the inputs", "right"],
    ["Insufficient capacity", "partly right"],
    ["Label noise", "right"],
    ["Initialise well (too small, too large; He/Glorot)", "partly right"],
    [`Pick the right activation ("ReLU won't be a proper option")`, "partly right"],
    ["The learning rate may be too small", "right"],
    ["More layers fit better", "partly right"],
    ["The squared error is convex by definition", "wrong"],
  ]);
  for (const v of verdicts(r)) assert.ok(!/NaN|undefined/.test(v.evidence), v.evidence);
  assert.ok(!/NaN|undefined/.test(JSON.stringify(summarise(r))));
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
  assert.equal((specs[1].hconcat as unknown[]).length, 2);
});

Deno.test("bad input gets an error that names it", async () => {
  const blobs = gaussianBlobs({ count: 10 });
  assert.throws(
    () => trueFunctionMse(blobs),
    /regression dataset.*"gaussian-blobs" with 2 features/,
  );
  assert.throws(() => constantModelMse(blobs), /expected a 1-D regression dataset/);
  assert.throws(() => seedsFrom(0, 0), /count >= 1/);
  assert.throws(
    () => buildNetwork(withRecipe({ hidden: [16, 0] }), 0),
    /hidden layer widths.*\[16,0\]/,
  );
  await assert.rejects(() => trainSeeds(problem, RECIPE, "no seeds", { seeds: [] }), /no seeds/);
  await assert.rejects(
    () => learningRateExperiment(problem, { learningRates: [0], seeds: [0] }),
    /learning rates must be > 0, got 0/,
  );
  const model = buildNetwork(withRecipe({ hidden: [4] }), 0);
  const weights = await readWeights(model);
  assert.throws(() => writeWeights(model, weights.subarray(1)), /has 13 weights, got 12/);
  assert.throws(() => permuteHiddenUnits(model, weights, 2, [1, 0, 3, 2]), /hidden layers 1\.\.1/);
  assert.throws(() => permuteHiddenUnits(model, weights, 1, [0, 0, 1, 2]), /permutation of 0\.\.3/);
});
