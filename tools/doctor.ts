/**
 * `deno task doctor recipe.json`: build the network a recipe describes (../shared/RECIPE.md),
 * check the setup, train it within a time budget with the doctor's live measurements, and report
 * what stops it learning, with the evidence and the fix.
 *
 *   deno task doctor recipe.json                  check, train (60 s budget), report
 *   deno task doctor recipe.json --json           the report as one JSON object on stdout
 *   deno task doctor recipe.json --budget 20      cap the training at 20 s
 *   deno task doctor recipe.json --history h.json diagnose from posted curves, without training
 *   deno task doctor recipe.json --history h.json --run   ... and train to confirm
 *   deno task doctor recipe.json --confirm        apply the top finding's fix, train again, compare
 *   deno task doctor recipe.json --verbose        list every check that ran
 */
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { loadRecipeData } from "../lib/doctor/build.ts";
import type { Evidence } from "../lib/doctor/checks.ts";
import { parseRecipe, RecipeError } from "../lib/doctor/recipe.ts";
import {
  applyFix,
  formatReport,
  makeReport,
  parseHistory,
  type Report,
} from "../lib/doctor/report.ts";
import { runRecipe } from "../lib/doctor/run.ts";

const USAGE = `deno task doctor RECIPE.json [options]: why won't it learn?

  --json            print the report as one JSON object on stdout (progress goes to stderr)
  --budget SECONDS  cap the training time (default 60)
  --history FILE    a posted Keras history.history ({"loss": [...], "val_loss": [...], ...})
  --run             with --history: also train the recipe to confirm
  --confirm         apply the top finding's fix, train again with the same budget, compare
  --verbose         list every check that ran
  --help            this text

The recipe format is Keras' vocabulary: see RECIPE.md in the project's shared folder, or the
examples in chapters/chapterN/recipe.json.`;

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`the ${what} ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export interface DoctorOptions {
  budgetSeconds?: number;
  history?: unknown;
  run?: boolean;
  confirm?: boolean;
  recipeDir?: string;
  onProgress?: (line: string) => void;
}

/** The whole doctor on a recipe's JSON: what `deno task doctor` prints, as data. */
export async function doctorReport(
  recipeJson: unknown,
  options: DoctorOptions = {},
): Promise<Report> {
  const { budgetSeconds = 60, recipeDir = ".", onProgress = () => {} } = options;
  const recipe = parseRecipe(recipeJson);
  const data = await loadRecipeData(recipe, recipeDir);
  const history = options.history === undefined ? undefined : parseHistory(options.history);
  const evidence: Evidence = { recipe, data, history };
  const notes: string[] = [];
  if (!history || options.run) {
    onProgress(`training ${recipe.name ?? "the recipe"} (budget ${budgetSeconds} s)`);
    try {
      evidence.run = await runRecipe(recipe, data, { budgetSeconds, onProgress });
    } catch (error) {
      // A setup the library cannot train (a one-output categorical loss whose labels run past
      // its one class) still gets the preflight findings, which usually name why.
      notes.push(`training stopped with an error: ${(error as Error).message}`);
    }
  }
  const report = makeReport(evidence, evidence.run ? budgetSeconds : undefined, notes);
  const top = report.findings.find((x) => x.severity !== "note" && x.fix);
  if (options.confirm && top?.fix && evidence.run) {
    try {
      const fixedJson = applyFix(recipeJson as Record<string, unknown>, top.fix);
      const fixedRecipe = parseRecipe(fixedJson);
      const fixedData = await loadRecipeData(fixedRecipe, recipeDir);
      onProgress(`confirming: ${top.fix.field} = ${JSON.stringify(top.fix.to)}`);
      const after = await runRecipe(fixedRecipe, fixedData, { budgetSeconds, onProgress });
      const last = (r: typeof after) => r.epochs.at(-1);
      const before = {
        loss: last(evidence.run)?.trainLoss ?? NaN,
        accuracy: last(evidence.run)?.validationArgmaxAccuracy ??
          last(evidence.run)?.trainArgmaxAccuracy,
      };
      const afterFigures = {
        loss: last(after)?.trainLoss ?? NaN,
        accuracy: last(after)?.validationArgmaxAccuracy ?? last(after)?.trainArgmaxAccuracy,
      };
      // Losses of different loss functions cannot be compared; then accuracy decides.
      const sameLoss = fixedRecipe.loss.name === recipe.loss.name;
      const lossBetter = sameLoss &&
        (afterFigures.loss < before.loss * 0.9 ||
          !Number.isFinite(before.loss) && Number.isFinite(afterFigures.loss));
      const accuracyBetter = before.accuracy !== undefined && afterFigures.accuracy !== undefined &&
        afterFigures.accuracy > before.accuracy + 0.05;
      report.confirmed = {
        fix: top.fix,
        before,
        after: afterFigures,
        improved: lossBetter || accuracyBetter,
      };
    } catch (error) {
      report.notes.push(`--confirm could not apply the fix: ${(error as Error).message}`);
    }
  }
  return report;
}

if (import.meta.main) {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: {
        json: { type: "boolean", default: false },
        budget: { type: "string", default: "60" },
        history: { type: "string" },
        run: { type: "boolean", default: false },
        confirm: { type: "boolean", default: false },
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (positionals.length !== 1) {
    console.error(
      `give one recipe file${
        positionals.length > 1 ? `, got ${positionals.length}` : ""
      }\n\n${USAGE}`,
    );
    Deno.exit(2);
  }
  const budgetSeconds = Number(values.budget);
  if (!(Number.isFinite(budgetSeconds) && budgetSeconds > 0)) {
    console.error(`--budget must be a number of seconds above 0, got "${values.budget}"`);
    Deno.exit(2);
  }
  const say = values.json
    ? (line: string) => console.error(line)
    : (line: string) => console.log(line);
  try {
    const [path] = positionals;
    const recipeJson = await readJson(path, "recipe");
    const history = values.history ? await readJson(values.history, "history") : undefined;
    const report = await doctorReport(recipeJson, {
      budgetSeconds,
      history,
      run: values.run,
      confirm: values.confirm,
      recipeDir: dirname(path),
      onProgress: (line) => console.error(line),
    });
    if (values.json) console.log(JSON.stringify(report));
    else say(`\n${formatReport(report, { verbose: values.verbose })}`);
  } catch (error) {
    if (error instanceof RecipeError) {
      console.error(error.message);
      Deno.exit(2);
    }
    console.error(`doctor: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
