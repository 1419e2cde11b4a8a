/**
 * Chapter 4: "why does the distribution of the biases in layer2 change so dramatically?"
 *
 * A [50, 500, 500, 5] network's layer-2 bias histogram shifts while layer 1's stays put; the
 * answer says overfitting. This chapter counts the parameters, finds which layer "layer2" is,
 * measures why only the output biases move (their gradients, the softmax invariant, the sigmoid
 * mean they compensate, top-layer saturation), tests overfitting directly (N = 500 against
 * N = 30,000), and grades each part of the answer.
 *
 *   chapter4/question.ts     the question, the answer, our assumptions
 *   chapter4/data.ts         Fashion-MNIST classes 0-4 on 50 principal components
 *   chapter4/training.ts     one measured run of the network (reproduce and diagnose)
 *   chapter4/experiments.ts  every run of the chapter, and the numbers per run
 *   chapter4/verdicts.ts     a computed verdict on each part of the answer
 *   chapter4/figures.ts      the figures, as vega-lite specs
 *   chapter4/budgets.ts      BUDGETS = { full, smoke }
 *
 * `deno task chapter4` (this file) prints the story with its numbers and writes the figures.
 */
export * from "./chapter4/question.ts";
export * from "./chapter4/data.ts";
export * from "./chapter4/training.ts";
export * from "./chapter4/experiments.ts";
export * from "./chapter4/verdicts.ts";
export * from "./chapter4/figures.ts";
export * from "./chapter4/budgets.ts";
import { ANSWER_TEXT, ASSUMPTIONS, QUESTION } from "./chapter4/question.ts";
import { loadChapterData } from "./chapter4/data.ts";
import { BUDGETS } from "./chapter4/budgets.ts";
import {
  ANSWER,
  formatNumber,
  range,
  runChapterExperiments,
  settingRows,
  summariseRun,
} from "./chapter4/experiments.ts";
import { evidenceFrom, layerReading, verdicts } from "./chapter4/verdicts.ts";
import {
  biasHistogramsFigure,
  gradientRmsFigure,
  learningCurvesFigure,
  topHiddenFigure,
} from "./chapter4/figures.ts";

if (import.meta.main) {
  const { runChapter } = await import("./cli.ts");
  const title = "Why does the distribution of the biases in layer2 change so dramatically?";
  await runChapter({ number: 4, title }, Deno.args, async ({ seed, backend, report }) => {
    const budget = BUDGETS.full;
    report.heading("The question");
    for (const line of [...QUESTION, "", ...ANSWER_TEXT, "", ...ASSUMPTIONS]) report.line(line);

    const data = await loadChapterData();
    const results = await runChapterExperiments(data, {
      seed,
      budget,
      backend,
      onRun: (run) =>
        report.line(
          `  [run] ${run.setting.label}, N = ${run.trainCount}, seed ${run.seed}: ` +
            `${run.seconds.toFixed(1)} s`,
        ),
    });
    const large = results.reproduce.map(summariseRun);
    const small = results.small.map(summariseRun);
    const r = (values: number[], digits = 3) => range(values, digits);

    report.heading("The data and the count");
    report.table([
      ["training / test rows", `${results.data.train} / ${results.data.test}`],
      ["pixel variance kept by 50 components", formatNumber(results.data.explainedVariance)],
      ["linear baseline, test accuracy", r(results.baselineTestAccuracy)],
      [
        "weights / biases / parameters (from the model)",
        [
          results.parameterCount.weights,
          results.parameterCount.biases,
          results.parameterCount.total,
        ].map((v) => formatNumber(v)).join(" / "),
      ],
      [
        "the answer's weights / neurons",
        `${formatNumber(ANSWER.claimedWeights)} / ${ANSWER.claimedNeurons}`,
      ],
      [
        "units with a bias / with the inputs",
        `${results.neurons.withBias} / ${results.neurons.withInputs}`,
      ],
    ]);

    report.heading("Reproduce: sigmoid units, SGD, N = 30,000");
    const reading = layerReading(evidenceFrom(results).reading);
    report.table([
      ["bias spread (std) at the end: linear1", r(large.map((s) => s.biasSpread[0]))],
      ["linear2", r(large.map((s) => s.biasSpread[1]))],
      ["output", r(large.map((s) => s.biasSpread[2]))],
      ['reading of "layer2" that fits', reading.reading],
      [
        "train / test accuracy",
        `${r(large.map((s) => s.trainAccuracy))} / ${r(large.map((s) => s.testAccuracy))}`,
      ],
    ]);
    await report.figure("bias-histograms", biasHistogramsFigure(results.reproduce[0]));

    report.heading("Diagnose: why only the output biases move");
    report.table([
      ["bias-gradient RMS, output over hidden", r(large.map((s) => s.gradientRatio), 2)],
      ["largest |Σ_k ∂L/∂b_k| at any step", r(large.map((s) => s.largestGradientSum), 2)],
      ["largest drift of the output biases' mean", r(large.map((s) => s.outputMeanDrift), 2)],
      ["corr(b, −Wᵀ E[h]) at the end", r(large.map((s) => s.compensationCorrelation), 2)],
      ["top hidden mean activation: step 1", r(large.map((s) => s.topHidden.first))],
      [
        "lowest in the first 50 steps (at step)",
        `${r(large.map((s) => s.topHidden.lowest))} (${
          r(large.map((s) => s.topHidden.lowestStep))
        })`,
      ],
      ["at the end", r(large.map((s) => s.topHidden.last))],
    ]);
    await report.figure("gradient-rms", gradientRmsFigure(results));
    await report.figure("top-hidden", topHiddenFigure(results.reproduce));

    report.heading("The settings that reproduce the picture");
    for (const row of settingRows(results)) {
      report.table([
        [
          `${row.setting}: spreads linear1 / linear2 / output`,
          [0, 1, 2].map((i) => r(row.spreads.map((s) => s[i]), 2)).join(" / "),
        ],
        [`${row.setting}: gradient RMS ratio, output over hidden`, r(row.gradientRatio, 2)],
        [`${row.setting}: output-bias mean drift`, r(row.outputMeanDrift, 2)],
        [
          `${row.setting}: reproduces the picture in`,
          `${row.reproduces} of ${row.spreads.length} seeds`,
        ],
      ]);
    }

    report.heading("Overfitting, tested: N = 500 against N = 30,000");
    report.table([
      [
        "N = 500: train / test accuracy",
        `${r(small.map((s) => s.trainAccuracy))} / ${r(small.map((s) => s.testAccuracy))}`,
      ],
      ["N = 500: output-bias spread", r(small.map((s) => s.biasSpread[2]))],
      [
        "N = 500: train accuracy without the output biases",
        r(small.map((s) => s.trainAccuracyWithoutOutputBias)),
      ],
      ["N = 30,000: train − test accuracy", r(large.map((s) => s.gap))],
    ]);
    await report.figure("learning-curves", learningCurvesFigure(results));

    report.heading("Verdicts");
    const graded = verdicts(results);
    for (const v of graded) report.line(`  ${v.claim}: ${v.verdict.toUpperCase()}. ${v.reason}.`);

    return {
      seeds: results.seeds,
      explainedVariance: results.data.explainedVariance,
      baselineTestAccuracy: results.baselineTestAccuracy,
      parameterCount: results.parameterCount,
      reading: reading.reading,
      large,
      small,
      settings: settingRows(results),
      verdicts: graded,
    };
  });
}
