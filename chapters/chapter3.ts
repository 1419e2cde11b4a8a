/**
 * Chapter 3: does the squared error depend on the number of hidden layers, and is it convex?
 *
 * The question: a regression network's mean squared error stays high, and adding hidden layers
 * does not change it. Does the squared error depend on the number of hidden layers? And since
 * the squared error is convex, shouldn't training always find its minimum?
 *
 * The answer the asker got was a checklist (normalise the inputs, initialise well, pick the right
 * activation, mind label noise and capacity, the learning rate may be too small; "ReLU won't be a
 * proper option") plus the claim that the squared error is convex by definition. This module turns
 * each item into an experiment on a problem whose noise we know,
 *
 *   y = sin 2x + 0.3x + ε,   ε ~ N(0, 0.1²),   x uniform in [−3, 3],
 *
 * so that no model can beat a mean squared error of σ² = 0.01 on fresh data: the noise floor.
 * Every experiment runs several seeds and reports the mean and the spread (min to max).
 *
 *   chapter3/problem.ts    the noisy problem and its floor
 *   chapter3/training.ts   one network setting trained from several seeds, full batch
 *   chapter3/checklist.ts  one experiment per checklist item, and depth in a fixed budget
 *   chapter3/convexity.ts  convex in the predictions, not in the weights
 *   chapter3/verdicts.ts   every experiment in one call, and a verdict on each answer
 *   chapter3/figures.ts    the figures, as vega-lite specs
 *
 * `deno task chapter3` (this file) prints the story with its numbers and writes the figures.
 */
export * from "./chapter3/problem.ts";
export * from "./chapter3/training.ts";
export * from "./chapter3/checklist.ts";
export * from "./chapter3/convexity.ts";
export * from "./chapter3/verdicts.ts";
export * from "./chapter3/figures.ts";
import { makeProblem, NOISE_FLOOR, NOISE_STD } from "./chapter3/problem.ts";
import {
  describeSetting,
  formatNumber,
  formatSpread,
  type RunOptions,
  seedsFrom,
  type Spread,
} from "./chapter3/training.ts";
import {
  capacityExperiment,
  depthExperiment,
  initExperiment,
  labelNoiseExperiment,
  learningRateExperiment,
  outputActivationExperiment,
  scaleExperiment,
} from "./chapter3/checklist.ts";
import {
  permutationExperiment,
  seedPairsExperiment,
  twoWeightExample,
} from "./chapter3/convexity.ts";
import { type ChapterResults, summarise, verdicts } from "./chapter3/verdicts.ts";
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

// The task --------------------------------------------------------------------------------------

/** Numbers to text, joined: numbers([0.1, 0.02]) is "0.100 / 0.0200". */
function numbers(values: number[], separator = " / ", digits = 3): string {
  return values.map((v) => formatNumber(v, digits)).join(separator);
}

if (import.meta.main) {
  const { runChapter } = await import("./cli.ts");
  const title = "Does the squared error depend on the number of hidden layers? Is it convex?";
  await runChapter({ number: 3, title }, Deno.args, async ({ seed, backend, report }) => {
    const seeds = seedsFrom(seed);
    const options: RunOptions = {
      seeds,
      backend,
      onSetting: (result) => report.line(describeSetting(result)),
    };
    const problem = makeProblem({ seed });
    const row = (label: string, spread: Spread): [string, string] => [label, formatSpread(spread)];

    report.heading("The question");
    report.line("A regression network's squared error stays high, and adding hidden layers does");
    report.line("not change it. Does the squared error depend on the number of hidden layers? And");
    report.line("if the squared error is convex, why doesn't training find its minimum?");
    report.line(
      `Problem: y = sin 2x + 0.3x + N(0, ${NOISE_STD}²), x in [−3, 3]; ${problem.train.count} ` +
        `training points, ${problem.validation.count} fresh validation points; seeds ${seeds}.`,
    );
    report.table([
      ["noise floor σ²", NOISE_FLOOR],
      [
        "MSE of the true function, training / validation",
        numbers([
          problem.trainNoise,
          problem.validationNoise,
        ]),
      ],
      [
        "MSE of predicting the mean target / predicting 0",
        numbers([
          problem.constantModelMse.mean,
          problem.constantModelMse.zero,
        ]),
      ],
      ["training targets, smallest to largest", numbers(problem.targetRange, " to ")],
    ]);

    report.heading("Reproduce: house prices in raw units");
    const scale = await scaleExperiment(problem, options);
    report.line("Training MSE in the function's units (dollars² / 100,000²; the floor is 0.01):");
    report.table(scale.raw.flatMap((raw, i) => [
      row(`raw, ${raw.depth} hidden`, raw.train),
      row(`standardised, ${raw.depth} hidden`, scale.standardised[i].train),
    ]));

    report.heading("Diagnose: the scale of inputs and targets");
    const saturated = scale.saturatedAtInit;
    report.table([
      [
        "first-layer tanh units saturated at init, raw / standardised",
        numbers([
          saturated.raw,
          saturated.standardised,
        ]),
      ],
      ["mean price ($)", formatNumber(scale.meanPrice)],
      [
        "most the output can climb per Adam step ($)",
        formatNumber(scale.outputDollarsPerStepBound),
      ],
      ["largest raw prediction after training ($)", formatNumber(scale.largestRawPrediction)],
      ["steps to reach the mean price at that rate", formatNumber(scale.stepsToReachMeanPrice)],
    ]);
    await report.figure("house-prices-fits", scaleFitsFigure(scale, problem));

    report.heading("Diagnose: capacity and the noise floor");
    const capacity = await capacityExperiment(problem, options);
    report.table([...capacity.byWidth, ...capacity.byDepth.slice(1)].flatMap((p) => [
      row(`${p.result.label} (${p.parameters} weights), train`, p.result.train),
      row(`${p.result.label}, validation`, p.result.validation),
    ]));
    await report.figure("capacity", capacityFigure(capacity));

    report.heading("Diagnose: label noise");
    const labelNoise = await labelNoiseExperiment({ ...options, seed });
    report.table(labelNoise.flatMap((p) => [
      [
        `σ = ${p.noiseStd}: σ², true function's validation MSE`,
        numbers([
          p.noiseStd ** 2,
          p.validationNoise,
        ]),
      ],
      row(`σ = ${p.noiseStd}: validation MSE`, p.result.validation),
    ]));
    await report.figure("label-noise", labelNoiseFigure(labelNoise));

    report.heading("Diagnose: the initial weight scale");
    const init = await initExperiment(problem, options);
    report.table(init.flatMap((p) => {
      const { outputStd, saturatedFraction, firstLayerGradientNorm } = p.atInit;
      return [
        row(`${p.label}, ${p.optimizer.name}: train`, p.result.train),
        row(`${p.label}, ${p.optimizer.name}: validation`, p.result.validation),
        [
          `${p.label}: output std / saturated / ‖∂L/∂W1‖ at init`,
          numbers([outputStd, saturatedFraction, firstLayerGradientNorm]),
        ],
      ];
    }));
    await report.figure("init-fits", await initFitsFigure(init, problem));
    const initCurves = init.map((p) => ({
      label: `${p.label}, ${p.optimizer.name}`,
      result: p.result,
    }));
    await report.figure(
      "init-curves",
      learningCurvesFigure(
        initCurves,
        "Tiny weights: momentum SGD stays on the saddle, Adam escapes",
      ),
    );

    report.heading("Diagnose: the output activation");
    const output = await outputActivationExperiment(problem, options);
    report.table(output.flatMap((p): [string, string][] => [
      row(`${p.label}: train`, p.result.train),
      [`${p.label}: best possible`, formatNumber(p.bestPossibleTrainMse)],
      [
        `${p.label}: runs with output 0 everywhere`,
        `${p.deadOutputRuns} of ${p.result.runs.length}`,
      ],
      ...(p.deadHiddenFraction
        ? [[`${p.label}: dead hidden units per run`, numbers(p.deadHiddenFraction, ", ")]]
        : []) as [string, string][],
    ]));
    await report.figure("output-activation-fits", await outputActivationFigure(output, problem));

    report.heading("Diagnose: the learning rate");
    const learningRate = await learningRateExperiment(problem, options);
    report.table(learningRate.flatMap((p) => [
      row(`Adam ${p.learningRate}: train at init`, p.result.initial),
      row(`Adam ${p.learningRate}: train after ${p.result.setting.steps} steps`, p.result.train),
    ]));
    const rateCurves = learningRate.map((p) => ({
      label: `lr ${p.learningRate}`,
      result: p.result,
    }));
    await report.figure(
      "learning-rate-curves",
      learningCurvesFigure(rateCurves, "Too small a learning rate gets nowhere in 1,000 steps"),
    );

    report.heading("Diagnose: depth in a fixed budget");
    const depth = await depthExperiment(problem, options);
    report.table(depth.flatMap((p) => {
      const name = `${p.activation}, ${p.depth} × 8`;
      const signal = [p.signalPerLayer[0], p.signalPerLayer.at(-1)!];
      const gradients = [p.firstLayerGradientNorm, p.lastLayerGradientNorm];
      return [
        row(`${name}: train`, p.result.train),
        [`${name}: signal in the first / last layer at init`, numbers(signal)],
        [`${name}: ‖∂L/∂W‖ first / last layer at step 1`, numbers(gradients)],
      ];
    }));
    await report.figure("depth", depthFigure(depth));

    report.heading("Diagnose: is the squared error convex?");
    const twoWeight = await twoWeightExample();
    const oneLayer = capacity.byWidth.find((p) => p.width === 16)!.result.runs;
    const permutation = await permutationExperiment(oneLayer[0], problem);
    const seedPairs = await seedPairsExperiment(oneLayer, problem);
    const ends = twoWeight.descents.map((d) => d.path.at(-1)!);
    report.table([
      [
        "ŷ = w2·w1·x on (1, 1): L(1, 1), L(−1, −1), L(0, 0)",
        numbers([
          twoWeight.minimumA.loss,
          twoWeight.minimumB.loss,
          twoWeight.midpoint.loss,
        ], ", "),
      ],
      ["gradient at (0, 0)", numbers(twoWeight.midpoint.gradient, ", ")],
      ["Hessian eigenvalues at (0, 0)", numbers(twoWeight.hessianAtMidpoint, ", ")],
      ["Hessian eigenvalues at (1, 1)", numbers(twoWeight.hessianAtMinimum, ", ")],
      [
        "d²L/dŷ², the loss as a function of the prediction",
        twoWeight.predictionLossSecondDerivative,
      ],
      ["gradient descent from (0.3, 0.1) ends at", numbers([ends[0].w1, ends[0].w2], ", ")],
      ["gradient descent from (−0.1, −0.35) ends at", numbers([ends[1].w1, ends[1].w2], ", ")],
      [
        `${permutation.units} units permuted: train MSE before / after`,
        numbers(
          [
            permutation.trainMse,
            permutation.permutedTrainMse,
          ],
          " / ",
          6,
        ),
      ],
      ["  largest output difference", permutation.largestOutputDifference],
      ["  weight distance / weight norm", formatNumber(permutation.relativeWeightDistance)],
      ["  train MSE halfway", formatNumber(permutation.midpointTrainMse)],
      ...seedPairs.flatMap((p): [string, string][] => {
        const name = `seeds ${p.seeds.join(" & ")}`;
        return [
          [`${name}: train MSEs`, numbers(p.trainMse)],
          [
            `${name}: weight distance / norm; output RMS difference`,
            numbers([
              p.relativeWeightDistance,
              p.outputRmsDifference,
            ], "; "),
          ],
          [
            `${name}: train MSE halfway; of the averaged predictions`,
            numbers([
              p.midpointTrainMse,
              p.averagedPredictionTrainMse,
            ], "; "),
          ],
        ];
      }),
    ]);
    await report.figure("loss-surface", lossSurfaceFigure(twoWeight));
    await report.figure("segments", segmentFigure(permutation, seedPairs));

    report.heading("Fix, and a verdict on each answer");
    report.line("Standardise inputs and targets, keep the output linear, initialise for the");
    report.line(
      "activation, use Adam at about 0.01 to 0.02, and judge capacity by the validation MSE against",
    );
    report.line("the noise floor.");
    const results: ChapterResults = {
      problem,
      scale,
      capacity,
      labelNoise,
      init,
      output,
      learningRate,
      depth,
      twoWeight,
      permutation,
      seedPairs,
    };
    for (const v of verdicts(results)) {
      report.line(`- ${v.claim}: ${v.verdict.toUpperCase()}. ${v.evidence}`);
    }
    return summarise(results);
  });
}
