/**
 * Runs the doctor's case suite: `deno run -A test/doctor/run_cases.ts [--budget S] [--real] [name filter]`
 * prints, for every case, the top finding on the planted fault and any error on its fixed twin,
 * then recall (planted fault ranked first) and precision (no error on the twins).
 */
import { doctorReport } from "../../tools/doctor.ts";
import { CASES, type DoctorCase } from "./cases.ts";
import { REAL_CASES } from "./real_cases.ts";

export interface CaseResult {
  name: string;
  fault: string;
  top: string;
  ranks: string[];
  /** Errors reported on the fixed twin (false alarms). */
  twinErrors: string[];
}

export async function runCase(c: DoctorCase, budgetSeconds: number): Promise<CaseResult> {
  const options = { budgetSeconds, recipeDir: c.recipeDir ?? "." };
  const report = await doctorReport(c.recipe, { ...options, history: c.history });
  const twin = await doctorReport(c.fixed, { ...options, history: c.fixedHistory ?? undefined });
  return {
    name: c.name,
    fault: c.fault,
    top: report.findings[0]?.id ?? "(none)",
    ranks: report.findings.map((f) => `${f.id}:${f.severity}:${f.confidence}`),
    twinErrors: twin.findings.filter((f) => f.severity === "error").map((f) => f.id),
  };
}

if (import.meta.main) {
  const budgetIndex = Deno.args.indexOf("--budget");
  const budget = budgetIndex >= 0 ? Number(Deno.args[budgetIndex + 1]) : 6;
  const real = Deno.args.includes("--real");
  const filter = Deno.args.filter((a, i) =>
    a !== "--budget" && a !== "--real" && i !== budgetIndex + 1
  )[0] ?? "";
  let hits = 0, alarms = 0, n = 0;
  for (
    const c of (real ? REAL_CASES : CASES).filter((x) =>
      x.name.includes(filter) || x.fault.includes(filter)
    )
  ) {
    const started = performance.now();
    const r = await runCase(c, budget);
    n++;
    if (r.top === r.fault) hits++;
    if (r.twinErrors.length > 0) alarms++;
    console.log(
      `${r.top === r.fault ? "HIT " : "MISS"} ${r.twinErrors.length ? "ALARM" : "ok   "} ${
        r.fault.padEnd(28)
      } ` +
        `top ${r.top.padEnd(28)} twin errors [${r.twinErrors}] ${
          ((performance.now() - started) / 1000).toFixed(0)
        }s  ${r.ranks.join(" ")}`,
    );
  }
  console.log(`recall ${hits}/${n}, false alarms on twins ${alarms}/${n}`);
}
