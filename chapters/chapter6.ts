/**
 * Chapter 6: fine-tuning stuck at 50.00%, and a validation accuracy that repeats a pattern.
 *
 * The asker fine-tuned the last layers of a pre-trained VGG-16 (TensorFlow, no Keras) after a
 * cats-vs-dogs tutorial; the answer found labels=y_pred in the cross-entropy. This chapter
 * reproduces it with a small CNN pre-trained on 8 Fashion-MNIST classes standing in for VGG-16
 * and Pullover against Coat standing in for cats against dogs, under TensorFlow 1's and
 * TensorFlow 2's semantics, explains the printed numbers from the batching, and grades the answer.
 *
 *   chapter6/question.ts    the question as asked, the answer, and our assumptions
 *   chapter6/budgets.ts     BUDGETS = { full, smoke }: the notebook, the task and the tests
 *   chapter6/data.ts        the 8 other classes; Pullover vs Coat read alternately, 1,600/400
 *   chapter6/pretrained.ts  the stand-in base network, pre-trained once and cached
 *   chapter6/reproduce.ts   the tutorial's loop with labels = softmax(logits), TF1 and TF2
 *   chapter6/batching.ts    why the printed numbers repeat: the batch indices, derived
 *   chapter6/diagnose.ts    the measurements, and every run of the chapter for its seeds
 *   chapter6/fix.ts         true labels, reshuffled batches, full held-out sets; block 2 unfrozen
 *   chapter6/verdicts.ts    the evidence across seeds and a verdict per part of the answer
 *   chapter6/figures.ts     the figures, as vega-lite specs
 *
 * `deno task chapter6` (this file) prints the story with its numbers and writes the figures.
 */
export * from "./chapter6/question.ts";
export * from "./chapter6/budgets.ts";
export * from "./chapter6/data.ts";
export * from "./chapter6/pretrained.ts";
export * from "./chapter6/reproduce.ts";
export * from "./chapter6/batching.ts";
export * from "./chapter6/diagnose.ts";
export * from "./chapter6/fix.ts";
export * from "./chapter6/verdicts.ts";
export * from "./chapter6/figures.ts";
import { runChapter } from "./cli.ts";
import { BUDGETS, seedsFrom } from "./chapter6/budgets.ts";
import { QUESTION } from "./chapter6/question.ts";
import { type ChapterRun, runChapter6 } from "./chapter6/diagnose.ts";
import { TUTORIAL } from "./chapter6/reproduce.ts";
import { lossFigure, progressFigure } from "./chapter6/figures.ts";
import { chapterEvidence, showRange, verdictsFrom } from "./chapter6/verdicts.ts";
import { printPattern } from "./chapter6/batching.ts";
import { TRAIN_COUNT, VALIDATION_COUNT } from "./chapter6/data.ts";

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** The key numbers for --json. */
export function summarise(run: ChapterRun): Record<string, unknown> {
  const e = chapterEvidence(run);
  return {
    seeds: e.seeds,
    base: run.base,
    evidence: e,
    verdicts: verdictsFrom(e).map((v) => ({ claim: v.claim, verdict: v.verdict })),
    seconds: run.seconds,
  };
}

if (import.meta.main) {
  await runChapter(
    { number: 6, title: "fine-tuning stuck at 50.00%, and a validation accuracy that repeats" },
    Deno.args,
    async ({ seed, backend, report }) => {
      const seeds = seedsFrom(seed);
      report.heading("The question");
      for (const line of QUESTION.asked) report.line(line);
      report.line();
      for (const line of QUESTION.answered) report.line(line);
      report.line();
      for (const line of QUESTION.assumed) report.line(line);

      const run = await runChapter6(BUDGETS.full, seeds, backend);
      const e = chapterEvidence(run);
      report.heading("The stand-in for VGG-16");
      report.table([
        [
          "weights",
          `${
            run.base.fromCache ? "read from" : "pre-trained and written to"
          } ${run.base.cacheFile}`,
        ],
        ["pre-training seconds (0 from the cache)", run.base.seconds.toFixed(1)],
        ["accuracy on 2,000 test images of the 8 classes", run.base.testAccuracy.toFixed(3)],
      ]);

      const first = run.seeds[0];
      report.heading(
        `Reproduce: the tutorial's progress lines, seed ${first.seed}, TF1 semantics, SGD`,
      );
      report.line("iteration  training batch: accuracy  validation batch: accuracy");
      for (const l of first.tf1Sgd.lines) {
        report.line(
          `${String(l.iteration).padStart(9)}  ${String(l.trainBatch).padStart(14)}: ${
            pct(l.trainAccuracy)
          }` +
            `  ${String(l.validationBatch).padStart(16)}: ${pct(l.validationAccuracy)}`,
        );
      }
      report.heading(`The same under TF2 semantics (Adam 1e-4), seed ${first.seed}`);
      report.line(
        "iteration  training accuracy  validation accuracy  loss (= entropy)  Coat of 32",
      );
      for (const l of first.tf2Adam.lines) {
        report.line(
          `${String(l.iteration).padStart(9)}  ${pct(l.trainAccuracy).padStart(17)}  ${
            pct(l.validationAccuracy).padStart(19)
          }  ${l.loss.toExponential(2).padStart(16)}  ${String(l.predictedCoat).padStart(10)}`,
        );
      }
      await report.figure("progress-lines", progressFigure(first, e.validationPeriod));
      await report.figure("buggy-loss", lossFigure(first));

      const pattern = printPattern(
        TRAIN_COUNT,
        VALIDATION_COUNT,
        TUTORIAL.batchSize,
        TUTORIAL.printEvery,
        2,
      );
      report.heading("Why the numbers repeat: the batching, derived");
      report.table([
        ["training batches per epoch (1,600 / 32)", pattern.trainBatches],
        ["validation batches per epoch (400 / 32, remainder skipped)", pattern.validationBatches],
        ["training batch shown by line k: 50k mod 50", `0 always (period ${e.trainPeriod})`],
        [
          "validation batch shown by line k: 50k mod 12",
          `0, 2, 4, 6, 8, 10 (period 12 / gcd(50, 12) = ${e.validationPeriod})`,
        ],
        ["seeds whose printed indices match", `${e.patternMatches} of ${e.seeds.length}`],
        ["batch 0: Pullovers, Coats", e.batch0Counts.join(", ")],
        [
          "every image one class on batch 0 scores",
          `${e.batch0Counts[0]} / 32 = ${pct(e.batch0Counts[0] / 32)}`,
        ],
        ["TF1 printed training accuracy across seeds", showRange(e.tf1PrintedTrainAccuracy, 4)],
        ["TF2 printed training accuracy at the last line", showRange(e.tf2PrintedTrainAccuracy, 4)],
      ]);

      report.heading(`Diagnose, across seeds ${seeds.join(", ")}`);
      report.table([
        [
          "TF1: gradient norm at the first step",
          e.tf1GradientNorm.map((x) => x.toExponential(1)).join(" to "),
        ],
        [
          "TF1 + SGD: weights changed; biases changed (of 66); largest change",
          `${e.tf1SgdWeightsChanged}; ${showRange(e.tf1SgdBiasesChanged, 0)}; ${
            e.tf1SgdLargestChange.map((x) => x.toExponential(1)).join(" to ")
          }`,
        ],
        [
          "TF1 + Adam: share of parameters moved; largest change",
          `${showRange(e.tf1AdamChangedShare, 2)}; ${
            e.tf1AdamLargestChange.map((x) => x.toExponential(1)).join(" to ")
          }`,
        ],
        [
          "TF2: loss at the first line and at the last (ln 2 = 0.693)",
          `${showRange(e.tf2FirstLoss)}; ${
            e.tf2LastLoss.map((x) => x.toExponential(1)).join(" to ")
          }`,
        ],
        [
          "TF2: share of validation images predicted as one class",
          showRange(e.tf2LargestClassShare),
        ],
        ["buggy runs: accuracy on the whole validation set", showRange(e.buggyValidationAccuracy)],
        ["labels fed to the loss minus the model's own softmax", "0 on every seed (they are it)"],
      ]);

      report.heading("Fix: y_true, reshuffled batches, the whole held-out sets");
      report.table([
        [
          `head, ${BUDGETS.full.fixEpochs} epochs: validation (400), test (2,000)`,
          `${showRange(e.fixedValidation)}, ${showRange(e.fixedTest)}`,
        ],
        [`+${BUDGETS.full.unfreezeEpochs} epochs frozen base: test`, showRange(e.frozenMoreTest)],
        [
          `+${BUDGETS.full.unfreezeEpochs} epochs with block 2 unfrozen: test`,
          showRange(e.unfrozenTest),
        ],
        ["what unfreezing adds (test, per seed)", showRange(e.unfreezeGain)],
      ]);
      report.heading("Verdicts");
      for (const v of verdictsFrom(e)) {
        report.line(`- ${v.claim}: ${v.verdict.toUpperCase()}. ${v.reason}`);
      }
      return summarise(run);
    },
  );
}
