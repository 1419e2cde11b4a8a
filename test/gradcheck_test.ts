/**
 * Every layer and loss checked against central differences in float64, with the
 * CS231n thresholds; kinks; and deliberately wrong backward passes that
 * gradcheck must catch (a gradient check that cannot fail checks nothing).
 *
 * Inputs are fixed (seeded). Relative error is measured per element, so an entry
 * whose true gradient is almost 0 (say 1e-5) measures float64 rounding noise
 * rather than the backward pass; the inputs below have none.
 */
import assert from "node:assert/strict";
import {
  BinaryCrossEntropy,
  BinaryCrossEntropyWithLogits,
  formatGradcheck,
  gradcheckLayer,
  gradcheckLoss,
  type GradcheckReport,
  Identity,
  LeakyReLU,
  Linear,
  MeanSquaredError,
  mlp,
  NaiveSoftmaxCrossEntropy,
  ops,
  Random,
  ReLU,
  Sequential,
  Sigmoid,
  Softmax,
  SoftmaxCrossEntropy,
  Tanh,
  type Tensor,
  tensor,
  UnclippedBinaryCrossEntropy,
  verdictFor,
} from "../lib/mod.ts";

const f64 = { dtype: "float64" as const };

function normals(n: number, seed: number, scale = 1): number[] {
  const random = new Random(seed);
  return Array.from({ length: n }, () => scale * random.normal());
}

/** Standard normal values pushed at least `margin` away from 0, so no kink is near. */
function awayFromZero(n: number, seed: number, margin = 0.1): number[] {
  return normals(n, seed).map((v) => (v >= 0 ? v + margin : v - margin));
}

function assertGood(report: GradcheckReport, what: string) {
  assert.ok(
    report.maxRelativeError < 1e-7 && report.passed,
    `${what}:\n${formatGradcheck(report)}`,
  );
  for (const entry of report.entries) assert.equal(entry.verdict, "good", `${what} ${entry.name}`);
}

// Layers ---------------------------------------------------------------------------

Deno.test("gradcheck: Linear (input, weight and bias) is good", () => {
  const layer = new Linear(5, 4, {
    ...f64,
    random: new Random(2),
    biasInit: { name: "normal", std: 0.5 },
  });
  const report = gradcheckLayer(layer, tensor(normals(15, 1), [3, 5], f64));
  assert.deepEqual(report.entries.map((e) => e.name), ["input", "weight", "bias"]);
  assertGood(report, "Linear");
});

Deno.test("gradcheck: smooth activations (Sigmoid, Tanh, Softmax, Identity) are good", () => {
  const x = tensor(normals(12, 3, 1.5), [3, 4], f64);
  for (const layer of [new Sigmoid(), new Tanh(), new Softmax(), new Identity()]) {
    const report = gradcheckLayer(layer, x);
    assert.deepEqual(report.entries.map((e) => e.name), ["input"]);
    assertGood(report, layer.kind);
  }
});

Deno.test("gradcheck: ReLU and LeakyReLU are good with inputs kept away from the kink", () => {
  const x = tensor(awayFromZero(20, 4), [4, 5], f64);
  for (const layer of [new ReLU(), new LeakyReLU(), new LeakyReLU(0.3)]) {
    assertGood(gradcheckLayer(layer, x), layer.describe());
  }
});

/** The smallest |pre-activation| of the ReLU-family layers after a forward pass. */
async function closestToKink(model: Sequential, x: Tensor): Promise<number> {
  model.forward(x);
  let closest = Infinity;
  for (const layer of model.layers) {
    if (layer.kind !== "relu" && layer.kind !== "leaky-relu") continue;
    for (const v of await layer.input!.data()) closest = Math.min(closest, Math.abs(v));
  }
  return closest;
}

Deno.test("gradcheck: Sequential and mlp (tanh, sigmoid + softmax, relu, leaky-relu) are good", async () => {
  const x = tensor(normals(20, 5), [5, 4], f64);
  const smooth = [
    mlp([4, 6, 5, 3], { ...f64, seed: 1, activation: "tanh" }),
    mlp([4, 6, 3], { ...f64, seed: 2, activation: "sigmoid", outputActivation: "softmax" }),
    new Sequential([
      new Linear(4, 3, { ...f64, random: new Random(3), biasInit: { name: "normal", std: 0.3 } }),
      new Sigmoid(),
      new Linear(3, 2, { ...f64, random: new Random(4) }),
      new Tanh(),
    ]),
  ];
  for (const model of smooth) {
    const report = gradcheckLayer(model, x);
    assert.equal(report.entries[0].name, "input");
    assert.ok(report.entries.some((e) => e.name === "linear2.bias"));
    assertGood(report, model.describe());
  }
  const piecewise = [
    mlp([4, 8, 6, 3], { ...f64, seed: 3 }),
    mlp([4, 8, 3], { ...f64, seed: 4, activation: "leaky-relu", slope: 0.1 }),
  ];
  for (const model of piecewise) {
    // A ReLU input within a few difference steps (1e-5) of 0 would put a kink inside the check.
    const closest = await closestToKink(model, x);
    assert.ok(closest > 1e-4, `a pre-activation is ${closest} from the kink`);
    assertGood(gradcheckLayer(model, x), model.describe());
  }
});

Deno.test("gradcheck: a ReLU input straddled by the difference step lands in 'ok near a kink', or worse", () => {
  const step = 1e-5;
  // x = h − 1e-10: (relu(x + h) − relu(x − h)) / 2h = 1 − 5e-6, while the analytic slope is 1.
  const slightly = gradcheckLayer(new ReLU(), tensor([step - 1e-10, -2, 1.5, 0.7], [2, 2], f64), {
    step,
  });
  assert.equal(slightly.entries[0].verdict, "ok near a kink", formatGradcheck(slightly));
  assert.equal(slightly.entries[0].worstIndex, 0);
  assert.ok(Math.abs(slightly.maxRelativeError - 5e-6) < 1e-7, `${slightly.maxRelativeError}`);
  assert.equal(slightly.passed, false, "the default tolerance is 1e-7");
  assert.equal(
    gradcheckLayer(new ReLU(), tensor([step - 1e-10], [1, 1], f64), { step, tolerance: 1e-4 })
      .passed,
    true,
  );
});

Deno.test("gradcheck: a correct ReLU at exactly 0 is reported as a kink, not as wrong (CS231n)", () => {
  // There the central difference sees slope 1/2 while backward says 0: the left slope.
  for (const layer of [new ReLU(), new LeakyReLU(0.1)]) {
    const at = gradcheckLayer(layer, tensor([0, 1, -1, 2, 0, 0.5], [2, 3], f64));
    const entry = at.entries[0];
    assert.equal(entry.verdict, "on a kink", formatGradcheck(at));
    assert.equal(entry.kinks, 2);
    assert.ok(entry.maxRelativeError < 1e-7, "the other elements are good");
    assert.equal(at.passed, true);
    assert.match(formatGradcheck(at), /on a kink: 2 of 6 elements sit on a kink/);
  }
  // A backward that gives neither side's slope at the kink is still wrong there.
  class ReLUWithSlopeTwoAtZero extends ReLU {
    override backward(dy: Tensor): Tensor {
      const x = this.input!.storage as Float64Array;
      const slope = Array.from(x, (v) => (v > 0 ? 1 : v === 0 ? 2 : 0));
      return ops.mul(dy, tensor(slope, [...dy.shape], f64));
    }
  }
  const broken = gradcheckLayer(new ReLUWithSlopeTwoAtZero(), tensor([0, 1, -1, 2], [2, 2], f64));
  assert.equal(broken.entries[0].verdict, "wrong", formatGradcheck(broken));
  assert.equal(broken.entries[0].kinks, 0);
  assert.equal(broken.passed, false);
});

// Losses ---------------------------------------------------------------------------

Deno.test("gradcheck: every loss is good, with both reductions and the naive forms where finite", () => {
  const logits = tensor(normals(15, 6), [5, 3], f64);
  const labels = tensor([0, 2, 1, 1, 0], [5], f64);
  // Probabilities kept inside (0.05, 0.95), clear of the clipping at ε = 1e-7.
  const probabilities = tensor(
    normals(15, 7).map((v) => 0.05 + 0.9 / (1 + Math.exp(-v))),
    [5, 3],
    f64,
  );
  const hardTargets = tensor(normals(15, 8).map((v) => (v > 0 ? 1 : 0)), [5, 3], f64);
  const softTargets = tensor(normals(15, 9).map((v) => 1 / (1 + Math.exp(-2 * v))), [5, 3], f64);
  const regressionTargets = tensor(normals(15, 10), [5, 3], f64);

  assertGood(gradcheckLoss(new SoftmaxCrossEntropy(), logits, labels), "softmax cross-entropy");
  assertGood(
    gradcheckLoss(new NaiveSoftmaxCrossEntropy(), logits, labels),
    "naive softmax cross-entropy",
  );
  for (const outputReduction of ["mean", "sum"] as const) {
    for (const targets of [hardTargets, softTargets]) {
      assertGood(
        gradcheckLoss(new BinaryCrossEntropy({ outputReduction }), probabilities, targets),
        `binary cross-entropy (${outputReduction})`,
      );
      assertGood(
        gradcheckLoss(new UnclippedBinaryCrossEntropy({ outputReduction }), probabilities, targets),
        `unclipped binary cross-entropy (${outputReduction})`,
      );
      assertGood(
        gradcheckLoss(new BinaryCrossEntropyWithLogits({ outputReduction }), logits, targets),
        `binary cross-entropy with logits (${outputReduction})`,
      );
    }
  }
  assertGood(
    gradcheckLoss(new MeanSquaredError(), logits, regressionTargets),
    "mean squared error",
  );
});

Deno.test("gradcheck: a whole model plus loss, through layers and loss together", () => {
  // The layer check uses Σ forward(x) ⊙ R; here R is the loss's own gradient.
  const model = mlp([3, 5, 4], { ...f64, seed: 9, activation: "tanh" });
  const loss = new SoftmaxCrossEntropy();
  const x = tensor(normals(18, 11), [6, 3], f64);
  const labels = tensor([0, 1, 2, 3, 0, 1], [6], f64);
  const parameters = model.parameters();
  const objective = () => (loss.forward(model.forward(x), labels).storage as Float64Array)[0];
  objective();
  model.backward(loss.backward());
  const h = 1e-5;
  for (const p of parameters) {
    const analytic = p.grad!.storage as Float64Array;
    const w = p.value.storage as Float64Array;
    for (let i = 0; i < w.length; i++) {
      const original = w[i];
      w[i] = original + h;
      const plus = objective();
      w[i] = original - h;
      const minus = objective();
      w[i] = original;
      const numeric = (plus - minus) / (2 * h);
      const error = Math.abs(analytic[i] - numeric) /
        Math.max(Math.abs(analytic[i]), Math.abs(numeric));
      assert.ok(error < 1e-6, `${p.name}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`);
    }
  }
});

// Gradcheck must be able to fail ----------------------------------------------------

/** The derivative taken as the output's value instead of its sign: dx = dy · y. */
class ReLUWithOutputAsDerivative extends ReLU {
  override backward(dy: Tensor): Tensor {
    return ops.mul(dy, this.output!);
  }
}

/** Missing the (1 − y) factor: dx = dy · y. */
class SigmoidMissingFactor extends Sigmoid {
  override backward(dy: Tensor): Tensor {
    return ops.mul(dy, this.output!);
  }
}

/** The derivative formula applied to the output as if it were the input: dy · σ(y)(1 − σ(y)). */
class SigmoidDerivativeOfOutput extends Sigmoid {
  override backward(dy: Tensor): Tensor {
    const s = ops.sigmoid(this.output!);
    return ops.mul(dy, ops.mul(s, ops.addScalar(ops.neg(s), 1)));
  }
}

/** 1 − y instead of 1 − y². */
class TanhMissingSquare extends Tanh {
  override backward(dy: Tensor): Tensor {
    return ops.mul(dy, ops.addScalar(ops.neg(this.output!), 1));
  }
}

/** The weight gradient averaged over the batch, when the loss already averaged. */
class LinearAveragingTwice extends Linear {
  override backward(dy: Tensor, needInputGradient = true): Tensor | null {
    const dx = super.backward(dy, needInputGradient);
    this.weight.grad = ops.scale(this.weight.grad!, 1 / dy.shape[0]);
    return dx;
  }
}

/** The gradient of the summed loss, not of the mean: the 1/N is missing. */
class CrossEntropyMissingMean extends SoftmaxCrossEntropy {
  override backward(): Tensor {
    return ops.scale(super.backward(), this.probabilities!.shape[0]);
  }
}

Deno.test("gradcheck flags deliberately wrong backward passes as 'wrong'", () => {
  const x = tensor(awayFromZero(12, 12), [3, 4], f64);
  for (
    const layer of [
      new ReLUWithOutputAsDerivative(),
      new SigmoidMissingFactor(),
      new SigmoidDerivativeOfOutput(),
      new TanhMissingSquare(),
    ]
  ) {
    const report = gradcheckLayer(layer, x);
    assert.equal(report.passed, false, layer.constructor.name);
    assert.equal(
      report.entries[0].verdict,
      "wrong",
      `${layer.constructor.name}: ${formatGradcheck(report)}`,
    );
    assert.ok(report.maxRelativeError > 1e-2);
  }
});

Deno.test("gradcheck points at the wrong parameter and leaves the right ones good", () => {
  const layer = new LinearAveragingTwice(4, 3, { ...f64, random: new Random(5) });
  const report = gradcheckLayer(layer, tensor(normals(12, 13), [3, 4], f64));
  const verdicts = Object.fromEntries(report.entries.map((e) => [e.name, e.verdict]));
  assert.deepEqual(verdicts, { input: "good", weight: "wrong", bias: "good" });
  // The report says by how much: the analytic value is a third of the numeric one.
  const weight = report.entries.find((e) => e.name === "weight")!;
  assert.ok(Math.abs(weight.analytic * 3 - weight.numeric) < 1e-6 * Math.abs(weight.numeric));
  assert.match(
    formatGradcheck(report),
    /^input +max relative error \d\.\d\de-\d+ +good\nweight +max relative error 6\.67e-1 +wrong\nbias/,
  );

  // Inside a model, the entry names the layer.
  const model = new Sequential([
    new Linear(4, 3, { ...f64, random: new Random(6) }),
    new Tanh(),
    new LinearAveragingTwice(3, 2, { ...f64, random: new Random(7) }),
  ]);
  const inModel = gradcheckLayer(model, tensor(normals(12, 14), [3, 4], f64));
  const wrong = inModel.entries.filter((e) => e.verdict === "wrong").map((e) => e.name);
  assert.deepEqual(wrong, ["linear2.weight"]);
});

Deno.test("gradcheck flags a loss whose backward misses the 1/N", () => {
  const report = gradcheckLoss(
    new CrossEntropyMissingMean(),
    tensor(normals(12, 15), [4, 3], f64),
    tensor([0, 1, 2, 0], [4], f64),
  );
  assert.equal(report.entries[0].verdict, "wrong");
  assert.equal(report.passed, false);
});

// The tool itself --------------------------------------------------------------------

Deno.test("verdictFor uses the CS231n thresholds", () => {
  assert.equal(verdictFor(0), "good");
  assert.equal(verdictFor(9.9e-8), "good");
  assert.equal(verdictFor(1e-7), "ok near a kink");
  assert.equal(verdictFor(9.9e-5), "ok near a kink");
  assert.equal(verdictFor(1e-4), "suspicious");
  assert.equal(verdictFor(9.9e-3), "suspicious");
  assert.equal(verdictFor(1e-2), "wrong");
  assert.equal(verdictFor(Infinity), "wrong");
});

Deno.test("gradcheck refuses float32 with a reason, and reports NaN gradients as wrong", () => {
  assert.throws(
    () => gradcheckLayer(new Tanh(), tensor([1, 2], [1, 2])),
    /gradcheck: the input must be a float64 tensor on the CPU \(got float32 on cpu\); float32 has too few digits/,
  );
  class NaNBackward extends Tanh {
    override backward(dy: Tensor): Tensor {
      return ops.mul(dy, tensor(new Array(dy.size).fill(NaN), [...dy.shape], f64));
    }
  }
  const report = gradcheckLayer(new NaNBackward(), tensor([0.5, -0.5], [1, 2], f64));
  assert.equal(report.maxRelativeError, Infinity);
  assert.equal(report.entries[0].verdict, "wrong");
  assert.equal(report.passed, false);
});

// Gradcheck must not pass a layer whose backward cannot be compared -------------------

Deno.test("gradcheck: a backward() that forgets its return fails, and says so", () => {
  class TanhWithoutReturn extends Tanh {
    override backward(dy: Tensor): Tensor {
      ops.mul(dy, ops.addScalar(ops.neg(ops.square(this.output!)), 1));
      return undefined as unknown as Tensor;
    }
  }
  const report = gradcheckLayer(new TanhWithoutReturn(), tensor([0.5, -0.5], [1, 2], f64));
  assert.equal(report.passed, false);
  assert.equal(report.entries[0].verdict, "missing");
  assert.match(
    formatGradcheck(report),
    /input .* missing: tanh\.backward\(\) returned undefined for the input gradient: does backward\(\) end with `return`\?/,
  );
  // Inside a model the same: the model's input gradient is missing.
  const model = new Sequential([new Linear(2, 2, f64), new TanhWithoutReturn()]);
  assert.throws(() => gradcheckLayer(model, tensor([0.5, -0.5], [1, 2], f64)));
});

Deno.test("gradcheck: an input gradient of the wrong shape but the right size fails, naming both shapes", () => {
  class TanhTransposed extends Tanh {
    override backward(dy: Tensor): Tensor {
      const dx = super.backward(dy)!;
      return ops.reshape(dx, [dx.shape[1], dx.shape[0]]);
    }
  }
  const report = gradcheckLayer(new TanhTransposed(), tensor(normals(6, 20), [2, 3], f64));
  assert.equal(report.passed, false);
  assert.equal(report.entries[0].verdict, "wrong shape");
  assert.match(
    report.entries[0].problem!,
    /the input gradient is \[3, 2\] but the input is \[2, 3\] \(the same size, laid out differently\)/,
  );
});

Deno.test("gradcheck: a parameter gradient of the wrong shape names the shapes, not 'Infinity wrong'", () => {
  class LinearWithBiasGradientAsRow extends Linear {
    override backward(dy: Tensor, needInputGradient = true): Tensor | null {
      const dx = super.backward(dy, needInputGradient);
      this.bias.grad = ops.reshape(this.bias.grad!, [1, this.outFeatures]);
      return dx;
    }
  }
  class LinearWithWeightGradientShort extends Linear {
    override backward(dy: Tensor, needInputGradient = true): Tensor | null {
      const dx = super.backward(dy, needInputGradient);
      this.weight.grad = ops.sliceColumns(this.weight.grad!, 0, 1);
      return dx;
    }
  }
  const x = tensor(normals(6, 21), [2, 3], f64);
  const row = gradcheckLayer(new LinearWithBiasGradientAsRow(3, 2, f64), x);
  assert.equal(row.passed, false);
  const bias = row.entries.find((e) => e.name === "bias")!;
  assert.equal(bias.verdict, "wrong shape");
  assert.match(
    formatGradcheck(row),
    /bias .*wrong shape: the bias gradient is \[1, 2\] but the parameter bias is \[2\]/,
  );
  const short = gradcheckLayer(new LinearWithWeightGradientShort(3, 2, f64), x);
  assert.match(
    formatGradcheck(short),
    /the weight gradient is \[3, 1\] but the parameter weight is \[3, 2\]$/m,
  );
  assert.doesNotMatch(formatGradcheck(short), /Infinity/);
  class LinearForgettingBias extends Linear {
    override backward(dy: Tensor, needInputGradient = true): Tensor | null {
      const dx = super.backward(dy, needInputGradient);
      this.bias.grad = null;
      return dx;
    }
  }
  const forgot = gradcheckLayer(new LinearForgettingBias(3, 2, f64), x);
  assert.equal(forgot.passed, false);
  assert.match(
    formatGradcheck(forgot),
    /bias .*missing: linear\.backward\(\) left bias's gradient null/,
  );
});

Deno.test("gradcheck: a float32 layer on a float64 input says to build the layer in float64", () => {
  assert.throws(
    () => gradcheckLayer(new Linear(2, 2), tensor([1, 2], [1, 2], f64)),
    /gradcheck: linear's parameter weight is float32 on cpu; build the layer in float64 on the CPU for a gradient check, e\.g\. new Linear\(3, 2, \{ dtype: "float64" \}\)/,
  );
  assert.throws(
    () => gradcheckLayer(mlp([2, 3, 2], { seed: 0 }), tensor([1, 2], [1, 2], f64)),
    /linear1\.weight is float32/,
  );
});

Deno.test("gradcheck: a layer with no parameters that returns nothing does not pass an empty report", () => {
  class Silent extends Identity {
    override backward(): Tensor {
      return null as unknown as Tensor;
    }
  }
  const report = gradcheckLayer(new Silent(), tensor([1, 2], [1, 2], f64));
  assert.equal(report.passed, false);
  assert.equal(report.entries.length, 1);
  assert.equal(report.entries[0].verdict, "missing");
});
