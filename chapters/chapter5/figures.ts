/**
 * The chapter's figures as vega-lite specs, built from the runs. The task saves them as SVG;
 * the notebook shows them.
 */
import { barChart, lineChart, type VegaLiteSpec } from "../../lib/plot.ts";
import { FLOAT32_EXP_LIMIT, FLOAT64_EXP_LIMIT } from "./question.ts";
import type { GroupRow } from "./results.ts";
import type { RunResult } from "./training.ts";

/** Training accuracy per epoch, one line per seed, with the share of class 0 as a rule. */
export function collapseFigure(runs: RunResult[]): VegaLiteSpec {
  return lineChart({
    title: "The asker's setting: each seed learns, then falls to the share of class 0",
    data: runs.flatMap((run) =>
      run.epochs.map((e) => ({ x: e.epoch, y: e.trainAccuracy, series: `seed ${run.seed}` }))
    ),
    xTitle: "epoch",
    yTitle: "training accuracy",
    seriesTitle: "run",
    yDomain: [0, 1],
    rules: [{ y: runs[0].classZeroShare.train, label: "share of class 0" }],
  });
}

/** The largest logit of each step: the float32 run and the same run in float64. */
export function largestLogitFigure(float32: RunResult, float64: RunResult): VegaLiteSpec {
  const points = (run: RunResult, series: string) =>
    Array.from(run.largestLogitPerStep, (y, i) => ({ x: i + 1, y, series }))
      .filter((p) => Number.isFinite(p.y));
  return lineChart({
    title: `Seed ${float32.seed}: float32 breaks where the largest logit passes 88.72; ` +
      "float64 goes on",
    data: [...points(float32, "float32"), ...points(float64, "float64")],
    xTitle: "step",
    yTitle: "largest logit in the batch",
    seriesTitle: "dtype",
    rules: [
      { y: FLOAT32_EXP_LIMIT, label: "ln(max float32) = 88.72" },
      { y: FLOAT64_EXP_LIMIT, label: "ln(max float64) = 709.78" },
    ],
  });
}

/** Mean dead share of each hidden layer, per group of runs. */
export function deadUnitsFigure(groups: GroupRow[]): VegaLiteSpec {
  return barChart({
    title: "Dead ReLU units (zero on all 500 images), mean over seeds",
    data: groups.flatMap((g) => [
      { category: g.short, value: g.deadFirstLayer.mean, group: "hidden layer 1" },
      { category: g.short, value: g.deadSecondLayer.mean, group: "hidden layer 2" },
    ]),
    yTitle: "share of units dead",
    groupTitle: "layer",
    width: 640,
  });
}

/** Mean validation accuracy per group of runs, with the share of class 0 as a rule. */
export function validationFigure(groups: GroupRow[], classZeroShare: number): VegaLiteSpec {
  return barChart({
    title: "Validation accuracy on 2,000 test images, mean over seeds",
    data: groups.map((g) => ({ category: g.short, value: g.validationAccuracy.mean })),
    yTitle: "validation accuracy",
    rules: [{ y: classZeroShare, label: "share of class 0" }],
    width: 640,
  });
}
