/**
 * Ops and tensors on the CPU backend, against values computed by hand or by a
 * plain triple loop; scopes (tidy, keep, openScope) and disposed tensors.
 */
import assert from "node:assert/strict";
import {
  closeScope,
  cpu,
  keep,
  openScope,
  ops,
  Random,
  ShapeError,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../lib/mod.ts";

const f64 = { dtype: "float64" as const };

async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-12) {
  assert.equal(actual.length, expected.length, "lengths differ");
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Object.is(a, e)) continue;
    const scale = Math.max(1, Math.abs(e));
    assert.ok(
      Math.abs(a - e) <= tolerance * scale,
      `element ${i}: got ${a}, expected ${e} (tolerance ${tolerance})`,
    );
  }
}

/** The reference product: C[i][j] = Σ_p A[i][p] B[p][j], with A and B row-major. */
function naiveMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
  return c;
}

function transpose(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}

function randomValues(n: number, seed: number, integers = false): number[] {
  const random = new Random(seed);
  return Array.from(
    { length: n },
    () => (integers ? random.integer(11) - 5 : random.uniformIn(-1, 1)),
  );
}

// Tensors ----------------------------------------------------------------------

Deno.test("tensor: shape, size, dtype and values round-trip; float32 rounds", async () => {
  const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.size, 6);
  assert.equal(t.rank, 2);
  assert.equal(t.dtype, "float32");
  assert.ok((await t.data()) instanceof Float32Array);
  assert.deepEqual(await t.array(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(t.toString(), "Tensor(float32, [2,3], cpu)");
  assert.deepEqual(await values(tensor([0.1], [1])), [Math.fround(0.1)]);
  assert.deepEqual(await values(tensor([0.1], [1], f64)), [0.1]);
  assert.deepEqual(await values(zeros([2, 2])), [0, 0, 0, 0]);
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 values cannot fill shape \[2, 2\]/);
});

Deno.test("tensor: data() returns a copy", async () => {
  const t = tensor([1, 2], [2]);
  const copy = await t.data();
  copy[0] = 99;
  assert.deepEqual(await values(t), [1, 2]);
});

// Matmul -------------------------------------------------------------------------

Deno.test("matmul: 1x1 and a hand-computed 2x3 @ 3x2", async () => {
  assert.deepEqual(await values(ops.matmul(tensor([3], [1, 1]), tensor([4], [1, 1]))), [12]);
  const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = tensor([7, 8, 9, 10, 11, 12], [3, 2]);
  // [1 2 3; 4 5 6] @ [7 8; 9 10; 11 12] = [58 64; 139 154]
  const c = ops.matmul(a, b);
  assert.deepEqual(c.shape, [2, 2]);
  assert.deepEqual(await values(c), [58, 64, 139, 154]);
});

Deno.test("matmul: all four transpose combinations, odd shapes, against a triple loop", async () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 2],
    [1, 7, 1],
    [5, 1, 6],
    [4, 4, 4],
    [6, 9, 7],
    [8, 3, 12],
    [37, 53, 29],
  ];
  for (const [m, k, n] of shapes) {
    const seed = m * 10000 + k * 100 + n;
    for (const dtype of ["float32", "float64"] as const) {
      // Small integers make float32 products exact; float64 takes arbitrary values.
      const integers = dtype === "float32";
      const a = randomValues(m * k, seed, integers); // A is m x k
      const b = randomValues(k * n, seed + 1, integers); // B is k x n
      const expected = naiveMatmul(a, b, m, k, n);
      const aT = transpose(a, m, k), bT = transpose(b, k, n); // stored as k x m and n x k
      const cases = [
        { left: tensor(a, [m, k], { dtype }), right: tensor(b, [k, n], { dtype }), options: {} },
        {
          left: tensor(aT, [k, m], { dtype }),
          right: tensor(b, [k, n], { dtype }),
          options: { transposeA: true },
        },
        {
          left: tensor(a, [m, k], { dtype }),
          right: tensor(bT, [n, k], { dtype }),
          options: { transposeB: true },
        },
        {
          left: tensor(aT, [k, m], { dtype }),
          right: tensor(bT, [n, k], { dtype }),
          options: { transposeA: true, transposeB: true },
        },
      ];
      for (const { left, right, options } of cases) {
        const c = ops.matmul(left, right, options);
        assert.deepEqual(c.shape, [m, n], `${m}x${k}x${n} ${JSON.stringify(options)}`);
        assert.equal(c.dtype, dtype);
        const got = await c.data();
        if (integers) assert.deepEqual(Array.from(got), Array.from(expected));
        else assertClose(got, expected, 1e-13);
      }
    }
  }
});

Deno.test("matmul: mismatched inner sizes and non-2-D inputs are ShapeErrors naming the shapes", () => {
  const a = tensor(new Array(6).fill(1), [2, 3]);
  const b = tensor(new Array(8).fill(1), [4, 2]);
  assert.throws(() => ops.matmul(a, b), (e: Error) => {
    assert.ok(e instanceof ShapeError);
    assert.match(e.message, /a \[2, 3\] and b \[4, 2\]/);
    return true;
  });
  assert.throws(
    () =>
      ops.matmul(a, tensor(new Array(8).fill(1), [2, 4]), { transposeA: true, transposeB: true }),
    /aᵀ bᵀ needs matching inner sizes/,
  );
  assert.throws(() => ops.matmul(tensor([1, 2], [2]), a), /a must be 2-D/);
  assert.throws(
    () => ops.matmul(a, tensor(new Array(6).fill(1), [3, 2], f64)),
    /dtypes differ \(float32 and float64\)/,
  );
});

// Element-wise -----------------------------------------------------------------

Deno.test("unary ops match their definitions, in float64", async () => {
  const xs = [-3, -1.5, -0.25, 0, 0.5, 2, 7];
  const x = tensor(xs, [xs.length], f64);
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const cases: [string, Tensor, (v: number) => number][] = [
    ["neg", ops.neg(x), (v) => -v],
    ["exp", ops.exp(x), Math.exp],
    ["square", ops.square(x), (v) => v * v],
    ["abs", ops.abs(x), Math.abs],
    ["scale", ops.scale(x, -2.5), (v) => -2.5 * v],
    ["addScalar", ops.addScalar(x, 4), (v) => v + 4],
    ["clip", ops.clip(x, -1, 1), (v) => Math.min(1, Math.max(-1, v))],
    ["relu", ops.relu(x), (v) => (v > 0 ? v : 0)],
    ["leakyRelu", ops.leakyRelu(x, 0.1), (v) => (v > 0 ? v : 0.1 * v)],
    ["sigmoid", ops.sigmoid(x), sigmoid],
    ["tanh", ops.tanh(x), Math.tanh],
    ["step", ops.step(x), (v) => (v > 0 ? 1 : 0)],
    ["leakyStep", ops.leakyStep(x, 0.1), (v) => (v > 0 ? 1 : 0.1)],
  ];
  for (const [name, t, f] of cases) {
    assert.deepEqual(t.shape, [xs.length], name);
    const got = await t.data();
    for (let i = 0; i < xs.length; i++) {
      assertClose([got[i]], [f(xs[i])], 1e-15);
    }
  }
  const positive = tensor([0.25, 1, 4, 9], [4], f64);
  assert.deepEqual(await values(ops.sqrt(positive)), [0.5, 1, 2, 3]);
  assertClose(await ops.log(positive).data(), [Math.log(0.25), 0, Math.log(4), Math.log(9)]);
  // The derivatives are 0 at the kink itself, by convention.
  assert.deepEqual(await values(ops.step(tensor([0], [1]))), [0]);
  assert.deepEqual(await values(ops.leakyStep(tensor([0], [1], f64), 0.1)), [0.1]);
});

Deno.test("unary ops: edge values (log 0, sqrt of negatives, huge sigmoid inputs, non-finite flags)", async () => {
  const logs = await values(ops.log(tensor([0, -1], [2])));
  assert.equal(logs[0], -Infinity);
  assert.ok(Number.isNaN(logs[1]));
  assert.ok(Number.isNaN((await values(ops.sqrt(tensor([-4], [1]))))[0]));
  // Sigmoid never computes exp of a large positive number: no NaN at ±1000.
  assert.deepEqual(await values(ops.sigmoid(tensor([-1000, 1000, 0], [3]))), [0, 1, 0.5]);
  assert.deepEqual(
    await values(ops.isNonFinite(tensor([1, NaN, Infinity, -Infinity, 0, -3e38], [6]))),
    [0, 1, 1, 1, 0, 0],
  );
  // Float32 overflow: exp(89) is beyond 3.4e38.
  assert.equal((await values(ops.exp(tensor([89], [1]))))[0], Infinity);
  assert.ok(Number.isFinite((await values(ops.exp(tensor([89], [1], f64))))[0]));
});

Deno.test("binary ops with each broadcast form: same shape, row [cols], column [rows, 1], scalar [1]", async () => {
  const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], f64);
  const same = tensor([6, 5, 4, 3, 2, 1], [2, 3], f64);
  const row = tensor([10, 20, 30], [3], f64);
  const column = tensor([100, 200], [2, 1], f64);
  const scalar = tensor([2], [1], f64);
  const cases: [string, Tensor, number[]][] = [
    ["add same", ops.add(a, same), [7, 7, 7, 7, 7, 7]],
    ["sub same", ops.sub(a, same), [-5, -3, -1, 1, 3, 5]],
    ["mul same", ops.mul(a, same), [6, 10, 12, 12, 10, 6]],
    ["div same", ops.div(a, same), [1 / 6, 2 / 5, 3 / 4, 4 / 3, 5 / 2, 6]],
    ["add row", ops.add(a, row), [11, 22, 33, 14, 25, 36]],
    ["sub row", ops.sub(a, row), [-9, -18, -27, -6, -15, -24]],
    ["mul row", ops.mul(a, row), [10, 40, 90, 40, 100, 180]],
    ["div row", ops.div(a, row), [0.1, 0.1, 0.1, 0.4, 0.25, 0.2]],
    ["add column", ops.add(a, column), [101, 102, 103, 204, 205, 206]],
    ["sub column", ops.sub(a, column), [-99, -98, -97, -196, -195, -194]],
    ["mul column", ops.mul(a, column), [100, 200, 300, 800, 1000, 1200]],
    ["div column", ops.div(a, column), [0.01, 0.02, 0.03, 0.02, 0.025, 0.03]],
    ["add scalar", ops.add(a, scalar), [3, 4, 5, 6, 7, 8]],
    ["sub scalar", ops.sub(a, scalar), [-1, 0, 1, 2, 3, 4]],
    ["mul scalar", ops.mul(a, scalar), [2, 4, 6, 8, 10, 12]],
    ["div scalar", ops.div(a, scalar), [0.5, 1, 1.5, 2, 2.5, 3]],
    ["equal same", ops.equal(a, tensor([1, 0, 3, 0, 5, 0], [2, 3], f64)), [1, 0, 1, 0, 1, 0]],
    ["equal scalar", ops.equal(a, scalar), [0, 1, 0, 0, 0, 0]],
    ["greater row", ops.greater(a, tensor([0, 2, 4], [3], f64)), [1, 0, 0, 1, 1, 1]],
    ["greater column", ops.greater(a, tensor([2, 5], [2, 1], f64)), [0, 0, 1, 0, 0, 1]],
    ["maximum scalar", ops.maximum(a, tensor([3.5], [1], f64)), [3.5, 3.5, 3.5, 4, 5, 6]],
    ["maximum column", ops.maximum(a, tensor([2, 5], [2, 1], f64)), [2, 2, 3, 5, 5, 6]],
  ];
  for (const [name, t, expected] of cases) {
    assert.deepEqual(t.shape, [2, 3], name);
    assertClose(await t.data(), expected, 1e-15);
  }
  // 1-D with 1-D and a square matrix with a column: the column is not mistaken for a row.
  assert.deepEqual(
    await values(ops.sub(tensor([5, 6], [2]), tensor([1, 2], [2]))),
    [4, 4],
  );
  const square = tensor([1, 2, 3, 4], [2, 2]);
  assert.deepEqual(await values(ops.add(square, tensor([10, 20], [2, 1]))), [11, 12, 23, 24]);
  assert.deepEqual(await values(ops.add(square, tensor([10, 20], [2]))), [11, 22, 13, 24]);
});

Deno.test("binary ops: shapes that do not broadcast are ShapeErrors listing the allowed forms", () => {
  const a = tensor(new Array(6).fill(0), [2, 3]);
  for (
    const b of [
      tensor([1, 2], [2]),
      tensor([1, 2, 3], [3, 1]),
      tensor(new Array(6).fill(0), [3, 2]),
    ]
  ) {
    assert.throws(() => ops.add(a, b), (e: Error) => {
      assert.ok(e instanceof ShapeError);
      assert.match(e.message, /^add: cannot combine \[2, 3\] with/);
      assert.match(e.message, /same shape, be a row \[3\], a column \[2, 1\] or a scalar \[1\]/);
      return true;
    });
  }
  // Broadcasting applies to the second operand only.
  assert.throws(() => ops.mul(tensor([1], [1]), a), ShapeError);
  assert.throws(() => ops.add(a, tensor(new Array(6).fill(0), [2, 3], f64)), /dtypes differ/);
});

// Reductions -------------------------------------------------------------------

Deno.test("reductions: sum, mean and max over everything, axis 0 and axis 1", async () => {
  const x = tensor([1, -2, 3, 4, 5, -6], [2, 3], f64);
  assert.deepEqual(await values(ops.sum(x)), [5]);
  assertClose(await ops.mean(x).data(), [5 / 6]);
  assert.deepEqual(await values(ops.max(x)), [5]);
  assert.deepEqual(ops.sum(x).shape, [1]);

  assert.deepEqual(await values(ops.sum(x, 0)), [5, 3, -3]);
  assert.deepEqual(await values(ops.mean(x, 0)), [2.5, 1.5, -1.5]);
  assert.deepEqual(await values(ops.max(x, 0)), [4, 5, 3]);
  assert.deepEqual(ops.sum(x, 0).shape, [3]);

  assert.deepEqual(await values(ops.sum(x, 1)), [2, 3]);
  assertClose(await ops.mean(x, 1).data(), [2 / 3, 1]);
  assert.deepEqual(await values(ops.max(x, 1)), [3, 5]);
  assert.deepEqual(ops.sum(x, 1).shape, [2]);

  // All-negative rows: max starts at -Infinity, not 0.
  assert.deepEqual(await values(ops.max(tensor([-3, -1, -2, -5], [2, 2]), 1)), [-1, -2]);
  assert.deepEqual(await values(ops.max(tensor([-3, -1, -2, -5], [2, 2]), 0)), [-2, -1]);
  assert.equal(await ops.scalar(ops.max(tensor([-7, -9], [2]))), -7);

  assert.throws(() => ops.sum(tensor([1, 2], [2]), 0), /sum\(axis 0\): input must be 2-D/);
  assert.equal(await ops.scalar(ops.sum(x)), 5);
  await assert.rejects(() => ops.scalar(x), /scalar: expected one value, got \[2, 3\]/);
});

Deno.test("argmax: first index wins ties; a row of zeros predicts 0", async () => {
  const x = tensor(
    [
      [1, 3, 3],
      [0, 0, 0],
      [5, 1, 5],
      [-1, -2, -3],
      [-3, -2, -1],
      [2, 7, 1],
    ].flat(),
    [6, 3],
  );
  const result = ops.argmax(x);
  assert.deepEqual(result.shape, [6]);
  assert.deepEqual(await values(result), [1, 0, 0, 0, 2, 1]);
  assert.throws(() => ops.argmax(tensor([1, 2], [2])), /argmax: input must be 2-D/);
});

// Softmax family ---------------------------------------------------------------

Deno.test("softmax and logSoftmax: hand values, rows sum to 1", async () => {
  const x = tensor([0, Math.log(3), 1, 1], [2, 2], f64);
  assertClose(await ops.softmax(x).data(), [0.25, 0.75, 0.5, 0.5]);
  assertClose(await ops.logSoftmax(x).data(), [
    Math.log(0.25),
    Math.log(0.75),
    Math.log(0.5),
    Math.log(0.5),
  ]);
  const random = tensor(randomValues(4 * 7, 3), [4, 7], f64);
  assertClose(await ops.sum(ops.softmax(random), 1).data(), [1, 1, 1, 1], 1e-15);
  // Adding a constant to a row changes nothing.
  assertClose(
    await ops.softmax(ops.addScalar(random, 50)).data(),
    await ops.softmax(random).data(),
    1e-14,
  );
});

Deno.test("softmax and logSoftmax are stable for logits of 1000 in float32", async () => {
  const x = tensor([1000, 1000, 0, -1000, 1000, 999], [2, 3]);
  const p = await values(ops.softmax(x));
  assert.ok(p.every(Number.isFinite), `softmax gave ${p}`);
  assertClose(p, [0.5, 0.5, 0, 0, 1 / (1 + Math.exp(-1)), Math.exp(-1) / (1 + Math.exp(-1))], 1e-6);
  const logP = await values(ops.logSoftmax(x));
  assert.ok(logP.every(Number.isFinite), `logSoftmax gave ${logP}`);
  assertClose(logP, [
    -Math.LN2,
    -Math.LN2,
    -1000 - Math.LN2,
    -2000 - Math.log1p(Math.exp(-1)),
    -Math.log1p(Math.exp(-1)),
    -1 - Math.log1p(Math.exp(-1)),
  ], 1e-6);
  // The naive formula overflows: exp(1000) is Infinity and Infinity / Infinity is NaN.
  const exps = ops.exp(x);
  const naive = await values(ops.div(exps, ops.reshape(ops.sum(exps, 1), [2, 1])));
  assert.ok(Number.isNaN(naive[0]));
});

Deno.test("pickColumns, oneHot, gatherRows, sliceColumns, reshape", async () => {
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3]);
  assert.deepEqual(await values(ops.pickColumns(x, tensor([2, 0, 1], [3]))), [3, 4, 8]);
  assert.throws(
    () => ops.pickColumns(x, tensor([2, 0, 1], [3, 1])),
    /pickColumns: expected one class index per row, labels of shape \[3\], got \[3, 1\]/,
  );
  assert.throws(() => ops.pickColumns(x, tensor([0, 1], [2])), ShapeError);

  const hot = ops.oneHot(tensor([2, 0, 1, 2], [4]), 3);
  assert.deepEqual(hot.shape, [4, 3]);
  assert.deepEqual(await values(hot), [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.throws(() => ops.oneHot(tensor([0, 1], [2, 1]), 2), /oneHot: labels must be 1-D/);

  const rows = ops.gatherRows(x, tensor([2, 0, 2], [3]));
  assert.deepEqual(rows.shape, [3, 3]);
  assert.deepEqual(await values(rows), [7, 8, 9, 1, 2, 3, 7, 8, 9]);
  const picked = ops.gatherRows(tensor([10, 11, 12], [3]), tensor([1, 1, 0], [3]));
  assert.deepEqual(picked.shape, [3]);
  assert.deepEqual(await values(picked), [11, 11, 10]);
  assert.throws(() => ops.gatherRows(x, tensor([0, 1], [1, 2])), /indices must be 1-D/);

  const middle = ops.sliceColumns(x, 1, 2);
  assert.deepEqual(middle.shape, [3, 2]);
  assert.deepEqual(await values(middle), [2, 3, 5, 6, 8, 9]);
  assert.deepEqual(ops.sliceColumns(x, 3, 0).shape, [3, 0]);
  assert.throws(() => ops.sliceColumns(x, 2, 2), /columns \[2, 4\) out of range for \[3, 3\]/);
  assert.throws(() => ops.sliceColumns(x, -1, 1), ShapeError);

  const flat = ops.reshape(x, [9]);
  assert.deepEqual(flat.shape, [9]);
  assert.deepEqual(await values(flat), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(await ops.reshape(x, [1, 9]).array(), [[1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  assert.throws(() => ops.reshape(x, [2, 4]), /reshape: cannot view \[3, 3\] as \[2, 4\]/);
});

// Scopes -----------------------------------------------------------------------

Deno.test("tidy disposes what it made, except what it returns and what was kept", async () => {
  const outside = tensor([1, 2], [2]);
  let temporary!: Tensor, kept!: Tensor;
  const result = tidy(() => {
    temporary = ops.scale(outside, 2);
    kept = keep(ops.scale(outside, 3));
    return ops.add(temporary, kept);
  });
  assert.equal(temporary.disposed, true);
  assert.equal(kept.disposed, false);
  assert.equal(result.disposed, false);
  assert.equal(outside.disposed, false);
  assert.deepEqual(await values(result), [5, 10]);
  assert.deepEqual(await values(kept), [3, 6]);

  // Tensors inside returned arrays and objects survive too; numbers pass through.
  const both = tidy(() => ({ a: ops.neg(outside), list: [ops.abs(outside)], n: 3 }));
  assert.equal(both.a.disposed, false);
  assert.equal(both.list[0].disposed, false);
  assert.equal(tidy(() => 42), 42);
});

Deno.test("tidy: a tensor returned from an inner tidy belongs to the outer one", () => {
  let inner!: Tensor, survivor!: Tensor;
  const outer = tidy(() => {
    inner = tidy(() => ops.neg(tensor([1], [1])));
    assert.equal(inner.disposed, false);
    survivor = tidy(() => ops.neg(tensor([2], [1])));
    return survivor;
  });
  assert.equal(inner.disposed, true, "the outer scope should dispose what the inner returned");
  assert.equal(outer, survivor);
  assert.equal(outer.disposed, false);
});

Deno.test("tidy rethrows when fn throws and leaves the scope stack intact", () => {
  assert.throws(() =>
    tidy(() => {
      tensor([1], [1]);
      throw new Error("boom");
    }), /boom/);
  // The scope stack is intact afterwards: a new tidy works normally.
  let t!: Tensor;
  tidy(() => {
    t = tensor([1], [1]);
  });
  assert.equal(t.disposed, true);
});

Deno.test("openScope/closeScope dispose everything made in between, in order", () => {
  const before = tensor([1], [1]);
  const outer = openScope();
  const a = tensor([1], [1]);
  const inner = openScope();
  const b = tensor([2], [1]);
  const c = keep(tensor([3], [1]));
  assert.throws(() => closeScope(outer), /scopes closed out of order/);
  closeScope(inner);
  assert.equal(b.disposed, true);
  assert.equal(c.disposed, false);
  assert.equal(a.disposed, false);
  closeScope(outer);
  assert.equal(a.disposed, true);
  assert.equal(before.disposed, false);
  c.dispose();
  c.dispose(); // disposing twice is harmless
  assert.equal(c.disposed, true);
});

Deno.test("a disposed tensor errors with a message that says what happened and what to do", async () => {
  let t!: Tensor;
  tidy(() => {
    t = tensor([1, 2, 3, 4], [2, 2]);
    t.label = "linear1 output";
  });
  assert.equal(t.disposed, true);
  const check = (e: Error) => {
    assert.match(e.message, /on a disposed tensor \(linear1 output\) of shape \[2,2\]/);
    assert.match(e.message, /released when the step ends/);
    assert.match(e.message, /keep\(\)/);
    return true;
  };
  await assert.rejects(async () => await t.data(), check);
  assert.throws(() => ops.add(t, t), /add on a disposed tensor/);
  assert.throws(() => ops.relu(t), /relu on a disposed tensor/);
  assert.throws(() => ops.sum(t), /sum on a disposed tensor/);
  assert.throws(() => ops.matmul(t, t), /matmul on a disposed tensor/);
  assert.throws(() => ops.softmax(t), /softmax on a disposed tensor/);
  assert.throws(() => ops.reshape(t, [4]), /reshape on a disposed tensor/);
  assert.throws(() => ops.sliceColumns(t, 0, 1), /sliceColumns on a disposed tensor/);
  let labels!: Tensor;
  tidy(() => {
    labels = tensor([0, 1], [2]);
  });
  assert.throws(() => ops.oneHot(labels, 2), /oneHot on a disposed tensor/);
  assert.throws(() => ops.gatherRows(labels, labels), /gatherRows on a disposed tensor/);
});

Deno.test("backends: the CPU is the default; unknown choices are rejected with the list", async () => {
  const { selectBackend } = await import("../lib/mod.ts");
  assert.equal(await selectBackend("cpu"), cpu);
  assert.equal(tensor([1], [1]).backend, cpu);
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => selectBackend("tpu" as any),
    /unknown backend "tpu": choose one of cpu, webgpu, auto/,
  );
});

// Random -----------------------------------------------------------------------

Deno.test("Random: same seed, same stream; different seeds differ; ranges hold", () => {
  const a = new Random(42), b = new Random(42), c = new Random(43);
  const streamA = Array.from({ length: 20 }, () => a.nextUint32());
  const streamB = Array.from({ length: 20 }, () => b.nextUint32());
  const streamC = Array.from({ length: 20 }, () => c.nextUint32());
  assert.deepEqual(streamA, streamB);
  assert.notDeepEqual(streamA, streamC);
  const r = new Random(7);
  for (let i = 0; i < 2000; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    const k = r.integer(5);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 5);
    const v = r.uniformIn(-2, 3);
    assert.ok(v >= -2 && v < 3);
  }
  const p = Array.from(new Random(1).permutation(50));
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(p, Array.from({ length: 50 }, (_, i) => i));
  assert.throws(() => new Random(1.5), /seed must be an integer, got 1.5/);
  // fork() is deterministic too.
  assert.equal(new Random(9).fork().nextUint32(), new Random(9).fork().nextUint32());
});

Deno.test("Random: normal() has mean 0 and standard deviation 1", () => {
  const r = new Random(123);
  const n = 40000;
  let sum = 0, sumSquares = 0;
  for (let i = 0; i < n; i++) {
    const v = r.normal();
    sum += v;
    sumSquares += v * v;
  }
  const mean = sum / n, std = Math.sqrt(sumSquares / n - mean * mean);
  // Standard errors: 1/√n for the mean, about 1/√(2n) for the std; allow 5 of them.
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 5 / Math.sqrt(2 * n), `std ${std}`);
});
