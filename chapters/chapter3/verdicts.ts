/**
 * All of chapter 3's experiments in one call, the evidence each verdict reads (plain numbers),
 * and the verdicts: small functions with their thresholds beside them. The tests feed them the
 * recorded evidence and evidence that flips them.
 */
import {
  capacityExperiment,
  type CapacityResult,
  depthExperiment,
  type DepthPoint,
  DIRECTIONS_SHARE,
  initExperiment,
  type InitPoint,
  labelNoiseExperiment,
  type LabelNoisePoint,
  learningRateExperiment,
  type LearningRatePoint,
  outputActivationExperiment,
  type OutputPoint,
  scaleExperiment,
  type ScaleResult,
} from "./checklist.ts";
import {
  permutationExperiment,
  type PermutationResult,
  type SeedPair,
  seedPairsExperiment,
  twoWeightExample,
  type TwoWeightResult,
} from "./convexity.ts";
import { makeProblem, NOISE_FLOOR, type Problem } from "./problem.ts";
import { formatNumber, RECIPE, type RunOptions, seedsFrom, type Spread } from "./training.ts";

export interface ChapterResults {
  problem: Problem;
  scale: ScaleResult;
  capacity: CapacityResult;
  labelNoise: LabelNoisePoint[];
  init: InitPoint[];
  output: OutputPoint[];
  learningRate: LearningRatePoint[];
  depth: DepthPoint[];
  twoWeight: TwoWeightResult;
  permutation: PermutationResult;
  seedPairs: SeedPair[];
}

/** Run every experiment of the chapter, in the order the notebook tells them. */
export async function runAllExperiments(
  options: RunOptions & { seed?: number } = {},
): Promise<ChapterResults> {
  const seed = options.seed ?? 0;
  const run = { ...options, seeds: options.seeds ?? seedsFrom(seed) };
  const problem = makeProblem({ seed });
  const scale = await scaleExperiment(problem, run);
  const capacity = await capacityExperiment(problem, run);
  const labelNoise = await labelNoiseExperiment({ ...run, seed });
  const init = await initExperiment(problem, run);
  const output = await outputActivationExperiment(problem, run);
  const learningRate = await learningRateExperiment(problem, run);
  const depth = await depthExperiment(problem, run);
  const twoWeight = await twoWeightExample();
  const oneLayer = oneHiddenLayerOf16(capacity);
  const permutation = await permutationExperiment(oneLayer.runs[0], problem);
  const seedPairs = await seedPairsExperiment(oneLayer.runs, problem);
  return {
    problem,
    scale,
    capacity,
    labelNoise,
    init,
    output,
    learningRate,
    depth,
    twoWeight,
    permutation,
    seedPairs,
  };
}

/** The network the convexity section permutes and compares across seeds. */
export function oneHiddenLayerOf16(capacity: CapacityResult) {
  const point = capacity.byWidth.find((p) => p.width === 16);
  if (!point) throw new Error("the capacity experiment has no 1 × 16 network; include width 16");
  return point.result;
}

// Thresholds, in multiples of the noise floor σ² = 0.01 ------------------------------------

/** A training MSE within 1.5 × the floor has fitted all there is to fit. */
export const AT_FLOOR = 1.5;
/** A training MSE at 10 × the floor or more is stuck: most of the signal is not learnt. */
export const STUCK = 10;

export type VerdictLabel = "right" | "partly right" | "wrong";

export interface Verdict {
  /** The claim, and whose it is: the answer's checklist, or the asker's own suspicion. */
  claim: string;
  whose: "answer" | "asker";
  verdict: VerdictLabel;
  /** Why, built from the numbers. */
  reason: string;
}

/** [lowest, highest] over seeds. */
export type Range = [number, number];

const f = (v: number, digits = 3) => formatNumber(v, digits);
const range = (spread: Spread): Range => [spread.min, spread.max];
const across = (r: Range) => (f(r[0]) === f(r[1]) ? f(r[0]) : `${f(r[0])}–${f(r[1])}`);
const floorTimes = (factor: number) => factor * NOISE_FLOOR;
const lowestOf = (ranges: Range[]) => Math.min(...ranges.map((r) => r[0]));
const highestOf = (ranges: Range[]) => Math.max(...ranges.map((r) => r[1]));
const spanOf = (ranges: Range[]): Range => [lowestOf(ranges), highestOf(ranges)];

// 1. Normalise the inputs ------------------------------------------------------------------

export interface ScaleEvidence {
  depths: number[];
  /** Training MSE in the function's units, per depth, over seeds. */
  rawAdam: Range[];
  rawSgd: Range[];
  targetVariance: number;
  standardised: Range[];
  saturatedAtInitRaw: number;
  outputDollarsPerStep: number;
  stepsToReachMeanPrice: number;
  steps: number;
}

export function scaleVerdict(e: ScaleEvidence): Verdict {
  const rawStuck = [...e.rawAdam, ...e.rawSgd].every((r) => r[0] >= floorTimes(STUCK));
  const fixed = e.standardised.every((r) => r[1] <= floorTimes(AT_FLOOR));
  const better = highestOf(e.standardised) < lowestOf([...e.rawAdam, ...e.rawSgd]) / STUCK;
  const verdict: VerdictLabel = rawStuck && fixed
    ? "right"
    : rawStuck && better
    ? "partly right"
    : "wrong";
  const targets = e.stepsToReachMeanPrice > e.steps
    ? ` The targets need it too: under Adam the output climbs at most $${
      f(e.outputDollarsPerStep, 2)
    } ` +
      `a step, ${f(e.stepsToReachMeanPrice, 2)} steps to reach the mean price.`
    : "";
  return {
    claim: "Normalise the inputs (the answer's house-price example)",
    whose: "answer",
    verdict,
    reason:
      `raw prices, ${e.depths.join(", ")} hidden layers: Adam ${across(spanOf(e.rawAdam))}, ` +
      `plain SGD ${across(spanOf(e.rawSgd))} (Var(y) = ${f(e.targetVariance)}: the mean price); ` +
      `${f(100 * e.saturatedAtInitRaw)}% of the first layer's units start saturated. ` +
      `Standardised inputs and targets: ${across(spanOf(e.standardised))} ` +
      `(${fixed ? "within" : "not within"} ${AT_FLOOR} × the floor).${targets}`,
  };
}

export function scaleEvidence({ scale }: ChapterResults): ScaleEvidence {
  return {
    depths: scale.depths,
    rawAdam: scale.raw.map((r) => range(r.train)),
    rawSgd: scale.rawSgd.map((r) => range(r.train)),
    targetVariance: scale.targetVariance,
    standardised: scale.standardised.map((r) => range(r.train)),
    saturatedAtInitRaw: scale.saturatedAtInit.raw,
    outputDollarsPerStep: scale.outputDollarsPerStepBound,
    stepsToReachMeanPrice: scale.stepsToReachMeanPrice,
    steps: RECIPE.steps,
  };
}

// 2. Capacity, and the two readings of "more layers" ----------------------------------------

export interface CapacityEvidence {
  narrowest: { label: string; train: Range };
  /** The network with the lowest mean training MSE, and the one with the lowest validation MSE. */
  lowestTrain: { label: string; train: Range; validation: Range };
  bestValidation: { label: string; validation: Range };
  /** The true function's own MSE on the training points: below it, a network fits noise. */
  trueFunctionTrainMse: number;
}

export function capacityVerdict(e: CapacityEvidence): Verdict {
  const limits = e.narrowest.train[0] >= floorTimes(STUCK);
  const fitsNoise = e.lowestTrain.train[1] < e.trueFunctionTrainMse;
  const verdict: VerdictLabel = !limits ? "wrong" : fitsNoise ? "partly right" : "right";
  const past = fitsNoise
    ? ` Past the floor more capacity fits the noise: ${e.lowestTrain.label} trains to ` +
      `${across(e.lowestTrain.train)}, below the true function's ${f(e.trueFunctionTrainMse)}, ` +
      `and validates at ${across(e.lowestTrain.validation)} (best: ${e.bestValidation.label}, ` +
      `${across(e.bestValidation.validation)}).`
    : "";
  return {
    claim: "Insufficient capacity",
    whose: "answer",
    verdict,
    reason: `${e.narrowest.label}: ${across(e.narrowest.train)}, ` +
      `at least ${f(e.narrowest.train[0] / NOISE_FLOOR, 3)} times the floor.${past}`,
  };
}

export function capacityEvidence({ capacity }: ChapterResults): CapacityEvidence {
  const every = [...capacity.byWidth, ...capacity.byDepth];
  const lowest = (value: (p: (typeof every)[number]) => number) =>
    every.reduce((best, p) => (value(p) < value(best) ? p : best));
  const train = lowest((p) => p.result.train.mean),
    validation = lowest((p) => p.result.validation.mean);
  return {
    narrowest: {
      label: capacity.byWidth[0].result.label,
      train: range(capacity.byWidth[0].result.train),
    },
    lowestTrain: {
      label: train.result.label,
      train: range(train.result.train),
      validation: range(train.result.validation),
    },
    bestValidation: {
      label: validation.result.label,
      validation: range(validation.result.validation),
    },
    trueFunctionTrainMse: capacity.trainNoise,
  };
}

export interface DepthRepresentsEvidence {
  /** Tanh networks of 16 units per layer: training MSE per depth, over seeds. */
  depths: number[];
  train: Range[];
}

/** "More layers can represent more": does the deepest network fit the training points closer? */
export function depthRepresentsVerdict(e: DepthRepresentsEvidence): Verdict {
  const shallow = e.train[0], deep = e.train.at(-1)!;
  const everySeed = deep[1] < shallow[0], onAverage = deep[0] + deep[1] < shallow[0] + shallow[1];
  const verdict: VerdictLabel = everySeed ? "right" : onAverage ? "partly right" : "wrong";
  return {
    claim: "More layers can represent more (a deeper network fits the training points closer)",
    whose: "asker",
    verdict,
    reason: `tanh, 16 per layer: ${e.depths[0]} layer ${across(shallow)}, ${e.depths.at(-1)} ` +
      `layers ${across(deep)}${everySeed ? ", lower on every seed" : ""}; that is fitting the ` +
      `training points, not the function: see capacity.`,
  };
}

export function depthRepresentsEvidence({ capacity }: ChapterResults): DepthRepresentsEvidence {
  return {
    depths: capacity.byDepth.map((p) => p.depth),
    train: capacity.byDepth.map((p) => range(p.result.train)),
  };
}

export interface DepthBudgetEvidence {
  steps: number;
  width: number;
  /** Per activation: training MSE of the shallowest and the deepest network, over seeds, and its mean. */
  byActivation: {
    activation: string;
    depths: [number, number];
    shallow: Range;
    deep: Range;
    shallowMean: number;
    deepMean: number;
  }[];
}

/** "More layers train better in a fixed budget": per activation, deepest against shallowest. */
export function depthBudgetVerdict(e: DepthBudgetEvidence, mechanism?: Mechanism): Verdict {
  // Better on average over seeds; worse only when every deep seed is worse than every shallow one.
  const better = e.byActivation.filter((a) => a.deepMean < a.shallowMean);
  const worse = e.byActivation.filter((a) => a.deep[0] > a.shallow[1]);
  const verdict: VerdictLabel = worse.length === 0 && better.length === e.byActivation.length
    ? "right"
    : better.length === 0
    ? "wrong"
    : "partly right";
  const each = e.byActivation.map((a) =>
    `${a.activation} ${a.depths[0]} layer ${across(a.shallow)}, ${a.depths[1]} layers ${
      across(a.deep)
    }`
  );
  const why = mechanism && worse.some((a) => a.activation === "sigmoid") &&
      mechanism.mechanism !== "not explained"
    ? ` The deep sigmoid stack: ${mechanism.reason}`
    : "";
  return {
    claim: `More layers train better in a fixed budget (${
      e.steps.toLocaleString("en-US")
    } steps, ${e.width} per layer)`,
    whose: "asker",
    verdict,
    reason: `${each.join("; ")}.${why}`,
  };
}

export function depthBudgetEvidence({ depth }: ChapterResults): DepthBudgetEvidence {
  const activations = [...new Set(depth.map((p) => p.activation))];
  return {
    steps: depth[0].result.setting.steps,
    width: depth[0].result.setting.hidden[0],
    byActivation: activations.map((activation) => {
      const points = depth.filter((p) => p.activation === activation);
      const [shallow, deep] = [points[0], points.at(-1)!];
      return {
        activation,
        depths: [shallow.depth, deep.depth] as [number, number],
        shallow: range(shallow.result.train),
        deep: range(deep.result.train),
        shallowMean: shallow.result.train.mean,
        deepMean: deep.result.train.mean,
      };
    }),
  };
}

// The deep sigmoid plateau: what the measurements after training support --------------------

export interface MechanismEvidence {
  label: string;
  /** Three simple fits to compare the plateau with. */
  constantFit: number;
  linearFit: number;
  oneHiddenUnit: Range;
  /** After training, one entry per seed. */
  seeds: {
    seed: number;
    train: number;
    /** The step from which the MSE stays within 1% of its final value. */
    plateauFromStep: number;
    /** The fewest principal directions (holding DIRECTIONS_SHARE of the variance) of any hidden layer. */
    bottleneck: number;
    /** ‖ΔW1‖ / ‖W1‖, and the fraction of saturated outputs in the first hidden layer. */
    firstLayerMovement: number;
    firstLayerSaturated: number;
  }[];
}

/** Below this the first layer did not learn: a vanishing gradient. */
export const VANISHED_MOVEMENT = 0.1;
/** A network whose narrowest layer carries at most this many directions is collapsed. */
export const FEW_DIRECTIONS = 2;
/** The plateau counts as "a fit of X" within this relative distance of X. */
export const SAME_FIT = 0.05;

export interface Mechanism {
  mechanism: "vanishing gradient" | "the mean" | "collapsed to few directions" | "not explained";
  /** Seeds whose narrowest layer carries one direction; of those, seeds at one hidden unit's MSE. */
  oneDirectionSeeds: number;
  atOneUnitSeeds: number;
  reason: string;
}

export function deepSigmoidMechanism(e: MechanismEvidence): Mechanism {
  const near = (value: number, target: number) => Math.abs(value / target - 1) <= SAME_FIT;
  const trains = e.seeds.map((s) => s.train);
  const rangeOf = (values: number[]): Range => [Math.min(...values), Math.max(...values)];
  const one = e.seeds.filter((s) => s.bottleneck <= 1);
  const fits = `(predicting the mean ${f(e.constantFit)}, the best line ${f(e.linearFit)}, one ` +
    `hidden unit ${across(e.oneHiddenUnit)})`;
  const moved = rangeOf(e.seeds.map((s) => s.firstLayerMovement));
  const oneDirectionSeeds = one.length;
  if (moved[1] < VANISHED_MOVEMENT) {
    return {
      mechanism: "vanishing gradient",
      oneDirectionSeeds,
      atOneUnitSeeds: 0,
      reason: `the first layer's weights moved at most ${f(moved[1])} of their size.`,
    };
  }
  if (trains.every((v) => near(v, e.constantFit))) {
    return {
      mechanism: "the mean",
      oneDirectionSeeds,
      atOneUnitSeeds: 0,
      reason: `it ends at ${across(rangeOf(trains))}, the MSE of predicting the mean ${fits}.`,
    };
  }
  const oneUnit = (e.oneHiddenUnit[0] + e.oneHiddenUnit[1]) / 2;
  const steps = (seeds: typeof e.seeds) => {
    const [low, high] = rangeOf(seeds.map((s) => s.plateauFromStep));
    return low === high ? `${low}` : `${low}–${high}`;
  };
  const atOneUnit = one.filter((s) => near(s.train, oneUnit));
  if (e.seeds.every((s) => s.bottleneck <= FEW_DIRECTIONS) && atOneUnit.length > 0) {
    const rest = e.seeds.filter((s) => !atOneUnit.includes(s));
    const others = rest.length > 0
      ? ` ${rest.length === 1 ? "The other seed" : `The other ${rest.length}`} (directions in ` +
        `the narrowest layer: ${rest.map((s) => s.bottleneck).join(", ")}) ` +
        `end${rest.length === 1 ? "s" : ""} at ` +
        `${across(rangeOf(rest.map((s) => s.train)))}, within 1% of that only from step ` +
        `${steps(rest)}.`
      : "";
    return {
      mechanism: "collapsed to few directions",
      oneDirectionSeeds,
      atOneUnitSeeds: atOneUnit.length,
      reason: `not a vanishing gradient: Adam moved the first layer's weights ` +
        `${across(moved)} times their initial size. After training, in ${atOneUnit.length} of ` +
        `${e.seeds.length} seeds some hidden layer carries a single function of x ` +
        `(${100 * DIRECTIONS_SHARE}% of its variance in one direction) and the network ends at ` +
        `the MSE of one hidden unit: ${across(rangeOf(atOneUnit.map((s) => s.train)))}, within ` +
        `1% of it from step ${steps(atOneUnit)} on ${fits}.` +
        others,
    };
  }
  return {
    mechanism: "not explained",
    oneDirectionSeeds,
    atOneUnitSeeds: 0,
    reason: `it ends at ${across(rangeOf(trains))} ${fits}: no seed at one hidden unit's MSE, ` +
      `or some seed's narrowest layer carries more than ${FEW_DIRECTIONS} directions.`,
  };
}

/** Reads only the depth and capacity experiments and the problem, so a notebook cell can call it early. */
export function mechanismEvidence(
  { depth, capacity, problem }: Pick<ChapterResults, "depth" | "capacity" | "problem">,
): MechanismEvidence {
  const deepest = depth.filter((p) => p.activation === "sigmoid").at(-1)!;
  const oneUnit = capacity.byWidth.find((p) => p.width === 1) ?? capacity.byWidth[0];
  return {
    label: deepest.result.label,
    constantFit: problem.constantModelMse.mean,
    linearFit: problem.linearFitMse,
    oneHiddenUnit: range(oneUnit.result.train),
    seeds: deepest.trained.map((t, i) => ({
      seed: t.seed,
      train: deepest.result.train.values[i],
      plateauFromStep: t.plateauFromStep,
      bottleneck: Math.min(...t.directions),
      firstLayerMovement: t.weightMovement[0],
      firstLayerSaturated: t.saturatedFraction[0],
    })),
  };
}

// 3. Label noise -----------------------------------------------------------------------------

export interface LabelNoiseEvidence {
  points: { noiseStd: number; validation: Range; trueFunctionValidation: number }[];
}

/**
 * "Just above σ²": at least the true function's own validation MSE, at most
 * NOISE_SLACK × σ² + NOISE_MARGIN (a network fits a little of the noise, more as σ grows).
 */
export const NOISE_SLACK = 2;
export const NOISE_MARGIN = 0.01;

export function labelNoiseVerdict(e: LabelNoiseEvidence): Verdict {
  const ceiling = (noiseStd: number) => NOISE_SLACK * noiseStd ** 2 + NOISE_MARGIN;
  const follows = e.points.every((p) =>
    p.validation[0] >= p.trueFunctionValidation && p.validation[1] <= ceiling(p.noiseStd)
  );
  const rises = e.points.every((p, i) =>
    i === 0 || p.validation[0] > e.points[i - 1].validation[1]
  );
  const verdict: VerdictLabel = follows && rises ? "right" : rises ? "partly right" : "wrong";
  return {
    claim: "Label noise",
    whose: "answer",
    verdict,
    reason:
      e.points.map((p) =>
        `σ = ${p.noiseStd}: validation ${across(p.validation)} (σ² = ${f(p.noiseStd ** 2)})`
      )
        .join("; ") +
      (follows
        ? `: on every seed between the true function's own MSE and ${NOISE_SLACK} σ² + ${NOISE_MARGIN}, so noise sets the floor.`
        : rises
        ? ": it rises with σ, but not always just above σ²."
        : ": it does not follow σ²."),
  };
}

export function labelNoiseEvidence({ labelNoise }: ChapterResults): LabelNoiseEvidence {
  return {
    points: labelNoise.map((p) => ({
      noiseStd: p.noiseStd,
      validation: range(p.result.validation),
      trueFunctionValidation: p.validationNoise,
    })),
  };
}

// 4. Initialisation --------------------------------------------------------------------------

export interface InitEvidence {
  targetVariance: number;
  tinyMomentum: Range;
  tinyAdam: Range;
  glorotAdam: Range;
  unitNormalAdam: Range;
  /** Validation MSE under Adam: N(0, 3²) per seed, against Glorot's range. */
  largeValidation: number[];
  glorotValidation: Range;
  largeSaturatedAtInit: number;
}

/** Large weights "hurt" when they validate this many times worse than Glorot. */
export const LARGE_HURTS = 3;

export function initVerdict(e: InitEvidence): Verdict {
  const tinyStuckMomentum = e.tinyMomentum[0] >= floorTimes(STUCK);
  const tinyStuckAdam = e.tinyAdam[0] >= floorTimes(STUCK);
  const hurtSeeds =
    e.largeValidation.filter((v) => v >= LARGE_HURTS * e.glorotValidation[1]).length;
  const largeHurts = hurtSeeds > 0;
  const matters = tinyStuckMomentum || tinyStuckAdam || largeHurts;
  const verdict: VerdictLabel = !matters
    ? "wrong"
    : tinyStuckMomentum && tinyStuckAdam && largeHurts
    ? "right"
    : "partly right";
  return {
    claim: "Initialise well (not too small, not too large)",
    whose: "answer",
    verdict,
    reason: `N(0, 0.0001²): momentum SGD ${across(e.tinyMomentum)} (the mean: ` +
      `${f(e.targetVariance)}), ${tinyStuckAdam ? "Adam too" : "but Adam leaves the saddle"} ` +
      `(${across(e.tinyAdam)}; Glorot ${across(e.glorotAdam)}; N(0, 1) ${
        across(e.unitNormalAdam)
      }). ` +
      `N(0, 3²) saturates ${
        f(100 * e.largeSaturatedAtInit)
      }% of the tanh outputs at the start and ` +
      `validates at ${across([Math.min(...e.largeValidation), Math.max(...e.largeValidation)])} ` +
      `against Glorot's ${across(e.glorotValidation)}: over ${LARGE_HURTS} × Glorot's worst in ` +
      `${hurtSeeds} of ${e.largeValidation.length} seeds. How much the scale matters depends on ` +
      `the optimiser.`,
  };
}

export function initEvidence({ init, problem }: ChapterResults): InitEvidence {
  const find = (label: string, optimizer: string) => {
    const point = init.find((p) => p.label === label && p.optimizer.name === optimizer);
    if (!point) throw new Error(`initEvidence: no run of "${label}" with ${optimizer}`);
    return point;
  };
  const large = find("N(0, 3²)", "adam");
  return {
    targetVariance: problem.constantModelMse.mean,
    tinyMomentum: range(find("N(0, 0.0001²)", "momentum").result.train),
    tinyAdam: range(find("N(0, 0.0001²)", "adam").result.train),
    glorotAdam: range(find("Glorot", "adam").result.train),
    unitNormalAdam: range(find("N(0, 1)", "adam").result.train),
    largeValidation: large.result.validation.values,
    glorotValidation: range(find("Glorot", "adam").result.validation),
    largeSaturatedAtInit: large.atInit.saturatedFraction,
  };
}

// 5. The output activation -------------------------------------------------------------------

export interface OutputEvidence {
  /** Bounded outputs on regression targets that go negative: sigmoid in (0, 1), ReLU ≥ 0. */
  sigmoid: { train: Range; bestPossible: number };
  relu: { train: Range; bestPossible: number; deadRuns: number; runs: number };
  linear: { train: Range; runs: number };
  /** Our addition, not graded: ReLU hidden layers (He init) with a linear output. */
  reluHidden: { atFloorRuns: number; runs: number };
}

export function outputVerdict(e: OutputEvidence): Verdict {
  const boundedFail = e.sigmoid.train[0] >= floorTimes(STUCK) &&
    e.relu.train[0] >= floorTimes(STUCK);
  const linearFits = e.linear.train[1] <= floorTimes(AT_FLOOR);
  const verdict: VerdictLabel = boundedFail && linearFits
    ? "right"
    : boundedFail
    ? "partly right"
    : "wrong";
  return {
    claim: `Pick the right output activation ("ReLU won't be a proper option")`,
    whose: "answer",
    verdict,
    reason: `a sigmoid output cannot leave (0, 1): best possible ${f(e.sigmoid.bestPossible)}, ` +
      `trained ${across(e.sigmoid.train)}. A ReLU output cannot go negative (best possible ` +
      `${f(e.relu.bestPossible)}) and died, output 0 for every input, in ${e.relu.deadRuns} of ` +
      `${e.relu.runs} runs (${across(e.relu.train)}). A linear output: ${across(e.linear.train)}` +
      `${linearFits ? `, within ${AT_FLOOR} × the floor on every seed` : ""}. (Not the answer's ` +
      `point: ReLU hidden layers with a linear output reach ${AT_FLOOR} × the floor in ` +
      `${e.reluHidden.atFloorRuns} of ${e.reluHidden.runs} runs.)`,
  };
}

export function outputEvidence({ output }: ChapterResults): OutputEvidence {
  const find = (activation: string, outputActivation: string) => {
    const p = output.find((p) =>
      p.activation === activation && p.outputActivation === outputActivation
    );
    if (!p) {
      throw new Error(`outputEvidence: no run of ${activation} hidden, ${outputActivation} output`);
    }
    return p;
  };
  const relus = output.filter((p) => p.outputActivation === "relu");
  const sigmoid = find("tanh", "sigmoid"), linear = find("tanh", "identity");
  const reluHidden = find("relu", "identity");
  return {
    sigmoid: { train: range(sigmoid.result.train), bestPossible: sigmoid.bestPossibleTrainMse },
    relu: {
      train: [
        Math.min(...relus.map((p) => p.result.train.min)),
        Math.max(...relus.map((p) => p.result.train.max)),
      ],
      bestPossible: relus[0].bestPossibleTrainMse,
      deadRuns: relus.reduce((n, p) => n + p.deadOutputRuns, 0),
      runs: relus.reduce((n, p) => n + p.result.runs.length, 0),
    },
    linear: { train: range(linear.result.train), runs: linear.result.runs.length },
    reluHidden: {
      atFloorRuns: reluHidden.result.train.values.filter((v) => v <= floorTimes(AT_FLOOR)).length,
      runs: reluHidden.result.runs.length,
    },
  };
}

// 6. The learning rate -----------------------------------------------------------------------

export interface LearningRateEvidence {
  steps: number;
  slowest: { learningRate: number; initial: Range; train: Range };
  recipe: { learningRate: number; train: Range };
}

/** "Barely moved": the slowest rate keeps at least this share of its initial MSE. */
export const BARELY_MOVED = 0.5;

export function learningRateVerdict(e: LearningRateEvidence): Verdict {
  const stalls = e.slowest.train[0] >= BARELY_MOVED * e.slowest.initial[0];
  const recipeFits = e.recipe.train[1] <= floorTimes(AT_FLOOR);
  const verdict: VerdictLabel = stalls && recipeFits
    ? "right"
    : stalls || recipeFits
    ? "partly right"
    : "wrong";
  return {
    claim: "The learning rate may be too small",
    whose: "answer",
    verdict,
    reason:
      `Adam at ${e.slowest.learningRate}: ${across(e.slowest.train)} after ${
        e.steps.toLocaleString("en-US")
      } steps ` +
      `from ${across(e.slowest.initial)}, each weight moved at most about ` +
      `${f(e.steps * e.slowest.learningRate)}; at ${e.recipe.learningRate}: ${
        across(e.recipe.train)
      }.`,
  };
}

export function learningRateEvidence({ learningRate }: ChapterResults): LearningRateEvidence {
  const slowest = learningRate[0];
  const recipe = learningRate.find((p) => p.learningRate === RECIPE.optimizer.learningRate) ??
    learningRate.at(-1)!;
  return {
    steps: slowest.result.setting.steps,
    slowest: {
      learningRate: slowest.learningRate,
      initial: range(slowest.result.initial),
      train: range(slowest.result.train),
    },
    recipe: { learningRate: recipe.learningRate, train: range(recipe.result.train) },
  };
}

// 7. Convexity: the asker's suspicion ---------------------------------------------------------

export interface ConvexityEvidence {
  /** L = (w2 w1 − 1)²: the loss at the two minima and at their midpoint. */
  twoWeightEnds: [number, number];
  twoWeightMidpoint: number;
  /** A trained 1 × 16 network and its permuted copy: the loss at each end and halfway. */
  permutationEnds: [number, number];
  permutationMidpoint: number;
  /** The same network from every seed: training MSEs, and the lowest loss halfway between two. */
  seedTrain: Range;
  lowestSeedBarrier: number;
}

/** A midpoint this many times above its ends is a barrier, not noise. */
export const BARRIER = 10;

export function convexityVerdict(e: ConvexityEvidence): Verdict {
  const nonConvex = e.twoWeightMidpoint > Math.max(...e.twoWeightEnds) &&
    e.permutationMidpoint > BARRIER * Math.max(...e.permutationEnds);
  // The suspicion is that non-convexity keeps the error high: some seed would end stuck.
  const someSeedStuck = e.seedTrain[1] >= floorTimes(STUCK);
  const verdict: VerdictLabel = !nonConvex ? "wrong" : someSeedStuck ? "right" : "partly right";
  const ends = `every seed's network ends at ${across(e.seedTrain)}` +
    (e.seedTrain[1] <= floorTimes(AT_FLOOR) ? `, within ${AT_FLOOR} × the floor` : "");
  return {
    claim: "The loss is not convex, and that is why the error stays high",
    whose: "asker",
    verdict,
    reason: `${nonConvex ? "not convex" : "no sign of non-convexity"} in the weights: for ` +
      `ŷ = w2 w1 x on (1, 1) the minima have L = ${
        e.twoWeightEnds.map((v) => f(v)).join(" and ")
      } ` +
      `and their midpoint ${f(e.twoWeightMidpoint)}; a trained network and its permuted copy ` +
      `(${f(e.permutationEnds[0])}) have ${f(e.permutationMidpoint)} halfway, and two seeds at ` +
      `least ${f(e.lowestSeedBarrier)}. ` +
      (someSeedStuck
        ? `And a seed ends stuck: ${across(e.seedTrain)}, ${STUCK} × the floor or more.`
        : `But it is not the obstacle: ${ends}, none stuck.`) +
      " (It is convex in the predictions.)",
  };
}

export function convexityEvidence(results: ChapterResults): ConvexityEvidence {
  const { twoWeight, permutation, seedPairs, capacity } = results;
  return {
    twoWeightEnds: [twoWeight.minimumA.loss, twoWeight.minimumB.loss],
    twoWeightMidpoint: twoWeight.midpoint.loss,
    permutationEnds: [permutation.trainMse, permutation.permutedTrainMse],
    permutationMidpoint: permutation.midpointTrainMse,
    seedTrain: range(oneHiddenLayerOf16(capacity).train),
    lowestSeedBarrier: Math.min(...seedPairs.map((p) => p.midpointTrainMse)),
  };
}

// All of them -----------------------------------------------------------------------------

export interface ChapterEvidence {
  scale: ScaleEvidence;
  capacity: CapacityEvidence;
  depthRepresents: DepthRepresentsEvidence;
  depthBudget: DepthBudgetEvidence;
  mechanism: MechanismEvidence;
  labelNoise: LabelNoiseEvidence;
  init: InitEvidence;
  output: OutputEvidence;
  learningRate: LearningRateEvidence;
  convexity: ConvexityEvidence;
}

/** Every verdict's evidence, as plain numbers (what the tests record and flip). */
export function chapterEvidence(results: ChapterResults): ChapterEvidence {
  return {
    scale: scaleEvidence(results),
    capacity: capacityEvidence(results),
    depthRepresents: depthRepresentsEvidence(results),
    depthBudget: depthBudgetEvidence(results),
    mechanism: mechanismEvidence(results),
    labelNoise: labelNoiseEvidence(results),
    init: initEvidence(results),
    output: outputEvidence(results),
    learningRate: learningRateEvidence(results),
    convexity: convexityEvidence(results),
  };
}

/** A verdict on each answer and on each of the asker's suspicions, in the notebook's order. */
export function verdictsFrom(e: ChapterEvidence): Verdict[] {
  return [
    scaleVerdict(e.scale),
    capacityVerdict(e.capacity),
    depthRepresentsVerdict(e.depthRepresents),
    depthBudgetVerdict(e.depthBudget, deepSigmoidMechanism(e.mechanism)),
    labelNoiseVerdict(e.labelNoise),
    initVerdict(e.init),
    outputVerdict(e.output),
    learningRateVerdict(e.learningRate),
    convexityVerdict(e.convexity),
  ];
}

export function verdicts(results: ChapterResults): Verdict[] {
  return verdictsFrom(chapterEvidence(results));
}

/** The chapter's key numbers as plain JSON, for `--json`: the evidence and the verdicts. */
export function summarise(results: ChapterResults): Record<string, unknown> {
  const evidence = chapterEvidence(results);
  return {
    seeds: results.scale.rawDollars[0].runs.map((r) => r.seed),
    noiseFloor: NOISE_FLOOR,
    trainNoise: results.problem.trainNoise,
    validationNoise: results.problem.validationNoise,
    evidence,
    mechanism: deepSigmoidMechanism(evidence.mechanism).mechanism,
    verdicts: verdictsFrom(evidence).map(({ claim, verdict }) => ({ claim, verdict })),
  };
}
