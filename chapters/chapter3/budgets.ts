/**
 * Chapter 3's budgets, used by the notebook's first cell, `deno task chapter3` and the tests.
 * Full: every setting at its own 1,000 full-batch steps on seeds 0-4 (the task runs seeds
 * K..K+4 from `--seed K`). Smoke: two seeds and 20 steps, to check that every cell runs.
 */
import { type RunOptions, seedsFrom } from "./training.ts";

export const BUDGETS: { full: RunOptions; smoke: RunOptions } = {
  full: { seeds: seedsFrom(0) },
  smoke: { seeds: [0, 1], steps: 20 },
};
