/**
 * What every layer is: a forward pass that remembers what its backward pass
 * needs, a backward pass that turns dLoss/dOutput into dLoss/dInput (and fills
 * its parameters' gradients), and the list of its parameters.
 */
import type { Tensor } from "../tensor.ts";
import { ShapeError } from "../ops.ts";

export interface Parameter {
  /** e.g. "linear1.weight" once the layer is inside a Sequential. */
  name: string;
  value: Tensor;
  /** Filled by backward(); null before the first backward pass. */
  grad: Tensor | null;
}

export abstract class Layer {
  /** Set by Sequential to the layer's kind and position, e.g. "linear2". */
  name: string;
  /** The last input and output, kept for backward() and for monitors. */
  input: Tensor | null = null;
  output: Tensor | null = null;

  constructor(readonly kind: string) {
    this.name = kind;
  }

  abstract forward(x: Tensor): Tensor;

  /**
   * Given dy = dLoss/dOutput, fill the parameters' gradients and return dLoss/dInput.
   * When `needInputGradient` is false (the first layer) the layer may skip computing it.
   */
  abstract backward(dy: Tensor, needInputGradient?: boolean): Tensor | null;

  parameters(): Parameter[] {
    return [];
  }

  /** One line for summaries, e.g. "Linear(784 → 128, he-normal)". */
  describe(): string {
    return this.kind;
  }

  /** Throw unless forward() has run, naming the layer. */
  protected requireInput(): Tensor {
    if (!this.input) throw new Error(`${this.name}: backward() called before forward()`);
    return this.input;
  }

  protected requireOutput(): Tensor {
    if (!this.output) throw new Error(`${this.name}: backward() called before forward()`);
    return this.output;
  }

  protected checkGradient(dy: Tensor, reference: Tensor): void {
    if (dy.size !== reference.size || dy.rank !== reference.rank) {
      throw new ShapeError(
        `${this.name}: backward() got a gradient of shape [${dy.shape}] but the output was [${reference.shape}]`,
      );
    }
  }
}
