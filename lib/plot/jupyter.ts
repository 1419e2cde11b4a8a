// Showing a chart in a Jupyter notebook on the Deno kernel.

import { renderPng } from "./raster.ts";
import { VEGA_LITE_SCHEMA, type VegaLiteSpec, withHouseStyle } from "./spec.ts";

/** The MIME type JupyterLab 4 and VS Code render as an interactive vega-lite chart. */
export const VEGA_LITE_MIME_TYPE = "application/vnd.vegalite.v5+json";

/**
 * One notebook output with two views of the chart: the vega-lite spec for frontends that draw it
 * live (JupyterLab, Notebook 7, VS Code) and a PNG for everything else: classic Notebook (which
 * shows an untrusted notebook's SVG as text), GitHub, nbviewer and nbconvert's HTML (which strips
 * SVG). Each frontend picks the richest type it can show. An SVG is not carried as well: no
 * frontend needs it beside these two, and it would double the notebook's size. `metadata` gives the
 * PNG's display size (it is drawn at twice that, for sharpness).
 */
export async function mimeBundle(
  spec: VegaLiteSpec,
): Promise<{ data: Record<string, unknown>; metadata: Record<string, unknown> }> {
  const withSchema = withHouseStyle({ $schema: VEGA_LITE_SCHEMA, ...spec });
  const { png, width, height } = await renderPng(withSchema);
  return {
    data: {
      [VEGA_LITE_MIME_TYPE]: withSchema,
      "image/png": png.toBase64(),
      "text/plain": `[chart: ${titleOf(spec)}]`,
    },
    metadata: { "image/png": { width, height } },
  };
}

/** Displays the chart below the running notebook cell; elsewhere prints a one-line note. */
export async function show(spec: VegaLiteSpec): Promise<void> {
  const jupyter = jupyterKernel();
  if (jupyter === undefined) {
    console.log(
      `[chart "${titleOf(spec)}" not shown: not in a Jupyter notebook; saveSvg writes it]`,
    );
    return;
  }
  const { data, metadata } = await mimeBundle(spec);
  // display() cannot carry metadata; a display_data message is what it sends, with it.
  jupyter.broadcast("display_data", { data, metadata, transient: {} });
  await letTheKernelSend();
}

/**
 * Prints text below the running cell. In a notebook it goes out as a display
 * message, which the kernel delivers before the cell ends; plain console.log
 * lines printed at the end of a cell can arrive after it and be dropped by a
 * headless run (nbconvert). Elsewhere it is console.log.
 */
export async function showText(text: string | string[]): Promise<void> {
  const body = Array.isArray(text) ? text.join("\n") : text;
  const jupyter = jupyterKernel();
  if (jupyter === undefined) {
    console.log(body);
    return;
  }
  await jupyter.display({ "text/plain": body }, { raw: true });
  await letTheKernelSend();
}

/** A table of rows (objects with the same keys), as aligned text and, in notebooks, HTML. */
export async function showTable(rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return showText("(no rows)");
  const keys = Object.keys(rows[0]);
  const cell = (value: unknown) =>
    typeof value === "number" ? String(Number(value.toPrecision(6))) : String(value ?? "");
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => cell(r[k]).length)));
  // Numbers align right, text aligns left, as in a printed table.
  const numeric = keys.map((k) => rows.every((r) => typeof r[k] === "number"));
  const line = (values: string[]) =>
    values.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join("  ");
  const text = [line(keys), ...rows.map((r) => line(keys.map((k) => cell(r[k]))))].join("\n");
  const jupyter = jupyterKernel();
  if (jupyter === undefined) {
    console.log(text);
    return;
  }
  const escape = (v: string) => v.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const html =
    `<table><thead><tr>${keys.map((k) => `<th>${escape(k)}</th>`).join("")}</tr></thead>` +
    `<tbody>${
      rows.map((r) => `<tr>${keys.map((k) => `<td>${escape(cell(r[k]))}</td>`).join("")}</tr>`)
        .join("")
    }</tbody></table>`;
  await jupyter.display({ "text/plain": text, "text/html": html }, { raw: true });
  await letTheKernelSend();
}

/**
 * The kernel sends a display message from a queue, not while the call returns: a cell whose last
 * act is a display can end (and a headless run, nbconvert, stop listening) before the message is
 * out. A short pause lets it go first.
 */
function letTheKernelSend(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 25));
}

/**
 * `Deno.jupyter` exists only under `deno jupyter`: elsewhere reading it throws, although
 * `"jupyter" in Deno` is true everywhere. So the test is whether reading it succeeds.
 */
function jupyterKernel(): typeof Deno.jupyter | undefined {
  try {
    return Deno.jupyter;
  } catch {
    return undefined;
  }
}

function titleOf(spec: VegaLiteSpec): string {
  const title = spec.title;
  if (typeof title === "string") return title;
  const text = (title as { text?: unknown } | undefined)?.text;
  return typeof text === "string" ? text : "untitled";
}
