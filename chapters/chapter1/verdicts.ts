/**
 * The verdict on the answer "keep the last layer linear", computed from the seed sweep and the
 * story run. Each part has its thresholds beside it and a reason built from the numbers.
 */
import type { SweepRow } from "./sweep.ts";
import type { Measurement } from "./reproduce.ts";

export type Grade = "right" | "partly right" | "wrong";

export interface Verdict {
  claim: string;
  grade: Grade;
  reason: string;
}

/** A run "shows the symptom" when its training loss (running mean) fell epoch after epoch by
 * at least this fraction each time... */
export const LOSS_FALL_PER_EPOCH = 0.01;
/** ...while its validation accuracy ended at least this far below the linear head of the same
 * seed and optimiser: the accuracy did not learn what the network can. */
export const BEHIND_LINEAR = 0.1;
/** The broadcast metric is "stuck at 1/10" when no measurement is further than this from 0.1. */
export const STUCK_AT_CHANCE = 0.002;
/** The story run's validation loss "fell" when it ended below this fraction of its start. */
export const STORY_LOSS_FALL = 0.5;

/** Loss falls epoch after epoch, accuracy does not learn: measured with the correct accuracy. */
export function showsSymptom(row: SweepRow, linear: SweepRow): boolean {
  const loss = row.trainLoss;
  const lossFell = loss.every((l, i) => i === 0 || l <= (1 - LOSS_FALL_PER_EPOCH) * loss[i - 1]);
  const behind = row.validationAccuracy <= linear.validationAccuracy - BEHIND_LINEAR;
  return loss.length >= 2 && lossFell && behind;
}

/** A head "lost classes" when some logit rows are all zero or some class is never predicted. */
export function lostClasses(row: SweepRow): boolean {
  return row.allZeroRows > 0 || row.neverPredicted.length > 0;
}

export interface AnswerEvidence {
  /** Sweep runs of each head. */
  runs: number;
  reluLostClasses: number;
  linearLostClasses: number;
  /** ReLU runs that show the symptom with a correct metric. */
  reluWithSymptom: number;
  linearWithSymptom: number;
  /** The story run: did its loss fall while the broadcast metric stayed at 1/10? */
  broadcastLossFell: boolean;
  broadcastLargestDistanceFromChance: number;
}

export function answerEvidence(sweep: SweepRow[], story: Measurement[]): AnswerEvidence {
  const relu = sweep.filter((r) => r.head === "relu");
  const linearOf = (r: SweepRow) =>
    sweep.find((l) => l.head === "linear" && l.seed === r.seed && l.optimizer === r.optimizer)!;
  const linear = sweep.filter((r) => r.head === "linear");
  return {
    runs: relu.length,
    reluLostClasses: relu.filter(lostClasses).length,
    linearLostClasses: linear.filter(lostClasses).length,
    reluWithSymptom: relu.filter((r) => showsSymptom(r, linearOf(r))).length,
    linearWithSymptom: linear.filter((r) => showsSymptom(r, r)).length,
    broadcastLossFell: story.at(-1)!.validationLoss <= STORY_LOSS_FALL * story[0].validationLoss,
    broadcastLargestDistanceFromChance: Math.max(
      ...story.map((m) => Math.abs(m.broadcastAccuracy - 0.1)),
    ),
  };
}

/** "A ReLU before the softmax is a bug": the ReLU head loses classes, the linear head never does. */
export function reluIsABugVerdict(e: AnswerEvidence): Verdict {
  const claim = "a ReLU before the softmax is a bug";
  const counts = `the ReLU head lost classes in ${e.reluLostClasses} of ${e.runs} runs, ` +
    `the linear head in ${e.linearLostClasses} of ${e.runs}`;
  if (e.reluLostClasses === 0) return { claim, grade: "wrong", reason: counts };
  if (e.linearLostClasses > 0) return { claim, grade: "partly right", reason: counts };
  return { claim, grade: "right", reason: counts };
}

/** "It explains the asker's picture": a ReLU head alone shows loss falling, accuracy flat. */
export function reluExplainsVerdict(e: AnswerEvidence): Verdict {
  const claim = "the ReLU head can give the asker's picture by itself";
  const counts = `with a correct metric, ${e.reluWithSymptom} of ${e.runs} ReLU runs ` +
    `(and ${e.linearWithSymptom} of ${e.runs} linear runs) showed the training loss falling ` +
    `epoch after epoch while the validation accuracy ended ${BEHIND_LINEAR} or more below the ` +
    "linear head's";
  if (e.reluWithSymptom === 0) return { claim, grade: "wrong", reason: counts };
  return { claim, grade: "right", reason: counts };
}

/** "Keep the last layer linear" as the whole answer: does another cause give the same picture? */
export function completenessVerdict(e: AnswerEvidence): Verdict {
  const claim = "the answer is the whole story (nothing else gives this picture)";
  const metricGivesIt = e.broadcastLossFell &&
    e.broadcastLargestDistanceFromChance < STUCK_AT_CHANCE;
  const detail = `the broadcast metric stayed within ${
    e.broadcastLargestDistanceFromChance.toFixed(4)
  } of 0.1 while the validation loss ${e.broadcastLossFell ? "fell" : "did not fall"} to ${
    100 * STORY_LOSS_FALL
  }% of its start or less`;
  if (metricGivesIt) {
    return {
      claim,
      grade: "wrong",
      reason: `${detail}: a metric bug gives the same description, and the answer offers no ` +
        "check that tells the two apart (the decision table does)",
    };
  }
  return { claim, grade: "right", reason: `${detail}: the metric bug does not give this picture` };
}

/** The answer as a whole: right if all parts are, wrong if the ReLU part is, else partly right. */
export function answerVerdict(e: AnswerEvidence): { overall: Verdict; parts: Verdict[] } {
  const parts = [reluIsABugVerdict(e), reluExplainsVerdict(e), completenessVerdict(e)];
  const claim = '"keep the last layer linear"';
  const [bug, explains, complete] = parts;
  let grade: Grade;
  if (bug.grade === "wrong" && explains.grade === "wrong") grade = "wrong";
  else if (parts.every((p) => p.grade === "right")) grade = "right";
  else grade = "partly right";
  const reason = bug.grade === "right" && explains.grade === "right" && complete.grade === "wrong"
    ? "right, and it may be the whole story; incomplete, because it gives the asker no way to " +
      "check, and a metric bug gives the same description"
    : parts.map((p) => `${p.claim}: ${p.grade}`).join("; ");
  return { overall: { claim, grade, reason }, parts };
}
