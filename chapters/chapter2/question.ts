/**
 * The question as it was asked, and the two numbers in it derived from first principles.
 *
 * The asker: an MNIST MLP with leaky-ReLU hidden layers, ten sigmoid outputs and binary
 * cross-entropy summed over them, full-batch gradient descent. The loss always started at 6.98
 * and always ended at 3.24, whatever the learning rate, depth, width or activation. The answer:
 * "it's the initialisation: zero weights are symmetric, use random init". All-zero weights are
 * the answer's guess, not something the asker said; this chapter tests that guess.
 */
import type { Backend } from "../../lib/backend/backend.ts";
import { classCounts } from "../../lib/data/mod.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import { BinaryCrossEntropy, type BinaryCrossEntropyOptions } from "../../lib/losses.ts";
import { oneHot, sigmoid } from "../../lib/ops.ts";
import { tidy } from "../../lib/tensor.ts";
import { LN2 } from "../../lib/metrics.ts";
import { chapterBackend } from "../backend.ts";

export { LN2 };

export const OUTPUTS = 10;

/** What the asker saw, whatever they changed. */
export const ASKER_START_LOSS = 6.98;
export const ASKER_END_LOSS = 3.24;
/** The asker printed two decimals: a value matches theirs when it is within half a unit of the last place. */
export const ASKER_PRECISION = 0.005;
/** The answer the asker got, in its own words. */
export const ANSWER = "it's the initialisation: zero weights are symmetric, use random init";

/**
 * Class counts of the original MNIST training set (60,000 images, LeCun et al.),
 * for comparison with our 8,000-image split: the plateau barely depends on which
 * MNIST split one trains on, because MNIST's classes are nearly balanced.
 */
export const MNIST_60K_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];

/** Binary entropy in nats: H(p) = −p ln p − (1 − p) ln(1 − p). */
export function binaryEntropy(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binaryEntropy: p must be in [0, 1], got ${p}`);
  const term = (q: number) => (q === 0 ? 0 : -q * Math.log(q));
  return term(p) + term(1 - p);
}

/** The fraction of examples in each class. */
export function classFrequencies(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) throw new Error("classFrequencies: no examples");
  return counts.map((count) => count / total);
}

export function datasetFrequencies(dataset: Dataset): number[] {
  return classFrequencies(classCounts(dataset));
}

/**
 * The least loss a network can reach when only its output biases learn: each
 * sigmoid output then predicts its class's frequency p_k for every input, and
 * the summed binary cross-entropy is Σ_k H(p_k).
 */
export function classFrequencyEntropy(frequencies: readonly number[]): number {
  return frequencies.reduce((sum, p) => sum + binaryEntropy(p), 0);
}

/** The most frequent class and its frequency: what a constant predictor says. */
export function majorityClass(
  frequencies: readonly number[],
): { label: number; frequency: number } {
  let label = 0;
  for (let k = 1; k < frequencies.length; k++) if (frequencies[k] > frequencies[label]) label = k;
  return { label, frequency: frequencies[label] };
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));
/** ln(1 + e^x) without overflow. */
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** Summed binary cross-entropy when output k is sigmoid(b_k) for every input: Σ_k p_k ln(1 + e^{−b_k}) + (1 − p_k) ln(1 + e^{b_k}). */
export function constantOutputLoss(
  biases: readonly number[],
  frequencies: readonly number[],
): number {
  return frequencies.reduce(
    (sum, p, k) => sum + p * softplus(-biases[k]) + (1 - p) * softplus(biases[k]),
    0,
  );
}

/**
 * The network with zero weights, reduced to what it is: ten output biases.
 * Full-batch gradient descent on them, b_k ← b_k − lr (sigmoid(b_k) − p_k),
 * in float64. Returns the loss before each step and after the last:
 * steps + 1 values. If the network really is only its biases, its loss curve
 * is this one.
 */
export function biasOnlyLossCurve(
  frequencies: readonly number[],
  learningRate: number,
  steps: number,
): number[] {
  const biases = frequencies.map(() => 0);
  const losses = [constantOutputLoss(biases, frequencies)];
  for (let step = 0; step < steps; step++) {
    for (let k = 0; k < biases.length; k++) {
      biases[k] -= learningRate * (logistic(biases[k]) - frequencies[k]);
    }
    losses.push(constantOutputLoss(biases, frequencies));
  }
  return losses;
}

/** Steps the bias-only model needs to come within `gap` of the plateau Σ_k H(p_k). */
export function stepsToPlateau(
  frequencies: readonly number[],
  learningRate: number,
  gap: number,
  limit = 1e6,
): number {
  const floor = classFrequencyEntropy(frequencies);
  const biases = frequencies.map(() => 0);
  for (let step = 0; step <= limit; step++) {
    if (constantOutputLoss(biases, frequencies) - floor < gap) return step;
    for (let k = 0; k < biases.length; k++) {
      biases[k] -= learningRate * (logistic(biases[k]) - frequencies[k]);
    }
  }
  return Infinity;
}

/** Solve f(x) = target for increasing f on [low, high] by bisection. */
function solveIncreasing(
  f: (x: number) => number,
  target: number,
  low: number,
  high: number,
): number {
  for (let i = 0; i < 200; i++) {
    const middle = (low + high) / 2;
    if (f(middle) < target) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/** The same bias b on all outputs that makes the starting loss equal `target` (b > 0: the outputs start above 1/2). */
export function uniformOutputBiasForLoss(target: number, frequencies: readonly number[]): number {
  return solveIncreasing(
    (b) => constantOutputLoss(frequencies.map(() => b), frequencies),
    target,
    0,
    5,
  );
}

/**
 * E[ln(1 + e^z)] for z ~ Normal(0, std²), by the trapezoid rule over ±10 std.
 * Random logits that do not depend on the target cost, per output,
 * E[softplus(z) − t z] = E[softplus(z)] ≈ ln 2 + std²/8.
 */
export function expectedSoftplus(std: number): number {
  if (std === 0) return LN2;
  const points = 4001, span = 10 * std, h = (2 * span) / (points - 1);
  let total = 0;
  for (let i = 0; i < points; i++) {
    const z = -span + i * h;
    const weight = i === 0 || i === points - 1 ? 0.5 : 1;
    total += weight * softplus(z) * Math.exp(-0.5 * (z / std) ** 2);
  }
  return (total * h) / (std * Math.sqrt(2 * Math.PI));
}

/** The spread of random, target-independent logits that makes the starting loss over `outputs` outputs equal `target`. */
export function logitSpreadForLoss(target: number, outputs = OUTPUTS): number {
  return solveIncreasing((std) => outputs * expectedSoftplus(std), target, 0, 5);
}

/** The bias every layer gets in the near miss: zero weights, every bias 0.01 (a common "small positive bias"). */
export const NEAR_MISS_BIAS = 0.01;

export interface StartingLossCandidate {
  /** What would have to be different for the start to read this value. */
  explanation: string;
  loss: number;
  /** Whether the value, printed to two decimals as the asker did, reads 6.98. */
  matchesAsker: boolean;
}

/**
 * The starting loss under exact zeros and under the variations that could turn
 * 6.93 into 6.98. The first four are measured with the library's loss on
 * sigmoid(0) outputs in float32; the near miss follows because zero output weights
 * make every logit the output bias, 0.01; the last two are solved for.
 */
export async function startingLossCandidates(
  frequencies: readonly number[],
  backend: Backend = chapterBackend(),
): Promise<StartingLossCandidate[]> {
  const rows = 100;
  const measure = (options: BinaryCrossEntropyOptions, epsilon?: number) =>
    tidy(() => {
      const half = sigmoid(backend.zeros([rows, OUTPUTS], "float32"));
      const labels = backend.fromValues(
        Float32Array.from({ length: rows }, (_, i) => i % OUTPUTS),
        [rows],
        "float32",
      );
      return new BinaryCrossEntropy(options, epsilon).forward(half, oneHot(labels, OUTPUTS));
    });
  const read = async (tensor: ReturnType<typeof measure>) => {
    const [value] = await tensor.data();
    tensor.dispose();
    return value;
  };
  const summed = await read(measure({ outputReduction: "sum" }));
  const bias = uniformOutputBiasForLoss(ASKER_START_LOSS, frequencies);
  const spread = logitSpreadForLoss(ASKER_START_LOSS);
  const candidates: [string, number][] = [
    ["exact zeros: every output sigmoid(0) = 1/2, BCE summed over 10 outputs, ε = 1e-7", summed],
    [
      "BCE averaged over the 10 outputs instead (PyTorch's and Keras's default)",
      await read(measure({ outputReduction: "mean" })),
    ],
    [
      "probabilities clipped to [0.01, 0.99] instead of [1e-7, 1 − 1e-7]",
      await read(measure({ outputReduction: "sum" }, 0.01)),
    ],
    ["the loss in bits (log base 2) instead of nats", summed / LN2],
    [
      `zero weights, every bias ${NEAR_MISS_BIAS} (hidden and output)`,
      constantOutputLoss(frequencies.map(() => NEAR_MISS_BIAS), frequencies),
    ],
    [
      `all ten output biases at +${bias.toFixed(4)} instead of 0`,
      constantOutputLoss(frequencies.map(() => bias), frequencies),
    ],
    [
      `random logits of std ${spread.toFixed(3)} (small random weights, not zeros)`,
      OUTPUTS * expectedSoftplus(spread),
    ],
  ];
  return candidates.map(([explanation, loss]) => ({
    explanation,
    loss,
    matchesAsker: Math.abs(loss - ASKER_START_LOSS) < ASKER_PRECISION,
  }));
}
