/**
 * Reproduce: the answer's hypothesis (every weight and bias zero) trained on the asker's loss,
 * with monitors on every step, beside the ten-bias model it should reduce to. Zero
 * initialisation draws no random numbers and full-batch descent does not shuffle, so nothing
 * here depends on the seed (the tests check that two seeds give the same curve).
 */
import type { Dataset } from "../../lib/data/dataset.ts";
import type { Linear } from "../../lib/layers/linear.ts";
import type { Sequential } from "../../lib/layers/sequential.ts";
import {
  gradientMonitor,
  type LayerStatistics,
  layerStatistics,
  MonitorLog,
} from "../../lib/monitors.ts";
import type { TrainingHook } from "../../lib/train.ts";
import {
  ASKER_NETWORK,
  type ChapterData,
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

/**
 * How different the hidden units of each hidden layer are: the largest
 * |W[i, j] − W[i, 0]| over inputs i and units j of the layer's incoming weights
 * (unit j's column of W, its row in PyTorch's layout), and likewise for the
 * biases. Zero means every unit is a copy of unit 0.
 */
export async function hiddenUnitSpread(
  model: Sequential,
): Promise<{ layer: string; weightSpread: number; biasSpread: number }[]> {
  const linears = model.layers.filter((layer) => layer.kind === "linear") as Linear[];
  const result = [];
  for (const linear of linears.slice(0, -1)) {
    const weights = await linear.weight.value.data();
    const biases = await linear.bias.value.data();
    const units = linear.outFeatures;
    let weightSpread = 0, biasSpread = 0;
    for (let i = 0; i < linear.inFeatures; i++) {
      const first = weights[i * units];
      for (let j = 1; j < units; j++) {
        weightSpread = Math.max(weightSpread, Math.abs(weights[i * units + j] - first));
      }
    }
    for (let j = 1; j < units; j++) {
      biasSpread = Math.max(biasSpread, Math.abs(biases[j] - biases[0]));
    }
    result.push({ layer: linear.name, weightSpread, biasSpread });
  }
  return result;
}

/** Logs "unit-spread" (see hiddenUnitSpread) for each hidden Linear layer every `every` steps. */
export function unitSpreadMonitor(log: MonitorLog, every = 10): TrainingHook {
  return {
    async afterUpdate(context) {
      if (context.step !== 1 && context.step % every !== 0) return;
      for (const { layer, weightSpread } of await hiddenUnitSpread(context.model as Sequential)) {
        log.add({
          step: context.step,
          epoch: context.epoch,
          layer: `${layer}.weight`,
          metric: "unit-spread",
          value: weightSpread,
        });
      }
    },
  };
}

/**
 * Logs "loss-minus-class-entropy": the step's training loss minus Σ_k H(p_k).
 * It reaching ~0 and staying there says: this network has learned the class
 * frequencies and nothing else.
 */
export function classEntropyGapMonitor(
  log: MonitorLog,
  classEntropy: number,
  every = 1,
): TrainingHook {
  return {
    async beforeUpdate(context) {
      if (context.step !== 1 && context.step % every !== 0) return;
      const [loss] = await context.loss.data();
      log.add({
        step: context.step,
        epoch: context.epoch,
        layer: "loss",
        metric: "loss-minus-class-entropy",
        value: loss - classEntropy,
      });
    },
  };
}

export interface Reproduction {
  run: Run;
  classEntropy: number;
  /** finalLoss − classEntropy. */
  plateauGap: number;
  majority: { label: number; frequency: number };
  testMajorityFrequency: number;
  /** The same curve from the ten-bias model, in float64. */
  biasOnlyCurve: number[];
  /** Largest |network loss − bias-only loss| over the steps. */
  biasOnlyLargestDifference: number;
  log: MonitorLog;
  /** The largest gradient norm of any weight matrix at any step, and of the output biases. */
  largestWeightGradientNorm: number;
  largestHiddenBiasGradientNorm: number;
  outputBiasGradientNormAtStep1: number;
  /** Statistics of every layer's output on the first 512 training digits after training. */
  layers: LayerStatistics[];
  /** Largest spread between hidden units at the end (see hiddenUnitSpread). */
  spread: number;
}

/** The largest value of a metric over the rows whose layer name matches. */
export function largest(
  log: MonitorLog,
  metric: string,
  layerMatches: (layer: string) => boolean,
): number {
  return Math.max(
    0,
    ...log.select(metric).filter((row) => layerMatches(row.layer)).map((row) => row.value),
  );
}

/**
 * Train the asker's network (or `config`, for `steps` steps if given) on `train`
 * (default: all training digits) with monitors on every step, and compare it with
 * the ten-bias model.
 */
export async function reproduce(
  data: ChapterData,
  options: RunOptions & { config?: NetworkConfig; steps?: number; train?: Dataset } = {},
): Promise<Reproduction> {
  const baseConfig = options.config ?? ASKER_NETWORK;
  const config = { ...baseConfig, steps: options.steps ?? baseConfig.steps };
  const trainSet = options.train ?? data.train;
  const frequencies = datasetFrequencies(trainSet);
  const classEntropy = classFrequencyEntropy(frequencies);
  const log = new MonitorLog();
  const run = await trainNetwork(config, trainSet, data.test, {
    ...options,
    hooks: [
      gradientMonitor({ log, every: 1 }),
      classEntropyGapMonitor(log, classEntropy),
      unitSpreadMonitor(log),
      ...(options.hooks ?? []),
    ],
  });
  const biasOnlyCurve = biasOnlyLossCurve(frequencies, config.learningRate, config.steps);
  const lastLinear = `linear${config.hiddenSizes.length + 1}`;
  return {
    run,
    classEntropy,
    plateauGap: run.finalLoss - classEntropy,
    majority: majorityClass(frequencies),
    testMajorityFrequency: majorityClass(datasetFrequencies(data.test)).frequency,
    biasOnlyCurve,
    biasOnlyLargestDifference: Math.max(
      ...run.lossCurve.map((loss, i) => Math.abs(loss - biasOnlyCurve[i])),
    ),
    log,
    largestWeightGradientNorm: largest(log, "gradient-norm", (layer) => layer.endsWith(".weight")),
    largestHiddenBiasGradientNorm: largest(
      log,
      "gradient-norm",
      (layer) => layer.endsWith(".bias") && !layer.startsWith(lastLinear + "."),
    ),
    outputBiasGradientNormAtStep1: log.select("gradient-norm", `${lastLinear}.bias`)[0].value,
    layers: await layerStatistics(run.model, trainSet, 512),
    spread: Math.max(...(await hiddenUnitSpread(run.model)).map((row) => row.weightSpread)),
  };
}
