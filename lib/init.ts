/**
 * Weight initialisation. Each scheme draws from a distribution whose scale
 * depends on the layer's fan-in and fan-out:
 *
 *   Glorot (Xavier) keeps the variance of activations and gradients about equal
 *   across tanh/sigmoid layers: Var(w) = 2 / (fanIn + fanOut).
 *   He (Kaiming) compensates for ReLU zeroing half its inputs: Var(w) = 2 / fanIn.
 */
import type { Random } from "./random.ts";

/** The initialisation schemes by name. */
export type InitName =
  | "zeros"
  | "constant"
  | "uniform"
  | "normal"
  | "glorot-uniform"
  | "glorot-normal"
  | "he-uniform"
  | "he-normal";

/** Every InitName. */
export const initNames: readonly InitName[] = [
  "zeros",
  "constant",
  "uniform",
  "normal",
  "glorot-uniform",
  "glorot-normal",
  "he-uniform",
  "he-normal",
];

/** A scheme by name, or with its parameters: `{ name: "normal", std: 0.01 }`. */
export type Init =
  | InitName
  | { name: "constant"; value: number }
  | { name: "uniform"; low: number; high: number }
  | { name: "normal"; mean?: number; std: number }
  | { name: "glorot-uniform" | "glorot-normal" | "he-uniform" | "he-normal"; gain?: number }
  | { name: "zeros" };

/** The scheme's name, whether given by name or with its parameters. */
export function initName(init: Init): InitName {
  return typeof init === "string" ? init : init.name;
}

/** `size` values drawn by `init` for a weight with the given fans. */
export function initValues(
  init: Init,
  size: number,
  fanIn: number,
  fanOut: number,
  random: Random,
): Float64Array {
  const spec = typeof init === "string" ? { name: init } as { name: InitName } : init;
  const out = new Float64Array(size);
  const fill = (draw: () => number) => {
    for (let i = 0; i < size; i++) out[i] = draw();
  };
  const gain = (spec as { gain?: number }).gain ?? 1;
  if (!(Number.isFinite(gain) && gain > 0)) {
    throw new Error(`init "${spec.name}": gain must be a finite number > 0, got ${gain}`);
  }
  switch (spec.name) {
    case "zeros":
      return out;
    case "constant": {
      const { value } = spec as { value?: number };
      if (value === undefined || !Number.isFinite(value)) {
        throw new Error(`init "constant" needs a finite value, got ${value}`);
      }
      return out.fill(value);
    }
    case "uniform": {
      const { low = -0.05, high = 0.05 } = spec as { low?: number; high?: number };
      if (!(Number.isFinite(low) && Number.isFinite(high) && low < high)) {
        throw new Error(`init "uniform" needs finite low < high, got low ${low}, high ${high}`);
      }
      fill(() => random.uniformIn(low, high));
      return out;
    }
    case "normal": {
      const { mean = 0, std = 0.01 } = spec as { mean?: number; std?: number };
      if (!(Number.isFinite(mean) && Number.isFinite(std) && std >= 0)) {
        throw new Error(
          `init "normal" needs a finite mean and std >= 0, got mean ${mean}, std ${std}`,
        );
      }
      fill(() => mean + std * random.normal());
      return out;
    }
    case "glorot-uniform": {
      const limit = gain * Math.sqrt(6 / (fanIn + fanOut));
      fill(() => random.uniformIn(-limit, limit));
      return out;
    }
    case "glorot-normal": {
      const std = gain * Math.sqrt(2 / (fanIn + fanOut));
      fill(() => std * random.normal());
      return out;
    }
    case "he-uniform": {
      const limit = gain * Math.sqrt(6 / fanIn);
      fill(() => random.uniformIn(-limit, limit));
      return out;
    }
    case "he-normal": {
      const std = gain * Math.sqrt(2 / fanIn);
      fill(() => std * random.normal());
      return out;
    }
    default:
      throw new Error(
        `unknown initialisation "${(spec as { name: string }).name}": choose one of ${
          initNames.join(", ")
        }`,
      );
  }
}
