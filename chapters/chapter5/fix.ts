/**
 * Fix: compute the cross-entropy by log-sum-exp (lib's SoftmaxCrossEntropy), which never
 * overflows, and bring Adam's learning rate down to 1e-3..3e-3. Each part is measured alone:
 * the stable loss at the asker's 0.03 no longer collapses, but leaves most first-layer units dead.
 */
import { ASKER_SETTING, type RunResult, runSeeds, type Setting } from "./training.ts";
import { type ExperimentOptions, withBudget } from "./reproduce.ts";

/** The fix's learning rates (Adam), with the log-sum-exp loss. */
export const FIX_LEARNING_RATES = [0.001, 0.003];

/** The stable loss alone, at the asker's learning rate. */
export const STABLE_LOSS_ONLY: Setting = { ...ASKER_SETTING, loss: "log-sum-exp" };

export interface FixResult {
  /** Log-sum-exp loss and the asker's 0.03. */
  stableLossOnly: RunResult[];
  /** Log-sum-exp loss at each of the fix's learning rates. */
  fixed: { learningRate: number; runs: RunResult[] }[];
}

export async function fixExperiment(options: ExperimentOptions): Promise<FixResult> {
  const { budget, dataFor, backend, onRun } = options;
  const run = (setting: Setting) =>
    runSeeds(withBudget(setting, budget), budget.seeds, dataFor, backend, onRun);
  const stableLossOnly = await run(STABLE_LOSS_ONLY);
  const fixed = [];
  for (const learningRate of FIX_LEARNING_RATES) {
    fixed.push({ learningRate, runs: await run({ ...STABLE_LOSS_ONLY, learningRate }) });
  }
  return { stableLossOnly, fixed };
}
