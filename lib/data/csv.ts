/**
 * CSV files as datasets: a header row (or none), one example per row, the target in one or more
 * columns. Every cell must be a number, except a classification target, whose distinct values
 * (strings, or `true`/`false`) become class indices. A cell that is empty or not a number is an
 * error naming the file, the row (1-based, as an editor shows it) and the column.
 */
import type { Dataset } from "./dataset.ts";

export interface CsvOptions {
  /** Whether the first row names the columns (default true). */
  header?: boolean;
  /** The field separator (default ","). */
  delimiter?: string;
  /** Target columns by name or 0-based index; default: the last column. */
  target?: (string | number)[];
  /**
   * "classes": one target column holding class labels; "multilabel": 0/1 target columns;
   * "regression": numeric targets.
   */
  kind: "classes" | "multilabel" | "regression";
  /** For messages, e.g. the file's path. */
  name?: string;
}

export class CsvError extends Error {
  override name = "CsvError";
}

/** Splits one line into cells; double quotes may wrap a cell ("a,b") and "" is a quote inside. */
export function splitCsvLine(line: string, delimiter = ","): string[] {
  const cells: string[] = [];
  let cell = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === "") {
      quoted = true;
      cell = "";
    } else if (c === delimiter) {
      cells.push(cell.trim());
      cell = "";
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

/** The numeric value of a feature cell, or an error that says where it is. */
function numericCell(cell: string, where: () => string): number {
  if (cell === "") throw new CsvError(`${where()} is empty: every feature needs a number`);
  const value = Number(cell);
  if (!Number.isFinite(value)) {
    throw new CsvError(`${where()} is ${JSON.stringify(cell)}, not a number`);
  }
  return value;
}

/** A dataset from CSV text. */
export function parseCsv(text: string, options: CsvOptions): Dataset {
  const { header = true, delimiter = ",", kind } = options;
  const name = options.name ?? "csv";
  const lines = text.split(/\r?\n/);
  // Line numbers as an editor shows them; blank lines (a trailing newline) are skipped.
  const rows: { line: number; cells: string[] }[] = [];
  lines.forEach((line, i) => {
    if (line.trim() !== "") rows.push({ line: i + 1, cells: splitCsvLine(line, delimiter) });
  });
  if (rows.length === 0) throw new CsvError(`${name}: the file is empty`);
  const width = rows[0].cells.length;
  const columnNames = header
    ? rows.shift()!.cells
    : Array.from({ length: width }, (_, j) => `column ${j}`);
  if (rows.length === 0) throw new CsvError(`${name}: a header and no data rows`);
  for (const row of rows) {
    if (row.cells.length !== width) {
      throw new CsvError(
        `${name}: row ${row.line} has ${row.cells.length} cells, the ${
          header ? "header" : "first row"
        } has ${width}`,
      );
    }
  }
  const targetColumns = (options.target ?? [width - 1]).map((target) => {
    const index = typeof target === "number" ? target : columnNames.indexOf(target);
    if (index < 0 || index >= width) {
      throw new CsvError(
        `${name}: target column ${JSON.stringify(target)} is not among ${
          header
            ? `the columns ${columnNames.map((c) => JSON.stringify(c)).join(", ")}`
            : `0-${width - 1}`
        }`,
      );
    }
    return index;
  });
  if (new Set(targetColumns).size !== targetColumns.length) {
    throw new CsvError(`${name}: a target column is named twice`);
  }
  if (kind === "classes" && targetColumns.length !== 1) {
    throw new CsvError(
      `${name}: classification takes one target column, got ${targetColumns.length}`,
    );
  }
  const featureColumns = [...Array(width).keys()].filter((j) => !targetColumns.includes(j));
  if (featureColumns.length === 0) throw new CsvError(`${name}: no feature columns are left`);
  const where = (line: number, column: number) => () =>
    `${name}: row ${line}, column ${column + 1} (${JSON.stringify(columnNames[column])})`;

  const count = rows.length, features = featureColumns.length;
  const inputs = new Float32Array(count * features);
  rows.forEach(({ line, cells }, i) => {
    featureColumns.forEach((column, j) => {
      inputs[i * features + j] = numericCell(cells[column], where(line, column));
    });
  });
  const dataset: Dataset = { name, inputs, count, features };

  if (kind === "classes") {
    const column = targetColumns[0];
    const raw = rows.map(({ line, cells }) => {
      const cell = cells[column];
      if (cell === "") {
        throw new CsvError(`${where(line, column)()} is empty: every row needs a label`);
      }
      return cell;
    });
    const numeric = raw.every((cell) => Number.isFinite(Number(cell)));
    const booleans = raw.every((cell) => /^(true|false)$/i.test(cell));
    let labels: number[];
    let classNames: string[];
    if (booleans) {
      labels = raw.map((cell) => (cell.toLowerCase() === "true" ? 1 : 0));
      classNames = ["false", "true"];
    } else if (
      numeric && raw.every((cell) => Number.isInteger(Number(cell)) && Number(cell) >= 0)
    ) {
      labels = raw.map(Number);
      const classes = Math.max(...labels) + 1;
      classNames = Array.from({ length: classes }, (_, c) => String(c));
    } else {
      // Strings (or non-integer numbers) map to indices in the sorted order of their distinct values.
      const distinct = [...new Set(raw)].sort();
      labels = raw.map((cell) => distinct.indexOf(cell));
      classNames = distinct;
    }
    if (classNames.length > 256) {
      throw new CsvError(`${name}: ${classNames.length} classes; at most 256 fit in byte labels`);
    }
    dataset.labels = Uint8Array.from(labels);
    dataset.classes = Math.max(2, classNames.length);
    dataset.classNames = classNames.length >= 2 ? classNames : [...classNames, "(absent)"];
    return dataset;
  }
  const targetSize = targetColumns.length;
  const targets = new Float32Array(count * targetSize);
  rows.forEach(({ line, cells }, i) => {
    targetColumns.forEach((column, k) => {
      const raw = cells[column];
      const value = /^(true|false)$/i.test(raw)
        ? (raw.toLowerCase() === "true" ? 1 : 0)
        : numericCell(raw, where(line, column));
      if (kind === "multilabel" && value !== 0 && value !== 1) {
        throw new CsvError(`${where(line, column)()} is ${raw}: multilabel targets are 0 or 1`);
      }
      targets[i * targetSize + k] = value;
    });
  });
  dataset.targets = targets;
  dataset.targetSize = targetSize;
  return dataset;
}

/** A dataset from a CSV file. */
export async function loadCsv(path: string | URL, options: CsvOptions): Promise<Dataset> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new CsvError(`cannot read the CSV file ${String(path)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseCsv(text, { name: String(path), ...options });
}
