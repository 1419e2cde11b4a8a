/**
 * Metrics on values already read back to JavaScript: the natural log of 2,
 * the argmax of each row, and accuracy. The chapters use these to score
 * predictions the same way everywhere.
 *
 * @module
 */

/**
 * ln 2 ≈ 0.6931, the cross-entropy in nats of a fair coin: a ten-class head
 * whose every sigmoid output is 1/2 starts at `10 * LN2`, and a mean
 * cross-entropy `L` guarantees an accuracy of at least `1 - L / LN2`.
 */
export const LN2: number = Math.LN2;

/**
 * The index of each row's largest value, as NumPy's `argmax`: ties go to the
 * lowest index, and a row that holds a NaN gives the index of its first NaN
 * (a diverged row is then visible, not silently scored as class 0).
 *
 * Give either an array of rows, or a flat row-major array and its column count.
 *
 * @example
 * ```ts
 * import { argmaxRows } from "./metrics.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(argmaxRows([[0.1, 0.7, 0.2], [3, 3, 1]]), Int32Array.of(1, 0));
 * assert.deepEqual(argmaxRows([0.1, 0.7, 0.2, 3, 3, 1], 3), Int32Array.of(1, 0));
 * assert.deepEqual(argmaxRows([[1, NaN, NaN]]), Int32Array.of(1));
 * ```
 */
export function argmaxRows(rows: ArrayLike<ArrayLike<number>>): Int32Array;
/** The argmax of each row of a flat, row-major array of `columns` columns. */
export function argmaxRows(values: ArrayLike<number>, columns: number): Int32Array;
export function argmaxRows(
  rowsOrValues: ArrayLike<ArrayLike<number>> | ArrayLike<number>,
  columns?: number,
): Int32Array {
  if (columns === undefined) {
    const rows = rowsOrValues as ArrayLike<ArrayLike<number>>;
    const out = new Int32Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (row === null || typeof row !== "object" || typeof row.length !== "number") {
        throw new TypeError(
          `argmaxRows: row ${r} is ${
            typeof row === "number" ? "a number" : String(row)
          }; give an array of rows, or a flat array and its column count as argmaxRows(values, columns)`,
        );
      }
      if (row.length === 0) throw new RangeError(`argmaxRows: row ${r} is empty`);
      out[r] = argmaxOf(row, 0, row.length);
    }
    return out;
  }
  const values = rowsOrValues as ArrayLike<number>;
  if (!Number.isInteger(columns) || columns < 1) {
    throw new RangeError(`argmaxRows: columns must be a positive integer, got ${columns}`);
  }
  if (values.length % columns !== 0) {
    throw new RangeError(
      `argmaxRows: ${values.length} values do not split into rows of ${columns} columns`,
    );
  }
  const out = new Int32Array(values.length / columns);
  for (let r = 0; r < out.length; r++) out[r] = argmaxOf(values, r * columns, columns);
  return out;
}

/** Argmax of `values[start .. start + length)`, relative to `start`. */
function argmaxOf(values: ArrayLike<number>, start: number, length: number): number {
  let best = 0;
  for (let c = 0; c < length; c++) {
    const v = values[start + c];
    if (Number.isNaN(v)) return c;
    if (v > values[start + best]) best = c;
  }
  return best;
}

/**
 * The fraction of examples whose predicted class equals its label.
 *
 * @example
 * ```ts
 * import { accuracy, argmaxRows } from "./metrics.ts";
 * import assert from "node:assert/strict";
 *
 * const predictions = argmaxRows([[2, 1], [0, 5], [1, 0], [4, 3]]);
 * assert.equal(accuracy(predictions, [0, 1, 1, 0]), 0.75);
 * ```
 */
export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predictions.length !== labels.length) {
    throw new RangeError(
      `accuracy: ${predictions.length} predictions for ${labels.length} labels; they must match one to one`,
    );
  }
  if (labels.length === 0) throw new RangeError("accuracy: no examples (0 labels)");
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}
