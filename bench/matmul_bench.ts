/**
 * `deno bench bench/matmul_bench.ts`: the matmul of both CPU backends (cpu, the
 * readable reference, and wasm) at the MLP's shapes, with the naive triple loop
 * as the baseline of the first group. Deno reports time
 * per call; GFLOP/s = 2 m k n / time (bench/cpu_bench.ts prints them, beside NumPy).
 */
import { cpu, wasm } from "../lib/backend/mod.ts";
import { matmul } from "../lib/ops.ts";

function uniform(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed;
  for (let i = 0; i < size; i++) {
    s ^= s << 13, s ^= s >>> 17, s ^= s << 5;
    out[i] = (s >>> 0) / 4294967296;
  }
  return out;
}

// [name, m, k, n, transposeA, transposeB]: op(A) is m x k, op(B) is k x n.
const shapes: [string, number, number, number, boolean, boolean][] = [
  ["x W1: 128x784 @ 784x128", 128, 784, 128, false, false],
  ["dW1 = xᵀ dy: (128x784)ᵀ @ 128x128", 784, 128, 128, true, false],
  ["dx = dy W1ᵀ: 128x128 @ (784x128)ᵀ", 128, 128, 784, false, true],
  ["512x784 @ 784x256", 512, 784, 256, false, false],
  ["h W2: 128x128 @ 128x10", 128, 128, 10, false, false],
];

for (const backend of [cpu, wasm()]) {
  for (const [name, m, k, n, transposeA, transposeB] of shapes) {
    const a = backend.fromValues(uniform(m * k, 1), transposeA ? [k, m] : [m, k], "float32");
    const b = backend.fromValues(uniform(k * n, 2), transposeB ? [n, k] : [k, n], "float32");
    Deno.bench({
      name: `${backend.name}: ${name}`,
      group: name === shapes[0][0] ? "x W1" : undefined,
      fn: () => {
        // Released at once, as a training step's scope does: wasm memory is not garbage-collected.
        matmul(a, b, { transposeA, transposeB }).dispose();
      },
    });
  }
}

const [m, k, n] = [128, 784, 128];
const a = uniform(m * k, 1), b = uniform(k * n, 2);
Deno.bench({
  name: "naive triple loop: 128x784 @ 784x128",
  group: "x W1",
  baseline: true,
  fn: () => {
    const c = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += a[i * k + p] * b[p * n + j];
        c[i * n + j] = sum;
      }
    }
  },
});
