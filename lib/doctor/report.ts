/**
 * The doctor's report: findings ranked most likely cause first, each with its evidence as
 * measured numbers, the fix as a change to the recipe and the experiment that confirms it; what
 * was checked; how much of the recipe ran. `--json` prints it in ../shared/RECIPE.md's shape.
 */
import { diagnose, type Evidence, type Finding, type Fix, type KerasHistory } from "./checks.ts";

export interface Report {
  findings: Finding[];
  /** True when no finding is an error. */
  healthy: boolean;
  checked: string[];
  ran?: {
    epochs: number;
    of: number;
    budgetSeconds: number;
    steps: number;
    seconds: number;
    stoppedByBudget: boolean;
  };
  /** What the report's reader should know about how it was made (budget limits, data notes). */
  notes: string[];
  confirmed?: Confirmation;
}

export interface Confirmation {
  fix: Fix;
  before: { loss: number; accuracy?: number };
  after: { loss: number; accuracy?: number };
  /** True when the fix lowered the final training loss by over 10% or raised the accuracy by 0.05. */
  improved: boolean;
}

/** The report for the evidence, with the healthy finding on top when nothing is wrong. */
export function makeReport(
  evidence: Evidence,
  budgetSeconds?: number,
  notes: string[] = [],
): Report {
  const { findings, checked } = diagnose(evidence);
  const healthy = !findings.some((x) => x.severity === "error");
  const run = evidence.run;
  const allNotes = [...evidence.data.notes, ...notes];
  if (run?.stoppedByBudget) {
    allNotes.push(
      `the budget of ${budgetSeconds} s ran ${run.epochsRun} of ${run.epochsAsked} epochs (${run.stepsRun} steps): ` +
        "too-few-epochs and overfitting are judged on that part only; raise --budget to run more",
    );
  }
  if (!run && !evidence.history) {
    allNotes.push("nothing was trained and no history given: only the setup was checked");
  }
  // A healthy run still lists its notes first: a suspicion the run did not bear out (a sigmoid
  // head that trained anyway) is the most likely thing to change, and the note says how little
  // it cost.
  const ranked = healthy && !findings.some((x) => x.severity === "warning")
    ? [...findings, {
      id: "healthy" as const,
      severity: "note" as const,
      confidence: 0.8,
      evidence: [
        findings.length > 0
          ? `no check found an error or a warning (${checked.length} checks); the notes above did not stop it learning`
          : `no check found a fault (${checked.length} checks)`,
      ],
    }]
    : findings;
  return {
    findings: ranked,
    healthy,
    checked,
    ...(run && budgetSeconds !== undefined
      ? {
        ran: {
          epochs: run.epochsRun,
          of: run.epochsAsked,
          budgetSeconds,
          steps: run.stepsRun,
          seconds: Number(run.seconds.toFixed(1)),
          stoppedByBudget: run.stoppedByBudget,
        },
      }
      : {}),
    notes: allNotes,
  };
}

/** A posted Keras history, checked: lists of numbers, `acc`/`val_acc` read as `accuracy`/`val_accuracy`. */
export function parseHistory(value: unknown): KerasHistory {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error('history: expected an object like {"loss": [...], "accuracy": [...]}');
  }
  const aliases: Record<string, keyof KerasHistory> = {
    loss: "loss",
    accuracy: "accuracy",
    acc: "accuracy",
    val_loss: "val_loss",
    val_accuracy: "val_accuracy",
    val_acc: "val_accuracy",
  };
  const history: KerasHistory = {};
  for (const [key, series] of Object.entries(value as Record<string, unknown>)) {
    const name = aliases[key];
    if (!name) {
      throw new Error(`history: unknown key "${key}"; allowed: ${Object.keys(aliases).join(", ")}`);
    }
    if (!Array.isArray(series) || !series.every((v) => typeof v === "number" || v === null)) {
      throw new Error(`history.${key}: expected a list of numbers (one per epoch)`);
    }
    history[name] = series.map((v) => (v === null ? NaN : v));
  }
  if (Object.keys(history).length === 0) throw new Error("history: no series given");
  return history;
}

/** The recipe JSON with a fix applied at its field path ("model[2].activation", "optimizer.learningRate"). */
export function applyFix(recipe: Record<string, unknown>, fix: Fix): Record<string, unknown> {
  const copy = structuredClone(recipe);
  const path = fix.field.match(/[^.[\]]+/g) ?? [];
  if (path.length === 0) throw new Error(`cannot apply a fix to "${fix.field}"`);
  // deno-lint-ignore no-explicit-any
  let node: any = copy;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    if (node[key] === undefined) node[key] = /^\d+$/.test(path[i + 1]) ? [] : {};
    if (typeof node[key] === "string" && path[i + 1] === "activation") {
      // A bare activation layer ("relu") becomes {"activation": ...}.
      node[key] = { activation: node[key] };
    }
    node = node[key];
  }
  const last = path.at(-1)!;
  if (typeof fix.to === "string" && fix.to.startsWith("insert ")) {
    throw new Error(`the fix "${fix.to}" changes the model's shape: apply it by hand`);
  }
  if (typeof node === "string") throw new Error(`cannot set ${fix.field}`);
  if (
    last === "optimizer" ||
    (typeof fix.to === "object" && fix.to !== null && !Array.isArray(fix.to))
  ) {
    node[last] = fix.to;
  } else if (/^\d+$/.test(last) && typeof fix.to === "string" && typeof node[last] === "string") {
    node[last] = fix.to;
  } else {
    node[last] = fix.to;
  }
  return copy;
}

const fixed = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x));

/** The report as text for a terminal: the findings, then the notes, then what was checked. */
export function formatReport(report: Report, options: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  if (report.ran) {
    const { epochs, of, steps, seconds, stoppedByBudget, budgetSeconds } = report.ran;
    lines.push(
      `Trained ${epochs} of ${of} epochs (${steps} steps, ${seconds} s` +
        (stoppedByBudget ? `, stopped by the ${budgetSeconds} s budget` : "") + ").",
    );
  }
  lines.push(report.healthy ? "No finding is an error." : "The most likely cause comes first.");
  report.findings.forEach((finding, i) => {
    lines.push(
      ``,
      `${i + 1}. ${finding.id} (${finding.severity}, confidence ${finding.confidence})`,
    );
    for (const line of finding.evidence) lines.push(`   - ${line}`);
    if (finding.fix) {
      lines.push(
        `   fix: ${finding.fix.field}: ${JSON.stringify(finding.fix.from)} -> ${
          JSON.stringify(finding.fix.to)
        }`,
      );
    }
    if (finding.confirm) lines.push(`   confirm: ${finding.confirm}`);
  });
  if (report.confirmed) {
    const { fix, before, after, improved } = report.confirmed;
    lines.push(
      ``,
      `Confirmed with ${fix.field} = ${JSON.stringify(fix.to)}: training loss ${
        fixed(before.loss)
      } -> ${fixed(after.loss)}` +
        (before.accuracy !== undefined && after.accuracy !== undefined
          ? `, accuracy ${fixed(before.accuracy)} -> ${fixed(after.accuracy)}`
          : "") +
        (improved ? " (better)" : " (no clear improvement)"),
    );
  }
  if (report.notes.length > 0) {
    lines.push(``, `Notes:`);
    for (const note of report.notes) lines.push(`  - ${note}`);
  }
  if (options.verbose) {
    lines.push(``, `Checked:`);
    for (const check of report.checked) lines.push(`  - ${check}`);
  } else lines.push(``, `(${report.checked.length} checks ran; --verbose lists them)`);
  return lines.join("\n");
}
