/**
 * Plotting: functions that build vega-lite specs from training results, and ways to see them.
 *
 * A spec is plain JSON, built without loading any plotting library. Rendering it (to SVG, or in a
 * notebook) loads vega and vega-lite from npm on first use.
 *
 *   const spec = learningCurves(history, { metric: "loss" });
 *   await show(spec);                              // in a notebook: live chart and SVG
 *   await saveSvg(spec, "out/chapter1/loss.svg");  // from a task or a script
 *
 * @module
 */
export {
  chart,
  type ChartSize,
  finiteOrNull,
  type ReferenceRule,
  referenceRuleLayers,
  sideBySide,
  sixDigits,
  stacked,
  VEGA_LITE_SCHEMA,
  type VegaLiteSpec,
} from "./spec.ts";
export {
  type LearningCurveEpoch,
  type LearningCurveOptions,
  type LearningCurveRun,
  learningCurves,
  lineChart,
  type LineChartOptions,
  type LinePoint,
} from "./lines.ts";
export {
  type BinOptions,
  type Bins,
  binValues,
  histogram,
  type HistogramOptions,
  type HistogramSnapshot,
  histogramsOverTime,
  type HistogramsOverTimeOptions,
} from "./histogram.ts";
export { type Bar, barChart, type BarChartOptions } from "./bars.ts";
export { heatmap, type HeatmapCell, type HeatmapOptions } from "./heatmap.ts";
export { imageGrid, type ImageGridOptions } from "./images.ts";
export { encodeGreyscalePng, greyscalePngDataUrl } from "./png.ts";
export { compileToVega, renderSvg, saveSvg } from "./render.ts";
export { mimeBundle, show, showTable, showText, VEGA_LITE_MIME_TYPE } from "./jupyter.ts";
