/**
 * Chapter 6's figures as vega-lite specs, built from one seed's progress lines. The task saves
 * them as SVG; the notebook shows them.
 */
import { lineChart, type VegaLiteSpec } from "../../lib/plot.ts";
import { LN2 } from "../../lib/metrics.ts";
import type { SeedEvidence } from "./diagnose.ts";

/** The printed accuracies per progress line: the training line flat, the validation line cycling. */
export function progressFigure(e: SeedEvidence, period: number): VegaLiteSpec {
  const points = e.tf1Sgd.lines.flatMap((l) => [
    { x: l.iteration, y: l.trainAccuracy, series: "training batch (TF1)" },
    { x: l.iteration, y: l.validationAccuracy, series: "validation batch (TF1)" },
  ]).concat(e.tf2Adam.lines.map((l) => ({
    x: l.iteration,
    y: l.validationAccuracy,
    series: "validation batch (TF2)",
  })));
  return lineChart({
    data: points,
    xTitle: "iteration (a progress line every 50)",
    yTitle: "printed accuracy",
    title:
      `Seed ${e.seed}: the TF1 training line never moves; its validation line repeats every ${period} lines`,
    seriesTitle: "what is printed",
  });
}

/** The buggy loss per progress line: TF1 stays put, TF2 falls to 0 (entropy) while accuracy is at chance. */
export function lossFigure(e: SeedEvidence): VegaLiteSpec {
  const points = [
    ...e.tf1Sgd.lines.map((l) => ({
      x: l.iteration,
      y: l.loss,
      series: "TF1 (labels held constant)",
    })),
    ...e.tf2Adam.lines.map((l) => ({
      x: l.iteration,
      y: l.loss,
      series: "TF2 (gradient into labels)",
    })),
  ];
  return lineChart({
    data: points,
    xTitle: "iteration",
    yTitle: "loss with labels = softmax(logits)",
    logY: true,
    title: `Seed ${e.seed}: the TF2 loss (the predictions' entropy) falls to 0 at chance accuracy`,
    seriesTitle: "semantics",
    rules: [{ y: LN2, label: "ln 2" }],
  });
}
