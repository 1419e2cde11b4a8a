/**
 * Chapter 1's figures, as vega-lite specs. Each title states what to see.
 */
import { barChart, lineChart, type VegaLiteSpec } from "../../lib/plot.ts";
import type { RunResult } from "./reproduce.ts";
import type { SweepRow } from "./sweep.ts";

/** "Behind" in the sweep figure's title: by more than this in test accuracy. */
export const BEHIND_BY = 0.01;

/** Validation accuracy along training: the correct metric of both heads, and the broadcast one. */
export function accuracyCurvesFigure(runs: RunResult[]): VegaLiteSpec {
  return lineChart({
    data: runs.flatMap((run) =>
      run.measurements.flatMap((m) => [
        { x: m.epoch, y: m.accuracy, series: `${run.config.head} head: accuracy` },
        { x: m.epoch, y: m.broadcastAccuracy, series: `${run.config.head} head: broadcast N x N` },
        {
          x: m.epoch,
          y: m.batchBroadcastAccuracy,
          series: `${run.config.head} head: broadcast per batch`,
        },
      ])
    ),
    xTitle: "epoch",
    yTitle: "validation accuracy",
    rules: [{ y: 0.1, label: "1/10" }],
    title: "The correct accuracy climbs; the broadcast metric stays near 1/10",
  });
}

/** Validation loss along training, both heads. */
export function lossCurvesFigure(runs: RunResult[]): VegaLiteSpec {
  return lineChart({
    data: runs.flatMap((run) =>
      run.measurements.map((m) => ({
        x: m.epoch,
        y: m.validationLoss,
        series: `${run.config.head} head`,
      }))
    ),
    xTitle: "epoch",
    yTitle: "validation cross-entropy",
    rules: [{ y: Math.log(10), label: "ln 10" }, { y: 0.9 * Math.log(2), label: "0.9 ln 2" }],
    title: "The loss falls with either head",
  });
}

/** The sweep figure's claim, counted: in how many runs the ReLU head ends behind. */
export function sweepTitle(rows: SweepRow[]): string {
  const relu = rows.filter((r) => r.head === "relu");
  const behind = relu.filter((r) => {
    const linear = rows.find((l) =>
      l.head === "linear" && l.seed === r.seed && l.optimizer === r.optimizer
    )!;
    return r.validationAccuracy < linear.validationAccuracy - BEHIND_BY;
  });
  return `The ReLU head ends more than ${BEHIND_BY} behind the linear head in ${behind.length} of ${relu.length} runs`;
}

/** Validation accuracy of every sweep run, by optimiser and seed, the two heads side by side. */
export function sweepFigure(rows: SweepRow[]): VegaLiteSpec {
  return barChart({
    data: rows.map((r) => ({
      category: `${r.optimizer}, seed ${r.seed}`,
      value: r.validationAccuracy,
      group: `${r.head} head`,
    })),
    yTitle: "validation accuracy",
    groupTitle: "head",
    title: sweepTitle(rows),
  });
}
