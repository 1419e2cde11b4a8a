/**
 * Seeded randomness and stratified splits, at the level of row indices.
 *
 * The data module carries its own small generator (mulberry32) instead of using
 * `lib/random.ts`, because the Fashion-MNIST and MNIST train/test splits are part
 * of the datasets' definition: they must stay the same even if the library's
 * general-purpose generator changes. Turning indices into Datasets happens in
 * `transforms.ts` (`takeRows`, `trainTestSplit`) and in the loaders.
 */

/** The largest seed: seeds are 32-bit unsigned integers. */
export const MAX_SEED = 0xffff_ffff;

/** Throws unless `seed` is an integer in [0, 2^32), naming `where` it came from. */
export function requireSeed(seed: number, where: string): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new Error(`${where}: seed must be an integer from 0 to ${MAX_SEED}, got ${seed}`);
  }
}

/** Throws unless `value` is an integer >= `minimum`. */
export function requireInteger(value: number, name: string, where: string, minimum = 0): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new Error(`${where}: ${name} must be an integer >= ${minimum}, got ${value}`);
  }
}

/**
 * A uniform generator on [0, 1) from a 32-bit seed: mulberry32 (Tommy Ettinger).
 * One 32-bit state word, a handful of integer operations per draw; plenty for
 * shuffling and sampling, not for cryptography. The same seed gives the same
 * sequence on every machine, since it only uses 32-bit integer arithmetic.
 */
export function seededRandom(seed: number): () => number {
  requireSeed(seed, "seededRandom");
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle of `array` in place, drawing from `random`; returns `array`. */
export function shuffleInPlace<T extends { length: number; [index: number]: number }>(
  array: T,
  random: () => number,
): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const kept = array[i];
    array[i] = array[j];
    array[j] = kept;
  }
  return array;
}

/**
 * Shares `total` among groups in proportion to their `sizes`, in whole numbers
 * (Hamilton's largest-remainder method): each group gets the floor of its exact
 * share, and the few units left go to the largest fractional parts, ties to the
 * lower group index. E.g. sizes [3, 3, 4] and total 5: exact shares
 * [1.5, 1.5, 2], floors [1, 1, 2], and the one unit left goes to group 0: [2, 1, 2].
 */
export function proportionalAllocation(sizes: readonly number[], total: number): number[] {
  const available = sizes.reduce((sum, size) => sum + size, 0);
  requireInteger(total, "total", "proportionalAllocation");
  if (total > available) {
    throw new Error(`proportionalAllocation: asked for ${total} of only ${available} items`);
  }
  if (available === 0) return sizes.map(() => 0);
  const exact = sizes.map((size) => (size * total) / available);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((sum, share) => sum + share, 0);
  const byRemainder = exact
    .map((value, group) => ({ group, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.group - b.group);
  for (const { group } of byRemainder) {
    if (left === 0) break;
    shares[group]++;
    left--;
  }
  return shares;
}

/** Row indices of each class, in their original order. */
export function indicesByClass(labels: Uint8Array, classes: number): number[][] {
  const groups: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((label, row) => {
    if (label >= classes) throw new Error(`label ${label} at row ${row} is not below ${classes}`);
    groups[label].push(row);
  });
  return groups;
}

/**
 * Splits rows into train and test so that every class keeps its share of the
 * data in both (a stratified split). Per class, the rows are shuffled and the
 * first ones go to test; then both index lists are shuffled, so the first rows
 * of either already mix all classes. Deterministic for a given seed.
 */
export function stratifiedSplitIndices(
  labels: Uint8Array,
  classes: number,
  testCount: number,
  seed: number,
): { trainIndices: Uint32Array; testIndices: Uint32Array } {
  requireSeed(seed, "stratifiedSplitIndices");
  requireInteger(testCount, "testCount", "stratifiedSplitIndices");
  if (testCount > labels.length) {
    throw new Error(
      `stratifiedSplitIndices: testCount ${testCount} is more than the ${labels.length} rows`,
    );
  }
  const random = seededRandom(seed);
  const groups = indicesByClass(labels, classes);
  const testPerClass = proportionalAllocation(groups.map((group) => group.length), testCount);
  const trainIndices: number[] = [];
  const testIndices: number[] = [];
  groups.forEach((group, label) => {
    shuffleInPlace(group, random);
    group.forEach((row, position) => {
      (position < testPerClass[label] ? testIndices : trainIndices).push(row);
    });
  });
  return {
    trainIndices: shuffleInPlace(Uint32Array.from(trainIndices), random),
    testIndices: shuffleInPlace(Uint32Array.from(testIndices), random),
  };
}
