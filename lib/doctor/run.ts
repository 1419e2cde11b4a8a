/**
 * Training a recipe under a time budget, with the doctor's live measurements: the loss and both
 * accuracies (Keras' metric and the argmax one) per epoch on training and validation rows, the
 * first non-finite loss, the largest logit, dead and saturated units per layer, gradient norms and
 * update-to-weight ratios per layer, and the predicted-class histogram. The hooks read a few small
 * tensors every `every` steps, so they cost a few per cent of a step (the bench measures it).
 */
import type { Backend } from "../backend/backend.ts";
import { cpu } from "../backend/mod.ts";
import type { Dataset } from "../data/dataset.ts";
import { LeakyReLU, ReLU, Sigmoid, Tanh } from "../layers/activations.ts";
import { Linear } from "../layers/linear.ts";
import type { Sequential } from "../layers/sequential.ts";
import { add, neg, scale, step, sub } from "../ops.ts";
import { predict } from "../train/evaluate.ts";
import { train } from "../train/loop.ts";
import type { EpochRecord, TrainingHook } from "../train/types.ts";
import { tidy } from "../tensor.ts";
import { buildModel, type BuiltModel, forLoss, type RecipeData } from "./build.ts";
import { setTrainingMode } from "./keras.ts";
import type { Recipe } from "./recipe.ts";

export interface EpochMeasure {
  epoch: number;
  trainLoss: number;
  /** Keras' "accuracy" for this loss (binary accuracy after binary_crossentropy). */
  trainAccuracy?: number;
  /** Argmax agreement (classification), whatever the loss. */
  trainArgmaxAccuracy?: number;
  validationLoss?: number;
  validationAccuracy?: number;
  validationArgmaxAccuracy?: number;
  /** Largest |output| before the final softmax/sigmoid (or of the output), on the sample batch. */
  largestLogit: number;
  /** Share of predictions going to the most predicted class (classification). */
  topClassShare?: number;
  seconds: number;
}

export interface LayerMeasure {
  layer: string;
  kind: string;
  /** ReLU-like: units never positive on the sample batch. */
  deadFraction?: number;
  /** sigmoid/tanh: outputs within 2% of a bound. */
  saturatedFraction?: number;
  /** Linear layers: gradient norm of the weights at the first and the last look. */
  firstGradientNorm?: number;
  lastGradientNorm?: number;
  largestGradientNorm?: number;
  /** Linear layers: ‖Δw‖ / ‖w‖ per step at the last look. */
  updateRatio?: number;
  /** The largest ‖Δw‖ / ‖w‖ of any look: a rate that is too high shows early, then units die. */
  largestUpdateRatio?: number;
  weightNorm?: number;
}

export interface RunMeasures {
  initialLoss: number;
  epochs: EpochMeasure[];
  stepsRun: number;
  epochsRun: number;
  /** Epochs the recipe asked for. */
  epochsAsked: number;
  stoppedByBudget: boolean;
  seconds: number;
  nonFinite?: { step: number; epoch: number; where: string };
  layers: LayerMeasure[];
  /** Dead and saturated units before the first step. */
  initialLayers: LayerMeasure[];
  /** Step at which each measurement of the gradient norms was taken (for the report). */
  predictedClasses?: number[];
}

const SAMPLE_ROWS = 256;

/** Evenly spaced rows of a dataset: the batch the doctor measures on. */
export function sample(ds: Dataset, rows = SAMPLE_ROWS): Dataset {
  if (ds.count <= rows) return ds;
  const stride = ds.count / rows;
  const indices = Array.from({ length: rows }, (_, i) => Math.floor(i * stride));
  const { features } = ds;
  const inputs = new Float32Array(rows * features);
  indices.forEach((row, i) =>
    inputs.set(ds.inputs.subarray(row * features, (row + 1) * features), i * features)
  );
  return {
    ...ds,
    count: rows,
    inputs,
    labels: ds.labels ? Uint8Array.from(indices.map((r) => ds.labels![r])) : undefined,
    targets: ds.targets
      ? Float32Array.from(
        indices.flatMap((r) =>
          Array.from(ds.targets!.subarray(r * ds.targetSize!, (r + 1) * ds.targetSize!))
        ),
      )
      : undefined,
  };
}

function norm(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s);
}

/** Loss and accuracies of the model on a dataset, with dropout and batch statistics off. */
export async function measure(
  built: BuiltModel,
  recipe: Recipe,
  ds: Dataset,
): Promise<
  {
    loss: number;
    accuracy?: number;
    argmaxAccuracy?: number;
    largestLogit: number;
    predicted?: number[];
  }
> {
  setTrainingMode(built.model.layers, false);
  try {
    const rows = await predict(built.model, ds);
    const lossData = forLoss(ds, built);
    const backend = built.model.parameters()[0].value.backend;
    const width = built.outputWidth;
    const flat = new Float32Array(rows.length * width);
    rows.forEach((row, i) => flat.set(row, i * width));
    let largestLogit = 0;
    for (const v of flat) {
      if (Math.abs(v) > largestLogit || Number.isNaN(v)) {
        largestLogit = Number.isNaN(v) ? NaN : Math.abs(v);
      }
    }
    const loss = tidy(() => {
      const output = backend.fromValues(flat, [rows.length, width], "float32");
      const target = lossData.labels && built.targetKind === "labels"
        ? backend.fromValues(Float32Array.from(lossData.labels), [rows.length], "float32")
        : backend.fromValues(
          lossData.targets!,
          [rows.length, lossData.targetSize ?? width],
          "float32",
        );
      return built.loss.forward(output, target);
    });
    const lossValue = (await loss.data())[0];
    loss.dispose();
    if (!ds.labels) return { loss: lossValue, largestLogit };
    // What the network predicts, as probabilities or logits: argmax is the same either way.
    const predicted = rows.map((row) => {
      if (row.length === 1) {
        return (built.head.folded === "sigmoid" ? row[0] > 0 : row[0] > 0.5) ? 1 : 0;
      }
      let best = 0;
      for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
      return best;
    });
    const argmaxAccuracy = predicted.filter((p, i) => p === ds.labels![i]).length / ds.count;
    let accuracy = argmaxAccuracy;
    if (recipe.loss.name === "binary_crossentropy" && width > 1) {
      // Keras' binary accuracy: every output thresholded at 0.5 against its one-hot target.
      let agree = 0;
      const threshold = built.head.folded === "sigmoid" ? 0 : 0.5;
      rows.forEach((row, i) => {
        for (let k = 0; k < width; k++) {
          if ((row[k] > threshold ? 1 : 0) === (ds.labels![i] === k ? 1 : 0)) agree++;
        }
      });
      accuracy = agree / (ds.count * width);
    }
    return { loss: lossValue, accuracy, argmaxAccuracy, largestLogit, predicted };
  } finally {
    setTrainingMode(built.model.layers, true);
  }
}

/** The live hooks: per-layer gradient norms and update ratios, every `every` steps. */
export function layerHooks(
  model: Sequential,
  every: number,
  measures: Map<string, LayerMeasure>,
): TrainingHook {
  const before = new Map<Linear, Float32Array>();
  return {
    beforeUpdate: async ({ step }) => {
      if (step % every !== 1 && every !== 1) return;
      for (const layer of model.layers) {
        if (!(layer instanceof Linear) || !layer.weight.grad) continue;
        const g = norm(await layer.weight.grad.data());
        const m = measures.get(layer.name) ?? { layer: layer.name, kind: "linear" };
        m.firstGradientNorm ??= g;
        m.lastGradientNorm = g;
        m.largestGradientNorm = Math.max(
          m.largestGradientNorm ?? 0,
          Number.isFinite(g) ? g : Infinity,
        );
        measures.set(layer.name, m);
        before.set(layer, Float32Array.from(await layer.weight.value.data()));
      }
    },
    afterUpdate: async ({ step }) => {
      if (step % every !== 1 && every !== 1) return;
      for (const [layer, old] of before) {
        const now = await layer.weight.value.data();
        let d = 0;
        for (let i = 0; i < now.length; i++) d += (now[i] - old[i]) ** 2;
        const m = measures.get(layer.name)!;
        m.weightNorm = norm(now);
        m.updateRatio = Math.sqrt(d) / (m.weightNorm || 1);
        // Against the weights before the step; undefined for weights that start at exactly 0.
        const oldNorm = norm(old);
        if (oldNorm > 0) {
          const ratio = Math.sqrt(d) / oldNorm;
          m.largestUpdateRatio = Math.max(
            m.largestUpdateRatio ?? 0,
            Number.isFinite(ratio) ? ratio : Infinity,
          );
        }
      }
      before.clear();
    },
  };
}

/** Dead and saturated units on the sample batch, layer by layer. */
export async function activationMeasures(
  model: Sequential,
  ds: Dataset,
  measures: Map<string, LayerMeasure>,
) {
  // Forward layer by layer, reading each activation's output while it is alive.
  const backend = model.parameters()[0].value.backend;
  let h = backend.fromValues(ds.inputs, [ds.count, ds.features], "float32");
  setTrainingMode(model.layers, false);
  try {
    for (const layer of model.layers) {
      const next = layer.forward(h);
      const isRelu = layer instanceof ReLU || layer instanceof LeakyReLU;
      const isSquash = layer instanceof Sigmoid || layer instanceof Tanh;
      if (isRelu || isSquash) {
        const values = await next.data();
        const [rows, units] = next.shape;
        let dead = 0, saturated = 0;
        for (let u = 0; u < units; u++) {
          let anyPositive = false;
          for (let r = 0; r < rows; r++) {
            const v = values[r * units + u];
            if (v > 0) anyPositive = true;
            if (layer instanceof Sigmoid && (v < 0.02 || v > 0.98)) saturated++;
            if (layer instanceof Tanh && Math.abs(v) > 0.98) saturated++;
          }
          if (!anyPositive) dead++;
        }
        const m = measures.get(layer.name) ?? { layer: layer.name, kind: layer.kind };
        if (isRelu) m.deadFraction = dead / units;
        else m.saturatedFraction = saturated / (rows * units);
        measures.set(layer.name, m);
      }
      h = next;
    }
  } finally {
    setTrainingMode(model.layers, true);
  }
}

export interface RunOptions {
  budgetSeconds: number;
  backend?: Backend;
  /** One line per epoch while it trains. */
  onProgress?: (line: string) => void;
  /** Changes to the recipe's training (the --confirm run uses the fixed recipe instead). */
  maxEpochs?: number;
}

/** Train the recipe within the budget and measure it. */
export async function runRecipe(
  recipe: Recipe,
  data: RecipeData,
  options: RunOptions,
): Promise<RunMeasures> {
  const { budgetSeconds, backend = cpu, onProgress = () => {} } = options;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const built = buildModel(recipe, data, backend);
  const trainSet = forLoss(data.train, built);
  const trainSample = sample(data.train),
    validationSample = data.validation ? sample(data.validation, 1024) : undefined;
  const layerMeasures = new Map<string, LayerMeasure>();
  const stepsPerEpoch = Math.ceil(data.train.count / recipe.batchSize);
  const every = Math.max(1, Math.floor(stepsPerEpoch / 4));
  const hooks = [layerHooks(built.model, every, layerMeasures)];
  // L1/L2 kernel penalties: Keras adds λ Σ|w| or λ Σ w² to the loss; here their gradient joins.
  if (built.regularised.length > 0) {
    hooks.push({
      beforeUpdate: () => {
        for (const { layer, kind, lambda } of built.regularised) {
          const w = layer.weight.value, g = layer.weight.grad;
          if (!g) continue;
          g.backend.assign(
            g,
            add(
              g,
              kind === "l2" ? scale(w, 2 * lambda) : scale(sub(step(w), step(neg(w))), lambda),
            ),
          );
        }
      },
    });
  }
  const initial = await measure(built, recipe, trainSample);
  const initialLayers = new Map<string, LayerMeasure>();
  await activationMeasures(built.model, trainSample, initialLayers);
  const epochs: EpochMeasure[] = [];
  let nonFinite: RunMeasures["nonFinite"];
  let steps = 0, stoppedByBudget = false, predicted: number[] | undefined;
  const asked = options.maxEpochs ?? recipe.epochs;
  for (let epoch = 1; epoch <= asked; epoch++) {
    const epochStarted = performance.now();
    const perStep = steps > 0 ? elapsed() / steps : undefined;
    const left = budgetSeconds - elapsed();
    if (left <= 0) {
      stoppedByBudget = true;
      break;
    }
    const maxSteps = perStep === undefined ? undefined : Math.max(1, Math.floor(left / perStep));
    const history = await train({
      model: built.model,
      loss: built.loss,
      optimizer: built.optimizer,
      train: trainSet,
      epochs: 1,
      batchSize: recipe.batchSize,
      seed: recipe.seed * 7919 + epoch,
      shuffle: recipe.shuffle,
      hooks,
      onNonFinite: "record",
      progress: "none",
      ...(maxSteps !== undefined && maxSteps < stepsPerEpoch ? { maxSteps } : {}),
    });
    const record: EpochRecord = history.epochs[0];
    steps += record?.steps ?? 0;
    if (history.nonFinite && !nonFinite) {
      nonFinite = {
        step: (epoch - 1) * stepsPerEpoch + history.nonFinite.step,
        epoch,
        where: history.nonFinite.where,
      };
    }
    const onTrain = await measure(built, recipe, trainSample);
    const onValidation = validationSample
      ? await measure(built, recipe, validationSample)
      : undefined;
    predicted = onTrain.predicted;
    const counts = new Map<number, number>();
    for (const p of predicted ?? []) counts.set(p, (counts.get(p) ?? 0) + 1);
    epochs.push({
      epoch,
      trainLoss: record?.trainLoss ?? onTrain.loss,
      trainAccuracy: onTrain.accuracy,
      trainArgmaxAccuracy: onTrain.argmaxAccuracy,
      validationLoss: onValidation?.loss,
      validationAccuracy: onValidation?.accuracy,
      validationArgmaxAccuracy: onValidation?.argmaxAccuracy,
      largestLogit: onTrain.largestLogit,
      topClassShare: predicted ? Math.max(...counts.values()) / predicted.length : undefined,
      seconds: (performance.now() - epochStarted) / 1000,
    });
    const e = epochs.at(-1)!;
    onProgress(
      `  epoch ${epoch}/${asked}: loss ${e.trainLoss.toPrecision(4)}` +
        (e.trainAccuracy !== undefined ? `, accuracy ${e.trainAccuracy.toFixed(3)}` : "") +
        (e.validationLoss !== undefined ? `, val_loss ${e.validationLoss.toPrecision(4)}` : "") +
        ` (${elapsed().toFixed(1)} s)`,
    );
    if (nonFinite && epoch >= nonFinite.epoch + 1) break; // one epoch past the collapse shows what follows
    if (maxSteps !== undefined && maxSteps < stepsPerEpoch) {
      stoppedByBudget = true;
      break;
    }
  }
  await activationMeasures(built.model, trainSample, layerMeasures);
  return {
    initialLoss: initial.loss,
    epochs,
    stepsRun: steps,
    epochsRun: epochs.length,
    epochsAsked: asked,
    stoppedByBudget: stoppedByBudget || epochs.length < asked && !nonFinite,
    seconds: elapsed(),
    nonFinite,
    layers: [...layerMeasures.values()],
    initialLayers: [...initialLayers.values()],
    predictedClasses: predicted,
  };
}
