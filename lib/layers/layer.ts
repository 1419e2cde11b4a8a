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
   * A frozen layer's parameters get no gradient and no update (fine-tuning keeps a
   * pre-trained base fixed). Set it with freeze()/unfreeze(), which reach sublayers.
   */
  frozen = false;

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

  /** Freeze this layer and every layer inside it (their gradients are dropped). */
  freeze(): this {
    for (const layer of leafLayers(this)) {
      layer.frozen = true;
      for (const p of layer.parameters()) p.grad = null;
    }
    this.frozen = true;
    return this;
  }

  /** Let this layer and every layer inside it train again. */
  unfreeze(): this {
    for (const layer of leafLayers(this)) layer.frozen = false;
    this.frozen = false;
    return this;
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

/** The layers inside `layer` (a Sequential's `layers`), or none. */
export function sublayers(layer: Layer): Layer[] {
  const inner = (layer as { layers?: unknown }).layers;
  return Array.isArray(inner) ? inner.filter((l): l is Layer => l instanceof Layer) : [];
}

/** The layers with no layers inside them, depth first: the ones that compute. */
export function leafLayers(layer: Layer): Layer[] {
  const inner = sublayers(layer);
  return inner.length === 0 ? [layer] : inner.flatMap(leafLayers);
}

/**
 * The parameters an optimiser may change: those of layers that are not frozen,
 * named as `layer.parameters()` names them.
 */
export function trainableParameters(layer: Layer): Parameter[] {
  const frozen = new Set<Tensor>();
  for (const leaf of leafLayers(layer)) {
    if (leaf.frozen) { for (const p of leaf.parameters()) frozen.add(p.value); }
  }
  return layer.parameters().filter((p) => !frozen.has(p.value));
}

/**
 * Switch every layer inside `layer` that has a training mode (Dropout, batch
 * normalisation) to training (true) or evaluation (false). `train()` switches
 * to training for its steps; `evaluate()` and `predict()` always run in evaluation.
 * Returns the modes it replaced, for `restoreTrainingModes`.
 */
export function setTrainingMode(layer: Layer, training: boolean): Map<Layer, boolean> {
  const previous = new Map<Layer, boolean>();
  for (const leaf of leafLayers(layer)) {
    if (hasTrainingMode(leaf)) {
      previous.set(leaf, leaf.training);
      leaf.training = training;
    }
  }
  return previous;
}

/** Put back the modes `setTrainingMode` replaced. */
export function restoreTrainingModes(previous: Map<Layer, boolean>): void {
  for (const [layer, training] of previous) {
    if (hasTrainingMode(layer)) layer.training = training;
  }
}

/** A layer that behaves differently in training and evaluation. */
export interface HasTrainingMode {
  /** true while training, false in evaluation. */
  training: boolean;
}

/** Whether a layer has a training mode (a boolean `training` field). */
export function hasTrainingMode(layer: Layer): layer is Layer & HasTrainingMode {
  return typeof (layer as Partial<HasTrainingMode>).training === "boolean";
}
