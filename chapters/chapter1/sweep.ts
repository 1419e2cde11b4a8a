/**
 * Both heads over several seeds and optimiser settings, on a 10,000-image subset: how often
 * a ReLU head loses classes, and whether it shows the asker's symptom on its own (loss falls,
 * accuracy does not learn) with a correct metric.
 */
import { predict } from "../../lib/mod.ts";
import type { Backend } from "../../lib/mod.ts";
import {
  type ChapterData,
  describeOptimizer,
  type Head,
  HEADS,
  type OptimizerSetting,
  runExperiment,
} from "./reproduce.ts";
import { decisionEvidence, decisionTable, type PointsTo } from "./diagnose.ts";
import {
  accuracy,
  allZeroRowFraction,
  argmaxRows,
  deadLogitClasses,
  meanCrossEntropy,
  predictionHistogram,
} from "./metrics.ts";

/**
 * One sweep run, measured once after training on the validation set (one forward pass per run
 * keeps the sweep inside the notebook's time budget).
 */
export interface SweepRow {
  seed: number;
  optimizer: string;
  head: Head;
  /** Training running mean of the loss, per epoch. */
  trainLoss: number[];
  /** After training, on the validation set: correct accuracy and loss. */
  validationAccuracy: number;
  validationLoss: number;
  allZeroRows: number;
  deadClasses: number[];
  /** Classes that no validation example is predicted as. */
  neverPredicted: number[];
  /** What the decision table points to, printed with a correct accuracy. */
  tableSays: PointsTo[];
}

export interface SweepSettings {
  seeds: number[];
  optimizers: OptimizerSetting[];
  epochs: number;
  batchSize: number;
  trainCount: number;
}

export async function seedSweep(
  data: ChapterData,
  settings: SweepSettings,
  backend?: Backend,
): Promise<SweepRow[]> {
  const rows: SweepRow[] = [];
  for (const optimizer of settings.optimizers) {
    for (const seed of settings.seeds) {
      for (const head of HEADS) {
        const run = await runExperiment(data, {
          head,
          optimizer,
          epochs: settings.epochs,
          batchSize: settings.batchSize,
          seed,
          backend,
          measurementsPerEpoch: 0,
        });
        const logits = await predict(run.model, data.validation);
        const labels = data.validation.labels!;
        const predictions = argmaxRows(logits);
        const histogram = predictionHistogram(predictions, data.validation.classes ?? 10);
        rows.push({
          seed,
          optimizer: describeOptimizer(optimizer),
          head,
          trainLoss: run.history.epochs.map((e) => e.trainLoss),
          validationAccuracy: accuracy(predictions, labels),
          validationLoss: meanCrossEntropy(logits, labels),
          allZeroRows: allZeroRowFraction(logits),
          deadClasses: deadLogitClasses(logits),
          neverPredicted: histogram.flatMap((count, c) => count === 0 ? [c] : []),
          tableSays: decisionTable(decisionEvidence(logits, labels, "correct", seed)).supported,
        });
      }
    }
  }
  return rows;
}
