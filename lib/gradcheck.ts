/**
 * Gradient checking: compare backward()'s analytic gradients with central
 * differences, (f(x + h) − f(x − h)) / 2h, in float64 on the CPU.
 *
 * Relative error |a − n| / max(|a|, |n|), per element, maximum per tensor,
 * judged as in the CS231n notes: below 1e-7 the gradient is right; up to 1e-4
 * is usual next to a kink (ReLU at 0); above 1e-2 it is almost surely wrong.
 *
 * Before any number is compared, the check makes sure there is something to
 * compare: a backward() that returns nothing, or a gradient of the wrong shape
 * (even one of the right size), fails with the shapes named. An element whose
 * one-sided differences disagree sits on a kink (CS231n: the difference step
 * crossed a non-differentiable point); when backward() gave one of the two
 * one-sided slopes there, it is counted as a kink, not as an error.
 *
 * @example
 * ```ts
 * import { formatGradcheck, gradcheckLayer, Linear, ReLU, tensor } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * // Layers and inputs in float64: float32 has too few digits for differences.
 * const layer = new Linear(3, 2, { dtype: "float64" });
 * const x = tensor([0.5, -1, 2, 1, 0.3, -0.7], [2, 3], { dtype: "float64" });
 * const report = gradcheckLayer(layer, x);
 * assert.ok(report.passed, formatGradcheck(report));
 * assert.deepEqual(report.entries.map((e) => e.name), ["input", "weight", "bias"]);
 *
 * // ReLU at exactly 0: a kink, not an error.
 * const atZero = gradcheckLayer(new ReLU(), tensor([0, 1, -1, 2], [2, 2], { dtype: "float64" }));
 * assert.equal(atZero.entries[0].verdict, "on a kink");
 * assert.equal(atZero.entries[0].kinks, 1);
 * ```
 *
 * @module
 */
import type { Layer } from "./layers/layer.ts";
import type { Loss } from "./losses.ts";
import { Random } from "./random.ts";
import { mul, sum } from "./ops.ts";
import { shapeString, type Tensor } from "./tensor.ts";

/**
 * How an entry of the report reads: by the CS231n thresholds ("good",
 * "ok near a kink", "suspicious", "wrong"), "on a kink" when every element is
 * good except some that sit on a kink, or what made the comparison impossible
 * ("missing": backward() gave no gradient; "wrong shape").
 */
export type GradcheckVerdict =
  | "good"
  | "ok near a kink"
  | "on a kink"
  | "suspicious"
  | "wrong"
  | "missing"
  | "wrong shape";

/** One tensor's comparison: the input, a parameter, or a loss's output. */
export interface GradcheckEntry {
  /** "input", a parameter's name, or "output" for a loss. */
  name: string;
  /** The largest relative error, over the elements not on a kink (Infinity when missing or misshapen). */
  maxRelativeError: number;
  /** Where the largest error is, and the two values there (NaN when missing or misshapen). */
  worstIndex: number;
  /** backward()'s value at the worst element. */
  analytic: number;
  /** The central difference there. */
  numeric: number;
  /** How the entry reads (see GradcheckVerdict). */
  verdict: GradcheckVerdict;
  /** Elements on a kink where backward() gave one of the one-sided slopes (left out of the error). */
  kinks: number;
  /** What went wrong before any number could be compared, or what the kinks were. */
  problem?: string;
}

/** The result of a gradient check: one entry per tensor, and whether all passed. */
export interface GradcheckReport {
  /** One entry per tensor: the input (or output, for a loss), then each parameter. */
  entries: GradcheckEntry[];
  /** The worst entry's error. */
  maxRelativeError: number;
  /** Every entry within the tolerance and present with the right shape; false when nothing was checked. */
  passed: boolean;
}

/** Settings of a gradient check. */
export interface GradcheckOptions {
  /**
   * Step for the central difference (default 1e-5, as in the CS231n notes). In float64
   * the rounding error of the difference is about 1e-16 |f| / step: with 1e-6 it already
   * pushes small, correct gradient entries (softmax cross-entropy) past 1e-7.
   */
  step?: number;
  /** Errors up to this pass (default 1e-7). Use 1e-4 for layers with kinks. */
  tolerance?: number;
  /** Seeds the random upstream gradient R of a layer check (default 1). */
  seed?: number;
}

/** The CS231n reading of a relative error. */
export function verdictFor(relativeError: number): GradcheckVerdict {
  if (relativeError < 1e-7) return "good";
  if (relativeError < 1e-4) return "ok near a kink";
  if (relativeError < 1e-2) return "suspicious";
  return "wrong";
}

/**
 * One-sided slopes that differ by more than this fraction of the larger mean
 * the step crossed a kink: on a smooth function they differ by about h·f″,
 * 1e-5 of the slope for curvature of order 1 at h = 1e-5.
 */
const KINK_SLOPE_CHANGE = 1e-2;
/** backward() "gave one side's slope" when it is within this fraction of it. */
const KINK_MATCH = 1e-4;

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

/** Central and one-sided differences of `f` at every element of `values` (changed and restored in place). */
interface Differences {
  central: Float64Array;
  forward: Float64Array;
  backward: Float64Array;
}

function differences(values: Float64Array, f: () => number, step: number): Differences {
  const central = new Float64Array(values.length);
  const forward = new Float64Array(values.length);
  const backward = new Float64Array(values.length);
  const f0 = f();
  for (let i = 0; i < values.length; i++) {
    const original = values[i];
    values[i] = original + step;
    const plus = f();
    values[i] = original - step;
    const minus = f();
    values[i] = original;
    central[i] = (plus - minus) / (2 * step);
    forward[i] = (plus - f0) / step;
    backward[i] = (f0 - minus) / step;
  }
  return { central, forward, backward };
}

/** The step crossed a kink at this element, and backward() gave one of the two one-sided slopes. */
function onKink(a: number, d: Differences, i: number): boolean {
  const right = d.forward[i], left = d.backward[i];
  const scale = Math.max(Math.abs(right), Math.abs(left));
  if (!(Math.abs(right - left) > KINK_SLOPE_CHANGE * scale)) return false;
  return Math.abs(a - right) <= KINK_MATCH * scale || Math.abs(a - left) <= KINK_MATCH * scale;
}

function compare(name: string, analytic: Float64Array, d: Differences): GradcheckEntry {
  let worst = 0, worstIndex = 0, kinks = 0;
  for (let i = 0; i < analytic.length; i++) {
    const a = analytic[i], n = d.central[i];
    const denominator = Math.max(Math.abs(a), Math.abs(n));
    let error = denominator === 0 ? 0 : Math.abs(a - n) / denominator;
    if (Number.isNaN(error)) error = Infinity;
    if (error >= 1e-7 && onKink(a, d, i)) {
      kinks++;
      continue;
    }
    if (error > worst) {
      worst = error;
      worstIndex = i;
    }
  }
  const base = verdictFor(worst);
  return {
    name,
    maxRelativeError: worst,
    worstIndex,
    analytic: analytic[worstIndex],
    numeric: d.central[worstIndex],
    verdict: kinks > 0 && base === "good" ? "on a kink" : base,
    kinks,
    problem: kinks > 0
      ? `${kinks} of ${analytic.length} elements sit on a kink (the slopes either side differ ` +
        `and backward() gave one of them); they are left out of the error`
      : undefined,
  };
}

/** An entry for a gradient that cannot be compared: absent, or of the wrong shape. */
function unusable(
  name: string,
  verdict: "missing" | "wrong shape",
  problem: string,
): GradcheckEntry {
  return {
    name,
    maxRelativeError: Infinity,
    worstIndex: -1,
    analytic: NaN,
    numeric: NaN,
    verdict,
    kinks: 0,
    problem,
  };
}

/** The gradient's problem, if it is not a tensor of `reference`'s shape. */
function shapeProblem(
  gradient: Tensor | null | undefined,
  reference: Tensor,
  what: string,
  owner: string,
): GradcheckEntry | null {
  if (gradient === undefined || gradient === null) {
    return unusable(
      what,
      "missing",
      what === "input" || what === "output"
        ? `${owner} returned ${gradient} for the ${what} gradient: does backward() end with \`return\`?`
        : `${owner} left ${what}'s gradient ${gradient}: backward() must set each parameter's grad`,
    );
  }
  if (shapeString(gradient.shape) !== shapeString(reference.shape)) {
    return unusable(
      what,
      "wrong shape",
      `the ${what} gradient is ${shapeString(gradient.shape)} but the ${
        what === "input" || what === "output" ? what : `parameter ${what}`
      } is ` +
        `${shapeString(reference.shape)}` +
        (gradient.size === reference.size ? " (the same size, laid out differently)" : ""),
    );
  }
  return null;
}

function report(entries: GradcheckEntry[], tolerance: number): GradcheckReport {
  const maxRelativeError = Math.max(0, ...entries.map((e) => e.maxRelativeError));
  return {
    entries,
    maxRelativeError,
    passed: entries.length > 0 && maxRelativeError <= tolerance,
  };
}

/** A float32 parameter would meet the float64 input in the first op as "dtypes differ": say what to do. */
function checkParameterDtypes(layer: Layer): void {
  for (const p of layer.parameters()) {
    if (p.value.dtype !== "float64" || p.value.backend.name !== "cpu") {
      throw new Error(
        `gradcheck: ${layer.name}'s parameter ${p.name} is ${p.value.dtype} on ${p.value.backend.name}; ` +
          `build the layer in float64 on the CPU for a gradient check, e.g. ` +
          `new Linear(3, 2, { dtype: "float64" }) or mlp(sizes, { dtype: "float64" })`,
      );
    }
  }
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
  if (!layer || typeof layer.forward !== "function" || typeof layer.backward !== "function") {
    throw new TypeError(
      `gradcheck: give a layer with forward() and backward(), got ${String(layer)}`,
    );
  }
  const x = storageOf(input, "the input");
  checkParameterDtypes(layer);
  const out = layer.forward(input);
  const random = new Random(seed);
  const upstreamValues = new Float64Array(out.size).map(() => random.normal());
  const upstream = out.backend.fromValues(upstreamValues, out.shape, "float64");
  const objective = () => (sum(mul(layer.forward(input), upstream)).storage as Float64Array)[0];

  layer.forward(input);
  const inputGradient = layer.backward(upstream, true);
  const owner = `${layer.name}.backward()`;
  const entries: GradcheckEntry[] = [];
  const inputProblem = shapeProblem(inputGradient, input, "input", owner);
  if (inputProblem) entries.push(inputProblem);
  else {
    const analytic = storageOf(inputGradient!, "the input gradient").slice();
    entries.push(compare("input", analytic, differences(x, objective, step)));
  }
  for (const p of layer.parameters()) {
    const problem = shapeProblem(p.grad, p.value, p.name, owner);
    if (problem) {
      entries.push(problem);
      continue;
    }
    const analytic = storageOf(p.grad!, `${p.name}'s gradient`).slice();
    entries.push(
      compare(p.name, analytic, differences(storageOf(p.value, p.name), objective, step)),
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
  const gradient = loss.backward();
  const problem = shapeProblem(gradient, output, "output", `${loss.name}'s backward()`);
  if (problem) return report([problem], tolerance);
  const analytic = storageOf(gradient, "the loss gradient").slice();
  const objective = () => (loss.forward(output, target).storage as Float64Array)[0];
  return report([compare("output", analytic, differences(values, objective, step))], tolerance);
}

/** A readable table of a report, one line per tensor, with what went wrong where something did. */
export function formatGradcheck(report: GradcheckReport): string {
  if (report.entries.length === 0) {
    return "nothing was checked: the layer returned no input gradient and has no parameters";
  }
  return report.entries
    .map((e) => {
      if (e.verdict === "missing" || e.verdict === "wrong shape") {
        return `${e.name.padEnd(16)} ${e.verdict}: ${e.problem}`;
      }
      const line = `${e.name.padEnd(16)} max relative error ${
        e.maxRelativeError.toExponential(2)
      }  ${e.verdict}`;
      return e.problem ? `${line}: ${e.problem}` : line;
    })
    .join("\n");
}
