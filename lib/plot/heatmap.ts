// Heatmaps of a value over a two-dimensional grid, e.g. the loss surface over two weights.

import { chart, type ChartSize, sixDigits, type VegaLiteSpec } from "./spec.ts";

/** One grid cell: the value at (x, y). */
export interface HeatmapCell {
  x: number;
  y: number;
  value: number;
}

export interface HeatmapOptions extends ChartSize {
  /** Either `values[row][column]` (row ↔ y, column ↔ x) or a list of cells. */
  values: number[][] | HeatmapCell[];
  /** For a `number[][]` grid: the x of each column and the y of each row; indices by default. */
  xValues?: number[];
  yValues?: number[];
  title?: string;
  xTitle?: string;
  yTitle?: string;
  valueTitle?: string;
  /** A log colour scale, for losses that span decades; cells with value ≤ 0 are left blank. */
  logColor?: boolean;
  /** Points joined in order over the surface, e.g. the weights gradient descent visited. */
  path?: { x: number; y: number }[];
}

/** Cells tile the plane: each reaches halfway to its neighbours, so uneven grids work too. */
export function heatmap(options: HeatmapOptions): VegaLiteSpec {
  const cells = toCells(options);
  const xEdges = cellEdges(cells.map((cell) => cell.x));
  const yEdges = cellEdges(cells.map((cell) => cell.y));
  const shown = cells.filter((cell) =>
    Number.isFinite(cell.value) && !(options.logColor && cell.value <= 0)
  );
  const rows = shown.map(({ x, y, value }) => ({
    x0: sixDigits(xEdges.get(x)![0]),
    x1: sixDigits(xEdges.get(x)![1]),
    y0: sixDigits(yEdges.get(y)![0]),
    y1: sixDigits(yEdges.get(y)![1]),
    value: sixDigits(value),
  }));
  const blank = cells.length - shown.length;
  const valueTitle = options.valueTitle ?? "value";
  const [xTitle, yTitle] = [options.xTitle ?? "x", options.yTitle ?? "y"];
  const text = options.title ?? `${valueTitle} over (${xTitle}, ${yTitle})`;
  const title = blank === 0
    ? text
    : { text, subtitle: `${blank} cells not finite${options.logColor ? " or ≤ 0" : ""} (blank)` };
  const exact = { nice: false, zero: false };
  const xAxis = { type: "quantitative", title: xTitle, scale: exact };
  const yAxis = { type: "quantitative", title: yTitle, scale: exact };
  const colour = { scheme: "viridis", ...(options.logColor ? { type: "log" } : {}) };
  const surface = {
    data: { values: rows },
    // Each cell overlaps its neighbours by half a pixel, hiding the hairline seams antialiasing
    // leaves; no aria label per cell keeps the SVG of a 50x50 grid small.
    mark: { type: "rect", x2Offset: 0.5, y2Offset: -0.5, aria: false },
    encoding: {
      x: { field: "x0", ...xAxis },
      x2: { field: "x1" },
      y: { field: "y0", ...yAxis },
      y2: { field: "y1" },
      color: { field: "value", type: "quantitative", title: valueTitle, scale: colour },
    },
  };
  const path = options.path === undefined ? [] : [{
    data: { values: options.path.map((point, order) => ({ ...point, order })) },
    mark: { type: "line", color: "#d62728", point: { color: "#d62728", size: 16 } },
    encoding: {
      x: { field: "x", ...xAxis },
      y: { field: "y", ...yAxis },
      order: { field: "order", type: "quantitative" },
    },
  }];
  return chart(title, { width: 320, height: 320, ...options }, { layer: [surface, ...path] });
}

function toCells(options: HeatmapOptions): HeatmapCell[] {
  const { values } = options;
  if (values.length === 0 || !Array.isArray(values[0])) return values as HeatmapCell[];
  return (values as number[][]).flatMap((row, rowIndex) =>
    row.map((value, columnIndex) => ({
      x: options.xValues?.[columnIndex] ?? columnIndex,
      y: options.yValues?.[rowIndex] ?? rowIndex,
      value,
    }))
  );
}

/** For each distinct centre: the cell's [start, end], halfway to the neighbouring centres. */
function cellEdges(centres: number[]): Map<number, [number, number]> {
  const sorted = [...new Set(centres)].sort((a, b) => a - b);
  const edges = new Map<number, [number, number]>();
  sorted.forEach((centre, i) => {
    const below = i > 0 ? (sorted[i - 1] + centre) / 2 : undefined;
    const above = i < sorted.length - 1 ? (centre + sorted[i + 1]) / 2 : undefined;
    // At the border, mirror the inner half-width; a lone centre gets a unit-wide cell.
    const start = below ?? (above === undefined ? centre - 0.5 : 2 * centre - above);
    const end = above ?? (below === undefined ? centre + 0.5 : 2 * centre - below);
    edges.set(centre, [start, end]);
  });
  return edges;
}
