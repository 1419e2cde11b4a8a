/**
 * The convolution and pooling kernels on WebGPU against the CPU reference, on small odd
 * shapes (llvmpipe runs about 0.2 GFLOP/s): im2col, col2im, max pooling and its backward, and
 * a Conv2d → ReLU → MaxPool2d → Flatten → Linear network's forward and backward.
 * Skipped, with the reason, where there is no WebGPU adapter.
 */
import assert from "node:assert/strict";
import { cpu } from "../lib/backend/mod.ts";
import { type WebGpuBackend, webGpuBackendIfAvailable } from "../lib/backend/webgpu.ts";
import type { Backend, WindowGeometry } from "../lib/backend/backend.ts";
import {
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  Random,
  ReLU,
  Sequential,
  type Tensor,
} from "../lib/mod.ts";
import { windowGeometry } from "../lib/layers/conv.ts";

let gpu: WebGpuBackend | null = null;
let whyNot = "";
try {
  gpu = await webGpuBackendIfAvailable();
  if (!gpu) whyNot = "no WebGPU adapter";
} catch (error) {
  whyNot = `the WebGPU device could not be created: ${(error as Error).message}`;
}
if (!gpu) console.warn(`webgpu conv tests SKIPPED: ${whyNot}`);

function gpuTest(name: string, fn: (gpu: WebGpuBackend) => Promise<void>): void {
  Deno.test({ name: `webgpu: ${name}`, ignore: gpu === null, fn: () => fn(gpu!) });
}

function values(shape: number[], seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.normal());
}

async function close(a: Tensor, b: Tensor, what: string, tolerance = 1e-5): Promise<void> {
  assert.deepEqual(a.shape, b.shape, `${what}: shapes`);
  const x = await a.data(), y = await b.data();
  for (let i = 0; i < x.length; i++) {
    assert.ok(
      Math.abs(x[i] - y[i]) <= tolerance * (1 + Math.abs(y[i])),
      `${what}[${i}]: webgpu ${x[i]}, cpu ${y[i]}`,
    );
  }
}

const geometries: [
  string,
  number[],
  [number, number],
  [number, number],
  "valid" | "same" | number,
][] = [
  ["3x3 same stride 1", [2, 5, 7, 3], [3, 3], [1, 1], "same"],
  ["3x3 same stride 2", [1, 6, 5, 2], [3, 3], [2, 2], "same"],
  ["2x3 pad 1 stride 2x1", [2, 4, 5, 2], [2, 3], [2, 1], 1],
  ["2x2 valid stride 2", [2, 5, 7, 3], [2, 2], [2, 2], "valid"],
];

for (const [name, shape, kernel, stride, padding] of geometries) {
  gpuTest(
    `im2col, col2im, maxPool and its backward match cpu (${name}, [${shape}])`,
    async (gpu) => {
      const g: WindowGeometry = windowGeometry("test", shape, kernel, stride, padding);
      const x = values(shape, 1);
      const run = (backend: Backend) => {
        const input = backend.fromValues(x, shape, "float32");
        const cols = backend.im2col!(input, g);
        const back = backend.col2im!(cols, g);
        const { output, argmax } = backend.maxPool!(input, g);
        const dy = backend.fromValues(values([...output.shape], 2), output.shape, "float32");
        return { cols, back, output, argmax, dx: backend.maxPoolBackward!(dy, argmax, g) };
      };
      const [a, b] = [run(gpu), run(cpu)];
      for (const key of ["cols", "back", "output", "argmax", "dx"] as const) {
        await close(a[key], b[key], key);
      }
    },
  );
}

gpuTest("a small CNN's forward and backward match cpu", async (gpu) => {
  const make = (backend: Backend) => {
    const random = new Random(3);
    return new Sequential([
      new Conv2d(1, 4, 3, { padding: "same", imageSize: [7, 7], random, backend }),
      new ReLU(),
      new MaxPool2d(2, { padding: "same" }),
      new Conv2d(4, 3, 3, { stride: 2, random, backend }),
      new Flatten(),
      new Linear(3, 2, { random, backend }),
    ]);
  };
  const x = values([3, 49], 5), dy = values([3, 2], 6);
  const results = [];
  for (const backend of [gpu, cpu]) {
    const model = make(backend);
    const out = model.forward(backend.fromValues(x, [3, 49], "float32"));
    model.backward(backend.fromValues(dy, [3, 2], "float32"));
    results.push({ out, grads: model.parameters().map((p) => p.grad!) });
  }
  await close(results[0].out, results[1].out, "output", 1e-4);
  for (let i = 0; i < results[0].grads.length; i++) {
    await close(results[0].grads[i], results[1].grads[i], `gradient ${i}`, 1e-4);
  }
});
