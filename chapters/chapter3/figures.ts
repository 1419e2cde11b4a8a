/**
 * Chapter 3's figures as vega-lite specs, built from the experiments' results. The task saves
 * them as SVG; the notebook shows them.
 */
import {
  chart,
  heatmap,
  lineChart,
  type ReferenceRule,
  referenceRuleLayers,
  sideBySide,
  type VegaLiteSpec,
} from "../../lib/plot.ts";
import type {
  CapacityPoint,
  CapacityResult,
  DepthPoint,
  InitPoint,
  LabelNoisePoint,
  OutputPoint,
  ScaleResult,
} from "./checklist.ts";
import { toHousePrices } from "./checklist.ts";
import type { PermutationResult, SeedPair, TwoWeightResult } from "./convexity.ts";
import { NOISE_FLOOR, type Problem, X_RANGE } from "./problem.ts";
import {
  evenlySpaced,
  predictAt,
  type RunResult,
  type SettingResult,
  type Spread,
} from "./training.ts";

interface SpreadPoint {
  x: number;
  series: string;
  spread: Spread;
}

/** Mean over seeds as a line with points, and the min–max range over seeds as a vertical bar. */
export function spreadChart(options: {
  points: SpreadPoint[];
  xTitle: string;
  yTitle: string;
  title?: string | VegaLiteSpec;
  logX?: boolean;
  logY?: boolean;
  rules?: ReferenceRule[];
  seriesTitle?: string;
  width?: number;
  height?: number;
}): VegaLiteSpec {
  const rows = options.points.map(({ x, series, spread }) => ({
    x,
    series,
    mean: spread.mean,
    min: spread.min,
    max: spread.max,
  }));
  const x = {
    field: "x",
    type: "quantitative",
    title: options.xTitle,
    scale: options.logX ? { type: "log", base: 2 } : { zero: false },
    axis: { tickMinStep: 1 },
  };
  const yScale = options.logY ? { type: "log" } : {};
  const color = { field: "series", type: "nominal", title: options.seriesTitle ?? "" };
  return chart(options.title, { width: options.width ?? 320, height: options.height ?? 240 }, {
    config: wideLegend,
    layer: [
      {
        data: { values: rows },
        layer: [
          {
            mark: { type: "rule", strokeWidth: 2, opacity: 0.5 },
            encoding: {
              x,
              y: { field: "min", type: "quantitative", scale: yScale },
              y2: { field: "max" },
              color,
            },
          },
          {
            mark: { type: "line", point: true },
            encoding: {
              x,
              y: { field: "mean", type: "quantitative", title: options.yTitle, scale: yScale },
              color,
            },
          },
        ],
      },
      ...referenceRuleLayers(options.rules),
    ],
  });
}

/** Legends that show long series names in full. */
const wideLegend = { legend: { labelLimit: 0 } };

const floorRule: ReferenceRule = { y: NOISE_FLOOR, label: "noise floor σ² = 0.01" };

export function capacityFigure(capacity: CapacityResult): VegaLiteSpec {
  const points = (list: CapacityPoint[], x: (p: CapacityPoint) => number) =>
    list.flatMap((p) => [
      { x: x(p), series: "train", spread: p.result.train },
      { x: x(p), series: "validation", spread: p.result.validation },
    ]);
  return sideBySide([
    spreadChart({
      points: points(capacity.byWidth, (p) => p.width),
      xTitle: "units in the one hidden layer",
      yTitle: "MSE (mean, min–max over seeds)",
      title: "Wider",
      logX: true,
      logY: true,
      rules: [floorRule],
    }),
    spreadChart({
      points: points(capacity.byDepth, (p) => p.depth),
      xTitle: `hidden layers of ${capacity.depthWidth} units`,
      yTitle: "MSE",
      title: "Deeper",
      logY: true,
      rules: [floorRule],
    }),
  ], "Training MSE falls to the noise floor, then below it; validation MSE cannot follow");
}

export function labelNoiseFigure(points: LabelNoisePoint[]): VegaLiteSpec {
  const spec = spreadChart({
    points: points.flatMap((p) => [
      { x: p.noiseStd, series: "train", spread: p.result.train },
      { x: p.noiseStd, series: "validation", spread: p.result.validation },
    ]),
    xTitle: "noise standard deviation σ",
    yTitle: "MSE after training",
    title: { text: "The floor is σ², whatever the network", subtitle: "dashed: σ²" },
  });
  const curve = evenlySpaced(0, Math.max(...points.map((p) => p.noiseStd)), 31).map((s) => ({
    s,
    floor: s * s,
  }));
  (spec.layer as VegaLiteSpec[]).push({
    data: { values: curve },
    mark: { type: "line", color: "#666", strokeDash: [4, 4] },
    encoding: {
      x: { field: "s", type: "quantitative" },
      y: { field: "floor", type: "quantitative" },
    },
  });
  return spec;
}

/** Fitted curves over x with the training points, e.g. for the output activations. */
export function fitsFigure(options: {
  curves: { series: string; xs: number[]; ys: number[] }[];
  points: { x: number; y: number }[];
  title: string;
  xTitle?: string;
  yTitle?: string;
  yDomain?: [number, number];
}): VegaLiteSpec {
  const lines = options.curves.flatMap(({ series, xs, ys }) =>
    xs.map((x, i) => ({ x, y: ys[i], series }))
  );
  const y = {
    field: "y",
    type: "quantitative",
    title: options.yTitle ?? "y",
    ...(options.yDomain ? { scale: { domain: options.yDomain, clamp: true } } : {}),
  };
  return chart(options.title, { width: 420, height: 260 }, {
    config: wideLegend,
    layer: [
      {
        data: { values: options.points },
        mark: { type: "point", color: "#888", size: 16 },
        encoding: { x: { field: "x", type: "quantitative", title: options.xTitle ?? "x" }, y },
      },
      {
        data: { values: lines },
        mark: { type: "line", clip: true },
        encoding: {
          x: { field: "x", type: "quantitative" },
          y,
          color: { field: "series", type: "nominal", title: "" },
        },
      },
    ],
  });
}

const FIT_XS = evenlySpaced(X_RANGE[0], X_RANGE[1], 121);

async function fitCurve(series: string, run: RunResult) {
  return { series, xs: FIT_XS, ys: await predictAt(run.model, FIT_XS) };
}

function trainingPoints(problem: Problem) {
  return Array.from(problem.train.inputs, (x, i) => ({ x, y: problem.train.targets![i] }));
}

export async function outputActivationFigure(
  points: OutputPoint[],
  problem: Problem,
): Promise<VegaLiteSpec> {
  const curves = [];
  for (const p of points) curves.push(await fitCurve(p.label, p.result.runs[0]));
  return fitsFigure({
    curves,
    points: trainingPoints(problem),
    title: "A sigmoid output cannot leave (0, 1), a ReLU output cannot go below 0 (first seed)",
  });
}

export async function initFitsFigure(points: InitPoint[], problem: Problem): Promise<VegaLiteSpec> {
  const curves = [];
  for (const p of points.filter((p) => p.optimizer.name === "adam")) {
    curves.push(await fitCurve(`${p.label}`, p.result.runs[0]));
  }
  return fitsFigure({
    curves,
    points: trainingPoints(problem),
    title: "Initial weight scale, after training with Adam (first seed)",
    yDomain: [-3, 3],
  });
}

export function scaleFitsFigure(scale: ScaleResult, problem: Problem): VegaLiteSpec {
  const house = toHousePrices(problem.train);
  return fitsFigure({
    curves: [
      { series: "raw units, 1 hidden layer", xs: scale.fits.squareFeet, ys: scale.fits.raw },
      {
        series: "standardised, 1 hidden layer",
        xs: scale.fits.squareFeet,
        ys: scale.fits.standardised,
      },
    ],
    points: Array.from(house.inputs, (x, i) => ({ x, y: house.targets![i] })),
    title: "The same network on raw house prices never leaves zero",
    xTitle: "square feet",
    yTitle: "price ($)",
  });
}

export function learningCurvesFigure(
  groups: { label: string; result: SettingResult }[],
  title: string,
): VegaLiteSpec {
  const data = groups.flatMap(({ label, result }) =>
    result.runs[0].curve.map(({ step, mse }) => ({ x: step, y: mse, series: label }))
  );
  return withWideLegend(lineChart({
    data,
    xTitle: "step",
    yTitle: "training MSE (first seed)",
    title,
    logY: true,
    seriesTitle: "",
    rules: [floorRule],
  }));
}

function withWideLegend(spec: VegaLiteSpec): VegaLiteSpec {
  return { ...spec, config: wideLegend };
}

export function depthFigure(points: DepthPoint[]): VegaLiteSpec {
  return spreadChart({
    points: points.map((p) => ({ x: p.depth, series: p.activation, spread: p.result.train })),
    xTitle: "hidden layers (8 units each)",
    yTitle: "training MSE after 1,000 steps",
    title: "Deeper is not always better in a fixed budget",
    logY: true,
    rules: [floorRule],
    seriesTitle: "activation",
  });
}

/**
 * The two-weight loss surface. The colour is √L = |w2 w1 − 1|, which spreads the low values
 * (valleys at 0, saddle at 1) that a linear scale of L would crowd into one colour.
 */
export function lossSurfaceFigure(result: TwoWeightResult): VegaLiteSpec {
  const spec = heatmap({
    values: result.surface.loss.map((row) => row.map(Math.sqrt)),
    xValues: result.surface.w1s,
    yValues: result.surface.w2s,
    xTitle: "w1",
    yTitle: "w2",
    valueTitle: "√L = |w2 w1 − 1|",
    title: "ŷ = w2·w1·x on (x, y) = (1, 1): two valleys, a saddle between",
    width: 300,
    height: 300,
  });
  const paths = result.descents.flatMap((d) =>
    d.path.map((p, order) => ({ x: p.w1, y: p.w2, order, start: `(${d.start.join(", ")})` }))
  );
  const marked = [
    { x: result.minimumA.w1, y: result.minimumA.w2, text: `L = ${result.minimumA.loss}` },
    { x: result.minimumB.w1, y: result.minimumB.w2, text: `L = ${result.minimumB.loss}` },
    { x: result.midpoint.w1, y: result.midpoint.w2, text: `saddle, L = ${result.midpoint.loss}` },
  ];
  const at = { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } };
  (spec.layer as VegaLiteSpec[]).push(
    {
      data: { values: paths },
      mark: { type: "line", color: "#d62728", point: { color: "#d62728", size: 10 } },
      encoding: { ...at, detail: { field: "start" }, order: { field: "order" } },
    },
    {
      data: { values: marked },
      layer: [
        { mark: { type: "point", color: "white", filled: true, size: 40 }, encoding: at },
        {
          mark: { type: "text", color: "white", align: "left", dx: 6, dy: -6, fontWeight: "bold" },
          encoding: { ...at, text: { field: "text" } },
        },
      ],
    },
  );
  return spec;
}

export function segmentFigure(permutation: PermutationResult, pairs: SeedPair[]): VegaLiteSpec {
  const data = [
    ...permutation.path.map((p) => ({
      x: p.alpha,
      y: p.mse,
      series: "trained net → its unit permutation",
    })),
    ...pairs.flatMap((pair) =>
      pair.path.map((p) => ({
        x: p.alpha,
        y: p.mse,
        series: `seed ${pair.seeds[0]} → seed ${pair.seeds[1]}`,
      }))
    ),
  ];
  return withWideLegend(lineChart({
    data,
    xTitle: "α along the straight line (1 − α) θ₀ + α θ₁",
    yTitle: "training MSE",
    title: "Equally good minima with worse points between them",
    logY: true,
    seriesTitle: "",
    rules: [floorRule],
  }));
}
