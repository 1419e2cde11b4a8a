/**
 * Chapter 6's claims on quick budgets: the bug's symptoms under TF1 and TF2 semantics on a
 * smoke-budget base, the batching derivation against the printed lines, and every verdict fed
 * the recorded evidence (chapters/chapter6/recorded_evidence.json, the full run on seeds 0-2)
 * and evidence that flips it. The full budgets are asserted in test/full/chapter6.full.ts.
 */
import assert from "node:assert/strict";
import { cpu, FixedOrderBatcher, LN2, saveWeights, tensor } from "../lib/mod.ts";
import { softmax } from "../lib/ops.ts";
import {
  accuracyFromComposition,
  argmaxVerdict,
  baseNetwork,
  batchComposition,
  BUDGETS,
  type ChapterEvidence,
  evaluationVerdict,
  featuresOf,
  gcd,
  labelsVerdict,
  loadChapterData,
  pretrain,
  pretrainedBase,
  printPattern,
  repetitionVerdict,
  runTutorial,
  selfLabelledGradient,
  softmaxBackward,
  tf2Mechanism,
} from "../chapters/chapter6.ts";
import { SoftTargetCrossEntropy } from "../lib/losses.ts";

const recorded: ChapterEvidence = JSON.parse(
  await Deno.readTextFile(new URL("../chapters/chapter6/recorded_evidence.json", import.meta.url)),
);

Deno.test("the batching derivation: line k shows training batch 50k mod 50 = 0 and validation batch 50k mod 12, period 12 / gcd(50, 12) = 6", () => {
  const p = printPattern(1600, 400, 32, 50, 13);
  assert.equal(p.trainBatches, 50);
  assert.equal(p.validationBatches, 12);
  assert.equal(gcd(50, 12), 2);
  assert.equal(p.trainPeriod, 1);
  assert.equal(p.validationPeriod, 6);
  assert.deepEqual(p.trainBatchAtLine, new Array(13).fill(0));
  assert.deepEqual(p.validationBatchAtLine, [0, 2, 4, 6, 8, 10, 0, 2, 4, 6, 8, 10, 0]);
  // The derivation agrees with the batcher itself advancing once per iteration.
  const batcher = new FixedOrderBatcher(400, 32);
  const seen: number[] = [];
  for (let i = 0; i <= 600; i++) {
    if (i % 50 === 0) seen.push(batcher.batchIndex);
    batcher.next();
  }
  assert.deepEqual(seen, p.validationBatchAtLine);
  // Another print period flips it: every 48 iterations, validation period 12 / gcd(48, 12) = 1.
  assert.equal(printPattern(1600, 400, 32, 48, 4).validationPeriod, 1);
});

Deno.test("why exactly 50.00%: a batch of 16 and 16 scores 16 / 32 under any one-class prediction", () => {
  const alternating = Array.from({ length: 64 }, (_, i) => i % 2);
  const c = batchComposition(alternating, 0, 32, 2);
  assert.deepEqual(c.counts, [16, 16]);
  assert.deepEqual(c.oneClassAccuracy, [0.5, 0.5]);
  assert.equal(accuracyFromComposition(c.counts, [0, 16]), 0.5); // all predicted Coat
  assert.equal(accuracyFromComposition(c.counts, [1, 14]), 15 / 32); // one Pullover right, two Coats wrong
  const sorted = Array.from({ length: 64 }, (_, i) => (i < 40 ? 0 : 1));
  assert.deepEqual(batchComposition(sorted, 0, 32, 2).oneClassAccuracy, [1, 0]); // a sorted loader flips it
});

Deno.test("labels = softmax(logits): TF1's gradient is zero up to rounding; TF2's is the entropy's", async () => {
  const logits = tensor([2, -1, 0.5, 0.3, -3, 4], [3, 2]);
  const tf1 = selfLabelledGradient(
    new SoftTargetCrossEntropy({ stopGradientThroughLabels: true }),
    logits,
  );
  const g1 = await tf1.gradient.data();
  assert.ok(g1.every((v) => Math.abs(v) < 1e-7), `TF1 gradient ${g1}`);
  const tf2 = selfLabelledGradient(
    new SoftTargetCrossEntropy({ stopGradientThroughLabels: false }),
    logits,
  );
  const g2 = await tf2.gradient.data();
  // d/dz0 of the mean entropy −Σ p log p / N, two classes: p0 p1 (z1 − z0) / N.
  const p = await softmax(logits).data();
  const z = await logits.data();
  for (let i = 0; i < 3; i++) {
    const d = p[2 * i] * p[2 * i + 1] * (z[2 * i + 1] - z[2 * i]);
    assert.ok(Math.abs(g2[2 * i] - d / 3) < 1e-6, `row ${i}: ${g2[2 * i]} vs ${d / 3}`);
  }
  const sb = await softmaxBackward(softmax(logits), tensor([1, 0, 1, 0, 1, 0], [3, 2])).data();
  assert.ok(Math.abs(sb[0] - p[0] * (1 - p[0])) < 1e-6);
});

Deno.test("smoke budget: TF1 leaves the weights bit-identical under SGD (all but a handful) and prints one training accuracy; TF2 drives the loss below ln 2 at chance", async () => {
  const budget = BUDGETS.smoke;
  const data = await loadChapterData(0, budget.pretrainImages);
  const base = await pretrainedBase(data, cpu, budget.pretrainImages, budget.pretrainEpochs);
  const layers = base.network.freeze().layers.slice(0, 7);
  const train = await featuresOf(layers, data.train, cpu);
  const validation = await featuresOf(layers, data.validation, cpu);
  const run = (semantics: "tf1" | "tf2", optimizer: "sgd" | "adam") =>
    runTutorial({
      train,
      validation,
      semantics,
      optimizer,
      iterations: budget.iterations,
      seed: 0,
      backend: cpu,
    });
  const tf1 = await run("tf1", "sgd");
  assert.ok(tf1.firstGradientNorm < 1e-5, `TF1 gradient norm ${tf1.firstGradientNorm}`);
  assert.ok(tf1.changedWeights <= 5, `weights changed: ${tf1.changedWeights}`); // of 50,240
  assert.ok(tf1.largestParameterChange < 1e-9);
  assert.equal(new Set(tf1.lines.map((l) => l.trainAccuracy)).size, 1);
  assert.deepEqual(
    tf1.lines.map((l) => l.validationBatch),
    printPattern(1600, 400, 32, 50, tf1.lines.length).validationBatchAtLine,
  );
  assert.equal(tf1.labelsMinusOwnSoftmax, 0);
  assert.ok(tf1.labelsMoveWithWeights > 0);
  const tf2 = await run("tf2", "adam");
  assert.ok(tf2.firstGradientNorm > 1e3 * tf1.firstGradientNorm);
  assert.ok(tf2.lines.at(-1)!.loss < 0.1 * LN2, `TF2 last loss ${tf2.lines.at(-1)!.loss}`);
  assert.ok(Math.abs(tf2.validationAccuracy - 0.5) <= 0.1);
});

Deno.test("pre-training the base is bit-reproducible on the CPU backend (smoke budget, twice)", async () => {
  const data = await loadChapterData(0, 400);
  const weights = [];
  for (let i = 0; i < 2; i++) {
    const model = baseNetwork(cpu);
    await pretrain(model, data, 1);
    weights.push(JSON.stringify(await saveWeights(model)));
  }
  assert.equal(weights[0], weights[1]);
  assert.notEqual(weights[0], JSON.stringify(await saveWeights(baseNetwork(cpu))));
});

Deno.test("verdicts on the recorded evidence: labels right, evaluation partly right, argmax right, repetition missed, TF2 mechanism right", () => {
  assert.equal(labelsVerdict(recorded).verdict, "right");
  assert.equal(evaluationVerdict(recorded).verdict, "partly right");
  assert.equal(argmaxVerdict(recorded).verdict, "right");
  assert.equal(repetitionVerdict(recorded).verdict, "partly right");
  assert.equal(tf2Mechanism(recorded).verdict, "right");
  assert.match(labelsVerdict(recorded).reason, /whole validation set/);
});

Deno.test("verdicts flip on evidence that should flip them", () => {
  const flipped = (change: Partial<ChapterEvidence>) => ({ ...recorded, ...change });
  assert.equal(labelsVerdict(flipped({ fixedTest: [0.7, 0.75] })).verdict, "partly right");
  assert.equal(labelsVerdict(flipped({ fixedTest: [0.5, 0.55] })).verdict, "wrong");
  assert.equal(
    labelsVerdict(flipped({ buggyValidationAccuracy: [0.5, 0.8] })).verdict,
    "partly right",
  );
  assert.equal(evaluationVerdict(flipped({ validationOverlap: 40 })).verdict, "right");
  assert.equal(argmaxVerdict(flipped({ argmaxMismatches: 3 })).verdict, "wrong");
  assert.equal(repetitionVerdict(flipped({ tf1ValidationRepeats: 0 })).verdict, "right");
  assert.equal(tf2Mechanism(flipped({ tf2LastLoss: [0.4, 0.5] })).verdict, "wrong");
});
