/**
 * Gradient checking: compare backward()'s analytic gradients with central
 * differences, (f(x + h) − f(x − h)) / 2h, in float64 on the CPU.
 *
 * Relative error |a − n| / max(|a|, |n|), per element, maximum per tensor,
 * judged as in the CS231n notes: below 1e-7 the gradient is right; up to 1e-4
 * is usual next to a kink (ReLU at 0); above 1e-2 it is almost surely wrong.
 */
import type { Layer } from "./layers/layer.ts";
import type { Loss } from "./losses.ts";
import { Random } from "./random.ts";
import { mul, sum } from "./ops.ts";
import type { Tensor } from "./tensor.ts";

export type GradcheckVerdict = "good" | "ok near a kink" | "suspicious" | "wrong";

export interface GradcheckEntry {
  /** "input", a parameter's name, or "output" for a loss. */
  name: string;
  maxRelativeError: number;
  /** Where the largest error is, and the two values there. */
  worstIndex: number;
  analytic: number;
  numeric: number;
  verdict: GradcheckVerdict;
}

export interface GradcheckReport {
  entries: GradcheckEntry[];
  /** The worst entry's error. */
  maxRelativeError: number;
  passed: boolean;
}

export interface GradcheckOptions {
  /**
   * Step for the central difference (default 1e-5, as in the CS231n notes). In float64
   * the rounding error of the difference is about 1e-16 |f| / step: with 1e-6 it already
   * pushes small, correct gradient entries (softmax cross-entropy) past 1e-7.
   */
  step?: number;
  /** Errors up to this pass (default 1e-7). Use 1e-4 for layers with kinks. */
  tolerance?: number;
  seed?: number;
}

export function verdictFor(relativeError: number): GradcheckVerdict {
  if (relativeError < 1e-7) return "good";
  if (relativeError < 1e-4) return "ok near a kink";
  if (relativeError < 1e-2) return "suspicious";
  return "wrong";
}

function storageOf(t: Tensor, what: string): Float64Array {
  if (!t || typeof t !== "object" || !("storage" in t)) {
    throw new Error(
      `gradcheck: ${what} is missing; pass a float64 tensor, e.g. tensor(values, shape, { dtype: "float64" })`,
    );
  }
  if (t.backend.name !== "cpu" || t.dtype !== "float64") {
    throw new Error(
      `gradcheck: ${what} must be a float64 tensor on the CPU (got ${t.dtype} on ${t.backend.name}); ` +
        `float32 has too few digits for finite differences`,
    );
  }
  return t.storage as Float64Array;
}

function compare(
  name: string,
  analytic: Float64Array,
  numeric: Float64Array,
): GradcheckEntry {
  let worst = 0, worstIndex = 0;
  for (let i = 0; i < analytic.length; i++) {
    const a = analytic[i], n = numeric[i];
    const denominator = Math.max(Math.abs(a), Math.abs(n));
    const error = denominator === 0 ? 0 : Math.abs(a - n) / denominator;
    if (error > worst || Number.isNaN(error)) {
      worst = Number.isNaN(error) ? Infinity : error;
      worstIndex = i;
    }
  }
  return {
    name,
    maxRelativeError: worst,
    worstIndex,
    analytic: analytic[worstIndex],
    numeric: numeric[worstIndex],
    verdict: verdictFor(worst),
  };
}

/** Central differences of `f` with respect to every element of `values` (changed and restored in place). */
function numericGradient(values: Float64Array, f: () => number, step: number): Float64Array {
  const gradient = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const original = values[i];
    values[i] = original + step;
    const plus = f();
    values[i] = original - step;
    const minus = f();
    values[i] = original;
    gradient[i] = (plus - minus) / (2 * step);
  }
  return gradient;
}

function report(entries: GradcheckEntry[], tolerance: number): GradcheckReport {
  const maxRelativeError = Math.max(0, ...entries.map((e) => e.maxRelativeError));
  return { entries, maxRelativeError, passed: maxRelativeError <= tolerance };
}

/**
 * Check a layer's backward() against its forward(), for the input and every parameter.
 * The scalar being differentiated is Σ forward(x) ⊙ R for a fixed random R, so
 * backward() receives R as dLoss/dOutput.
 */
export function gradcheckLayer(
  layer: Layer,
  input: Tensor,
  options: GradcheckOptions = {},
): GradcheckReport {
  const { step = 1e-5, tolerance = 1e-7, seed = 1 } = options;
  const x = storageOf(input, "the input");
  const out = layer.forward(input);
  const random = new Random(seed);
  const upstreamValues = new Float64Array(out.size).map(() => random.normal());
  const upstream = out.backend.fromValues(upstreamValues, out.shape, "float64");
  const objective = () => (sum(mul(layer.forward(input), upstream)).storage as Float64Array)[0];

  layer.forward(input);
  const inputGradient = layer.backward(upstream, true);
  const entries: GradcheckEntry[] = [];
  if (inputGradient) {
    const analytic = storageOf(inputGradient, "the input gradient").slice();
    entries.push(compare("input", analytic, numericGradient(x, objective, step)));
  }
  for (const p of layer.parameters()) {
    if (!p.grad) throw new Error(`gradcheck: ${layer.name} left ${p.name}'s gradient empty`);
    const analytic = storageOf(p.grad, `${p.name}'s gradient`).slice();
    entries.push(
      compare(p.name, analytic, numericGradient(storageOf(p.value, p.name), objective, step)),
    );
  }
  return report(entries, tolerance);
}

/** Check a loss's backward() against its forward() with respect to the output it is given. */
export function gradcheckLoss(
  loss: Loss,
  output: Tensor,
  target: Tensor,
  options: GradcheckOptions = {},
): GradcheckReport {
  const { step = 1e-5, tolerance = 1e-7 } = options;
  const values = storageOf(output, "the output");
  loss.forward(output, target);
  const analytic = storageOf(loss.backward(), "the loss gradient").slice();
  const objective = () => (loss.forward(output, target).storage as Float64Array)[0];
  return report([compare("output", analytic, numericGradient(values, objective, step))], tolerance);
}

/** A readable table of a report, one line per tensor. */
export function formatGradcheck(report: GradcheckReport): string {
  return report.entries
    .map((e) =>
      `${e.name.padEnd(16)} max relative error ${e.maxRelativeError.toExponential(2)}  ${e.verdict}`
    )
    .join("\n");
}
