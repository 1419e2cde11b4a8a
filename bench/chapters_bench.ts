/**
 * How long each chapter task takes on each CPU backend, in one run:
 *
 *     deno task bench:chapters [--chapters=1,2,3] [--backends=cpu,wasm]
 *
 * Each `deno task chapterN --backend B --json` (seed 0, the full budget the chapter states) runs
 * as its own process, one at a time, alternating backends chapter by chapter so that both see the
 * same machine; the figure is its wall-clock time, start to exit, data caches already warm (a
 * first untimed run of Chapter 1 fills them). The load average before and after says whether the
 * machine was shared. Chapter 6 reads its pre-trained base from the cache once one run has
 * written it, as the notebook does.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    chapters: { type: "string", default: "1,2,3,4,5,6" },
    backends: { type: "string", default: "cpu,wasm" },
  },
});
const chapters = values.chapters!.split(",").map(Number);
const backends = values.backends!.split(",");

const load = () => {
  try {
    return Deno.loadavg().map((v) => v.toFixed(2)).join(" ");
  } catch {
    return "(not allowed: --allow-sys=loadavg)";
  }
};

async function runChapter(chapter: number, backend: string): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read=.",
      "--allow-write=out,.cache",
      `chapters/chapter${chapter}.ts`,
      "--backend",
      backend,
      "--json",
      "--out",
      `out/bench-chapter${chapter}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  if (!output.success) {
    const tail = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`chapter ${chapter} on ${backend} exited with ${output.code}: ${tail}`);
  }
  return seconds;
}

console.log(`Chapter tasks, seed 0, full budgets; load average before: ${load()}`);
console.log("warming the data caches (Chapter 1 on wasm, untimed)...");
await runChapter(1, "wasm");
const rows: { chapter: number; seconds: Record<string, number> }[] = [];
for (const chapter of chapters) {
  const seconds: Record<string, number> = {};
  for (const backend of backends) {
    console.log(`chapter ${chapter} on ${backend}...`);
    seconds[backend] = await runChapter(chapter, backend);
  }
  rows.push({ chapter, seconds });
}
console.log(`Load average after: ${load()}`);
const ratio = backends.length === 2 ? [`${backends[0]} ÷ ${backends[1]}`] : [];
console.log(`\n| chapter | ${backends.map((b) => `${b} (s)`).join(" | ")} | ${ratio.join("")} |`);
console.log(
  `| --- | ${backends.map(() => "---:").join(" | ")} | ${ratio.map(() => "---:").join("")} |`,
);
for (const { chapter, seconds } of rows) {
  const cells = backends.map((b) => seconds[b].toFixed(1));
  const r = backends.length === 2 ? [(seconds[backends[0]] / seconds[backends[1]]).toFixed(2)] : [];
  console.log(`| ${chapter} | ${cells.join(" | ")} | ${r.join("")} |`);
}
const total = (b: string) => rows.reduce((sum, row) => sum + row.seconds[b], 0);
const totals = backends.map((b) => total(b).toFixed(1));
const totalRatio = backends.length === 2
  ? [(total(backends[0]) / total(backends[1])).toFixed(2)]
  : [];
console.log(`| all | ${totals.join(" | ")} | ${totalRatio.join("")} |`);
