/**
 * `deno task book`: the executed notebooks as a static HTML book in out/book/, readable offline in
 * any browser: an index, the chapters in order with links between them, figures drawn as SVG from
 * each chart's vega-lite spec (a PNG where a figure has only that), and maths typeset by KaTeX at
 * build time (its CSS and fonts are copied beside the pages).
 *
 * Why not nbconvert's HTML: Debian's nbconvert 6.5.3 strips the inside of every SVG
 * (jupyter/nbconvert#1849) and leaves maths as raw LaTeX unless MathJax is installed.
 *
 * Needs only Deno and the npm packages in deno.json (marked, katex, vega, vega-lite);
 * `deno task book:check` then opens every page in headless Chromium (Debian's `chromium`).
 *
 *   deno task book [--out out/book]
 */
import { parseArgs } from "node:util";
import { renderSvg } from "../../lib/plot/render.ts";
import type { VegaLiteSpec } from "../../lib/plot/spec.ts";

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface Cell {
  cell_type: "markdown" | "code" | "raw";
  source: string | string[];
  outputs?: Output[];
}
interface Notebook {
  cells: Cell[];
}

export interface Chapter {
  /** The notebook's file name without .ipynb, e.g. "01-relu-before-softmax". */
  slug: string;
  title: string;
  html: string;
  figures: number;
}

const VEGA_LITE = "application/vnd.vegalite.v5+json";
const joined = (text: string | string[] | undefined) =>
  Array.isArray(text) ? text.join("") : text ?? "";
const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

// The npm packages, loaded through specifiers the module graph cannot see (as lib/plot does), so
// type-checking the repository needs no registry.
interface Katex {
  renderToString(tex: string, options: { displayMode: boolean; throwOnError: boolean }): string;
}
interface Marked {
  parse(markdown: string, options: { async: false }): string;
}
async function libraries(): Promise<{ katex: Katex; marked: Marked }> {
  const names = { katex: "katex", marked: "marked" };
  const [katex, marked] = await Promise.all([import(names.katex), import(names.marked)]);
  return { katex: katex.default ?? katex, marked: marked.marked ?? marked };
}

/**
 * Markdown to HTML with the maths typeset. Maths ($$…$$ display, $…$ inline) is cut out before
 * markdown sees it, so that `_` and `*` inside a formula stay maths, and put back as KaTeX HTML.
 */
export function renderMarkdown(markdown: string, katex: Katex, marked: Marked): string {
  const formulas: string[] = [];
  const hold = (tex: string, displayMode: boolean) => {
    formulas.push(katex.renderToString(tex.trim(), { displayMode, throwOnError: false }));
    return `@@MATH${formulas.length - 1}@@`;
  };
  const withoutMaths = markdown
    .replace(/\$\$([\s\S]+?)\$\$/g, (_, tex) => hold(tex, true))
    // An escaped dollar (\$, a price inside a formula) stays inside the formula.
    .replace(
      /(?<![\\$\w])\$(?!\s)((?:\\\$|[^$\n])+?)(?<![\s\\])\$(?![\w$])/g,
      (_, tex) => hold(tex, false),
    );
  const html = marked.parse(withoutMaths, { async: false })
    // Links to a chapter's notebook go to its page.
    .replace(/href="(?:\.\.\/notebooks\/|\.\/)?(\d\d-[\w-]+)\.ipynb"/g, 'href="$1.html"');
  return html.replace(/@@MATH(\d+)@@/g, (_, i) => formulas[Number(i)]);
}

async function renderOutput(output: Output): Promise<{ html: string; figure: boolean }> {
  if (output.output_type === "stream") {
    const kind = output.name === "stderr" ? "stderr" : "stdout";
    return { html: `<pre class="${kind}">${escapeHtml(joined(output.text))}</pre>`, figure: false };
  }
  if (output.output_type === "error") {
    const text = `${output.ename}: ${output.evalue}`;
    return { html: `<pre class="error">${escapeHtml(text)}</pre>`, figure: false };
  }
  const data = output.data ?? {};
  if (data[VEGA_LITE] !== undefined) {
    const svg = await renderSvg(data[VEGA_LITE] as VegaLiteSpec);
    return { html: `<figure class="chart">${svg}</figure>`, figure: true };
  }
  if (typeof data["image/png"] === "string") {
    const src = `data:image/png;base64,${(data["image/png"] as string).replace(/\s/g, "")}`;
    return { html: `<figure class="chart"><img alt="figure" src="${src}"></figure>`, figure: true };
  }
  if (data["image/svg+xml"] !== undefined) {
    return {
      html: `<figure class="chart">${joined(data["image/svg+xml"] as string)}</figure>`,
      figure: true,
    };
  }
  if (data["text/html"] !== undefined) {
    return {
      html: `<div class="html-output">${joined(data["text/html"] as string)}</div>`,
      figure: false,
    };
  }
  if (data["text/plain"] !== undefined) {
    return {
      html: `<pre class="stdout">${escapeHtml(joined(data["text/plain"] as string))}</pre>`,
      figure: false,
    };
  }
  return { html: "", figure: false };
}

/** One notebook's body: prose, code (folded) and outputs, in order. */
export async function renderNotebook(slug: string, notebook: Notebook): Promise<Chapter> {
  const { katex, marked } = await libraries();
  const parts: string[] = [];
  let title = slug;
  let figures = 0;
  for (const cell of notebook.cells) {
    const source = joined(cell.source);
    if (cell.cell_type === "markdown") {
      if (title === slug) {
        const heading = source.match(/^#\s+(.+)$/m);
        if (heading) title = heading[1].trim();
      }
      parts.push(`<section class="prose">${renderMarkdown(source, katex, marked)}</section>`);
    } else if (cell.cell_type === "code") {
      if (source.trim() !== "") {
        parts.push(
          `<details class="code"><summary>code</summary><pre><code>${
            escapeHtml(source)
          }</code></pre></details>`,
        );
      }
      for (const output of cell.outputs ?? []) {
        const rendered = await renderOutput(output);
        if (rendered.figure) figures++;
        parts.push(rendered.html);
      }
    }
  }
  return { slug, title, html: parts.join("\n"), figures };
}

const STYLE = `
body { font: 16px/1.55 "DejaVu Sans", Verdana, sans-serif; color: #222; max-width: 980px;
  margin: 2em auto; padding: 0 1em; }
nav { display: flex; justify-content: space-between; gap: 1em; margin: 1em 0; font-size: 14px; }
pre { background: #f6f6f6; padding: .6em .8em; overflow-x: auto; font-size: 13px; }
pre.stderr { background: #fdf3e7; }
pre.error { background: #fde8e8; }
details.code summary { cursor: pointer; color: #666; font-size: 13px; }
figure.chart { margin: 1em 0; overflow-x: auto; }
figure.chart img { max-width: 100%; }
.html-output table { border-collapse: collapse; font-size: 13px; margin: .5em 0; }
.html-output td, .html-output th { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
.katex-display { overflow-x: auto; overflow-y: hidden; }
`;

// Run only by `deno task book:check` (the page opened with ?check): it records what the browser
// drew in <body data-book-check>, which headless Chromium's --dump-dom then prints.
const CHECK_SCRIPT = `
addEventListener("load", async () => {
  if (!location.search.includes("check")) return;
  const figures = [...document.querySelectorAll("figure.chart")];
  const drawn = [];
  for (const figure of figures) {
    const svg = figure.querySelector("svg"), img = figure.querySelector("img");
    if (svg) {
      const box = svg.getBoundingClientRect();
      const marks = [...svg.querySelectorAll("path, rect, line, circle, text, image")]
        .filter((e) => { const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length;
      drawn.push(box.width > 100 && box.height > 50 && marks >= 5);
    } else if (img) {
      await img.decode().catch(() => {});
      const canvas = document.createElement("canvas");
      canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
      const context = canvas.getContext("2d");
      let dark = 0;
      if (canvas.width > 0) {
        context.drawImage(img, 0, 0);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < pixels.length; i += 4) if (pixels[i] + pixels[i + 1] + pixels[i + 2] < 300) dark++;
      }
      drawn.push(dark > 500);
    } else drawn.push(false);
  }
  const prose = [...document.querySelectorAll("section.prose")].map((s) => s.innerText).join("\\n");
  document.body.dataset.bookCheck = JSON.stringify({
    figures: figures.length,
    drawn: drawn.filter(Boolean).length,
    // "$$", or $…$ around LaTeX (a backslash, ^, _ or a brace): a price like $0.34 is not maths.
    rawMaths: (prose.match(/\\$\\$|\\$[^$\\n]*[\\\\^_{][^$\\n]*\\$/g) ?? []).length,
    mathsErrors: document.querySelectorAll(".katex-error").length,
    formulas: document.querySelectorAll(".katex").length,
    links: [...document.querySelectorAll("a[href$='.html']")].map((a) => a.getAttribute("href")),
  });
});
`;

function page(title: string, body: string, nav = ""): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="assets/katex/katex.min.css">
<style>${STYLE}</style>
<script>${CHECK_SCRIPT}</script>
</head><body>
${nav}
${body}
${nav}
</body></html>
`;
}

/** Builds the book into `outDir`; returns the chapters in order. */
export async function buildBook(
  notebookDir: URL,
  outDir: string,
): Promise<Chapter[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(notebookDir)) {
    if (entry.isFile && /^\d\d-.*\.ipynb$/.test(entry.name)) files.push(entry.name);
  }
  files.sort();
  if (files.length === 0) {
    throw new Error(`no notebooks (NN-name.ipynb) in ${notebookDir.pathname}`);
  }
  const chapters: Chapter[] = [];
  for (const file of files) {
    const notebook = JSON.parse(await Deno.readTextFile(new URL(file, notebookDir))) as Notebook;
    chapters.push(await renderNotebook(file.replace(/\.ipynb$/, ""), notebook));
  }
  // Written next to the final folder and renamed into place, so a reader never sees half a book.
  const staging = `${outDir}.${crypto.randomUUID()}.tmp`;
  await Deno.mkdir(`${staging}/assets/katex/fonts`, { recursive: true });
  try {
    const katexDir = new URL("../../node_modules/katex/dist/", import.meta.url);
    await Deno.copyFile(
      new URL("katex.min.css", katexDir),
      `${staging}/assets/katex/katex.min.css`,
    );
    for await (const font of Deno.readDir(new URL("fonts/", katexDir))) {
      if (font.name.endsWith(".woff2")) {
        await Deno.copyFile(
          new URL(`fonts/${font.name}`, katexDir),
          `${staging}/assets/katex/fonts/${font.name}`,
        );
      }
    }
    for (const [i, chapter] of chapters.entries()) {
      const previous = chapters[i - 1], next = chapters[i + 1];
      const nav = `<nav><span>${
        previous ? `<a href="${previous.slug}.html">← ${escapeHtml(previous.title)}</a>` : ""
      }</span><a href="index.html">contents</a><span>${
        next ? `<a href="${next.slug}.html">${escapeHtml(next.title)} →</a>` : ""
      }</span></nav>`;
      await Deno.writeTextFile(
        `${staging}/${chapter.slug}.html`,
        page(chapter.title, chapter.html, nav),
      );
    }
    const list = chapters.map((c) =>
      `<li><a href="${c.slug}.html">${
        escapeHtml(c.title)
      }</a> <small>(${c.figures} figures)</small></li>`
    ).join("\n");
    const index = `<h1>Why won't it learn?</h1>
<p>Six questions people ask after writing a neural network from scratch. Each chapter reproduces the
failure on real data, diagnoses it by measurement, fixes it, and gives a verdict on the answers the
asker got. Built from the executed notebooks.</p>
<ol>${list}</ol>`;
    await Deno.writeTextFile(`${staging}/index.html`, page("Why won't it learn?", index));
    await Deno.remove(outDir, { recursive: true }).catch(() => {});
    await Deno.rename(staging, outDir);
  } catch (error) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw error;
  }
  return chapters;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: "out/book" } },
    strict: true,
  });
  const started = performance.now();
  const chapters = await buildBook(new URL("../../notebooks/", import.meta.url), values.out!);
  for (const chapter of chapters) {
    console.log(`  ${chapter.slug}.html  ${chapter.figures} figures  ${chapter.title}`);
  }
  console.log(
    `The book is in ${values.out}/index.html (${chapters.length} chapters, ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s). Check it: deno task book:check`,
  );
}
