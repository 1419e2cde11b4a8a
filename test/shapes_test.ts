import assert from "node:assert/strict";
import { makeShape } from "../lib/data/shapes.ts";

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

Deno.test("synthetic shapes: balanced interleaved classes, the geometry each name promises", () => {
  const circles = makeShape({ kind: "circles", count: 400, noise: 0, seed: 1 });
  const radius = (row: number) => Math.hypot(circles.inputs[2 * row], circles.inputs[2 * row + 1]);
  for (let row = 0; row < 400; row++) {
    assert.equal(circles.labels![row], row % 2);
    assert.ok(Math.abs(radius(row) - (row % 2 === 0 ? 1 : 0.5)) < 1e-6);
  }
  const xor = makeShape({ kind: "xor", count: 200, noise: 0, seed: 2 });
  for (let row = 0; row < 200; row++) {
    const [x, y] = [xor.inputs[2 * row], xor.inputs[2 * row + 1]];
    assert.equal(xor.labels![row], x * y < 0 ? 1 : 0);
  }
  const spiral = makeShape({ kind: "spiral", count: 300, classes: 5, seed: 3 });
  assert.equal(spiral.classes, 5);
  assert.deepEqual([...new Set(spiral.labels)].sort(), [0, 1, 2, 3, 4]);
  const blobs = makeShape({ kind: "blobs", count: 90, features: 7, classes: 3, seed: 4 });
  assert.equal(blobs.features, 7);
  assert.equal(blobs.inputs.length, 90 * 7);
});

Deno.test("synthetic regression: targets computed on the scaled, shifted inputs", () => {
  const linear = makeShape({
    kind: "linear",
    count: 50,
    features: 2,
    weights: [2, -1],
    bias: 0.5,
    noise: 0,
    scale: 100,
    offset: 10,
  });
  for (let row = 0; row < 50; row++) {
    const [a, b] = [linear.inputs[2 * row], linear.inputs[2 * row + 1]];
    assert.ok(a >= 10 && a <= 110);
    assert.ok(Math.abs(linear.targets![row] - (2 * a - b + 0.5)) < 1e-3);
  }
  const sine = makeShape({ kind: "sine", count: 500, noise: 0, seed: 5 });
  for (let row = 0; row < 500; row++) {
    const x = sine.inputs[row];
    assert.ok(Math.abs(sine.targets![row] - (Math.sin(2 * x) + 0.3 * x)) < 1e-5);
  }
  assert.ok(Math.abs(mean([...sine.inputs])) < 0.3, "x ~ U(-3, 3)");
});

Deno.test("synthetic shapes are a pure function of the seed", () => {
  const a = makeShape({ kind: "moons", count: 100, seed: 9 });
  const b = makeShape({ kind: "moons", count: 100, seed: 9 });
  const c = makeShape({ kind: "moons", count: 100, seed: 10 });
  assert.deepEqual(a.inputs, b.inputs);
  assert.notDeepEqual(a.inputs, c.inputs);
});
