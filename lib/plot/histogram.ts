// Histograms, binned here in JavaScript so a spec carries counts, not 100k raw values.

import { chart, type ChartSize, sixDigits, type VegaLiteSpec } from "./spec.ts";

/** Equal-width bins: `counts[i]` values fell in [edges[i], edges[i + 1]); the last bin is closed. */
export interface Bins {
  edges: number[];
  counts: number[];
  /** NaN and ±Infinity, which no bin holds. */
  nonFinite: number;
  /** Finite values outside an explicit `min`/`max`. */
  outOfRange: number;
}

export interface BinOptions {
  bins?: number;
  min?: number;
  max?: number;
}

export const DEFAULT_BIN_COUNT = 30;

/** Counts values into `bins` equal-width bins spanning [min, max] (by default the data's range). */
export function binValues(values: ArrayLike<number>, options: BinOptions = {}): Bins {
  const binCount = options.bins ?? DEFAULT_BIN_COUNT;
  if (!Number.isInteger(binCount) || binCount < 1) {
    throw new RangeError(`bins must be a positive integer, got ${binCount}`);
  }
  const [dataMin, dataMax] = finiteExtent(values) ?? [0, 1]; // no finite values: empty bins
  let [min, max] = [options.min ?? dataMin, options.max ?? dataMax];
  if (min === max) [min, max] = [min - 0.5, max + 0.5]; // one value: a unit-wide range around it
  const edges = Array.from(
    { length: binCount + 1 },
    (_, i) => i === binCount ? max : min + (max - min) * i / binCount,
  );
  const counts = new Array<number>(binCount).fill(0);
  let nonFinite = 0;
  let outOfRange = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isFinite(value)) nonFinite++;
    else if (value < min || value > max) outOfRange++;
    else counts[Math.min(binCount - 1, Math.floor((value - min) / (max - min) * binCount))]++;
  }
  return { edges, counts, nonFinite, outOfRange };
}

/** The smallest and largest finite value, or undefined if there is none. */
function finiteExtent(values: ArrayLike<number>): [number, number] | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) {
      [min, max] = [Math.min(min, values[i]), Math.max(max, values[i])];
    }
  }
  return min <= max ? [min, max] : undefined;
}

export interface HistogramOptions extends ChartSize, BinOptions {
  values: ArrayLike<number>;
  title?: string;
  xTitle?: string;
}

/** The distribution of one set of values; a subtitle counts the values no bin could hold. */
export function histogram(options: HistogramOptions): VegaLiteSpec {
  const { edges, counts, nonFinite, outOfRange } = binValues(options.values, options);
  const rows = counts.map((count, i) => ({
    binStart: sixDigits(edges[i]),
    binEnd: sixDigits(edges[i + 1]),
    count,
  }));
  const notShown = [
    ...(nonFinite > 0 ? [`${nonFinite} non-finite`] : []),
    ...(outOfRange > 0 ? [`${outOfRange} out of range`] : []),
  ];
  const text = options.title ?? "Histogram";
  const subtitle = `${options.values.length} values` +
    (notShown.length > 0 ? `; not shown: ${notShown.join(", ")}` : "");
  return chart({ text, subtitle }, options, {
    data: { values: rows },
    mark: { type: "bar", binSpacing: 0, stroke: "white", strokeWidth: 0.5 },
    encoding: {
      x: {
        field: "binStart",
        type: "quantitative",
        bin: "binned",
        title: options.xTitle ?? "value",
      },
      x2: { field: "binEnd" },
      y: { field: "count", type: "quantitative", title: "count (values per bin)" },
    },
  });
}

/** The values of one quantity (a layer's biases, say) at one training step. */
export interface HistogramSnapshot {
  step: number;
  values: ArrayLike<number>;
}

export interface HistogramsOverTimeOptions extends ChartSize {
  snapshots: HistogramSnapshot[];
  bins?: number;
  title?: string;
  xTitle?: string;
  valueTitle?: string;
}

/**
 * How a distribution moves during training: one column per snapshot, one cell per value bin,
 * shaded by the share of that snapshot's values in the bin, with the mean drawn over it in red.
 * All snapshots share one set of bins, so a shift shows as the dark band moving up or down.
 */
export function histogramsOverTime(options: HistogramsOverTimeOptions): VegaLiteSpec {
  const { snapshots } = options;
  const [min, max] = sharedRange(snapshots);
  const cells = [];
  const means = [];
  for (const { step, values } of snapshots) {
    const { edges, counts, nonFinite } = binValues(values, { bins: options.bins, min, max });
    const finiteCount = values.length - nonFinite;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] === 0) continue; // empty cells stay white
      cells.push({
        step,
        binStart: sixDigits(edges[i]),
        binEnd: sixDigits(edges[i + 1]),
        share: sixDigits(counts[i] / finiteCount),
      });
    }
    if (finiteCount > 0) means.push({ step, mean: sixDigits(finiteMean(values)) });
  }
  const stepAxis = {
    field: "step",
    type: "ordinal",
    title: options.xTitle ?? "training step",
    sort: snapshots.map((snapshot) => snapshot.step),
    axis: { labelOverlap: "parity", labelAngle: 0 },
  };
  const valueTitle = options.valueTitle ?? "value";
  const title = {
    text: options.title ?? `Distribution of ${valueTitle} over training`,
    subtitle: "red line: the mean at each step",
  };
  return chart(title, options, {
    layer: [
      {
        data: { values: cells },
        mark: { type: "rect", aria: false },
        encoding: {
          x: stepAxis,
          y: { field: "binStart", type: "quantitative", title: valueTitle, scale: { zero: false } },
          y2: { field: "binEnd" },
          color: {
            field: "share",
            type: "quantitative",
            title: "share of values",
            scale: { scheme: "blues" },
            legend: { format: ".0%" },
          },
        },
      },
      {
        data: { values: means },
        mark: { type: "line", color: "#d62728", point: { color: "#d62728", size: 12 } },
        encoding: { x: stepAxis, y: { field: "mean", type: "quantitative" } },
      },
    ],
  });
}

function sharedRange(snapshots: HistogramSnapshot[]): [number, number] {
  const extents = snapshots.flatMap(({ values }) => {
    const extent = finiteExtent(values);
    return extent === undefined ? [] : [extent];
  });
  if (extents.length === 0) return [0, 1];
  return [Math.min(...extents.map(([min]) => min)), Math.max(...extents.map(([, max]) => max))];
}

function finiteMean(values: ArrayLike<number>): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) [sum, count] = [sum + values[i], count + 1];
  }
  return sum / count;
}
