/**
 * Shared test helpers (as tfjs-core's `expectArraysClose`): closeness with a
 * tolerance that reads the same in every test, and messages that say which
 * element differs and by how much.
 */
import assert from "node:assert/strict";

/**
 * A tolerance: a number `t` means `|actual − expected| ≤ t · max(1, |expected|)`
 * (absolute near zero, relative for large values); an object gives both parts,
 * `|actual − expected| ≤ absolute + relative · |expected|`.
 */
export type Tolerance = number | { relative?: number; absolute?: number };

function within(actual: number, expected: number, tolerance: Tolerance): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  const error = Math.abs(actual - expected);
  if (typeof tolerance === "number") return error <= tolerance * Math.max(1, Math.abs(expected));
  return error <= (tolerance.absolute ?? 0) + (tolerance.relative ?? 0) * Math.abs(expected);
}

function describe(tolerance: Tolerance): string {
  return typeof tolerance === "number"
    ? `${tolerance} · max(1, |expected|)`
    : `${tolerance.absolute ?? 0} + ${tolerance.relative ?? 0} · |expected|`;
}

/** `actual` equals `expected` within `tolerance`; NaN only where NaN, infinities only where the same infinity. */
export function assertClose(
  actual: number,
  expected: number,
  tolerance: Tolerance = 1e-12,
  what = "value",
): void {
  if (!within(actual, expected, tolerance)) {
    assert.fail(
      `${what}: got ${actual}, expected ${expected} (off by ${
        Math.abs(actual - expected)
      }, allowed ${describe(tolerance)})`,
    );
  }
}

/** Element by element {@link assertClose}, after checking the lengths agree. */
export function assertArraysClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance = 1e-12,
  what = "values",
): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} values, expected ${expected.length}`,
  );
  for (let i = 0; i < expected.length; i++) {
    assertClose(actual[i], expected[i], tolerance, `${what}[${i}]`);
  }
}
