/**
 * Initialisation schemes against their formulas (with tolerances from the sample
 * size), and optimiser steps against hand computation.
 */
import assert from "node:assert/strict";
import {
  Adam,
  initNames,
  initValues,
  Linear,
  mlp,
  Momentum,
  optimizerByName,
  optimizerNames,
  type Parameter,
  Random,
  SGD,
  tensor,
} from "../lib/mod.ts";
import { assertArraysClose } from "./helpers.ts";

const f64 = { dtype: "float64" as const };

// Initialisation ------------------------------------------------------------------

interface Summary {
  mean: number;
  std: number;
  min: number;
  max: number;
  withinOneStd: number;
}

function summarise(values: Float64Array): Summary {
  let sum = 0, sumSquares = 0, min = Infinity, max = -Infinity;
  for (const v of values) {
    sum += v;
    sumSquares += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const n = values.length;
  const mean = sum / n;
  const std = Math.sqrt(sumSquares / n - mean * mean);
  let within = 0;
  for (const v of values) if (Math.abs(v - mean) <= std) within++;
  return { mean, std, min, max, withinOneStd: within / n };
}

const fanIn = 400, fanOut = 600, size = fanIn * fanOut;

/** Mean and std within 5 standard errors of the formula (the std's is at most σ/√(2n)). */
function assertMoments(s: Summary, mean: number, std: number, what: string) {
  const n = size;
  assert.ok(
    Math.abs(s.mean - mean) < 5 * std / Math.sqrt(n),
    `${what}: mean ${s.mean}, expected ${mean}`,
  );
  assert.ok(
    Math.abs(s.std - std) < 5 * std / Math.sqrt(2 * n),
    `${what}: std ${s.std}, expected ${std}`,
  );
}

function assertUniform(s: Summary, low: number, high: number, what: string) {
  assertMoments(s, (low + high) / 2, (high - low) / Math.sqrt(12), what);
  assert.ok(
    s.min >= low && s.max < high,
    `${what}: range [${s.min}, ${s.max}] outside [${low}, ${high})`,
  );
  // With n draws the extremes come within about (high − low) / n of the limits.
  const slack = 20 * (high - low) / size;
  assert.ok(
    s.min < low + slack && s.max > high - slack,
    `${what}: [${s.min}, ${s.max}] far from the limits`,
  );
  // A uniform puts 1/√3 ≈ 57.7 % of its mass within one std of the mean.
  assert.ok(Math.abs(s.withinOneStd - 1 / Math.sqrt(3)) < 0.005, `${what}: ${s.withinOneStd}`);
}

function assertNormal(s: Summary, mean: number, std: number, what: string) {
  assertMoments(s, mean, std, what);
  // 68.27 % within one std; the sampling error is about 0.001.
  assert.ok(Math.abs(s.withinOneStd - 0.6827) < 0.005, `${what}: ${s.withinOneStd} within 1σ`);
}

const draw = (init: Parameters<typeof initValues>[0], seed = 1) =>
  initValues(init, size, fanIn, fanOut, new Random(seed));

Deno.test("init: Glorot and He limits and standard deviations match their formulas", () => {
  const glorotLimit = Math.sqrt(6 / (fanIn + fanOut));
  assertUniform(summarise(draw("glorot-uniform")), -glorotLimit, glorotLimit, "glorot-uniform");
  assertNormal(
    summarise(draw("glorot-normal")),
    0,
    Math.sqrt(2 / (fanIn + fanOut)),
    "glorot-normal",
  );
  const heLimit = Math.sqrt(6 / fanIn);
  assertUniform(summarise(draw("he-uniform")), -heLimit, heLimit, "he-uniform");
  assertNormal(summarise(draw("he-normal")), 0, Math.sqrt(2 / fanIn), "he-normal");
  // A gain multiplies the scale.
  assertNormal(
    summarise(draw({ name: "he-normal", gain: 3 })),
    0,
    3 * Math.sqrt(2 / fanIn),
    "he-normal gain 3",
  );
  assertUniform(
    summarise(draw({ name: "glorot-uniform", gain: 0.5 })),
    -0.5 * glorotLimit,
    0.5 * glorotLimit,
    "glorot-uniform gain 0.5",
  );
});

Deno.test("init: uniform, normal, constant and zeros, with defaults and parameters", () => {
  assertUniform(summarise(draw("uniform")), -0.05, 0.05, "uniform default");
  assertUniform(summarise(draw({ name: "uniform", low: 1, high: 3 })), 1, 3, "uniform [1, 3)");
  assertNormal(summarise(draw("normal")), 0, 0.01, "normal default");
  assertNormal(summarise(draw({ name: "normal", mean: 2, std: 0.5 })), 2, 0.5, "normal(2, 0.5)");
  assert.ok(draw("zeros").every((v) => v === 0));
  assert.ok(draw({ name: "zeros" }).every((v) => v === 0));
  assert.ok(draw({ name: "constant", value: -0.25 }).every((v) => v === -0.25));
  assert.throws(() => draw("constant"), /init "constant" needs a finite value/);
});

Deno.test("init: a Linear layer's weights follow its scheme (he-normal by default), bias zeros", async () => {
  const layer = new Linear(1000, 200, f64);
  const weights = summarise(Float64Array.from(await layer.weight.value.data()));
  assertNormal(weights, 0, Math.sqrt(2 / 1000), "Linear default");
  assert.ok((await layer.bias.value.data()).every((v) => v === 0));
  const glorot = new Linear(1000, 200, { ...f64, weightInit: "glorot-uniform" });
  const limit = Math.sqrt(6 / 1200);
  const s = summarise(Float64Array.from(await glorot.weight.value.data()));
  assert.ok(s.min >= -limit && s.max < limit);
});

Deno.test("init: unknown names are rejected with a message listing the allowed names", () => {
  const message =
    /unknown initialisation "kaiming": choose one of zeros, constant, uniform, normal, glorot-uniform, glorot-normal, he-uniform, he-normal/;
  // deno-lint-ignore no-explicit-any
  const bad = "kaiming" as any;
  assert.throws(() => initValues(bad, 4, 2, 2, new Random(0)), message);
  assert.throws(() => new Linear(2, 2, { weightInit: bad }), message);
  assert.throws(() => new Linear(2, 2, { biasInit: bad }), message);
  assert.throws(() => mlp([2, 3, 1], { weightInit: bad }), message);
  assert.equal(initNames.length, 8);
});

Deno.test("init: same seed gives identical values, a different seed different ones", () => {
  for (const name of initNames) {
    if (name === "zeros" || name === "constant") continue;
    const a = initValues(name, 500, 20, 25, new Random(7));
    const b = initValues(name, 500, 20, 25, new Random(7));
    const c = initValues(name, 500, 20, 25, new Random(8));
    assert.deepEqual(a, b, name);
    assert.notDeepEqual(a, c, name);
  }
});

// Optimisers ---------------------------------------------------------------------

function parameter(values: number[], grad: number[] | null): Parameter {
  return {
    name: "p",
    value: tensor(values, [values.length], f64),
    grad: grad ? tensor(grad, [grad.length], f64) : null,
  };
}

async function valuesOf(p: Parameter): Promise<number[]> {
  return Array.from(await p.value.data());
}

Deno.test("SGD: w ← w − lr (g + λ w), by hand", async () => {
  const p = parameter([1, -2, 3], [0.5, 0.5, -1]);
  new SGD({ learningRate: 0.1 }).step([p]);
  assertArraysClose(await valuesOf(p), [0.95, -2.05, 3.1]);

  const decayed = parameter([1, -2, 3], [0.5, 0.5, -1]);
  new SGD({ learningRate: 0.1, weightDecay: 0.01 }).step([decayed]);
  // 1 − 0.1 (0.5 + 0.01), −2 − 0.1 (0.5 − 0.02), 3 − 0.1 (−1 + 0.03)
  assertArraysClose(await valuesOf(decayed), [0.949, -2.048, 3.097]);

  // A parameter without a gradient is left alone.
  const untouched = parameter([4, 5], null);
  new SGD({ learningRate: 0.1 }).step([untouched]);
  assert.deepEqual(await valuesOf(untouched), [4, 5]);
});

Deno.test("Momentum: v ← μ v + (g + λ w), w ← w − lr v, over two steps by hand", async () => {
  const p = parameter([1, -1], [0.2, -0.4]);
  const optimizer = new Momentum({ learningRate: 0.1, momentum: 0.9 });
  optimizer.step([p]); // v = g
  assertArraysClose(await valuesOf(p), [1 - 0.02, -1 + 0.04]);
  optimizer.step([p]); // v = 0.9 g + g = 1.9 g
  assertArraysClose(await valuesOf(p), [1 - 0.02 - 0.038, -1 + 0.04 + 0.076]);
  assert.equal(new Momentum({ learningRate: 0.1 }).momentum, 0.9, "default momentum");

  const decayed = parameter([2], [0.5]);
  const withDecay = new Momentum({ learningRate: 0.1, momentum: 0.5, weightDecay: 0.1 });
  withDecay.step([decayed]); // v = 0.5 + 0.2 = 0.7; w = 2 − 0.07 = 1.93
  assertArraysClose(await valuesOf(decayed), [1.93]);
  withDecay.step([decayed]); // v = 0.35 + 0.5 + 0.193 = 1.043; w = 1.93 − 0.1043
  assertArraysClose(await valuesOf(decayed), [1.93 - 0.1043]);
});

/** Adam on one scalar, written out. */
function adamByHand(w: number, grads: number[], lr: number, weightDecay = 0) {
  const beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  let m = 0, v = 0;
  grads.forEach((raw, index) => {
    const t = index + 1;
    const g = raw + weightDecay * w;
    m = beta1 * m + (1 - beta1) * g;
    v = beta2 * v + (1 - beta2) * g * g;
    const mHat = m / (1 - beta1 ** t), vHat = v / (1 - beta2 ** t);
    w -= lr * mHat / (Math.sqrt(vHat) + epsilon);
  });
  return w;
}

Deno.test("Adam: bias-corrected first step moves each weight by about lr; two steps by hand", async () => {
  const p = parameter([1, -1, 0.5], [0.3, -2, 1e-3]);
  const optimizer = new Adam({ learningRate: 0.01 });
  optimizer.step([p]);
  // m̂ = g and v̂ = g², so the step is lr · g / (|g| + ε): lr times the sign.
  const signStep = (g: number) => 0.01 * g / (Math.abs(g) + 1e-8);
  assertArraysClose(await valuesOf(p), [
    1 - signStep(0.3),
    -1 - signStep(-2),
    0.5 - signStep(1e-3),
  ]);
  assertArraysClose(await valuesOf(p), [0.99, -0.99, 0.49], 1e-6);
  assertArraysClose(await valuesOf(p), [
    adamByHand(1, [0.3], 0.01),
    adamByHand(-1, [-2], 0.01),
    adamByHand(0.5, [1e-3], 0.01),
  ]);

  // A second step with a new gradient.
  p.grad = tensor([-0.1, -1, 2e-3], [3], f64);
  optimizer.step([p]);
  assertArraysClose(await valuesOf(p), [
    adamByHand(1, [0.3, -0.1], 0.01),
    adamByHand(-1, [-2, -1], 0.01),
    adamByHand(0.5, [1e-3, 2e-3], 0.01),
  ], 1e-13);

  // With weight decay, λ w is added to the gradient first.
  const decayed = parameter([2, -3], [0.1, 0.1]);
  const withDecay = new Adam({ learningRate: 0.05, weightDecay: 0.5 });
  withDecay.step([decayed]);
  withDecay.step([decayed]);
  assertArraysClose(await valuesOf(decayed), [
    adamByHand(2, [0.1, 0.1], 0.05, 0.5),
    adamByHand(-3, [0.1, 0.1], 0.05, 0.5),
  ], 1e-13);
  // Here the decay dominates: −3 + 0.05 would be −2.95 without it; the gradient is 0.1 − 1.5 < 0.
  assert.ok((await valuesOf(decayed))[1] > -3 + 0.09);
});

Deno.test("optimisers keep their state per parameter", async () => {
  const a = parameter([1], [1]);
  const b = parameter([1], [1]);
  const optimizer = new Momentum({ learningRate: 0.1, momentum: 0.5 });
  optimizer.step([a]);
  optimizer.step([a, b]); // a's velocity is 1.5, b's is 1
  assertArraysClose(await valuesOf(a), [1 - 0.1 - 0.15]);
  assertArraysClose(await valuesOf(b), [1 - 0.1]);
});

Deno.test("invalid hyperparameters are rejected with messages that say what is allowed", () => {
  for (const learningRate of [0, -0.1, NaN, Infinity]) {
    assert.throws(
      () => new SGD({ learningRate }),
      new RegExp(`SGD: learningRate must be a finite number > 0, got ${learningRate}`),
    );
    assert.throws(
      () => new Momentum({ learningRate }),
      /Momentum: learningRate must be a finite number > 0/,
    );
    assert.throws(
      () => new Adam({ learningRate }),
      /Adam: learningRate must be a finite number > 0/,
    );
  }
  for (const momentum of [1, 1.5, -0.1, NaN]) {
    assert.throws(
      () => new Momentum({ learningRate: 0.1, momentum }),
      new RegExp(`Momentum: momentum must be in \\[0, 1\\), got ${momentum}`),
    );
  }
  assert.throws(
    () => new Adam({ learningRate: 0.1, beta1: 1 }),
    /Adam: beta1 must be in \[0, 1\), got 1/,
  );
  assert.throws(
    () => new Adam({ learningRate: 0.1, beta2: -0.5 }),
    /Adam: beta2 must be in \[0, 1\), got -0.5/,
  );
  assert.throws(
    () => new Adam({ learningRate: 0.1, epsilon: 0 }),
    /Adam: epsilon must be a finite number > 0, got 0/,
  );
  for (const Optimizer of [SGD, Momentum, Adam]) {
    assert.throws(
      () => new Optimizer({ learningRate: 0.1, weightDecay: -1 }),
      /weightDecay must be in \[0, Infinity\), got -1/,
    );
  }
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => optimizerByName("rmsprop" as any, { learningRate: 0.1 }),
    /unknown optimiser "rmsprop": choose one of sgd, momentum, adam/,
  );
});

Deno.test("optimizerByName builds each optimiser with its options", () => {
  const built = optimizerNames.map((name) =>
    optimizerByName(name, { learningRate: 0.02, momentum: 0.8 })
  );
  assert.deepEqual(built.map((o) => o.name), ["sgd", "momentum", "adam"]);
  assert.ok(built.every((o) => o.learningRate === 0.02));
  assert.equal((built[1] as Momentum).momentum, 0.8);
  assert.ok(built[0] instanceof SGD && built[1] instanceof Momentum && built[2] instanceof Adam);
});
