import assert from "node:assert/strict";
import { outFolderProblem } from "../chapters/cli.ts";

Deno.test("--out outside the folders the task may write is refused up front, with what works", () => {
  // The test task may write out/, .cache/ and /tmp, like the chapter tasks may write out/.
  assert.equal(outFolderProblem("out/figures", 2), undefined);
  const problem = outFolderProblem("/nowhere/figures", 2);
  assert.ok(problem !== undefined);
  assert.match(problem, /--out \/nowhere\/figures: this task may write figures only under out\//);
  assert.match(problem, /--out out\/chapter2-seed3/);
  assert.match(problem, /--allow-write=out,\.cache,\/nowhere\/figures chapters\/chapter2\.ts/);
  assert.match(outFolderProblem("  ", 1)!, /--out must name a folder/);
});
