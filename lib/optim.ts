/**
 * Optimisers: they change parameters in place from their gradients.
 * Weight decay here is L2 regularisation added to the gradient (g + λ w).
 */
import type { Parameter } from "./layers/layer.ts";
import { keep, type Tensor } from "./tensor.ts";

/** What every optimiser is: it changes parameters in place from their gradients. */
export interface Optimizer {
  /** e.g. "adam". */
  readonly name: string;
  /** The step size. */
  readonly learningRate: number;
  /** Apply one update to every parameter that has a gradient. */
  step(parameters: Parameter[]): void;
}

/** A value as a message shows it: a string quoted, so that "0.1" is told apart from 0.1. */
function shown(value: unknown): string {
  return typeof value === "string" ? `the string "${value}" (give a number)` : String(value);
}

/** The options object, or an error saying how to call the constructor. */
function optionsOf<T>(owner: string, options: T): T {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${owner}: give the options, e.g. new ${owner}({ learningRate: 0.01 }); got ${
        shown(options)
      }`,
    );
  }
  return options;
}

function positive(owner: string, what: string, value: number): number {
  if (!(typeof value === "number" && Number.isFinite(value) && value > 0)) {
    throw new Error(`${owner}: ${what} must be a finite number > 0, got ${shown(value)}`);
  }
  return value;
}

function inRange(owner: string, what: string, value: number, low: number, high: number): number {
  if (!(typeof value === "number" && value >= low && value < high)) {
    throw new Error(`${owner}: ${what} must be in [${low}, ${high}), got ${shown(value)}`);
  }
  return value;
}

/** SGD's settings. */
export interface SgdOptions {
  /** The step size, a finite number > 0 (required). */
  learningRate: number;
  /** L2 regularisation λ, added to the gradient as λ w (default 0). */
  weightDecay?: number;
}

/** w ← w − lr (g + λ w) */
export class SGD implements Optimizer {
  /** The name. */
  readonly name = "sgd";
  /** The step size. */
  readonly learningRate: number;
  /** L2 regularisation λ. */
  readonly weightDecay: number;
  /** Plain gradient descent, e.g. `new SGD({ learningRate: 0.1 })`. */
  constructor(options: SgdOptions) {
    optionsOf("SGD", options);
    this.learningRate = positive("SGD", "learningRate", options.learningRate);
    this.weightDecay = inRange("SGD", "weightDecay", options.weightDecay ?? 0, 0, Infinity);
  }
  step(parameters: Parameter[]): void {
    for (const p of parameters) {
      if (p.grad) p.value.backend.sgdUpdate(p.value, p.grad, this.learningRate, this.weightDecay);
    }
  }
}

/** Momentum's settings. */
export interface MomentumOptions extends SgdOptions {
  /** μ, in [0, 1) (default 0.9). */
  momentum?: number;
}

/** v ← μ v + (g + λ w);  w ← w − lr v */
export class Momentum implements Optimizer {
  /** The name. */
  readonly name = "momentum";
  /** The step size. */
  readonly learningRate: number;
  /** μ. */
  readonly momentum: number;
  /** L2 regularisation λ. */
  readonly weightDecay: number;
  #velocity = new Map<Tensor, Tensor>();
  /** Gradient descent with momentum, e.g. `new Momentum({ learningRate: 0.01, momentum: 0.9 })`. */
  constructor(options: MomentumOptions) {
    optionsOf("Momentum", options);
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

/** Adam's settings. */
export interface AdamOptions extends SgdOptions {
  /** Decay of the first-moment average, in [0, 1) (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment average, in [0, 1) (default 0.999). */
  beta2?: number;
  /** Added to the root of the second moment (default 1e-8). */
  epsilon?: number;
}

/**
 * Adam: running means of g and g², bias-corrected:
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,  w ← w − lr m̂ / (√v̂ + ε)
 */
export class Adam implements Optimizer {
  /** The name. */
  readonly name = "adam";
  /** The step size. */
  readonly learningRate: number;
  /** Decay of the first-moment average. */
  readonly beta1: number;
  /** Decay of the second-moment average. */
  readonly beta2: number;
  /** Added to the root of the second moment. */
  readonly epsilon: number;
  /** L2 regularisation λ. */
  readonly weightDecay: number;
  #m = new Map<Tensor, Tensor>();
  #v = new Map<Tensor, Tensor>();
  #step = 0;
  /** Adam, e.g. `new Adam({ learningRate: 1e-3 })`. */
  constructor(options: AdamOptions) {
    optionsOf("Adam", options);
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

/** The optimisers by name. */
export type OptimizerName = "sgd" | "momentum" | "adam";
/** Every OptimizerName. */
export const optimizerNames: readonly OptimizerName[] = ["sgd", "momentum", "adam"];

/** A new optimiser by name, with its options. */
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
