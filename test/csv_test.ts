import assert from "node:assert/strict";
import { CsvError, parseCsv, splitCsvLine } from "../lib/data/csv.ts";

Deno.test("csv: features and a string class column, labels in sorted order of their values", () => {
  const data = parseCsv("a,b,kind\n1,2,dog\n3,4.5,cat\n\n5,6,dog\n", {
    kind: "classes",
    name: "pets.csv",
  });
  assert.equal(data.count, 3);
  assert.equal(data.features, 2);
  assert.deepEqual([...data.inputs], [1, 2, 3, 4.5, 5, 6]);
  assert.deepEqual([...data.labels!], [1, 0, 1]);
  assert.deepEqual(data.classNames, ["cat", "dog"]);
  assert.equal(data.classes, 2);
});

Deno.test("csv: target by name or index, true/false labels, no header, quoted cells", () => {
  const byName = parseCsv("Outcome,x\ntrue,1\nfalse,2\n", { kind: "classes", target: ["Outcome"] });
  assert.deepEqual([...byName.labels!], [1, 0]);
  const noHeader = parseCsv("1;2;0\n3;4;1\n", { kind: "classes", header: false, delimiter: ";" });
  assert.deepEqual([...noHeader.labels!], [0, 1]);
  assert.deepEqual(splitCsvLine('"a, b",2,"say ""hi"""'), ["a, b", "2", 'say "hi"']);
  const regression = parseCsv("x,y1,y2\n1,2,3\n4,5,6\n", { kind: "regression", target: [1, 2] });
  assert.equal(regression.targetSize, 2);
  assert.deepEqual([...regression.targets!], [2, 3, 5, 6]);
});

Deno.test("csv: an empty or non-numeric cell names the row and the column", () => {
  const wrong = (text: string, pattern: RegExp, kind: "classes" | "multilabel" = "classes") =>
    assert.throws(() => parseCsv(text, { kind, name: "pima.csv" }), (error: unknown) => {
      assert.ok(error instanceof CsvError);
      assert.match(error.message, pattern);
      return true;
    });
  wrong("a,b,y\n1,2,0\n3,,1\n", /pima\.csv: row 3, column 2 \("b"\) is empty/);
  wrong("a,b,y\n1,2,0\n3,abc,1\n", /row 3, column 2 \("b"\) is "abc", not a number/);
  wrong("a,b,y\n1,2,0\n3,4\n", /row 3 has 2 cells, the header has 3/);
  wrong("a,b,y\n1,2,\n", /row 2, column 3 \("y"\) is empty: every row needs a label/);
  wrong(
    "a,y1,y2\n1,0,2\n",
    /row 2, column 3 \("y2"\) is 2: multilabel targets are 0 or 1/,
    "multilabel",
  );
  assert.throws(
    () => parseCsv("a,b\n1,2\n", { kind: "classes", target: ["Outcome"] }),
    /target column "Outcome" is not among the columns "a", "b"/,
  );
  assert.throws(() => parseCsv("", { kind: "classes" }), /the file is empty/);
});
