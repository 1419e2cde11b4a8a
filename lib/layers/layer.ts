/**
 * What every layer is: a forward pass that remembers what its backward pass
 * needs, a backward pass that turns dLoss/dOutput into dLoss/dInput (and fills
 * its parameters' gradients), and the list of its parameters.
 */
import type { Tensor } from "../tensor.ts";
import { ShapeError } from "../ops.ts";

/** A trainable tensor and its gradient, as optimisers and monitors see it. */
export interface Parameter {
  /** e.g. "linear1.weight" once the layer is inside a Sequential. */
  name: string;
  /** The current values. */
  value: Tensor;
  /** Filled by backward(); null before the first backward pass. */
  grad: Tensor | null;
}

/**
 * The interface every layer shares (ConvNetJS style): forward() remembers what
 * backward() needs; backward() fills the parameters' gradients and returns dLoss/dInput.
 * Subclass it for a layer of your own, and check it with `gradcheckLayer`.
 */
export abstract class Layer {
  /** Set by Sequential to the layer's kind and position, e.g. "linear2". */
  name: string;
  /** The last input and output, kept for backward() and for monitors. */
  input: Tensor | null = null;
  /** The last output (null before the first forward). */
  output: Tensor | null = null;

  /**
   * A layer of the given kind.
   *
   * @param kind what the layer is, e.g. "linear"; Sequential names layers by it ("linear1")
   */
  constructor(readonly kind: string) {
    this.name = kind;
  }

  /** Compute the output for a batch x, [batch, features], keeping what backward() needs. */
  abstract forward(x: Tensor): Tensor;

  /**
   * Given dy = dLoss/dOutput, fill the parameters' gradients and return dLoss/dInput.
   * When `needInputGradient` is false (the first layer) the layer may skip computing it.
   */
  abstract backward(dy: Tensor, needInputGradient?: boolean): Tensor | null;

  /** The trainable parameters (none for an activation). */
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

  /** Throw unless forward() has run, naming the layer. */
  protected requireOutput(): Tensor {
    if (!this.output) throw new Error(`${this.name}: backward() called before forward()`);
    return this.output;
  }

  /** Throw, naming the layer and both shapes, unless dy has the shape of `reference` (the output). */
  protected checkGradient(dy: Tensor, reference: Tensor): void {
    if (dy.size !== reference.size || dy.rank !== reference.rank) {
      throw new ShapeError(
        `${this.name}: backward() got a gradient of shape [${dy.shape}] but the output was [${reference.shape}]`,
      );
    }
  }
}
