/**
 * The doctor in code, for a network built with the library rather than described by a recipe:
 *
 * ```ts ignore
 * const doctor = new Doctor(model, loss, trainSet, { optimizer });
 * console.log(formatReport(await doctor.preflight()));      // before a step
 * const history = await train({ model, loss, optimizer, train: trainSet, epochs: 5,
 *   batchSize: 64, hooks: doctor.hooks(), onNonFinite: "record" });
 * console.log(formatReport(await doctor.report(history)));  // after (or after a collapse)
 * ```
 *
 * It reads the model as a recipe (Linear layers and their activations, the loss, the optimiser,
 * the data's statistics), so the same checks run as for `deno task doctor`, and it measures the
 * run through training hooks: the largest logit at every step (a naive softmax overflows past
 * ln(FLT_MAX) = 88.72 in float32), per-layer gradient norms and update ratios, dead and saturated
 * units. `preflight()` also tries to overfit one small batch (Karpathy's first check): a network
 * that cannot drive the loss on 16 examples toward zero in 100 steps has a bug, not a tuning problem.
 */
import type { Dataset } from "../data/dataset.ts";
import { LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from "../layers/activations.ts";
import type { Layer } from "../layers/layer.ts";
import { Linear } from "../layers/linear.ts";
import type { Sequential } from "../layers/sequential.ts";
import {
  BinaryCrossEntropy,
  BinaryCrossEntropyWithLogits,
  type Loss,
  MeanSquaredError,
  NaiveSoftmaxCrossEntropy,
  SoftmaxCrossEntropy,
} from "../losses.ts";
import { abs, max as maxOf } from "../ops.ts";
import type { Optimizer } from "../optim.ts";
import { Adam, SGD } from "../optim.ts";
import type { History, TrainingHook } from "../train/types.ts";
import { train } from "../train/loop.ts";
import { loadWeights, saveWeights } from "../weights.ts";
import { diagnose, type Evidence, type Finding, FLOAT32_EXP_LIMIT, rank } from "./checks.ts";
import type { RecipeData } from "./build.ts";
import type { Activation, Initializer, LayerSpec, Recipe } from "./recipe.ts";
import { makeReport, type Report } from "./report.ts";
import type { LayerMeasure, RunMeasures } from "./run.ts";

export interface DoctorOptions {
  /** The optimiser you will train with (its name and learning rate feed the checks). */
  optimizer?: Optimizer;
  validation?: Dataset;
  epochs?: number;
  batchSize?: number;
}

function activationOf(layer: Layer | undefined): Activation["name"] | undefined {
  if (layer instanceof ReLU) return "relu";
  if (layer instanceof LeakyReLU) return "leaky_relu";
  if (layer instanceof Sigmoid) return "sigmoid";
  if (layer instanceof Tanh) return "tanh";
  if (layer instanceof Softmax) return "softmax";
  return undefined;
}

function datasetStats(ds: Dataset): RecipeData["inputs"] {
  const { inputs, count, features } = ds;
  let min = Infinity, max = -Infinity, sumAbs = 0;
  const stds: number[] = [];
  for (let j = 0; j < features; j++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < count; i++) {
      const v = inputs[i * features + j];
      s += v;
      s2 += v * v;
      min = Math.min(min, v);
      max = Math.max(max, v);
      sumAbs += Math.abs(v);
    }
    const mean = s / count;
    stds.push(Math.sqrt(Math.max(0, s2 / count - mean * mean)));
  }
  return {
    min,
    max,
    meanAbs: sumAbs / inputs.length,
    largestFeatureStd: Math.max(...stds),
    smallestFeatureStd: Math.min(...stds),
  };
}

export class Doctor {
  readonly recipe: Recipe;
  readonly data: RecipeData;
  #largestLogits: { step: number; value: number }[] = [];
  #layers = new Map<string, LayerMeasure>();
  #initialLayers: LayerMeasure[] = [];
  #preflightFindings: Finding[] = [];
  #initialLoss = NaN;
  #steps = 0;

  constructor(
    readonly model: Sequential,
    readonly loss: Loss,
    readonly train: Dataset,
    readonly options: DoctorOptions = {},
  ) {
    this.recipe = this.#asRecipe();
    this.data = {
      train,
      validation: options.validation,
      classes: train.classes,
      outputs: train.classes ?? train.targetSize ?? 1,
      inputs: datasetStats(train),
      targets: undefined,
      notes: [],
    };
    if (train.targets) {
      const t = train.targets;
      const mean = t.reduce((a, b) => a + b, 0) / t.length;
      const std = Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / t.length);
      this.data.targets = { min: Math.min(...t), max: Math.max(...t), mean, std };
    }
  }

  /** The model read as a recipe, so that the recipe checks apply to it. */
  #asRecipe(): Recipe {
    const layers: LayerSpec[] = [];
    const all = this.model.layers;
    for (const [i, layer] of all.entries()) {
      if (layer instanceof Linear) {
        const next = activationOf(all[i + 1]);
        const w = layer.weight.value.storage as Float32Array | Float64Array | undefined;
        // Read the initial weights where they are in JavaScript memory (the CPU backend).
        let kernelInitializer: Initializer = { name: "glorot_uniform" };
        if (w instanceof Float32Array || w instanceof Float64Array) {
          const first = w[0];
          if (w.every((v) => v === first)) {
            kernelInitializer = first === 0
              ? { name: "zeros" }
              : { name: "constant", value: first };
          } else {
            const values = Array.from(w);
            const mean = values.reduce((a, b) => a + b, 0) / values.length;
            const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
            kernelInitializer = { name: "random_normal", value: std };
          }
        }
        layers.push({
          kind: "dense",
          units: layer.outFeatures,
          activation: { name: next === "softmax" ? "linear" : next ?? "linear" },
          kernelInitializer,
          biasInitializer: { name: "zeros" },
        });
        if (next === "softmax") {
          layers.push({ kind: "activation", activation: { name: "softmax" } });
        }
      }
    }
    const loss = this.loss;
    const classification = this.train.labels !== undefined;
    const lossSpec: Recipe["loss"] = loss instanceof SoftmaxCrossEntropy
      ? { name: "sparse_categorical_crossentropy", fromLogits: true }
      : loss instanceof BinaryCrossEntropyWithLogits
      ? { name: "binary_crossentropy", fromLogits: true }
      : loss instanceof BinaryCrossEntropy
      ? { name: "binary_crossentropy", fromLogits: false }
      : loss instanceof MeanSquaredError
      ? { name: "mse", fromLogits: false }
      : { name: classification ? "sparse_categorical_crossentropy" : "mse", fromLogits: true };
    const optimizer = this.options.optimizer;
    const name = optimizer instanceof SGD
      ? "sgd"
      : optimizer instanceof Adam || !optimizer
      ? "adam"
      : "sgd";
    return {
      task: classification ? "classification" : "regression",
      data: {
        source: "synthetic",
        validationSplit: 0,
        testSplit: 0,
        order: "as-stored",
        inputScale: "raw",
        targetScale: "raw",
        labels: "index",
        header: true,
        delimiter: ",",
      },
      model: layers,
      loss: lossSpec,
      metrics: [],
      optimizer: {
        name,
        learningRate: optimizer?.learningRate ?? 0.001,
        momentum: 0,
        nesterov: false,
        rho: 0.9,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-7,
        decay: 0,
      },
      epochs: this.options.epochs ?? 1,
      batchSize: this.options.batchSize ?? 32,
      shuffle: true,
      seed: 0,
    };
  }

  /**
   * The checks that need no training, the loss at initialisation against its uniform-output
   * value, and the one-batch overfit test. The model's weights are restored afterwards.
   */
  async preflight(): Promise<Report> {
    const findings: Finding[] = [];
    const { findings: setup } = diagnose({ recipe: this.recipe, data: this.data });
    findings.push(...setup);
    const k = this.train.classes ?? 0;
    const batch = Math.min(16, this.train.count);
    const small: Dataset = {
      ...this.train,
      count: batch,
      inputs: this.train.inputs.slice(0, batch * this.train.features),
      labels: this.train.labels?.slice(0, batch),
      targets: this.train.targets?.slice(0, batch * (this.train.targetSize ?? 1)),
    };
    const saved = await saveWeights(this.model);
    try {
      const history = await train({
        model: this.model,
        loss: this.loss,
        optimizer: new Adam({ learningRate: 0.01 }),
        train: small,
        epochs: 100,
        batchSize: batch,
        shuffle: false,
        progress: "none",
        onNonFinite: "record",
      });
      const first = history.epochs[0].trainLoss, last = history.epochs.at(-1)!.trainLoss;
      this.#initialLoss = first;
      if (
        k > 1 && this.loss instanceof SoftmaxCrossEntropy &&
        Math.abs(first - Math.log(k)) > 0.5 * Math.log(k)
      ) {
        findings.push({
          id: "bad-init-scale",
          severity: "warning",
          confidence: 0.5,
          evidence: [
            `the loss at initialisation is ${first.toPrecision(4)}, far from ln ${k} = ${
              Math.log(k).toFixed(4)
            } ` +
            "(uniform predictions): the initial logits are large",
          ],
        });
      }
      if (!(last < 0.1 * first) || history.nonFinite) {
        findings.push({
          id: history.nonFinite ? "softmax-overflow" : "zero-initialisation",
          severity: "error",
          confidence: 0.6,
          evidence: [
            `100 Adam steps on ${batch} examples took the loss from ${first.toPrecision(4)} to ${
              last.toPrecision(4)
            }: ` +
            "a network that cannot memorise one small batch has a bug (Karpathy's first check)",
          ],
        });
      }
    } finally {
      loadWeights(this.model, saved);
    }
    const ranked = rank(findings);
    return {
      findings: ranked,
      healthy: !ranked.some((f) => f.severity === "error"),
      checked: [
        "the setup checks",
        "loss at initialisation against ln K",
        "overfit one batch of 16",
      ],
      notes: [
        "preflight: nothing was trained except the one-batch test, whose weights were restored",
      ],
    };
  }

  /** Hooks for `train()`: the largest logit every step, gradient norms and update ratios every `every`. */
  hooks(every = 10): TrainingHook[] {
    const before = new Map<Linear, Float32Array>();
    const linears = this.model.layers.filter((l): l is Linear => l instanceof Linear);
    return [{
      beforeUpdate: async ({ step, model }) => {
        this.#steps = step;
        const output = (model as Sequential).output;
        if (output) {
          const largest = maxOf(abs(output));
          this.#largestLogits.push({ step, value: (await largest.data())[0] });
        }
        if (step % every !== 1 && every !== 1) return;
        for (const layer of linears) {
          if (!layer.weight.grad) continue;
          const g = await layer.weight.grad.data();
          let s = 0;
          for (const v of g) s += v * v;
          const norm = Math.sqrt(s);
          const m = this.#layers.get(layer.name) ?? { layer: layer.name, kind: "linear" };
          m.firstGradientNorm ??= norm;
          m.lastGradientNorm = norm;
          m.largestGradientNorm = Math.max(
            m.largestGradientNorm ?? 0,
            Number.isFinite(norm) ? norm : Infinity,
          );
          this.#layers.set(layer.name, m);
          before.set(layer, Float32Array.from(await layer.weight.value.data()));
        }
      },
      afterUpdate: async () => {
        for (const [layer, old] of before) {
          const now = await layer.weight.value.data();
          let d = 0, w = 0;
          for (let i = 0; i < now.length; i++) {
            d += (now[i] - old[i]) ** 2;
            w += now[i] * now[i];
          }
          const m = this.#layers.get(layer.name)!;
          m.updateRatio = Math.sqrt(d) / (Math.sqrt(w) || 1);
          let o = 0;
          for (const v of old) o += v * v;
          if (o > 0) {
            const ratio = Math.sqrt(d / o);
            m.largestUpdateRatio = Math.max(
              m.largestUpdateRatio ?? 0,
              Number.isFinite(ratio) ? ratio : Infinity,
            );
          }
        }
        before.clear();
      },
    }];
  }

  /** The report after training, from the history `train()` returned and what the hooks measured. */
  report(history: History): Report {
    const epochs = history.epochs.map((record) => ({
      epoch: record.epoch,
      trainLoss: record.trainLoss,
      trainAccuracy: record.trainAccuracy,
      trainArgmaxAccuracy: record.trainAccuracy,
      validationLoss: record.validationLoss,
      validationAccuracy: record.validationAccuracy,
      validationArgmaxAccuracy: record.validationAccuracy,
      largestLogit: NaN,
      seconds: record.seconds,
    }));
    const nonFinite = history.nonFinite;
    const run: RunMeasures = {
      initialLoss: this.#initialLoss,
      epochs,
      stepsRun: this.#steps,
      epochsRun: epochs.length,
      epochsAsked: this.recipe.epochs,
      stoppedByBudget: false,
      seconds: epochs.reduce((s, e) => s + e.seconds, 0),
      nonFinite: nonFinite
        ? { step: nonFinite.step, epoch: nonFinite.epoch, where: nonFinite.where }
        : undefined,
      layers: [...this.#layers.values()],
      initialLayers: this.#initialLayers,
    };
    if (!Number.isFinite(run.initialLoss)) run.initialLoss = epochs[0]?.trainLoss ?? NaN;
    const evidence: Evidence = { recipe: this.recipe, data: this.data, run };
    const report = makeReport(evidence);
    // The naive softmax: a logit past ln(FLT_MAX) just before the first non-finite loss.
    if (nonFinite && this.loss instanceof NaiveSoftmaxCrossEntropy) {
      const before = this.#largestLogits.filter((x) =>
        x.step <= nonFinite.step && Number.isFinite(x.value)
      );
      const peak = before.at(-1);
      if (peak && peak.value > FLOAT32_EXP_LIMIT) {
        report.findings.unshift({
          id: "softmax-overflow",
          severity: "error",
          confidence: 0.9,
          evidence: [
            `the largest logit reached ${
              peak.value.toPrecision(4)
            } > ln(FLT_MAX) = 88.72 at step ${peak.step}, ` +
            `${
              nonFinite.step - peak.step === 0
                ? "the step"
                : `${nonFinite.step - peak.step} step(s) before the step`
            } ` +
            `where the loss became non-finite (${nonFinite.where}): exp() overflowed in the naive softmax`,
          ],
          fix: { field: "loss", from: this.loss.name, to: "SoftmaxCrossEntropy (log-sum-exp)" },
          confirm: "train again with SoftmaxCrossEntropy, whose log-sum-exp never overflows",
        });
        report.healthy = false;
      }
    }
    report.findings = rank(report.findings);
    return report;
  }
}
