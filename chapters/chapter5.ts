/**
 * Chapter 5: a homemade deep-learning library collapses to a dummy classifier with ReLU.
 *
 * The question: with sigmoid the asker's library works; with ReLU, 50 epochs on ~500 MNIST
 * images train well for ~8 epochs, then the accuracy falls to ~0.1, at every learning rate
 * they tried. The answer they got blames ReLU for "ignoring the negative characteristics".
 *
 *   chapter5/budgets.ts    BUDGETS = { full, smoke }: seeds, epochs, the learning rates swept
 *   chapter5/question.ts   the asker's ReLU (gradcheck), our assumed setup, the data
 *   chapter5/training.ts   one run of a setting from a seed, and what it measures
 *   chapter5/reproduce.ts  the asker's setting across seeds: the collapse
 *   chapter5/diagnose.ts   float64, sigmoid, dying ReLU, other learning rates; the decision table
 *   chapter5/fix.ts        the stable loss alone, and with a sane learning rate
 *   chapter5/verdicts.ts   a verdict on each claim, computed from the evidence
 *   chapter5/results.ts    every experiment in one call, tables, the key numbers
 *   chapter5/figures.ts    the figures, as vega-lite specs
 *
 * `deno task chapter5` (this file) prints the story with its numbers and writes the figures.
 */
export * from "./chapter5/budgets.ts";
export * from "./chapter5/question.ts";
export * from "./chapter5/training.ts";
export * from "./chapter5/reproduce.ts";
export * from "./chapter5/diagnose.ts";
export * from "./chapter5/fix.ts";
export * from "./chapter5/verdicts.ts";
export * from "./chapter5/results.ts";
export * from "./chapter5/figures.ts";
import { budgetFrom } from "./chapter5/budgets.ts";
import { ASKER_SETUP, FLOAT32_EXP_LIMIT, loadChapterData } from "./chapter5/question.ts";
import { argmaxOfNanRow, summariseCollapse } from "./chapter5/reproduce.ts";
import { DYING_RELU_SETTING } from "./chapter5/diagnose.ts";
import { describeRun, groupCells, groupRows, runChapter5, summarise } from "./chapter5/results.ts";
import { describeSetting, formatRange } from "./chapter5/training.ts";
import {
  collapseFigure,
  deadUnitsFigure,
  largestLogitFigure,
  validationFigure,
} from "./chapter5/figures.ts";

if (import.meta.main) {
  const { runChapter } = await import("./cli.ts");
  const title = "A homemade library collapses to a dummy classifier with ReLU";
  await runChapter({ number: 5, title }, Deno.args, async ({ seed, backend, report }) => {
    const budget = budgetFrom(seed);
    const results = await runChapter5({
      budget,
      dataFor: (s) => loadChapterData(s),
      backend,
      onRun: (run) => report.line(describeRun(run)),
    });
    const summary = summarise(results);

    report.heading("The question");
    report.line(
      "With sigmoid the asker's library works. With ReLU, 50 epochs on ~500 MNIST images",
    );
    report.line(
      "train well for ~8 epochs, then the accuracy falls to a dummy classifier's ~0.1, at",
    );
    report.line(
      'other learning rates too. The answer: ReLU "ignores the negative characteristics".',
    );
    report.line(
      `Our assumptions: ${ASKER_SETUP.trainCount} stratified images, ${
        ASKER_SETUP.sizes.join("-")
      }, Glorot uniform, float32, naive softmax, Adam ${ASKER_SETUP.learningRate}, batches of ` +
        `${ASKER_SETUP.batchSize}; seeds ${budget.seeds.join(", ")}.`,
    );
    const check = results.reluCheck;
    report.table([
      [
        "asker's ReLU (derivative from outputs): gradcheck",
        `max relative error ${check.report.maxRelativeError.toExponential(1)}, ` +
        `${check.report.passed ? "passed" : "FAILED"}`,
      ],
      ["  largest difference from lib's ReLU backward", check.largestDifferenceFromLibRelu],
    ]);

    report.heading("Reproduce: the collapse");
    const collapse = summariseCollapse(results.asker);
    const nanRow = await argmaxOfNanRow();
    report.table([
      ["runs that collapse", `${collapse.collapsed} of ${collapse.runs}`],
      [
        "epoch of the first NaN",
        collapse.collapseEpoch ? formatRange(collapse.collapseEpoch, 0) : "-",
      ],
      [
        "best training accuracy before it",
        collapse.bestAccuracyBefore ? formatRange(collapse.bestAccuracyBefore, 3) : "-",
      ],
      [
        "runs scoring exactly the share of class 0 afterwards",
        `${collapse.classZeroAfter} of ${collapse.collapsed}`,
      ],
      [
        "share of class 0: training / validation",
        `${formatRange(collapse.classZeroShare.train, 3)} / ${collapse.classZeroShare.validation}`,
      ],
      [
        "argmax of a NaN row: lib's backend / lib/metrics (NumPy's rule)",
        `${nanRow.backend} / ${nanRow.metrics}`,
      ],
      [
        "runs ending with every weight NaN",
        `${collapse.allWeightsNonFinite} of ${collapse.collapsed}`,
      ],
    ]);
    await report.figure("collapse", collapseFigure(results.asker));

    report.heading("Diagnose: softmax overflow or dying ReLU?");
    report.line(
      `Collapses whose first NaN step had its largest logit above ln(FLT_MAX) = ${
        FLOAT32_EXP_LIMIT.toFixed(2)
      } (and no step before it): ${summary.overflowAtFirstNaN} of ${collapse.collapsed}.`,
    );
    report.line(`Dying ReLU is shown by ${describeSetting(DYING_RELU_SETTING)}.`);
    const rows = groupRows(results);
    for (const row of rows) {
      report.line(`- ${row.group}`);
      report.table(Object.entries(groupCells(row)).slice(1).map(([k, v]) => [`  ${k}`, v]));
    }
    await report.figure(
      "largest-logit",
      largestLogitFigure(results.asker[0], results.float64[0]),
    );
    await report.figure("dead-units", deadUnitsFigure(rows));
    await report.figure(
      "validation-accuracy",
      validationFigure(rows, collapse.classZeroShare.validation),
    );

    report.heading("Verdicts");
    for (const v of summary.verdicts) {
      report.line(`- ${v.claim}: ${v.grade.toUpperCase()}. ${v.reason}`);
    }
    return { ...summary };
  });
}
