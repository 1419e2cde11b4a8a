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

/** What every loss is: a mean loss from forward(), and its gradient from backward(). */
export interface Loss {
  /** e.g. "softmax-cross-entropy". */
  readonly name: string;
  /** "labels": a class index per example, shape [N]; "dense": a target per output, [N, K]. */
  readonly targetKind: "labels" | "dense";
  /** Where the model's outputs must lie (binary cross-entropy on probabilities: [0, 1]); unbounded if absent. */
  readonly outputRange?: readonly [number, number];
  /** Where the targets must lie (binary cross-entropy: [0, 1]); unbounded if absent. */
  readonly targetRange?: readonly [number, number];
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
  if (
    labels.rank === 2 && labels.shape[0] === output.shape[0] &&
    labels.shape[1] === output.shape[1] &&
    labels.shape[1] > 1
  ) {
    throw new ShapeError(
      `${name}: the labels are ${
        shapeString(labels.shape)
      }, one row per example like the logits: ` +
        `one-hot targets? This loss wants one class index per example, labels [${
          output.shape[0]
        }] ` +
        `(the argmax of each one-hot row, e.g. argmaxRows(values, ${labels.shape[1]}))`,
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
 * Where it is cheap (values already in JavaScript memory, as on the CPU), throw
 * if a finite value lies outside [low, high], naming the tensor, the element and
 * the value. (NaN is left to the non-finite check of the training loop. The
 * training loop also checks datasets and the model's last layer on every backend.)
 */
function checkRange(
  name: string,
  what: string,
  t: Tensor,
  [low, high]: readonly [number, number],
  hint: string,
): void {
  if (!ArrayBuffer.isView(t.storage)) return;
  const values = t.storage as unknown as ArrayLike<number>;
  const width = t.shape[1] ?? 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < low || v > high) {
      throw new RangeError(
        `${name}: ${what} must lie in [${low}, ${high}], but row ${Math.floor(i / width)}, ` +
          `column ${i % width} is ${v}${hint}`,
      );
    }
  }
}

/**
 * Softmax cross-entropy from logits z, computed by log-sum-exp:
 *   L = −mean_i log softmax(z_i)[y_i],   log softmax(z) = z − max z − log Σ e^{z − max z}
 *   dL/dz = (softmax(z) − onehot(y)) / N
 *
 * Give it the logits (no softmax layer before it) and one class index per example.
 *
 * @example
 * ```ts
 * import { SoftmaxCrossEntropy, tensor } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const loss = new SoftmaxCrossEntropy();
 * const logits = tensor([0, 0, 0, 0], [2, 2]); // both examples: 1/2 for each class
 * const [value] = await loss.forward(logits, tensor([0, 1], [2])).data();
 * assert.ok(Math.abs(value - Math.LN2) < 1e-6); // −log(1/2)
 * // (softmax(z) − onehot(y)) / N
 * assert.deepEqual(Array.from(await loss.backward().data()), [-0.25, 0.25, 0.25, -0.25]);
 * ```
 */
export class SoftmaxCrossEntropy implements Loss {
  readonly name: string = "softmax-cross-entropy";
  readonly targetKind = "labels";
  /** softmax(z) of the last forward(). */
  protected probabilities: Tensor | null = null;
  /** The labels of the last forward(). */
  protected labels: Tensor | null = null;

  /** The mean loss over the batch, [1]: logits [N, K], labels [N] (class indices). */
  forward(logits: Tensor, labels: Tensor): Tensor {
    checkLabels(this.name, logits, labels);
    const logProbabilities = logSoftmax(logits);
    this.probabilities = exp(logProbabilities);
    this.labels = labels;
    return neg(mean(pickColumns(logProbabilities, labels)));
  }

  /** dL/dz for the last forward(). */
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
  /** Says what is naive about it. */
  override readonly name = "naive-softmax-cross-entropy (exp/sum, float32)";

  /** exp, divide, log: overflows once a logit passes about 88.7. */
  override forward(logits: Tensor, labels: Tensor): Tensor {
    checkLabels(this.name, logits, labels);
    const exps = exp(logits);
    const probabilities = div(exps, reshape(sum(exps, 1), [logits.shape[0], 1]));
    this.probabilities = probabilities;
    this.labels = labels;
    return neg(mean(log(pickColumns(probabilities, labels))));
  }
}

/** Settings of the binary cross-entropies. */
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
  readonly outputRange = [0, 1] as const;
  readonly targetRange = [0, 1] as const;
  /** How the per-output losses of one example combine. */
  readonly outputReduction: "mean" | "sum";
  /** The (clipped) probabilities of the last forward(). */
  protected p: Tensor | null = null;
  /** The targets of the last forward(). */
  protected t: Tensor | null = null;
  /** The reduction factor of the last forward(). */
  protected factor = 1;

  /**
   * Binary cross-entropy with its reduction and its clipping.
   *
   * @param options how outputs combine (mean by default)
   * @param epsilon probabilities are clipped to [epsilon, 1 − epsilon] (default 1e-7)
   */
  constructor(options: BinaryCrossEntropyOptions = {}, readonly epsilon = 1e-7) {
    this.outputReduction = checkReduction(this.name, options.outputReduction);
  }

  /** The clipping; the unclipped form overrides it. */
  protected prepare(p: Tensor): Tensor {
    return clip(p, this.epsilon, 1 - this.epsilon);
  }

  /** The loss, [1]: probabilities and targets [N, K], both in [0, 1]. */
  forward(probabilities: Tensor, targets: Tensor): Tensor {
    checkDense(this.name, probabilities, targets);
    checkRange(
      this.name,
      "the probabilities (its first argument)",
      probabilities,
      this.outputRange,
      ": logits? Apply a Sigmoid first, or use BinaryCrossEntropyWithLogits on the logits",
    );
    checkRange(this.name, "the targets", targets, this.targetRange, "");
    const p = this.prepare(probabilities);
    this.p = p;
    this.t = targets;
    this.factor = reductionScale(p, this.outputReduction);
    const oneMinusP = addScalar(neg(p), 1), oneMinusT = addScalar(neg(targets), 1);
    const perElement = add(mul(targets, log(p)), mul(oneMinusT, log(oneMinusP)));
    return scale(sum(perElement), -this.factor);
  }

  /** dL/dp for the last forward(). */
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
  /** Says what is missing. */
  override readonly name = "unclipped-binary-cross-entropy";
  /** No clipping: log(0) is −Infinity. */
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
  readonly targetRange = [0, 1] as const;
  /** How the per-output losses of one example combine. */
  readonly outputReduction: "mean" | "sum";
  #z: Tensor | null = null;
  #t: Tensor | null = null;
  #factor = 1;

  /**
   * Binary cross-entropy from logits, with its reduction.
   *
   * @param options how outputs combine (mean by default)
   */
  constructor(options: BinaryCrossEntropyOptions = {}) {
    this.outputReduction = checkReduction(this.name, options.outputReduction);
  }

  /** The loss, [1]: logits and targets [N, K], targets in [0, 1]. */
  forward(logits: Tensor, targets: Tensor): Tensor {
    checkDense(this.name, logits, targets);
    checkRange(this.name, "the targets", targets, this.targetRange, "");
    this.#z = logits;
    this.#t = targets;
    this.#factor = reductionScale(logits, this.outputReduction);
    const softplusOfNegAbs = log(addScalar(exp(neg(abs(logits))), 1));
    const perElement = add(sub(relu(logits), mul(logits, targets)), softplusOfNegAbs);
    return scale(sum(perElement), this.#factor);
  }

  /** dL/dz for the last forward(). */
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

  /** The mean of (y − t)² over all elements, [1]. */
  forward(output: Tensor, target: Tensor): Tensor {
    checkDense(this.name, output, target);
    this.#difference = sub(output, target);
    return mean(square(this.#difference));
  }

  /** dL/dy for the last forward(). */
  backward(): Tensor {
    if (!this.#difference) throw new Error(`${this.name}: backward() before forward()`);
    return scale(this.#difference, 2 / this.#difference.size);
  }
}

/** The losses by name, as lossByName() takes them. */
export type LossName =
  | "softmax-cross-entropy"
  | "naive-softmax-cross-entropy"
  | "binary-cross-entropy"
  | "unclipped-binary-cross-entropy"
  | "binary-cross-entropy-with-logits"
  | "mean-squared-error";

/** Every LossName. */
export const lossNames: readonly LossName[] = [
  "softmax-cross-entropy",
  "naive-softmax-cross-entropy",
  "binary-cross-entropy",
  "unclipped-binary-cross-entropy",
  "binary-cross-entropy-with-logits",
  "mean-squared-error",
];

/** A new loss by name (options for the binary cross-entropies). */
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

/** SoftTargetCrossEntropy's settings. */
export interface SoftTargetCrossEntropyOptions {
  /**
   * true: the labels are constants, no gradient reaches them (TensorFlow 1's
   * `softmax_cross_entropy_with_logits`). false: `labelsBackward()` gives
   * dL/dlabels too, so a graph whose labels were computed from the model's own
   * output trains through them (`_v2`, TensorFlow 2's only form). Required: the
   * difference is what Chapter 6 is about.
   */
  stopGradientThroughLabels: boolean;
}

/**
 * Softmax cross-entropy against soft targets: each row of `labels` is a
 * probability distribution over the classes (one-hot rows give the usual loss).
 *   L = −mean_i Σ_k t_ik log softmax(z_i)_k
 *   dL/dz = (softmax(z) − t) / N        (TensorFlow's formula: it assumes rows of t sum to 1)
 *   dL/dt = −log softmax(z) / N         (only when the gradient is not stopped)
 * softmax(z) here is exp(log-softmax(z)); `ops.softmax` may differ from it in the last bit.
 *
 * @example
 * ```ts
 * import { SoftTargetCrossEntropy, tensor } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const loss = new SoftTargetCrossEntropy({ stopGradientThroughLabels: true });
 * const [value] = await loss.forward(tensor([0, 0], [1, 2]), tensor([0.5, 0.5], [1, 2])).data();
 * assert.ok(Math.abs(value - Math.LN2) < 1e-6);
 * assert.deepEqual(Array.from(await loss.backward().data()), [0, 0]); // softmax(z) − t
 * assert.throws(() => loss.labelsBackward(), /stopGradientThroughLabels/);
 * ```
 */
export class SoftTargetCrossEntropy implements Loss {
  readonly name: string;
  readonly targetKind = "dense";
  readonly targetRange: readonly [number, number] = [0, 1];
  /** True: the labels are constants (TF1's softmax_cross_entropy_with_logits); false: _v2. */
  readonly stopGradientThroughLabels: boolean;
  #logProbabilities: Tensor | null = null;
  #labels: Tensor | null = null;

  /** See {@link SoftTargetCrossEntropyOptions}. */
  constructor(options: SoftTargetCrossEntropyOptions) {
    if (typeof options?.stopGradientThroughLabels !== "boolean") {
      throw new Error(
        "SoftTargetCrossEntropy: say whether gradient flows into the labels: " +
          "{ stopGradientThroughLabels: true } (TensorFlow 1) or false (TensorFlow 2's _v2)",
      );
    }
    this.stopGradientThroughLabels = options.stopGradientThroughLabels;
    this.name = `soft-target-cross-entropy (${
      this.stopGradientThroughLabels ? "labels held constant, TF1" : "gradient into labels, TF2"
    })`;
  }

  /** The mean loss, [1]: logits [N, K], labels [N, K] (each row a distribution). */
  forward(logits: Tensor, labels: Tensor): Tensor {
    checkDense(this.name, logits, labels);
    this.#logProbabilities = logSoftmax(logits);
    this.#labels = labels;
    return scale(sum(mul(labels, this.#logProbabilities)), -1 / logits.shape[0]);
  }

  /** dL/dz for the last forward(). */
  backward(): Tensor {
    const [logP, t] = this.#last();
    return scale(sub(exp(logP), t), 1 / logP.shape[0]);
  }

  /** dL/dlabels for the last forward(); an error when the gradient is stopped. */
  labelsBackward(): Tensor {
    if (this.stopGradientThroughLabels) {
      throw new Error(
        `${this.name}: no gradient flows into the labels (stopGradientThroughLabels: true)`,
      );
    }
    const [logP] = this.#last();
    return scale(logP, -1 / logP.shape[0]);
  }

  #last(): [Tensor, Tensor] {
    if (!this.#logProbabilities || !this.#labels) {
      throw new Error(`${this.name}: backward() before forward()`);
    }
    return [this.#logProbabilities, this.#labels];
  }
}
