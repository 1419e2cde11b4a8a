/**
 * Chapter 1: ReLU before softmax, and an accuracy that cannot move.
 *
 * The question: a two-layer network on Fashion-MNIST, with ReLU on its last
 * layer before the softmax cross-entropy. The loss falls, but the accuracy
 * curve does not learn. The answer the asker got: keep the last layer linear.
 *
 * Two mechanisms can each produce "the loss falls, the accuracy does not":
 *   (a) ReLU on the logits: a row whose logits are all clamped to zero is a
 *       tie, argmax picks class 0, and a class cannot be voted below zero;
 *   (b) an accuracy that compares predictions of shape (N) with labels of shape
 *       (N, 1): broadcasting builds an N x N table, and on balanced classes its
 *       mean is exactly 1/10 whatever the model does.
 * This module reproduces both on real data and separates them with measurements.
 */
import type { Backend } from "../lib/backend/backend.ts";
import { cpu, tensor } from "../lib/backend/mod.ts";
import { loadFashionMnist, scaleToUnitRange, trainTestSplit } from "../lib/data/mod.ts";
import type { Dataset } from "../lib/data/dataset.ts";
import { mlp, type Sequential } from "../lib/layers/sequential.ts";
import { SoftmaxCrossEntropy } from "../lib/losses.ts";
import { Adam } from "../lib/optim.ts";
import { Random } from "../lib/random.ts";
import { type History, predict, train } from "../lib/train.ts";

export const LN2 = Math.log(2);
export const LN10 = Math.log(10);

// The data ----------------------------------------------------------------------

export interface ChapterData {
  train: Dataset;
  validation: Dataset;
  test: Dataset;
}

/**
 * Fashion-MNIST scaled to [0, 1]: the fixed 60,000 / 10,000 split, with 10,000 of
 * the 60,000 held out (stratified) for validation curves. `trainCount` and
 * `testCount` take stratified subsets, for quick runs and tests.
 */
export async function loadChapterData(
  options: { trainCount?: number; validationCount?: number } = {},
): Promise<ChapterData> {
  const { train: full, test } = await loadFashionMnist();
  const { validationCount = 10_000 } = options;
  const split = trainTestSplit(scaleToUnitRange(full), {
    testCount: validationCount,
    seed: 1,
    names: ["fashion-mnist/train", "fashion-mnist/validation"],
  });
  let trainSet = split.train;
  if (options.trainCount !== undefined && options.trainCount < trainSet.count) {
    trainSet = trainTestSplit(trainSet, { testCount: options.trainCount, seed: 2 }).test;
    trainSet.name = "fashion-mnist/train";
  }
  return { train: trainSet, validation: split.test, test: scaleToUnitRange(test) };
}

// Metrics -----------------------------------------------------------------------

/** The index of each row's largest value; ties go to the lowest index (as NumPy's argmax). */
export function argmaxRows(rows: Float32Array[]): Int32Array {
  return Int32Array.from(rows, (row) => {
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
    return best;
  });
}

/** The correct accuracy: the fraction of examples whose prediction equals its label. */
export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predictions.length !== labels.length) {
    throw new Error(`accuracy: ${predictions.length} predictions for ${labels.length} labels`);
  }
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}

/**
 * BROKEN ON PURPOSE: what `np.mean(predictions == labels)` computes when
 * predictions have shape (N,) and labels (N, 1). Broadcasting compares every
 * prediction with every label, an N x N table, and averages it:
 *   mean = Σ_k (#predicted k)(#labelled k) / N².
 * When every class has N/10 labels this is (N/10) Σ_k #predicted k / N² = 1/10,
 * for any predictions at all. The loop below builds the table literally.
 */
export function broadcastAccuracy(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
): number {
  let equal = 0;
  for (let row = 0; row < labels.length; row++) {
    const label = labels[row];
    for (let column = 0; column < predictions.length; column++) {
      if (predictions[column] === label) equal++;
    }
  }
  return equal / (labels.length * predictions.length);
}

/** Fraction of rows whose logits are all exactly zero: argmax can only say "class 0" for them. */
export function allZeroRowFraction(logits: Float32Array[]): number {
  let zero = 0;
  for (const row of logits) if (row.every((v) => v === 0)) zero++;
  return zero / logits.length;
}

/** Classes whose logit is zero for every example: they can win only a tie. */
export function deadLogitClasses(logits: Float32Array[]): number[] {
  const classes = logits[0].length;
  const dead: number[] = [];
  for (let c = 0; c < classes; c++) if (logits.every((row) => row[c] === 0)) dead.push(c);
  return dead;
}

/**
 * The least accuracy consistent with a mean cross-entropy L on the same examples.
 * A misclassified example has p_true ≤ 1/2 (another class is at least as likely),
 * so it contributes at least ln 2 to the sum: error ≤ L / ln 2.
 */
export function accuracyLowerBound(meanCrossEntropy: number): number {
  return Math.max(0, 1 - meanCrossEntropy / LN2);
}

export interface PermutationTest {
  /** The metric on the true pairing of predictions and labels. */
  observed: number;
  /** The metric after shuffling the labels, once per trial. */
  shuffled: number[];
  shuffledMean: number;
  /** Largest |shuffled − observed|: zero means the metric ignores which prediction goes with which label. */
  largestChange: number;
}

/**
 * A metric that measures agreement must fall to chance when the labels are
 * shuffled against the predictions. One that does not move is not looking at the pairing.
 */
export function permutationTest(
  metric: (predictions: ArrayLike<number>, labels: ArrayLike<number>) => number,
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  trials = 10,
  seed = 0,
): PermutationTest {
  const observed = metric(predictions, labels);
  const random = new Random(seed);
  const shuffled = Array.from(
    { length: trials },
    () => metric(predictions, random.shuffle(Array.from(labels))),
  );
  return {
    observed,
    shuffled,
    shuffledMean: shuffled.reduce((a, b) => a + b, 0) / trials,
    largestChange: Math.max(...shuffled.map((s) => Math.abs(s - observed))),
  };
}

// Experiments -------------------------------------------------------------------

export type LogitActivation = "relu" | "linear";

export interface RunConfig {
  /** "relu": the asker's ReLU on the last layer; "linear": the fix. */
  logits: LogitActivation;
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  hidden?: number;
  seed?: number;
  backend?: Backend;
  progress?: "auto" | "bar" | "epochs" | "none";
}

/** What one epoch looked like on the validation set, measured on the logits read back. */
export interface EpochMeasurement {
  epoch: number;
  validationLoss: number;
  accuracy: number;
  broadcastAccuracy: number;
  allZeroRows: number;
  accuracyBound: number;
}

export interface RunResult {
  config: RunConfig;
  model: Sequential;
  history: History;
  /** Epoch 0 is the untrained network. */
  measurements: EpochMeasurement[];
}

/** The asker's network: 784-128-10, ReLU hidden layer, and the chosen last activation. */
export function buildModel(config: RunConfig): Sequential {
  return mlp([784, config.hidden ?? 128, 10], {
    activation: "relu",
    outputActivation: config.logits === "relu" ? "relu" : "identity",
    weightInit: "he-normal",
    seed: config.seed ?? 0,
    backend: config.backend ?? cpu,
  });
}

/** Mean softmax cross-entropy of read-back logits, by the library's own loss on the CPU. */
export function meanCrossEntropy(logits: Float32Array[], labels: Uint8Array): number {
  const classes = logits[0].length;
  const flat = new Float32Array(logits.length * classes);
  logits.forEach((row, i) => flat.set(row, i * classes));
  const loss = new SoftmaxCrossEntropy().forward(
    tensor(flat, [logits.length, classes]),
    tensor(labels, [labels.length]),
  );
  return (loss.storage as Float32Array)[0];
}

/** Loss, both accuracies, all-zero rows and the bound on one dataset, from one forward pass. */
export async function measure(
  model: Sequential,
  dataset: Dataset,
  epoch: number,
): Promise<EpochMeasurement> {
  const logits = await predict(model, dataset);
  const predictions = argmaxRows(logits);
  const loss = meanCrossEntropy(logits, dataset.labels!);
  return {
    epoch,
    validationLoss: loss,
    accuracy: accuracy(predictions, dataset.labels!),
    broadcastAccuracy: broadcastAccuracy(predictions, dataset.labels!),
    allZeroRows: allZeroRowFraction(logits),
    accuracyBound: accuracyLowerBound(loss),
  };
}

/**
 * Train one configuration with Adam and softmax cross-entropy, measuring the
 * validation set before training (epoch 0) and after every epoch.
 */
export async function runExperiment(data: ChapterData, config: RunConfig): Promise<RunResult> {
  const model = buildModel(config);
  const measurements = [await measure(model, data.validation, 0)];
  const history = await train({
    model,
    loss: new SoftmaxCrossEntropy(),
    optimizer: new Adam({ learningRate: config.learningRate ?? 1e-3 }),
    train: data.train,
    epochs: config.epochs,
    batchSize: config.batchSize ?? 64,
    seed: config.seed ?? 0,
    progress: config.progress ?? "auto",
    label: config.logits === "relu" ? "ReLU logits" : "linear logits",
    hooks: [{
      onEpochEnd: async (record) => {
        const m = await measure(model, data.validation, record.epoch);
        measurements.push(m);
        // The validation numbers of the history are the correct ones.
        record.validationLoss = m.validationLoss;
        record.validationAccuracy = m.accuracy;
      },
    }],
  });
  return { config, model, history, measurements };
}

export interface TestReport {
  loss: number;
  accuracy: number;
  broadcastAccuracy: number;
  allZeroRows: number;
  deadClasses: number[];
  /** Recall per class: the fraction of each class's examples predicted correctly. */
  recallPerClass: number[];
  accuracyBound: number;
  permutation: { correct: PermutationTest; broadcast: PermutationTest };
}

/** The final measurements on the test split. */
export async function testReport(model: Sequential, test: Dataset, seed = 0): Promise<TestReport> {
  const logits = await predict(model, test);
  const predictions = argmaxRows(logits);
  const labels = test.labels!;
  const loss = meanCrossEntropy(logits, labels);
  const classes = test.classes!;
  const hits = new Array(classes).fill(0), totals = new Array(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    totals[labels[i]]++;
    if (predictions[i] === labels[i]) hits[labels[i]]++;
  }
  return {
    loss,
    accuracy: accuracy(predictions, labels),
    broadcastAccuracy: broadcastAccuracy(predictions, labels),
    allZeroRows: allZeroRowFraction(logits),
    deadClasses: deadLogitClasses(logits),
    recallPerClass: hits.map((h, c) => h / totals[c]),
    accuracyBound: accuracyLowerBound(loss),
    permutation: {
      correct: permutationTest(accuracy, predictions, labels, 5, seed),
      broadcast: permutationTest(broadcastAccuracy, predictions, labels, 5, seed),
    },
  };
}

export interface SweepRow {
  seed: number;
  logits: LogitActivation;
  testAccuracy: number;
  allZeroRows: number;
  deadClasses: number[];
}

/**
 * Mechanism (a) depends on luck: a logit unit that is pushed below zero for
 * every input never recovers (ReLU passes no gradient there), and its class can
 * then win only ties. Train both heads over several seeds at a brisk learning
 * rate and count how often that happens.
 */
export async function reluLogitSweep(
  data: ChapterData,
  options: { seeds: number[]; learningRate: number; epochs: number; backend?: Backend },
): Promise<SweepRow[]> {
  const rows: SweepRow[] = [];
  for (const seed of options.seeds) {
    for (const logits of ["relu", "linear"] as const) {
      const config: RunConfig = { logits, seed, epochs: options.epochs, backend: options.backend };
      const model = buildModel(config);
      await train({
        model,
        loss: new SoftmaxCrossEntropy(),
        optimizer: new Adam({ learningRate: options.learningRate }),
        train: data.train,
        epochs: options.epochs,
        batchSize: 64,
        seed,
        progress: "none",
      });
      const logitsRows = await predict(model, data.test);
      rows.push({
        seed,
        logits,
        testAccuracy: accuracy(argmaxRows(logitsRows), data.test.labels!),
        allZeroRows: allZeroRowFraction(logitsRows),
        deadClasses: deadLogitClasses(logitsRows),
      });
    }
  }
  return rows;
}

// The task ------------------------------------------------------------------------

/**
 * The budgets the task and the notebook use (the quick tests use smaller ones).
 * Two epochs show the symptom; the fix trains for six, enough to reach the
 * known accuracy of this architecture.
 */
export const REPRODUCE_RUN = { epochs: 2, learningRate: 1e-3 };
export const FIX_RUN = { epochs: 6, learningRate: 1e-3 };
export const SWEEP = { seeds: [0, 1, 2], learningRate: 1e-2, epochs: 2, trainCount: 10_000 };

if (import.meta.main) {
  const { runChapter } = await import("./cli.ts");
  const { learningCurves, lineChart, barChart } = await import("../lib/plot.ts");
  await runChapter(
    { number: 1, title: "ReLU before softmax, and an accuracy that cannot move" },
    Deno.args,
    async ({ seed, backend, report }) => {
      report.heading("The question");
      report.line(
        "A 784-128-10 network on Fashion-MNIST with ReLU on its last layer before softmax",
      );
      report.line(
        "cross-entropy: the loss falls, but the accuracy does not learn. The answer given:",
      );
      report.line(
        "keep the last layer linear. Two mechanisms can each give that symptom; we test both.",
      );

      const data = await loadChapterData();
      report.line(
        `Data: ${data.train.count} train, ${data.validation.count} validation, ${data.test.count} test.`,
      );

      report.heading("Reproduce: the asker's network, measured with two accuracies");
      const broken = await runExperiment(data, { logits: "relu", ...REPRODUCE_RUN, seed, backend });
      const row = (m: EpochMeasurement) =>
        `epoch ${m.epoch}: loss ${m.validationLoss.toFixed(3)}  accuracy ${
          m.accuracy.toFixed(3)
        }  ` +
        `broadcast "accuracy" ${m.broadcastAccuracy.toFixed(4)}  ` +
        `all-zero rows ${(100 * m.allZeroRows).toFixed(1)}%`;
      for (const m of broken.measurements) report.line("  " + row(m));

      report.heading("Diagnose");
      const brokenTest = await testReport(broken.model, data.test, seed);
      const { correct, broadcast } = brokenTest.permutation;
      report.table([
        ["loss at init (ln 10 = 2.303)", broken.measurements[0].validationLoss.toFixed(3)],
        ["test loss L after training", brokenTest.loss.toFixed(3)],
        ["any correct accuracy is at least 1 − L/ln 2", brokenTest.accuracyBound.toFixed(3)],
        ["broadcast metric on the test set", brokenTest.broadcastAccuracy.toFixed(4)],
        ["correct metric on the test set", brokenTest.accuracy.toFixed(4)],
        [
          "permutation test, correct metric",
          `${correct.observed.toFixed(3)} → ${correct.shuffledMean.toFixed(3)} shuffled`,
        ],
        [
          "permutation test, broadcast metric",
          `largest change ${broadcast.largestChange.toExponential(1)}`,
        ],
        ["all-zero logit rows (test)", `${(100 * brokenTest.allZeroRows).toFixed(2)}%`],
        ["classes whose logit is always 0", brokenTest.deadClasses.join(", ") || "none"],
      ]);
      report.line(
        `Mechanism (a) at a brisker learning rate (${SWEEP.learningRate}), ${SWEEP.seeds.length} seeds,`,
      );
      report.line(`${SWEEP.trainCount} training examples, ${SWEEP.epochs} epochs:`);
      const sweepData = await loadChapterData({ trainCount: SWEEP.trainCount });
      const sweep = await reluLogitSweep(sweepData, { ...SWEEP, backend });
      for (const r of sweep) {
        report.line(
          `  seed ${r.seed} ${r.logits.padEnd(6)} logits: test accuracy ${
            r.testAccuracy.toFixed(3)
          }, ` +
            `all-zero rows ${(100 * r.allZeroRows).toFixed(1)}%, dead classes [${
              r.deadClasses.join(", ")
            }]`,
        );
      }

      report.heading("Fix: linear logits, a correct metric");
      const fixed = await runExperiment(data, { logits: "linear", ...FIX_RUN, seed, backend });
      const fixedTest = await testReport(fixed.model, data.test, seed);
      report.table([
        [
          "validation accuracy after 2 epochs, ReLU / linear",
          `${broken.measurements[2].accuracy.toFixed(4)} / ${
            fixed.measurements[2].accuracy.toFixed(4)
          }`,
        ],
        ["test accuracy, ReLU logits", brokenTest.accuracy.toFixed(4)],
        ["test accuracy, linear logits", fixedTest.accuracy.toFixed(4)],
        [
          "test loss, ReLU / linear logits",
          `${brokenTest.loss.toFixed(3)} / ${fixedTest.loss.toFixed(3)}`,
        ],
      ]);

      await report.figure(
        "accuracy-two-metrics",
        lineChart({
          data: [broken, fixed].flatMap((run) =>
            run.measurements.flatMap((m) => [
              { x: m.epoch, y: m.accuracy, series: `${run.config.logits} logits: accuracy` },
              {
                x: m.epoch,
                y: m.broadcastAccuracy,
                series: `${run.config.logits} logits: broadcast metric`,
              },
            ])
          ),
          xTitle: "epoch",
          yTitle: "validation accuracy",
          title: "The broadcast metric sits at 0.1 whatever the model does",
        }),
      );
      await report.figure(
        "loss-curves",
        learningCurves([
          { label: "ReLU logits", epochs: broken.history.epochs },
          { label: "linear logits", epochs: fixed.history.epochs },
        ], { metric: "loss", title: "Cross-entropy falls with either head" }),
      );
      await report.figure(
        "sweep",
        barChart({
          data: sweep.map((r) => ({
            category: `seed ${r.seed}`,
            value: r.testAccuracy,
            group: `${r.logits} logits`,
          })),
          title: `Test accuracy at learning rate ${SWEEP.learningRate}`,
          yTitle: "test accuracy",
        }),
      );

      return {
        epochs: { reproduce: REPRODUCE_RUN.epochs, fix: FIX_RUN.epochs },
        initialLoss: broken.measurements[0].validationLoss,
        testAccuracy: { relu: brokenTest.accuracy, linear: fixedTest.accuracy },
        testLoss: { relu: brokenTest.loss, linear: fixedTest.loss },
        broadcastAccuracy: {
          relu: brokenTest.broadcastAccuracy,
          linear: fixedTest.broadcastAccuracy,
        },
        accuracyBound: brokenTest.accuracyBound,
        allZeroRows: brokenTest.allZeroRows,
        sweep,
      };
    },
  );
}
