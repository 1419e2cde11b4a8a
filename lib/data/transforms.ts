/**
 * Pure functions from Datasets to new Datasets: choosing rows, rescaling,
 * standardising, one-hot labels.
 *
 * None of them changes its input, and the Dataset they return shares no array
 * with it, so a learner can keep the raw set next to the transformed one.
 */
import type { Dataset } from "./dataset.ts";
import {
  indicesByClass,
  proportionalAllocation,
  requireInteger,
  requireSeed,
  seededRandom,
  shuffleInPlace,
  stratifiedSplitIndices,
} from "./split.ts";

/** A new Dataset of the given rows, in the given order (repeats allowed). */
export function takeRows(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const { features, targetSize = 0 } = ds;
  const count = indices.length;
  const inputs = new Float32Array(count * features);
  const labels = ds.labels ? new Uint8Array(count) : undefined;
  const targets = ds.targets ? new Float32Array(count * targetSize) : undefined;
  for (let row = 0; row < count; row++) {
    const source = indices[row];
    if (!Number.isInteger(source) || source < 0 || source >= ds.count) {
      throw new Error(
        `takeRows: index ${source} (position ${row}) is not a row of ${ds.name} (0..${
          ds.count - 1
        })`,
      );
    }
    inputs.set(ds.inputs.subarray(source * features, (source + 1) * features), row * features);
    if (labels) labels[row] = ds.labels![source];
    if (targets) {
      targets.set(
        ds.targets!.subarray(source * targetSize, (source + 1) * targetSize),
        row * targetSize,
      );
    }
  }
  return withoutUndefined({ ...copyMetadata(ds), inputs, count, labels, targets });
}

/**
 * Maps the inputs linearly from `ds.valueRange` onto [0, 1]: (x - low) / (high - low).
 * For raw pixels, [0, 255], that is division by 255.
 */
export function scaleToUnitRange(ds: Dataset): Dataset {
  if (!ds.valueRange) {
    throw new Error(`scaleToUnitRange: ${ds.name} has no valueRange to scale from`);
  }
  const [low, high] = ds.valueRange;
  if (!(high > low)) {
    throw new Error(`scaleToUnitRange: ${ds.name} has an empty valueRange [${low}, ${high}]`);
  }
  const inputs = ds.inputs.map((value) => (value - low) / (high - low));
  return { ...copyRows(ds), inputs, valueRange: [0, 1] };
}

/** The mean and standard deviation that `standardize` subtracts and divides by. */
export interface StandardizationStats {
  /** One value (global) or one per feature. */
  mean: Float32Array;
  /** Population standard deviation, same length as `mean`. */
  std: Float32Array;
}

/**
 * Shifts and scales the inputs to mean 0 and standard deviation 1: (x - mean) / std.
 *
 * Compute the stats on the training set and pass them when standardising the
 * test set (`standardize(test, { stats })`): the test set must be transformed
 * exactly like the data the model learned from, and must not leak into it.
 *
 * Global stats (the default) use one mean and std for every input value, which
 * keeps the relative brightness of pixels. `perFeature: true` gives each input
 * column its own; columns that never vary (MNIST's corner pixels, std 0) are
 * only centred, since dividing by 0 would give NaN. The result has no
 * `valueRange`, as its values no longer lie in a known range.
 */
export function standardize(
  ds: Dataset,
  options: { stats?: StandardizationStats; perFeature?: boolean } = {},
): { dataset: Dataset; stats: StandardizationStats } {
  const { features } = ds;
  let stats = options.stats;
  if (stats) {
    const perFeature = stats.mean.length === features && features !== 1;
    if (stats.mean.length !== 1 && stats.mean.length !== features) {
      throw new Error(
        `standardize: stats have ${stats.mean.length} means; ${ds.name} needs 1 or ${features}`,
      );
    }
    if (stats.std.length !== stats.mean.length) {
      throw new Error(
        `standardize: stats have ${stats.mean.length} means but ${stats.std.length} stds`,
      );
    }
    if (options.perFeature !== undefined && options.perFeature !== perFeature) {
      throw new Error(`standardize: perFeature is ${options.perFeature}, but the stats are not`);
    }
  } else {
    stats = computeStats(ds, options.perFeature ?? false);
  }
  const { mean, std } = stats;
  const inputs = new Float32Array(ds.inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const k = mean.length === 1 ? 0 : i % features;
    inputs[i] = (ds.inputs[i] - mean[k]) / (std[k] > 0 ? std[k] : 1);
  }
  const dataset: Dataset = { ...copyRows(ds), inputs };
  delete dataset.valueRange;
  return { dataset, stats };
}

function computeStats(ds: Dataset, perFeature: boolean): StandardizationStats {
  if (ds.count === 0) throw new Error(`standardize: ${ds.name} is empty`);
  const groups = perFeature ? ds.features : 1;
  const valuesPerGroup = ds.inputs.length / groups;
  // Two passes in float64: the sum of 47 million pixels would lose digits in float32.
  const sums = new Float64Array(groups);
  ds.inputs.forEach((value, i) => sums[perFeature ? i % groups : 0] += value);
  const mean = sums.map((sum) => sum / valuesPerGroup);
  const squares = new Float64Array(groups);
  ds.inputs.forEach((value, i) => {
    const k = perFeature ? i % groups : 0;
    squares[k] += (value - mean[k]) ** 2;
  });
  const std = squares.map((sum) => Math.sqrt(sum / valuesPerGroup));
  return { mean: Float32Array.from(mean), std: Float32Array.from(std) };
}

/** Labels as one-hot rows: `labels.length * classes` values, a 1 at each label. */
export function oneHot(labels: Uint8Array, classes: number): Float32Array {
  requireInteger(classes, "classes", "oneHot", 1);
  const rows = new Float32Array(labels.length * classes);
  labels.forEach((label, row) => {
    if (label >= classes) {
      throw new Error(`oneHot: label ${label} at row ${row} is not below ${classes}`);
    }
    rows[row * classes + label] = 1;
  });
  return rows;
}

/** How many examples each class has, indexed by class. */
export function classCounts(ds: Dataset): number[] {
  const { labels, classes } = requireLabels(ds, "classCounts");
  return indicesByClass(labels, classes).map((rows) => rows.length);
}

/**
 * A smaller Dataset: only some classes, and/or `count` examples.
 *
 * `classes` (indices or names) keeps those classes and renumbers them in the
 * order given: `subset(ds, { classes: ["Shirt", "T-shirt/top"] })` is a
 * two-class set where Shirt is 0 and T-shirt/top is 1. `count` samples that many
 * examples, stratified so each class keeps its share (largest remainder), chosen
 * by `seed` (default 0). Kept rows stay in their original order.
 */
export function subset(
  ds: Dataset,
  options: { count?: number; classes?: readonly (number | string)[]; seed?: number } = {},
): Dataset {
  const { count, classes, seed = 0 } = options;
  requireSeed(seed, "subset");
  let source = ds;
  if (classes) source = keepClasses(ds, classes);
  if (count === undefined) return classes ? source : takeRows(ds, identity(ds.count));

  requireInteger(count, "count", "subset", 1);
  if (count > source.count) {
    throw new Error(
      `subset: count ${count} is more than the ${source.count} examples of ${source.name}` +
        (classes ? " in the chosen classes" : ""),
    );
  }
  const random = seededRandom(seed);
  const groups = source.labels
    ? indicesByClass(source.labels, requireLabels(source, "subset").classes)
    : [Array.from(identity(source.count))];
  const perGroup = proportionalAllocation(groups.map((rows) => rows.length), count);
  const chosen = groups.flatMap((rows, group) =>
    shuffleInPlace(rows, random).slice(0, perGroup[group])
  );
  return takeRows(source, Uint32Array.from(chosen).sort());
}

function keepClasses(ds: Dataset, wanted: readonly (number | string)[]): Dataset {
  const { labels, classes, classNames } = requireLabels(ds, "subset");
  const known = classNames ?? Array.from({ length: classes }, (_, c) => String(c));
  const chosen = wanted.map((name) => {
    const index = typeof name === "number" ? name : known.indexOf(name);
    if (!Number.isInteger(index) || index < 0 || index >= classes) {
      throw new Error(
        `subset: unknown class ${JSON.stringify(name)} in ${ds.name}; ` +
          `classes are 0..${classes - 1}: ${known.join(", ")}`,
      );
    }
    return index;
  });
  if (new Set(chosen).size !== chosen.length) {
    throw new Error(`subset: class list ${JSON.stringify(wanted)} names a class twice`);
  }
  if (chosen.length === 0) throw new Error("subset: classes must name at least one class");
  const newLabelOf = new Map(chosen.map((original, position) => [original, position]));
  const rows = identity(ds.count).filter((row) => newLabelOf.has(labels[row]));
  const kept = takeRows(ds, rows);
  kept.labels = kept.labels!.map((label) => newLabelOf.get(label)!);
  kept.classes = chosen.length;
  kept.classNames = chosen.map((c) => known[c]);
  return kept;
}

/**
 * Splits a Dataset in two, e.g. training data into train and validation.
 * Stratified when the Dataset has labels (each class keeps its share in both),
 * a plain random split otherwise. Give `testCount` or `testFraction`; `seed`
 * (default 0) picks the rows, and `names` default to "<name>/train" and "<name>/test".
 */
export function trainTestSplit(
  ds: Dataset,
  options: { testCount?: number; testFraction?: number; seed?: number; names?: [string, string] },
): { train: Dataset; test: Dataset } {
  const { testFraction, seed = 0, names = [`${ds.name}/train`, `${ds.name}/test`] } = options;
  requireSeed(seed, "trainTestSplit");
  if ((options.testCount === undefined) === (testFraction === undefined)) {
    throw new Error("trainTestSplit: give exactly one of testCount and testFraction");
  }
  if (testFraction !== undefined && !(testFraction > 0 && testFraction < 1)) {
    throw new Error(
      `trainTestSplit: testFraction must lie strictly between 0 and 1, got ${testFraction}`,
    );
  }
  const testCount = options.testCount ?? Math.round(ds.count * testFraction!);
  requireInteger(testCount, "testCount", "trainTestSplit");
  if (testCount > ds.count) {
    throw new Error(`trainTestSplit: testCount ${testCount} is more than the ${ds.count} rows`);
  }
  // Without labels, every row is in one class 0, so the stratified split is a random one.
  const { labels, classes } = ds.labels
    ? requireLabels(ds, "trainTestSplit")
    : { labels: new Uint8Array(ds.count), classes: 1 };
  const { trainIndices, testIndices } = stratifiedSplitIndices(labels, classes, testCount, seed);
  return {
    train: { ...takeRows(ds, trainIndices), name: names[0] },
    test: { ...takeRows(ds, testIndices), name: names[1] },
  };
}

function requireLabels(
  ds: Dataset,
  where: string,
): { labels: Uint8Array; classes: number; classNames?: string[] } {
  if (!ds.labels || ds.classes === undefined) {
    throw new Error(`${where}: ${ds.name} has no class labels (is it a regression set?)`);
  }
  return { labels: ds.labels, classes: ds.classes, classNames: ds.classNames };
}

/** Everything but the row arrays, with arrays copied so nothing is shared. */
function copyMetadata(ds: Dataset): Dataset {
  return withoutUndefined({
    ...ds,
    classNames: ds.classNames?.slice(),
    valueRange: ds.valueRange && [ds.valueRange[0], ds.valueRange[1]],
    imageShape: ds.imageShape && [ds.imageShape[0], ds.imageShape[1]],
  });
}

/** A full copy: metadata and every row. */
function copyRows(ds: Dataset): Dataset {
  return withoutUndefined({
    ...copyMetadata(ds),
    inputs: ds.inputs.slice(),
    labels: ds.labels?.slice(),
    targets: ds.targets?.slice(),
  });
}

/** Drops fields set to undefined, so a copy has the same keys as its original. */
function withoutUndefined(ds: Dataset): Dataset {
  for (const key of Object.keys(ds) as (keyof Dataset)[]) {
    if (ds[key] === undefined) delete ds[key];
  }
  return ds;
}

function identity(count: number): Uint32Array {
  return Uint32Array.from({ length: count }, (_, i) => i);
}
