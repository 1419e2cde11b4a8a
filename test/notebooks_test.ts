/**
 * Every notebook executes headless on the Deno kernel without an error.
 *
 * The notebooks are run in smoke-test mode (NOTEBOOK_SMOKE_TEST=1: each uses a
 * small subset and budget, as its first code cell shows), into a temporary
 * copy, so this test checks that the code runs, not the figures: the full runs
 * are `deno task notebooks` and the claims are in the chapter tests. Skipped,
 * with a message, where Jupyter or the Deno kernelspec is not installed; CI
 * installs both, so there it always runs.
 */
import assert from "node:assert/strict";

const notebooks = [...Deno.readDirSync("notebooks")]
  .filter((entry) => entry.name.endsWith(".ipynb"))
  .map((entry) => `notebooks/${entry.name}`)
  .sort();

async function missingTooling(): Promise<string | null> {
  try {
    const { success, stdout } = await new Deno.Command("jupyter", {
      args: ["kernelspec", "list"],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    if (!success) return "`jupyter kernelspec list` failed";
    if (
      !new TextDecoder().decode(stdout).split("\n").some((line) => line.trim().startsWith("deno "))
    ) {
      return "the Deno kernelspec is not installed (run `deno jupyter --install`)";
    }
    return null;
  } catch {
    return "Jupyter is not installed (see the README's notebook section, or run `deno task setup-check`)";
  }
}

const missing = await missingTooling();
if (missing) console.warn(`notebook tests skipped: ${missing}`);

Deno.test("there is a notebook per chapter module", () => {
  const chapters = [...Deno.readDirSync("chapters")].filter((e) => /^chapter\d+\.ts$/.test(e.name));
  assert.ok(
    notebooks.length >= chapters.length,
    `${notebooks.length} notebooks for ${chapters.length} chapters`,
  );
});

for (const path of notebooks) {
  Deno.test(`${path} is committed executed, with no error outputs`, () => {
    const notebook = JSON.parse(Deno.readTextFileSync(path));
    assert.equal(notebook.metadata.kernelspec.name, "deno");
    for (const cell of notebook.cells) {
      if (cell.cell_type !== "code") continue;
      assert.notEqual(cell.execution_count, null, `a code cell of ${path} was never run`);
      for (const output of cell.outputs) {
        assert.notEqual(output.output_type, "error", `${path}: ${output.ename}`);
      }
    }
  });

  Deno.test({
    name: `${path} executes headless (smoke-test mode)`,
    ignore: missing !== null,
    async fn() {
      const outputDir = await Deno.makeTempDir();
      try {
        const { success, stderr } = await new Deno.Command("jupyter", {
          args: [
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.kernel_name=deno",
            "--ExecutePreprocessor.timeout=300",
            "--output-dir",
            outputDir,
            path,
          ],
          env: { NOTEBOOK_SMOKE_TEST: "1" },
          stdout: "null",
          stderr: "piped",
        }).output();
        const log = new TextDecoder().decode(stderr);
        assert.ok(success, `${path} failed to execute:\n${log.slice(-3000)}`);
      } finally {
        await Deno.remove(outputDir, { recursive: true });
      }
    },
  });
}
