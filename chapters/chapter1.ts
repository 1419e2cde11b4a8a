/**
 * Chapter 1: ReLU before softmax, and an accuracy that does not learn.
 *
 * The question: a 784-128-10 network on Fashion-MNIST with a ReLU on its last layer before the
 * softmax cross-entropy; the loss falls, the accuracy curve does not learn. The answer: keep the
 * last layer linear. Two mechanisms fit that description, and the chapter measures both:
 *   (a) the ReLU head: logits clamped at zero, rows of ten zeros that argmax gives to class 0,
 *       classes whose logit never comes back;
 *   (b) a metric bug: `mean(predictions == labels)` with labels of shape (N, 1) broadcasts to an
 *       N x N table whose mean is 1/10 on balanced classes, whatever the model does.
 *
 *   chapter1/question.ts   the question, the answer, and our assumptions
 *   chapter1/metrics.ts    correct and broadcast accuracies, the bound, zero rows, histograms
 *   chapter1/reproduce.ts  the data, the network, a run measured along the way
 *   chapter1/diagnose.ts   the decision table, row by row
 *   chapter1/sweep.ts      both heads over seeds and optimisers
 *   chapter1/fix.ts        the linear head beside the ReLU head
 *   chapter1/verdicts.ts   the verdict on the answer, computed
 *   chapter1/figures.ts    the figures
 *   chapter1/budgets.ts    BUDGETS = { full, smoke }
 *
 * `deno task chapter1` (this file) prints the story with its numbers and writes the figures.
 */
export * from "./chapter1/question.ts";
export * from "./chapter1/metrics.ts";
export * from "./chapter1/reproduce.ts";
export * from "./chapter1/diagnose.ts";
export * from "./chapter1/sweep.ts";
export * from "./chapter1/fix.ts";
export * from "./chapter1/verdicts.ts";
export * from "./chapter1/figures.ts";
export * from "./chapter1/budgets.ts";
import { ANSWER, ASSUMPTIONS, QUESTION } from "./chapter1/question.ts";
import { expectedBatchBroadcast } from "./chapter1/metrics.ts";
import {
  describeOptimizer,
  loadChapterData,
  type Measurement,
  runStory,
  testReport,
} from "./chapter1/reproduce.ts";
import { decisionEvidence, decisionTable, type Diagnosis } from "./chapter1/diagnose.ts";
import { seedSweep, type SweepRow } from "./chapter1/sweep.ts";
import { compareHeads, describeComparison } from "./chapter1/fix.ts";
import { answerEvidence, answerVerdict, lostClasses, showsSymptom } from "./chapter1/verdicts.ts";
import { accuracyCurvesFigure, lossCurvesFigure, sweepFigure } from "./chapter1/figures.ts";
import { BUDGETS, sweepSeeds } from "./chapter1/budgets.ts";
import { predict } from "../lib/mod.ts";

/** Rows of cells as aligned text lines (the task prints tables; the notebook uses showTable). */
export function formatTable(rows: Record<string, string | number>[]): string[] {
  const columns = Object.keys(rows[0]);
  const width = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(width[i])).join("  ");
  return [line(columns), ...rows.map((r) => line(columns.map((c) => String(r[c]))))];
}

/** The validation curve of a run, one row per measurement. */
export function curveRows(measurements: Measurement[], batchSize: number) {
  return measurements.map((m) => ({
    epoch: m.epoch.toFixed(2),
    "val loss": m.validationLoss.toFixed(3),
    accuracy: m.accuracy.toFixed(4),
    "broadcast N x N": m.broadcastAccuracy.toFixed(4),
    "broadcast per batch": m.batchBroadcastAccuracy.toFixed(4),
    "1/10 + (acc − 1/10)/B": expectedBatchBroadcast(m.accuracy, batchSize).toFixed(4),
    "all-zero rows": m.allZeroRows.toFixed(4),
  }));
}

/** The decision table as rows. */
export function diagnosisRows(diagnosis: Diagnosis) {
  return diagnosis.rows.map((r) => ({
    question: r.question,
    measured: r.measured,
    answer: r.answer,
    "points to": r.pointsTo,
  }));
}

/** Per optimiser and head: test accuracy range, runs that lost classes, runs with the symptom. */
export function sweepSummaryRows(rows: SweepRow[]) {
  const optimizers = [...new Set(rows.map((r) => r.optimizer))];
  return optimizers.flatMap((optimizer) =>
    (["relu", "linear"] as const).map((head) => {
      const runs = rows.filter((r) => r.optimizer === optimizer && r.head === head);
      const linearOf = (r: SweepRow) =>
        rows.find((l) => l.optimizer === optimizer && l.head === "linear" && l.seed === r.seed)!;
      const accuracies = runs.map((r) => r.validationAccuracy);
      return {
        optimiser: optimizer,
        head,
        "val accuracy": `${Math.min(...accuracies).toFixed(3)}-${
          Math.max(...accuracies).toFixed(3)
        }`,
        "lost classes": `${runs.filter(lostClasses).length} of ${runs.length}`,
        "symptom (correct metric)": `${
          runs.filter((r) => showsSymptom(r, linearOf(r))).length
        } of ${runs.length}`,
      };
    })
  );
}

/** The sweep as rows. */
export function sweepRows(rows: SweepRow[]) {
  return rows.map((r) => ({
    optimiser: r.optimizer,
    seed: r.seed,
    head: r.head,
    "train loss (running mean)": r.trainLoss.map((x) => x.toFixed(3)).join(" → "),
    "val loss": r.validationLoss.toFixed(3),
    "val accuracy": r.validationAccuracy.toFixed(3),
    "all-zero rows": r.allZeroRows.toFixed(3),
    "never predicted": r.neverPredicted.join(" ") || "-",
    "decision table": r.tableSays.join(", ") || "nothing",
  }));
}

if (import.meta.main) {
  const { runChapter } = await import("./cli.ts");
  await runChapter(
    { number: 1, title: "ReLU before softmax, and an accuracy that does not learn" },
    Deno.args,
    async ({ seed, backend, report }) => {
      const budget = BUDGETS.full;
      const table = (rows: Record<string, string | number>[]) =>
        formatTable(rows).forEach((l) => report.line("  " + l));

      report.heading("The question, as asked");
      report.line(QUESTION);
      report.line(`The answer: ${ANSWER}`);
      report.line("Our assumptions (the question does not say):");
      for (const a of ASSUMPTIONS) report.line(`  ${a.what}: ${a.choice} (${a.why})`);

      const data = await loadChapterData({ trainCount: budget.story.trainCount });
      const story = budget.story;
      report.heading(
        `Reproduce: ReLU head, ${describeOptimizer(story.optimizer)}, ${story.epochs} epochs, ` +
          `${data.train.count} images`,
      );
      report.line("(lines marked [training running mean] are the loop's per-epoch averages)");
      const relu = await runStory(data, story, "relu", { seed, backend, progress: "epochs" });
      report.line("Validation set, measured along training:");
      table(curveRows(relu.measurements, story.batchSize));

      report.heading("Diagnose: the decision table on the test set");
      const reluLogits = await predict(relu.model, data.test);
      for (const printed of ["broadcast", "correct"] as const) {
        report.line(`ReLU head, printed with the ${printed} accuracy:`);
        const diagnosis = decisionTable(decisionEvidence(reluLogits, data.test.labels!, printed));
        table(diagnosisRows(diagnosis));
        report.line(`  supported: ${diagnosis.supported.join(", ") || "nothing"}`);
      }

      const seeds = sweepSeeds(seed, budget.sweep.seedCount);
      report.heading(
        `Both heads over seeds ${seeds[0]}-${seeds.at(-1)}, ${budget.sweep.trainCount} images, ` +
          `${budget.sweep.epochs} epochs`,
      );
      const sweepData = await loadChapterData({ trainCount: budget.sweep.trainCount });
      const sweep = await seedSweep(sweepData, { ...budget.sweep, seeds }, backend);
      table(sweepRows(sweep));
      report.line("Summary over the seeds:");
      table(sweepSummaryRows(sweep));

      report.heading("Fix: a linear head, measured with a correct accuracy");
      const linear = await runStory(data, story, "linear", { seed, backend, progress: "epochs" });
      table(curveRows(linear.measurements, story.batchSize));
      const reluTest = await testReport(relu.model, data.test);
      const linearTest = await testReport(linear.model, data.test);
      const comparison = compareHeads(relu, linear, reluTest, linearTest);
      report.line(describeComparison(comparison));

      report.heading("Verdict on the answer");
      const evidence = answerEvidence(sweep, relu.measurements);
      const verdict = answerVerdict(evidence);
      report.line(`${verdict.overall.claim}: ${verdict.overall.grade.toUpperCase()}`);
      report.line(`  ${verdict.overall.reason}`);
      for (const part of verdict.parts) {
        report.line(`  - ${part.claim}: ${part.grade} (${part.reason})`);
      }

      await report.figure("accuracy-curves", accuracyCurvesFigure([relu, linear]));
      await report.figure("loss-curves", lossCurvesFigure([relu, linear]));
      await report.figure("sweep", sweepFigure(sweep));

      return {
        story: {
          optimizer: describeOptimizer(story.optimizer),
          epochs: story.epochs,
          relu: relu.measurements,
          linear: linear.measurements,
          test: { relu: reluTest, linear: linearTest },
          comparison,
        },
        sweep,
        evidence,
        verdict: {
          overall: verdict.overall.grade,
          parts: verdict.parts.map((p) => ({ claim: p.claim, grade: p.grade })),
        },
      };
    },
  );
}
