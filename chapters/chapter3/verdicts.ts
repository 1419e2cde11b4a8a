/**
 * All of chapter 3's experiments in one call, a verdict on each answer the asker got, and the
 * key numbers as plain JSON.
 */
import {
  capacityExperiment,
  type CapacityResult,
  depthExperiment,
  type DepthPoint,
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

export interface Verdict {
  claim: string;
  verdict: "right" | "partly right" | "wrong";
  evidence: string;
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
  const oneLayer = capacity.byWidth.find((p) => p.width === 16)!.result.runs;
  const permutation = await permutationExperiment(oneLayer[0], problem);
  const seedPairs = await seedPairsExperiment(oneLayer, problem);
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

const f = (v: number, digits = 3) => formatNumber(v, digits);

function lowest<T>(items: T[], value: (item: T) => number): T {
  return items.reduce((best, item) => (value(item) < value(best) ? item : best));
}

/** A verdict on each answer the asker got, with the numbers that decide it. */
export function verdicts(results: ChapterResults): Verdict[] {
  return [
    scaleVerdict(results),
    capacityVerdict(results),
    labelNoiseVerdict(results),
    initVerdict(results),
    activationVerdict(results),
    learningRateVerdict(results),
    depthVerdict(results),
    convexityVerdict(results),
  ];
}

function scaleVerdict({ scale }: ChapterResults): Verdict {
  const shallow = scale.raw[0], deep = scale.raw.at(-1)!;
  const standardised = scale.standardised.find((s) => s.depth === 2) ?? scale.standardised[0];
  const saturated = f(100 * scale.saturatedAtInit.raw);
  return {
    claim: "Normalise the inputs",
    verdict: "right",
    evidence: `on the house-price scale the training MSE is ${f(shallow.train.mean)} with ` +
      `${shallow.depth} hidden layer and ${f(deep.train.mean)} with ${deep.depth} (in the ` +
      `function's units, floor ${NOISE_FLOOR}): ${saturated}% of the first layer's tanh units ` +
      `start saturated, and the output can climb at most ` +
      `$${f(scale.outputDollarsPerStepBound, 2)} per Adam step, so reaching the mean price ` +
      `would take ${f(scale.stepsToReachMeanPrice, 2)} steps. Standardised (inputs and ` +
      `targets), the same network with ${standardised.depth} hidden layers reaches ` +
      `${f(standardised.train.mean)}. Scale the targets too.`,
  };
}

function capacityVerdict({ capacity }: ChapterResults): Verdict {
  const narrowest = capacity.byWidth[0];
  const every = [...capacity.byWidth, ...capacity.byDepth];
  const bestValidation = lowest(every, (p) => p.result.validation.mean);
  const lowestTrain = lowest(every, (p) => p.result.train.mean);
  return {
    claim: "Insufficient capacity",
    verdict: "partly right",
    evidence: `one hidden unit ends at ${f(narrowest.result.train.mean)}, ` +
      `${f(narrowest.result.train.mean / NOISE_FLOOR, 2)} times the floor, and the training MSE ` +
      `falls with width until it reaches the floor. Past the floor, extra capacity fits the noise: ` +
      `the lowest training MSE, ${f(lowestTrain.result.train.mean)} ` +
      `(${lowestTrain.result.label}), is below the ${f(capacity.trainNoise)} the true function ` +
      `itself scores on these points, and its validation MSE, ` +
      `${f(lowestTrain.result.validation.mean)}, is worse than the best one, ` +
      `${f(bestValidation.result.validation.mean)} (${bestValidation.result.label}).`,
  };
}

function labelNoiseVerdict({ labelNoise }: ChapterResults): Verdict {
  const cleanest = labelNoise[0], noisiest = labelNoise.at(-1)!;
  return {
    claim: "Label noise",
    verdict: "right",
    evidence: `noise sets the floor: with σ = ${noisiest.noiseStd} the validation MSE is ` +
      `${f(noisiest.result.validation.mean)} (σ² = ${f(noisiest.noiseStd ** 2)}), with σ = ` +
      `${cleanest.noiseStd} it is ${f(cleanest.result.validation.mean)}, with the same network.`,
  };
}

function initVerdict({ init }: ChapterResults): Verdict {
  const find = (label: string, optimizer: string) =>
    init.find((p) => p.label === label && p.optimizer.name === optimizer)!;
  const tinyAdam = find("N(0, 0.0001²)", "adam"), tinyMomentum = find("N(0, 0.0001²)", "momentum");
  const glorot = find("Glorot", "adam"), large = find("N(0, 3²)", "adam");
  return {
    claim: "Initialise well (too small, too large; He/Glorot)",
    verdict: "partly right",
    evidence: `N(0, 0.0001²) passes on an output of std ${f(tinyAdam.atInit.outputStd)}: with ` +
      `SGD and momentum training never leaves the saddle at zero ` +
      `(${f(tinyMomentum.result.train.mean)}), but Adam, whose steps do not shrink with the ` +
      `gradient, recovers (${f(tinyAdam.result.train.mean)}; Glorot: ` +
      `${f(glorot.result.train.mean)}). N(0, 3²) saturates ` +
      `${f(100 * large.atInit.saturatedFraction)}% of the tanh outputs: it still fits the ` +
      `training points (${f(large.result.train.mean)}), with a staircase that generalises badly ` +
      `(validation ${f(large.result.validation.mean)}; ` +
      `Glorot: ${f(glorot.result.validation.mean)}).`,
  };
}

function activationVerdict({ output }: ChapterResults): Verdict {
  const find = (activation: string, outputActivation: string) =>
    output.find((p) => p.activation === activation && p.outputActivation === outputActivation)!;
  const sigmoidOutput = find("tanh", "sigmoid"), reluOutput = find("tanh", "relu");
  const reluBoth = find("relu", "relu"), reluHidden = find("relu", "identity");
  const tanhHidden = find("tanh", "identity");
  const runs = (p: OutputPoint) => p.result.runs.length;
  const atFloor = (p: OutputPoint) =>
    p.result.train.values.filter((v) => v <= 1.5 * NOISE_FLOOR).length;
  const worst = reluHidden.result.train.values.indexOf(reluHidden.result.train.max);
  const dead = reluHidden.deadHiddenFraction ?? [];
  const percent = (v: number) => `${f(100 * v, 2)}%`;
  const sigmoid = `A sigmoid output cannot leave (0, 1): its best possible MSE here is ` +
    `${f(sigmoidOutput.bestPossibleTrainMse)}, and it ends at ` +
    `${f(sigmoidOutput.result.train.mean)}.`;
  const relu = `A ReLU output cannot go negative (best possible ` +
    `${f(reluOutput.bestPossibleTrainMse)}), and it died, output 0 and gradient 0 for every ` +
    `input, in ${reluOutput.deadOutputRuns} of ${runs(reluOutput)} runs on tanh layers and ` +
    `${reluBoth.deadOutputRuns} of ${runs(reluBoth)} on ReLU layers (MSE ` +
    `${f(reluOutput.result.train.mean)}).`;
  const hidden = `ReLU hidden layers (He init) with a linear output do fit: ` +
    `${atFloor(reluHidden)} of ${runs(reluHidden)} runs end within 1.5 × the floor (best ` +
    `${f(reluHidden.result.train.min)}), against ${atFloor(tanhHidden)} of ${runs(tanhHidden)} ` +
    `with tanh. The worst ReLU run stalls at ${f(reluHidden.result.train.max)}, and not for dead ` +
    `units: ${percent(dead[worst])} of its hidden units are dead, against up to ` +
    `${percent(Math.max(...dead.filter((_, i) => i !== worst)))} in the other runs.`;
  return {
    claim: `Pick the right activation ("ReLU won't be a proper option")`,
    verdict: "partly right",
    evidence: `right about the output, wrong about the hidden layers. ${sigmoid} ${relu} ${hidden}`,
  };
}

function learningRateVerdict({ learningRate }: ChapterResults): Verdict {
  const slowest = learningRate[0];
  const recipe = learningRate.find((p) => p.learningRate === RECIPE.optimizer.learningRate) ??
    learningRate.at(-1)!;
  return {
    claim: "The learning rate may be too small",
    verdict: "right",
    evidence: `at ${slowest.learningRate} Adam ends at ${f(slowest.result.train.mean)} after ` +
      `${RECIPE.steps} steps, from ${f(slowest.result.initial.mean)}; ` +
      `at ${recipe.learningRate} it reaches ${f(recipe.result.train.mean)}. Adam's step is ` +
      `about the learning rate whatever the gradient, so ${RECIPE.steps} steps of ${slowest.learningRate} move each weight by at ` +
      `most about ${f(RECIPE.steps * slowest.learningRate)}.`,
  };
}

function depthVerdict({ depth }: ChapterResults): Verdict {
  const sigmoid = depth.filter((p) => p.activation === "sigmoid");
  const best = lowest(sigmoid, (p) => p.result.train.mean), deepest = sigmoid.at(-1)!;
  const tanh = depth.filter((p) => p.activation === "tanh");
  const tanhList = tanh.map((p) => `${p.depth}: ${f(p.result.train.mean)}`).join(", ");
  return {
    claim: "More layers fit better",
    verdict: "partly right",
    evidence: `in the same ${RECIPE.steps} steps, sigmoid networks of width 8 do best at ` +
      `${best.depth} layers (${f(best.result.train.mean)}) and worst at ${deepest.depth} ` +
      `(${f(deepest.result.train.mean)}); at initialisation their signal fades from ` +
      `${f(deepest.signalPerLayer[0])} in the first layer to ` +
      `${f(deepest.signalPerLayer.at(-1)!)} in the last. Tanh networks hold or improve with ` +
      `depth (${tanhList}).`,
  };
}

function convexityVerdict({ twoWeight, permutation }: ChapterResults): Verdict {
  const hessian = twoWeight.hessianAtMidpoint.map((v) => f(v)).join(" and ");
  return {
    claim: "The squared error is convex by definition",
    verdict: "wrong",
    evidence: `it is convex in the predictions (second derivative ` +
      `${f(twoWeight.predictionLossSecondDerivative)}), not in the weights: for ŷ = w2 w1 x on ` +
      `(1, 1), L(1, 1) = ${twoWeight.minimumA.loss} and L(−1, −1) = ${twoWeight.minimumB.loss}, ` +
      `but their midpoint has L(0, 0) = ${twoWeight.midpoint.loss}, a saddle (Hessian ` +
      `eigenvalues ${hessian}). Permuting ${permutation.units} hidden units gives the same loss ` +
      `(${f(permutation.trainMse)} and ${f(permutation.permutedTrainMse)}) at a weight vector ` +
      `${f(permutation.relativeWeightDistance)} times the weights' norm away; halfway, the loss ` +
      `is ${f(permutation.midpointTrainMse)}.`,
  };
}

/** The chapter's key numbers as plain JSON (means over seeds), for `--json`. */
export function summarise(results: ChapterResults): Record<string, unknown> {
  const { scale, capacity, labelNoise, init, output, learningRate, depth, twoWeight } = results;
  const means = (s: { train: Spread; validation: Spread }) => ({
    train: s.train.mean,
    validation: s.validation.mean,
  });
  return {
    noiseFloor: NOISE_FLOOR,
    trainNoise: results.problem.trainNoise,
    validationNoise: results.problem.validationNoise,
    scale: {
      raw: scale.raw.map((r) => ({ depth: r.depth, ...means(r) })),
      standardised: scale.standardised.map((r) => ({ depth: r.depth, ...means(r) })),
      saturatedAtInit: scale.saturatedAtInit,
    },
    capacity: [...capacity.byWidth, ...capacity.byDepth].map((p) => ({
      width: p.width,
      depth: p.depth,
      ...means(p.result),
    })),
    labelNoise: labelNoise.map((p) => ({ noiseStd: p.noiseStd, ...means(p.result) })),
    init: init.map((p) => ({
      init: p.label,
      optimizer: p.optimizer.name,
      ...means(p.result),
      ...p.atInit,
    })),
    output: output.map((p) => ({
      network: p.label,
      ...means(p.result),
      bestPossible: p.bestPossibleTrainMse,
      deadOutputRuns: p.deadOutputRuns,
    })),
    learningRate: learningRate.map((p) => ({ learningRate: p.learningRate, ...means(p.result) })),
    depth: depth.map((p) => ({ activation: p.activation, depth: p.depth, ...means(p.result) })),
    convexity: {
      minima: [twoWeight.minimumA.loss, twoWeight.minimumB.loss],
      midpoint: twoWeight.midpoint.loss,
      hessianAtMidpoint: twoWeight.hessianAtMidpoint,
      permutation: {
        trainMse: results.permutation.trainMse,
        permutedTrainMse: results.permutation.permutedTrainMse,
        midpointTrainMse: results.permutation.midpointTrainMse,
      },
      seedPairs: results.seedPairs.map((p) => ({
        seeds: p.seeds,
        trainMse: p.trainMse,
        midpointTrainMse: p.midpointTrainMse,
      })),
    },
    verdicts: verdicts(results).map(({ claim, verdict }) => ({ claim, verdict })),
  };
}
