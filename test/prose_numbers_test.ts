/**
 * The reviewer's list of prose numbers that no output prints (tools/prose_numbers.ts): a number
 * printed with more digits, or in another exponent form, counts as printed; a changed one does not.
 */
import assert from "node:assert/strict";
import { type Cell, unprintedNumbers } from "../tools/prose_numbers.ts";

const notebook = (prose: string): Cell[] => [
  { cell_type: "markdown", source: ["### 2.7 Depth\n", prose] },
  {
    cell_type: "code",
    source: "await showTable(rows);",
    outputs: [
      { text: "train MSE 0.006631 (0.00652–0.00860), gradient 6.6e-9\n" },
      // A figure's text/plain is its data at full precision: not counted as printed.
      { data: { "image/png": "", "text/plain": "0.0123456" } },
    ],
  },
];

Deno.test("prose numbers: rounded, exponent and section numbers count as printed", () => {
  assert.deepEqual(
    unprintedNumbers(notebook("It trains to 0.0066 (0.00652–0.00860; see 2.7), gradient 7e-9.")),
    [],
  );
});

Deno.test("prose numbers: a number the outputs no longer print is listed, with its cell", () => {
  const found = unprintedNumbers(
    notebook("It trains to 0.00657–0.00860, and 0.0123 in the figure."),
  );
  assert.deepEqual(found.map(({ cell, value }) => [cell, value]), [[0, "0.00657"], [0, "0.0123"]]);
  assert.match(found[0].context, /trains to 0\.00657/);
});
