/**
 * Linear (fully connected): y = x W + b, with x [batch, in], W [in, out], b [out].
 */
import { type Init, initName, initValues } from "../init.ts";
import { linear, matmul, ShapeError, sum } from "../ops.ts";
import { Random } from "../random.ts";
import { shapeString, type Tensor } from "../tensor.ts";
import { cpu } from "../backend/mod.ts";
import type { Backend } from "../backend/backend.ts";
import type { DType } from "../tensor.ts";
import { Layer, type Parameter } from "./layer.ts";

/** Linear's settings: initialisers, randomness, backend and dtype. */
export interface LinearOptions {
  /** How W starts (default "he-normal"). */
  weightInit?: Init;
  /** How b starts (default "zeros"). */
  biasInit?: Init;
  /** Where the initial values come from; a fixed seed by default. */
  random?: Random;
  /** Where the parameters live (default the CPU). */
  backend?: Backend;
  /** "float32" (default) for training, "float64" for gradcheck. */
  dtype?: DType;
}

/**
 * A fully connected layer, y = x W + b, with x [batch, in], W [in, out], b [out].
 * Weights start from `weightInit` (He normal by default), biases from `biasInit` (zeros).
 *
 * @example
 * ```ts
 * import { Linear, tensor } from "../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const layer = new Linear(3, 2);
 * const y = layer.forward(tensor([1, 2, 3, 4, 5, 6], [2, 3]));
 * assert.deepEqual(y.shape, [2, 2]);
 * const dx = layer.backward(tensor([1, 0, 0, 1], [2, 2]));
 * assert.deepEqual(dx?.shape, [2, 3]); // dx = dy Wᵀ
 * assert.deepEqual(layer.weight.grad?.shape, [3, 2]); // dW = xᵀ dy
 * assert.throws(() => layer.forward(tensor([1, 2], [1, 2])), /expected input \[batch, 3\], got \[1, 2\]/);
 * ```
 */
export class Linear extends Layer {
  /** W, [in, out]. */
  readonly weight: Parameter;
  /** b, [out]. */
  readonly bias: Parameter;
  /** How W was initialised (for describe()). */
  readonly weightInit: Init;

  /**
   * A Linear layer from `inFeatures` to `outFeatures` values per example.
   *
   * @param inFeatures the input width, a positive integer
   * @param outFeatures the output width, a positive integer
   * @param options initialisers, randomness, backend and dtype
   */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super("linear");
    for (
      const [what, value] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const
    ) {
      if (!Number.isInteger(value) || value < 1) {
        const shown = typeof value === "string" ? `the string "${value}" (give a number)` : value;
        throw new Error(`Linear: ${what} must be a positive integer, got ${shown}`);
      }
    }
    const {
      weightInit = "he-normal",
      biasInit = "zeros",
      random = new Random(0),
      backend = cpu,
      dtype = "float32",
    } = options;
    this.weightInit = weightInit;
    const w = initValues(weightInit, inFeatures * outFeatures, inFeatures, outFeatures, random);
    const b = initValues(biasInit, outFeatures, inFeatures, outFeatures, random);
    this.weight = {
      name: "weight",
      value: backend.fromValues(w, [inFeatures, outFeatures], dtype),
      grad: null,
    };
    this.bias = { name: "bias", value: backend.fromValues(b, [outFeatures], dtype), grad: null };
  }

  /** y = x W + b */
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ShapeError(
        `${this.name}: expected input [batch, ${this.inFeatures}], got ${shapeString(x.shape)}`,
      );
    }
    this.input = x;
    this.output = linear(x, this.weight.value, this.bias.value);
    return this.output;
  }

  /** dW = xᵀ dy,  db = Σ_rows dy,  dx = dy Wᵀ */
  backward(dy: Tensor, needInputGradient = true): Tensor | null {
    const x = this.requireInput();
    this.checkGradient(dy, this.requireOutput());
    // A frozen layer computes no parameter gradient: only dx, for the layers below it.
    if (!this.frozen) {
      this.weight.grad = matmul(x, dy, { transposeA: true });
      this.bias.grad = sum(dy, 0);
    }
    return needInputGradient ? matmul(dy, this.weight.value, { transposeB: true }) : null;
  }

  /** [weight, bias]. */
  override parameters(): Parameter[] {
    return [this.weight, this.bias];
  }

  /** e.g. "Linear(784 → 128, he-normal)". */
  override describe(): string {
    return `Linear(${this.inFeatures} → ${this.outFeatures}, ${initName(this.weightInit)})`;
  }
}
