/**
 * Fix: the same network, loss, learning rate and full-batch descent, with He-initialised
 * weights; beside it the conventional classifier (linear logits into softmax cross-entropy).
 * Both depend on the random initial weights, so they run on several seeds, and each step's
 * test accuracy is recorded to say over what horizon one output is ahead of the other.
 */
import { gradientMonitor, MonitorLog } from "../../lib/monitors.ts";
import {
  type ChapterData,
  HE_FIX,
  type Run,
  type RunOptions,
  SOFTMAX_FIX,
  trainNetwork,
} from "./network.ts";
import { hiddenUnitSpread } from "./reproduce.ts";

export interface Fix {
  seeds: number[];
  steps: number;
  /** One run per seed, in the order of `seeds`. */
  he: Run[];
  softmax: Run[];
  /** Largest weight-gradient norm of each He sigmoid + BCE run, any layer, any step. */
  heLargestWeightGradientNorms: number[];
  /** Spread between the hidden units of each He sigmoid + BCE run at the end. */
  heUnitSpreads: number[];
}

/**
 * The answer's network and learning rate with He-initialised weights, and the softmax
 * classifier beside it, for each seed, `steps` full-batch steps (default HE_FIX.steps).
 */
export async function fix(
  data: ChapterData,
  options: Omit<RunOptions, "seed" | "recordTestAccuracy"> & {
    seeds?: number[];
    steps?: number;
  } = {},
): Promise<Fix> {
  const steps = options.steps ?? HE_FIX.steps;
  const seeds = options.seeds ?? [0];
  if (seeds.length === 0) throw new Error("fix: no seeds given");
  const he: Run[] = [], softmax: Run[] = [], heLargestWeightGradientNorms: number[] = [];
  const heUnitSpreads: number[] = [];
  for (const seed of seeds) {
    const run = { ...options, seed, recordTestAccuracy: true };
    const log = new MonitorLog();
    he.push(
      await trainNetwork({ ...HE_FIX, steps }, data.train, data.test, {
        ...run,
        hooks: [gradientMonitor({ log, every: 1 }), ...(options.hooks ?? [])],
      }),
    );
    heLargestWeightGradientNorms.push(
      Math.max(
        ...log.select("gradient-norm").filter((row) => row.layer.endsWith(".weight")).map((row) =>
          row.value
        ),
      ),
    );
    heUnitSpreads.push((await hiddenUnitSpread(he.at(-1)!.model))[0].weightSpread);
    softmax.push(await trainNetwork({ ...SOFTMAX_FIX, steps }, data.train, data.test, run));
  }
  return { seeds, steps, he, softmax, heLargestWeightGradientNorms, heUnitSpreads };
}

/** The smallest and largest of some values. */
export interface Range {
  low: number;
  high: number;
}

export function rangeOf(values: readonly number[]): Range {
  if (values.length === 0) throw new Error("rangeOf: no values");
  return { low: Math.min(...values), high: Math.max(...values) };
}

export function formatRange(range: Range, digits = 3): string {
  return range.low === range.high
    ? range.low.toFixed(digits)
    : `${range.low.toFixed(digits)}-${range.high.toFixed(digits)}`;
}

/** At one step: each output's test accuracy across the seeds, and in how many seeds softmax leads. */
export interface HorizonComparison {
  step: number;
  sigmoid: Range;
  softmax: Range;
  softmaxAhead: number;
  seeds: number;
}

/** Compare the two outputs' test accuracy at each of `steps` (1-based, after that many updates). */
export function compareOutputs(fixed: Fix, steps: readonly number[]): HorizonComparison[] {
  return steps.map((step) => {
    if (!Number.isInteger(step) || step < 1 || step > fixed.steps) {
      throw new Error(`compareOutputs: steps must be from 1 to ${fixed.steps}, got ${step}`);
    }
    const at = (run: Run) => run.testAccuracyCurve![step - 1];
    const sigmoid = fixed.he.map(at), softmax = fixed.softmax.map(at);
    return {
      step,
      sigmoid: rangeOf(sigmoid),
      softmax: rangeOf(softmax),
      softmaxAhead: softmax.filter((value, i) => value > sigmoid[i]).length,
      seeds: fixed.seeds.length,
    };
  });
}

/** The largest fall of a run's test accuracy from one step to the next (0 if it never falls). */
export function largestAccuracyDip(run: Run): number {
  const curve = run.testAccuracyCurve;
  if (!curve) throw new Error("largestAccuracyDip: the run did not record its test accuracy");
  let dip = 0;
  for (let i = 1; i < curve.length; i++) dip = Math.max(dip, curve[i - 1] - curve[i]);
  return dip;
}
