/**
 * Small synthetic datasets, for tests and for experiments that must run in
 * milliseconds. Each is a pure function of its options: the same seed gives the
 * same numbers on every machine.
 */
import type { Dataset } from "./dataset.ts";
import { requireInteger, requireSeed, seededRandom } from "./split.ts";

/**
 * Gaussian clusters, one per class, with unit standard deviation in every feature.
 *
 * The class centres lie `separation` from the origin: evenly spaced on a circle
 * in the first two features (the others are pure noise), or, with one feature,
 * evenly spaced from -separation to +separation. Labels cycle 0, 1, ..., so the
 * classes are balanced and interleaved.
 */
export function gaussianBlobs(
  options: {
    count?: number;
    classes?: number;
    features?: number;
    separation?: number;
    seed?: number;
  } = {},
): Dataset {
  const { count = 300, classes = 3, features = 2, separation = 3, seed = 0 } = options;
  const where = "gaussianBlobs";
  requireInteger(count, "count", where, 1);
  requireInteger(classes, "classes", where, 1);
  requireInteger(features, "features", where, 1);
  requireNonNegative(separation, "separation", where);
  requireSeed(seed, where);
  if (classes > 256) throw new Error(`${where}: at most 256 classes fit in byte labels`);
  const centres = Array.from({ length: classes }, (_, label): number[] => {
    if (features === 1) {
      return [classes === 1 ? 0 : separation * (2 * label / (classes - 1) - 1)];
    }
    const angle = (2 * Math.PI * label) / classes;
    return [separation * Math.cos(angle), separation * Math.sin(angle)];
  });
  const normal = standardNormal(seededRandom(seed));
  const inputs = new Float32Array(count * features);
  const labels = new Uint8Array(count);
  for (let row = 0; row < count; row++) {
    const label = row % classes;
    const mean = centres[label];
    for (let j = 0; j < features; j++) inputs[row * features + j] = (mean[j] ?? 0) + normal();
    labels[row] = label;
  }
  return {
    name: "gaussian-blobs",
    inputs,
    count,
    features,
    labels,
    classes,
    classNames: Array.from({ length: classes }, (_, c) => `blob ${c}`),
  };
}

/**
 * The XOR problem: two inputs a, b near the corners (±1, ±1), label 1 when
 * their signs differ (a XOR b). No straight line separates the classes, so a
 * network without a hidden layer cannot learn it. The corners take turns, so
 * all four are equally common; `noiseStd` blurs each point around its corner.
 */
export function xorDataset(
  options: { count?: number; noiseStd?: number; seed?: number } = {},
): Dataset {
  const { count = 200, noiseStd = 0.25, seed = 0 } = options;
  requireInteger(count, "count", "xorDataset", 1);
  requireNonNegative(noiseStd, "noiseStd", "xorDataset");
  requireSeed(seed, "xorDataset");
  const normal = standardNormal(seededRandom(seed));
  const inputs = new Float32Array(count * 2);
  const labels = new Uint8Array(count);
  for (let row = 0; row < count; row++) {
    const a = row & 1;
    const b = (row >> 1) & 1;
    inputs[row * 2] = 2 * a - 1 + noiseStd * normal();
    inputs[row * 2 + 1] = 2 * b - 1 + noiseStd * normal();
    labels[row] = a ^ b;
  }
  return { name: "xor", inputs, count, features: 2, labels, classes: 2, classNames: ["0", "1"] };
}

/**
 * A noisy 1-D function: x uniform in `xRange`, target `fn(x)` plus Gaussian
 * noise of standard deviation `noiseStd`. Default: sin on [-π, π], noise 0.1.
 */
export function regression1d(
  options: {
    count?: number;
    fn?: (x: number) => number;
    noiseStd?: number;
    xRange?: [number, number];
    seed?: number;
  } = {},
): Dataset {
  const { count = 100, fn = Math.sin, noiseStd = 0.1, xRange = [-Math.PI, Math.PI], seed = 0 } =
    options;
  requireInteger(count, "count", "regression1d", 1);
  requireNonNegative(noiseStd, "noiseStd", "regression1d");
  requireSeed(seed, "regression1d");
  const [low, high] = xRange;
  if (!(Number.isFinite(low) && Number.isFinite(high) && low < high)) {
    throw new Error(
      `regression1d: xRange must be finite [low, high] with low < high, got [${xRange}]`,
    );
  }
  const random = seededRandom(seed);
  const normal = standardNormal(random);
  const inputs = new Float32Array(count);
  const targets = new Float32Array(count);
  for (let row = 0; row < count; row++) {
    const x = low + (high - low) * random();
    const y = fn(x);
    if (!Number.isFinite(y)) throw new Error(`regression1d: fn(${x}) is ${y}, not a finite number`);
    inputs[row] = x;
    targets[row] = y + noiseStd * normal();
  }
  return {
    name: "regression-1d",
    inputs,
    count,
    features: 1,
    targets,
    targetSize: 1,
    valueRange: [low, high],
  };
}

/** Standard normal draws from a uniform generator, by the Box-Muller transform. */
function standardNormal(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - random())); // 1 - u lies in (0, 1]: no log(0)
    const angle = 2 * Math.PI * random();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

function requireNonNegative(value: number, name: string, where: string): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new Error(`${where}: ${name} must be a finite number >= 0, got ${value}`);
  }
}
