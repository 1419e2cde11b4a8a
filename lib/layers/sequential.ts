/**
 * Sequential: layers applied in order; backward runs them in reverse.
 */
import type { Backend } from "../backend/backend.ts";
import type { Init } from "../init.ts";
import { Random } from "../random.ts";
import type { DType, Tensor } from "../tensor.ts";
import { activation, type ActivationName } from "./activations.ts";
import { Layer, type Parameter } from "./layer.ts";
import { Linear } from "./linear.ts";

/**
 * Layers applied in order; backward() runs them in reverse. Each layer is named by
 * its kind and position among layers of that kind: linear1, relu1, linear2, ...
 *
 * @example
 * ```ts
 * import { Linear, ReLU, Sequential, tensor } from "../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const model = new Sequential([new Linear(4, 8), new ReLU(), new Linear(8, 3)]);
 * assert.deepEqual(model.layers.map((l) => l.name), ["linear1", "relu1", "linear2"]);
 * assert.equal(model.parameterCount(), 4 * 8 + 8 + 8 * 3 + 3);
 * assert.deepEqual(model.forward(tensor(new Array(8).fill(1), [2, 4])).shape, [2, 3]);
 * ```
 */
export class Sequential extends Layer {
  /** The layers, in order. */
  readonly layers: Layer[];

  /**
   * A model from its layers.
   *
   * @param layers the layers, in order (each is renamed by its kind and position)
   */
  constructor(layers: Layer[]) {
    super("sequential");
    if (!Array.isArray(layers)) {
      throw new TypeError(
        `Sequential: give a list of layers, e.g. new Sequential([new Linear(2, 3), new ReLU()]), got ${
          (layers as Layer | undefined)?.kind
            ? `a bare ${(layers as Layer).kind} layer`
            : String(layers)
        }`,
      );
    }
    const notLayer = layers.findIndex((l) => !(l instanceof Layer));
    if (notLayer >= 0) {
      throw new TypeError(
        `Sequential: item ${notLayer} of the list is not a layer (got ${String(layers[notLayer])})`,
      );
    }
    this.layers = layers;
    // Name each layer by its kind and position among layers of that kind: linear1, relu1, linear2...
    const seen = new Map<string, number>();
    for (const layer of layers) {
      const index = (seen.get(layer.kind) ?? 0) + 1;
      seen.set(layer.kind, index);
      layer.name = `${layer.kind}${index}`;
    }
  }

  /** Each layer in order: h = layer(h). */
  forward(x: Tensor): Tensor {
    this.input = x;
    let h = x;
    for (const layer of this.layers) h = layer.forward(h);
    return (this.output = h);
  }

  /** Each layer in reverse; the first layer's input gradient only when asked (`needInputGradient`). */
  backward(dy: Tensor, needInputGradient = false): Tensor | null {
    let grad: Tensor | null = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      // The first layer's input is the data: nobody needs its gradient, so skip that matmul.
      grad = this.layers[i].backward(grad!, i > 0 || needInputGradient);
    }
    return grad;
  }

  /** All parameters, named "<layer>.<parameter>", e.g. "linear1.weight". */
  override parameters(): Parameter[] {
    const all: Parameter[] = [];
    for (const layer of this.layers) {
      // A nested Sequential names its parameters first; a leaf's own name ("weight") is kept
      // aside the first time, so asking again never stacks prefixes.
      for (const p of layer.parameters()) {
        const own = layer instanceof Sequential ? p.name : leafName(p);
        p.name = `${layer.name}.${own}`;
        all.push(p);
      }
    }
    return all;
  }

  /** Total number of trainable values. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }

  /** One line per layer, e.g. "linear1: Linear(784 → 128, he-normal)". */
  override describe(): string {
    return this.layers.map((l) => `${l.name}: ${l.describe()}`).join("\n");
  }
}

/** `mlp`'s settings. */
export interface MlpOptions {
  /** Hidden activation (default relu). */
  activation?: ActivationName;
  /** Slope for leaky-relu. */
  slope?: number;
  /** Activation after the last Linear (default identity: the logits stay linear). */
  outputActivation?: ActivationName;
  /** How every weight matrix starts (default "he-normal"). */
  weightInit?: Init;
  /** How every bias starts (default "zeros"). */
  biasInit?: Init;
  /** Seeds the initial values (default 0). */
  seed?: number;
  /** Where the parameters live (default the CPU). */
  backend?: Backend;
  /** "float32" (default) for training, "float64" for gradcheck. */
  dtype?: DType;
}

/**
 * A multilayer perceptron from its sizes, e.g. mlp([784, 128, 10]):
 * Linear → activation → ... → Linear → outputActivation.
 */
export function mlp(sizes: number[], options: MlpOptions = {}): Sequential {
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new Error(
      `mlp: needs a list of at least input and output sizes, e.g. mlp([784, 128, 10]), got ${
        Array.isArray(sizes) ? `[${sizes.join(", ")}]` : String(sizes)
      }`,
    );
  }
  const text = sizes.findIndex((size) => typeof size !== "number");
  if (text >= 0) {
    throw new TypeError(
      `mlp: size ${text} is ${
        JSON.stringify(sizes[text])
      }, a ${typeof sizes[text]}; sizes are numbers`,
    );
  }
  const { activation: hidden = "relu", outputActivation = "identity", seed = 0 } = options;
  const random = new Random(seed);
  const layers: Layer[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(
      new Linear(sizes[i], sizes[i + 1], {
        weightInit: options.weightInit,
        biasInit: options.biasInit,
        random,
        backend: options.backend,
        dtype: options.dtype,
      }),
    );
    const last = i + 2 === sizes.length;
    const name = last ? outputActivation : hidden;
    if (name !== "identity") layers.push(activation(name, { slope: options.slope }));
  }
  return new Sequential(layers);
}

const leafNames = new WeakMap<Parameter, string>();
/** The name a layer gave its parameter ("weight"), before any Sequential prefixed it. */
function leafName(p: Parameter): string {
  let name = leafNames.get(p);
  if (name === undefined) {
    name = p.name;
    leafNames.set(p, name);
  }
  return name;
}
