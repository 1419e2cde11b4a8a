/**
 * Is the squared error convex? In the predictions, yes; in the weights, no. The smallest
 * counterexample (two weights), hidden-unit permutations of a trained network, and networks
 * trained from different seeds, all measured through the library's layers and losses.
 */
import { cpu } from "../../lib/backend/mod.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import { Linear } from "../../lib/layers/linear.ts";
import { Sequential } from "../../lib/layers/sequential.ts";
import { MeanSquaredError } from "../../lib/losses.ts";
import { Random } from "../../lib/random.ts";
import { closeScope, openScope, tidy } from "../../lib/tensor.ts";
import { evaluate } from "../../lib/train/mod.ts";
import type { Problem } from "./problem.ts";
import { evenlySpaced, predictAt, type RunResult } from "./training.ts";

// Weights as one vector: reading, writing, permuting, interpolating --------------------------

export async function readWeights(model: Sequential): Promise<Float64Array> {
  const parts: number[] = [];
  for (const p of model.parameters()) parts.push(...await p.value.data());
  return Float64Array.from(parts);
}

export function writeWeights(model: Sequential, weights: Float64Array): void {
  const parameters = model.parameters();
  const total = parameters.reduce((n, p) => n + p.value.size, 0);
  if (weights.length !== total) {
    throw new Error(`writeWeights: the model has ${total} weights, got ${weights.length}`);
  }
  let offset = 0;
  tidy(() => {
    for (const p of parameters) {
      const { backend, shape, dtype, size } = p.value;
      backend.assign(
        p.value,
        backend.fromValues(weights.subarray(offset, offset + size), shape, dtype),
      );
      offset += size;
    }
  });
}

/**
 * The weights of the same network with the units of hidden layer `layer` (1-based) reordered:
 * unit i takes the place of unit permutation[i]. Its incoming column of weights, its bias and
 * its outgoing row of weights move together, so the function computed does not change.
 */
export function permuteHiddenUnits(
  model: Sequential,
  weights: Float64Array,
  layer: number,
  permutation: ArrayLike<number>,
): Float64Array {
  const linears = model.layers.filter((l): l is Linear => l instanceof Linear);
  if (!Number.isInteger(layer) || layer < 1 || layer >= linears.length) {
    throw new Error(
      `permuteHiddenUnits: hidden layer ${layer} does not exist; this network has hidden ` +
        `layers 1..${linears.length - 1}`,
    );
  }
  const into = linears[layer - 1], out = linears[layer];
  const units = into.outFeatures;
  if (permutation.length !== units || new Set(Array.from(permutation)).size !== units) {
    throw new Error(`permuteHiddenUnits: need a permutation of 0..${units - 1}`);
  }
  const offsets = new Map<string, number>();
  let offset = 0;
  for (const p of model.parameters()) {
    offsets.set(p.name, offset);
    offset += p.value.size;
  }
  const result = Float64Array.from(weights);
  const intoWeight = offsets.get(into.weight.name)!, intoBias = offsets.get(into.bias.name)!;
  const outWeight = offsets.get(out.weight.name)!;
  for (let unit = 0; unit < units; unit++) {
    const to = permutation[unit];
    // into.weight is [in, units]: column `unit` moves to column `to`.
    for (let row = 0; row < into.inFeatures; row++) {
      result[intoWeight + row * units + to] = weights[intoWeight + row * units + unit];
    }
    result[intoBias + to] = weights[intoBias + unit];
    // out.weight is [units, outFeatures]: row `unit` moves to row `to`.
    for (let column = 0; column < out.outFeatures; column++) {
      result[outWeight + to * out.outFeatures + column] =
        weights[outWeight + unit * out.outFeatures + column];
    }
  }
  return result;
}

function interpolate(from: Float64Array, to: Float64Array, alpha: number): Float64Array {
  return from.map((v, i) => (1 - alpha) * v + alpha * to[i]);
}

function distance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

function norm(a: Float64Array): number {
  return distance(a, new Float64Array(a.length));
}

/**
 * Training MSE at the weights (1 − α) from + α to, for each α. The model's own weights are
 * put back afterwards.
 */
export async function lossAlongSegment(
  model: Sequential,
  dataset: Dataset,
  from: Float64Array,
  to: Float64Array,
  alphas: number[],
): Promise<{ alpha: number; mse: number }[]> {
  const original = await readWeights(model);
  const loss = new MeanSquaredError();
  const points = [];
  for (const alpha of alphas) {
    writeWeights(model, interpolate(from, to, alpha));
    points.push({ alpha, mse: (await evaluate(model, loss, dataset)).loss });
  }
  writeWeights(model, original);
  return points;
}

/**
 * The smallest network that is not convex in its weights: ŷ = w2 · w1 · x (two 1 × 1 linear
 * layers, biases held at 0), fitted to the single point (x, y) = (1, 1) with the library's
 * MeanSquaredError, L = (w2 w1 − 1)². Computed in float64 through the library's layers.
 */
export class TwoWeightNetwork {
  readonly model: Sequential;
  readonly first: Linear;
  readonly second: Linear;
  readonly loss = new MeanSquaredError();

  constructor() {
    const unit = () =>
      new Linear(1, 1, { weightInit: { name: "constant", value: 0 }, dtype: "float64" });
    this.first = unit();
    this.second = unit();
    this.model = new Sequential([this.first, this.second]);
  }

  #set(w1: number, w2: number): void {
    tidy(() => {
      for (const [layer, w] of [[this.first, w1], [this.second, w2]] as const) {
        const t = layer.weight.value;
        t.backend.assign(t, t.backend.fromValues([w], [1, 1], "float64"));
      }
    });
  }

  /** Loss and gradient (∂L/∂w1, ∂L/∂w2) at (w1, w2). */
  async evaluate(w1: number, w2: number): Promise<{ loss: number; gradient: [number, number] }> {
    this.#set(w1, w2);
    const scope = openScope();
    try {
      const x = cpu.fromValues([1], [1, 1], "float64");
      const y = cpu.fromValues([1], [1, 1], "float64");
      const loss = this.loss.forward(this.model.forward(x), y);
      this.model.backward(this.loss.backward());
      return {
        loss: (await loss.data())[0],
        gradient: [
          (await this.first.weight.grad!.data())[0],
          (await this.second.weight.grad!.data())[0],
        ],
      };
    } finally {
      closeScope(scope);
    }
  }

  /** Eigenvalues of the Hessian at (w1, w2), by central differences of the gradient. */
  async hessianEigenvalues(w1: number, w2: number, h = 1e-5): Promise<[number, number]> {
    const g = async (a: number, b: number) => (await this.evaluate(a, b)).gradient;
    const [p1, m1] = [await g(w1 + h, w2), await g(w1 - h, w2)];
    const [p2, m2] = [await g(w1, w2 + h), await g(w1, w2 - h)];
    const a = (p1[0] - m1[0]) / (2 * h), d = (p2[1] - m2[1]) / (2 * h);
    const b = ((p1[1] - m1[1]) / (2 * h) + (p2[0] - m2[0]) / (2 * h)) / 2;
    const centre = (a + d) / 2, radius = Math.sqrt(((a - d) / 2) ** 2 + b * b);
    return [centre - radius, centre + radius];
  }

  /** Plain gradient descent from `start`, every point visited. */
  async descend(start: [number, number], learningRate: number, steps: number) {
    const path = [{ w1: start[0], w2: start[1] }];
    let [w1, w2] = start;
    for (let i = 0; i < steps; i++) {
      const { gradient } = await this.evaluate(w1, w2);
      w1 -= learningRate * gradient[0];
      w2 -= learningRate * gradient[1];
      path.push({ w1, w2 });
    }
    return { path, loss: (await this.evaluate(w1, w2)).loss };
  }
}

export interface TwoWeightResult {
  minimumA: { w1: number; w2: number; loss: number };
  minimumB: { w1: number; w2: number; loss: number };
  /** The midpoint of the two minima: the origin, a saddle point. */
  midpoint: { w1: number; w2: number; loss: number; gradient: [number, number] };
  hessianAtMidpoint: [number, number];
  hessianAtMinimum: [number, number];
  /** The same loss as a function of the prediction p = w2 w1: (p − 1)², second derivative 2. */
  predictionLossSecondDerivative: number;
  /** L(midpoint of predictions) for the predictions of the two minima (both 1). */
  lossAtPredictionMidpoint: number;
  descents: { start: [number, number]; path: { w1: number; w2: number }[]; loss: number }[];
  surface: { w1s: number[]; w2s: number[]; loss: number[][] };
}

export async function twoWeightExample(
  options: { gridHalfWidth?: number; gridCount?: number } = {},
): Promise<TwoWeightResult> {
  const { gridHalfWidth = 1.5, gridCount = 25 } = options;
  const net = new TwoWeightNetwork();
  const at = async (w1: number, w2: number) => ({ w1, w2, ...(await net.evaluate(w1, w2)) });
  const a = await at(1, 1), b = await at(-1, -1), mid = await at(0, 0);
  // In the prediction p the loss is (p − 1)²: second difference in p.
  const h = 1e-3;
  const lossOfPrediction = async (p: number) => (await net.evaluate(p, 1)).loss;
  const secondDerivative = (await lossOfPrediction(1 + h) - 2 * await lossOfPrediction(1) +
    await lossOfPrediction(1 - h)) /
    (h * h);
  const descents = [];
  for (const start of [[0.3, 0.1], [-0.1, -0.35]] as [number, number][]) {
    descents.push({ start, ...(await net.descend(start, 0.1, 60)) });
  }
  const w1s = evenlySpaced(-gridHalfWidth, gridHalfWidth, gridCount);
  const w2s = w1s;
  const loss = [];
  for (const w2 of w2s) {
    const row = [];
    for (const w1 of w1s) row.push((await net.evaluate(w1, w2)).loss);
    loss.push(row);
  }
  return {
    minimumA: { w1: a.w1, w2: a.w2, loss: a.loss },
    minimumB: { w1: b.w1, w2: b.w2, loss: b.loss },
    midpoint: { w1: 0, w2: 0, loss: mid.loss, gradient: mid.gradient },
    hessianAtMidpoint: await net.hessianEigenvalues(0, 0),
    hessianAtMinimum: await net.hessianEigenvalues(1, 1),
    predictionLossSecondDerivative: secondDerivative,
    lossAtPredictionMidpoint: (await net.evaluate((1 + 1) / 2, 1)).loss,
    descents,
    surface: { w1s, w2s, loss },
  };
}

export interface PermutationResult {
  units: number;
  trainMse: number;
  permutedTrainMse: number;
  /** Largest |difference| of the two networks' outputs over the validation inputs. */
  largestOutputDifference: number;
  /** ‖θ − πθ‖ / ‖θ‖. */
  relativeWeightDistance: number;
  midpointTrainMse: number;
  path: { alpha: number; mse: number }[];
}

export const SEGMENT_ALPHAS = evenlySpaced(0, 1, 21);

/**
 * Reorder the units of the first hidden layer of a trained network (a random permutation):
 * the same function at another weight vector. Then walk the straight line between the two.
 */
export async function permutationExperiment(
  run: RunResult,
  problem: Problem,
  options: { permutationSeed?: number } = {},
): Promise<PermutationResult> {
  const { model } = run;
  const first = model.layers[0] as Linear;
  const units = first.outFeatures;
  const random = new Random(options.permutationSeed ?? 7);
  // A derangement, so that every unit moves.
  let permutation = random.permutation(units);
  while (permutation.some((p, i) => p === i)) permutation = random.permutation(units);
  const weights = await readWeights(model);
  const permuted = permuteHiddenUnits(model, weights, 1, permutation);
  const xs = Array.from(problem.validation.inputs);
  const before = await predictAt(model, xs);
  const path = await lossAlongSegment(model, problem.train, weights, permuted, SEGMENT_ALPHAS);
  writeWeights(model, permuted);
  const after = await predictAt(model, xs);
  writeWeights(model, weights);
  return {
    units,
    trainMse: path[0].mse,
    permutedTrainMse: path.at(-1)!.mse,
    largestOutputDifference: Math.max(...before.map((v, i) => Math.abs(v - after[i]))),
    relativeWeightDistance: distance(weights, permuted) / norm(weights),
    midpointTrainMse: path[Math.floor(path.length / 2)].mse,
    path,
  };
}

export interface SeedPair {
  seeds: [number, number];
  trainMse: [number, number];
  relativeWeightDistance: number;
  /** Root mean square difference of the two networks' outputs over the validation inputs. */
  outputRmsDifference: number;
  /** Training MSE at the midpoint of the two weight vectors. */
  midpointTrainMse: number;
  /** Training MSE of the average of the two networks' predictions: never above the mean of the two. */
  averagedPredictionTrainMse: number;
  path: { alpha: number; mse: number }[];
}

/** Every pair of trained runs of one setting: different weights, similar loss, a barrier between. */
export async function seedPairsExperiment(
  runs: RunResult[],
  problem: Problem,
): Promise<SeedPair[]> {
  if (runs.length < 2) {
    throw new Error(`seedPairsExperiment: need at least 2 runs, got ${runs.length}`);
  }
  const xs = Array.from(problem.validation.inputs);
  const trainXs = Array.from(problem.train.inputs);
  const targets = problem.train.targets!;
  const pairs = [];
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const [a, b] = [runs[i], runs[j]];
      const [wa, wb] = [await readWeights(a.model), await readWeights(b.model)];
      const [pa, pb] = [await predictAt(a.model, xs), await predictAt(b.model, xs)];
      const [ta, tb] = [await predictAt(a.model, trainXs), await predictAt(b.model, trainXs)];
      const averaged = ta.reduce((s, v, k) => s + ((v + tb[k]) / 2 - targets[k]) ** 2, 0) /
        ta.length;
      const path = await lossAlongSegment(a.model, problem.train, wa, wb, SEGMENT_ALPHAS);
      pairs.push({
        seeds: [a.seed, b.seed] as [number, number],
        trainMse: [a.trainMse, b.trainMse] as [number, number],
        relativeWeightDistance: distance(wa, wb) / ((norm(wa) + norm(wb)) / 2),
        outputRmsDifference: Math.sqrt(pa.reduce((s, v, k) => s + (v - pb[k]) ** 2, 0) / pa.length),
        midpointTrainMse: path[Math.floor(path.length / 2)].mse,
        averagedPredictionTrainMse: averaged,
        path,
      });
    }
  }
  return pairs;
}
