/**
 * Optimisers: they change parameters in place from their gradients.
 * Weight decay here is L2 regularisation added to the gradient (g + λ w).
 */
import type { Parameter } from "./layers/layer.ts";
import { keep, type Tensor } from "./tensor.ts";

export interface Optimizer {
  readonly name: string;
  readonly learningRate: number;
  /** Apply one update to every parameter that has a gradient. */
  step(parameters: Parameter[]): void;
}

function positive(owner: string, what: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new Error(`${owner}: ${what} must be a finite number > 0, got ${value}`);
  }
  return value;
}

function inRange(owner: string, what: string, value: number, low: number, high: number): number {
  if (!(value >= low && value < high)) {
    throw new Error(`${owner}: ${what} must be in [${low}, ${high}), got ${value}`);
  }
  return value;
}

export interface SgdOptions {
  learningRate: number;
  weightDecay?: number;
}

/** w ← w − lr (g + λ w) */
export class SGD implements Optimizer {
  readonly name = "sgd";
  readonly learningRate: number;
  readonly weightDecay: number;
  constructor(options: SgdOptions) {
    this.learningRate = positive("SGD", "learningRate", options.learningRate);
    this.weightDecay = inRange("SGD", "weightDecay", options.weightDecay ?? 0, 0, Infinity);
  }
  step(parameters: Parameter[]): void {
    for (const p of parameters) {
      if (p.grad) p.value.backend.sgdUpdate(p.value, p.grad, this.learningRate, this.weightDecay);
    }
  }
}

export interface MomentumOptions extends SgdOptions {
  momentum?: number;
}

/** v ← μ v + (g + λ w);  w ← w − lr v */
export class Momentum implements Optimizer {
  readonly name = "momentum";
  readonly learningRate: number;
  readonly momentum: number;
  readonly weightDecay: number;
  #velocity = new Map<Tensor, Tensor>();
  constructor(options: MomentumOptions) {
    this.learningRate = positive("Momentum", "learningRate", options.learningRate);
    this.momentum = inRange("Momentum", "momentum", options.momentum ?? 0.9, 0, 1);
    this.weightDecay = inRange("Momentum", "weightDecay", options.weightDecay ?? 0, 0, Infinity);
  }
  step(parameters: Parameter[]): void {
    for (const p of parameters) {
      if (!p.grad) continue;
      const v = stateFor(this.#velocity, p.value);
      p.value.backend.momentumUpdate(
        p.value,
        v,
        p.grad,
        this.learningRate,
        this.momentum,
        this.weightDecay,
      );
    }
  }
}

export interface AdamOptions extends SgdOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam: running means of g and g², bias-corrected:
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,  w ← w − lr m̂ / (√v̂ + ε)
 */
export class Adam implements Optimizer {
  readonly name = "adam";
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  #m = new Map<Tensor, Tensor>();
  #v = new Map<Tensor, Tensor>();
  #step = 0;
  constructor(options: AdamOptions) {
    this.learningRate = positive("Adam", "learningRate", options.learningRate);
    this.beta1 = inRange("Adam", "beta1", options.beta1 ?? 0.9, 0, 1);
    this.beta2 = inRange("Adam", "beta2", options.beta2 ?? 0.999, 0, 1);
    this.epsilon = positive("Adam", "epsilon", options.epsilon ?? 1e-8);
    this.weightDecay = inRange("Adam", "weightDecay", options.weightDecay ?? 0, 0, Infinity);
  }
  step(parameters: Parameter[]): void {
    this.#step++;
    for (const p of parameters) {
      if (!p.grad) continue;
      p.value.backend.adamUpdate(
        p.value,
        stateFor(this.#m, p.value),
        stateFor(this.#v, p.value),
        p.grad,
        {
          learningRate: this.learningRate,
          beta1: this.beta1,
          beta2: this.beta2,
          epsilon: this.epsilon,
          weightDecay: this.weightDecay,
          step: this.#step,
        },
      );
    }
  }
}

/** Optimiser state lives as long as the optimiser, outside any training-step scope. */
function stateFor(states: Map<Tensor, Tensor>, param: Tensor): Tensor {
  let state = states.get(param);
  if (!state) {
    state = keep(param.backend.zeros(param.shape, param.dtype));
    states.set(param, state);
  }
  return state;
}

export type OptimizerName = "sgd" | "momentum" | "adam";
export const optimizerNames: readonly OptimizerName[] = ["sgd", "momentum", "adam"];

export function optimizerByName(
  name: OptimizerName,
  options: SgdOptions & MomentumOptions & AdamOptions,
): Optimizer {
  switch (name) {
    case "sgd":
      return new SGD(options);
    case "momentum":
      return new Momentum(options);
    case "adam":
      return new Adam(options);
    default:
      throw new Error(`unknown optimiser "${name}": choose one of ${optimizerNames.join(", ")}`);
  }
}
