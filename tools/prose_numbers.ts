/**
 * The numbers a notebook's prose states that none of its outputs prints: a reviewer's list.
 *
 *     deno task prose-numbers [notebooks/03-squared-error-and-depth.ipynb ...]
 *
 * Chapter text is written from a run's outputs, and an output moves when the arithmetic does
 * (another backend's rounding, a changed budget). Every decimal number in the markdown cells (like
 * 0.00657, 3.2251, 78.20, 1e-3) is looked up in the text of every output of the same notebook
 * (plain text and HTML tables, not figures' data), also rounded to fewer digits; the ones found nowhere are listed
 * with the sentence around them; section numbers are skipped. Some are fine (a constant like
 * ln 10 = 2.303 that no cell prints, a figure from another run the text names): the list is for
 * a person to read after re-executing, and to compare with the list before; it is not a test.
 */
import { basename } from "node:path";

export interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: {
    text?: string | string[];
    data?: Record<string, unknown>;
  }[];
}

const text = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join("") : value ?? "";

/** Every output's printed text in one string (tables' HTML included, figures' JSON excluded). */
function outputText(cells: Cell[]): string {
  const parts: string[] = [];
  for (const cell of cells) {
    if (cell.cell_type === "code") parts.push(text(cell.source)); // its constants count as stated
    for (const output of cell.outputs ?? []) {
      parts.push(text(output.text));
      // A figure's text/plain is its data at full precision, which would match anything.
      const figure = Object.keys(output.data ?? {}).some((k) => k.startsWith("image/"));
      for (const kind of figure ? [] : ["text/plain", "text/html", "text/markdown"]) {
        const value = output.data?.[kind];
        if (value !== undefined) parts.push(text(value as string | string[]));
      }
    }
  }
  return parts.join("\n").replace(/,(\d{3})/g, "$1").replace(/[−–]/g, "-");
}

/** The decimal numbers in a markdown cell (maths included), with where they stand. */
function proseNumbers(markdown: string): { value: string; context: string }[] {
  const found: { value: string; context: string }[] = [];
  const plain = markdown.replace(/,(\d{3})/g, "$1");
  for (const match of plain.matchAll(/(?<![\w.])\d+\.\d+(?:e[-+]?\d+)?|\d+e[-+]?\d+/g)) {
    const at = match.index!;
    found.push({
      value: match[0],
      context: plain.slice(Math.max(0, at - 60), at + match[0].length + 40).replace(/\s+/g, " "),
    });
  }
  return found;
}

/** Is `value` printed somewhere, as written or as an output with more digits rounds to it? */
function printed(value: string, outputs: string): boolean {
  const escaped = value.replace(/[.+]/g, (c) => `\\${c}`);
  if (new RegExp(`(?<![\\d.])${escaped}(?!\\d)`).test(outputs)) return true;
  const [whole, fraction = ""] = value.split(".");
  if (value.includes("e")) {
    // 7e-9 is printed as 6.6e-9: compare at the stated number of digits.
    const digits = value.split("e")[0].replace(".", "").length - 1;
    const stated = Number(value).toExponential(digits);
    return (outputs.match(/\d+(?:\.\d+)?e[-+]?\d+/g) ?? [])
      .some((candidate) => Number(candidate).toExponential(digits) === stated);
  }
  // An output with up to three more digits that rounds to the stated one (0.0066 for 0.006631).
  const pattern = new RegExp(`(?<![\\d.])${whole}\\.${fraction.slice(0, -1)}\\d{1,4}(?!\\d)`, "g");
  for (const candidate of outputs.match(pattern) ?? []) {
    if (Number(candidate).toFixed(fraction.length) === value) return true;
  }
  return false;
}

/** The prose numbers of a notebook's cells that none of its outputs prints, by cell. */
export function unprintedNumbers(
  cells: Cell[],
): { cell: number; value: string; context: string }[] {
  const outputs = outputText(cells);
  // Section numbers ("### 2.7 More layers", "see 2.7") are not measurements.
  const sections = new Set(
    cells.filter((cell) => cell.cell_type === "markdown")
      .flatMap((cell) => [...text(cell.source).matchAll(/^#+ (\d+\.\d+)/gm)].map((m) => m[1])),
  );
  const found: { cell: number; value: string; context: string }[] = [];
  cells.forEach((cell, index) => {
    if (cell.cell_type !== "markdown") return;
    for (const { value, context } of proseNumbers(text(cell.source))) {
      if (!sections.has(value) && !printed(value, outputs)) {
        found.push({ cell: index, value, context });
      }
    }
  });
  return found;
}

if (import.meta.main) {
  const files = Deno.args.length > 0 ? Deno.args : [...Deno.readDirSync("notebooks")]
    .map((entry) => `notebooks/${entry.name}`)
    .filter((name) => name.endsWith(".ipynb"))
    .sort();
  let missing = 0;
  for (const file of files) {
    const cells = (JSON.parse(Deno.readTextFileSync(file)) as { cells: Cell[] }).cells;
    const found = unprintedNumbers(cells);
    missing += found.length;
    console.log(`${basename(file)}: ${found.length} number(s) in the prose that no output prints`);
    for (const { cell, value, context } of found) {
      console.log(`  cell ${cell}: ${value}  …${context}…`);
    }
  }
  console.log(`${missing} in all`);
}
