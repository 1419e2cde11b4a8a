/**
 * Activation functions as layers. The backward passes are where the classic
 * bugs live: the ReLU derivative is taken on the input (x > 0), the sigmoid and
 * tanh derivatives are cheapest written in terms of the output y.
 */
import {
  addScalar,
  leakyRelu,
  leakyStep,
  mul,
  neg,
  relu,
  sigmoid,
  softmax,
  square,
  step,
  sub,
  sum,
  tanh,
} from "../ops.ts";
import { reshape } from "../ops.ts";
import type { Tensor } from "../tensor.ts";
import { Layer } from "./layer.ts";

/** ReLU, max(x, 0): the default hidden activation. Units whose input stays below 0 pass no gradient (a "dead" ReLU). */
export class ReLU extends Layer {
  constructor() {
    super("relu");
  }
  /** y = max(x, 0) */
  forward(x: Tensor): Tensor {
    this.input = x;
    return (this.output = relu(x));
  }
  /** dx = dy · 1[x > 0] */
  backward(dy: Tensor): Tensor {
    this.checkGradient(dy, this.requireOutput());
    return mul(dy, step(this.requireInput()));
  }
}

/** Leaky ReLU: x for x > 0, `slope` · x otherwise, so that no unit stops passing gradient. */
export class LeakyReLU extends Layer {
  /**
   * A leaky ReLU with the given slope for x < 0.
   *
   * @param slope the gradient for x < 0, in [0, 1) (default 0.01)
   */
  constructor(readonly slope = 0.01) {
    super("leaky-relu");
    if (!(slope >= 0 && slope < 1)) {
      throw new Error(`LeakyReLU: slope must be in [0, 1), got ${slope}`);
    }
  }
  /** y = x > 0 ? x : slope · x */
  forward(x: Tensor): Tensor {
    this.input = x;
    return (this.output = leakyRelu(x, this.slope));
  }
  /** dx = dy · (x > 0 ? 1 : slope) */
  backward(dy: Tensor): Tensor {
    this.checkGradient(dy, this.requireOutput());
    return mul(dy, leakyStep(this.requireInput(), this.slope));
  }
  /** e.g. "LeakyReLU(0.01)". */
  override describe(): string {
    return `LeakyReLU(${this.slope})`;
  }
}

/** The logistic sigmoid, 1 / (1 + e^-x): outputs in (0, 1), for a probability per output. */
export class Sigmoid extends Layer {
  constructor() {
    super("sigmoid");
  }
  /** y = 1 / (1 + e^-x) */
  forward(x: Tensor): Tensor {
    this.input = x;
    return (this.output = sigmoid(x));
  }
  /** dx = dy · y (1 − y) */
  backward(dy: Tensor): Tensor {
    const y = this.requireOutput();
    this.checkGradient(dy, y);
    return mul(dy, mul(y, addScalar(neg(y), 1)));
  }
}

/** tanh: outputs in (−1, 1), zero-centred. */
export class Tanh extends Layer {
  constructor() {
    super("tanh");
  }
  /** y = tanh(x) */
  forward(x: Tensor): Tensor {
    this.input = x;
    return (this.output = tanh(x));
  }
  /** dx = dy · (1 − y²) */
  backward(dy: Tensor): Tensor {
    const y = this.requireOutput();
    this.checkGradient(dy, y);
    return mul(dy, addScalar(neg(square(y)), 1));
  }
}

/**
 * Softmax as a layer, for inspecting probabilities. To train a classifier, give
 * the logits to SoftmaxCrossEntropy instead: it is stable and its gradient is simpler.
 */
export class Softmax extends Layer {
  constructor() {
    super("softmax");
  }
  /** y_i = e^{x_i} / Σ_j e^{x_j}   (row-wise) */
  forward(x: Tensor): Tensor {
    this.input = x;
    return (this.output = softmax(x));
  }
  /** dx = y ⊙ (dy − Σ_j dy_j y_j) */
  backward(dy: Tensor): Tensor {
    const y = this.requireOutput();
    this.checkGradient(dy, y);
    const rowDot = reshape(sum(mul(dy, y), 1), [y.shape[0], 1]);
    return mul(y, sub(dy, rowDot));
  }
}

/** The identity, for "no activation" in configurable models. */
export class Identity extends Layer {
  constructor() {
    super("identity");
  }
  /** y = x */
  forward(x: Tensor): Tensor {
    this.input = x;
    return (this.output = x);
  }
  /** dx = dy */
  backward(dy: Tensor): Tensor {
    return dy;
  }
}

/** The activations by name, as `mlp` and `activation()` take them. */
export type ActivationName = "relu" | "leaky-relu" | "sigmoid" | "tanh" | "softmax" | "identity";
/** Every ActivationName, in the order tables list them. */
export const activationNames: readonly ActivationName[] = [
  "relu",
  "leaky-relu",
  "sigmoid",
  "tanh",
  "softmax",
  "identity",
];

/** A new activation layer by name; `slope` is for leaky-relu. */
export function activation(name: ActivationName, options: { slope?: number } = {}): Layer {
  switch (name) {
    case "relu":
      return new ReLU();
    case "leaky-relu":
      return new LeakyReLU(options.slope);
    case "sigmoid":
      return new Sigmoid();
    case "tanh":
      return new Tanh();
    case "softmax":
      return new Softmax();
    case "identity":
      return new Identity();
    default:
      throw new Error(`unknown activation "${name}": choose one of ${activationNames.join(", ")}`);
  }
}
