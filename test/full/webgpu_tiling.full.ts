/**
 * The matmul tilings (lib/backend/webgpu/matmul.ts): the whole parity suite
 * with each variant forced, and split-K forced, on whatever adapter there is
 * (llvmpipe here: every variant compiles and runs on it); and the
 * per-product plan a GPU would get. Skipped without a WebGPU adapter.
 */
import assert from "node:assert/strict";
import {
  tilingNames,
  TILINGS,
  WebGpuBackend,
  webGpuBackendIfAvailable,
} from "../../lib/backend/webgpu.ts";
import { planMatmul } from "../../lib/backend/webgpu/matmul.ts";
import { cpu } from "../../lib/backend/mod.ts";
import { assertSame, defineParitySuite, pair, randomValues } from "../parity_cases.ts";

const shared = await webGpuBackendIfAvailable().catch(() => null);
if (!shared) console.warn("webgpu tiling tests SKIPPED: no WebGPU adapter");

// The default (tile128k16 on llvmpipe) runs in webgpu_parity_test.ts; every other variant here.
const defaultTiling = shared?.tilings.length === 1 ? shared.tilings[0].name : null;
for (const tiling of tilingNames.filter((name) => name !== defaultTiling)) {
  defineParitySuite(
    `webgpu tiling ${tiling}`,
    () =>
      Promise.resolve(
        shared && new WebGpuBackend(shared.device, shared.adapterInfo, { tiling }),
      ),
  );
}
// k split in 3 (a product needs k > 2 k steps to split): every matmul in the suite that can.
defineParitySuite(
  "webgpu split-K",
  () =>
    Promise.resolve(
      shared &&
        new WebGpuBackend(shared.device, shared.adapterInfo, { tiling: "tile64k8", splits: 3 }),
    ),
);

Deno.test({
  name: "webgpu tiling: a GPU's plan for the MLP's products matches the CPU",
  ignore: shared === null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // What a GPU gets (per-product tiles, split-K), run here on the software adapter.
    const gpuPlan = new WebGpuBackend(shared!.device, shared!.adapterInfo, { software: false });
    const products: [number, number, number, boolean][] = [
      [128, 784, 128, false], // x W1 + b1: tile32, k split
      [784, 128, 128, true], // dW1 = xᵀ dh
      [128, 128, 10, false], // h W2 + b2: n = 10, k split
      [128, 128, 10, true], // dW2 = hᵀ dy
    ];
    let splitSeen = false;
    for (const [m, k, n, transposeA] of products) {
      splitSeen ||= gpuPlan.planMatmul(m, k, n).splits > 1;
      const [ga, ca] = pair(gpuPlan, randomValues(m * k, m + k), transposeA ? [k, m] : [m, k]);
      const [gb, cb] = pair(gpuPlan, randomValues(k * n, k + n), [k, n]);
      const tolerance = { relative: 1e-5, absolute: 1e-5 * Math.sqrt(k + 1) };
      const what = `${m}x${k}x${n}${transposeA ? " Aᵀ" : ""}`;
      await assertSame(
        gpuPlan.matmul(ga, gb, transposeA, false),
        cpu.matmul(ca, cb, transposeA, false),
        what,
        tolerance,
      );
      if (!transposeA) {
        const [gbias, cbias] = pair(gpuPlan, randomValues(n, n), [n]);
        await assertSame(
          gpuPlan.linear(ga, gb, gbias),
          cpu.binary("add", cpu.matmul(ca, cb, false, false), cbias),
          `linear ${what}`,
          tolerance,
        );
      }
    }
    assert.ok(splitSeen, "the plan splits k somewhere");
    gpuPlan.destroy();
  },
});

Deno.test({
  name: "webgpu tiling: the split-K backend splits the suite's products",
  ignore: shared === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn() {
    const split = new WebGpuBackend(shared!.device, shared!.adapterInfo, {
      tiling: "tile64k8",
      splits: 3,
    });
    assert.equal(split.planMatmul(17, 33, 65).splits, 3);
    assert.equal(split.planMatmul(6, 9, 7).splits, 2, "9 values of k: two steps of 8");
    assert.equal(split.planMatmul(3, 5, 7).splits, 1, "one step of k cannot split");
  },
});

Deno.test("webgpu tiling: a GPU gets large tiles for large products, split-K for n = 10", () => {
  const gpuTilings = [TILINGS.tile128k16, TILINGS.tile64k16, TILINGS.tile32];
  const onGpu = (m: number, k: number, n: number) =>
    planMatmul(m, k, n, { software: false, tilings: gpuTilings });
  assert.equal(onGpu(4096, 4096, 4096).tiling.name, "tile128k16");
  assert.deepEqual(onGpu(4096, 4096, 4096).splits, 1);
  assert.equal(onGpu(1024, 1024, 1024).tiling.name, "tile64k16", "64 tiles of 128 are too few");
  // The MLP's layer 2, h W2 and dW2 = hᵀ dy: 128 x 10 is one tile, so k is split.
  const layer2 = onGpu(128, 128, 10);
  assert.equal(layer2.tiling.name, "tile32");
  assert.ok(layer2.splits > 1, `splits ${layer2.splits}`);
  assert.ok(layer2.kChunk * layer2.splits >= 128 && layer2.kChunk % 8 === 0);
  const dW1 = onGpu(784, 128, 128); // 25 x 4 tiles of 32: enough, barely split
  assert.ok(dW1.splits <= 2);
  // Short k is never split: each split must have MIN_SPLIT_CHUNK (64) values of k.
  assert.equal(onGpu(8, 60, 8).splits, 1);
  // A software adapter: its one tiling, never split.
  const soft = planMatmul(128, 784, 10, { software: true, tilings: [TILINGS.tile64k8] });
  assert.deepEqual([soft.tiling.name, soft.splits], ["tile64k8", 1]);
  // Forced splits cover k exactly once.
  for (const k of [1, 8, 9, 33, 784]) {
    const plan = planMatmul(4, k, 4, {
      software: true,
      tilings: [TILINGS.tile64k8],
      forcedSplits: 3,
    });
    assert.ok((plan.splits - 1) * plan.kChunk < k && plan.splits * plan.kChunk >= k, `k = ${k}`);
  }
});

Deno.test({
  name: "webgpu tiling: a tiling the device cannot hold is refused by name",
  ignore: shared === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn() {
    const tiny = { ...shared!.device.limits, maxComputeWorkgroupStorageSize: 4096 };
    const device = { ...shared!.device, limits: tiny } as unknown as GPUDevice;
    assert.throws(
      () => new WebGpuBackend(device, shared!.adapterInfo, { tiling: "tile128k16" }),
      /tiling "tile128k16" needs more/,
    );
  },
});
