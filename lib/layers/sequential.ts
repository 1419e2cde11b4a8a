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

export class Sequential extends Layer {
  readonly layers: Layer[];

  constructor(layers: Layer[]) {
    super("sequential");
    this.layers = layers;
    // Name each layer by its kind and position among layers of that kind: linear1, relu1, linear2...
    const seen = new Map<string, number>();
    for (const layer of layers) {
      const index = (seen.get(layer.kind) ?? 0) + 1;
      seen.set(layer.kind, index);
      layer.name = `${layer.kind}${index}`;
    }
  }

  forward(x: Tensor): Tensor {
    this.input = x;
    let h = x;
    for (const layer of this.layers) h = layer.forward(h);
    return (this.output = h);
  }

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
      for (const p of layer.parameters()) {
        if (!p.name.startsWith(layer.name + ".")) p.name = `${layer.name}.${p.name}`;
        all.push(p);
      }
    }
    return all;
  }

  /** Total number of trainable values. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }

  override describe(): string {
    return this.layers.map((l) => `${l.name}: ${l.describe()}`).join("\n");
  }
}

export interface MlpOptions {
  /** Hidden activation (default relu). */
  activation?: ActivationName;
  /** Slope for leaky-relu. */
  slope?: number;
  /** Activation after the last Linear (default identity: the logits stay linear). */
  outputActivation?: ActivationName;
  weightInit?: Init;
  biasInit?: Init;
  seed?: number;
  backend?: Backend;
  dtype?: DType;
}

/**
 * A multilayer perceptron from its sizes, e.g. mlp([784, 128, 10]):
 * Linear → activation → ... → Linear → outputActivation.
 */
export function mlp(sizes: number[], options: MlpOptions = {}): Sequential {
  if (sizes.length < 2) {
    throw new Error(`mlp: needs at least input and output sizes, got [${sizes.join(", ")}]`);
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
