/**
 * Chapter 3's claims on budgets that run in seconds: exact derivations, the measurements taken
 * at initialisation (the same as the full run's, which takes them on the first seed), a few
 * claims on seed 0 alone, and every verdict fed the recorded evidence of the full run
 * (chapters/chapter3/recorded_evidence.json) and evidence that flips it. The claims across seeds
 * 0-4 at the full budget are asserted in test/full/chapter3.full.ts, which CI runs.
 */
import assert from "node:assert/strict";
import { assertClose } from "./helpers.ts";
import {
  BUDGETS,
  buildNetwork,
  capacityExperiment,
  capacityFigure,
  capacityVerdict,
  type ChapterEvidence,
  clampedTargetMse,
  constantModelMse,
  convexityVerdict,
  deepSigmoidMechanism,
  depthBudgetVerdict,
  depthExperiment,
  depthFigure,
  depthRepresentsVerdict,
  INIT_CHOICES,
  initExperiment,
  initFitsFigure,
  initVerdict,
  labelNoiseExperiment,
  labelNoiseFigure,
  labelNoiseVerdict,
  learningCurvesFigure,
  learningRateExperiment,
  learningRateVerdict,
  linearFitMse,
  lossSurfaceFigure,
  makeProblem,
  NOISE_FLOOR,
  outputActivationExperiment,
  outputActivationFigure,
  outputVerdict,
  permutationExperiment,
  permuteHiddenUnits,
  plateauFromStep,
  predictAt,
  readWeights,
  RECIPE,
  runAllExperiments,
  scaleExperiment,
  scaleFitsFigure,
  scaleVerdict,
  seedPairsExperiment,
  seedsFrom,
  segmentFigure,
  summarise,
  topComponentShare,
  trainSeeds,
  trueFunctionMse,
  twoWeightExample,
  verdicts,
  verdictsFrom,
  withRecipe,
  writeWeights,
} from "../chapters/chapter3.ts";
import { gaussianBlobs } from "../lib/data/mod.ts";
import recorded from "../chapters/chapter3/recorded_evidence.json" with { type: "json" };

const problem = makeProblem({ seed: 0 });
const seed0 = { seeds: [0] };

/** Within `relative` of `expected` (the shared helper, with a relative tolerance). */
function near(actual: number, expected: number, relative: number, what: string): void {
  assertClose(actual, expected, { relative }, what);
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
  near(problem.linearFitMse, 0.335, 0.005, "MSE of the best straight line");
  assertClose(
    linearFitMse({ ...clean.train, targets: clean.train.inputs.map((x) => 2 * x - 1) }),
    0,
    1e-9,
    "a line fits a line",
  );
  assert.deepEqual(seedsFrom(0), [0, 1, 2, 3, 4]);
  assert.deepEqual(BUDGETS.full.seeds, [0, 1, 2, 3, 4]);
  assert.equal(BUDGETS.full.steps, undefined, "the full budget keeps each setting's own steps");
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

Deno.test("reproduce (seed 0; 1 and 2 hidden layers): raw prices stay at 8.90 with Adam, Var(y) with SGD", async () => {
  const scale = await scaleExperiment(problem, { ...seed0, depths: [1, 2] });
  for (const raw of scale.raw) near(raw.train.mean, 8.90, 0.005, `raw, ${raw.depth} hidden`);
  for (const sgd of scale.rawSgd) {
    near(
      sgd.train.mean,
      scale.targetVariance,
      1e-4,
      `raw, SGD, ${sgd.depth} hidden: the mean price`,
    );
  }
  assert.equal(scale.targetVariance, problem.constantModelMse.mean);
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
  // Permuting hidden units is the same function; a matmul sums each column in its own order,
  // so on the wasm backend the two agree to rounding (on the cpu reference, exactly).
  assert.ok(
    Math.abs(permutation.permutedTrainMse - permutation.trainMse) <= 1e-6 * permutation.trainMse,
    `${permutation.permutedTrainMse} vs ${permutation.trainMse}`,
  );
  assert.ok(permutation.largestOutputDifference <= 1e-6, `${permutation.largestOutputDifference}`);
  near(permutation.relativeWeightDistance, 1.43, 0.005, "distance / norm");
  near(permutation.midpointTrainMse, 2.32, 0.01, "halfway"); // 2.28 on cpu
  const [pair] = await seedPairsExperiment(sixteen.runs, problem);
  assert.deepEqual(pair.seeds, [0, 2]);
  near(pair.relativeWeightDistance, 1.22, 0.005, "seeds 0 & 2: distance / norm");
  near(pair.outputRmsDifference, 0.0722, 0.01, "seeds 0 & 2: output RMS difference");
  near(pair.midpointTrainMse, 26.1, 0.01, "seeds 0 & 2: halfway");
  near(pair.averagedPredictionTrainMse, 0.00829, 0.01, "seeds 0 & 2: averaged predictions");
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

Deno.test("depth (seed 0; sigmoid 8 × 8, trained): the first layer moved, every layer is one-dimensional", async () => {
  const [eight] = await depthExperiment(problem, {
    ...seed0,
    activations: ["sigmoid"],
    depths: [8],
  });
  const [trained] = eight.trained;
  near(eight.result.train.mean, 0.287, 0.01, "the plateau");
  assert.ok(trained.weightMovement[0] > 1, `first layer moved ${trained.weightMovement[0]}`);
  assert.ok(Math.min(...trained.topComponentShare) > 0.98, `${trained.topComponentShare}`);
  assert.ok(trained.plateauFromStep < 500, `plateau from step ${trained.plateauFromStep}`);
  assert.equal(trained.saturatedFraction.length, 8);
});

Deno.test("topComponentShare and plateauFromStep on cases with known answers", () => {
  // Two units that are the same function of x up to scale: one direction, share 1.
  const same = Float32Array.from([0, 0, 1, 2, 2, 4, 3, 6]);
  near(
    topComponentShare({ values: same, rows: 4, units: 2, saturatedFraction: 0 }),
    1,
    1e-6,
    "rank 1",
  );
  // Two uncorrelated units of equal variance: share 1/2.
  const apart = Float32Array.from([1, 0, -1, 0, 0, 1, 0, -1]);
  near(
    topComponentShare({ values: apart, rows: 4, units: 2, saturatedFraction: 0 }),
    0.5,
    1e-6,
    "rank 2",
  );
  const curve = [1, 10, 20, 30, 40].map((step, i) => ({ step, mse: [1, 0.5, 0.3, 0.301, 0.3][i] }));
  assert.equal(plateauFromStep(curve), 20);
  assert.equal(plateauFromStep([{ step: 1, mse: 1 }, { step: 10, mse: 0.5 }]), 10);
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

Deno.test("every experiment, verdict and figure runs (the smoke budget)", async () => {
  const r = await runAllExperiments(BUDGETS.smoke);
  const given = verdicts(r);
  assert.equal(given.length, 9);
  for (const v of given) {
    assert.ok(["right", "partly right", "wrong"].includes(v.verdict), v.verdict);
    assert.ok(!/NaN|undefined/.test(v.reason), v.reason);
  }
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

// The verdicts, fed the recorded evidence of the full run and evidence that flips them ----------

const evidence = recorded.evidence as unknown as ChapterEvidence;
/** A deep copy of the recorded evidence with one part changed. */
function changed<K extends keyof ChapterEvidence>(key: K, change: Partial<ChapterEvidence[K]>) {
  return { ...structuredClone(evidence[key]), ...change } as ChapterEvidence[K];
}

Deno.test("verdicts on the recorded evidence (seed 0, seeds 0-4): the labels the notebook shows", () => {
  assert.deepEqual(verdictsFrom(evidence).map(({ claim, verdict }) => [claim, verdict]), [
    ["Normalise the inputs (the answer's house-price example)", "right"],
    ["Insufficient capacity", "partly right"],
    [
      "More layers can represent more (a deeper network fits the training points closer)",
      "partly right",
    ],
    ["More layers train better in a fixed budget (1,000 steps, 8 per layer)", "partly right"],
    ["Label noise", "right"],
    ["Initialise well (not too small, not too large)", "partly right"],
    [`Pick the right output activation ("ReLU won't be a proper option")`, "right"],
    ["The learning rate may be too small", "right"],
    ["The loss is not convex, and that is why the error stays high", "partly right"],
  ]);
  const mechanism = deepSigmoidMechanism(evidence.mechanism);
  assert.equal(mechanism.mechanism, "collapsed to few directions");
  assert.equal(mechanism.oneDirectionSeeds, 5);
  assert.equal(mechanism.atOneUnitSeeds, 5);
  const reasons = verdictsFrom(evidence).map((v) => v.reason).join("\n");
  for (
    const text of ["plain SGD 0.338", "8.90", "3.33–16.8 times", "in 10 of 10 runs", "4 of 5 seeds"]
  ) {
    assert.ok(reasons.includes(text), `${text} in:\n${reasons}`);
  }
});

Deno.test("verdicts flip when the evidence does", () => {
  // Normalise: standardising that stops short of the floor is partly right; raw prices that fit, wrong.
  assert.equal(
    scaleVerdict(changed("scale", { standardised: [[0.015, 0.02]] })).verdict,
    "partly right",
  );
  assert.equal(scaleVerdict(changed("scale", { rawSgd: [[0.011, 0.012]] })).verdict, "wrong");
  // Capacity: no noise fitted is right; a single unit at the floor, wrong.
  const noNoise = { ...evidence.capacity.lowestTrain, train: [0.011, 0.012] as [number, number] };
  assert.equal(capacityVerdict(changed("capacity", { lowestTrain: noNoise })).verdict, "right");
  const wide = { ...evidence.capacity.narrowest, train: [0.011, 0.012] as [number, number] };
  assert.equal(capacityVerdict(changed("capacity", { narrowest: wide })).verdict, "wrong");
  // Represent: deeper on every seed is right; deeper and worse, wrong.
  const train = evidence.depthRepresents.train;
  assert.equal(
    depthRepresentsVerdict(changed("depthRepresents", { train: [train[0], [0.0065, 0.0074]] }))
      .verdict,
    "right",
  );
  assert.equal(
    depthRepresentsVerdict(changed("depthRepresents", { train: [train[0], [0.0075, 0.0125]] }))
      .verdict,
    "partly right",
  );
  assert.equal(
    depthRepresentsVerdict(changed("depthRepresents", { train: [train[0], [0.02, 0.03]] })).verdict,
    "wrong",
  );
  // Budget: if the deep sigmoid stack fitted, right; if tanh failed too, wrong.
  const [sigmoid, tanh] = evidence.depthBudget.byActivation;
  const fitted = { ...sigmoid, deep: [0.007, 0.009] as [number, number], deepMean: 0.008 };
  assert.equal(
    depthBudgetVerdict(changed("depthBudget", { byActivation: [fitted, tanh] })).verdict,
    "right",
  );
  const failed = { ...tanh, deep: [0.28, 0.29] as [number, number], deepMean: 0.285 };
  assert.equal(
    depthBudgetVerdict(changed("depthBudget", { byActivation: [sigmoid, failed] })).verdict,
    "wrong",
  );
  // The mechanism: a first layer that did not move is a vanishing gradient; a plateau at the
  // mean is the mean; a seed with many directions leaves it unexplained.
  const seeds = evidence.mechanism.seeds;
  const mechanism = (change: Partial<(typeof seeds)[number]>, only?: number) =>
    deepSigmoidMechanism(changed("mechanism", {
      seeds: seeds.map((s, i) => (only === undefined || only === i ? { ...s, ...change } : s)),
    })).mechanism;
  assert.equal(mechanism({ firstLayerMovement: 0.05 }), "vanishing gradient");
  assert.equal(mechanism({ train: 0.337 }), "the mean");
  assert.equal(mechanism({ bottleneck: 4 }, 2), "not explained");
  assert.equal(mechanism({ bottleneck: 2, train: 0.16 }, 2), "collapsed to few directions");
  assert.equal(
    mechanism({ train: 0.16 }),
    "not explained",
    "one direction, but not one unit's fit",
  );
  // Label noise: a validation MSE far above σ² is partly right; one that does not rise, wrong.
  const points = evidence.labelNoise.points;
  const far = points.map((p, i) =>
    i === 3 ? { ...p, validation: [0.2, 0.25] as [number, number] } : p
  );
  assert.equal(labelNoiseVerdict({ points: far }).verdict, "partly right");
  const flat = points.map((p) => ({ ...p, validation: [0.1, 0.11] as [number, number] }));
  assert.equal(labelNoiseVerdict({ points: flat }).verdict, "wrong");
  // Init: tiny weights stuck under Adam too is right; nothing stuck and no harm from large, wrong.
  assert.equal(initVerdict(changed("init", { tinyAdam: [0.3, 0.33] })).verdict, "right");
  assert.equal(
    initVerdict(changed("init", { tinyMomentum: [0.01, 0.02], largeValidation: [0.012, 0.013] }))
      .verdict,
    "wrong",
  );
  // Output: a linear output short of the floor is partly right; a sigmoid output that fits, wrong.
  const linear = { ...evidence.output.linear, train: [0.02, 0.03] as [number, number] };
  assert.equal(outputVerdict(changed("output", { linear })).verdict, "partly right");
  const sigmoidFits = { ...evidence.output.sigmoid, train: [0.009, 0.011] as [number, number] };
  assert.equal(outputVerdict(changed("output", { sigmoid: sigmoidFits })).verdict, "wrong");
  // Learning rate: a slow rate that still gets far, and a recipe that does not fit: wrong.
  const slowest = { ...evidence.learningRate.slowest, train: [0.05, 0.06] as [number, number] };
  const recipe = { ...evidence.learningRate.recipe, train: [0.05, 0.06] as [number, number] };
  assert.equal(learningRateVerdict(changed("learningRate", { slowest })).verdict, "partly right");
  assert.equal(learningRateVerdict(changed("learningRate", { slowest, recipe })).verdict, "wrong");
  // Convexity: a seed stuck far above the floor makes the suspicion right; no barrier, wrong.
  assert.equal(
    convexityVerdict(changed("convexity", { seedTrain: [0.008, 0.2] })).verdict,
    "right",
  );
  assert.equal(
    convexityVerdict(changed("convexity", { twoWeightMidpoint: 0, permutationMidpoint: 0.0098 }))
      .verdict,
    "wrong",
  );
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
