/**
 * Seeded determinism on the wasm backend: training runs with the same seeds
 * give identical histories and parameters, bit for bit, on one thread or two.
 * Every output value of a kernel is computed by one thread in one fixed order
 * (matmul: a fixed depth blocking, each block's sum in k order), so nothing
 * depends on timing or on which thread took which rows.
 */
import assert from "node:assert/strict";
import { WasmBackend } from "../lib/backend/wasm/backend.ts";
import { gaussianBlobs } from "../lib/data/synthetic.ts";
import { mlp, Momentum, SoftmaxCrossEntropy, train } from "../lib/mod.ts";
import type { Backend } from "../lib/backend/backend.ts";

async function run(backend: Backend) {
  // Wide enough that the first layer's matmuls use whole 4 x 8 tiles and ragged edges.
  const data = gaussianBlobs({ count: 600, classes: 5, features: 36, separation: 1.5, seed: 3 });
  const model = mlp([36, 40, 5], { backend, seed: 11 });
  const history = await train({
    model,
    loss: new SoftmaxCrossEntropy(),
    optimizer: new Momentum({ learningRate: 0.05, momentum: 0.9 }),
    train: data,
    epochs: 3,
    batchSize: 64,
    seed: 12,
    progress: "none",
  });
  const parameters = await Promise.all(model.parameters().map((p) => p.value.data()));
  // Everything but the wall-clock time of each epoch.
  const epochs = history.epochs.map(({ seconds: _, ...numbers }) => numbers);
  return { history: epochs, parameters };
}

Deno.test({
  name: "wasm determinism: seeded runs give identical histories and parameters, threads or not",
  // The worker thread outlives the test by up to half a second before it closes itself.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const first = await run(new WasmBackend());
    const second = await run(new WasmBackend());
    assert.deepEqual(second.history, first.history);
    assert.deepEqual(second.parameters, first.parameters);
    // Two threads, every matmul split, chunks taken by whichever thread is free: the same bits.
    const threaded = new WasmBackend({ threads: 2, threadMinimumWork: 0 });
    for (let repeat = 0; repeat < 2; repeat++) {
      const split = await run(threaded);
      assert.deepEqual(split.history, first.history);
      assert.deepEqual(split.parameters, first.parameters);
    }
    threaded.stopThreads();
    // And the runs did train: a history of constants would pass the comparisons trivially.
    assert.ok(first.history.at(-1)!.trainLoss < first.history[0].trainLoss);
  },
});
