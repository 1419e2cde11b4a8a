// Rendering a chart to PNG: vega's SVG, rasterised by resvg (WebAssembly, from npm) with the DejaVu
// Sans font from npm, so the pixels are the same on every machine and need no system fonts, no
// canvas and no browser.
//
// Why a PNG at all: classic Notebook shows an untrusted notebook's SVG as text, GitHub and
// nbviewer draw only images, and Debian's nbconvert strips the inside of SVGs when it exports
// HTML. A PNG is drawn by all of them.

import { renderSvg } from "./render.ts";
import type { VegaLiteSpec } from "./spec.ts";

// The small part of resvg-wasm's API used here.
interface ResvgModule {
  initWasm(module: BufferSource): Promise<void>;
  Resvg: new (
    svg: string,
    options: {
      font: {
        fontBuffers: Uint8Array[];
        defaultFontFamily: string;
        sansSerifFamily: string;
        loadSystemFonts: boolean;
      };
      fitTo: { mode: "zoom"; value: number };
      background: string;
    },
  ) => { render(): { asPng(): Uint8Array; width: number; height: number; free(): void } };
}

let loaded: Promise<{ resvg: ResvgModule; fonts: Uint8Array[] }> | undefined;

function loadRasteriser() {
  const names = { resvg: "@resvg/resvg-wasm", fonts: "dejavu-fonts-ttf" }; // mapped in deno.json
  loaded ??= (async () => {
    const resvg = (await import(names.resvg)) as ResvgModule;
    // The package's .wasm and .ttf files sit beside its entry module in node_modules.
    const wasmUrl = new URL("./index_bg.wasm", import.meta.resolve(names.resvg));
    await resvg.initWasm(await Deno.readFile(wasmUrl));
    const fontUrl = (file: string) => import.meta.resolve(`${names.fonts}/ttf/${file}`);
    const fonts = await Promise.all(
      ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((file) =>
        Deno.readFile(new URL(fontUrl(file)))
      ),
    );
    return { resvg, fonts };
  })().catch((error) => {
    loaded = undefined;
    throw new Error(
      "Rendering a PNG needs the npm packages @resvg/resvg-wasm and dejavu-fonts-ttf, which the " +
        "repository's deno.json maps: run Deno from inside the repository, after `deno install`. " +
        `(${error})`,
      { cause: error },
    );
  });
  return loaded;
}

/** A rasterised chart: PNG bytes and the size in CSS pixels it should be shown at. */
export interface RasterChart {
  png: Uint8Array;
  width: number;
  height: number;
}

/**
 * PNG bytes for a vega-lite spec, drawn at `pixelRatio` times its size (2: sharp on high-density
 * screens); `width` and `height` are the size to show it at.
 */
export async function renderPng(spec: VegaLiteSpec, pixelRatio = 2): Promise<RasterChart> {
  return rasteriseSvg(await renderSvg(spec), pixelRatio);
}

/** PNG bytes for SVG text (as vega writes it), on a white background. */
export async function rasteriseSvg(svg: string, pixelRatio = 2): Promise<RasterChart> {
  const { resvg, fonts } = await loadRasteriser();
  const image = new resvg.Resvg(svg, {
    font: {
      fontBuffers: fonts,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
      loadSystemFonts: false,
    },
    fitTo: { mode: "zoom", value: pixelRatio },
    background: "white",
  }).render();
  try {
    return {
      png: image.asPng(),
      width: Math.round(image.width / pixelRatio),
      height: Math.round(image.height / pixelRatio),
    };
  } finally {
    image.free();
  }
}
