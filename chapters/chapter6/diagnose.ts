/**
 * Diagnose by measurement, and run everything the chapter reports for its seeds.
 *
 * The measurements that separate "the labels are the model's own output" from "nothing
 * could learn anyway" (too small a step, everything frozen): the gradient norm at the first
 * step, the parameters' change after the run, the loss against ln 2 (a cross-entropy
 * against the true labels cannot sit below ln 2 at chance accuracy: accuracy ≥ 1 − L / ln 2),
 * the entropy of the predictions, and whether the labels fed to the loss move when the
 * weights move (true labels do not).
 */
import type { Backend } from "../../lib/backend/backend.ts";
import type { Conv2d } from "../../lib/mod.ts";
import type { Budget } from "./budgets.ts";
import { type BatchComposition, batchComposition } from "./batching.ts";
import { loadChapterData } from "./data.ts";
import { type FixResult, runFix } from "./fix.ts";
import { pretrainedBase } from "./pretrained.ts";
import { featuresOf, runTutorial, TUTORIAL, type TutorialRun } from "./reproduce.ts";

/** Everything one seed produced. */
export interface SeedEvidence {
  seed: number;
  /** The tutorial's loop with the bug: TF1 with SGD and with Adam, TF2 with Adam. */
  tf1Sgd: TutorialRun;
  tf1Adam: TutorialRun;
  tf2Adam: TutorialRun;
  fix: FixResult;
  /** Batch 0 of the training set (Pullover, Coat), the one every progress line shows. */
  batch0: BatchComposition;
  /** Training rows that also appear among the validation rows. */
  validationOverlap: number;
  /** Validation images whose argmax(softmax(z)) differs from argmax(z), for the TF1 head. */
  argmaxMismatches: number;
}

export interface ChapterRun {
  base: { testAccuracy: number; fromCache: boolean; seconds: number; cacheFile: string };
  seeds: SeedEvidence[];
  seconds: number;
  /** Seconds per phase, summed over seeds: data, base, features, tutorial, fix. */
  phaseSeconds: Record<string, number>;
}

/** argmax(softmax(z)) against argmax(z), row by row, on 2 classes. */
function argmaxMismatches(logits: Float32Array): number {
  let mismatches = 0;
  for (let i = 0; i < logits.length; i += 2) {
    const a = logits[i], b = logits[i + 1];
    const m = Math.max(a, b), ea = Math.exp(a - m), eb = Math.exp(b - m);
    const pa = ea / (ea + eb), pb = eb / (ea + eb);
    if ((b > a) !== (pb > pa)) mismatches++;
  }
  return mismatches;
}

/** The whole chapter on `seeds`: the base (cached), then per seed the bug, the fix. */
export async function runChapter6(
  budget: Budget,
  seeds: number[],
  backend: Backend,
): Promise<ChapterRun> {
  const started = performance.now();
  const evidence: SeedEvidence[] = [];
  const phaseSeconds: Record<string, number> = {};
  let mark = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    phaseSeconds[name] = (phaseSeconds[name] ?? 0) + (now - mark) / 1000;
    mark = now;
  };
  // One base for every seed (pre-trained once, like a published network), frozen.
  const first = await loadChapterData(seeds[0], budget.pretrainImages);
  phase("data");
  const base = await pretrainedBase(first, backend, budget.pretrainImages, budget.pretrainEpochs);
  const { testAccuracy, fromCache, seconds, cacheFile } = base;
  phase("base");
  base.network.freeze();
  const layers = base.network.layers;
  const block1 = layers.slice(0, 3), block2 = layers.slice(3, 7);
  // The test images are the same for every seed: their features once.
  const block1Test = await featuresOf(block1, first.test, backend);
  const test = await featuresOf(block2, block1Test, backend);
  phase("features");
  for (const seed of seeds) {
    const data = seed === seeds[0] ? first : await loadChapterData(seed, budget.pretrainImages);
    phase("data");
    const block1Train = await featuresOf(block1, data.train, backend);
    const block1Validation = await featuresOf(block1, data.validation, backend);
    const b1 = { train: block1Train, validation: block1Validation, test: block1Test };
    const features = {
      train: await featuresOf(block2, block1Train, backend),
      validation: await featuresOf(block2, block1Validation, backend),
      test,
    };
    phase("features");
    const tutorial = (semantics: "tf1" | "tf2", optimizer: "sgd" | "adam") =>
      runTutorial({
        train: features.train,
        validation: features.validation,
        semantics,
        optimizer,
        iterations: budget.iterations,
        seed,
        backend,
      });
    const tf1Sgd = await tutorial("tf1", "sgd");
    const tf1Adam = await tutorial("tf1", "adam");
    const tf2Adam = await tutorial("tf2", "adam");
    phase("tutorial");
    const fix = await runFix({
      features,
      block1Features: b1,
      pretrainedConv: layers[3] as Conv2d,
      fixEpochs: budget.fixEpochs,
      unfreezeEpochs: budget.unfreezeEpochs,
      seed,
      backend,
    });
    phase("fix");
    evidence.push({
      seed,
      tf1Sgd,
      tf1Adam,
      tf2Adam,
      fix,
      batch0: batchComposition(data.train.labels!, 0, TUTORIAL.batchSize, 2),
      validationOverlap: overlap(data.train.inputs, data.validation.inputs),
      argmaxMismatches: argmaxMismatches(tf1Sgd.validationLogits),
    });
  }
  return {
    base: { testAccuracy, fromCache, seconds, cacheFile },
    seeds: evidence,
    seconds: (performance.now() - started) / 1000,
    phaseSeconds,
  };
}

/** How many validation images are pixel for pixel equal to a training image. */
function overlap(train: Float32Array, validation: Float32Array): number {
  const key = (a: Float32Array, i: number) => a.subarray(i * 784, (i + 1) * 784).join(",");
  const seen = new Set<string>();
  for (let i = 0; i < train.length / 784; i++) seen.add(key(train, i));
  let shared = 0;
  for (let i = 0; i < validation.length / 784; i++) if (seen.has(key(validation, i))) shared++;
  return shared;
}
