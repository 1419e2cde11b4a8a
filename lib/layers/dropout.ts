/**
 * Dropout (Srivastava et al. 2014, "inverted" form): in training each value is
 * kept with probability 1 − rate and scaled by 1 / (1 − rate), so that the
 * expected output equals the input and evaluation needs no rescaling; in
 * evaluation the layer is the identity. `train()` switches layers to training
 * for its steps; `evaluate()` and `predict()` always run in evaluation.
 *
 * @module
 */
import { mul } from "../ops.ts";
import { Random } from "../random.ts";
import type { Tensor } from "../tensor.ts";
import { type HasTrainingMode, Layer } from "./layer.ts";

/**
 * Zero a random fraction `rate` of the values in training; pass them through in evaluation.
 *
 * @example
 * ```ts
 * import { Dropout, tensor } from "../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dropout = new Dropout(0.5, { seed: 1 });
 * const x = tensor(new Array(1000).fill(1), [10, 100]);
 * const kept = Array.from(await dropout.forward(x).data());
 * assert.ok(kept.every((v) => v === 0 || v === 2)); // kept values scaled by 1 / (1 − 0.5)
 * dropout.training = false;
 * assert.deepEqual(Array.from(await dropout.forward(x).data()), new Array(1000).fill(1));
 * ```
 */
export class Dropout extends Layer implements HasTrainingMode {
  /** true: drop values; false (evaluation): the identity. */
  training = true;
  /** The probability of dropping each value, in [0, 1). */
  readonly rate: number;
  /** The last training forward's mask, values 0 or 1 / (1 − rate); null in evaluation. */
  #mask: Tensor | null = null;
  readonly #random: Random;

  /**
   * Dropout of `rate` of the values in training; the identity in evaluation.
   *
   * @param rate the fraction of values dropped in training, in [0, 1)
   * @param options seed: where the masks come from (default 0)
   */
  constructor(rate: number, options: { seed?: number } = {}) {
    super("dropout");
    if (!(typeof rate === "number" && rate >= 0 && rate < 1)) {
      throw new Error(
        `Dropout: rate is the fraction dropped, in [0, 1), got ${JSON.stringify(rate)}`,
      );
    }
    this.rate = rate;
    this.#random = new Random(options.seed ?? 0);
  }

  /** training: y = x ⊙ m,  m = Bernoulli(1 − rate) / (1 − rate);  evaluation: y = x */
  forward(x: Tensor): Tensor {
    this.input = x;
    if (!this.training || this.rate === 0) {
      this.#mask = null;
      return (this.output = x);
    }
    const keptScale = 1 / (1 - this.rate);
    const mask = new Float32Array(x.size);
    for (let i = 0; i < mask.length; i++) {
      mask[i] = this.#random.uniform() >= this.rate ? keptScale : 0;
    }
    this.#mask = x.backend.fromValues(mask, x.shape, x.dtype);
    return (this.output = mul(x, this.#mask));
  }

  /** dx = dy ⊙ m (the same mask);  evaluation: dx = dy */
  backward(dy: Tensor, needInputGradient = true): Tensor | null {
    this.checkGradient(dy, this.requireOutput());
    if (!needInputGradient) return null;
    return this.#mask ? mul(dy, this.#mask) : dy;
  }

  /** e.g. "Dropout(0.5)". */
  override describe(): string {
    return `Dropout(${this.rate})`;
  }
}
