// Line charts: learning curves per epoch, and any series over steps.

import {
  chart,
  type ChartSize,
  finiteOrNull,
  type ReferenceRule,
  referenceRuleLayers,
  type VegaLiteSpec,
} from "./spec.ts";

/** One epoch's numbers; lib/train.ts's EpochRecord fits, and so does its History for a run. */
export interface LearningCurveEpoch {
  epoch: number;
  trainLoss: number;
  trainAccuracy?: number;
  validationLoss?: number;
  validationAccuracy?: number;
}

/** One training run; `label` names it in the legend when several runs share a chart. */
export interface LearningCurveRun {
  label?: string;
  epochs: LearningCurveEpoch[];
}

export interface LearningCurveOptions extends ChartSize {
  metric: "loss" | "accuracy";
  title?: string;
  yTitle?: string;
  logY?: boolean;
  yDomain?: [number, number];
}

/**
 * Train (solid) and validation (dashed) curves per epoch; several runs, or a labelled one, are
 * told apart by colour and by the shape of their points.
 * Accuracy is a fraction in [0, 1], shown as a percentage on a full 0-100 % axis by default.
 */
export function learningCurves(
  histories: LearningCurveRun | LearningCurveRun[],
  options: LearningCurveOptions,
): VegaLiteSpec {
  const runs = Array.isArray(histories) ? histories : [histories];
  const isLoss = options.metric === "loss";
  const rows = runs.flatMap((history, index) => {
    const run = history.label ?? `run ${index + 1}`;
    return history.epochs.flatMap(({ epoch, ...record }) => {
      const train = isLoss ? record.trainLoss : record.trainAccuracy;
      const validation = isLoss ? record.validationLoss : record.validationAccuracy;
      return [
        ...(train === undefined ? [] : [{ epoch, run, split: "train", value: train }]),
        ...(validation === undefined
          ? []
          : [{ epoch, run, split: "validation", value: validation }]),
      ].map((row) => ({ ...row, value: plottable(row.value, options.logY) }));
    });
  });
  const epochs = [...new Set(rows.map((row) => row.epoch))].sort((a, b) => a - b);
  // Colour and the points' shape tell runs apart (a run that hides under another still shows its
  // marks), so a single unnamed run needs neither.
  const pointsShown = epochs.length <= 30;
  const colour = runs.length > 1 || runs[0]?.label !== undefined
    ? {
      color: { field: "run", type: "nominal", title: "run" },
      ...(pointsShown ? { shape: { field: "run", type: "nominal", title: "run" } } : {}),
    }
    : {};
  return chart(options.title ?? (isLoss ? "Loss per epoch" : "Accuracy per epoch"), options, {
    data: { values: rows },
    mark: {
      type: "line",
      point: pointsShown ? { size: 70, filled: false, strokeWidth: 2 } : false,
    },
    encoding: {
      x: {
        field: "epoch",
        type: "quantitative",
        title: "epoch",
        // A tick at each epoch, rather than at 1.5 and 2.5, while they fit.
        ...(epochs.length <= 12 ? { axis: { values: epochs } } : {}),
      },
      y: {
        field: "value",
        type: "quantitative",
        title: options.yTitle ??
          (isLoss ? "loss (mean per example)" : "accuracy (% of examples correct)"),
        scale: yScale(options.logY, options.yDomain ?? (isLoss ? undefined : [0, 1])),
        ...(isLoss ? {} : { axis: { format: ".0%" } }),
      },
      ...colour,
      strokeDash: {
        field: "split",
        type: "nominal",
        title: "split",
        scale: { domain: ["train", "validation"], range: [[1, 0], [7, 4]] },
        // With points on the lines, vega-lite would draw these legend symbols without a stroke.
        legend: {
          symbolType: "stroke",
          encode: { symbols: { update: { stroke: { value: "#555" } } } },
        },
      },
    },
  });
}

/** One point of a line; points that share a `series` are joined. */
export interface LinePoint {
  x: number;
  y: number;
  series?: string;
}

export interface LineChartOptions extends ChartSize {
  data: LinePoint[];
  xTitle: string;
  yTitle: string;
  title?: string;
  seriesTitle?: string;
  logY?: boolean;
  yDomain?: [number, number];
  rules?: ReferenceRule[];
}

/** A general line chart, e.g. loss per step, with optional reference lines (ln 10, a noise floor). */
export function lineChart(options: LineChartOptions): VegaLiteSpec {
  const rows = options.data.map((point) => ({ ...point, y: plottable(point.y, options.logY) }));
  const hasSeries = rows.some((point) => point.series !== undefined);
  const line = {
    data: { values: rows },
    mark: {
      type: "line",
      ...(rows.length <= 30 ? { point: { size: 70, filled: false, strokeWidth: 2 } } : {}),
    },
    encoding: {
      x: {
        field: "x",
        type: "quantitative",
        title: options.xTitle,
        // Epochs and steps are whole numbers: no ticks at 0.2, 0.4, ...
        ...(rows.every((point) => Number.isInteger(point.x))
          ? { axis: { tickMinStep: 1, format: "d" } }
          : {}),
      },
      y: {
        field: "y",
        type: "quantitative",
        title: options.yTitle,
        scale: yScale(options.logY, options.yDomain),
      },
      // Colour and, where points are drawn, their shape tell the series apart.
      ...(hasSeries
        ? {
          color: { field: "series", type: "nominal", title: options.seriesTitle ?? "series" },
          ...(rows.length <= 30
            ? {
              shape: { field: "series", type: "nominal", title: options.seriesTitle ?? "series" },
            }
            : {}),
        }
        : {}),
    },
  };
  return chart(options.title, options, {
    layer: [line, ...referenceRuleLayers(options.rules)],
  });
}

/** A log axis cannot show zero or negative values, so those become gaps like NaN does. */
function plottable(value: number, logY = false): number | null {
  return logY && value <= 0 ? null : finiteOrNull(value);
}

function yScale(logY = false, domain?: [number, number]): VegaLiteSpec {
  return {
    ...(logY ? { type: "log" } : {}),
    ...(domain === undefined ? {} : { domain }),
  };
}
