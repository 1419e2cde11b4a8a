// Showing a chart in a Jupyter notebook on the Deno kernel.

import { renderSvg } from "./render.ts";
import { VEGA_LITE_SCHEMA, type VegaLiteSpec } from "./spec.ts";

/** The MIME type JupyterLab 4 and VS Code render as an interactive vega-lite chart. */
export const VEGA_LITE_MIME_TYPE = "application/vnd.vegalite.v5+json";

/**
 * One notebook output with two views of the chart: the vega-lite spec for frontends that draw it
 * live (JupyterLab, Notebook 7, VS Code) and an SVG for those that don't (GitHub, nbconvert HTML).
 * Each frontend picks the richest type it knows.
 */
export async function mimeBundle(spec: VegaLiteSpec): Promise<Record<string, unknown>> {
  const withSchema = { $schema: VEGA_LITE_SCHEMA, ...spec };
  return {
    [VEGA_LITE_MIME_TYPE]: withSchema,
    "image/svg+xml": await renderSvg(withSchema),
    "text/plain": `[chart: ${titleOf(spec)}]`,
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
  await jupyter.display(await mimeBundle(spec), { raw: true });
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
