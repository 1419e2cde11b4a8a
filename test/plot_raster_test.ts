import assert from "node:assert/strict";
import { learningCurves, lineChart } from "../lib/plot.ts";
import { rasteriseSvg, renderPng } from "../lib/plot/raster.ts";
import { renderSvg } from "../lib/plot/render.ts";
import { HOUSE_CONFIG, withHouseStyle } from "../lib/plot/spec.ts";

/** Width, height and the RGB of every pixel of an 8-bit RGBA PNG, decoded with the Web's own inflate. */
async function decodePng(png: Uint8Array) {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let offset = 8, width = 0, height = 0;
  const idat: Uint8Array[] = [];
  while (offset < png.length) {
    const length = view.getUint32(offset);
    const type = new TextDecoder().decode(png.subarray(offset + 4, offset + 8));
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      assert.equal(body[8], 8, "bit depth");
      assert.equal(body[9], 6, "colour type RGBA");
    }
    if (type === "IDAT") idat.push(body);
    offset += 12 + length;
  }
  const stream = new Blob(idat as BlobPart[]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  const raw = new Uint8Array(await new Response(stream).arrayBuffer());
  // Undo the per-row filters (PNG spec, section 9).
  const stride = width * 4, pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x];
      const left = x >= 4 ? pixels[y * stride + x - 4] : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const upLeft = x >= 4 && y > 0 ? pixels[(y - 1) * stride + x - 4] : 0;
      const p = left + up - upLeft;
      const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
      const paeth = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      const predictor = [0, left, up, (left + up) >> 1, paeth][filter];
      pixels[y * stride + x] = (value + predictor) & 255;
    }
  }
  return { width, height, pixels };
}

Deno.test("a chart's PNG has drawn content: dark text and axes, two colours for two runs", async () => {
  const epochs = [1, 2, 3, 4].map((epoch) => ({
    epoch,
    trainLoss: 1 / epoch,
    validationLoss: 1.2 / epoch,
  }));
  const spec = learningCurves([{ label: "relu", epochs }, {
    label: "linear",
    epochs: epochs.map((e) => ({ ...e, trainLoss: e.trainLoss / 2 })),
  }], { metric: "loss" });
  const { png, width, height } = await renderPng(spec);
  const image = await decodePng(png);
  assert.equal(image.width, 2 * width);
  assert.equal(image.height, 2 * height);
  let dark = 0;
  const colours = new Set<string>();
  for (let i = 0; i < image.pixels.length; i += 4) {
    const [r, g, b] = image.pixels.subarray(i, i + 3);
    if (r + g + b < 150) dark++;
    // Saturated pixels are the series' colours.
    if (Math.max(r, g, b) - Math.min(r, g, b) > 120) colours.add(`${r >> 5},${g >> 5},${b >> 5}`);
  }
  assert.ok(dark > 2000, `${dark} dark pixels: text and axes were drawn`);
  assert.ok(colours.size >= 2, `saturated colours ${[...colours].join(" ")}`);
});

Deno.test("an empty SVG rasterises to a blank white image (the check above can fail)", async () => {
  const { png } = await rasteriseSvg(
    `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"></svg>`,
  );
  const image = await decodePng(png);
  assert.ok(image.pixels.every((value) => value === 255));
});

Deno.test("the house style sets text to 11 px or more, and the spec's own config wins", async () => {
  const spec = lineChart({ data: [{ x: 1, y: 1 }, { x: 2, y: 2 }], xTitle: "x", yTitle: "y" });
  const svg = await renderSvg(spec);
  const sizes = [...svg.matchAll(/font-size="(\d+(?:\.\d+)?)px"/g)].map((m) => Number(m[1]));
  assert.ok(sizes.length > 0);
  assert.ok(Math.min(...sizes) >= 11, `font sizes ${sizes}`);
  const own = withHouseStyle({ ...spec, config: { axis: { labelFontSize: 20 } } });
  const axis = (own.config as Record<string, Record<string, unknown>>).axis;
  assert.equal(axis.labelFontSize, 20);
  assert.equal(axis.titleFontSize, (HOUSE_CONFIG.axis as Record<string, unknown>).titleFontSize);
});
