/**
 * Verdicts on the answer the asker got, each computed from its evidence by a small function
 * with its thresholds beside it. `evidenceFrom(results)` gathers the measurements; each verdict
 * function takes only the numbers it needs, so tests can feed it evidence that should flip it.
 */
import { ANSWER, type ChapterResults, formatNumber, range, summariseRun } from "./experiments.ts";

export type Grade = "right" | "partly right" | "wrong";

export interface Verdict {
  claim: string;
  verdict: Grade;
  reason: string;
}

const f = (v: number, digits = 3) => formatNumber(v, digits);

// 1. The count ---------------------------------------------------------------------------------

/** Within 10% is right; within a factor of 2 ("on the order of") is partly right. */
export const COUNT_RIGHT_WITHIN = 0.1;
export const COUNT_ORDER_FACTOR = 2;

export function countVerdict(e: { claimed: number; counted: number; weights: number }): Verdict {
  const ratio = e.claimed / e.counted;
  const verdict: Grade = Math.abs(ratio - 1) <= COUNT_RIGHT_WITHIN
    ? "right"
    : ratio <= COUNT_ORDER_FACTOR && ratio >= 1 / COUNT_ORDER_FACTOR
    ? "partly right"
    : "wrong";
  return {
    claim: `"on the order of ${f(e.claimed)} weights"`,
    verdict,
    reason: `the model has ${f(e.weights)} weights and ${f(e.counted)} parameters in all; ` +
      `the claim is ${f(ratio, 3)} times that (sums of layer products, not one product)`,
  };
}

// 2. Which "layer2" ----------------------------------------------------------------------------

/** A layer's biases "move visibly" when their spread (std) ends above this; all start at 0. */
export const VISIBLE_SPREAD = 0.04;

export interface LayerReadingEvidence {
  /** Per seed, the end-of-run spread of linear1, linear2, linear3 biases. */
  spreads: number[][];
}

/** Which reading of "layer2" the measurements fit: the layers that move visibly in every seed. */
export function layerReading(e: LayerReadingEvidence): {
  moving: number[];
  reading: "output layer (0-based)" | "second hidden layer (1-based)" | "neither" | "both";
  reason: string;
} {
  const layers = e.spreads[0].length;
  const moving = Array.from({ length: layers }, (_, i) => i)
    .filter((i) => e.spreads.every((seed) => seed[i] > VISIBLE_SPREAD));
  const output = moving.includes(layers - 1), second = moving.includes(1);
  const reading = output && !second
    ? "output layer (0-based)"
    : second && !output
    ? "second hidden layer (1-based)"
    : output && second
    ? "both"
    : "neither";
  const spreadsOf = (i: number) => range(e.spreads.map((s) => s[i]));
  return {
    moving,
    reading,
    reason: `bias spread (std) at the end: linear1 ${spreadsOf(0)}, linear2 ${spreadsOf(1)}, ` +
      `output ${spreadsOf(layers - 1)} across ${e.spreads.length} seeds; visible means above ` +
      `${VISIBLE_SPREAD} in every seed`,
  };
}

// 3. The mechanism: overfitting ------------------------------------------------------------------

/** No overfitting: train and test accuracy within this of each other. */
export const NO_OVERFIT_GAP = 0.03;
/** Overfitting: train above test by at least this. */
export const OVERFIT_GAP = 0.05;

export interface MechanismEvidence {
  /** Per seed, the large run's (N = 30,000) train − test accuracy and output-bias spread. */
  largeGap: number[];
  largeSpread: number[];
  /** Per seed, the small run's (N = 500) gap and output-bias spread. */
  smallGap: number[];
  smallSpread: number[];
}

/**
 * "Overfitting" explains the picture if the biases move because the network memorises: then
 * they should move where it overfits and stay where it does not. Wrong if they move visibly in
 * a run that does not overfit; right if they move only in the run that does.
 */
export function mechanismVerdict(e: MechanismEvidence): Verdict {
  const largeFits = e.largeGap.every((g) => Math.abs(g) < NO_OVERFIT_GAP);
  const largeMoves = e.largeSpread.every((s) => s > VISIBLE_SPREAD);
  const smallOverfits = e.smallGap.every((g) => g >= OVERFIT_GAP);
  const onlySmallMoves = e.smallSpread.every((s) => s > VISIBLE_SPREAD) &&
    e.largeSpread.every((s) => s <= VISIBLE_SPREAD);
  const verdict: Grade = largeFits && largeMoves
    ? "wrong"
    : smallOverfits && onlySmallMoves
    ? "right"
    : "partly right";
  return {
    claim: '"the biases shift because the network overfits"',
    verdict,
    reason: `on N = 30,000 train and test accuracy differ by ${range(e.largeGap)} (no ` +
      `overfitting: under ${NO_OVERFIT_GAP}) and the output biases still spread to ` +
      `${range(e.largeSpread)}; on N = 500, which overfits (gap ${range(e.smallGap)}), they ` +
      `spread to ${range(e.smallSpread)}: the shift comes with training, not with overfitting`,
  };
}

// 4. Memorisation by the output biases ----------------------------------------------------------

/**
 * If the output biases held a memorised fit, zeroing them would cost the overfit network (N = 500)
 * at least this much more train accuracy than it costs a network that does not overfit.
 */
export const MEMORISATION_EXCESS = 0.05;

export interface MemorisationEvidence {
  /** Per seed, train accuracy with and without (zeroed) output biases, N = 500 and N = 30,000. */
  smallTrain: number[];
  smallTrainWithoutBias: number[];
  largeTrain: number[];
  largeTrainWithoutBias: number[];
  /** The best a bias-only model can do: the largest class share. */
  largestClassShare: number;
}

/**
 * Five biases do not depend on the input: alone they give every image the same scores, so they
 * reach at most the largest class share. Wrong if that is far below the memorised fit and zeroing
 * them costs the overfit network no more than the one that does not overfit, in every seed.
 */
export function memorisationVerdict(e: MemorisationEvidence): Verdict {
  const capBelowFit = e.smallTrain.every((a) => e.largestClassShare < a - OVERFIT_GAP);
  const smallDrops = e.smallTrain.map((a, i) => a - e.smallTrainWithoutBias[i]);
  const largeDrops = e.largeTrain.map((a, i) => a - e.largeTrainWithoutBias[i]);
  const excess = smallDrops.map((d, i) => d - largeDrops[i]);
  const noSpecificRole = excess.every((x) => x < MEMORISATION_EXCESS);
  return {
    claim: '"the last layer\'s biases alone can memorise the data"',
    verdict: capBelowFit && noSpecificRole ? "wrong" : "partly right",
    reason: `5 input-independent biases alone predict one class for every image: at most ` +
      `${f(e.largestClassShare)} accuracy, against the N = 500 network's train accuracy of ` +
      `${range(e.smallTrain)}. Zeroing them costs that overfit network ${range(smallDrops)} of ` +
      `its train accuracy and the N = 30,000 network, which does not overfit, ${
        range(largeDrops)
      }` +
      (noSpecificRole
        ? `: no more in the network that memorised (by less than ${MEMORISATION_EXCESS} in every ` +
          `seed); they set the intercepts, the memorised fit is in the weights`
        : `: more in the network that memorised in some seeds (by up to ${
          f(Math.max(...excess))
        })`),
  };
}

// 5. The advice: look at the learning curves ---------------------------------------------------

export interface AdviceEvidence {
  largeGap: number[];
  smallGap: number[];
}

/** Right if the curves tell the regimes apart in every seed: a gap on N = 500, none on 30,000. */
export function adviceVerdict(e: AdviceEvidence): Verdict {
  const separates = e.smallGap.every((g) => g >= OVERFIT_GAP) &&
    e.largeGap.every((g) => Math.abs(g) < NO_OVERFIT_GAP);
  return {
    claim: '"check the train and validation curves"',
    verdict: separates ? "right" : "partly right",
    reason: separates
      ? `the curves answer the question the histogram cannot: train − test accuracy is ` +
        `${range(e.smallGap)} on N = 500 (≥ ${OVERFIT_GAP}) and ${
          range(e.largeGap)
        } on N = 30,000 ` +
        `(< ${NO_OVERFIT_GAP})`
      : `the curves did not separate the two regimes here: gaps ${range(e.smallGap)} on N = 500 ` +
        `and ${range(e.largeGap)} on N = 30,000`,
  };
}

// All of them --------------------------------------------------------------------------------

export function evidenceFrom(results: ChapterResults) {
  const large = results.reproduce.map(summariseRun);
  const small = results.small.map(summariseRun);
  return {
    count: {
      claimed: ANSWER.claimedWeights,
      counted: results.parameterCount.total,
      weights: results.parameterCount.weights,
    },
    reading: { spreads: large.map((s) => s.biasSpread) },
    mechanism: {
      largeGap: large.map((s) => s.gap),
      largeSpread: large.map((s) => s.biasSpread[2]),
      smallGap: small.map((s) => s.gap),
      smallSpread: small.map((s) => s.biasSpread[2]),
    },
    memorisation: {
      smallTrain: small.map((s) => s.trainAccuracy),
      smallTrainWithoutBias: small.map((s) => s.trainAccuracyWithoutOutputBias),
      largeTrain: large.map((s) => s.trainAccuracy),
      largeTrainWithoutBias: large.map((s) => s.trainAccuracyWithoutOutputBias),
      largestClassShare: results.data.largestClassShare,
    },
    advice: { largeGap: large.map((s) => s.gap), smallGap: small.map((s) => s.gap) },
  };
}

export function verdicts(results: ChapterResults): Verdict[] {
  const e = evidenceFrom(results);
  return [
    countVerdict(e.count),
    mechanismVerdict(e.mechanism),
    memorisationVerdict(e.memorisation),
    adviceVerdict(e.advice),
  ];
}
