/**
 * Chapter 3: does the squared error depend on the number of hidden layers, and is it convex?
 *
 * The question: a regression network's mean squared error stays high, and adding hidden layers
 * does not change it. The asker suspects the loss is not convex, and asks whether the squared
 * error depends on the number of hidden layers: would more layers help?
 *
 * The answer was a checklist with house prices as its example (normalise the inputs, initialise
 * well, pick the right output activation: "ReLU won't be a proper option", mind label noise and
 * capacity, the learning rate may be too small). This module turns each item, and each of the
 * asker's suspicions, into an experiment on a problem whose noise we know,
 *
 *   y = sin 2x + 0.3x + ε,   ε ~ N(0, 0.1²),   x uniform in [−3, 3],
 *
 * so that no model can beat a mean squared error of σ² = 0.01 on fresh data: the noise floor.
 * Every experiment runs five seeds and reports the mean and the spread (min to max).
 *
 *   chapter3/question.ts   the question as asked, the answer, and our assumptions
 *   chapter3/budgets.ts    BUDGETS = { full, smoke }: the notebook, the task and the tests
 *   chapter3/problem.ts    the noisy problem and its floor
 *   chapter3/training.ts   one network setting trained from several seeds, full batch
 *   chapter3/checklist.ts  reproduce (house prices, Adam and SGD) and one experiment per
 *                          checklist item; depth in a fixed budget, measured after training
 *   chapter3/convexity.ts  convex in the predictions, not in the weights
 *   chapter3/verdicts.ts   every experiment in one call, the evidence, and a verdict function
 *                          per claim with its thresholds
 *   chapter3/figures.ts    the figures, as vega-lite specs
 *   chapter3/recorded_evidence.json  the full run's evidence (data seed 0, seeds 0-4), which
 *                          test/chapter3_test.ts feeds the verdicts, with evidence that flips them
 *
 * `deno task chapter3` (this file) prints the story with its numbers and writes the figures.
 */
export * from "./chapter3/question.ts";
export * from "./chapter3/budgets.ts";
export * from "./chapter3/problem.ts";
export * from "./chapter3/training.ts";
export * from "./chapter3/checklist.ts";
export * from "./chapter3/convexity.ts";
export * from "./chapter3/verdicts.ts";
export * from "./chapter3/figures.ts";
import { QUESTION } from "./chapter3/question.ts";
import { RAW_SGD } from "./chapter3/checklist.ts";
import { NOISE_FLOOR } from "./chapter3/problem.ts";
import { formatNumber, formatSpread, seedsFrom, type Spread } from "./chapter3/training.ts";
import {
  chapterEvidence,
  deepSigmoidMechanism,
  runAllExperiments,
  summarise,
  verdictsFrom,
} from "./chapter3/verdicts.ts";
import {
  capacityFigure,
  depthFigure,
  initFitsFigure,
  labelNoiseFigure,
  learningCurvesFigure,
  lossSurfaceFigure,
  outputActivationFigure,
  scaleFitsFigure,
  segmentFigure,
} from "./chapter3/figures.ts";

const f = (v: number, digits = 3) => formatNumber(v, digits);
const numbers = (values: number[], separator = " / ") => values.map((v) => f(v)).join(separator);

if (import.meta.main) {
  const { runChapter } = await import("./cli.ts");
  const title = "Does the squared error depend on the number of hidden layers? Is it convex?";
  await runChapter({ number: 3, title }, Deno.args, async ({ seed, backend, report }) => {
    const seeds = seedsFrom(seed);
    const r = await runAllExperiments({ seed, seeds, backend });
    const { problem, scale, capacity, labelNoise, init, output, learningRate, depth } = r;
    const row = (label: string, spread: Spread): [string, string] => [label, formatSpread(spread)];

    report.heading("The question");
    for (const line of [...QUESTION.asked, "", ...QUESTION.answered, "", ...QUESTION.assumed]) {
      report.line(line);
    }
    report.line(
      `Data seed ${seed}; network seeds ${seeds.join(", ")}. MSE: mean (lowest-highest).`,
    );
    report.table([
      ["noise floor σ²", NOISE_FLOOR],
      [
        "MSE of the true function, training / validation",
        numbers([problem.trainNoise, problem.validationNoise]),
      ],
      [
        "MSE of the mean / of the best line / of predicting 0",
        numbers([
          problem.constantModelMse.mean,
          problem.linearFitMse,
          problem.constantModelMse.zero,
        ]),
      ],
    ]);

    report.heading(
      "Reproduce: the answer's house prices, in raw units (MSE in the function's units)",
    );
    report.table(scale.raw.flatMap((raw, i) => [
      row(`${raw.depth} hidden: raw, Adam`, raw.train),
      row(`${raw.depth} hidden: raw, SGD ${RAW_SGD.learningRate}`, scale.rawSgd[i].train),
      row(`${raw.depth} hidden: standardised, Adam`, scale.standardised[i].train),
    ]));
    report.table([
      ["Var(y): the MSE of predicting the mean price", f(scale.targetVariance)],
      [
        "first-layer units saturated at init, raw / standardised",
        numbers([scale.saturatedAtInit.raw, scale.saturatedAtInit.standardised]),
      ],
      [
        "most the output can climb per Adam step ($) / steps to the mean price",
        numbers([scale.outputDollarsPerStepBound, scale.stepsToReachMeanPrice]),
      ],
    ]);
    await report.figure("house-prices-fits", scaleFitsFigure(scale, problem));

    report.heading("Diagnose: capacity and the noise floor");
    report.table([...capacity.byWidth, ...capacity.byDepth.slice(1)].map((p) => [
      `${p.result.label} (${p.parameters} weights): train / validation`,
      `${formatSpread(p.result.train)} / ${formatSpread(p.result.validation)}`,
    ]));
    await report.figure("capacity", capacityFigure(capacity));

    report.heading("Diagnose: label noise");
    report.table(labelNoise.map((p) => [
      `σ = ${p.noiseStd} (σ² = ${f(p.noiseStd ** 2)}): validation`,
      formatSpread(p.result.validation),
    ]));
    await report.figure("label-noise", labelNoiseFigure(labelNoise));

    report.heading("Diagnose: the initial weight scale");
    report.table(init.map((p) => [
      `${p.label}, ${p.optimizer.name}: train / validation`,
      `${formatSpread(p.result.train)} / ${formatSpread(p.result.validation)}`,
    ]));
    await report.figure("init-fits", await initFitsFigure(init, problem));
    await report.figure(
      "init-curves",
      learningCurvesFigure(
        init.map((p) => ({ label: `${p.label}, ${p.optimizer.name}`, result: p.result })),
        "Tiny weights: momentum SGD stays on the saddle, Adam escapes",
      ),
    );

    report.heading("Diagnose: the output activation");
    report.table(output.map((p) => [
      `${p.label}: train (best possible ${f(p.bestPossibleTrainMse)}; dead outputs)`,
      `${formatSpread(p.result.train)} (${p.deadOutputRuns} of ${p.result.runs.length})`,
    ]));
    await report.figure("output-activation-fits", await outputActivationFigure(output, problem));

    report.heading("Diagnose: the learning rate");
    report.table(learningRate.map((p) => [
      `Adam ${p.learningRate}: train at init → after ${p.result.setting.steps} steps`,
      `${formatSpread(p.result.initial)} → ${formatSpread(p.result.train)}`,
    ]));
    await report.figure(
      "learning-rate-curves",
      learningCurvesFigure(
        learningRate.map((p) => ({ label: `lr ${p.learningRate}`, result: p.result })),
        "Too small a learning rate gets nowhere in 1,000 steps",
      ),
    );

    report.heading("Diagnose: depth in a fixed budget, measured after training");
    report.table(depth.map((p) => {
      const movement = p.trained.map((t) => t.weightMovement[0]);
      const share = Math.min(...p.trained.flatMap((t) => t.topComponentShare));
      const fewest = p.trained.map((t) => Math.min(...t.directions)).join(", ");
      return [
        `${p.result.label}: train; ‖ΔW1‖/‖W1‖; least one-direction share; fewest directions per seed`,
        `${formatSpread(p.result.train)}; ${
          numbers([Math.min(...movement), Math.max(...movement)], "–")
        }; ${f(share, 4)}; ${fewest}`,
      ];
    }));
    const evidence = chapterEvidence(r);
    const mechanism = deepSigmoidMechanism(evidence.mechanism);
    report.line(
      `The deep sigmoid plateau, as measured: ${mechanism.mechanism}. ${mechanism.reason}`,
    );
    await report.figure("depth", depthFigure(depth));

    report.heading("Diagnose: is the loss convex?");
    report.table([
      [
        "ŷ = w2·w1·x on (1, 1): L(1, 1), L(−1, −1), L(0, 0)",
        numbers(
          [r.twoWeight.minimumA.loss, r.twoWeight.minimumB.loss, r.twoWeight.midpoint.loss],
          ", ",
        ),
      ],
      ["Hessian eigenvalues at (0, 0)", numbers(r.twoWeight.hessianAtMidpoint, ", ")],
      [
        "16 units permuted: train MSE before, after, halfway",
        numbers([
          r.permutation.trainMse,
          r.permutation.permutedTrainMse,
          r.permutation.midpointTrainMse,
        ], ", "),
      ],
      ...r.seedPairs.map((p): [string, string] => [
        `seeds ${p.seeds.join(" & ")}: train MSEs; halfway`,
        `${numbers(p.trainMse, ", ")}; ${f(p.midpointTrainMse)}`,
      ]),
    ]);
    await report.figure("loss-surface", lossSurfaceFigure(r.twoWeight));
    await report.figure("segments", segmentFigure(r.permutation, r.seedPairs));

    report.heading("Fix, and a verdict on each claim");
    report.line("Standardise inputs and targets, keep the output linear, initialise for the");
    report.line(
      "activation, use Adam at about 0.01 to 0.02, and judge capacity by the validation MSE",
    );
    report.line("against the noise floor.");
    for (const v of verdictsFrom(evidence)) {
      report.line(`- ${v.claim} (${v.whose}): ${v.verdict.toUpperCase()}. ${v.reason}`);
    }
    return summarise(r);
  });
}
