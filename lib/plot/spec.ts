// What every chart shares: the spec type, the schema it declares, default sizes, reference lines.
// Building a spec is plain data work; nothing here loads vega.

/** A vega-lite specification as plain JSON (https://vega.github.io/vega-lite/docs/spec.html). */
export type VegaLiteSpec = Record<string, unknown>;

/**
 * The schema our specs declare. vega-lite 6, which renders them here, compiles v5 specs, and v5 is
 * the newest vega-lite MIME type JupyterLab 4 and VS Code render (`application/vnd.vegalite.v5+json`).
 * So the builders use only v5 features.
 */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/**
 * The house style every chart is drawn with (the spec's own `config` wins): text at 11 px or more,
 * legend symbols thick enough to tell a dashed line from a solid one, and DejaVu Sans first, the
 * font the PNG renderer carries, so a chart looks the same as SVG, PNG and live.
 */
export const HOUSE_CONFIG: VegaLiteSpec = {
  font: "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif",
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: {
    labelFontSize: 12,
    titleFontSize: 12,
    labelLimit: 320,
    symbolStrokeWidth: 2.5,
    symbolSize: 160,
  },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, subtitleFontSize: 12 },
  text: { fontSize: 11 },
};

/** `spec` with the house style under its own `config`. */
export function withHouseStyle(spec: VegaLiteSpec): VegaLiteSpec {
  const own = (spec.config ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = { ...HOUSE_CONFIG };
  for (const [key, value] of Object.entries(own)) {
    const base = config[key];
    config[key] = isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value;
  }
  return { ...spec, config };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Plot-area size in pixels; axes, legends and titles are added around it. */
export interface ChartSize {
  width?: number;
  height?: number;
}

export const DEFAULT_WIDTH = 420;
export const DEFAULT_HEIGHT = 260;

/** A top-level spec: schema, title, size, then the chart's own fields. */
export function chart(
  title: string | VegaLiteSpec | undefined,
  size: ChartSize,
  body: VegaLiteSpec,
): VegaLiteSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    ...(title === undefined ? {} : { title }),
    width: size.width ?? DEFAULT_WIDTH,
    height: size.height ?? DEFAULT_HEIGHT,
    ...body,
  };
}

/** JSON has no NaN or Infinity; a diverged run's loss becomes a gap in its line. */
export function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

/** Six significant digits: enough for any chart, and -1.9500000000000002 costs fewer bytes. */
export function sixDigits(value: number): number {
  return Number(value.toPrecision(6));
}

/** A labelled horizontal (`y`) or vertical (`x`) line, e.g. ln 10 for a 10-class guess. */
export interface ReferenceRule {
  y?: number;
  x?: number;
  label: string;
}

/** Dashed grey lines with their labels, as layers to add over a chart. */
export function referenceRuleLayers(rules: ReferenceRule[] = []): VegaLiteSpec[] {
  const style = { color: "#666", strokeDash: [4, 4] };
  const horizontal = rules.filter((rule) => rule.y !== undefined);
  const vertical = rules.filter((rule) => rule.x !== undefined);
  const layers: VegaLiteSpec[] = [];
  if (horizontal.length > 0) {
    layers.push({
      data: { values: horizontal },
      layer: [
        { mark: { type: "rule", ...style }, encoding: { y: { field: "y", type: "quantitative" } } },
        {
          mark: { type: "text", align: "left", baseline: "bottom", dx: 3, dy: -2, color: "#444" },
          encoding: {
            y: { field: "y", type: "quantitative" },
            x: { value: 0 },
            text: { field: "label" },
          },
        },
      ],
    });
  }
  if (vertical.length > 0) {
    layers.push({
      data: { values: vertical },
      layer: [
        { mark: { type: "rule", ...style }, encoding: { x: { field: "x", type: "quantitative" } } },
        {
          mark: { type: "text", align: "left", baseline: "top", dx: 3, dy: 3, color: "#444" },
          encoding: {
            x: { field: "x", type: "quantitative" },
            y: { value: 0 },
            text: { field: "label" },
          },
        },
      ],
    });
  }
  return layers;
}

/** Charts side by side, under one title. */
export function sideBySide(specs: VegaLiteSpec[], title?: string): VegaLiteSpec {
  return compose("hconcat", specs, title);
}

/** Charts one above the other, under one title. */
export function stacked(specs: VegaLiteSpec[], title?: string): VegaLiteSpec {
  return compose("vconcat", specs, title);
}

function compose(direction: "hconcat" | "vconcat", specs: VegaLiteSpec[], title?: string) {
  // Only the top level may declare a schema.
  const parts = specs.map(({ $schema: _schema, ...part }) => part);
  return {
    $schema: VEGA_LITE_SCHEMA,
    ...(title === undefined ? {} : { title }),
    [direction]: parts,
  };
}
