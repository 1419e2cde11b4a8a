// A grid of small greyscale images (MNIST digits, Fashion-MNIST items), each with a caption.

import { greyscalePngDataUrl } from "./png.ts";
import { chart, type VegaLiteSpec } from "./spec.ts";

export interface ImageGridOptions {
  /** `count` images of `height` x `width` pixels, one after another, each row-major. */
  images: ArrayLike<number>;
  count: number;
  height: number;
  width: number;
  /** A caption under each image; "\n" breaks lines, e.g. "Shirt\npredicted: T-shirt". */
  labels?: string[];
  columns?: number;
  title?: string;
  /** Screen pixels per image pixel. */
  pixelSize?: number;
  /** The values drawn white and black; by default the smallest and largest value shown. */
  range?: [number, number];
}

const GAP = 6;
const CAPTION_LINE_HEIGHT = 12;

/**
 * Larger values are darker, like matplotlib's "binary" colour map, so ink is dark on white;
 * NaN is drawn black.
 * Each image travels as one PNG data URL drawn by an image mark: a 5x5 grid of 28x28 images
 * renders to about 45 KB of SVG, where one rect mark per pixel would be 19,600 marks, over 1 MB.
 */
export function imageGrid(options: ImageGridOptions): VegaLiteSpec {
  const { images, count, height, width } = options;
  const pixelCount = height * width;
  if (images.length < count * pixelCount) {
    throw new RangeError(
      `imageGrid: ${count} images of ${height}x${width} need ${count * pixelCount} values, ` +
        `got ${images.length}`,
    );
  }
  const [white, black] = options.range ?? valueRange(images, count * pixelCount);
  const columns = options.columns ?? Math.min(10, Math.ceil(Math.sqrt(count)));
  const rows = Math.ceil(count / columns);
  const cellWidth = width * (options.pixelSize ?? 3);
  const cellHeight = height * (options.pixelSize ?? 3);
  const captionLines = Math.max(
    0,
    ...(options.labels ?? []).map((label) => label.split("\n").length),
  );
  const captionHeight = captionLines * CAPTION_LINE_HEIGHT + (captionLines > 0 ? 2 : 0);
  const cells = Array.from({ length: count }, (_, index) => {
    const pixels = new Uint8Array(pixelCount);
    for (let i = 0; i < pixelCount; i++) {
      const darkness = (images[index * pixelCount + i] - white) / (black - white || 1);
      pixels[i] = Math.round(255 * (1 - Math.min(1, Math.max(0, darkness))));
    }
    const left = (index % columns) * (cellWidth + GAP);
    const top = Math.floor(index / columns) * (cellHeight + captionHeight + GAP);
    return {
      label: options.labels?.[index] ?? "",
      description: `image ${index + 1}${options.labels ? `: ${options.labels[index]}` : ""}`,
      left,
      right: left + cellWidth,
      top,
      bottom: top + cellHeight,
      centre: left + cellWidth / 2,
      url: greyscalePngDataUrl(pixels, width, height),
    };
  });
  // `scale: null` places marks at these pixel positions directly.
  const position = (field: string) => ({ field, type: "quantitative", scale: null });
  const layers: VegaLiteSpec[] = [
    {
      mark: {
        type: "image",
        width: cellWidth,
        height: cellHeight,
        align: "left",
        baseline: "top",
        smooth: false, // show pixels as squares, not blurred
      },
      encoding: {
        x: position("left"),
        y: position("top"),
        url: { field: "url" },
        // Without a description the SVG's aria-label would repeat each data URL.
        description: { field: "description" },
      },
    },
    {
      mark: { type: "rect", filled: false, stroke: "#ccc", strokeWidth: 1, aria: false },
      encoding: {
        x: position("left"),
        x2: { field: "right" },
        y: position("top"),
        y2: { field: "bottom" },
      },
    },
  ];
  if (options.labels !== undefined) {
    layers.push({
      mark: {
        type: "text",
        align: "center",
        baseline: "top",
        dy: 2,
        fontSize: 10,
        lineHeight: CAPTION_LINE_HEIGHT,
        lineBreak: "\n",
        aria: false,
      },
      encoding: { x: position("centre"), y: position("bottom"), text: { field: "label" } },
    });
  }
  return chart(options.title, {
    width: columns * (cellWidth + GAP) - GAP,
    height: rows * (cellHeight + captionHeight + GAP) - GAP,
  }, { view: { stroke: null }, data: { values: cells }, layer: layers });
}

function valueRange(values: ArrayLike<number>, length: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < length; i++) {
    if (Number.isFinite(values[i])) {
      [min, max] = [Math.min(min, values[i]), Math.max(max, values[i])];
    }
  }
  return min <= max ? [min, max] : [0, 1];
}
