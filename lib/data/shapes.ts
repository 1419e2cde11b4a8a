/**
 * The synthetic sets a recipe can ask for (../shared/RECIPE.md, `"source": "synthetic"`): blobs,
 * circles, moons, xor and spiral for classification, linear and sine for regression. Inputs are
 * generated, then multiplied by `scale` and shifted by `offset`; regression targets are computed on
 * the final inputs, so a large `scale` makes large targets as well as large inputs. Classes are
 * balanced and interleaved (row i has class i mod K), so "as stored" is not sorted by class.
 * The same seed gives the same numbers on every machine.
 */
import type { Dataset } from "./dataset.ts";
import { Random } from "../random.ts";

export type ShapeKind = "blobs" | "circles" | "moons" | "xor" | "spiral" | "linear" | "sine";

export interface ShapeOptions {
  kind: ShapeKind;
  count: number;
  /** blobs and linear: any; the 2-D shapes: 2; sine: 1. */
  features?: number;
  /** blobs and spiral: any >= 2; circles, moons, xor: 2. */
  classes?: number;
  /** linear: how many targets. */
  outputs?: number;
  /** Standard deviation of the Gaussian jitter (classification) or target noise (regression). */
  noise?: number;
  scale?: number;
  offset?: number;
  /** linear: W as a vector (one output) or features x outputs; default N(0, 1) draws. */
  weights?: number[] | number[][];
  /** linear: b, one per output; default N(0, 1) draws. */
  bias?: number | number[];
  seed?: number;
}

/** A synthetic dataset as a recipe describes it. */
export function makeShape(options: ShapeOptions): Dataset {
  const { kind, count, noise = 0.1, scale = 1, offset = 0, seed = 0 } = options;
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`synthetic ${kind}: count must be a positive whole number, got ${count}`);
  }
  const random = new Random(seed);
  const jitter = () => noise * random.normal();
  const classification = kind !== "linear" && kind !== "sine";
  const features = options.features ??
    (kind === "sine" ? 1 : kind === "blobs" || kind === "linear" ? 2 : 2);
  const classes = options.classes ?? (kind === "blobs" || kind === "spiral" ? 3 : 2);
  const inputs = new Float32Array(count * features);
  const labels = new Uint8Array(count);
  const set = (row: number, values: number[]) =>
    values.forEach((v, j) => (inputs[row * features + j] = v * scale + offset));

  if (kind === "blobs") {
    const centres = Array.from(
      { length: classes },
      () => Array.from({ length: features }, () => random.normal()),
    );
    for (let row = 0; row < count; row++) {
      const label = row % classes;
      labels[row] = label;
      set(row, centres[label].map((c) => c + jitter()));
    }
  } else if (kind === "circles") {
    // Outer circle (radius 1) is class 0, inner (radius 0.5) class 1.
    for (let row = 0; row < count; row++) {
      const label = row % 2, angle = 2 * Math.PI * random.uniform();
      const radius = label === 0 ? 1 : 0.5;
      labels[row] = label;
      set(row, [radius * Math.cos(angle) + jitter(), radius * Math.sin(angle) + jitter()]);
    }
  } else if (kind === "moons") {
    // scikit-learn's two interleaved half circles.
    for (let row = 0; row < count; row++) {
      const label = row % 2, t = Math.PI * random.uniform();
      labels[row] = label;
      set(
        row,
        label === 0
          ? [Math.cos(t) + jitter(), Math.sin(t) + jitter()]
          : [1 - Math.cos(t) + jitter(), 0.5 - Math.sin(t) + jitter()],
      );
    }
  } else if (kind === "xor") {
    // Quadrants: class 1 where the signs differ. Points are drawn so the classes alternate.
    for (let row = 0; row < count; row++) {
      const label = row % 2;
      const a = random.uniformIn(0.05, 1), b = random.uniformIn(0.05, 1);
      const sx = random.uniform() < 0.5 ? -1 : 1;
      const sy = label === 1 ? -sx : sx;
      labels[row] = label;
      set(row, [sx * a + jitter(), sy * b + jitter()]);
    }
  } else if (kind === "spiral") {
    // CS231n's spiral: each class an arm, radius growing from the centre.
    for (let row = 0; row < count; row++) {
      const label = row % classes, t = random.uniform();
      const angle = label * (2 * Math.PI / classes) + 4 * t;
      labels[row] = label;
      set(row, [t * Math.sin(angle) + jitter(), t * Math.cos(angle) + jitter()]);
    }
  } else if (kind === "linear") {
    const outputs = options.outputs ?? 1;
    const flat = options.weights === undefined
      ? Array.from({ length: features * outputs }, () => random.normal())
      : (options.weights as (number | number[])[]).flat();
    if (flat.length !== features * outputs) {
      throw new Error(
        `synthetic linear: weights need ${features * outputs} numbers, got ${flat.length}`,
      );
    }
    const bias = options.bias === undefined
      ? Array.from({ length: outputs }, () => random.normal())
      : typeof options.bias === "number"
      ? [options.bias]
      : options.bias;
    const targets = new Float32Array(count * outputs);
    for (let row = 0; row < count; row++) {
      set(row, Array.from({ length: features }, () => random.uniform()));
      for (let k = 0; k < outputs; k++) {
        let y = bias[k];
        for (let j = 0; j < features; j++) y += inputs[row * features + j] * flat[j * outputs + k];
        targets[row * outputs + k] = y + noise * random.normal();
      }
    }
    return { name: "synthetic-linear", inputs, count, features, targets, targetSize: outputs };
  } else if (kind === "sine") {
    const targets = new Float32Array(count);
    for (let row = 0; row < count; row++) {
      set(row, [random.uniformIn(-3, 3)]);
      const x = inputs[row];
      targets[row] = Math.sin(2 * x) + 0.3 * x + noise * random.normal();
    }
    return { name: "synthetic-sine", inputs, count, features: 1, targets, targetSize: 1 };
  } else {
    throw new Error(`unknown synthetic kind "${kind}"`);
  }
  if (!classification) throw new Error("unreachable");
  return {
    name: `synthetic-${kind}`,
    inputs,
    count,
    features,
    labels,
    classes,
    classNames: Array.from({ length: classes }, (_, c) => `${kind} ${c}`),
  };
}
