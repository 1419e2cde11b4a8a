/**
 * saveWeights / loadWeights: a bit-exact round trip through JSON text, in place
 * (an optimiser keeps working), and errors that name the parameter and both
 * shapes when the architecture does not match, changing nothing.
 */
import assert from "node:assert/strict";
import {
  Linear,
  loadWeights,
  mlp,
  ReLU,
  type SavedWeights,
  saveWeights,
  Sequential,
  tensor,
} from "../lib/mod.ts";

async function allValues(model: Sequential): Promise<Float32Array[] | Float64Array[]> {
  const out = [];
  for (const p of model.parameters()) out.push(Float64Array.from(await p.value.data()));
  return out;
}

/** The bytes of every parameter, to compare bit for bit. */
async function allBytes(model: Sequential): Promise<Uint8Array[]> {
  const out = [];
  for (const p of model.parameters()) {
    const values = await p.value.data();
    out.push(
      new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
    );
  }
  return out;
}

Deno.test("saveWeights/loadWeights: a bit-exact round trip through JSON text, float32 and float64", async () => {
  for (const dtype of ["float32", "float64"] as const) {
    const trained = mlp([5, 7, 3], { seed: 3, dtype });
    // Values that text formats get wrong: −0, tiny subnormals, infinities, the largest float32.
    const special = [-0, 1e-45, -Infinity, Infinity, 3.4028234663852886e38, 0.1];
    const weight = trained.parameters()[0];
    const values = Float64Array.from(await weight.value.data());
    values.set(special);
    weight.value.backend.assign(weight.value, tensor(values, weight.value.shape, { dtype }));
    const text = JSON.stringify(await saveWeights(trained));
    const copy = mlp([5, 7, 3], { seed: 4, dtype });
    assert.notDeepEqual(await allBytes(copy), await allBytes(trained), "different seeds differ");
    loadWeights(copy, JSON.parse(text));
    assert.deepEqual(await allBytes(copy), await allBytes(trained), `${dtype}: bit for bit`);
    assert.ok(Object.is((await copy.parameters()[0].value.data())[0], -0), "−0 stays −0");
  }
});

Deno.test("loadWeights writes in place: the model keeps its parameter tensors (an optimiser's hold on them stays valid)", async () => {
  const model = mlp([2, 3, 2], { seed: 1 });
  const before = model.parameters().map((p) => p.value);
  const source = mlp([2, 3, 2], { seed: 9 });
  loadWeights(model, await saveWeights(source));
  assert.ok(before.every((t, i) => t === model.parameters()[i].value), "the same tensors");
  assert.deepEqual(await allValues(model), await allValues(source), "holding the new values");
});

Deno.test("loadWeights: a different architecture names the parameter and both shapes, and changes nothing", async () => {
  const saved = await saveWeights(mlp([784, 64, 10], { seed: 0 }));
  const model = mlp([784, 128, 10], { seed: 1 });
  const untouched = await allValues(model);
  assert.throws(
    () => loadWeights(model, saved),
    /loadWeights: linear1\.weight is \[784, 128\] in the model but \[784, 64\] in the saved weights/,
  );
  assert.deepEqual(await allValues(model), untouched, "nothing was written");

  assert.throws(
    () => loadWeights(mlp([784, 64, 32, 10]), saved),
    /the model has 6 parameters \(linear1\.weight, .*linear3\.bias\) but the saved weights have 4/,
  );
  const narrow = new Sequential([new Linear(784, 10), new ReLU(), new Linear(10, 64)]);
  assert.throws(
    () => loadWeights(narrow, saved),
    /linear1\.weight is \[784, 10\] in the model but \[784, 64\] in the saved weights; they were saved from:\nlinear1: Linear\(784 → 64/,
  );
  const renamed = structuredClone(saved);
  renamed.parameters[0].name = "dense1.kernel";
  assert.throws(
    () => loadWeights(mlp([784, 64, 10]), renamed),
    /parameter 1 of the model is linear1\.weight \[784, 64\], but the saved one is dense1\.kernel \[784, 64\]/,
  );
});

Deno.test("loadWeights: something that is not saved weights, or damaged data, is named", async () => {
  const model = mlp([2, 2]);
  assert.throws(() => loadWeights(model, {} as SavedWeights), /this is not saved weights/);
  assert.throws(
    () => loadWeights(model, null as unknown as SavedWeights),
    /this is not saved weights/,
  );
  const saved = await saveWeights(model);
  const short = structuredClone(saved);
  short.parameters[0].data = short.parameters[0].data.slice(0, 8);
  assert.throws(
    () => loadWeights(model, short),
    /linear1\.weight \[2, 2\] needs 16 bytes of float32, but its data holds 6/,
  );
  const bad = structuredClone(saved);
  bad.parameters[1].data = "@@@";
  assert.throws(() => loadWeights(model, bad), /linear1\.bias's data is not base64/);
  assert.throws(
    () => loadWeights(model, { ...saved, version: 2 as 1 }),
    /weights format version 2; this library reads 1/,
  );
});
