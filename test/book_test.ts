import assert from "node:assert/strict";
import { renderMarkdown, renderNotebook } from "../tools/book/build.ts";
import { type PageCheck, pageProblems } from "../tools/book/check.ts";

const katex = (await import("katex")).default;
const { marked } = await import("marked");

Deno.test("book: maths is typeset and kept away from markdown; prices and chapter links survive", () => {
  const html = renderMarkdown(
    "Loss $L_{\\text{plateau}} = \\sum_k H(p_k)$ and\n\n$$a_b * c_d$$\n\nIt costs $0.34 per step, " +
      "at most $17 \\times 0.02 = \\$0.34$. " +
      "See [Chapter 2](02-zero-initialisation.ipynb).",
    katex,
    marked,
  );
  assert.equal((html.match(/class="katex"/g) ?? []).length, 3);
  assert.match(html, /class="katex-display"/);
  assert.ok(!html.includes("<em>"), "markdown did not read _ or * inside the maths");
  assert.match(html, /\$0\.34 per step/);
  assert.match(html, /href="02-zero-initialisation\.html"/);
});

Deno.test("book: a notebook's figures are counted and drawn from their vega-lite spec", async () => {
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }] },
    mark: "line",
    encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
  };
  const chapter = await renderNotebook("09-test", {
    cells: [
      { cell_type: "markdown", source: "# Chapter 9 — a test\n\nText." },
      {
        cell_type: "code",
        source: "show(spec)",
        outputs: [{
          output_type: "display_data",
          data: { "application/vnd.vegalite.v5+json": spec, "text/plain": "[chart]" },
        }],
      },
    ],
  });
  assert.equal(chapter.title, "Chapter 9 — a test");
  assert.equal(chapter.figures, 1);
  assert.match(chapter.html, /<figure class="chart"><svg/);
});

Deno.test("book check: a blank figure, raw maths, a KaTeX error or a dead link is a problem", () => {
  const good: PageCheck = {
    figures: 3,
    drawn: 3,
    rawMaths: 0,
    mathsErrors: 0,
    formulas: 4,
    links: ["index.html"],
  };
  const pages = new Set(["index.html", "01-a.html"]);
  assert.deepEqual(pageProblems("01-a.html", good, pages), []);
  const bad = { ...good, drawn: 2, rawMaths: 1, mathsErrors: 1, links: ["07-missing.html"] };
  const problems = pageProblems("01-a.html", bad, pages);
  assert.equal(problems.length, 4);
  assert.match(problems[0], /1 of 3 figures drew nothing/);
  assert.match(problems[3], /07-missing\.html, which is not in the book/);
});
