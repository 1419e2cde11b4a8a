/**
 * GPU memory does not grow over epochs: the buffer pool reuses released
 * buffers, so after the first epoch it allocates nothing new, and a training
 * run leaves nothing behind but the model and the uploaded data.
 * Skipped without a WebGPU adapter.
 */
import assert from "node:assert/strict";
import { WebGpuBackend, webGpuBackendIfAvailable } from "../lib/backend/webgpu.ts";
import { gaussianBlobs } from "../lib/data/synthetic.ts";
import { evaluate, mlp, SGD, SoftmaxCrossEntropy, train } from "../lib/mod.ts";
import { gradientMonitor, MonitorLog } from "../lib/monitors.ts";

const shared = await webGpuBackendIfAvailable().catch(() => null);
if (!shared) console.warn("webgpu memory test SKIPPED: no WebGPU adapter");

Deno.test({
  name: "webgpu memory: the pool stops growing after the first epoch",
  ignore: shared === null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // A backend of its own on the shared device, so that its pool counts only this test.
    const gpu = new WebGpuBackend(shared!.device, shared!.adapterInfo);
    const trainSet = gaussianBlobs({ count: 210, classes: 3, features: 8, seed: 1 }); // 20 + a ragged 10
    const validation = gaussianBlobs({ count: 60, classes: 3, features: 8, seed: 2 });
    const model = mlp([8, 32, 3], { backend: gpu, seed: 0 });
    const allocated: number[] = [];
    const created: number[] = [];
    const log = new MonitorLog();
    const options = {
      model,
      loss: new SoftmaxCrossEntropy(),
      optimizer: new SGD({ learningRate: 0.1 }),
      train: trainSet,
      validation,
      batchSize: 20,
      progress: "none" as const,
      hooks: [
        gradientMonitor({ log, every: 4 }),
        {
          onEpochEnd() {
            const stats = gpu.stats();
            allocated.push(stats.allocatedBytes + stats.stagingBytes);
            created.push(stats.buffersCreated);
          },
        },
      ],
    };
    // Upload the validation set first: its first evaluation (at the end of epoch 1)
    // would otherwise take a pooled buffer that epoch 2 then has to replace.
    await evaluate(model, new SoftmaxCrossEntropy(), validation);
    await train({ ...options, epochs: 4 });
    assert.deepEqual(
      allocated.slice(1),
      [allocated[0], allocated[0], allocated[0]],
      `bytes by epoch: ${allocated}`,
    );
    assert.deepEqual(
      created.slice(1),
      [created[0], created[0], created[0]],
      `buffers by epoch: ${created}`,
    );

    // A second run on the same model and data: nothing new in use, nothing new allocated.
    const inUse = gpu.stats().inUseBytes;
    await train({ ...options, epochs: 2 });
    await evaluate(model, new SoftmaxCrossEntropy(), validation);
    assert.equal(gpu.stats().inUseBytes, inUse, "a run leaves no tensor behind");
    assert.equal(gpu.stats().allocatedBytes + gpu.stats().stagingBytes, allocated[0]);
    assert.ok(gpu.stats().reuses > 100 * gpu.stats().buffersCreated / 10, "buffers are reused");

    // trim() gives the free buffers back; what is in use stays.
    const freed = gpu.trim();
    assert.ok(freed > 0);
    assert.equal(gpu.stats().allocatedBytes, gpu.stats().inUseBytes);
  },
});
