/**
 * What every `deno task chapterN` shares: options, a text report, figures.
 *
 *   --seed N                  seeds initialisation and shuffling (default 0)
 *   --backend cpu|wasm|webgpu|auto  where the math runs (default wasm: the numbers the chapter states)
 *   --json                    print the chapter's key numbers as one JSON object on stdout
 *   --out DIR                 where figures are written as SVG (default out/chapterN)
 *   --help
 *
 * The story goes to stdout, or to stderr with --json so that stdout is only JSON.
 */
import { parseArgs } from "node:util";
import {
  type Backend,
  type BackendChoice,
  backendChoices,
  selectBackend,
} from "../lib/backend/mod.ts";

export interface ChapterContext {
  seed: number;
  backend: Backend;
  json: boolean;
  outDir: string;
  report: Report;
}

export interface ChapterInfo {
  number: number;
  title: string;
}

export class Report {
  readonly figures: string[] = [];
  constructor(readonly write: (line: string) => void, readonly outDir: string) {}

  heading(text: string): void {
    this.write(`\n## ${text}\n`);
  }

  line(text = ""): void {
    this.write(text);
  }

  /** A two-column table of label and value. */
  table(rows: [string, string | number][]): void {
    const width = Math.max(...rows.map(([label]) => label.length));
    for (const [label, value] of rows) this.write(`  ${label.padEnd(width)}  ${value}`);
  }

  /** Render a vega-lite spec to <outDir>/<name>.svg. */
  async figure(name: string, spec: Record<string, unknown>): Promise<void> {
    const { saveSvg } = await import("../lib/plot.ts");
    const path = `${this.outDir}/${name}.svg`;
    await saveSvg(spec, path);
    this.figures.push(path);
    this.write(`  [figure] ${path}`);
  }
}

const usage = (info: ChapterInfo) =>
  `deno task chapter${info.number} [options]: ${info.title}

  --seed N                   seed for initialisation and shuffling (default 0)
  --backend cpu|wasm|webgpu|auto
                             where to compute (default wasm, the fast CPU path, on which the
                             chapter's numbers were measured; cpu is the readable reference, whose
                             float32 sums round in another order; auto takes a hardware GPU if
                             present, else wasm)
  --json                     print the key numbers as one JSON object on stdout (the story goes to stderr)
  --out DIR                  folder for the SVG figures (default out/chapter${info.number})
  --help                     this text`;

/** Parse the arguments, run the chapter, print its story and (with --json) its numbers. */
export async function runChapter(
  info: ChapterInfo,
  args: string[],
  body: (context: ChapterContext) => Promise<Record<string, unknown>>,
): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        seed: { type: "string", default: "0" },
        backend: { type: "string" },
        json: { type: "boolean", default: false },
        out: { type: "string", default: `out/chapter${info.number}` },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage(info)}`);
    Deno.exit(2);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(usage(info));
    return;
  }
  // The generator takes 32 bits of seed: larger or negative seeds would collide with others.
  const seed = /^\d+$/.test(values.seed!) ? Number(values.seed) : NaN;
  if (!(Number.isSafeInteger(seed) && seed < 2 ** 32)) {
    console.error(`--seed must be a whole number from 0 to ${2 ** 32 - 1}, got "${values.seed}"`);
    Deno.exit(2);
  }
  const outProblem = outFolderProblem(values.out!, info.number);
  if (outProblem !== undefined) {
    console.error(outProblem);
    Deno.exit(2);
  }
  const choice = (values.backend ?? "wasm") as BackendChoice;
  if (!backendChoices.includes(choice)) {
    console.error(`--backend must be one of ${backendChoices.join(", ")}, got "${values.backend}"`);
    Deno.exit(2);
  }
  let backend: Backend;
  try {
    backend = await selectBackend(choice);
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(1);
  }
  const json = values.json!;
  const write = json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  const report = new Report(write, values.out!);
  write(`# Chapter ${info.number}: ${info.title}`);
  write(`(seed ${seed}, backend ${backend.name}: ${backend.description})`);
  const started = performance.now();
  const numbers = await body({ seed, backend, json, outDir: values.out!, report });
  write(`\nDone in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  if (json) {
    console.log(JSON.stringify({ chapter: info.number, seed, backend: backend.name, ...numbers }));
  }
}

/**
 * Why `--out` cannot be written, or undefined when it can. Checked before the run starts: the
 * task's permission covers out/ and .cache/ only, and a denied write would otherwise surface at
 * the first figure, a minute in, as Deno's "run again with --allow-write", which a `deno task`
 * user cannot do.
 */
export function outFolderProblem(outDir: string, chapter: number): string | undefined {
  if (outDir.trim() === "") return "--out must name a folder, e.g. --out out/figures";
  const state = Deno.permissions.querySync({ name: "write", path: outDir }).state;
  if (state === "granted") return undefined;
  return [
    `--out ${outDir}: this task may write figures only under out/. Either choose a folder there,`,
    `e.g. --out out/chapter${chapter}-seed3, or run the chapter with the permission spelled out:`,
    `  deno run --allow-read=. --allow-write=out,.cache,${outDir} chapters/chapter${chapter}.ts ` +
    `--out ${outDir}`,
  ].join("\n");
}
