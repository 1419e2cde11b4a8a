/**
 * Linear (fully connected): y = x W + b, with x [batch, in], W [in, out], b [out].
 */
import { type Init, initName, initValues } from "../init.ts";
import { add, matmul, ShapeError, sum } from "../ops.ts";
import { Random } from "../random.ts";
import { shapeString, type Tensor } from "../tensor.ts";
import { cpu } from "../backend/mod.ts";
import type { Backend } from "../backend/backend.ts";
import type { DType } from "../tensor.ts";
import { Layer, type Parameter } from "./layer.ts";

export interface LinearOptions {
  weightInit?: Init;
  biasInit?: Init;
  /** Where the initial values come from; a fixed seed by default. */
  random?: Random;
  backend?: Backend;
  dtype?: DType;
}

export class Linear extends Layer {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly weightInit: Init;

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
        throw new Error(`Linear: ${what} must be a positive integer, got ${value}`);
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

  // y = x W + b
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ShapeError(
        `${this.name}: expected input [batch, ${this.inFeatures}], got ${shapeString(x.shape)}`,
      );
    }
    this.input = x;
    this.output = add(matmul(x, this.weight.value), this.bias.value);
    return this.output;
  }

  // dW = xᵀ dy,  db = Σ_rows dy,  dx = dy Wᵀ
  backward(dy: Tensor, needInputGradient = true): Tensor | null {
    const x = this.requireInput();
    this.checkGradient(dy, this.requireOutput());
    this.weight.grad = matmul(x, dy, { transposeA: true });
    this.bias.grad = sum(dy, 0);
    return needInputGradient ? matmul(dy, this.weight.value, { transposeB: true }) : null;
  }

  override parameters(): Parameter[] {
    return [this.weight, this.bias];
  }

  override describe(): string {
    return `Linear(${this.inFeatures} → ${this.outFeatures}, ${initName(this.weightInit)})`;
  }
}
