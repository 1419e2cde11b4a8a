/**
 * The wasm backend against the CPU reference: the backend-generic parity suite
 * (parity_cases.ts), on one thread and with the worker thread taking matmul
 * chunks, then what the suite does not reach: matmul at the MLP's
 * shapes and the cache-blocked large shape, both multiply-add variants,
 * float64 (run by the reference's loops on views of wasm memory), memory
 * reuse, and what the optimiser updates must match to the last bit.
 */
import assert from "node:assert/strict";
import { cpu, wasm } from "../lib/backend/mod.ts";
import { WasmBackend } from "../lib/backend/wasm/backend.ts";
import { relaxedSimdAvailable } from "../lib/backend/wasm/module.ts";
import type { Backend } from "../lib/backend/backend.ts";
import { defineParitySuite, randomValues } from "./parity_cases.ts";

defineParitySuite("wasm", () => Promise.resolve(wasm()));
// Threads forced on for every matmul, however small, so that the suite's odd shapes are split too.
defineParitySuite(
  "wasm, 2 threads",
  () => Promise.resolve(new WasmBackend({ threads: 2, threadMinimumWork: 0 })),
);

/**
 * Matmul within float32 rounding of a float64 product: the error is judged
 * against Σ|a||b| (the size the rounding scales with), not against the value,
 * which can be near 0 after cancellation.
 */
async function assertMatmulClose(
  tested: Backend,
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
): Promise<void> {
  const a = randomValues(m * k, m + 7 * k), b = randomValues(k * n, n + 3 * k);
  const aShape = transposeA ? [k, m] : [m, k], bShape = transposeB ? [n, k] : [k, n];
  const got = await tested.matmul(
    tested.fromValues(a, aShape, "float32"),
    tested.fromValues(b, bShape, "float32"),
    transposeA,
    transposeB,
  ).data();
  assert.equal(got.length, m * n);
  const at = (i: number, p: number) => transposeA ? a[p * m + i] : a[i * k + p];
  const bt = (p: number, j: number) => transposeB ? b[j * k + p] : b[p * n + j];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let exact = 0, magnitude = 0;
      for (let p = 0; p < k; p++) {
        exact += at(i, p) * bt(p, j);
        magnitude += Math.abs(at(i, p) * bt(p, j));
      }
      const error = Math.abs(got[i * n + j] - exact);
      if (!(error <= 1e-6 * magnitude + 1e-30)) {
        assert.fail(
          `matmul ${m}x${k}x${n} (transposeA ${transposeA}, transposeB ${transposeB}): C[${i}, ${j}] ` +
            `is ${got[i * n + j]}, exactly ${exact} (error ${error}, Σ|ab| ${magnitude})`,
        );
      }
    }
  }
}

const variants: [string, WasmBackend][] = [[
  "plain multiply and add",
  new WasmBackend({ relaxed: false }),
]];
if (relaxedSimdAvailable()) {
  variants.push(["relaxed fused multiply-add", new WasmBackend({ relaxed: true })]);
}

for (const [variant, backend] of variants) {
  Deno.test(`wasm matmul (${variant}): every transpose, whole tiles, depth blocks and ragged edges`, async () => {
    const shapes: [number, number, number][] = [
      [64, 200, 72], // whole tiles, the packing's fast paths
      [200, 64, 72],
      [20, 1100, 128], // packed B over half the L2 cache: two depth blocks, accumulated
      [130, 21, 9], // every edge: rows % 4, columns % 8, depth % 4 all non-zero
      [1, 3, 1],
    ];
    for (const [m, k, n] of shapes) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          await assertMatmulClose(backend, m, k, n, transposeA, transposeB);
        }
      }
    }
  });
}

Deno.test("wasm: float64 matmul (its own tile kernel) gives the reference's values to the bit, every transpose and ragged edge", async () => {
  const tested = wasm();
  const shapes = [[1, 1, 1], [5, 3, 4], [4, 4, 4], [7, 9, 6], [17, 33, 10], [32, 100, 13], [
    3,
    0,
    2,
  ]];
  let seed = 1;
  for (const [m, k, n] of shapes) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        // Times π: values that use all of float64's digits, not just float32's.
        const a = Array.from(randomValues(m * k, seed++), (v) => v * Math.PI);
        const b = Array.from(randomValues(k * n, seed++), (v) => v * Math.PI);
        const aShape = transposeA ? [k, m] : [m, k], bShape = transposeB ? [n, k] : [k, n];
        const product = tested.matmul(
          tested.fromValues(a, aShape, "float64"),
          tested.fromValues(b, bShape, "float64"),
          transposeA,
          transposeB,
        );
        const reference = cpu.matmul(
          cpu.fromValues(a, aShape, "float64"),
          cpu.fromValues(b, bShape, "float64"),
          transposeA,
          transposeB,
        );
        assert.equal(product.dtype, "float64");
        assert.deepEqual(
          await product.data(),
          await reference.data(),
          `${m}x${k}x${n}, transposes ${transposeA} ${transposeB}`,
        );
      }
    }
  }
});

Deno.test("wasm: the other float64 ops run the reference's loops on views, with the reference's values", async () => {
  const tested = wasm();
  const p = tested.fromValues([1, 2, 3], [3], "float64"),
    g = tested.fromValues([0.5, 0.5, 0.5], [3], "float64");
  tested.sgdUpdate(p, g, 0.1, 0);
  assert.deepEqual(Array.from(await p.data()), [1 - 0.05, 2 - 0.05, 3 - 0.05]);
});

Deno.test("wasm: optimiser updates match the reference to the last bit (f64 arithmetic, f32 storage)", async () => {
  const tested = wasm();
  const n = 1001;
  const start = randomValues(n, 40), grads = [randomValues(n, 41), randomValues(n, 42)];
  const on = (backend: Backend) => ({
    p: backend.fromValues(start, [n], "float32"),
    m: backend.zeros([n], "float32"),
    v: backend.zeros([n], "float32"),
  });
  const w = on(tested), c = on(cpu);
  for (const [step, g] of grads.entries()) {
    const gw = tested.fromValues(g, [n], "float32"), gc = cpu.fromValues(g, [n], "float32");
    tested.sgdUpdate(w.p, gw, 0.1, 1e-3);
    cpu.sgdUpdate(c.p, gc, 0.1, 1e-3);
    tested.momentumUpdate(w.p, w.m, gw, 0.05, 0.9, 1e-4);
    cpu.momentumUpdate(c.p, c.m, gc, 0.05, 0.9, 1e-4);
    const hyper = {
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: 0,
      step: step + 1,
    };
    tested.adamUpdate(w.p, w.m, w.v, gw, hyper);
    cpu.adamUpdate(c.p, c.m, c.v, gc, hyper);
  }
  assert.deepEqual(await w.p.data(), await c.p.data());
  assert.deepEqual(await w.m.data(), await c.m.data());
  assert.deepEqual(await w.v.data(), await c.v.data());
});

Deno.test("wasm: released blocks are reused for the same size, so a repeated step stops growing memory", () => {
  const tested = new WasmBackend();
  const x = tested.fromValues(randomValues(64 * 32, 5), [64, 32], "float32");
  const w = tested.fromValues(randomValues(32 * 16, 6), [32, 16], "float32");
  const step = () => {
    const y = tested.matmul(x, w, false, false);
    const z = tested.unary("relu", y, 0, 0);
    y.dispose();
    z.dispose();
  };
  step();
  const after = tested.stats();
  for (let i = 0; i < 50; i++) step();
  assert.deepEqual(tested.stats(), after);
});

Deno.test({
  name: "wasm linear: the bias epilogue gives add(matmul(x, w), b) bit for bit, threads or not",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const threaded = new WasmBackend({ threads: 2, threadMinimumWork: 0 });
    // Whole tiles, ragged edges, two depth blocks (k n large), and an empty depth.
    for (const [m, k, n] of [[64, 40, 32], [13, 9, 11], [20, 1100, 128], [3, 0, 5]]) {
      const x = randomValues(m * k, m), w = randomValues(k * n, n), b = randomValues(n, k + 1);
      for (const backend of [wasm(), threaded]) {
        const [xt, wt, bt] = [[x, [m, k]], [w, [k, n]], [b, [n]]].map(([values, shape]) =>
          backend.fromValues(values as Float32Array, shape as number[], "float32")
        );
        const fused = await backend.linear!(xt, wt, bt).data();
        const separate = await backend.binary("add", backend.matmul(xt, wt, false, false), bt)
          .data();
        assert.deepEqual(fused, separate, `linear ${m}x${k}x${n} on ${backend.description}`);
      }
    }
    threaded.stopThreads();
  },
});

Deno.test("wasm: a tensor dropped without dispose() gives its block back once collected", async () => {
  const tested = new WasmBackend();
  const before = tested.stats().bytesInUse;
  (() => {
    for (let i = 0; i < 20; i++) tested.zeros([1000], "float32"); // never disposed, never kept
  })();
  assert.equal(tested.stats().bytesInUse, before + 20 * 4000);
  // Collection and the finalizers run when V8 decides; give it a few chances.
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let attempt = 0; attempt < 200 && tested.stats().bytesInUse > before; attempt++) {
    gc?.();
    new Array(1e5).fill(0).map((x, i) => ({ x, i })); // garbage, to prompt a collection
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(tested.stats().bytesInUse, before);
});

Deno.test("wasm: sums and means down the columns are the reference's to the bit (f64 accumulation)", async () => {
  // Columns in fours and a ragged last few; values whose float32 sums would round differently.
  for (const [rows, cols] of [[128, 128], [37, 11], [1, 3], [5, 0]]) {
    const values = randomValues(rows * cols, rows + cols, 1000);
    for (const op of ["sum", "mean", "max"] as const) {
      const tested = wasm().reduceRows(op, wasm().fromValues(values, [rows, cols], "float32"));
      const reference = cpu.reduceRows(op, cpu.fromValues(values, [rows, cols], "float32"));
      assert.deepEqual(await tested.data(), await reference.data(), `${op} of [${rows}, ${cols}]`);
    }
  }
});

Deno.test("wasm: im2col, col2im and max pooling give the reference's values, padding on every side", async () => {
  const base = { batch: 2, height: 5, width: 4, channels: 3 };
  const geometries = [
    // Padding above only; a 3 x 2 kernel, stride 2 down and 1 across.
    {
      ...base,
      kernelHeight: 3,
      kernelWidth: 2,
      strideHeight: 2,
      strideWidth: 1,
      padTop: 1,
      padLeft: 0,
      outHeight: 3,
      outWidth: 3,
    },
    // "same" 3 x 3: windows cut by all four edges.
    {
      ...base,
      kernelHeight: 3,
      kernelWidth: 3,
      strideHeight: 1,
      strideWidth: 1,
      padTop: 1,
      padLeft: 1,
      outHeight: 5,
      outWidth: 4,
    },
    // Stride 2 both ways, the last windows past the right and bottom edges.
    {
      ...base,
      kernelHeight: 3,
      kernelWidth: 3,
      strideHeight: 2,
      strideWidth: 2,
      padTop: 1,
      padLeft: 1,
      outHeight: 3,
      outWidth: 3,
    },
  ];
  for (const g of geometries) {
    const values = randomValues(2 * 5 * 4 * 3, 90);
    const [x, xc] = [wasm(), cpu].map((b) => b.fromValues(values, [2, 5, 4, 3], "float32"));
    const cols = wasm().im2col!(x, g), colsReference = cpu.im2col!(xc, g);
    assert.deepEqual(cols.shape, colsReference.shape);
    assert.deepEqual(await cols.data(), await colsReference.data());
    assert.deepEqual(
      await wasm().col2im!(cols, g).data(),
      await cpu.col2im!(colsReference, g).data(),
    );
    const pooled = wasm().maxPool!(x, g), pooledReference = cpu.maxPool!(xc, g);
    assert.deepEqual(await pooled.output.data(), await pooledReference.output.data());
    assert.deepEqual(await pooled.argmax.data(), await pooledReference.argmax.data());
    // A NaN wins its window on both (the pool does not hide it).
    const withNaN = values.map((v, i) => (i === 7 ? NaN : v));
    const [xn, xnc] = [wasm(), cpu].map((b) => b.fromValues(withNaN, [2, 5, 4, 3], "float32"));
    const pooledNaN = wasm().maxPool!(xn, g), pooledNaNReference = cpu.maxPool!(xnc, g);
    assert.deepEqual(await pooledNaN.output.data(), await pooledNaNReference.output.data());
    assert.deepEqual(await pooledNaN.argmax.data(), await pooledNaNReference.argmax.data());
    assert.ok(Array.from(await pooledNaN.output.data()).some(Number.isNaN));
    const back = wasm().maxPoolBackward!(pooled.output, pooled.argmax, g);
    const backReference = cpu.maxPoolBackward!(pooledReference.output, pooledReference.argmax, g);
    assert.deepEqual(await back.data(), await backReference.data());
  }
});
