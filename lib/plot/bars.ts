// Bar charts: one number per category, optionally grouped (e.g. dead-unit fraction per layer, per run).

import {
  chart,
  type ChartSize,
  finiteOrNull,
  type ReferenceRule,
  referenceRuleLayers,
  type VegaLiteSpec,
} from "./spec.ts";

/** One bar; bars that share a `category` and differ in `group` stand side by side. */
export interface Bar {
  category: string;
  value: number;
  group?: string;
}

export interface BarChartOptions extends ChartSize {
  data: Bar[];
  title?: string;
  xTitle?: string;
  yTitle?: string;
  groupTitle?: string;
  rules?: ReferenceRule[];
}

/** Categories keep the order they come in, and so do groups. */
export function barChart(options: BarChartOptions): VegaLiteSpec {
  const rows = options.data.map((bar) => ({ ...bar, value: finiteOrNull(bar.value) }));
  const groups = [...new Set(rows.flatMap((bar) => bar.group === undefined ? [] : [bar.group]))];
  const grouping = groups.length === 0 ? {} : {
    color: {
      field: "group",
      type: "nominal",
      title: options.groupTitle ?? "group",
      scale: { domain: groups },
    },
    xOffset: { field: "group", type: "nominal", scale: { domain: groups } },
  };
  const bars = {
    data: { values: rows },
    mark: { type: "bar" },
    encoding: {
      x: {
        field: "category",
        type: "nominal",
        title: options.xTitle ?? null,
        sort: null,
        axis: { labelAngle: 0 },
      },
      y: { field: "value", type: "quantitative", title: options.yTitle ?? "value" },
      ...grouping,
    },
  };
  return chart(options.title, options, { layer: [bars, ...referenceRuleLayers(options.rules)] });
}
