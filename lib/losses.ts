/**
 * Losses. Each returns the mean loss as a [1] tensor from forward(), and
 * dLoss/dOutput from backward(). The gradients are written out beside each.
 *
 * Also here, clearly named, are the naive forms people write first, so that
 * chapters can reproduce what the askers ran: they are correct on paper and
 * break in float32.
 */
import {
  abs,
  add,
  addScalar,
  clip,
  div,
  exp,
  log,
  logSoftmax,
  mean,
  mul,
  neg,
  oneHot,
  pickColumns,
  relu,
  reshape,
  scale,
  ShapeError,
  sigmoid,
  square,
  sub,
  sum,
} from "./ops.ts";
import { shapeString, type Tensor } from "./tensor.ts";

export interface Loss {
  readonly name: string;
  /** "labels": a class index per example, shape [N]; "dense": a target per output, [N, K]. */
  readonly targetKind: "labels" | "dense";
  /** Mean loss over the batch, shape [1]. */
  forward(output: Tensor, target: Tensor): Tensor;
  /** dLoss/dOutput for the last forward(). */
  backward(): Tensor;
}

function checkDense(name: string, output: Tensor, target: Tensor): void {
  if (
    output.rank !== 2 || target.rank !== 2 || output.shape[0] !== target.shape[0] ||
    output.shape[1] !== target.shape[1]
  ) {
    throw new ShapeError(
      `${name}: output ${shapeString(output.shape)} and target ${shapeString(target.shape)} ` +
        `must both be [batch, outputs]`,
    );
  }
}

function checkLabels(name: string, output: Tensor, labels: Tensor): void {
  if (output.rank !== 2) {
    throw new ShapeError(
      `${name}: expected logits [batch, classes], got ${shapeString(output.shape)}`,
    );
  }
  if (labels.rank !== 1 || labels.shape[0] !== output.shape[0]) {
    throw new ShapeError(
      `${name}: expected one class index per example, labels [${output.shape[0]}], got ` +
        `${shapeString(labels.shape)} (labels of shape [N, 1] are a classic bug: flatten them)`,
    );
  }
}

/**
 * Softmax cross-entropy from logits z, computed by log-sum-exp:
 *   L = −mean_i log softmax(z_i)[y_i],   log softmax(z) = z − max z − log Σ e^{z − max z}
 *   dL/dz = (softmax(z) − onehot(y)) / N
 */
export class SoftmaxCrossEntropy implements Loss {
  readonly name: string = "softmax-cross-entropy";
  readonly targetKind = "labels";
  protected probabilities: Tensor | null = null;
  protected labels: Tensor | null = null;

  forward(logits: Tensor, labels: Tensor): Tensor {
    checkLabels(this.name, logits, labels);
    const logProbabilities = logSoftmax(logits);
    this.probabilities = exp(logProbabilities);
    this.labels = labels;
    return neg(mean(pickColumns(logProbabilities, labels)));
  }

  backward(): Tensor {
    if (!this.probabilities || !this.labels) {
      throw new Error(`${this.name}: backward() before forward()`);
    }
    const [n, classes] = this.probabilities.shape;
    return scale(sub(this.probabilities, oneHot(this.labels, classes)), 1 / n);
  }
}

/**
 * BROKEN ON PURPOSE: softmax as exp(z) / Σ exp(z) in float32, then log.
 * exp overflows to Infinity once a logit passes about 88.7, and Infinity /
 * Infinity is NaN: this is the "loss becomes NaN" of hand-written networks.
 */
export class NaiveSoftmaxCrossEntropy extends SoftmaxCrossEntropy {
  override readonly name = "naive-softmax-cross-entropy (exp/sum, float32)";

  override forward(logits: Tensor, labels: Tensor): Tensor {
    checkLabels(this.name, logits, labels);
    const exps = exp(logits);
    const probabilities = div(exps, reshape(sum(exps, 1), [logits.shape[0], 1]));
    this.probabilities = probabilities;
    this.labels = labels;
    return neg(mean(log(pickColumns(probabilities, labels))));
  }
}

export interface BinaryCrossEntropyOptions {
  /**
   * How the per-output losses of one example combine: "mean" over outputs
   * (PyTorch's and Keras's default) or "sum" over them (what many hand-written
   * networks do: 10 outputs then start at 10 ln 2 = 6.93). Always averaged over examples.
   */
  outputReduction?: "mean" | "sum";
}

function checkReduction(name: string, reduction: string | undefined): "mean" | "sum" {
  const value = reduction ?? "mean";
  if (value !== "mean" && value !== "sum") {
    throw new Error(`${name}: outputReduction must be "mean" or "sum", got "${value}"`);
  }
  return value;
}

/** The factor that turns Σ over all elements into the chosen reduction. */
function reductionScale(output: Tensor, outputReduction: "mean" | "sum"): number {
  const [n, k] = output.shape;
  return outputReduction === "sum" ? 1 / n : 1 / (n * k);
}

/**
 * Binary cross-entropy on probabilities p (after a sigmoid), clipped to
 * [ε, 1 − ε] so that log never sees 0:
 *   L = −Σ [t log p + (1 − t) log(1 − p)] (reduced as chosen)
 *   dL/dp = (p − t) / (p (1 − p))  (times the reduction factor)
 */
export class BinaryCrossEntropy implements Loss {
  readonly name: string = "binary-cross-entropy";
  readonly targetKind = "dense";
  readonly outputReduction: "mean" | "sum";
  protected p: Tensor | null = null;
  protected t: Tensor | null = null;
  protected factor = 1;

  constructor(options: BinaryCrossEntropyOptions = {}, readonly epsilon = 1e-7) {
    this.outputReduction = checkReduction(this.name, options.outputReduction);
  }

  protected prepare(p: Tensor): Tensor {
    return clip(p, this.epsilon, 1 - this.epsilon);
  }

  forward(probabilities: Tensor, targets: Tensor): Tensor {
    checkDense(this.name, probabilities, targets);
    const p = this.prepare(probabilities);
    this.p = p;
    this.t = targets;
    this.factor = reductionScale(p, this.outputReduction);
    const oneMinusP = addScalar(neg(p), 1), oneMinusT = addScalar(neg(targets), 1);
    const perElement = add(mul(targets, log(p)), mul(oneMinusT, log(oneMinusP)));
    return scale(sum(perElement), -this.factor);
  }

  backward(): Tensor {
    if (!this.p || !this.t) throw new Error(`${this.name}: backward() before forward()`);
    const p = this.p;
    const denominator = mul(p, addScalar(neg(p), 1));
    return scale(div(sub(p, this.t), denominator), this.factor);
  }
}

/**
 * BROKEN ON PURPOSE: binary cross-entropy on sigmoid outputs without clipping.
 * A saturated sigmoid returns exactly 0 or 1 in float32 (any x above about 17),
 * log(0) = −Infinity, and the loss and its gradient become Infinity or NaN.
 */
export class UnclippedBinaryCrossEntropy extends BinaryCrossEntropy {
  override readonly name = "unclipped-binary-cross-entropy";
  protected override prepare(p: Tensor): Tensor {
    return p;
  }
}

/**
 * Binary cross-entropy from logits z, the stable form (as in PyTorch's
 * BCEWithLogitsLoss):
 *   ℓ = max(z, 0) − z t + log(1 + e^{−|z|})
 *   dℓ/dz = sigmoid(z) − t
 */
export class BinaryCrossEntropyWithLogits implements Loss {
  readonly name = "binary-cross-entropy-with-logits";
  readonly targetKind = "dense";
  readonly outputReduction: "mean" | "sum";
  #z: Tensor | null = null;
  #t: Tensor | null = null;
  #factor = 1;

  constructor(options: BinaryCrossEntropyOptions = {}) {
    this.outputReduction = checkReduction(this.name, options.outputReduction);
  }

  forward(logits: Tensor, targets: Tensor): Tensor {
    checkDense(this.name, logits, targets);
    this.#z = logits;
    this.#t = targets;
    this.#factor = reductionScale(logits, this.outputReduction);
    const softplusOfNegAbs = log(addScalar(exp(neg(abs(logits))), 1));
    const perElement = add(sub(relu(logits), mul(logits, targets)), softplusOfNegAbs);
    return scale(sum(perElement), this.#factor);
  }

  backward(): Tensor {
    if (!this.#z || !this.#t) throw new Error(`${this.name}: backward() before forward()`);
    return scale(sub(sigmoid(this.#z), this.#t), this.#factor);
  }
}

/**
 * Mean squared error: L = mean over all elements of (y − t)², dL/dy = 2 (y − t) / size.
 */
export class MeanSquaredError implements Loss {
  readonly name = "mean-squared-error";
  readonly targetKind = "dense";
  #difference: Tensor | null = null;

  forward(output: Tensor, target: Tensor): Tensor {
    checkDense(this.name, output, target);
    this.#difference = sub(output, target);
    return mean(square(this.#difference));
  }

  backward(): Tensor {
    if (!this.#difference) throw new Error(`${this.name}: backward() before forward()`);
    return scale(this.#difference, 2 / this.#difference.size);
  }
}

export type LossName =
  | "softmax-cross-entropy"
  | "naive-softmax-cross-entropy"
  | "binary-cross-entropy"
  | "unclipped-binary-cross-entropy"
  | "binary-cross-entropy-with-logits"
  | "mean-squared-error";

export const lossNames: readonly LossName[] = [
  "softmax-cross-entropy",
  "naive-softmax-cross-entropy",
  "binary-cross-entropy",
  "unclipped-binary-cross-entropy",
  "binary-cross-entropy-with-logits",
  "mean-squared-error",
];

export function lossByName(name: LossName, options: BinaryCrossEntropyOptions = {}): Loss {
  switch (name) {
    case "softmax-cross-entropy":
      return new SoftmaxCrossEntropy();
    case "naive-softmax-cross-entropy":
      return new NaiveSoftmaxCrossEntropy();
    case "binary-cross-entropy":
      return new BinaryCrossEntropy(options);
    case "unclipped-binary-cross-entropy":
      return new UnclippedBinaryCrossEntropy(options);
    case "binary-cross-entropy-with-logits":
      return new BinaryCrossEntropyWithLogits(options);
    case "mean-squared-error":
      return new MeanSquaredError();
    default:
      throw new Error(`unknown loss "${name}": choose one of ${lossNames.join(", ")}`);
  }
}
