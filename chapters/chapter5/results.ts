/**
 * Every experiment of the chapter in one call, the evidence each verdict reads, and the key
 * numbers for `--json`. The task and the full tests call `runChapter5`; the notebook calls the
 * same section functions one cell at a time and then `chapterVerdicts`.
 */
import type { Budget } from "./budgets.ts";
import { checkAskersRelu, FLOAT32_EXP_LIMIT, type ReluCheck } from "./question.ts";
import {
  type CollapseSummary,
  type ExperimentOptions,
  reproduceCollapse,
  summariseCollapse,
} from "./reproduce.ts";
import {
  dyingReluRuns,
  float64Runs,
  learningRateSweep,
  mechanismCounts,
  overflowAtFirstNaN,
  sigmoidRuns,
} from "./diagnose.ts";
import { fixExperiment, type FixResult } from "./fix.ts";
import { describeSetting, formatRange, type RunResult, type Spread, spreadOf } from "./training.ts";
import {
  type LearningRateEvidence,
  learningRateVerdict,
  type ReluBlameEvidence,
  reluBlameVerdict,
  type StabilityEvidence,
  stabilityVerdict,
  type Verdict,
} from "./verdicts.ts";

export interface ChapterResults {
  budget: Budget;
  reluCheck: ReluCheck;
  asker: RunResult[];
  float64: RunResult[];
  sigmoid: RunResult[];
  dyingRelu: RunResult[];
  sweep: { learningRate: number; runs: RunResult[] }[];
  fix: FixResult;
}

export async function runChapter5(options: ExperimentOptions): Promise<ChapterResults> {
  return {
    budget: options.budget,
    reluCheck: checkAskersRelu(),
    asker: await reproduceCollapse(options),
    float64: await float64Runs(options),
    sigmoid: await sigmoidRuns(options),
    dyingRelu: await dyingReluRuns(options),
    sweep: await learningRateSweep(options),
    fix: await fixExperiment(options),
  };
}

const validation = (runs: RunResult[]) => spreadOf(runs.map((r) => r.validationAccuracy));
const collapsedCount = (runs: RunResult[]) => runs.filter((r) => r.collapse).length;

/** The fix run the verdicts compare with sigmoid: the best of the fix's learning rates. */
export function bestFix(fix: FixResult): { learningRate: number; runs: RunResult[] } {
  return fix.fixed.reduce((a, b) => validation(b.runs).mean > validation(a.runs).mean ? b : a);
}

/** What each verdict reads, gathered from the runs (recorded_evidence.json holds the full run's). */
export interface ChapterEvidence {
  reluBlame: ReluBlameEvidence;
  stability: StabilityEvidence;
  learningRates: LearningRateEvidence;
}

export function chapterEvidence(r: ChapterResults): ChapterEvidence {
  const collapsed = collapsedCount(r.asker);
  const explained = overflowAtFirstNaN(r.asker);
  const fixed = bestFix(r.fix);
  return {
    reluBlame: {
      reluFixed: validation(fixed.runs),
      sigmoid: validation(r.sigmoid),
      negativeOutgoingShare: spreadOf(fixed.runs.flatMap((run) => run.negativeOutgoingWeightShare)),
      collapsed,
      explainedByOverflow: explained,
    },
    stability: {
      reluGradcheckPassed: r.reluCheck.report.passed,
      collapsed,
      overflowAtFirstNaN: explained,
      float64Collapsed: collapsedCount(r.float64),
      float64Runs: r.float64.length,
      float64LargestLogit: spreadOf(r.float64.map((run) => run.largestLogit)),
      stableLossCollapsed: collapsedCount(r.fix.stableLossOnly),
      stableLossRuns: r.fix.stableLossOnly.length,
    },
    learningRates: {
      epochs: r.budget.epochs,
      rates: r.sweep.map((rate) => ({
        learningRate: rate.learningRate,
        runs: rate.runs.length,
        collapsed: collapsedCount(rate.runs),
      })),
    },
  };
}

export function verdictsFrom(e: ChapterEvidence): Verdict[] {
  return [
    reluBlameVerdict(e.reluBlame),
    stabilityVerdict(e.stability),
    learningRateVerdict(e.learningRates),
  ];
}

export function chapterVerdicts(r: ChapterResults): Verdict[] {
  return verdictsFrom(chapterEvidence(r));
}

/** One row per group of runs: what the chapter's tables show. */
export interface GroupRow {
  group: string;
  /** A few characters, for the figures' axes. */
  short: string;
  runs: number;
  collapsed: number;
  collapseEpoch: Spread | null;
  largestLogit: Spread;
  finalTrainLoss: Spread;
  /** Dead share of the first hidden layer (at the end; at the collapse for collapsed runs). */
  deadFirstLayer: Spread;
  deadSecondLayer: Spread;
  validationAccuracy: Spread;
  mechanisms: ReturnType<typeof mechanismCounts>;
}

export function groupRow(group: string, short: string, runs: RunResult[]): GroupRow {
  const collapsed = runs.filter((r) => r.collapse);
  const dead = (layer: number) =>
    spreadOf(runs.map((r) => (r.collapse ? r.collapse.deadFraction : r.deadFraction)[layer] ?? 0));
  return {
    group,
    short,
    runs: runs.length,
    collapsed: collapsed.length,
    collapseEpoch: collapsed.length ? spreadOf(collapsed.map((r) => r.collapse!.epoch)) : null,
    largestLogit: spreadOf(runs.map((r) => r.largestLogit)),
    finalTrainLoss: spreadOf(runs.map((r) => r.finalTrainLoss)),
    deadFirstLayer: dead(0),
    deadSecondLayer: dead(1),
    validationAccuracy: validation(runs),
    mechanisms: mechanismCounts(runs),
  };
}

/** The diagnosis's groups: the asker's runs, float64, sigmoid, dying ReLU, other rates. */
export function diagnoseGroupRows(
  r: Pick<ChapterResults, "asker" | "float64" | "sigmoid" | "dyingRelu" | "sweep">,
): GroupRow[] {
  const sgd = r.dyingRelu[0].setting.learningRate;
  return [
    groupRow("asker: ReLU, naive softmax, Adam 0.03, float32", "asker", r.asker),
    groupRow("the same in float64", "float64", r.float64),
    groupRow("sigmoid, naive softmax, Adam 0.03", "sigmoid", r.sigmoid),
    groupRow(`ReLU, log-sum-exp, SGD ${sgd}`, `SGD ${sgd}`, r.dyingRelu),
    ...r.sweep.map((s) =>
      groupRow(`ReLU, naive softmax, Adam ${s.learningRate}`, `naive ${s.learningRate}`, s.runs)
    ),
  ];
}

/** The fix's groups: the stable loss at 0.03, and at the fix's learning rates. */
export function fixGroupRows(fix: FixResult): GroupRow[] {
  return [
    groupRow("ReLU, log-sum-exp, Adam 0.03", "LSE 0.03", fix.stableLossOnly),
    ...fix.fixed.map((f) =>
      groupRow(`ReLU, log-sum-exp, Adam ${f.learningRate}`, `LSE ${f.learningRate}`, f.runs)
    ),
  ];
}

/** Every group of runs, in the chapter's order. */
export function groupRows(r: ChapterResults): GroupRow[] {
  return [...diagnoseGroupRows(r), ...fixGroupRows(r.fix)];
}

export interface ChapterSummary {
  seeds: number[];
  reluGradcheckMaxError: number;
  collapse: CollapseSummary;
  overflowAtFirstNaN: number;
  float32ExpLimit: number;
  groups: GroupRow[];
  evidence: ChapterEvidence;
  verdicts: Verdict[];
}

/** The key numbers, for `--json` and the full tests. */
export function summarise(r: ChapterResults): ChapterSummary {
  return {
    seeds: r.budget.seeds,
    reluGradcheckMaxError: r.reluCheck.report.maxRelativeError,
    collapse: summariseCollapse(r.asker),
    overflowAtFirstNaN: overflowAtFirstNaN(r.asker),
    float32ExpLimit: FLOAT32_EXP_LIMIT,
    groups: groupRows(r),
    evidence: chapterEvidence(r),
    verdicts: chapterVerdicts(r),
  };
}

/** One line per run, labelled as progress (the tables summarise them). */
export function describeRun(run: RunResult): string {
  const c = run.collapse;
  const what = c
    ? `loss NaN at step ${c.step} (epoch ${c.epoch}), largest logit then ${
      c.largestLogit.toFixed(2)
    }`
    : `finite, largest logit ${run.largestLogit.toPrecision(4)}`;
  return `  [run] ${describeSetting(run.setting)}, seed ${run.seed}: ${what}; validation ` +
    `accuracy ${run.validationAccuracy.toFixed(3)}`;
}

/** "65-79": a spread of shares as whole percentages. */
function percentRange(s: Spread): string {
  return formatRange({ min: 100 * s.min, max: 100 * s.max, mean: 100 * s.mean }, 0);
}

/** A group's row as table cells (one table row per group). */
export function groupCells(g: GroupRow): Record<string, string> {
  return {
    "setting": g.group,
    "collapsed": `${g.collapsed} of ${g.runs}`,
    "NaN at epoch": g.collapseEpoch ? formatRange(g.collapseEpoch, 0) : "-",
    "largest logit": formatRange(g.largestLogit, 0),
    "final train loss": formatRange(g.finalTrainLoss, 3),
    "dead units (%), layer 1 / 2": `${percentRange(g.deadFirstLayer)} / ${
      percentRange(g.deadSecondLayer)
    }`,
    "validation accuracy": formatRange(g.validationAccuracy, 3),
    "mechanism (runs)": Object.entries(g.mechanisms).filter(([, n]) => n > 0)
      .map(([m, n]) => `${m} ${n}`).join(", "),
  };
}
