/**
 * Tests for lib/plot: binning by hand, each chart compiled by vega-lite without warnings and
 * rendered to SVG with its titles and marks, PNG bytes, errors, and showing outside Jupyter.
 * Run with
 *   deno test --allow-read --allow-write test/plot_test.ts
 * Rendering itself needs no permission; the two flags are for the temporary folder saveSvg
 * writes into and reads back, and for reading lib/plot's sources.
 */
import assert from "node:assert/strict";
import {
  barChart,
  binValues,
  compileToVega,
  encodeGreyscalePng,
  heatmap,
  histogram,
  histogramsOverTime,
  imageGrid,
  learningCurves,
  lineChart,
  mimeBundle,
  renderSvg,
  saveSvg,
  show,
  sideBySide,
  VEGA_LITE_MIME_TYPE,
  VEGA_LITE_SCHEMA,
  type VegaLiteSpec,
} from "../lib/plot.ts";

/** Marks in the SVG with this aria role description ("bar", "point", "line mark", ...). */
function countMarks(svg: string, roleDescription: string): number {
  return svg.split(`aria-roledescription="${roleDescription}"`).length - 1;
}

/** Paths inside the first group of marks of this type (for marks drawn without aria labels). */
function countPathsInMarkGroup(svg: string, markType: string): number {
  const start = svg.indexOf(`class="mark-${markType} role-mark`);
  assert.ok(start >= 0, `no ${markType} marks in the SVG`);
  const group = svg.slice(start, svg.indexOf("</g>", start));
  return group.split("<path").length - 1;
}

/** Text drawn in the SVG, so a test can look for titles and axis titles. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]);
}

function rowsOf(spec: VegaLiteSpec, layer?: number): Record<string, unknown>[] {
  const unit = layer === undefined ? spec : (spec.layer as VegaLiteSpec[])[layer];
  return ((unit.data ?? spec.data) as { values: Record<string, unknown>[] }).values;
}

/** Renders, and fails on any vega-lite warning, since a warning means a spec mistake. */
async function renderWithoutWarnings(spec: VegaLiteSpec): Promise<string> {
  const { warnings } = await compileToVega(spec);
  assert.deepEqual(warnings, []);
  return await renderSvg(spec);
}

const history = {
  epochs: [1, 2, 3, 4, 5].map((epoch) => ({
    epoch,
    trainLoss: 2.3 / epoch,
    validationLoss: 2.4 / epoch + 0.1,
    trainAccuracy: 0.5 + 0.08 * epoch,
    validationAccuracy: 0.45 + 0.07 * epoch,
  })),
};

Deno.test("binValues counts hand-computed bins, the last one closed", () => {
  // Range [0, 10] in 5 bins of width 2: {0, 1} {2, 3} {4} {} {10}.
  const bins = binValues([0, 1, 2, 3, 4, 10], { bins: 5 });
  assert.deepEqual(bins.edges, [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(bins.counts, [2, 2, 1, 0, 1]);
  assert.equal(bins.nonFinite, 0);
  assert.equal(bins.outOfRange, 0);
});

Deno.test("binValues sets aside non-finite and out-of-range values", () => {
  const bins = binValues([NaN, -1, 0.5, 1.5, Infinity, 3], { bins: 2, min: 0, max: 2 });
  assert.deepEqual(bins.edges, [0, 1, 2]);
  assert.deepEqual(bins.counts, [1, 1]);
  assert.equal(bins.nonFinite, 2);
  assert.equal(bins.outOfRange, 2);
});

Deno.test("binValues gives one repeated value a unit-wide range, and rejects bad bin counts", () => {
  assert.deepEqual(binValues([3, 3, 3], { bins: 2 }), {
    edges: [2.5, 3, 3.5],
    counts: [0, 3],
    nonFinite: 0,
    outOfRange: 0,
  });
  assert.throws(() => binValues([1], { bins: 0 }), RangeError);
  assert.throws(() => binValues([1], { bins: 2.5 }), RangeError);
});

Deno.test("binValues puts every one of 100k values in some bin", () => {
  const values = Float32Array.from({ length: 100_000 }, (_, i) => Math.sin(i) * 3);
  const { counts } = binValues(values, { bins: 37 });
  assert.equal(counts.reduce((sum, count) => sum + count, 0), values.length);
});

Deno.test("histogram: one bar per bin, titles, and a count of values not shown", async () => {
  const values = Float32Array.from({ length: 10_000 }, (_, i) => (i % 100) / 100);
  values[0] = NaN;
  const spec = histogram({ values, bins: 20, title: "First-layer weights", xTitle: "weight" });
  const rows = rowsOf(spec);
  assert.equal(rows.length, 20);
  assert.equal(rows.reduce((sum, row) => sum + (row.count as number), 0), 9_999);
  const svg = await renderWithoutWarnings(spec);
  assert.equal(countMarks(svg, "bar"), 20);
  const drawn = texts(svg);
  for (const text of ["First-layer weights", "weight", "count (values per bin)"]) {
    assert.ok(drawn.includes(text), `missing "${text}"`);
  }
  assert.ok(drawn.includes("10000 values; not shown: 1 non-finite"));
});

Deno.test("learningCurves: train solid and validation dashed, one point per epoch", async () => {
  const spec = learningCurves(history, { metric: "loss" });
  const svg = await renderWithoutWarnings(spec);
  assert.equal(countMarks(svg, "line mark"), 2);
  assert.equal(countMarks(svg, "point"), 10);
  assert.match(svg, /stroke-dasharray="7,4"/);
  for (const text of ["Loss per epoch", "epoch", "loss (mean per example)", "validation"]) {
    assert.ok(texts(svg).includes(text), `missing "${text}"`);
  }
});

Deno.test("learningCurves: several runs by colour; a diverged run's NaN becomes a gap", async () => {
  const diverged = {
    label: "learning rate 1",
    epochs: history.epochs.map((record) => ({ ...record, trainLoss: NaN })),
  };
  const spec = learningCurves([{ label: "learning rate 0.1", ...history }, diverged], {
    metric: "loss",
  });
  const trainRows = rowsOf(spec).filter((row) =>
    row.run === "learning rate 1" && row.split === "train"
  );
  assert.ok(trainRows.every((row) => row.value === null));
  const svg = await renderWithoutWarnings(spec);
  for (const text of ["run", "learning rate 0.1", "learning rate 1"]) {
    assert.ok(texts(svg).includes(text), `missing "${text}"`);
  }
  const accuracy = await renderWithoutWarnings(learningCurves(history, { metric: "accuracy" }));
  for (const text of ["Accuracy per epoch", "accuracy (% of examples correct)", "0%", "100%"]) {
    assert.ok(texts(accuracy).includes(text), `missing "${text}"`);
  }
});

Deno.test("lineChart: series, a log axis without non-positive values, labelled rules", async () => {
  const data = Array.from({ length: 100 }, (_, step) => ({
    x: step,
    y: step === 0 ? 0 : 2.3 * Math.exp(-step / 30),
    series: step % 2 === 0 ? "even steps" : "odd steps",
  }));
  const spec = lineChart({
    data,
    xTitle: "step",
    yTitle: "loss (nats)",
    title: "Loss per step",
    logY: true,
    rules: [{ y: Math.log(10), label: "ln 10: a uniform guess" }, { x: 50, label: "decay" }],
  });
  assert.equal(rowsOf(spec, 0)[0].y, null);
  const svg = await renderWithoutWarnings(spec);
  assert.equal(countMarks(svg, "line mark"), 2);
  for (const text of ["Loss per step", "step", "loss (nats)", "ln 10: a uniform guess", "decay"]) {
    assert.ok(texts(svg).includes(text), `missing "${text}"`);
  }
});

Deno.test("histogramsOverTime: shares per snapshot sum to 1, one mean per snapshot", async () => {
  const steps = [0, 100, 1000];
  const snapshots = steps.map((step) => ({
    step,
    values: Float32Array.from({ length: 500 }, (_, i) => (i % 50) / 50 + step / 1000),
  }));
  const spec = histogramsOverTime({ snapshots, bins: 10, valueTitle: "bias" });
  for (const step of steps) {
    const shares = rowsOf(spec, 0).filter((row) => row.step === step).map((row) => row.share);
    assert.ok(Math.abs((shares as number[]).reduce((a, b) => a + b, 0) - 1) < 1e-9);
  }
  const means = rowsOf(spec, 1) as { mean: number }[];
  assert.deepEqual(means.map((row) => row.mean), [0.49, 0.59, 1.49]);
  const svg = await renderWithoutWarnings(spec);
  assert.equal(countMarks(svg, "point"), 3);
  // A snapshot after divergence has no finite values: no cells, no mean, and the bins unchanged.
  const diverged = { step: 2000, values: new Float32Array(500).fill(NaN) };
  const withDiverged = histogramsOverTime({ snapshots: [...snapshots, diverged], bins: 10 });
  assert.deepEqual(rowsOf(withDiverged, 0).filter((row) => row.step === 2000), []);
  assert.equal(rowsOf(withDiverged, 1).length, 3);
  assert.deepEqual(rowsOf(withDiverged, 0)[0], rowsOf(spec, 0)[0]);
  for (const text of ["Distribution of bias over training", "training step", "bias", "1000"]) {
    assert.ok(texts(svg).includes(text), `missing "${text}"`);
  }
});

Deno.test("barChart: one bar per value, groups side by side, categories in given order", async () => {
  const spec = barChart({
    data: [
      { category: "layer 2", value: 0.5, group: "ReLU" },
      { category: "layer 2", value: 0.2, group: "tanh" },
      { category: "layer 1", value: 0.1, group: "ReLU" },
      { category: "layer 1", value: 0.3, group: "tanh" },
    ],
    title: "Dead units per layer",
    yTitle: "dead units (fraction of layer)",
    rules: [{ y: 0.25, label: "a quarter" }],
  });
  const svg = await renderWithoutWarnings(spec);
  assert.equal(countMarks(svg, "bar"), 4);
  const drawn = texts(svg);
  for (
    const text of ["Dead units per layer", "dead units (fraction of layer)", "a quarter", "tanh"]
  ) {
    assert.ok(drawn.includes(text), `missing "${text}"`);
  }
  assert.ok(drawn.indexOf("layer 2") < drawn.indexOf("layer 1"));
});

Deno.test("heatmap: cells reach halfway to their neighbours; non-finite cells are blank", async () => {
  const spec = heatmap({
    values: [[1, 2, 3], [4, NaN, 6]],
    xValues: [0, 1, 3],
    yValues: [10, 20],
    xTitle: "w1",
    yTitle: "w2",
    valueTitle: "loss",
    path: [{ x: 3, y: 20 }, { x: 0, y: 10 }],
  });
  const cells = rowsOf(spec, 0);
  assert.equal(cells.length, 5);
  assert.deepEqual(cells[2], { x0: 2, x1: 4, y0: 5, y1: 15, value: 3 });
  assert.deepEqual(cells[0], { x0: -0.5, x1: 0.5, y0: 5, y1: 15, value: 1 });
  const svg = await renderWithoutWarnings(spec);
  assert.equal(countPathsInMarkGroup(svg, "rect"), 5);
  for (const text of ["loss over (w1, w2)", "1 cells not finite (blank)", "w1", "w2", "loss"]) {
    assert.ok(texts(svg).includes(text), `missing "${text}"`);
  }
  const fromCells = heatmap({ values: [{ x: 0, y: 0, value: 1 }, { x: 1, y: 0, value: 2 }] });
  assert.equal(rowsOf(fromCells, 0).length, 2);
});

Deno.test("imageGrid: one PNG image mark per image, captions under them", async () => {
  const [count, height, width] = [25, 28, 28];
  const images = Float32Array.from({ length: count * height * width }, (_, i) => (i % 784) / 784);
  const labels = Array.from({ length: count }, (_, i) => `item ${i}`);
  const spec = imageGrid({ images, count, height, width, labels, title: "Training images" });
  const svg = await renderWithoutWarnings(spec);
  assert.equal(svg.split("<image ").length - 1, count);
  assert.equal(svg.split('xlink:href="data:image/png;base64,').length - 1, count);
  assert.ok(texts(svg).includes("Training images"));
  assert.ok(texts(svg).includes("item 24"));
  assert.ok(svg.length < 100_000, `SVG of ${svg.length} bytes`);
  assert.throws(() => imageGrid({ images, count: 26, height, width }), RangeError);
});

Deno.test("encodeGreyscalePng writes a valid PNG with the pixels in its zlib stream", async () => {
  const pixels = new Uint8Array([0, 64, 128, 255, 1, 2]);
  const png = encodeGreyscalePng(pixels, 3, 2);
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer);
  assert.equal(new TextDecoder().decode(png.subarray(12, 16)), "IHDR");
  assert.deepEqual([view.getUint32(16), view.getUint32(20)], [3, 2]);
  // Every PNG ends with the same IEND chunk, CRC included.
  assert.deepEqual(
    [...png.subarray(png.length - 12)],
    [0, 0, 0, 0, 73, 69, 78, 68, 0xae, 0x42, 0x60, 0x82],
  );
  // IDAT starts after the 8-byte signature and the 25-byte IHDR chunk.
  const idatLength = view.getUint32(33);
  assert.equal(new TextDecoder().decode(png.subarray(37, 41)), "IDAT");
  const idat = png.slice(41, 41 + idatLength);
  const inflated = await new Response(
    new Blob([idat]).stream().pipeThrough(new DecompressionStream("deflate")),
  ).arrayBuffer();
  // Each scanline: filter type 0, then its pixels. The stream's Adler-32 was checked inflating.
  assert.deepEqual([...new Uint8Array(inflated)], [0, 0, 64, 128, 0, 255, 1, 2]);
  assert.throws(() => encodeGreyscalePng(pixels, 2, 2), RangeError);
});

Deno.test("sideBySide renders both charts, with one schema at the top", async () => {
  const spec = sideBySide([
    learningCurves(history, { metric: "loss", width: 200 }),
    learningCurves(history, { metric: "accuracy", width: 200 }),
  ], "Training");
  assert.equal(spec.$schema, VEGA_LITE_SCHEMA);
  assert.ok((spec.hconcat as VegaLiteSpec[]).every((part) => !("$schema" in part)));
  const drawn = texts(await renderWithoutWarnings(spec));
  for (const text of ["Training", "Loss per epoch", "Accuracy per epoch"]) {
    assert.ok(drawn.includes(text), `missing "${text}"`);
  }
});

Deno.test("renderSvg says clearly what is wrong with an invalid spec", async () => {
  await assert.rejects(renderSvg({ mark: "nope" }), /unknown mark type "nope"/);
  await assert.rejects(renderSvg({ data: { values: [] } }), /nothing to draw/);
  await assert.rejects(
    renderSvg({ layer: [{ mark: { type: "bars" } }] }),
    /layer\[0\]: unknown mark type "bars"/,
  );
  await assert.rejects(
    renderSvg({ mark: "bar", encoding: { x: { field: "a", type: "bogus" } } }),
    /encoding.x: unknown field type "bogus"/,
  );
  // What those quick checks miss, vega-lite or vega reports, prefixed with which of them it was.
  await assert.rejects(
    renderSvg({ mark: "bar", transform: [{ calculate: "datum.a +* 2", as: "b" }] }),
    /vega-lite could not compile the spec: Unexpected token/,
  );
  await assert.rejects(
    renderSvg({
      mark: "bar",
      encoding: { color: { field: "a", type: "quantitative", scale: { scheme: "bogus" } } },
    }),
    /vega could not render the spec: .*Unrecognized scheme name: bogus/,
  );
});

Deno.test("rendering leaves the spec as it was", async () => {
  const spec = barChart({ data: [{ category: "a", value: 1 }] });
  const before = structuredClone(spec);
  await renderSvg(spec);
  assert.deepEqual(spec, before);
});

Deno.test("saveSvg creates the folder and writes the SVG", async () => {
  const folder = await Deno.makeTempDir();
  try {
    const path = `${folder}/figures/chapter1/loss.svg`;
    await saveSvg(learningCurves(history, { metric: "loss" }), path);
    const svg = await Deno.readTextFile(path);
    assert.ok(svg.startsWith("<svg"));
    assert.ok(texts(svg).includes("Loss per epoch"));
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("mimeBundle holds the vega-lite spec and a PNG; show outside Jupyter only prints", async () => {
  const spec = learningCurves(history, { metric: "loss", title: "Loss, shown" });
  const { data: bundle, metadata } = await mimeBundle(spec);
  assert.equal(VEGA_LITE_MIME_TYPE, "application/vnd.vegalite.v5+json");
  assert.equal((bundle[VEGA_LITE_MIME_TYPE] as VegaLiteSpec).$schema, VEGA_LITE_SCHEMA);
  const png = Uint8Array.fromBase64(bundle["image/png"] as string);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  const shown = metadata["image/png"] as { width: number; height: number };
  assert.ok(shown.width > 420 && shown.height > 260, `shown at ${shown.width}x${shown.height}`);
  assert.equal(bundle["text/plain"], "[chart: Loss, shown]");

  const printed: unknown[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => printed.push(parts.join(" "));
  try {
    await show(spec);
  } finally {
    console.log = log;
  }
  assert.equal(printed.length, 1);
  assert.match(String(printed[0]), /"Loss, shown" not shown: not in a Jupyter notebook/);
});

Deno.test("lib/plot imports no npm package statically, so the spec builders load without one", async () => {
  const folder = new URL("../lib/plot/", import.meta.url);
  const files = [new URL("../lib/plot.ts", import.meta.url)];
  for await (const entry of Deno.readDir(folder)) files.push(new URL(entry.name, folder));
  for (const file of files) {
    const source = await Deno.readTextFile(file);
    const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1]);
    for (const specifier of specifiers) {
      assert.ok(
        specifier.startsWith("./") || specifier.startsWith("node:"),
        `${file.pathname} imports "${specifier}"`,
      );
    }
  }
});
