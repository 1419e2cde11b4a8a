/**
 * The stand-in for VGG-16: a small CNN pre-trained on the 8 Fashion-MNIST classes other than
 * Pullover and Coat, its weights cached under .cache/chapter6/ (written atomically, one file
 * per backend and budget: on the CPU backend the same budget gives the same bits).
 *
 *   conv 3x3 1→8 same, ReLU, pool 2   (block 1)   →  [14, 14, 8]
 *   conv 3x3 8→16 same, ReLU, pool 2  (block 2)   →  [7, 7, 16], flattened to 784 features
 *   Linear 784→8                      (the pre-training head, dropped for fine-tuning)
 */
import type { Backend } from "../../lib/backend/backend.ts";
import {
  Adam,
  Conv2d,
  evaluate,
  Flatten,
  Linear,
  loadWeights,
  MaxPool2d,
  Random,
  ReLU,
  type SavedWeights,
  saveWeights,
  Sequential,
  SoftmaxCrossEntropy,
  train,
} from "../../lib/mod.ts";
import { repoRoot } from "../../lib/data/cache.ts";
import type { ChapterData } from "./data.ts";

/** The base's seed: fixed, like a published network; the chapter's seeds vary the rest. */
export const BASE_SEED = 0;
const CACHE_VERSION = 1;

/** Block 1, block 2 and the flatten: the layers fine-tuning keeps. */
export function baseLayers(backend: Backend, seed = BASE_SEED) {
  const random = new Random(seed);
  return {
    block1: [
      new Conv2d(1, 8, 3, { padding: "same", imageSize: [28, 28], random, backend }),
      new ReLU(),
      new MaxPool2d(2),
    ],
    block2: [
      new Conv2d(8, 16, 3, { padding: "same", imageSize: [14, 14], random, backend }),
      new ReLU(),
      new MaxPool2d(2),
    ],
    flatten: new Flatten(),
  };
}

export interface PretrainedBase {
  /** block 1 + block 2 + flatten + the 8-class head, weights loaded or trained. */
  network: Sequential;
  /** Accuracy on the 8 classes' test images. */
  testAccuracy: number;
  /** Whether the weights came from the cache. */
  fromCache: boolean;
  /** Seconds spent pre-training (0 from the cache). */
  seconds: number;
  cacheFile: string;
}

/** The base and its 8-class pre-training head, freshly initialised (seed BASE_SEED). */
export function baseNetwork(backend: Backend): Sequential {
  const { block1, block2, flatten } = baseLayers(backend);
  return new Sequential([
    ...block1,
    ...block2,
    flatten,
    new Linear(784, 8, { random: new Random(BASE_SEED + 1), backend }),
  ]);
}

/** The cache file for a backend and budget, e.g. .cache/chapter6/base-cpu-4000x2-v1.json. */
export function cacheFileFor(backend: Backend, images: number, epochs: number): string {
  return `.cache/chapter6/base-${backend.name}-${images}x${epochs}-v${CACHE_VERSION}.json`;
}

/** The cache file's path from the repository root, wherever the process runs (a notebook runs in notebooks/). */
function cachePath(file: string): string {
  return new URL(file, repoRoot).pathname;
}

/** Load the pre-trained base from the cache, or pre-train it (Adam 1e-3, batch 32) and cache it. */
export async function pretrainedBase(
  data: ChapterData,
  backend: Backend,
  images: number,
  epochs: number,
): Promise<PretrainedBase> {
  const model = baseNetwork(backend);
  const cacheFile = cacheFileFor(backend, images, epochs);
  let fromCache = false, seconds = 0;
  try {
    loadWeights(model, JSON.parse(await Deno.readTextFile(cachePath(cacheFile))) as SavedWeights);
    fromCache = true;
  } catch {
    const started = performance.now();
    await pretrain(model, data, epochs);
    seconds = (performance.now() - started) / 1000;
    await writeAtomically(cachePath(cacheFile), JSON.stringify(await saveWeights(model)));
  }
  const { accuracy } = await evaluate(model, new SoftmaxCrossEntropy(), data.pretrainTest);
  return { network: model, testAccuracy: accuracy!, fromCache, seconds, cacheFile };
}

/** Pre-train `model` (a fresh `baseNetwork`) on the 8 other classes: Adam 1e-3, batch 32, seeded. */
export async function pretrain(
  model: Sequential,
  data: ChapterData,
  epochs: number,
): Promise<void> {
  await train({
    model,
    loss: new SoftmaxCrossEntropy(),
    optimizer: new Adam({ learningRate: 1e-3 }),
    train: data.pretrain,
    epochs,
    batchSize: 32,
    seed: BASE_SEED,
    progress: "none",
  });
}

/** Write to a temporary file and rename it, so that a reader never sees half a file. */
async function writeAtomically(file: string, text: string): Promise<void> {
  await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  const temporary = `${file}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temporary, text);
    await Deno.rename(temporary, file);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
