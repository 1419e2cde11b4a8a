/**
 * A verdict on each part of the answer, "it's the initialisation: zero weights are symmetric,
 * use random init", computed from the measurements with its thresholds beside it.
 */
import type { SymmetryStudy } from "./diagnose.ts";
import type { Fix } from "./fix.ts";
import { ASKER_END_LOSS, ASKER_PRECISION, ASKER_START_LOSS } from "./question.ts";
import type { Reproduction } from "./reproduce.ts";

export type VerdictLabel = "right" | "partly right" | "wrong";

export interface Verdict {
  claim: string;
  verdict: VerdictLabel;
  reason: string;
}

/** What the zero-initialised reproduction says about the asker's two numbers. */
export interface CauseEvidence {
  /** Σ_k H(p_k) of the training digits: where a biases-only network ends. */
  classEntropy: number;
  /** The zero-initialised network's loss before its first step, and its gap to Σ_k H(p_k) at the end. */
  startLoss: number;
  plateauGap: number;
  /** Largest weight-gradient norm of the zero network, any layer, any step. */
  largestWeightGradientNorm: number;
}

export const CAUSE_THRESHOLDS = {
  /** 3.24 is Σ H(p_k) if they differ by less than this (two decimals, printed truncated or rounded). */
  endTolerance: 0.01,
  /** The network has reached its plateau when it is this close to Σ H(p_k). */
  onPlateau: 0.01,
  /** A start within half a unit of the asker's last decimal reads as 6.98. */
  startTolerance: ASKER_PRECISION,
} as const;

/**
 * "It's the initialisation": zero init explains 3.24 when the zero network ends on Σ H(p_k)
 * with zero weight gradients and Σ H(p_k) reads as 3.24; it explains 6.98 when its start does.
 * Both: right; only the end: partly right; neither: wrong.
 */
export function causeVerdict(evidence: CauseEvidence, thresholds = CAUSE_THRESHOLDS): Verdict {
  const endGap = Math.abs(evidence.classEntropy - ASKER_END_LOSS);
  const startGap = Math.abs(evidence.startLoss - ASKER_START_LOSS);
  const biasesOnly = evidence.largestWeightGradientNorm === 0 &&
    Math.abs(evidence.plateauGap) < thresholds.onPlateau;
  const explainsEnd = biasesOnly && endGap < thresholds.endTolerance;
  const explainsStart = startGap < thresholds.startTolerance;
  const end = explainsEnd
    ? `explains ${ASKER_END_LOSS}: only the output biases learn (weight gradients 0), ending ` +
      `${evidence.plateauGap.toFixed(4)} above Σ H(p_k) = ${evidence.classEntropy.toFixed(4)}, ` +
      `${endGap.toFixed(4)} from ${ASKER_END_LOSS}`
    : `does not explain ${ASKER_END_LOSS}: Σ H(p_k) = ${evidence.classEntropy.toFixed(4)}, ` +
      `gap at the end ${evidence.plateauGap.toFixed(4)}, largest weight gradient ` +
      `${evidence.largestWeightGradientNorm}`;
  const start = explainsStart
    ? `explains ${ASKER_START_LOSS}: it starts at ${evidence.startLoss.toFixed(4)}`
    : `does not explain ${ASKER_START_LOSS}: exact zeros start at ${
      evidence.startLoss.toFixed(4)
    }, ${startGap.toFixed(4)} away`;
  return {
    claim: "it's the initialisation (all-zero weights caused 6.98 -> 3.24)",
    verdict: explainsEnd && explainsStart ? "right" : explainsEnd ? "partly right" : "wrong",
    reason: `zero init ${end}; it ${start}`,
  };
}

/** What the two zero-initialised networks show about symmetry. */
export interface MechanismEvidence {
  /** The asker's activation, f(0) = 0: largest weight-gradient norm and hidden-unit spread. */
  fZeroWeightGradientNorm: number;
  fZeroUnitSpread: number;
  /** Sigmoid hidden units, f(0) = 1/2: largest hidden-weight gradient norm and unit spread. */
  sigmoidWeightGradientNorm: number;
  sigmoidUnitSpread: number;
}

export const MECHANISM_THRESHOLDS = {
  /** A weight gradient at or below this is none (zero init gives exactly 0). */
  zeroGradient: 1e-12,
  /** Units closer than this are copies of each other (exactly 0 on both CPU backends). */
  symmetricSpread: 1e-6,
} as const;

/**
 * "Zero weights are symmetric": right if the asker's network gets weight gradients that are
 * equal across units; partly right if its gradients are exactly zero (no symmetry to break;
 * symmetry is what f(0) ≠ 0 gives); wrong if the units come apart on their own.
 */
export function mechanismVerdict(
  evidence: MechanismEvidence,
  thresholds = MECHANISM_THRESHOLDS,
): Verdict {
  const claim = "zero weights are symmetric (the mechanism)";
  const fZeroGradients = evidence.fZeroWeightGradientNorm > thresholds.zeroGradient;
  const fZeroSymmetric = evidence.fZeroUnitSpread <= thresholds.symmetricSpread;
  const sigmoidSymmetric = evidence.sigmoidWeightGradientNorm > thresholds.zeroGradient &&
    evidence.sigmoidUnitSpread <= thresholds.symmetricSpread;
  if (!fZeroSymmetric) {
    return {
      claim,
      verdict: "wrong",
      reason: `the asker's hidden units come apart from zeros (spread ${evidence.fZeroUnitSpread})`,
    };
  }
  if (fZeroGradients) {
    return {
      claim,
      verdict: "right",
      reason: `with f(0) = 0 the weight gradients (norm up to ${
        evidence.fZeroWeightGradientNorm.toExponential(2)
      }) are equal across units (spread ${evidence.fZeroUnitSpread})`,
    };
  }
  return {
    claim,
    verdict: "partly right",
    reason: `with f(0) = 0 every weight gradient is ${evidence.fZeroWeightGradientNorm}: zero, ` +
      `not symmetric. ` +
      (sigmoidSymmetric
        ? `Symmetry is what f(0) ≠ 0 gives: sigmoid units get gradients (up to ${
          evidence.sigmoidWeightGradientNorm.toFixed(4)
        }) and stay copies (spread ${evidence.sigmoidUnitSpread})`
        : `and sigmoid units did not stay symmetric either (spread ${evidence.sigmoidUnitSpread})`),
  };
}

/** The fix on each seed: test accuracy and final training loss of the He-initialised network. */
export interface CureEvidence {
  seeds: number[];
  testAccuracies: number[];
  finalLosses: number[];
  /** What one class for every input scores on the test digits, and the plateau Σ_k H(p_k). */
  testMajorityFrequency: number;
  classEntropy: number;
}

export const CURE_THRESHOLDS = {
  /** Learning: test accuracy at least this far above the majority class... */
  accuracyAboveMajority: 0.5,
  /** ...and a training loss at least this far below Σ H(p_k) (it learned from the pixels). */
  lossBelowPlateau: 1,
} as const;

/** "Use random init": right if He init learns on every seed, partly right on some, wrong on none. */
export function cureVerdict(evidence: CureEvidence, thresholds = CURE_THRESHOLDS): Verdict {
  const n = evidence.seeds.length;
  if (n === 0) throw new Error("cureVerdict: no seeds in the evidence");
  const learned = evidence.seeds.filter((_, i) =>
    evidence.testAccuracies[i] >=
      evidence.testMajorityFrequency + thresholds.accuracyAboveMajority &&
    evidence.finalLosses[i] <= evidence.classEntropy - thresholds.lossBelowPlateau
  ).length;
  const accuracies = `${Math.min(...evidence.testAccuracies).toFixed(3)}-${
    Math.max(...evidence.testAccuracies).toFixed(3)
  }`;
  const losses = `${Math.min(...evidence.finalLosses).toFixed(3)}-${
    Math.max(...evidence.finalLosses).toFixed(3)
  }`;
  return {
    claim: "use random init (the cure)",
    verdict: learned === n ? "right" : learned > 0 ? "partly right" : "wrong",
    reason: `He init learned in ${learned} of ${n} seeds: test accuracy ${accuracies} against ` +
      `${evidence.testMajorityFrequency} for one class, training loss ${losses} against ` +
      `Σ H(p_k) = ${evidence.classEntropy.toFixed(4)}`,
  };
}

// The evidence, read from the chapter's results ---------------------------------------------

export function causeEvidence(reproduction: Reproduction): CauseEvidence {
  return {
    classEntropy: reproduction.classEntropy,
    startLoss: reproduction.run.startLoss,
    plateauGap: reproduction.plateauGap,
    largestWeightGradientNorm: reproduction.largestWeightGradientNorm,
  };
}

export function mechanismEvidence(
  reproduction: Reproduction,
  study: SymmetryStudy,
): MechanismEvidence {
  return {
    fZeroWeightGradientNorm: reproduction.largestWeightGradientNorm,
    fZeroUnitSpread: Math.max(
      0,
      ...reproduction.log.select("unit-spread").map((row) => row.value),
    ),
    sigmoidWeightGradientNorm: Math.max(...study.hiddenWeightGradientNorms.map((row) => row.value)),
    sigmoidUnitSpread: Math.max(...study.spread.map((row) => row.weightSpread)),
  };
}

export function cureEvidence(fixed: Fix, reproduction: Reproduction): CureEvidence {
  return {
    seeds: fixed.seeds,
    testAccuracies: fixed.he.map((run) => run.testAccuracy),
    finalLosses: fixed.he.map((run) => run.finalLoss),
    testMajorityFrequency: reproduction.testMajorityFrequency,
    classEntropy: reproduction.classEntropy,
  };
}

/** The three verdicts on the answer, in the order it makes its points. */
export function answerVerdicts(
  reproduction: Reproduction,
  study: SymmetryStudy,
  fixed: Fix,
): Verdict[] {
  return [
    causeVerdict(causeEvidence(reproduction)),
    mechanismVerdict(mechanismEvidence(reproduction, study)),
    cureVerdict(cureEvidence(fixed, reproduction)),
  ];
}
