import assert from "node:assert/strict";
import { accuracy, argmaxRows, LN2 } from "../lib/mod.ts";
import { assertArraysClose, assertClose } from "./helpers.ts";

Deno.test("LN2 is ln 2", () => {
  assertClose(Math.exp(LN2), 2, 1e-15);
  assertClose(10 * LN2, 6.9315, 5e-5);
});

Deno.test("argmaxRows: rows and flat, ties to the lowest index", () => {
  const rows = [Float32Array.of(0, 2, 2), Float32Array.of(5, 1, 5), Float32Array.of(-3, -1, -2)];
  assert.deepEqual(argmaxRows(rows), Int32Array.of(1, 0, 1));
  assert.deepEqual(
    argmaxRows(Float32Array.of(0, 2, 2, 5, 1, 5, -3, -1, -2), 3),
    Int32Array.of(1, 0, 1),
  );
  assert.deepEqual(
    argmaxRows([[0, 0, 0, 0]]),
    Int32Array.of(0),
    "an all-zero (dead) row is class 0",
  );
});

Deno.test("argmaxRows: a NaN in a row gives the index of the first NaN, as NumPy", () => {
  assert.deepEqual(argmaxRows([[NaN, 1], [1, NaN, 5, NaN], [1, 2]]), Int32Array.of(0, 1, 1));
  assert.deepEqual(argmaxRows([1, 9, NaN, 0], 2), Int32Array.of(1, 0));
});

Deno.test("argmaxRows: bad shapes are errors that say what was given", () => {
  assert.throws(() => argmaxRows([1, 2, 3], 2), /3 values do not split into rows of 2 columns/);
  assert.throws(() => argmaxRows([1, 2], 0), /columns must be a positive integer, got 0/);
  assert.throws(() => argmaxRows([[1], []]), /row 1 is empty/);
  assert.throws(
    () => argmaxRows([1, 2, 3] as unknown as number[][]),
    /row 0 is a number; give an array of rows, or a flat array and its column count/,
  );
});

Deno.test("accuracy: the fraction correct; mismatched or empty inputs are errors", () => {
  assert.equal(accuracy([0, 1, 1, 0], [0, 1, 0, 0]), 0.75);
  assert.equal(accuracy(Int32Array.of(3, 3), [1, 2]), 0);
  assert.throws(() => accuracy([1, 2], [1]), /2 predictions for 1 labels/);
  assert.throws(() => accuracy([], []), /no examples/);
});

Deno.test("helpers: assertClose and assertArraysClose fail where they should", () => {
  assertArraysClose([1, NaN, Infinity], [1 + 1e-13, NaN, Infinity]);
  assert.throws(() => assertClose(1.1, 1, 1e-3, "x"), /x: got 1.1, expected 1/);
  assert.throws(() => assertArraysClose([1, 2], [1, 2, 3]), /2 values, expected 3/);
  assert.throws(() => assertArraysClose([NaN], [0]), /values\[0\]: got NaN/);
  assert.throws(() => assertArraysClose([0], [NaN]));
  assert.throws(() => assertArraysClose([-Infinity], [Infinity]));
  assertClose(100.5, 100, { relative: 1e-2 });
  assert.throws(() => assertClose(100.5, 100, { absolute: 0.1 }));
});
