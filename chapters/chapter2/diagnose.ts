/**
 * Diagnose: what separates the causes of a loss that flattens on Σ_k H(p_k). Three
 * measurements: the weight-gradient norms (zero, or not), the spread between hidden units
 * (symmetric, or not), and whether the loss is still falling (a small learning rate). Then the
 * sweep over what the asker changed, and the case the answer's word "symmetric" really
 * describes: hidden units with f(0) ≠ 0.
 */
import type { Backend } from "../../lib/backend/backend.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import type { Linear } from "../../lib/layers/linear.ts";
import { mlp, type Sequential } from "../../lib/layers/sequential.ts";
import { gradientMonitor, MonitorLog } from "../../lib/monitors.ts";
import { argmaxRows } from "../../lib/metrics.ts";
import { evaluate, predict } from "../../lib/train.ts";
import {
  ASKER_NETWORK,
  type HiddenActivation,
  lossFor,
  type NetworkConfig,
  type Run,
  type RunOptions,
  trainNetwork,
} from "./network.ts";
import {
  biasOnlyLossCurve,
  classFrequencyEntropy,
  datasetFrequencies,
  majorityClass,
} from "./question.ts";
import type { Fix } from "./fix.ts";
import { hiddenUnitSpread, largest, type Reproduction, unitSpreadMonitor } from "./reproduce.ts";
import { chapterBackend } from "../backend.ts";

/**
 * The monitors' readings at a few steps, one row per step: each parameter's
 * gradient norm, the spread between hidden units, and loss − Σ H(p_k).
 */
export function monitorSummary(
  log: MonitorLog,
  steps: number[],
): Record<string, number>[] {
  return steps.map((step) => {
    const row: Record<string, number> = { step };
    for (const entry of log.rows.filter((r) => r.step === step)) {
      if (entry.metric === "gradient-norm") row[`‖∇ ${entry.layer}‖`] = entry.value;
      if (entry.metric === "unit-spread") row[`spread ${entry.layer}`] = entry.value;
      if (entry.metric === "loss-minus-class-entropy") row["loss − Σ H(p_k)"] = entry.value;
    }
    return row;
  });
}

export interface SweepEntry {
  label: string;
  config: NetworkConfig;
  lossCurve: number[];
  finalLoss: number;
  plateauGap: number;
  largestWeightGradientNorm: number;
  trainAccuracy: number;
  distinctPredictions: number;
}

export interface Sweep {
  trainCount: number;
  classEntropy: number;
  majorityFrequency: number;
  entries: SweepEntry[];
  /** Largest difference between the loss curves of runs that share a learning rate. */
  largestDifferenceAtEqualLearningRate: number;
  /** Largest difference between any run's curve and the ten-bias model's. */
  largestDifferenceFromBiasOnly: number;
}

/**
 * What the asker changed, one thing at a time from 784-32-10 leaky ReLU at lr 1:
 * the learning rate, the depth, the width and the activation (all with f(0) = 0).
 * Steps per run: `stepsAtLearningRateOne` / lr; the default 36 is enough for the
 * ten-bias model to be within 0.001 of the plateau (smaller values are for quick checks).
 */
export function sweepConfigs(
  stepsAtLearningRateOne = 36,
): { label: string; config: NetworkConfig }[] {
  if (!Number.isInteger(stepsAtLearningRateOne) || stepsAtLearningRateOne < 1) {
    throw new Error(
      `sweepConfigs: stepsAtLearningRateOne must be a positive integer, got ${stepsAtLearningRateOne}`,
    );
  }
  const stepsAt = (learningRate: number) => Math.ceil(stepsAtLearningRateOne / learningRate);
  const base: NetworkConfig = { ...ASKER_NETWORK, learningRate: 1, steps: stepsAt(1) };
  const withRate = (learningRate: number) => ({
    ...base,
    learningRate,
    steps: stepsAt(learningRate),
  });
  return [
    { label: "lr 0.3", config: withRate(0.3) },
    { label: "lr 1 (base: 784-32-10 leaky ReLU)", config: base },
    { label: "lr 3", config: withRate(3) },
    { label: "2 hidden layers", config: { ...base, hiddenSizes: [32, 32] } },
    { label: "4 hidden layers", config: { ...base, hiddenSizes: [32, 32, 32, 32] } },
    { label: "width 8", config: { ...base, hiddenSizes: [8] } },
    { label: "width 128", config: { ...base, hiddenSizes: [128] } },
    { label: "ReLU", config: { ...base, activation: "relu" } },
    { label: "tanh", config: { ...base, activation: "tanh" } },
  ];
}

/**
 * Train each configuration from zeros with a gradient monitor on every step,
 * and compare every loss curve with the others and with the ten-bias model's.
 */
export async function zeroInitSweep(
  trainSet: Dataset,
  test: Dataset,
  options: RunOptions & {
    configs?: { label: string; config: NetworkConfig }[];
    /** Called after each run, e.g. to show progress. */
    onEntry?: (entry: SweepEntry) => void;
  } = {},
): Promise<Sweep> {
  const frequencies = datasetFrequencies(trainSet);
  const classEntropy = classFrequencyEntropy(frequencies);
  const entries: SweepEntry[] = [];
  let largestDifferenceFromBiasOnly = 0;
  for (const { label, config } of options.configs ?? sweepConfigs()) {
    const log = new MonitorLog();
    const run = await trainNetwork(config, trainSet, test, {
      ...options,
      hooks: [gradientMonitor({ log, every: 1 })],
    });
    const trainPredictions = argmaxRows(await predict(run.model, trainSet));
    const entry: SweepEntry = {
      label,
      config,
      lossCurve: run.lossCurve,
      finalLoss: run.finalLoss,
      plateauGap: run.finalLoss - classEntropy,
      largestWeightGradientNorm: largest(
        log,
        "gradient-norm",
        (layer) => layer.endsWith(".weight"),
      ),
      trainAccuracy: run.trainAccuracy,
      distinctPredictions: new Set(trainPredictions).size,
    };
    const biasOnly = biasOnlyLossCurve(frequencies, config.learningRate, config.steps);
    entry.lossCurve.forEach((loss, i) => {
      largestDifferenceFromBiasOnly = Math.max(
        largestDifferenceFromBiasOnly,
        Math.abs(loss - biasOnly[i]),
      );
    });
    entries.push(entry);
    options.onEntry?.(entry);
  }
  let largestDifferenceAtEqualLearningRate = 0;
  for (const a of entries) {
    for (const b of entries) {
      if (a.config.learningRate !== b.config.learningRate) continue;
      a.lossCurve.forEach((loss, i) => {
        largestDifferenceAtEqualLearningRate = Math.max(
          largestDifferenceAtEqualLearningRate,
          Math.abs(loss - b.lossCurve[i]),
        );
      });
    }
  }
  return {
    trainCount: trainSet.count,
    classEntropy,
    majorityFrequency: majorityClass(frequencies).frequency,
    entries,
    largestDifferenceAtEqualLearningRate,
    largestDifferenceFromBiasOnly,
  };
}

/**
 * A one-hidden-layer network whose hidden units are identical is a network of
 * width 1: unit 0's incoming weights, and outgoing weights summed over the units.
 */
export async function collapseToWidthOne(
  model: Sequential,
  backend: Backend = chapterBackend(),
): Promise<Sequential> {
  const linears = model.layers.filter((layer) => layer.kind === "linear") as Linear[];
  if (linears.length !== 2) {
    throw new Error(`collapseToWidthOne: needs one hidden layer, got ${linears.length - 1}`);
  }
  const [hidden, output] = linears;
  const activation = model.layers[1].kind as HiddenActivation;
  const narrow = mlp([hidden.inFeatures, 1, output.outFeatures], {
    activation,
    outputActivation: model.layers.at(-1)!.kind === "sigmoid" ? "sigmoid" : "identity",
    weightInit: "zeros",
    backend,
  });
  const [narrowHidden, narrowOutput] = narrow.layers.filter((layer) =>
    layer.kind === "linear"
  ) as Linear[];
  const units = hidden.outFeatures;
  const w1 = await hidden.weight.value.data();
  const w2 = await output.weight.value.data();
  const firstColumn = Float32Array.from({ length: hidden.inFeatures }, (_, i) => w1[i * units]);
  const summedRows = Float32Array.from({ length: output.outFeatures }, (_, k) => {
    let total = 0;
    for (let j = 0; j < units; j++) total += w2[j * output.outFeatures + k];
    return total;
  });
  narrowHidden.weight.value = backend.fromValues(firstColumn, [hidden.inFeatures, 1], "float32");
  narrowHidden.bias.value = backend.fromValues(
    [(await hidden.bias.value.data())[0]],
    [1],
    "float32",
  );
  narrowOutput.weight.value = backend.fromValues(summedRows, [1, output.outFeatures], "float32");
  narrowOutput.bias.value = backend.fromValues(
    await output.bias.value.data(),
    [output.outFeatures],
    "float32",
  );
  return narrow;
}

/** The symmetry study's network: the answer's, with sigmoid hidden units (f(0) = 1/2). */
export const SIGMOID_ZERO: NetworkConfig = { ...ASKER_NETWORK, activation: "sigmoid", steps: 600 };

/** The symmetric network at one step: is it still at the plateau, and are its units still copies? */
export interface SymmetryCheckpoint {
  step: number;
  trainLoss: number;
  /** trainLoss − Σ_k H(p_k) of the training digits: negative once a feature has been learned. */
  plateauGap: number;
  trainAccuracy: number;
  testAccuracy: number;
  unitSpread: number;
}

export interface GlorotRun {
  seed: number;
  model: Sequential;
  unitSpread: number;
  testAccuracy: number;
  finalLoss: number;
}

export interface SymmetryStudy {
  trainCount: number;
  classEntropy: number;
  majorityFrequency: number;
  testMajorityFrequency: number;
  zeroInit: Run;
  /** Gradient norm of the hidden weights at each step (0 at step 1, then not). */
  hiddenWeightGradientNorms: { step: number; value: number }[];
  checkpoints: SymmetryCheckpoint[];
  /** The first step after which the training loss is below Σ_k H(p_k) (null: never, in this run). */
  firstStepBelowPlateau: number | null;
  spread: { layer: string; weightSpread: number; biasSpread: number }[];
  largestHiddenWeight: number;
  /** The trained net collapsed to one hidden unit: its accuracy and its largest output difference. */
  collapsedTestAccuracy: number;
  collapsedLargestOutputDifference: number;
  /** The fix for sigmoid hidden units, one run per seed: Glorot initialisation. */
  glorot: GlorotRun[];
  glorotSteps: number;
  log: MonitorLog;
}

/**
 * Sigmoid hidden units from zeros: gradients that are not zero, but the same for every unit.
 * `config` (default SIGMOID_ZERO, for `steps` steps if given) is the zero-initialised network,
 * read at `checkpoints`; the Glorot runs are the same network with Glorot weights, one per seed,
 * for `glorotSteps` steps.
 */
export async function symmetryStudy(
  trainSet: Dataset,
  test: Dataset,
  options: RunOptions & {
    config?: NetworkConfig;
    steps?: number;
    checkpoints?: number[];
    glorotSteps?: number;
    seeds?: number[];
  } = {},
): Promise<SymmetryStudy> {
  const backend = options.backend ?? chapterBackend();
  const baseConfig = options.config ?? SIGMOID_ZERO;
  const config = { ...baseConfig, steps: options.steps ?? baseConfig.steps };
  if (config.hiddenSizes.length !== 1) {
    throw new Error(
      `symmetryStudy: needs one hidden layer, got hidden sizes [${config.hiddenSizes}]`,
    );
  }
  const checkpointSteps = options.checkpoints ?? [60, config.steps];
  for (const step of checkpointSteps) {
    if (!Number.isInteger(step) || step < 1 || step > config.steps) {
      throw new Error(
        `symmetryStudy: checkpoints must be steps from 1 to ${config.steps}, got ${step}`,
      );
    }
  }
  const classEntropy = classFrequencyEntropy(datasetFrequencies(trainSet));
  const loss = lossFor(config.output);
  const log = new MonitorLog();
  const checkpoints: SymmetryCheckpoint[] = [];
  const zeroInit = await trainNetwork(config, trainSet, test, {
    ...options,
    hooks: [
      gradientMonitor({ log, every: 1 }),
      unitSpreadMonitor(log, 10),
      {
        async afterUpdate(context) {
          if (!checkpointSteps.includes(context.step)) return;
          const model = context.model as Sequential;
          const onTrain = await evaluate(model, loss, trainSet);
          const onTest = await evaluate(model, loss, test);
          checkpoints.push({
            step: context.step,
            trainLoss: onTrain.loss,
            plateauGap: onTrain.loss - classEntropy,
            trainAccuracy: onTrain.accuracy!,
            testAccuracy: onTest.accuracy!,
            unitSpread: (await hiddenUnitSpread(model))[0].weightSpread,
          });
        },
      },
      ...(options.hooks ?? []),
    ],
  });
  const spread = await hiddenUnitSpread(zeroInit.model);
  const hiddenWeights = await (zeroInit.model.layers[0] as Linear).weight.value.data();
  const collapsed = await collapseToWidthOne(zeroInit.model, backend);
  const wideOutputs = await predict(zeroInit.model, test);
  const narrowOutputs = await predict(collapsed, test);
  let collapsedLargestOutputDifference = 0;
  wideOutputs.forEach((row, r) =>
    row.forEach((value, k) => {
      collapsedLargestOutputDifference = Math.max(
        collapsedLargestOutputDifference,
        Math.abs(value - narrowOutputs[r][k]),
      );
    })
  );
  const collapsedTest = await evaluate(collapsed, loss, test);
  const glorotSteps = options.glorotSteps ?? 60;
  const glorot: GlorotRun[] = [];
  for (const seed of options.seeds ?? [options.seed ?? 0]) {
    const run = await trainNetwork(
      { ...config, weightInit: "glorot-normal", steps: glorotSteps },
      trainSet,
      test,
      { seed, backend },
    );
    glorot.push({
      seed,
      model: run.model,
      unitSpread: (await hiddenUnitSpread(run.model))[0].weightSpread,
      testAccuracy: run.testAccuracy,
      finalLoss: run.finalLoss,
    });
  }
  return {
    trainCount: trainSet.count,
    classEntropy,
    majorityFrequency: majorityClass(datasetFrequencies(trainSet)).frequency,
    testMajorityFrequency: majorityClass(datasetFrequencies(test)).frequency,
    zeroInit,
    hiddenWeightGradientNorms: log.select("gradient-norm", "linear1.weight").map((
      { step, value },
    ) => ({ step, value })),
    checkpoints,
    firstStepBelowPlateau: (() => {
      const step = zeroInit.lossCurve.findIndex((loss) => loss < classEntropy);
      return step === -1 ? null : step;
    })(),
    spread,
    largestHiddenWeight: Math.max(...hiddenWeights.map(Math.abs)),
    collapsedTestAccuracy: collapsedTest.accuracy!,
    collapsedLargestOutputDifference,
    glorot,
    glorotSteps,
    log,
  };
}

// Which cause flattens the loss: a decision table ---------------------------------------------

/** What the three monitors read on one run. */
export interface FlatLossEvidence {
  /** Largest gradient norm of any weight matrix at any step. */
  largestWeightGradientNorm: number;
  /** Largest |W[i, j] − W[i, 0]| between hidden units at the end (0: every unit a copy). */
  unitSpread: number;
  /** Loss − Σ_k H(p_k) at the end: ≈ 0 on the plateau, negative once features are learned. */
  plateauGap: number;
  /** How much the loss fell over the last tenth of the steps. */
  recentFall: number;
}

/** Thresholds of the decision table. */
export const FLAT_LOSS_THRESHOLDS = {
  /** A weight gradient this small is none: zero init gives exactly 0. */
  zeroGradient: 1e-12,
  /** Units closer than this are copies (exactly 0 on both CPU backends; margin for rounding). */
  symmetricSpread: 1e-6,
  /** Within this of Σ_k H(p_k), the network knows only the class frequencies. */
  onPlateau: 0.01,
  /** A loss that fell more than this over the last tenth of the steps is still learning. */
  stillFalling: 1e-3,
} as const;

export type FlatLossCause =
  | "zero gradients"
  | "symmetric units"
  | "still falling"
  | "learning features"
  | "stuck elsewhere";

/**
 * The decision table, first row that applies: zero weight gradients → only the output biases
 * learn; gradients but identical units → a width-1 network; distinct units below the plateau →
 * it is learning; on the plateau and still falling → a slow learning rate; else none of these.
 */
export function flatLossCause(
  evidence: FlatLossEvidence,
  thresholds = FLAT_LOSS_THRESHOLDS,
): { cause: FlatLossCause; reason: string } {
  const { largestWeightGradientNorm: gradient, unitSpread, plateauGap, recentFall } = evidence;
  if (gradient <= thresholds.zeroGradient) {
    return {
      cause: "zero gradients",
      reason: `largest weight gradient ${gradient} ≤ ${thresholds.zeroGradient}`,
    };
  }
  if (unitSpread <= thresholds.symmetricSpread) {
    return {
      cause: "symmetric units",
      reason: `weight gradient ${gradient.toExponential(2)} but unit spread ${unitSpread} ≤ ` +
        `${thresholds.symmetricSpread}`,
    };
  }
  if (plateauGap <= -thresholds.onPlateau) {
    return {
      cause: "learning features",
      reason: `distinct units (spread ${unitSpread.toFixed(4)}), loss ${
        (-plateauGap).toFixed(4)
      } below Σ H(p_k)`,
    };
  }
  if (recentFall > thresholds.stillFalling) {
    return {
      cause: "still falling",
      reason: `distinct units, gap ${plateauGap.toFixed(4)}, still falling by ${
        recentFall.toFixed(4)
      } over the last tenth of the steps`,
    };
  }
  return {
    cause: "stuck elsewhere",
    reason: `distinct units, gradients, gap ${plateauGap.toFixed(4)} and not falling: ` +
      `none of the three causes`,
  };
}

/** How much a loss curve fell over its last tenth (at least one step). */
export function recentFall(lossCurve: readonly number[]): number {
  const back = Math.max(1, Math.round((lossCurve.length - 1) / 10));
  return lossCurve[lossCurve.length - 1 - back] - lossCurve[lossCurve.length - 1];
}

export interface FlatLossRow {
  run: string;
  evidence: FlatLossEvidence;
  cause: FlatLossCause;
  reason: string;
}

/**
 * The decision table applied to the chapter's runs: the reproduction (f(0) = 0 from zeros), the
 * symmetric sigmoid network at each checkpoint, and the first seed's He fix.
 */
export function flatLossTable(
  reproduction: Reproduction,
  study: SymmetryStudy,
  fixed: Fix,
): FlatLossRow[] {
  const rows: { run: string; evidence: FlatLossEvidence }[] = [
    {
      run: `leaky ReLU from zeros, ${reproduction.run.config.steps} steps`,
      evidence: {
        largestWeightGradientNorm: reproduction.largestWeightGradientNorm,
        unitSpread: reproduction.spread,
        plateauGap: reproduction.plateauGap,
        recentFall: recentFall(reproduction.run.lossCurve),
      },
    },
    ...study.checkpoints.map((checkpoint) => {
      const curve = study.zeroInit.lossCurve.slice(0, checkpoint.step + 1);
      const gradients = study.log.select("gradient-norm").filter((row) =>
        row.step <= checkpoint.step && row.layer.endsWith(".weight")
      );
      return {
        run: `sigmoid from zeros, ${checkpoint.step} steps`,
        evidence: {
          largestWeightGradientNorm: Math.max(0, ...gradients.map((row) => row.value)),
          unitSpread: checkpoint.unitSpread,
          plateauGap: checkpoint.plateauGap,
          recentFall: recentFall(curve),
        },
      };
    }),
    {
      run: `He init, sigmoid + BCE, seed ${fixed.seeds[0]}, ${fixed.steps} steps`,
      evidence: {
        largestWeightGradientNorm: fixed.heLargestWeightGradientNorms[0],
        unitSpread: fixed.heUnitSpreads[0],
        plateauGap: fixed.he[0].finalLoss - reproduction.classEntropy,
        recentFall: recentFall(fixed.he[0].lossCurve),
      },
    },
  ];
  return rows.map((row) => ({ ...row, ...flatLossCause(row.evidence) }));
}
