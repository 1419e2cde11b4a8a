/**
 * The chapter's figures, as vega-lite specs. The bias histograms are drawn twice, as TensorBoard
 * would and as a reader should: one x-axis shared by the three layers, and each panel autoscaled
 * to its own values (TensorBoard's default), where a spread of 0.01 fills the panel like a
 * spread of 1 does.
 */
import { binValues } from "../../lib/plot/histogram.ts";
import { chart, sixDigits, VEGA_LITE_SCHEMA, type VegaLiteSpec } from "../../lib/plot/spec.ts";
import type { ChapterResults } from "./experiments.ts";
import type { RunResult } from "./training.ts";

const LAYER_NAMES = ["linear1 (hidden 1)", "linear2 (hidden 2)", "linear3 (output)"];
const BINS = 30;

/** One panel: a histogram line per snapshot, darker for later steps. */
function biasPanel(
  run: RunResult,
  layer: number,
  domain: [number, number],
  title: string,
): VegaLiteSpec {
  const rows = run.snapshots.flatMap(({ step, biases }) => {
    const { edges, counts } = binValues(biases[layer], {
      bins: BINS,
      min: domain[0],
      max: domain[1],
    });
    return counts.map((count, i) => ({
      step,
      value: sixDigits((edges[i] + edges[i + 1]) / 2),
      share: sixDigits(count / biases[layer].length),
    }));
  });
  const { $schema: _schema, ...spec } = chart(title, { width: 230, height: 150 }, {
    data: { values: rows },
    mark: { type: "line", interpolate: "step", strokeWidth: 1.2 },
    encoding: {
      x: {
        field: "value",
        type: "quantitative",
        title: "bias value",
        scale: { domain: domain.map(sixDigits), nice: false },
      },
      y: { field: "share", type: "quantitative", title: "share of biases" },
      color: {
        field: "step",
        type: "quantitative",
        title: "training step",
        scale: { scheme: "viridis" },
      },
      detail: { field: "step", type: "quantitative" },
    },
  });
  return spec;
}

function extent(values: ArrayLike<number>[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const list of values) {
    for (let i = 0; i < list.length; i++) [lo, hi] = [Math.min(lo, list[i]), Math.max(hi, list[i])];
  }
  if (lo === hi) [lo, hi] = [lo - 0.005, hi + 0.005];
  return [lo, hi];
}

/**
 * The three layers' biases over training: the left column on one shared x-axis, the right
 * column with each panel autoscaled (TensorBoard style).
 */
export function biasHistogramsFigure(run: RunResult, title?: string): VegaLiteSpec {
  const all = run.snapshots.flatMap((s) => s.biases);
  const shared = extent(all);
  const rows = LAYER_NAMES.map((name, layer) => {
    const own = extent(run.snapshots.map((s) => s.biases[layer]));
    return {
      hconcat: [
        biasPanel(run, layer, shared, `${name}: shared axis`),
        biasPanel(run, layer, own, `${name}: autoscaled`),
      ],
    };
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: title ??
        `${run.setting.label}, seed ${run.seed}: on a shared axis only the output biases move`,
      subtitle: `N = ${run.trainCount.toLocaleString("en-US")}; one line per snapshot, ` +
        `steps 0-${run.snapshots.at(-1)!.step}`,
    },
    vconcat: rows,
    resolve: { scale: { color: "shared" } },
  };
}

/** Bias-gradient RMS per layer for each setting, mean over seeds, on a log axis. */
export function gradientRmsFigure(results: ChapterResults): VegaLiteSpec {
  const settings = [results.reproduce, results.relu, results.adam, results.tanh];
  const rows = settings.flatMap((runs) =>
    LAYER_NAMES.map((layer, i) => ({
      setting: runs[0].setting.label,
      layer,
      rms: sixDigits(runs.reduce((sum, r) => sum + r.biasGradientRms[i], 0) / runs.length),
    }))
  );
  return chart(
    {
      text: "Bias gradients: the output layer's are the largest under SGD",
      subtitle: `RMS of ∂L/∂b over the steps, mean of ${results.seeds.length} seeds`,
    },
    { width: 150, height: 200 },
    {
      data: { values: rows },
      // Points, not bars: a bar on a log axis has no zero to start from.
      mark: { type: "point", filled: true, size: 90 },
      encoding: {
        column: { field: "setting", type: "nominal", title: null },
        x: { field: "layer", type: "nominal", title: null, axis: { labelAngle: -40 } },
        y: { field: "rms", type: "quantitative", scale: { type: "log" }, title: "RMS of ∂L/∂b" },
        color: { field: "layer", type: "nominal", legend: null },
      },
    },
  );
}

/** Mean activation of the top hidden layer per step, one line per seed. */
export function topHiddenFigure(runs: RunResult[], steps = 100): VegaLiteSpec {
  const rows = runs.flatMap((run) =>
    run.topHiddenMean.slice(0, steps).map((value, i) => ({
      step: i + 1,
      seed: `seed ${run.seed}`,
      value: sixDigits(value),
    }))
  );
  return chart(
    {
      text: "The top sigmoid layer saturates towards 0 within a few steps",
      subtitle: `${runs[0].setting.label}: mean activation of hidden layer 2 on each batch`,
    },
    {},
    {
      data: { values: rows },
      mark: "line",
      encoding: {
        x: { field: "step", type: "quantitative", title: "training step" },
        y: {
          field: "value",
          type: "quantitative",
          title: "mean activation",
          scale: { domain: [0, 0.5] },
        },
        color: { field: "seed", type: "nominal", title: null },
      },
    },
  );
}

/** Train and test accuracy at each snapshot for N = 500 and N = 30,000, one line per seed. */
export function learningCurvesFigure(results: ChapterResults): VegaLiteSpec {
  const rows = [...results.small, ...results.reproduce].flatMap((run) =>
    run.snapshots.flatMap(({ step, trainAccuracy, testAccuracy }) => [
      { step, run: `N = ${run.trainCount}, train`, seed: run.seed, accuracy: trainAccuracy },
      { step, run: `N = ${run.trainCount}, test`, seed: run.seed, accuracy: testAccuracy },
    ])
  );
  return chart(
    {
      text: "Learning curves show overfitting where the histogram cannot: N = 500 against 30,000",
      subtitle: `accuracy on ${results.budget.run.curveRows} training and test rows at each ` +
        "snapshot; a line per seed",
    },
    { width: 520 },
    {
      data: { values: rows },
      mark: { type: "line", point: { size: 10 } },
      encoding: {
        x: { field: "step", type: "quantitative", title: "training step" },
        y: {
          field: "accuracy",
          type: "quantitative",
          title: "accuracy",
          scale: { domain: [0, 1] },
        },
        color: { field: "run", type: "nominal", title: null },
        strokeDash: {
          condition: { test: "indexof(datum.run, 'test') >= 0", value: [4, 3] },
          value: [1, 0],
        },
        detail: { field: "seed", type: "nominal" },
      },
    },
  );
}
