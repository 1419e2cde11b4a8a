// Rendering: vega-lite spec -> vega spec -> SVG text, headless (no browser, no canvas).
//
// vega and vega-lite are npm packages. They are imported on first render, through a specifier the
// module graph cannot see, so importing lib/ (or type-checking it) never needs the npm registry.

import { dirname } from "node:path";
import { type VegaLiteSpec, withHouseStyle } from "./spec.ts";

// The small part of the vega and vega-lite APIs used here, declared so types need no npm package.
interface Logger {
  level(value?: number): number | Logger; // reads the level, or sets it and returns the logger
  error(...messages: unknown[]): Logger;
  warn(...messages: unknown[]): Logger;
  info(...messages: unknown[]): Logger;
  debug(...messages: unknown[]): Logger;
}
interface VegaLiteModule {
  compile(spec: VegaLiteSpec, options?: { logger?: Logger }): { spec: object };
}
interface VegaView {
  toSVG(): Promise<string>;
  finalize(): void;
}
interface VegaModule {
  parse(spec: object): object;
  View: new (runtime: object, options: { renderer: "none"; logger?: Logger }) => VegaView;
}

let libraries: Promise<{ vegaLite: VegaLiteModule; vega: VegaModule }> | undefined;

function loadLibraries() {
  const names = { vegaLite: "vega-lite", vega: "vega" }; // mapped to npm: in deno.json
  libraries ??= Promise.all([import(names.vegaLite), import(names.vega)]).then(
    ([vegaLite, vega]) => ({ vegaLite, vega }),
    (error) => {
      libraries = undefined;
      throw new Error(
        "Rendering a plot needs the npm packages vega and vega-lite, which the repository's " +
          `deno.json maps; run Deno from inside the repository. (${error})`,
        { cause: error },
      );
    },
  );
  return libraries;
}

/** Collects messages instead of printing them, so callers decide what to do with them. */
function collectingLogger(messages: { warnings: string[]; errors: string[] }): Logger {
  let level = 2; // warnings and errors
  const logger: Logger = {
    level: (value) => value === undefined ? level : (level = value, logger),
    error: (...parts) => (messages.errors.push(parts.join(" ")), logger),
    warn: (...parts) => (messages.warnings.push(parts.join(" ")), logger),
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/** The vega spec vega-lite compiles `spec` to, and its warnings (e.g. "dropping channel x"). */
export async function compileToVega(
  spec: VegaLiteSpec,
): Promise<{ vegaSpec: object; warnings: string[] }> {
  const problem = obviousProblem(spec);
  if (problem !== undefined) throw new Error(`Invalid vega-lite spec: ${problem}`);
  const { vegaLite } = await loadLibraries();
  const messages = { warnings: [], errors: [] };
  let vegaSpec: object;
  try {
    // A copy, because vega tags the data rows it is given; the caller's spec stays as it was.
    const copy = structuredClone(withHouseStyle(spec));
    vegaSpec = vegaLite.compile(copy, { logger: collectingLogger(messages) }).spec;
  } catch (error) {
    throw new Error(`vega-lite could not compile the spec: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (messages.errors.length > 0) {
    throw new Error(`vega-lite could not compile the spec: ${messages.errors.join("; ")}`);
  }
  return { vegaSpec, warnings: messages.warnings };
}

/** SVG text for a vega-lite spec; warnings are printed, prefixed "vega-lite:" or "vega:". */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const { vegaSpec, warnings } = await compileToVega(spec);
  for (const warning of warnings) console.warn(`vega-lite: ${warning}`);
  const { vega } = await loadLibraries();
  const messages = { warnings: [], errors: [] };
  let view: VegaView | undefined;
  let svg: string;
  try {
    const logger = collectingLogger(messages);
    view = new vega.View(vega.parse(vegaSpec), { renderer: "none", logger });
    svg = await view.toSVG();
  } catch (error) {
    throw new Error(`vega could not render the spec: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    view?.finalize();
  }
  for (const warning of messages.warnings) console.warn(`vega: ${warning}`);
  if (messages.errors.length > 0) {
    throw new Error(`vega could not render the spec: ${messages.errors.join("; ")}`);
  }
  return svg;
}

/** Renders `spec` and writes it to `path` (an .svg file), creating the folder if needed. */
export async function saveSvg(spec: VegaLiteSpec, path: string): Promise<void> {
  const svg = await renderSvg(spec);
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, svg);
}

// deno-fmt-ignore
const MARK_TYPES = new Set([
  "arc", "area", "bar", "boxplot", "circle", "errorband", "errorbar", "geoshape", "image", "line",
  "point", "rect", "rule", "square", "text", "tick", "trail",
]);
const FIELD_TYPES = new Set(["quantitative", "ordinal", "nominal", "temporal", "geojson"]);
const VIEW_KEYS = ["mark", "layer", "facet", "repeat", "concat", "hconcat", "vconcat"];

/** vega-lite's own messages for these are cryptic ("Cannot read properties of undefined"). */
function obviousProblem(spec: unknown): string | undefined {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    return `expected an object, got ${Array.isArray(spec) ? "an array" : String(spec)}`;
  }
  const record = spec as VegaLiteSpec;
  if (!VIEW_KEYS.some((key) => key in record)) {
    return `no ${VIEW_KEYS.map((key) => `"${key}"`).join(", ")} property, so nothing to draw`;
  }
  const mark = record.mark;
  const markType = typeof mark === "object" && mark !== null
    ? (mark as { type?: unknown }).type
    : mark;
  if (mark !== undefined && !MARK_TYPES.has(markType as string)) {
    return `unknown mark type ${JSON.stringify(markType)}; expected one of ${
      [...MARK_TYPES].join(", ")
    }`;
  }
  const encoding = (record.encoding ?? {}) as Record<string, { type?: unknown }>;
  for (const [channel, definition] of Object.entries(encoding)) {
    const type = definition?.type;
    if (type !== undefined && !FIELD_TYPES.has(type as string)) {
      return `encoding.${channel}: unknown field type ${JSON.stringify(type)}; expected one of ${
        [...FIELD_TYPES].join(", ")
      }`;
    }
  }
  for (const key of ["layer", "concat", "hconcat", "vconcat"]) {
    const parts = record[key];
    if (!Array.isArray(parts)) continue;
    for (const [index, part] of parts.entries()) {
      const inner = obviousProblem(part);
      if (inner !== undefined) return `${key}[${index}]: ${inner}`;
    }
  }
  return undefined;
}
