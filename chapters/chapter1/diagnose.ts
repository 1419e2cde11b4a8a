/**
 * The decision table: four measurements an asker can make on their own validation or test
 * set, each with its threshold, what it points to, and where it stops separating the two
 * mechanisms (a ReLU head that kills logits, and a metric that ignores the model).
 */
import {
  accuracy,
  allZeroRowFraction,
  argmaxRows,
  broadcastAccuracy,
  LN2,
  meanCrossEntropy,
  permutationTest,
  predictionHistogram,
} from "./metrics.ts";

/** What the asker can measure: their printed metric, and the model's logits on labelled data. */
export interface DecisionEvidence {
  /** The accuracy the asker's code printed. */
  reportedAccuracy: number;
  /** Mean cross-entropy on the same examples. */
  loss: number;
  /** Examples predicted as each class (argmax of the logits). */
  histogram: number[];
  /** Largest change of the printed metric when the labels are shuffled against the predictions. */
  reportedShuffleChange: number;
  /** Fraction of rows whose logits are all exactly zero. */
  allZeroRows: number;
}

export type PointsTo = "metric bug" | "ReLU head" | "the model" | "nothing";

export interface DecisionRow {
  question: string;
  measured: string;
  answer: "yes" | "no";
  pointsTo: PointsTo;
  reason: string;
}

/** Below this loss the bound 1 − L/ln 2 exceeds 1/10, so a correct accuracy cannot read 0.1. */
export const LOSS_EXCLUDING_CHANCE = 0.9 * LN2;
/** Predictions "vary" when no class takes more than this share of them. */
export const LARGEST_PREDICTED_SHARE = 0.5;
/** A printed metric "does not move" under shuffled labels when it changes by less than this. */
export const SHUFFLE_CHANGE = 0.005;

const f3 = (x: number) => x.toFixed(3);

/** Row 1: is the loss low enough for the bound accuracy ≥ 1 − L/ln 2 to exclude the printed value? */
export function boundRow(e: DecisionEvidence): DecisionRow {
  const bound = Math.max(0, 1 - e.loss / LN2);
  const question = `loss below 0.9 ln 2 = ${f3(LOSS_EXCLUDING_CHANCE)}?`;
  const measured = `L = ${f3(e.loss)}, bound ${f3(bound)}, printed ${f3(e.reportedAccuracy)}`;
  const answer = e.loss < LOSS_EXCLUDING_CHANCE ? "yes" : "no";
  if (e.reportedAccuracy < bound) {
    return {
      question,
      measured,
      answer,
      pointsTo: "metric bug",
      reason: `the printed ${f3(e.reportedAccuracy)} is below ${
        f3(bound)
      }, the least accuracy a loss of ${f3(e.loss)} allows`,
    };
  }
  return {
    question,
    measured,
    answer,
    pointsTo: "nothing",
    reason: `the bound ${f3(bound)} allows the printed ${f3(e.reportedAccuracy)}: silent`,
  };
}

/** Row 2: do the predictions vary, and does the printed metric move when labels are shuffled? */
export function variesRow(e: DecisionEvidence): DecisionRow {
  const total = e.histogram.reduce((a, b) => a + b, 0);
  const largestShare = Math.max(...e.histogram) / total;
  const distinct = e.histogram.filter((c) => c > 0).length;
  const varies = distinct >= 2 && largestShare <= LARGEST_PREDICTED_SHARE;
  const measured = `${distinct} classes predicted, largest share ${f3(largestShare)}; ` +
    `printed metric moves ${e.reportedShuffleChange.toFixed(4)} with labels shuffled`;
  const question = "do the predictions vary (and does the printed metric see the pairing)?";
  if (!varies) {
    return {
      question,
      measured,
      answer: "no",
      pointsTo: "the model",
      reason: `one class takes ${
        f3(largestShare)
      } of the predictions: the model is stuck, and any metric, shuffled or not, reads near chance, so the permutation test cannot tell a metric bug from this head`,
    };
  }
  if (e.reportedShuffleChange < SHUFFLE_CHANGE) {
    return {
      question,
      measured,
      answer: "yes",
      pointsTo: "metric bug",
      reason:
        "the predictions vary, yet the printed metric does not move when the labels are shuffled: it ignores which prediction goes with which label",
    };
  }
  return {
    question,
    measured,
    answer: "yes",
    pointsTo: "nothing",
    reason: "the predictions vary and the printed metric falls when the labels are shuffled",
  };
}

/** Row 3: are some logit rows all exactly zero? Only a clamped (ReLU) head makes them. */
export function zeroRowsRow(e: DecisionEvidence): DecisionRow {
  const measured = `${(100 * e.allZeroRows).toFixed(2)}% of rows`;
  const question = "all-zero logit rows?";
  return e.allZeroRows > 0
    ? {
      question,
      measured,
      answer: "yes",
      pointsTo: "ReLU head",
      reason:
        "a row of ten zeros is a tie that argmax gives to class 0; a linear head gives exact zeros with probability 0",
    }
    : {
      question,
      measured,
      answer: "no",
      pointsTo: "nothing",
      reason: "no row is dead (a single class can still be)",
    };
}

/** Row 4: does the prediction histogram miss classes? */
export function histogramRow(e: DecisionEvidence): DecisionRow {
  const missing = e.histogram.flatMap((count, c) => count === 0 ? [c] : []);
  const measured = `never predicted: ${missing.length ? missing.join(" ") : "none"}`;
  const question = "prediction histogram: classes never predicted?";
  return missing.length > 0
    ? {
      question,
      measured,
      answer: "yes",
      pointsTo: e.allZeroRows > 0 ? "ReLU head" : "the model",
      reason: `${missing.length} of ${e.histogram.length} classes are never predicted${
        e.allZeroRows > 0 ? ", with all-zero rows beside them: dead ReLU logits" : ""
      }`,
    }
    : {
      question,
      measured,
      answer: "no",
      pointsTo: "nothing",
      reason: "every class is predicted",
    };
}

export interface Diagnosis {
  rows: DecisionRow[];
  /** Mechanisms that at least one row points to. */
  supported: PointsTo[];
}

export function decisionTable(e: DecisionEvidence): Diagnosis {
  const rows = [boundRow(e), variesRow(e), zeroRowsRow(e), histogramRow(e)];
  const supported = [...new Set(rows.map((r) => r.pointsTo).filter((p) => p !== "nothing"))];
  return { rows, supported };
}

/** The evidence from logits and labels, with the printed metric the asker used. */
export function decisionEvidence(
  logits: Float32Array[],
  labels: ArrayLike<number>,
  printedMetric: "broadcast" | "correct",
  seed = 0,
): DecisionEvidence {
  const predictions = argmaxRows(logits);
  const metric = printedMetric === "broadcast" ? broadcastAccuracy : accuracy;
  const shuffle = permutationTest(metric, predictions, labels, 3, seed);
  return {
    reportedAccuracy: shuffle.observed,
    loss: meanCrossEntropy(logits, labels),
    histogram: predictionHistogram(predictions, logits[0].length),
    reportedShuffleChange: shuffle.largestChange,
    allZeroRows: allZeroRowFraction(logits),
  };
}
