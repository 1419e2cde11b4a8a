/**
 * Keras' vocabulary in the library's terms, with Keras' numerics: what a recipe's layers, losses
 * and optimisers mean when tf.keras 2 runs them. Each layer and loss has its forward and backward
 * side by side (gradient-checked in test/doctor/keras_test.ts); the optimisers are written in the
 * library's ops, so they run on every backend.
 *
 * Where Keras does something surprising, it is kept, because that is what the learner ran:
 * cross-entropies on probabilities clip them to [1e-7, 1 − 1e-7] (a ReLU output of 0 is a loss of
 * 16.1, not infinity), and `categorical_crossentropy` divides each row by its sum first, so an
 * output that is not a softmax still gives a finite loss.
 */
import type { Backend } from "../backend/backend.ts";
import { cpu } from "../backend/mod.ts";
import { Layer, type Parameter } from "../layers/layer.ts";
import type { Loss } from "../losses.ts";
import {
  abs,
  add,
  addScalar,
  clip,
  div,
  equal,
  exp,
  greater,
  log,
  logSoftmax,
  maximum,
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
  sqrt,
  square,
  step,
  sub,
  sum,
} from "../ops.ts";
import type { Optimizer } from "../optim.ts";
import { Random } from "../random.ts";
import { type DType, keep, shapeString, type Tensor } from "../tensor.ts";

/** Keras' fuzz factor: probabilities are clipped to [EPSILON, 1 − EPSILON]. */
export const KERAS_EPSILON = 1e-7;

const oneMinus = (x: Tensor) => addScalar(neg(x), 1);
const constant = (like: Tensor, value: number) => like.backend.fromValues([value], [1], like.dtype);

// Activations ---------------------------------------------------------------------------------

/** ELU: y = x for x > 0, α(eᕽ − 1) otherwise. */
export class ELU extends Layer {
  constructor(readonly alpha = 1) {
    super("elu");
  }
  // y = relu(x) + α (exp(min(x, 0)) − 1)
  forward(x: Tensor): Tensor {
    this.input = x;
    const negativePart = neg(relu(neg(x)));
    this.output = add(relu(x), scale(addScalar(exp(negativePart), -1), this.alpha));
    return this.output;
  }
  // dy/dx = 1 for x > 0, y + α otherwise
  backward(dy: Tensor): Tensor {
    const x = this.requireInput(), y = this.requireOutput();
    this.checkGradient(dy, y);
    const positive = step(x);
    return mul(dy, add(positive, mul(oneMinus(positive), addScalar(y, this.alpha))));
  }
}

/** SELU (Klambauer et al.): λ ELU(x, α) with the constants that keep activations standardised. */
export class SELU extends Layer {
  static readonly ALPHA = 1.6732632423543772;
  static readonly LAMBDA = 1.0507009873554805;
  #elu = new ELU(SELU.ALPHA);
  constructor() {
    super("selu");
  }
  // y = λ ELU(x, α)
  forward(x: Tensor): Tensor {
    this.input = x;
    this.output = scale(this.#elu.forward(x), SELU.LAMBDA);
    return this.output;
  }
  // dy/dx = λ ELU'(x)
  backward(dy: Tensor): Tensor {
    this.checkGradient(dy, this.requireOutput());
    return this.#elu.backward(scale(dy, SELU.LAMBDA));
  }
}

/** Softplus: y = ln(1 + eᕽ), computed as relu(x) + ln(1 + e^(−|x|)) so it never overflows. */
export class Softplus extends Layer {
  constructor() {
    super("softplus");
  }
  // y = relu(x) + log(1 + exp(−|x|))
  forward(x: Tensor): Tensor {
    this.input = x;
    this.output = add(relu(x), log(addScalar(exp(neg(abs(x))), 1)));
    return this.output;
  }
  // dy/dx = σ(x)
  backward(dy: Tensor): Tensor {
    this.checkGradient(dy, this.requireOutput());
    return mul(dy, sigmoid(this.requireInput()));
  }
}

// Layers with a training mode -------------------------------------------------------------------

/** Layers that behave differently in training and in evaluation. */
export interface HasTrainingMode {
  training: boolean;
}

/** Switch every dropout and batch-normalisation layer of a model to training or evaluation. */
export function setTrainingMode(layers: Layer[], training: boolean): void {
  for (const layer of layers) {
    if ("training" in layer) (layer as unknown as HasTrainingMode).training = training;
  }
}

/**
 * Dropout (inverted, as Keras): in training each unit is kept with probability 1 − p and scaled by
 * 1/(1 − p), so evaluation (every unit, unscaled) sees the same expected activation.
 */
export class Dropout extends Layer implements HasTrainingMode {
  training = true;
  #mask: Tensor | null = null;
  readonly #random: Random;
  constructor(readonly rate: number, seed = 0) {
    super("dropout");
    if (!(rate >= 0 && rate < 1)) throw new Error(`Dropout: rate must be in [0, 1), got ${rate}`);
    this.#random = new Random(seed);
  }
  // training: y = x ⊙ m / (1 − p), m ~ Bernoulli(1 − p); evaluation: y = x
  forward(x: Tensor): Tensor {
    this.input = x;
    if (!this.training || this.rate === 0) {
      this.#mask = null;
      return (this.output = x);
    }
    const keepScale = 1 / (1 - this.rate);
    const values = new Float32Array(x.size);
    for (let i = 0; i < values.length; i++) {
      values[i] = this.#random.uniform() >= this.rate ? keepScale : 0;
    }
    this.#mask = x.backend.fromValues(values, x.shape, x.dtype);
    return (this.output = mul(x, this.#mask));
  }
  // dx = dy ⊙ m / (1 − p)
  backward(dy: Tensor): Tensor {
    this.checkGradient(dy, this.requireOutput());
    return this.#mask ? mul(dy, this.#mask) : dy;
  }
  override describe(): string {
    return `Dropout(${this.rate})`;
  }
}

/**
 * Batch normalisation over the batch axis (Keras defaults: momentum 0.99, ε = 1e-3): in training
 * each feature is standardised with the batch's mean and variance, and moving averages of both
 * are kept for evaluation.
 */
export class BatchNormalization extends Layer implements HasTrainingMode {
  training = true;
  readonly gamma: Parameter;
  readonly beta: Parameter;
  readonly movingMean: Tensor;
  readonly movingVariance: Tensor;
  #normalised: Tensor | null = null;
  #std: Tensor | null = null;
  constructor(
    readonly features: number,
    readonly momentum = 0.99,
    readonly epsilon = 1e-3,
    backend: Backend = cpu,
    dtype: DType = "float32",
  ) {
    super("batchnorm");
    const filled = (value: number) =>
      backend.fromValues(new Float64Array(features).fill(value), [features], dtype);
    this.gamma = { name: "gamma", value: filled(1), grad: null };
    this.beta = { name: "beta", value: filled(0), grad: null };
    this.movingMean = keep(filled(0));
    this.movingVariance = keep(filled(1));
  }
  // training: x̂ = (x − μ_B) / √(σ²_B + ε), y = γ x̂ + β; evaluation: the moving averages for μ, σ²
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.features) {
      throw new ShapeError(
        `${this.name}: expected input [batch, ${this.features}], got ${shapeString(x.shape)}`,
      );
    }
    this.input = x;
    let mu: Tensor, variance: Tensor;
    if (this.training) {
      mu = mean(x, 0);
      variance = mean(square(sub(x, mu)), 0);
      const m = this.momentum;
      x.backend.assign(this.movingMean, add(scale(this.movingMean, m), scale(mu, 1 - m)));
      x.backend.assign(
        this.movingVariance,
        add(scale(this.movingVariance, m), scale(variance, 1 - m)),
      );
    } else {
      mu = this.movingMean;
      variance = this.movingVariance;
    }
    this.#std = sqrt(addScalar(variance, this.epsilon));
    this.#normalised = div(sub(x, mu), this.#std);
    return (this.output = add(mul(this.#normalised, this.gamma.value), this.beta.value));
  }
  // dγ = Σ dy x̂,  dβ = Σ dy,  dx = (N dx̂ − Σ dx̂ − x̂ Σ dx̂ x̂) / (N σ) with dx̂ = dy γ
  backward(dy: Tensor): Tensor {
    const y = this.requireOutput();
    this.checkGradient(dy, y);
    const xHat = this.#normalised!, std = this.#std!;
    this.gamma.grad = sum(mul(dy, xHat), 0);
    this.beta.grad = sum(dy, 0);
    const dxHat = mul(dy, this.gamma.value);
    if (!this.training) return div(dxHat, std);
    const n = dy.shape[0];
    const centred = sub(sub(scale(dxHat, n), sum(dxHat, 0)), mul(xHat, sum(mul(dxHat, xHat), 0)));
    return scale(div(centred, std), 1 / n);
  }
  override parameters(): Parameter[] {
    return [this.gamma, this.beta];
  }
  override describe(): string {
    return `BatchNormalization(${this.features})`;
  }
}

// Losses ----------------------------------------------------------------------------------------

function requireRows(name: string, output: Tensor): void {
  if (output.rank !== 2) {
    throw new ShapeError(
      `${name}: expected outputs [batch, outputs], got ${shapeString(output.shape)}`,
    );
  }
}

/** Where y lies strictly inside the clipping range (elsewhere the clipped loss is flat in y). */
function insideClip(y: Tensor): Tensor {
  const aboveLow = greater(y, constant(y, KERAS_EPSILON));
  return mul(aboveLow, oneMinus(step(addScalar(y, -(1 - KERAS_EPSILON)))));
}

/**
 * Keras' `sparse_categorical_crossentropy` / `categorical_crossentropy` on probabilities (no
 * fromLogits), with class indices as targets:
 *   p = clip(y, ε, 1 − ε),  q = p / Σ_k p_k,  L = −mean log q[label]
 *   dL/dy_j = [ε < y_j < 1 − ε] (1/Σp − [j = label] / p_label) / N
 */
export class KerasProbabilityCrossEntropy implements Loss {
  readonly name = "categorical-crossentropy (Keras, on probabilities)";
  readonly targetKind = "labels";
  #y: Tensor | null = null;
  #p: Tensor | null = null;
  #rowSum: Tensor | null = null;
  #labels: Tensor | null = null;
  forward(y: Tensor, labels: Tensor): Tensor {
    requireRows(this.name, y);
    const p = clip(y, KERAS_EPSILON, 1 - KERAS_EPSILON);
    const rowSum = reshape(sum(p, 1), [y.shape[0], 1]);
    this.#y = y;
    this.#p = p;
    this.#rowSum = rowSum;
    this.#labels = labels;
    return neg(mean(pickColumns(log(div(p, rowSum)), labels)));
  }
  backward(): Tensor {
    const y = this.#y!, p = this.#p!;
    const [n, classes] = y.shape;
    const picked = div(oneHot(this.#labels!, classes), p);
    const ones = addScalar(scale(p, 0), 1);
    const gradient = sub(div(ones, this.#rowSum!), picked);
    return scale(mul(gradient, insideClip(y)), 1 / n);
  }
}

/**
 * Keras' `binary_crossentropy` on probabilities: clipped, then the mean over outputs and examples:
 *   p = clip(y, ε, 1 − ε),  L = −mean [t log p + (1 − t) log(1 − p)]
 *   dL/dy = [ε < y < 1 − ε] (p − t) / (p (1 − p)) / (N K)
 */
export class KerasBinaryCrossEntropy implements Loss {
  readonly name = "binary-crossentropy (Keras, on probabilities)";
  readonly targetKind = "dense";
  #y: Tensor | null = null;
  #p: Tensor | null = null;
  #t: Tensor | null = null;
  forward(y: Tensor, t: Tensor): Tensor {
    requireRows(this.name, y);
    const p = clip(y, KERAS_EPSILON, 1 - KERAS_EPSILON);
    this.#y = y;
    this.#p = p;
    this.#t = t;
    return neg(mean(add(mul(t, log(p)), mul(oneMinus(t), log(oneMinus(p))))));
  }
  backward(): Tensor {
    const y = this.#y!, p = this.#p!, t = this.#t!;
    const gradient = div(sub(p, t), mul(p, oneMinus(p)));
    return scale(mul(gradient, insideClip(y)), 1 / y.size);
  }
}

/**
 * Keras' `binary_crossentropy` with fromLogits, the mean over outputs and examples:
 *   L = mean [relu(z) − z t + log(1 + e^(−|z|))],  dL/dz = (σ(z) − t) / (N K)
 */
export class KerasBinaryCrossEntropyFromLogits implements Loss {
  readonly name = "binary-crossentropy (Keras, from logits)";
  readonly targetKind = "dense";
  #z: Tensor | null = null;
  #t: Tensor | null = null;
  forward(z: Tensor, t: Tensor): Tensor {
    requireRows(this.name, z);
    this.#z = z;
    this.#t = t;
    return mean(add(sub(relu(z), mul(z, t)), log(addScalar(exp(neg(abs(z))), 1))));
  }
  backward(): Tensor {
    const z = this.#z!;
    return scale(sub(sigmoid(z), this.#t!), 1 / z.size);
  }
}

/** Softmax cross-entropy on logits with class indices (Keras' fromLogits): −mean log softmax(z)[label]. */
export class KerasLogitCrossEntropy implements Loss {
  readonly name = "categorical-crossentropy (Keras, from logits)";
  readonly targetKind = "labels";
  #probabilities: Tensor | null = null;
  #labels: Tensor | null = null;
  forward(z: Tensor, labels: Tensor): Tensor {
    requireRows(this.name, z);
    const logProbabilities = logSoftmax(z);
    this.#probabilities = exp(logProbabilities);
    this.#labels = labels;
    return neg(mean(pickColumns(logProbabilities, labels)));
  }
  // dL/dz = (softmax(z) − onehot) / N
  backward(): Tensor {
    const p = this.#probabilities!;
    return scale(sub(p, oneHot(this.#labels!, p.shape[1])), 1 / p.shape[0]);
  }
}

/** Mean squared error over outputs and examples: L = mean (y − t)²,  dL/dy = 2 (y − t) / (N K). */
export class KerasMeanSquaredError implements Loss {
  readonly name = "mse";
  readonly targetKind = "dense";
  #difference: Tensor | null = null;
  forward(y: Tensor, t: Tensor): Tensor {
    requireRows(this.name, y);
    this.#difference = sub(y, t);
    return mean(square(this.#difference));
  }
  backward(): Tensor {
    const d = this.#difference!;
    return scale(d, 2 / d.size);
  }
}

/** Mean absolute error: L = mean |y − t|,  dL/dy = sign(y − t) / (N K). */
export class KerasMeanAbsoluteError implements Loss {
  readonly name = "mae";
  readonly targetKind = "dense";
  #difference: Tensor | null = null;
  forward(y: Tensor, t: Tensor): Tensor {
    requireRows(this.name, y);
    this.#difference = sub(y, t);
    return mean(abs(this.#difference));
  }
  backward(): Tensor {
    const d = this.#difference!;
    return scale(sub(step(d), step(neg(d))), 1 / d.size);
  }
}

/**
 * Keras' hinge: targets 0/1 are read as −1/+1, L = mean max(1 − t y, 0),
 * dL/dy = −t [1 − t y > 0] / (N K).
 */
export class KerasHinge implements Loss {
  readonly name = "hinge";
  readonly targetKind = "dense";
  #signed: Tensor | null = null;
  #margin: Tensor | null = null;
  forward(y: Tensor, t: Tensor): Tensor {
    requireRows(this.name, y);
    // Keras converts {0, 1} targets to {−1, 1}; targets already in {−1, 1} stay: t − [t = 0].
    this.#signed = sub(t, equal(t, constant(t, 0)));
    this.#margin = oneMinus(mul(this.#signed, y));
    return mean(relu(this.#margin));
  }
  backward(): Tensor {
    const signed = this.#signed!, margin = this.#margin!;
    return scale(neg(mul(signed, step(margin))), 1 / margin.size);
  }
}

// Optimisers ---------------------------------------------------------------------------------

export type KerasOptimizerName =
  | "sgd"
  | "rmsprop"
  | "adam"
  | "adamax"
  | "nadam"
  | "adagrad"
  | "adadelta";

export interface KerasOptimizerOptions {
  name: KerasOptimizerName;
  learningRate: number;
  momentum?: number;
  nesterov?: boolean;
  rho?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Learning rate / (1 + decay · iterations), as Keras 2's `decay`. */
  decay?: number;
  /** Each gradient's norm is clipped to this (Keras' clipnorm acts per tensor). */
  clipnorm?: number;
  /** Each gradient element is clipped to [−clipvalue, clipvalue]. */
  clipvalue?: number;
}

/**
 * The tf.keras 2 optimisers, written in the library's ops:
 *   sgd      v ← μ v − lr g;  w ← w + v   (Nesterov: w ← w + μ v − lr g; μ = 0: w ← w − lr g)
 *   rmsprop  a ← ρ a + (1 − ρ) g²;  w ← w − lr g / (√a + ε)
 *   adagrad  a ← a + g² (a starts at 0.1, as in tf.keras);  w ← w − lr g / (√a + ε)
 *   adadelta a ← ρ a + (1 − ρ) g²;  Δ ← √(d + ε) / √(a + ε) g;  d ← ρ d + (1 − ρ) Δ²;  w ← w − lr Δ
 *   adam     m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²;  w ← w − lr_t m / (√v + ε),
 *            lr_t = lr √(1 − β2ᵗ) / (1 − β1ᵗ)
 *   adamax   m as adam;  u ← max(β2 u, |g|);  w ← w − lr / (1 − β1ᵗ) m / (u + ε)
 *   nadam    adam with Nesterov's look-ahead: m̂ = β1 m / (1 − β1ᵗ⁺¹) + (1 − β1) g / (1 − β1ᵗ)
 *            (without Keras' momentum-decay schedule, which changes it by under 1%)
 */
export class KerasOptimizer implements Optimizer {
  readonly name: string;
  readonly learningRate: number;
  readonly options:
    & Required<Omit<KerasOptimizerOptions, "clipnorm" | "clipvalue">>
    & Pick<KerasOptimizerOptions, "clipnorm" | "clipvalue">;
  /** Updates applied so far (Keras' `iterations`). */
  iterations = 0;
  #states = new Map<Tensor, Tensor[]>();

  constructor(options: KerasOptimizerOptions) {
    this.name = options.name;
    if (!(options.learningRate > 0)) {
      throw new Error(`${options.name}: learningRate must be > 0, got ${options.learningRate}`);
    }
    this.learningRate = options.learningRate;
    this.options = {
      momentum: 0,
      nesterov: false,
      rho: options.name === "adadelta" ? 0.95 : 0.9,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
      decay: 0,
      ...options,
    };
  }

  /** The learning rate the next update uses. */
  currentLearningRate(): number {
    return this.learningRate / (1 + this.options.decay * this.iterations);
  }

  #state(param: Tensor, count: number, initial = 0): Tensor[] {
    let state = this.#states.get(param);
    if (!state) {
      state = Array.from(
        { length: count },
        () =>
          keep(
            param.backend.fromValues(
              new Float32Array(param.size).fill(initial),
              param.shape,
              param.dtype,
            ),
          ),
      );
      this.#states.set(param, state);
    }
    return state;
  }

  #clipped(g: Tensor): Tensor {
    const { clipnorm, clipvalue } = this.options;
    if (clipnorm !== undefined) {
      const norm = sqrt(sum(square(g)));
      g = mul(g, div(constant(g, clipnorm), maximum(norm, constant(g, clipnorm))));
    }
    if (clipvalue !== undefined) g = clip(g, -clipvalue, clipvalue);
    return g;
  }

  step(parameters: Parameter[]): void {
    const lr = this.currentLearningRate();
    const t = this.iterations + 1;
    const o = this.options;
    for (const p of parameters) {
      if (!p.grad) continue;
      const w = p.value, backend = w.backend;
      const g = this.#clipped(p.grad);
      const set = (target: Tensor, value: Tensor) => backend.assign(target, value);
      switch (this.name) {
        case "sgd": {
          if (o.momentum === 0) {
            set(w, sub(w, scale(g, lr)));
            break;
          }
          const [v] = this.#state(w, 1);
          set(v, sub(scale(v, o.momentum), scale(g, lr)));
          set(w, o.nesterov ? add(w, sub(scale(v, o.momentum), scale(g, lr))) : add(w, v));
          break;
        }
        case "rmsprop": {
          const [a] = this.#state(w, 1);
          set(a, add(scale(a, o.rho), scale(square(g), 1 - o.rho)));
          set(w, sub(w, scale(div(g, addScalar(sqrt(a), o.epsilon)), lr)));
          break;
        }
        case "adagrad": {
          const [a] = this.#state(w, 1, 0.1);
          set(a, add(a, square(g)));
          set(w, sub(w, scale(div(g, addScalar(sqrt(a), o.epsilon)), lr)));
          break;
        }
        case "adadelta": {
          const [a, d] = this.#state(w, 2);
          set(a, add(scale(a, o.rho), scale(square(g), 1 - o.rho)));
          const delta = mul(div(sqrt(addScalar(d, o.epsilon)), sqrt(addScalar(a, o.epsilon))), g);
          set(d, add(scale(d, o.rho), scale(square(delta), 1 - o.rho)));
          set(w, sub(w, scale(delta, lr)));
          break;
        }
        case "adam":
        case "nadam": {
          const [m, v] = this.#state(w, 2);
          set(m, add(scale(m, o.beta1), scale(g, 1 - o.beta1)));
          set(v, add(scale(v, o.beta2), scale(square(g), 1 - o.beta2)));
          if (this.name === "adam") {
            const lrT = lr * Math.sqrt(1 - o.beta2 ** t) / (1 - o.beta1 ** t);
            set(w, sub(w, scale(div(m, addScalar(sqrt(v), o.epsilon)), lrT)));
          } else {
            const mHat = add(
              scale(m, o.beta1 / (1 - o.beta1 ** (t + 1))),
              scale(g, (1 - o.beta1) / (1 - o.beta1 ** t)),
            );
            const vHat = scale(v, 1 / (1 - o.beta2 ** t));
            set(w, sub(w, scale(div(mHat, addScalar(sqrt(vHat), o.epsilon)), lr)));
          }
          break;
        }
        case "adamax": {
          const [m, u] = this.#state(w, 2);
          set(m, add(scale(m, o.beta1), scale(g, 1 - o.beta1)));
          set(u, maximum(scale(u, o.beta2), abs(g)));
          set(w, sub(w, scale(div(m, addScalar(u, o.epsilon)), lr / (1 - o.beta1 ** t))));
          break;
        }
        default:
          throw new Error(`unknown Keras optimiser "${this.name}"`);
      }
    }
    this.iterations++;
  }
}
