/**
 * Reproduce: the tutorial's fine-tuning loop on the frozen base's features, with the bug
 * (labels = softmax(logits), the model's own output) under both TensorFlow semantics:
 *
 *   TF1 softmax_cross_entropy_with_logits: labels held constant, dL/dz = softmax(z) − labels,
 *       which is zero up to rounding: nothing learns;
 *   TF2 (_v2): the gradient also flows into the labels, so the loss is the entropy of the
 *       predictions, −Σ p log p, and training drives it to 0, whatever the true labels.
 *
 * The base is frozen and has no dropout, so its features are computed once: the head sees
 * exactly what it would see through the whole network.
 */
import type { Backend } from "../../lib/backend/backend.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import {
  Adam,
  closeScope,
  FixedOrderBatcher,
  type Layer,
  Linear,
  openScope,
  type Optimizer,
  Random,
  ReLU,
  Sequential,
  SGD,
  SoftTargetCrossEntropy,
  type Tensor,
  tidy,
  trainableParameters,
} from "../../lib/mod.ts";
import { add, gatherRows, mul, reshape, softmax, sub, sum } from "../../lib/ops.ts";

/** The tutorial's settings (from the question), and ours where it says nothing. */
export const TUTORIAL = {
  batchSize: 32,
  learningRate: 1e-4,
  printEvery: 50,
  hidden: 64,
} as const;

export type Semantics = "tf1" | "tf2";

/** Run `layers` in order over the rows of `dataset` (evaluation: nothing is kept). */
export async function featuresOf(layers: Layer[], dataset: Dataset, backend: Backend) {
  const batch = 250;
  let width = 0;
  const chunks: Float32Array[] = [];
  for (let start = 0; start < dataset.count; start += batch) {
    const end = Math.min(start + batch, dataset.count);
    const out = tidy(() => {
      let h = backend.fromValues(
        dataset.inputs.subarray(start * dataset.features, end * dataset.features),
        [end - start, dataset.features],
        "float32",
      );
      for (const layer of layers) h = layer.forward(h);
      return reshape(h, [end - start, h.size / (end - start)]);
    });
    width = out.shape[1];
    chunks.push(await out.data() as Float32Array);
    out.dispose();
  }
  const inputs = new Float32Array(dataset.count * width);
  let offset = 0;
  for (const c of chunks) inputs.set(c, (offset += c.length) - c.length);
  return { ...dataset, name: `${dataset.name} features`, inputs, features: width };
}

/** The tutorial's head: Linear(784 → 64), ReLU, Linear(64 → 2). */
export function tutorialHead(inputs: number, seed: number, backend: Backend): Sequential {
  const random = new Random(seed);
  return new Sequential([
    new Linear(inputs, TUTORIAL.hidden, { random, backend }),
    new ReLU(),
    new Linear(TUTORIAL.hidden, 2, { random, backend }),
  ]);
}

/** One progress line, as the tutorial prints it. */
export interface ProgressLine {
  iteration: number;
  /** The training batch just trained on (its index in the epoch) and its accuracy. */
  trainBatch: number;
  trainAccuracy: number;
  /** The validation batch drawn at this iteration and its accuracy. */
  validationBatch: number;
  validationAccuracy: number;
  /** The batch's loss as the buggy graph computes it, and the mean entropy of its predictions. */
  loss: number;
  entropy: number;
  /** How many of the 32 the head predicts as Coat. */
  predictedCoat: number;
}

export interface TutorialRun {
  semantics: Semantics;
  optimizer: "sgd" | "adam";
  lines: ProgressLine[];
  /** ‖dL/dθ‖ over the head's parameters, at the first iteration and the largest seen. */
  firstGradientNorm: number;
  largestGradientNorm: number;
  /** Parameters that changed at all (weights, biases), of how many, and the largest |Δθ|. */
  changedParameters: number;
  changedWeights: number;
  changedBiases: number;
  parameterCount: number;
  largestParameterChange: number;
  /** On the whole validation set after the run: accuracy and share predicted as one class. */
  validationAccuracy: number;
  largestClassShare: number;
  /** The head's logits on the whole validation set after the run, [400 · 2]. */
  validationLogits: Float32Array;
  /** max |labels − softmax(logits)| fed to the loss at the first iteration (0: they are it). */
  labelsMinusOwnSoftmax: number;
  /** How much the "labels" of batch 0 moved when the head's weights were nudged (true labels: 0). */
  labelsMoveWithWeights: number;
}

/** Σ g² over gradients, read back. */
async function squaredNorm(tensors: Tensor[]): Promise<number> {
  let total = 0;
  for (const t of tensors) {
    const values = await t.data();
    for (let i = 0; i < values.length; i++) total += values[i] * values[i];
  }
  return total;
}

/** dL/dz through z → softmax(z) = p, given dL/dp:  p ⊙ (g − Σ_k g_k p_k) */
export function softmaxBackward(p: Tensor, g: Tensor): Tensor {
  const rowDot = reshape(sum(mul(g, p), 1), [p.shape[0], 1]);
  return mul(p, sub(g, rowDot));
}

/**
 * The buggy step's gradient for logits z: the loss compares z with its own softmax.
 * TF1 holds the labels constant; TF2 adds the path through them.
 */
export function selfLabelledGradient(
  loss: SoftTargetCrossEntropy,
  logits: Tensor,
): { loss: Tensor; gradient: Tensor; labels: Tensor } {
  const labels = softmax(logits); // labels=y_pred
  const value = loss.forward(logits, labels);
  let gradient = loss.backward();
  if (!loss.stopGradientThroughLabels) {
    gradient = add(gradient, softmaxBackward(labels, loss.labelsBackward()));
  }
  return { loss: value, gradient, labels };
}

function accuracyOf(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) correct += predictions[i] === labels[i] ? 1 : 0;
  return correct / labels.length;
}

function argmax2(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = values[2 * i + 1] > values[2 * i] ? 1 : 0;
  return out;
}

function meanEntropy(p: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) h -= p[i] * Math.log(p[i]);
  return h / (p.length / 2);
}

/** The tutorial's loop with the bug, `iterations` steps, a progress line every 50. */
export async function runTutorial(options: {
  train: Dataset;
  validation: Dataset;
  semantics: Semantics;
  optimizer: "sgd" | "adam";
  iterations: number;
  seed: number;
  backend: Backend;
  /** SGD's step (default the tutorial's 1e-4). */
  learningRate?: number;
}): Promise<TutorialRun> {
  const { train, validation, semantics, iterations, seed, backend } = options;
  const head = tutorialHead(train.features, seed, backend);
  const parameters = trainableParameters(head);
  const learningRate = options.learningRate ?? TUTORIAL.learningRate;
  const optimizer: Optimizer = options.optimizer === "adam"
    ? new Adam({ learningRate })
    : new SGD({ learningRate });
  const loss = new SoftTargetCrossEntropy({ stopGradientThroughLabels: semantics === "tf1" });
  const upload = (d: Dataset) => backend.fromValues(d.inputs, [d.count, d.features], "float32");
  const trainInputs = upload(train), validationInputs = upload(validation);
  const trainBatches = new FixedOrderBatcher(train.count, TUTORIAL.batchSize);
  const validationBatches = new FixedOrderBatcher(validation.count, TUTORIAL.batchSize);
  const initial = await Promise.all(parameters.map((p) => p.value.data()));
  const lines: ProgressLine[] = [];
  let firstGradientNorm = NaN, largestGradientNorm = 0, labelsMinusOwnSoftmax = NaN;
  for (let iteration = 0; iteration < iterations; iteration++) {
    const trainBatch = trainBatches.batchIndex, validationBatch = validationBatches.batchIndex;
    const trainRows = trainBatches.next(), validationRows = validationBatches.next();
    const printing = iteration % TUTORIAL.printEvery === 0;
    // Everything this iteration makes (gradients included) is released at its end.
    const scope = openScope();
    const rows = backend.fromValues(trainRows, [trainRows.length], "float32");
    const logits = head.forward(gatherRows(trainInputs, rows));
    const { loss: value, gradient, labels } = selfLabelledGradient(loss, logits);
    head.backward(gradient);
    const step = { logits, value, labels, probabilities: softmax(logits) };
    const norm = Math.sqrt(await squaredNorm(parameters.map((p) => p.grad!)));
    if (iteration === 0) {
      firstGradientNorm = norm;
      const own = await step.probabilities.data(), fed = await step.labels.data();
      labelsMinusOwnSoftmax = Math.max(...Array.from(own, (v, i) => Math.abs(v - fed[i])));
    }
    largestGradientNorm = Math.max(largestGradientNorm, norm);
    if (printing) {
      const predictions = argmax2(await step.logits.data());
      const truth = Array.from(trainRows, (r) => train.labels![r]);
      const validationLogits = head.forward(
        gatherRows(
          validationInputs,
          backend.fromValues(validationRows, [validationRows.length], "float32"),
        ),
      );
      const validationPredictions = argmax2(await validationLogits.data());
      lines.push({
        iteration,
        trainBatch,
        trainAccuracy: accuracyOf(predictions, truth),
        validationBatch,
        validationAccuracy: accuracyOf(
          validationPredictions,
          Array.from(validationRows, (r) => validation.labels![r]),
        ),
        loss: (await step.value.data())[0],
        entropy: meanEntropy(await step.probabilities.data()),
        predictedCoat: predictions.reduce((a, b) => a + b, 0),
      });
    }
    optimizer.step(parameters);
    closeScope(scope);
  }
  let changed = 0, changedBiases = 0, count = 0, largest = 0;
  for (const [i, p] of parameters.entries()) {
    const now = await p.value.data();
    const isBias = p.name.endsWith("bias");
    for (let j = 0; j < now.length; j++, count++) {
      const delta = Math.abs(now[j] - initial[i][j]);
      if (delta !== 0) changed++;
      if (delta !== 0 && isBias) changedBiases++;
      largest = Math.max(largest, delta);
    }
  }
  const all = tidy(() => head.forward(validationInputs));
  const validationLogits = await all.data() as Float32Array;
  const predictions = argmax2(validationLogits);
  all.dispose();
  const coat = predictions.reduce((a, b) => a + b, 0);
  const labelsMove = await labelsMovement(head, trainInputs, trainRowsOf(trainBatches), backend);
  trainInputs.dispose();
  validationInputs.dispose();
  return {
    semantics,
    optimizer: options.optimizer,
    lines,
    firstGradientNorm,
    largestGradientNorm,
    changedParameters: changed,
    changedWeights: changed - changedBiases,
    changedBiases,
    parameterCount: count,
    largestParameterChange: largest,
    validationAccuracy: accuracyOf(predictions, validation.labels!),
    largestClassShare: Math.max(coat, predictions.length - coat) / predictions.length,
    validationLogits,
    labelsMinusOwnSoftmax,
    labelsMoveWithWeights: labelsMove,
  };
}

function trainRowsOf(batcher: FixedOrderBatcher): Uint32Array {
  return Uint32Array.from({ length: batcher.batchSize }, (_, i) => i);
}

/**
 * "The labels depend on the model's own output": nudge the head's last bias by 0.5 and
 * measure how far the labels fed to the loss move (true labels would not move at all).
 */
async function labelsMovement(
  head: Sequential,
  inputs: Tensor,
  rows: Uint32Array,
  backend: Backend,
): Promise<number> {
  const bias = (head.layers[2] as Linear).bias.value;
  const before = await bias.data();
  const labelsNow = async () => {
    const p = tidy(() =>
      softmax(head.forward(gatherRows(inputs, backend.fromValues(rows, [rows.length], "float32"))))
    );
    const values = await p.data();
    p.dispose();
    return values;
  };
  const a = await labelsNow();
  backend.assign(bias, backend.fromValues([before[0] + 0.5, before[1]], [2], "float32"));
  const b = await labelsNow();
  backend.assign(bias, backend.fromValues(before, [2], "float32"));
  return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
}
