/**
 * `deno task book:check`: opens every page of the built book (out/book) in headless Chromium and
 * checks what the browser drew: every figure has drawn content (an SVG with marks of non-zero
 * size, or a PNG with dark pixels), no raw `$$` or `$…$` is left in the prose, KaTeX reported no
 * error, and the links between chapters lead to pages that exist.
 *
 * Chromium is Debian's `chromium` package (apt-get install chromium); set CHROMIUM to use another.
 */
import { parseArgs } from "node:util";

export interface PageCheck {
  figures: number;
  drawn: number;
  rawMaths: number;
  mathsErrors: number;
  formulas: number;
  links: string[];
}

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--allow-file-access-from-files",
  "--virtual-time-budget=15000",
];

/** What Chromium drew on one page, as the page's check script recorded it. */
export async function checkPage(chromium: string, file: string): Promise<PageCheck> {
  const profile = await Deno.makeTempDir({ prefix: "book-check-" });
  try {
    const url = `file://${await Deno.realPath(file)}?check`;
    const { code, stdout, stderr } = await new Deno.Command(chromium, {
      args: [...FLAGS, `--user-data-dir=${profile}`, "--dump-dom", url],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dom = new TextDecoder().decode(stdout);
    const found = dom.match(/data-book-check="([^"]*)"/);
    if (code !== 0 || !found) {
      throw new Error(
        `${file}: Chromium exited ${code} without the page's check result. ` +
          new TextDecoder().decode(stderr).split("\n").slice(-5).join("\n"),
      );
    }
    const json = found[1].replace(/&quot;/g, '"').replace(/&amp;/g, "&").replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">");
    return JSON.parse(json) as PageCheck;
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** The problems on a page, in words; empty when it passes. */
export function pageProblems(page: string, check: PageCheck, pages: Set<string>): string[] {
  const problems: string[] = [];
  if (check.drawn < check.figures) {
    problems.push(`${check.figures - check.drawn} of ${check.figures} figures drew nothing`);
  }
  if (check.rawMaths > 0) problems.push(`${check.rawMaths} pieces of raw $-maths in the prose`);
  if (check.mathsErrors > 0) problems.push(`${check.mathsErrors} KaTeX errors`);
  for (const link of check.links) {
    if (!pages.has(link)) problems.push(`a link to ${link}, which is not in the book`);
  }
  return problems.map((problem) => `${page}: ${problem}`);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { book: { type: "string", default: "out/book" } },
    strict: true,
  });
  const chromium = Deno.env.get("CHROMIUM") ?? "chromium";
  const pages = new Set<string>();
  try {
    for await (const entry of Deno.readDir(values.book!)) {
      if (entry.name.endsWith(".html")) pages.add(entry.name);
    }
  } catch {
    console.error(`no book in ${values.book}: build it first with \`deno task book\``);
    Deno.exit(2);
  }
  const problems: string[] = [];
  let figures = 0, formulas = 0;
  for (const page of [...pages].sort()) {
    let check: PageCheck;
    try {
      check = await checkPage(chromium, `${values.book}/${page}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        console.error(
          `${chromium} not found: install Debian's chromium (apt-get install chromium) ` +
            "or set CHROMIUM to a Chromium binary",
        );
        Deno.exit(2);
      }
      throw error;
    }
    figures += check.figures;
    formulas += check.formulas;
    console.log(
      `  ${page.padEnd(36)} ${check.drawn}/${check.figures} figures drawn, ` +
        `${check.formulas} formulas, ${check.rawMaths} raw $`,
    );
    problems.push(...pageProblems(page, check, pages));
  }
  if (problems.length > 0) {
    console.error(problems.join("\n"));
    Deno.exit(1);
  }
  console.log(`book check passed: ${pages.size} pages, ${figures} figures, ${formulas} formulas`);
}
