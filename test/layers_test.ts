/**
 * Layers: forward and backward against hand-computed values, Sequential's
 * naming and parameters, and mlp's structure. (Gradients are checked
 * numerically in gradcheck_test.ts.)
 */
import assert from "node:assert/strict";
import {
  activation,
  activationNames,
  cpu,
  Identity,
  LeakyReLU,
  Linear,
  mlp,
  ReLU,
  Sequential,
  Sigmoid,
  Softmax,
  Tanh,
  type Tensor,
  tensor,
} from "../lib/mod.ts";
import { assertArraysClose } from "./helpers.ts";

const f64 = { dtype: "float64" as const };

async function values(t: Tensor | null): Promise<number[]> {
  assert.ok(t, "expected a tensor");
  return Array.from(await t.data());
}

/** A Linear layer with the given weights [in, out] and bias [out]. */
function linearWith(weights: number[][], bias: number[], dtype: "float32" | "float64" = "float64") {
  const layer = new Linear(weights.length, bias.length, { dtype });
  cpu.assign(layer.weight.value, tensor(weights.flat(), [weights.length, bias.length], { dtype }));
  cpu.assign(layer.bias.value, tensor(bias, [bias.length], { dtype }));
  return layer;
}

Deno.test("Linear: forward y = xW + b and backward dW = xᵀdy, db = Σ dy, dx = dy Wᵀ, by hand", async () => {
  const layer = linearWith([[1, 2, 3], [4, 5, 6]], [0.5, -1, 2]);
  const x = tensor([1, 2, -1, 0], [2, 2], f64);
  const y = layer.forward(x);
  // [1 2] W = [9 12 15] + b;  [-1 0] W = [-1 -2 -3] + b
  assert.deepEqual(y.shape, [2, 3]);
  assert.deepEqual(await values(y), [9.5, 11, 17, -0.5, -3, -1]);

  const dy = tensor([1, 0, 2, 0, 1, -1], [2, 3], f64);
  const dx = layer.backward(dy);
  // dW = xᵀ dy = [[1, -1], [2, 0]] @ [[1 0 2], [0 1 -1]]
  assert.deepEqual(await values(layer.weight.grad), [1, -1, 3, 2, 0, 4]);
  assert.deepEqual(await values(layer.bias.grad), [1, 1, 1]);
  // dx = dy Wᵀ: [1 0 2]·[1 2 3] = 7, [1 0 2]·[4 5 6] = 16; [0 1 -1]·rows = -1, -1
  assert.deepEqual(await values(dx), [7, 16, -1, -1]);
  assert.equal(layer.backward(dy, false), null, "the first layer may skip dx");
});

Deno.test("Linear: parameters, shapes, describe, and argument checks", () => {
  const layer = new Linear(784, 128);
  assert.deepEqual(layer.weight.value.shape, [784, 128]);
  assert.deepEqual(layer.bias.value.shape, [128]);
  assert.equal(layer.weight.value.dtype, "float32");
  assert.deepEqual(layer.parameters().map((p) => p.name), ["weight", "bias"]);
  assert.equal(layer.describe(), "Linear(784 → 128, he-normal)");
  assert.equal(
    new Linear(2, 3, { weightInit: { name: "normal", std: 0.1 } }).describe(),
    "Linear(2 → 3, normal)",
  );
  assert.throws(() => new Linear(0, 3), /Linear: inFeatures must be a positive integer, got 0/);
  assert.throws(
    () => new Linear(3, 2.5),
    /Linear: outFeatures must be a positive integer, got 2.5/,
  );
  assert.throws(
    () => new Linear(2, 2).backward(tensor([1, 2], [1, 2])),
    /linear: backward\(\) called before forward\(\)/,
  );
});

Deno.test("ReLU and LeakyReLU: forward and backward by hand; the derivative uses the input's sign", async () => {
  const x = tensor([-2, -0.5, 0, 0.5, 3, -1], [2, 3], f64);
  const dy = tensor([1, 2, 3, 4, 5, 6], [2, 3], f64);

  const relu = new ReLU();
  assert.deepEqual(await values(relu.forward(x)), [0, 0, 0, 0.5, 3, 0]);
  assert.deepEqual(await values(relu.backward(dy)), [0, 0, 0, 4, 5, 0]);

  const leaky = new LeakyReLU(0.1);
  assertArraysClose(await values(leaky.forward(x)), [-0.2, -0.05, 0, 0.5, 3, -0.1]);
  assertArraysClose(await values(leaky.backward(dy)), [0.1, 0.2, 0.3, 4, 5, 0.6]);
  assert.equal(leaky.describe(), "LeakyReLU(0.1)");
  assert.equal(new LeakyReLU().slope, 0.01);
  for (const bad of [-0.1, 1, NaN]) {
    assert.throws(() => new LeakyReLU(bad), /LeakyReLU: slope must be in \[0, 1\)/);
  }
});

Deno.test("Sigmoid and Tanh: forward and backward dy·y(1−y), dy·(1−y²), by hand", async () => {
  const x = tensor([0, Math.log(3), -Math.log(3)], [1, 3], f64);
  const dy = tensor([1, 2, -1], [1, 3], f64);

  const sigmoid = new Sigmoid();
  assertArraysClose(await values(sigmoid.forward(x)), [0.5, 0.75, 0.25]);
  assertArraysClose(await values(sigmoid.backward(dy)), [0.25, 2 * 0.75 * 0.25, -0.25 * 0.75]);

  const tanh = new Tanh();
  const t = Math.tanh(Math.log(3)); // = 0.8
  assertArraysClose(await values(tanh.forward(x)), [0, t, -t]);
  assertArraysClose(await values(tanh.backward(dy)), [1, 2 * (1 - t * t), -(1 - t * t)]);
});

Deno.test("Softmax: forward row-wise; backward y ⊙ (dy − Σ dy·y), by hand", async () => {
  const layer = new Softmax();
  const y = await values(layer.forward(tensor([0, Math.log(3), 1, 1], [2, 2], f64)));
  assertArraysClose(y, [0.25, 0.75, 0.5, 0.5]);
  const dx = await values(layer.backward(tensor([1, 0, 2, -2], [2, 2], f64)));
  // Row 1: Σ dy·y = 0.25, dx = [0.25·0.75, 0.75·(−0.25)]; row 2: Σ = 0, dx = [1, −1]
  assertArraysClose(dx, [0.1875, -0.1875, 1, -1]);
  // Every row of a softmax gradient sums to 0.
  assertArraysClose([dx[0] + dx[1], dx[2] + dx[3]], [0, 0]);
});

Deno.test("Identity passes values and gradients through", () => {
  const layer = new Identity();
  const x = tensor([1, 2], [1, 2]);
  assert.equal(layer.forward(x), x);
  const dy = tensor([3, 4], [1, 2]);
  assert.equal(layer.backward(dy), dy);
  assert.deepEqual(layer.parameters(), []);
});

Deno.test("activations check the gradient's shape and that forward ran", () => {
  for (const layer of [new ReLU(), new Sigmoid(), new Tanh(), new Softmax(), new LeakyReLU()]) {
    assert.throws(
      () => layer.backward(tensor([1], [1, 1])),
      /backward\(\) called before forward\(\)/,
      layer.kind,
    );
    layer.forward(tensor([1, 2, 3, 4], [2, 2]));
    assert.throws(
      () => layer.backward(tensor([1, 2, 3], [1, 3])),
      /backward\(\) got a gradient of shape \[1,3\] but the output was \[2,2\]/,
      layer.kind,
    );
  }
});

Deno.test("activation(): every listed name builds its layer; unknown names list the choices", () => {
  const kinds = activationNames.map((name) => activation(name).kind);
  assert.deepEqual(kinds, ["relu", "leaky-relu", "sigmoid", "tanh", "softmax", "identity"]);
  assert.equal((activation("leaky-relu", { slope: 0.2 }) as LeakyReLU).slope, 0.2);
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => activation("gelu" as any),
    /unknown activation "gelu": choose one of relu, leaky-relu, sigmoid, tanh, softmax, identity/,
  );
});

Deno.test("Sequential: names layers by kind and position; parameters are prefixed once", () => {
  const model = new Sequential([
    new Linear(4, 3),
    new ReLU(),
    new Linear(3, 3),
    new ReLU(),
    new Linear(3, 2),
    new Sigmoid(),
  ]);
  assert.deepEqual(
    model.layers.map((l) => l.name),
    ["linear1", "relu1", "linear2", "relu2", "linear3", "sigmoid1"],
  );
  const names = model.parameters().map((p) => p.name);
  assert.deepEqual(names, [
    "linear1.weight",
    "linear1.bias",
    "linear2.weight",
    "linear2.bias",
    "linear3.weight",
    "linear3.bias",
  ]);
  // Asking again does not prefix twice.
  assert.deepEqual(model.parameters().map((p) => p.name), names);
  assert.equal(model.parameterCount(), 4 * 3 + 3 + 3 * 3 + 3 + 3 * 2 + 2);
  assert.match(model.describe(), /^linear1: Linear\(4 → 3, he-normal\)\nrelu1: relu\n/);
});

Deno.test("Sequential: forward composes the layers, backward runs them in reverse", async () => {
  const first = linearWith([[1, -1], [2, 1]], [0, 0]);
  const second = linearWith([[1], [1]], [0.5]);
  const model = new Sequential([first, new ReLU(), second]);
  const x = tensor([1, 1, 1, -3], [2, 2], f64);
  // h = relu(xW1) = relu([3, 0], [-5, -4]) = [3, 0], [0, 0]; y = h W2 + 0.5
  assert.deepEqual(await values(model.forward(x)), [3.5, 0.5]);
  assert.equal(model.output, model.layers.at(-1)!.output);
  const dx = model.backward(tensor([1, 1], [2, 1], f64), true);
  assert.deepEqual(await values(second.weight.grad), [3, 0]);
  assert.deepEqual(await values(second.bias.grad), [2]);
  // Only the first example's first hidden unit is active.
  assert.deepEqual(await values(first.weight.grad), [1, 0, 1, 0]);
  assert.deepEqual(await values(dx), [1, 2, 0, 0]);
  assert.equal(model.backward(tensor([1, 1], [2, 1], f64)), null, "no input gradient by default");
});

Deno.test("mlp: sizes become Linear layers with the hidden and output activations between", () => {
  const model = mlp([784, 128, 64, 10]);
  assert.deepEqual(
    model.layers.map((l) => l.name),
    ["linear1", "relu1", "linear2", "relu2", "linear3"],
  );
  assert.equal((model.layers[0] as Linear).inFeatures, 784);
  assert.equal((model.layers[4] as Linear).outFeatures, 10);

  const tanhNet = mlp([2, 3, 1], {
    activation: "tanh",
    outputActivation: "sigmoid",
    dtype: "float64",
  });
  assert.deepEqual(tanhNet.layers.map((l) => l.name), ["linear1", "tanh1", "linear2", "sigmoid1"]);
  assert.ok(tanhNet.parameters().every((p) => p.value.dtype === "float64"));

  const leaky = mlp([2, 3, 1], { activation: "leaky-relu", slope: 0.2 });
  assert.equal((leaky.layers[1] as LeakyReLU).slope, 0.2);

  assert.throws(
    () => mlp([3]),
    /mlp: needs a list of at least input and output sizes, e\.g\. mlp\(\[784, 128, 10\]\), got \[3\]/,
  );
});

Deno.test("mlp: the seed decides the initial weights", async () => {
  const weightsOf = async (seed: number) =>
    Array.from(await mlp([5, 4, 2], { seed }).parameters()[0].value.data());
  assert.deepEqual(await weightsOf(3), await weightsOf(3));
  assert.notDeepEqual(await weightsOf(3), await weightsOf(4));
  // The two Linear layers draw different values from the one generator.
  const model = mlp([4, 4, 4], { seed: 0 });
  const [w1, , w2] = model.parameters();
  assert.notDeepEqual(Array.from(await w1.value.data()), Array.from(await w2.value.data()));
});

Deno.test("nested Sequential: parameter names are the same however often they are asked for", () => {
  const inner = new Sequential([new Linear(3, 4), new ReLU()]);
  const outer = new Sequential([inner, new Linear(4, 2)]);
  const first = outer.parameters().map((p) => p.name);
  const second = outer.parameters().map((p) => p.name);
  assert.deepEqual(first, [
    "sequential1.linear1.weight",
    "sequential1.linear1.bias",
    "linear1.weight",
    "linear1.bias",
  ]);
  assert.deepEqual(second, first);
});

Deno.test("a frozen Linear computes no parameter gradient, but still passes dx down", async () => {
  const layer = new Linear(3, 2);
  layer.freeze();
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  layer.forward(x);
  const dx = layer.backward(tensor([1, 0, 0, 1], [2, 2]));
  assert.equal(layer.weight.grad, null);
  assert.equal(layer.bias.grad, null);
  assert.deepEqual(dx!.shape, [2, 3]);
  assert.ok((await dx!.data()).some((v) => v !== 0));
});
