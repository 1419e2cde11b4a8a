/**
 * The doctor's case suite, every case trained (budget 6 s each): the planted fault must be ranked
 * first and the fixed twin must get no error. Also the in-code route on Chapter 5's collapse
 * (a naive softmax in float32 under Adam 0.03) on three seeds. CI runs it with test:full.
 */
import assert from "node:assert/strict";
import { loadMnist, subset } from "../../lib/data/mod.ts";
import { Doctor } from "../../lib/doctor/doctor.ts";
import {
  Adam,
  Linear,
  NaiveSoftmaxCrossEntropy,
  Random,
  ReLU,
  Sequential,
  train,
} from "../../lib/mod.ts";
import { CASES } from "../doctor/cases.ts";
import { runCase } from "../doctor/run_cases.ts";

const BUDGET_SECONDS = 6;
const results = [];
for (const c of CASES) results.push(await runCase(c, BUDGET_SECONDS));
const hits = results.filter((r) => r.top === r.fault).length;
const alarms = results.filter((r) => r.twinErrors.length > 0).length;
console.log(
  `doctor case suite: ${hits}/${results.length} planted faults ranked first, ` +
    `${alarms}/${results.length} twins with an error`,
);

for (const r of results) {
  Deno.test(`doctor: "${r.name}" is diagnosed as ${r.fault}, and its twin gets no error`, () => {
    assert.equal(r.top, r.fault, r.ranks.join(" "));
    assert.deepEqual(r.twinErrors, []);
  });
}

const { train: mnistTrain } = await loadMnist({ onProgress: () => {} });
const fiveHundred = subset(mnistTrain, { count: 500, seed: 0 });
for (const seed of [0, 1, 2]) {
  Deno.test(`doctor in code: Chapter 5's naive softmax collapse is softmax-overflow (seed ${seed})`, async () => {
    const random = new Random(seed);
    const layer = (i: number, o: number) =>
      new Linear(i, o, { weightInit: "glorot-uniform", random });
    const model = new Sequential([
      layer(784, 100),
      new ReLU(),
      layer(100, 100),
      new ReLU(),
      layer(100, 10),
    ]);
    const loss = new NaiveSoftmaxCrossEntropy();
    const optimizer = new Adam({ learningRate: 0.03 });
    const doctor = new Doctor(model, loss, fiveHundred, { optimizer, epochs: 30, batchSize: 16 });
    const history = await train({
      model,
      loss,
      optimizer,
      train: fiveHundred,
      epochs: 30,
      batchSize: 16,
      seed,
      hooks: doctor.hooks(),
      onNonFinite: "record",
      progress: "none",
    });
    assert.ok(history.nonFinite, "the loss became non-finite");
    const report = doctor.report(history);
    assert.equal(
      report.findings[0].id,
      "softmax-overflow",
      report.findings.map((f) => f.id).join(" "),
    );
    assert.match(
      report.findings[0].evidence[0],
      /largest logit reached \d+(\.\d+)? > ln\(FLT_MAX\) = 88\.72/,
    );
  });
}
