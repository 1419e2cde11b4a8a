/**
 * The doctor's checks, as a table: each has an id from the fixed vocabulary, when it runs
 * (preflight: from the recipe and the data, before a step; live: from the measured run; curves:
 * from the per-epoch history, measured or posted), what it measures, its threshold, and the fix it
 * proposes as a change to the recipe. Thresholds are named constants beside the checks, and every
 * finding's evidence is built from the numbers that triggered it.
 *
 * Precision matters as much as recall: a learner who is told "error" on a setup that was fine
 * stops trusting the tool. So a preflight suspicion that the run contradicts (the network learned
 * well anyway) is lowered to a warning or a note, and errors from the run need the run to have
 * failed in the way the check predicts.
 */
import { outputActivation, type RecipeData } from "./build.ts";
import { DEFAULT_LEARNING_RATE, type Recipe } from "./recipe.ts";
import type { RunMeasures } from "./run.ts";

export const FINDING_IDS = [
  "relu-before-softmax",
  "output-activation-mismatch",
  "loss-mismatch",
  "zero-initialisation",
  "bad-init-scale",
  "unnormalised-inputs",
  "unnormalised-targets",
  "learning-rate-too-high",
  "learning-rate-too-low",
  "too-few-epochs",
  "softmax-overflow",
  "dead-relu",
  "saturated-activations",
  "vanishing-gradients",
  "exploding-gradients",
  "insufficient-capacity",
  "overfitting",
  "metric-bug",
  "labels-depend-on-model",
  "unshuffled-data",
  "evaluated-on-training-data",
  "batch-size",
  "optimizer-choice",
  "healthy",
] as const;
export type FindingId = typeof FINDING_IDS[number];
export type Severity = "error" | "warning" | "note";

export interface Fix {
  field: string;
  from: unknown;
  to: unknown;
}

export interface Finding {
  id: FindingId;
  severity: Severity;
  confidence: number;
  evidence: string[];
  fix?: Fix;
  /** The experiment that confirms it (`--confirm` runs it). */
  confirm?: string;
}

/** Keras' `history.history`, any subset of keys. */
export interface KerasHistory {
  loss?: number[];
  accuracy?: number[];
  val_loss?: number[];
  val_accuracy?: number[];
}

/** Everything a check may look at; `run` and `history` are there when measured or posted. */
export interface Evidence {
  recipe: Recipe;
  data: RecipeData;
  run?: RunMeasures;
  history?: KerasHistory;
}

export interface Check {
  id: FindingId;
  when: "preflight" | "live" | "curves";
  measures: string;
  threshold: string;
  fixes: string;
  run(evidence: Evidence): Finding | null;
}

// Thresholds -------------------------------------------------------------------------------------

/** Final training loss over the prior-only loss: below this the network learned well. */
export const LEARNED_WELL = 0.5;
/** At or above this the network learned (almost) nothing beyond the class frequencies / the mean. */
export const DID_NOT_LEARN = 0.9;
/** Inputs whose largest magnitude exceeds this are not on a scale a network's default init expects. */
export const INPUT_SCALE_LIMIT = 10;
/** Features whose standard deviations differ by more than this factor are on different scales. */
export const FEATURE_SCALE_RATIO = 100;
/** Regression targets with a standard deviation or mean magnitude above this are unscaled. */
export const TARGET_SCALE_LIMIT = 10;
/** Weight std over Glorot's: above this the first layers saturate or explode; below the second, signals vanish. */
export const INIT_TOO_LARGE = 8;
export const INIT_TOO_SMALL = 0.05;
/** Fraction of ReLU units never positive on a sample batch. */
export const DEAD_WARNING = 0.5;
export const DEAD_ERROR = 0.9;
/** Fraction of sigmoid/tanh outputs within 2% of a bound. */
export const SATURATED_WARNING = 0.6;
/** First layer's gradient norm over the last layer's. */
export const VANISHING_RATIO = 1e-3;
/** Largest gradient norm over the first one seen. */
export const EXPLODING_RATIO = 1e3;
/** Update-to-weight ratio per step (Karpathy's rule of thumb is about 1e-3). */
export const UPDATE_RATIO_HIGH = 0.1;
export const UPDATE_RATIO_LOW = 1e-5;
/** Learning rates no one uses on purpose. */
export const SGD_RATE_HIGH = 0.5;
export const ADAPTIVE_RATE_HIGH = 0.05;
export const SGD_RATE_LOW = 1e-4;
export const ADAPTIVE_RATE_LOW = 1e-5;
/** Fewer updates than this in the whole recipe is too few for most problems. */
export const FEW_UPDATES = 100;
/** Loss still falling by this fraction per epoch at the end: more epochs would help. */
export const STILL_FALLING = 0.02;
/** Validation loss above its best by this factor, later than the best epoch: overfitting. */
export const VALIDATION_RISE = 1.15;
/** Training minus validation accuracy. */
export const ACCURACY_GAP = 0.15;
/** The largest logit float32's exp() can take: ln(FLT_MAX). */
export const FLOAT32_EXP_LIMIT = Math.log(3.4028234663852886e38);

// What the run says about learning -------------------------------------------------------------

const ADAPTIVE = new Set(["adam", "rmsprop", "adamax", "nadam", "adagrad", "adadelta"]);

function classFrequencies(data: RecipeData): number[] {
  const { train } = data;
  if (!train.labels || !train.classes) return [];
  const counts = new Array(train.classes).fill(0);
  for (const label of train.labels) counts[label]++;
  return counts.map((c) => c / train.count);
}

const binaryEntropy = (
  p: number,
) => (p <= 0 || p >= 1 ? 0 : -p * Math.log(p) - (1 - p) * Math.log(1 - p));

/** The loss of the best constant prediction: what a network that learned nothing reaches. */
export function priorLoss(recipe: Recipe, data: RecipeData): number {
  const p = classFrequencies(data);
  const { name } = recipe.loss;
  if (recipe.task === "classification") {
    if (name.includes("categorical")) {
      return p.reduce((s, q) => s - (q > 0 ? q * Math.log(q) : 0), 0);
    }
    if (name === "binary_crossentropy") {
      const oneOutput = lastUnits(recipe) === 1;
      return oneOutput
        ? binaryEntropy(p[1] ?? 0)
        : p.reduce((s, q) => s + binaryEntropy(q), 0) / p.length;
    }
    if (name === "mse") {
      // Best constant: the class frequencies; MSE = mean over outputs of p (1 − p).
      return p.reduce((s, q) => s + q * (1 - q), 0) / p.length;
    }
    return NaN;
  }
  const t = data.train.targets;
  if (!t) return NaN;
  if (recipe.task === "multilabel" && name === "binary_crossentropy") {
    const k = data.train.targetSize ?? 1;
    let s = 0;
    for (let j = 0; j < k; j++) {
      let ones = 0;
      for (let i = 0; i < data.train.count; i++) ones += t[i * k + j];
      s += binaryEntropy(ones / data.train.count);
    }
    return s / k;
  }
  const variance = (data.targets?.std ?? 0) ** 2;
  if (name === "mae") return (data.targets?.std ?? 0) * Math.sqrt(2 / Math.PI); // for a normal target
  return variance;
}

function lastUnits(recipe: Recipe): number {
  for (let i = recipe.model.length - 1; i >= 0; i--) {
    const layer = recipe.model[i];
    if (layer.kind === "dense") return layer.units;
  }
  return 0;
}

function lastDenseIndex(recipe: Recipe): number {
  for (let i = recipe.model.length - 1; i >= 0; i--) if (recipe.model[i].kind === "dense") return i;
  return -1;
}

/** Final training loss over the prior-only loss (NaN when unknown; Infinity after a collapse). */
export function learningRatio(e: Evidence): number {
  const final = e.run?.epochs.at(-1)?.trainLoss ?? e.history?.loss?.at(-1);
  if (final === undefined) return NaN;
  if (!Number.isFinite(final)) return Infinity;
  const prior = priorLoss(e.recipe, e.data);
  return prior > 0 ? final / prior : NaN;
}

function learnedWell(e: Evidence): boolean {
  const ratio = learningRatio(e);
  const accuracy = e.run?.epochs.at(-1)?.trainArgmaxAccuracy;
  const chance = Math.max(...classFrequencies(e.data), 0);
  return ratio < LEARNED_WELL ||
    (accuracy !== undefined && chance > 0 && accuracy > chance + 0.5 * (1 - chance));
}

function didNotLearn(e: Evidence): boolean {
  const ratio = learningRatio(e);
  return ratio >= DID_NOT_LEARN || e.run?.nonFinite !== undefined;
}

const f = (
  x: number,
  digits = 3,
) => (Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : String(x));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The first activation layer that starts (mostly) dead or saturated, before any step. */
function brokenAtStart(
  e: Evidence,
): { layer: string; what: "dead" | "saturated"; fraction: number } | undefined {
  for (const l of e.run?.initialLayers ?? []) {
    if ((l.deadFraction ?? 0) >= DEAD_ERROR) {
      return { layer: l.layer, what: "dead", fraction: l.deadFraction! };
    }
    if ((l.saturatedFraction ?? 0) >= SATURATED_WARNING) {
      return { layer: l.layer, what: "saturated", fraction: l.saturatedFraction! };
    }
  }
  return undefined;
}

function startLine(b: NonNullable<ReturnType<typeof brokenAtStart>>): string {
  return `before the first step, ${pct(b.fraction)} of ${b.layer}'s ${
    b.what === "dead" ? "units are dead" : "outputs are saturated"
  }`;
}

/** Learning summary for evidence lines. */
function learningLine(e: Evidence): string {
  const ratio = learningRatio(e);
  const prior = priorLoss(e.recipe, e.data);
  const final = e.run?.epochs.at(-1)?.trainLoss ?? e.history?.loss?.at(-1);
  if (final === undefined) return "";
  return `the training loss ended at ${f(final)}, ${f(ratio, 2)}x the ${
    f(prior)
  } of predicting the ` +
    (e.recipe.task === "regression" ? "mean target" : "class frequencies");
}

/**
 * Grades a preflight suspicion by what the run showed: an error when training failed the way it
 * predicts, a warning when there was no run, a note when the network learned well regardless.
 */
function graded(
  e: Evidence,
  confidence: number,
  severityWithoutRun: Severity = "error",
): { severity: Severity; confidence: number } {
  if (!e.run && !e.history?.loss) return { severity: severityWithoutRun, confidence };
  if (didNotLearn(e)) return { severity: "error", confidence: Math.min(0.97, confidence + 0.1) };
  // An accuracy well above chance clears a suspicion only when the loss agrees: a loss still
  // above half the prior-only loss has most of the way to go (MNIST at 80% under a sigmoid head).
  if (learnedWell(e) && !(learningRatio(e) > LEARNED_WELL)) {
    return { severity: "note", confidence: confidence * 0.5 };
  }
  return { severity: "warning", confidence: confidence * 0.8 };
}

function withLearning(e: Evidence, lines: string[]): string[] {
  const line = learningLine(e);
  return line ? [...lines, line] : lines;
}

// The checks --------------------------------------------------------------------------------------

const isImage = (r: Recipe) => r.data.source === "mnist" || r.data.source === "fashion-mnist";
const crossEntropy = (r: Recipe) => r.loss.name.includes("categorical_crossentropy");
const classes = (e: Evidence) => e.data.classes ?? 0;

export const CHECKS: Check[] = [
  {
    id: "loss-mismatch",
    when: "preflight",
    measures: "the loss against the task, the number of classes and the label format",
    threshold: "a combination Keras rejects or that trains the wrong objective",
    fixes: "the loss that fits the task and labels",
    run(e) {
      const { recipe } = e;
      const { name } = recipe.loss;
      const k = classes(e);
      const labels = recipe.data.labels;
      const fixCE = labels === "one-hot"
        ? "categorical_crossentropy"
        : "sparse_categorical_crossentropy";
      if (recipe.task === "classification" && name === "binary_crossentropy" && k > 2) {
        return {
          id: "loss-mismatch",
          severity: "error",
          confidence: 0.9,
          evidence: [
            `${k} classes trained with binary_crossentropy: each output is scored as a separate yes/no, ` +
            `and Keras' "accuracy" becomes binary accuracy, which reads ${
              f(1 - 1 / k)
            } for a network ` +
            "that says no to everything",
          ],
          fix: { field: "loss", from: name, to: fixCE },
          confirm:
            `train with loss ${fixCE}: the argmax accuracy, not the binary one, is the figure to watch`,
        };
      }
      if (recipe.task === "classification" && crossEntropy(recipe) && lastUnits(recipe) === 1) {
        // One output: a softmax (or Keras' division by the row sum) makes it exactly 1, so the
        // categorical loss is 0 whatever the weights; the sparse one sees one class, and label 1
        // is out of range.
        return {
          id: "loss-mismatch",
          severity: "error",
          confidence: 0.95,
          evidence: [
            name === "categorical_crossentropy"
              ? "categorical_crossentropy over a single output: the output is divided by its own sum, " +
                "so the predicted probability is always 1 and the loss is 0 for every example: nothing learns"
              : "sparse_categorical_crossentropy over a single output scores one class: the label 1 " +
                "is out of range for it",
          ],
          fix: { field: "loss", from: name, to: "binary_crossentropy" },
          confirm:
            "train with binary_crossentropy and a sigmoid output; the loss should start near ln 2",
        };
      }
      if (
        recipe.task === "classification" && name === "sparse_categorical_crossentropy" &&
        labels === "one-hot"
      ) {
        return {
          id: "loss-mismatch",
          severity: "error",
          confidence: 0.95,
          evidence: [
            "sparse_categorical_crossentropy takes class indices, the labels are one-hot rows",
          ],
          fix: { field: "loss", from: name, to: "categorical_crossentropy" },
        };
      }
      if (
        recipe.task === "classification" && name === "categorical_crossentropy" &&
        labels === "index"
      ) {
        return {
          id: "loss-mismatch",
          severity: "error",
          confidence: 0.95,
          evidence: ["categorical_crossentropy takes one-hot rows, the labels are class indices"],
          fix: { field: "loss", from: name, to: "sparse_categorical_crossentropy" },
        };
      }
      if (recipe.task === "regression" && (name.includes("crossentropy") || name === "hinge")) {
        return {
          id: "loss-mismatch",
          severity: "error",
          confidence: 0.95,
          evidence: [`a regression trained with ${name}, a classification loss`],
          fix: { field: "loss", from: name, to: "mse" },
        };
      }
      if (recipe.task === "multilabel" && crossEntropy(recipe)) {
        return {
          id: "loss-mismatch",
          severity: "error",
          confidence: 0.9,
          evidence: [
            `several 0/1 targets per example trained with ${name}, which assumes exactly one`,
          ],
          fix: { field: "loss", from: name, to: "binary_crossentropy" },
        };
      }
      if (
        recipe.task === "classification" && (name === "mse" || name === "mae" || name === "hinge")
      ) {
        const grade = graded(e, 0.55, "warning");
        return {
          id: "loss-mismatch",
          ...grade,
          severity: grade.severity === "error"
            ? "error"
            : grade.severity === "note"
            ? "note"
            : "warning",
          evidence: withLearning(e, [
            `classification trained with ${name}: its gradient through a softmax or sigmoid vanishes ` +
            "when the output is confidently wrong, where cross-entropy's is largest",
          ]),
          fix: {
            field: "loss",
            from: name,
            to: k > 2 || lastUnits(recipe) > 1 ? fixCE : "binary_crossentropy",
          },
        };
      }
      return null;
    },
  },
  {
    id: "output-activation-mismatch",
    when: "preflight",
    measures: "the last activation against the task, the loss and the targets' range",
    threshold: "outputs that cannot express the targets (or a softmax over one unit)",
    fixes: "softmax (classes), sigmoid (0/1 outputs), linear (regression)",
    run(e) {
      const { recipe, data } = e;
      const last = outputActivation(recipe.model);
      const units = lastUnits(recipe);
      const index = lastDenseIndex(recipe);
      const field = recipe.model.at(-1)?.kind === "activation"
        ? `model[${recipe.model.length - 1}]`
        : `model[${index}].activation`;
      const k = classes(e);
      const { name, fromLogits } = recipe.loss;
      const finding = (
        severity: Severity,
        confidence: number,
        evidence: string[],
        to: unknown,
      ): Finding => ({
        id: "output-activation-mismatch",
        severity,
        confidence,
        evidence,
        fix: { field, from: last, to },
      });
      if (last === "softmax" && units === 1) {
        return finding("error", 0.95, [
          "a softmax over a single unit is exactly 1 for every input: the loss cannot move",
        ], "sigmoid");
      }
      if (recipe.task === "classification" && crossEntropy(recipe) && !fromLogits && units > 1) {
        if (["linear", "tanh", "elu", "selu", "leaky_relu"].includes(last)) {
          return finding("error", 0.85, [
            `cross-entropy on probabilities, but the last activation is ${last}: negative outputs are clipped ` +
            "to 1e-7 and stop passing gradient",
          ], "softmax");
        }
        if (last === "sigmoid" || last === "relu" || last === "softplus") {
          const grade = graded(e, 0.5, "warning");
          return finding(
            grade.severity,
            grade.confidence,
            withLearning(e, [
              `${k} exclusive classes but the outputs are ${last}, not a softmax: Keras divides them by their sum, ` +
              "so they train, but " + (last === "relu"
                ? "a unit at 0 is clipped and gets no gradient"
                : "not as probabilities"),
            ]),
            "softmax",
          );
        }
      }
      if (
        recipe.task === "classification" && name === "binary_crossentropy" && units === 1 &&
        !fromLogits
      ) {
        if (last !== "sigmoid") {
          return finding("error", 0.9, [
            `binary_crossentropy on probabilities, but the single output is ${last}: values outside [0, 1] are ` +
            "clipped, and the clipped part passes no gradient",
          ], "sigmoid");
        }
      }
      if (recipe.task === "multilabel" && last === "softmax") {
        return finding("error", 0.85, [
          "several labels can be 1 at once, but a softmax makes the outputs sum to 1",
        ], "sigmoid");
      }
      if (recipe.task === "regression" && data.targets) {
        const { min, max } = data.targets;
        const outside = (low: number, high: number) => min < low - 1e-6 || max > high + 1e-6;
        const bounded: Record<string, [number, number]> = {
          sigmoid: [0, 1],
          tanh: [-1, 1],
          softmax: [0, 1],
          relu: [0, Infinity],
          softplus: [0, Infinity],
        };
        const range = bounded[last];
        if (range && outside(range[0], range[1])) {
          return finding("error", 0.85, [
            `the targets range over [${f(min)}, ${f(max)}], but a ${last} output can only give ` +
            `[${range[0]}, ${range[1] === Infinity ? "∞" : range[1]}]`,
          ], "linear");
        }
      }
      if (fromLogits && (last === "softmax" || last === "sigmoid")) {
        const grade = graded(e, 0.6, "warning");
        return {
          id: "output-activation-mismatch",
          ...grade,
          evidence: withLearning(e, [
            `fromLogits is true, but the outputs already went through a ${last}: it is applied twice`,
          ]),
          fix: { field: "loss.fromLogits", from: true, to: false },
        };
      }
      return null;
    },
  },
  {
    id: "relu-before-softmax",
    when: "preflight",
    measures: "a non-negative activation on the logits that a softmax reads",
    threshold:
      "relu (or softplus) on the last dense layer before softmax or a from-logits cross-entropy",
    fixes: "a linear last layer",
    run(e) {
      const { recipe } = e;
      const index = lastDenseIndex(recipe);
      if (index < 0) return null;
      const dense = recipe.model[index];
      if (dense.kind !== "dense") return null;
      const after = recipe.model.slice(index + 1).find((l) => l.kind === "activation");
      const softmaxAfter = after?.kind === "activation" && after.activation.name === "softmax";
      const logitsLoss = recipe.loss.fromLogits && crossEntropy(recipe) && !after;
      const nonNegative = dense.activation.name === "relu" || dense.activation.name === "softplus";
      if (!nonNegative || !(softmaxAfter || logitsLoss)) return null;
      const evidence = [
        `model[${index}] applies ${dense.activation.name} to the logits: a class whose logit goes negative is clamped ` +
        "at 0, gets no gradient and can never win again",
      ];
      let severity: Severity = "warning", confidence = 0.6;
      const run = e.run;
      if (run && run.predictedClasses && classes(e) > 0) {
        const predicted = new Set(run.predictedClasses);
        const never = classes(e) - predicted.size;
        if (never > 0) {
          evidence.push(
            `after training, ${never} of ${
              classes(e)
            } classes are never predicted on a sample of the training rows`,
          );
          severity = "error";
          confidence = 0.85;
        }
      }
      if (didNotLearn(e)) {
        severity = "error";
        confidence = Math.max(confidence, 0.8);
      } else if (learnedWell(e) && severity !== "error") {
        severity = "warning";
        confidence = 0.5;
      }
      return {
        id: "relu-before-softmax",
        severity,
        confidence,
        evidence: withLearning(e, evidence),
        fix: { field: `model[${index}].activation`, from: dense.activation.name, to: "linear" },
        confirm: "train with a linear last layer and compare the validation accuracy",
      };
    },
  },
  {
    id: "zero-initialisation",
    when: "preflight",
    measures: "hidden layers whose weights all start equal",
    threshold: "kernelInitializer zeros, ones or constant on a layer that feeds another",
    fixes: "glorot_uniform (Keras' default)",
    run(e) {
      const { recipe } = e;
      const last = lastDenseIndex(recipe);
      for (const [i, layer] of recipe.model.entries()) {
        if (layer.kind !== "dense" || i === last) continue;
        const init = layer.kernelInitializer.name;
        if (init === "zeros" || init === "ones" || init === "constant") {
          const zero = init === "zeros" || layer.kernelInitializer.value === 0;
          return {
            id: "zero-initialisation",
            severity: "error",
            confidence: 0.9,
            evidence: withLearning(e, [
              `model[${i}] starts with every weight ${zero ? "0" : "equal"}: ` +
              (zero &&
                  ["relu", "linear", "tanh", "elu", "selu", "leaky_relu", "softplus"].includes(
                    layer.activation.name,
                  )
                ? "the gradients of the weights after it are exactly 0, so only the biases learn"
                : "every unit computes the same thing and gets the same gradient, so they never differ"),
            ]),
            fix: { field: `model[${i}].kernelInitializer`, from: init, to: "glorot_uniform" },
          };
        }
      }
      return null;
    },
  },
  {
    id: "bad-init-scale",
    when: "preflight",
    measures: "each layer's initial weight std against Glorot's √(2 / (fan_in + fan_out))",
    threshold:
      `more than ${INIT_TOO_LARGE}x, or under ${INIT_TOO_SMALL}x in a network of 3+ layers`,
    fixes: "glorot_uniform (he_normal for ReLU)",
    run(e) {
      const { recipe, data } = e;
      let fanIn = data.train.features;
      const denseCount = recipe.model.filter((l) => l.kind === "dense").length;
      for (const [i, layer] of recipe.model.entries()) {
        if (layer.kind !== "dense") continue;
        const { name, value } = layer.kernelInitializer;
        const std = name === "random_normal"
          ? value!
          : name === "random_uniform"
          ? value! / Math.sqrt(3)
          : undefined;
        const glorot = Math.sqrt(2 / (fanIn + layer.units));
        fanIn = layer.units;
        if (std === undefined || std === 0) continue;
        const ratio = std / glorot;
        const large = ratio > INIT_TOO_LARGE, small = ratio < INIT_TOO_SMALL && denseCount >= 3;
        if (!large && !small) continue;
        const start = large ? brokenAtStart(e) : undefined;
        const grade = start
          ? { severity: "error" as const, confidence: 0.85 }
          : graded(e, 0.6, "warning");
        const to = layer.activation.name === "relu" ? "he_normal" : "glorot_uniform";
        return {
          id: "bad-init-scale",
          ...grade,
          evidence: withLearning(e, [
            `model[${i}] draws weights with std ${f(std)}, ${f(ratio, 2)}x Glorot's ${
              f(glorot)
            } for its fans: ` +
            (large
              ? "pre-activations start huge (saturating or exploding)"
              : "signals shrink layer after layer"),
            ...(start ? [startLine(start)] : []),
          ]),
          fix: { field: `model[${i}].kernelInitializer`, from: `${name}:${value}`, to },
        };
      }
      return null;
    },
  },
  {
    id: "unnormalised-inputs",
    when: "preflight",
    measures: "the training inputs' range and the spread of the features' scales",
    threshold:
      `|x| above ${INPUT_SCALE_LIMIT}, or feature stds differing by over ${FEATURE_SCALE_RATIO}x`,
    fixes: `inputScale "unit" (images) or "standardise"`,
    run(e) {
      const { recipe, data } = e;
      if (recipe.data.inputScale !== "raw") return null;
      const { min, max, largestFeatureStd, smallestFeatureStd } = data.inputs;
      const magnitude = Math.max(Math.abs(min), Math.abs(max));
      const spread = smallestFeatureStd > 0 ? largestFeatureStd / smallestFeatureStd : Infinity;
      const large = magnitude > INPUT_SCALE_LIMIT;
      const uneven = spread > FEATURE_SCALE_RATIO && data.train.features > 1 &&
        smallestFeatureStd > 0;
      if (!large && !uneven) return null;
      const start = large ? brokenAtStart(e) : undefined;
      const grade = start
        ? { severity: "error" as const, confidence: 0.88 }
        : graded(e, large ? 0.7 : 0.55, "warning");
      const evidence = [
        large
          ? `the inputs range over [${f(min)}, ${
            f(max)
          }]: with default initialisation the first layer's ` +
            "pre-activations are that large too"
          : `feature standard deviations range from ${f(smallestFeatureStd)} to ${
            f(largestFeatureStd)
          } ` +
            `(${f(spread, 2)}x): one learning rate cannot suit them all`,
      ];
      const saturated = e.run?.layers.find((l) =>
        (l.saturatedFraction ?? 0) > SATURATED_WARNING || (l.deadFraction ?? 0) > DEAD_WARNING
      );
      if (start) evidence.push(startLine(start));
      else if (saturated) {
        evidence.push(
          saturated.saturatedFraction !== undefined
            ? `${pct(saturated.saturatedFraction)} of ${saturated.layer}'s outputs are saturated`
            : `${pct(saturated.deadFraction!)} of ${saturated.layer}'s units are dead`,
        );
      }
      return {
        id: "unnormalised-inputs",
        ...grade,
        confidence: grade.confidence + (saturated ? 0.05 : 0),
        evidence: withLearning(e, evidence),
        fix: {
          field: "data.inputScale",
          from: "raw",
          to: isImage(recipe) ? "unit" : "standardise",
        },
        confirm: "train on scaled inputs and compare the loss after the same budget",
      };
    },
  },
  {
    id: "unnormalised-targets",
    when: "preflight",
    measures: "the regression targets' mean and standard deviation",
    threshold: `std or |mean| above ${TARGET_SCALE_LIMIT}`,
    fixes: `targetScale "standardise"`,
    run(e) {
      const { recipe, data } = e;
      if (recipe.task !== "regression" || recipe.data.targetScale !== "raw" || !data.targets) {
        return null;
      }
      const { mean, std } = data.targets;
      if (std <= TARGET_SCALE_LIMIT && Math.abs(mean) <= TARGET_SCALE_LIMIT) return null;
      const grade = graded(e, 0.7, "warning");
      return {
        id: "unnormalised-targets",
        ...grade,
        evidence: withLearning(e, [
          `the targets have mean ${f(mean)} and std ${
            f(std)
          }: the output layer must reach them from weights ` +
          "initialised for unit scale, and the loss's gradients are that large",
        ]),
        fix: { field: "data.targetScale", from: "raw", to: "standardise" },
      };
    },
  },
  {
    id: "unshuffled-data",
    when: "preflight",
    measures:
      "the row order against Keras' validation split (the last rows) and per-epoch shuffling",
    threshold: "rows sorted by class with a validation split, or without shuffling",
    fixes: `order "shuffled" (or shuffle true)`,
    run(e) {
      const { recipe, data } = e;
      // The file's own order counts too: many CSVs (iris, most exports) are stored sorted.
      const sorted = recipe.data.order === "sorted-by-class" ||
        recipe.data.order === "as-stored" && storedSortedByClass(data);
      if (!sorted) return null;
      if (recipe.data.validationSplit > 0 && data.validation?.labels) {
        const inValidation = new Set(data.validation.labels);
        const inTraining = new Set(data.train.labels);
        const unseen = [...inValidation].filter((c) => !inTraining.has(c));
        return {
          id: "unshuffled-data",
          severity: "error",
          confidence: 0.9,
          evidence: [
            `the rows are sorted by class and Keras' validation_split takes the last ${
              pct(recipe.data.validationSplit)
            }: ` +
            `the validation rows hold classes ${[...inValidation].sort().join(", ")}` +
            (unseen.length > 0
              ? `, and class ${unseen.join(", ")} never appears in training`
              : inValidation.size === 1
              ? " only: the validation figures measure one class"
              : ""),
          ],
          fix: { field: "data.order", from: recipe.data.order, to: "shuffled" },
        };
      }
      if (!recipe.shuffle) {
        return {
          id: "unshuffled-data",
          severity: "error",
          confidence: 0.8,
          evidence: withLearning(e, [
            "the rows are sorted by class and not reshuffled: every epoch ends on a run of the last class, which the network then predicts",
          ]),
          fix: { field: "shuffle", from: false, to: true },
        };
      }
      return null;
    },
  },
  {
    id: "learning-rate-too-high",
    when: "live",
    measures: "non-finite losses, a loss that rises, update-to-weight ratios",
    threshold:
      `NaN, a final loss above the first, or updates over ${UPDATE_RATIO_HIGH} of the weights per step`,
    fixes: "the learning rate divided by 10",
    run(e) {
      const { recipe, run } = e;
      const lr = recipe.optimizer.learningRate;
      const high = recipe.optimizer.name === "sgd"
        ? lr >= SGD_RATE_HIGH
        : ADAPTIVE.has(recipe.optimizer.name) && lr >= ADAPTIVE_RATE_HIGH;
      const evidence: string[] = [];
      let confidence = 0;
      const losses = run ? run.epochs.map((x) => x.trainLoss) : e.history?.loss ?? [];
      const first = run?.initialLoss ?? losses[0];
      const nonFinite = run?.nonFinite ??
        (losses.some((l) => !Number.isFinite(l))
          ? {
            epoch: losses.findIndex((l) => !Number.isFinite(l)) + 1,
            step: NaN,
            where: "the loss",
          }
          : undefined);
      if (nonFinite) {
        evidence.push(
          `the loss became non-finite in epoch ${nonFinite.epoch}${
            Number.isFinite(nonFinite.step) ? `, step ${nonFinite.step}` : ""
          } (${nonFinite.where})`,
        );
        confidence = 0.7;
      }
      const final = losses.at(-1);
      if (
        final !== undefined && Number.isFinite(final) && first !== undefined && final > first * 1.05
      ) {
        evidence.push(`the training loss rose from ${f(first)} to ${f(final)}`);
        confidence = Math.max(confidence, 0.75);
      }
      // The last look's ratios say what the rate does now; the largest over the run (early steps
      // are the largest, on small starting weights) only count with the damage they left below.
      const ratios = (run?.layers ?? []).filter((l) =>
        l.updateRatio !== undefined && l.updateRatio > UPDATE_RATIO_HIGH
      );
      const largeSteps = (run?.layers ?? []).filter((l) =>
        (l.largestUpdateRatio ?? 0) > UPDATE_RATIO_HIGH
      );
      if (ratios.length > 0) {
        evidence.push(
          `each step changes ${
            ratios.map((l) => `${l.layer}'s weights by ${pct(l.updateRatio!)}`).join(", ")
          } (about 0.1% is healthy)`,
        );
        confidence = Math.max(confidence, 0.55);
      }
      // ReLU units alive at the start and dead at the end, after steps that moved the weights by
      // over UPDATE_RATIO_HIGH: the large updates pushed them below zero for every input.
      // Likewise sigmoid/tanh units pushed into saturation.
      const atStart = (layer: string) => run!.initialLayers.find((i) => i.layer === layer);
      const killed = (run?.layers ?? []).filter((l) =>
        (l.deadFraction ?? 0) >= DEAD_ERROR && (atStart(l.layer)?.deadFraction ?? 0) < DEAD_WARNING
      );
      const pushed = (run?.layers ?? []).filter((l) =>
        (l.saturatedFraction ?? 0) >= SATURATED_WARNING &&
        (atStart(l.layer)?.saturatedFraction ?? 0) < SATURATED_WARNING / 2
      );
      const killedByRate = killed.length + pushed.length > 0 && largeSteps.length > 0 &&
        didNotLearn(e);
      if (killedByRate) {
        evidence.push(
          `steps changed ${
            largeSteps.map((l) => `${l.layer}'s weights by up to ${pct(l.largestUpdateRatio!)}`)
              .join(", ")
          }, and ` +
            [
              ...killed.map((l) => `${pct(l.deadFraction!)} of ${l.layer}'s units`),
              ...pushed.map((l) => `${pct(l.saturatedFraction!)} of ${l.layer}'s outputs`),
            ].join(", ") +
            " that were alive before the first step are dead or saturated after them",
        );
        confidence = Math.max(confidence, 0.8);
      }
      // A rate no one uses on purpose, steps measured that large, and nothing learned.
      const stuckWithLargeSteps = high && largeSteps.length > 0 && didNotLearn(e);
      if (stuckWithLargeSteps && !killedByRate) {
        evidence.push(
          `steps changed ${
            largeSteps.map((l) => `${l.layer}'s weights by up to ${pct(l.largestUpdateRatio!)}`)
              .join(", ")
          } and the loss ended where predicting the class frequencies would`,
        );
        confidence = Math.max(confidence, 0.6);
      }
      if (confidence === 0) return null;
      if (high) {
        evidence.unshift(`learning rate ${lr} for ${recipe.optimizer.name}`);
        confidence += 0.15;
      }
      const collapsed = nonFinite !== undefined || killedByRate || stuckWithLargeSteps ||
        (final !== undefined && first !== undefined && final > first * 1.05);
      return {
        id: "learning-rate-too-high",
        severity: collapsed ? "error" : "warning",
        confidence: Math.min(0.95, confidence),
        evidence,
        fix: { field: "optimizer.learningRate", from: lr, to: Number((lr / 10).toPrecision(3)) },
        confirm:
          "train with the learning rate divided by 10 and compare the loss after the same budget",
      };
    },
  },
  {
    id: "learning-rate-too-low",
    when: "live",
    measures:
      "how far the loss moved from its start toward the prior-only loss, and the update ratios",
    threshold:
      `a loss that stays within 5% of its start with a learning rate under ${SGD_RATE_LOW} (SGD) or ${ADAPTIVE_RATE_LOW} (adaptive), or updates under ${UPDATE_RATIO_LOW}`,
    fixes: "the learning rate multiplied by 10 (or Keras' default)",
    run(e) {
      const { recipe, run } = e;
      const lr = recipe.optimizer.learningRate;
      const adaptive = ADAPTIVE.has(recipe.optimizer.name);
      const low = adaptive ? lr <= ADAPTIVE_RATE_LOW : lr <= SGD_RATE_LOW;
      const losses = run ? run.epochs.map((x) => x.trainLoss) : e.history?.loss ?? [];
      const first = run?.initialLoss ?? losses[0], final = losses.at(-1);
      if (first === undefined || final === undefined || !Number.isFinite(final)) {
        return low ? lowRateNote(lr, recipe) : null;
      }
      const moved = (first - final) / Math.max(first, 1e-12);
      const tiny = (run?.layers ?? []).filter((l) =>
        l.updateRatio !== undefined && l.updateRatio < UPDATE_RATIO_LOW
      );
      // Tiny updates from a normal learning rate have another cause (dead or saturated units, zero
      // gradients): only a rate below the optimiser's Keras default is blamed for them.
      const belowDefault = lr < DEFAULT_LEARNING_RATE[recipe.optimizer.name];
      const otherCause = brokenAtStart(e) !== undefined ||
        (run?.layers ?? []).some((l) =>
          (l.deadFraction ?? 0) >= DEAD_ERROR || (l.saturatedFraction ?? 0) >= SATURATED_WARNING
        );
      if (!low && !(tiny.length > 0 && belowDefault && !otherCause)) return null;
      if (moved > 0.05 && !low) return null;
      const evidence = [
        `learning rate ${lr} for ${recipe.optimizer.name}`,
        `the loss moved ${pct(moved)} from ${f(first)} to ${f(final)}`,
      ];
      if (tiny.length > 0) {
        evidence.push(
          `updates change the weights by ${
            tiny.map((l) => `${l.layer} ${l.updateRatio!.toExponential(1)}`).join(", ")
          } per step`,
        );
      }
      const stuck = moved < 0.05 || didNotLearn(e);
      return {
        id: "learning-rate-too-low",
        severity: stuck ? "error" : "warning",
        confidence: stuck ? 0.85 : 0.5,
        evidence: withLearning(e, evidence),
        fix: {
          field: "optimizer.learningRate",
          from: lr,
          to: Number((lr * (stuck ? 100 : 10)).toPrecision(3)),
        },
        confirm:
          "train with a 10-100x larger learning rate and compare the loss after the same budget",
      };
    },
  },
  {
    id: "optimizer-choice",
    when: "live",
    measures: "an optimiser whose tf.keras 2 default makes it crawl, when the run did not learn",
    threshold:
      "adadelta or adagrad at learning rate <= 0.01, or plain SGD through 4+ sigmoid/tanh layers",
    fixes: "adam at 0.001",
    run(e) {
      const { recipe } = e;
      const { name, learningRate } = recipe.optimizer;
      const squashing =
        recipe.model.filter((l) =>
          l.kind === "dense" && (l.activation.name === "sigmoid" || l.activation.name === "tanh")
        ).length;
      const slowDefault = (name === "adadelta" || name === "adagrad") && learningRate <= 0.01;
      const deepPlainSgd = name === "sgd" && recipe.optimizer.momentum === 0 && squashing >= 4;
      if (!slowDefault && !deepPlainSgd) return null;
      const grade = graded(e, 0.6, "warning");
      if (grade.severity === "note") return null;
      return {
        id: "optimizer-choice",
        ...grade,
        evidence: withLearning(e, [
          slowDefault
            ? `${name} at learning rate ${learningRate}: tf.keras 2 lowered ${name}'s default to 0.001, ` +
              (name === "adadelta"
                ? "1000x below the 1.0 of the paper and of Keras 1"
                : "where it barely moves")
            : `plain SGD through ${squashing} sigmoid/tanh layers, whose gradients shrink layer by layer`,
        ]),
        fix: {
          field: "optimizer",
          from: { name, learningRate },
          to: { name: "adam", learningRate: 0.001 },
        },
      };
    },
  },
  {
    id: "batch-size",
    when: "preflight",
    measures: "the number of updates the recipe makes",
    threshold: `fewer than ${FEW_UPDATES} updates because each batch is the whole set`,
    fixes: "batchSize 32 (Keras' default)",
    run(e) {
      const { recipe, data } = e;
      const perEpoch = Math.ceil(data.train.count / recipe.batchSize);
      const updates = perEpoch * recipe.epochs;
      if (recipe.batchSize < data.train.count / 4 || updates >= FEW_UPDATES) return null;
      // A handful of updates that did not get the loss to half its prior-only value: the batch
      // size, not the epochs, is what to change first. (An accuracy well above chance after ten
      // steps on an easy set does not clear it: the loss says how far it still has to go.)
      const unfinished = learningRatio(e) > LEARNED_WELL;
      const graded_ = graded(e, 0.75, "warning");
      if (graded_.severity === "note" && !unfinished) return null;
      const grade = e.run && unfinished
        ? { severity: "error" as const, confidence: 0.75 }
        : graded_;
      return {
        id: "batch-size",
        ...grade,
        evidence: withLearning(e, [
          `batches of ${recipe.batchSize} on ${data.train.count} rows: ${perEpoch} update${
            perEpoch === 1 ? "" : "s"
          } ` +
          `per epoch, ${updates} in all`,
        ]),
        fix: { field: "batchSize", from: recipe.batchSize, to: 32 },
      };
    },
  },
  {
    id: "too-few-epochs",
    when: "live",
    measures: "the training loss's fall over the last epoch, when the recipe's epochs all ran",
    threshold: `still falling by over ${pct(STILL_FALLING)} per epoch, validation not rising`,
    fixes: "more epochs",
    run(e) {
      const { recipe, run } = e;
      const losses = run ? run.epochs.map((x) => x.trainLoss) : e.history?.loss ?? [];
      if (run?.stoppedByBudget) return null;
      if (losses.length === 0 || losses.some((l) => !Number.isFinite(l))) return null;
      const first = run?.initialLoss ?? losses[0];
      const last = losses.at(-1)!, previous = losses.length >= 2 ? losses.at(-2)! : first;
      const fall = (previous - last) / Math.max(previous, 1e-12);
      const val = run ? run.epochs.map((x) => x.validationLoss) : e.history?.val_loss;
      const valRising = val && val.length >= 2 && (val.at(-1) ?? 0) > (val.at(-2) ?? Infinity);
      if (fall < STILL_FALLING || valRising) return null;
      const ratio = learningRatio(e);
      const far = ratio > 0.6 || didNotLearn(e);
      // With the whole set in a batch, the batch size is the first thing to change.
      const fullBatches = recipe.batchSize >= e.data.train.count / 4;
      const updates = run?.stepsRun ??
        recipe.epochs * Math.ceil(e.data.train.count / recipe.batchSize);
      return {
        id: "too-few-epochs",
        // With the whole set in each of a handful of batches, batch-size names the fault.
        severity: far && recipe.epochs <= 10 && !(fullBatches && updates < FEW_UPDATES)
          ? "error"
          : "warning",
        confidence: fullBatches ? 0.5 : far ? 0.7 : 0.45,
        evidence: withLearning(e, [
          `the loss fell ${
            pct(fall)
          } in the last of ${losses.length} epochs (${updates} updates) and was still falling`,
        ]),
        fix: { field: "epochs", from: recipe.epochs, to: Math.max(recipe.epochs * 5, 20) },
      };
    },
  },
  {
    id: "dead-relu",
    when: "live",
    measures: "ReLU units that are never positive on a sample of the training rows",
    threshold: `${pct(DEAD_WARNING)} of a layer (warning), ${
      pct(DEAD_ERROR)
    } with no learning (error)`,
    fixes: "leaky_relu, or a smaller learning rate",
    run(e) {
      const layers = (e.run?.layers ?? []).filter((l) =>
        (l.deadFraction ?? 0) >= DEAD_WARNING && l.kind === "relu"
      );
      if (layers.length === 0) return null;
      const worst = layers.reduce((
        a,
        b,
      ) => ((a.deadFraction ?? 0) >= (b.deadFraction ?? 0) ? a : b));
      const error = (worst.deadFraction ?? 0) >= DEAD_ERROR && didNotLearn(e);
      const start = brokenAtStart(e);
      const deadFromStart = start?.what === "dead" && start.layer === worst.layer;
      const index = denseIndexBefore(e.recipe, worst.layer);
      return {
        id: "dead-relu",
        severity: error || deadFromStart ? "error" : "warning",
        confidence: deadFromStart ? 0.8 : error ? 0.75 : 0.45,
        evidence: withLearning(e, [
          ...layers.map((l) => `${pct(l.deadFraction!)} of ${l.layer}'s units are never positive`),
          ...(deadFromStart ? [startLine(start!)] : []),
        ]),
        fix: index >= 0
          ? { field: `model[${index}].activation`, from: "relu", to: "leaky_relu" }
          : undefined,
      };
    },
  },
  {
    id: "saturated-activations",
    when: "live",
    measures: "sigmoid/tanh outputs within 2% of their bounds",
    threshold: `${pct(SATURATED_WARNING)} of a layer's outputs`,
    fixes: "scaled inputs, Glorot initialisation, or relu",
    run(e) {
      const layers = (e.run?.layers ?? []).filter((l) =>
        (l.saturatedFraction ?? 0) >= SATURATED_WARNING
      );
      if (layers.length === 0) return null;
      const start = brokenAtStart(e);
      const fromStart = start?.what === "saturated";
      const error = didNotLearn(e) || fromStart;
      const index = denseIndexBefore(e.recipe, layers[0].layer);
      return {
        id: "saturated-activations",
        severity: error ? "error" : "warning",
        // Inputs or initial weights that are too large take the credit when they are flagged (0.85+).
        confidence: fromStart ? 0.8 : error ? 0.6 : 0.4,
        evidence: withLearning(e, [
          ...layers.map((l) =>
            `${pct(l.saturatedFraction!)} of ${l.layer}'s outputs are saturated`
          ),
          ...(fromStart ? [startLine(start!)] : []),
        ]),
        fix: index >= 0
          ? {
            field: `model[${index}].activation`,
            from: (e.recipe.model[index] as { activation: { name: string } }).activation.name,
            to: "relu",
          }
          : undefined,
      };
    },
  },
  {
    id: "vanishing-gradients",
    when: "live",
    measures: "the first layer's weight-gradient norm over the last layer's",
    threshold: `below ${VANISHING_RATIO}`,
    fixes: "relu hidden layers with he_normal",
    run(e) {
      const linear = (e.run?.layers ?? []).filter((l) =>
        l.kind === "linear" && l.lastGradientNorm !== undefined
      );
      if (linear.length < 3) return null;
      const first = linear[0].lastGradientNorm!, last = linear.at(-1)!.lastGradientNorm!;
      if (!(last > 0) || first / last >= VANISHING_RATIO) return null;
      const error = didNotLearn(e);
      return {
        id: "vanishing-gradients",
        severity: error ? "error" : "warning",
        confidence: error ? 0.65 : 0.4,
        evidence: withLearning(e, [
          `${linear[0].layer}'s gradient norm is ${f(first)}, ${
            (first / last).toExponential(1)
          } of ${linear.at(-1)!.layer}'s ${f(last)}`,
        ]),
        fix: {
          field: "model[0].activation",
          from: (e.recipe.model[0] as { activation?: { name: string } }).activation?.name,
          to: "relu",
        },
      };
    },
  },
  {
    id: "exploding-gradients",
    when: "live",
    measures: "the largest weight-gradient norm seen over the first",
    threshold: `above ${EXPLODING_RATIO}x, or non-finite`,
    fixes: "clipnorm 1.0 (and a smaller learning rate)",
    run(e) {
      const linear = (e.run?.layers ?? []).filter((l) =>
        l.kind === "linear" && l.firstGradientNorm !== undefined
      );
      const exploded = linear.filter((l) =>
        !Number.isFinite(l.largestGradientNorm!) ||
        l.largestGradientNorm! > EXPLODING_RATIO * Math.max(l.firstGradientNorm!, 1e-12)
      );
      if (exploded.length === 0) return null;
      // Gradients that grow while the loss falls well are a network leaving a flat start, not an
      // explosion: without a collapse or a failure to learn it is only a note.
      const severity: Severity = e.run?.nonFinite ? "error" : learnedWell(e) ? "note" : "warning";
      return {
        id: "exploding-gradients",
        severity,
        confidence: severity === "note" ? 0.3 : 0.55,
        evidence: exploded.map((l) =>
          `${l.layer}'s gradient norm grew from ${f(l.firstGradientNorm!)} to ${
            f(l.largestGradientNorm!)
          }`
        ),
        fix: { field: "optimizer.clipnorm", from: e.recipe.optimizer.clipnorm ?? null, to: 1 },
      };
    },
  },
  {
    id: "insufficient-capacity",
    when: "live",
    measures:
      "a network with no non-linearity before its output, or a layer narrower than the classes, when it did not learn",
    threshold:
      "a linear network (or a bottleneck) whose training loss stays above half the prior-only loss",
    fixes: "a hidden layer of 64 relu units",
    run(e) {
      const { recipe } = e;
      const dense = recipe.model.map((l, i) => [l, i] as const).filter(([l]) => l.kind === "dense");
      const hidden = dense.slice(0, -1);
      const linear = hidden.every(([l]) => l.kind === "dense" && l.activation.name === "linear") &&
        !recipe.model.some((l, i) => l.kind === "activation" && i < (dense.at(-1)?.[1] ?? 0));
      const k = Math.max(classes(e), 2);
      const bottleneck = hidden.find(([l]) => l.kind === "dense" && l.units < Math.min(k, 4));
      if (!linear && !bottleneck) return null;
      const ratio = learningRatio(e);
      const nonlinearData = ["circles", "moons", "xor", "spiral", "sine"].includes(
        recipe.data.synthetic?.kind ?? "",
      );
      // Hidden layers without an activation (Keras' Dense default) add nothing to one linear map:
      // almost always a forgotten activation, so it is reported even when the loss fell.
      const linearHidden = linear && hidden.length > 0;
      const ran = e.run !== undefined || e.history !== undefined;
      if (!(ratio > LEARNED_WELL) && ran && !linearHidden && !(linear && nonlinearData)) {
        return null;
      }
      if (!ran && !nonlinearData && !linearHidden) return null;
      return {
        id: "insufficient-capacity",
        severity: ratio >= DID_NOT_LEARN || nonlinearData && linear
          ? "error"
          : ratio > LEARNED_WELL || !ran
          ? "warning"
          : "note",
        confidence: linear ? 0.65 : 0.5,
        evidence: withLearning(e, [
          linear
            ? `no non-linear activation before the output: the whole network is one linear map` +
              (nonlinearData
                ? `, and "${recipe.data.synthetic!.kind}" is not linearly separable`
                : "")
            : `model[${bottleneck![1]}] has ${
              (bottleneck![0] as { units: number }).units
            } units, fewer than the problem needs`,
        ]),
        fix: linearHidden
          ? { field: `model[${hidden[0][1]}].activation`, from: "linear", to: "relu" }
          : linear
          ? {
            field: "model",
            from: `${hidden.length} hidden layers, linear`,
            to: `insert {"dense": 64, "activation": "relu"} before the output`,
          }
          : {
            field: `model[${bottleneck![1]}].dense`,
            from: (bottleneck![0] as { units: number }).units,
            to: 64,
          },
      };
    },
  },
  {
    id: "overfitting",
    when: "curves",
    measures: "validation loss against its best epoch, and the train-validation accuracy gap",
    threshold:
      `validation loss ${VALIDATION_RISE}x its best after it, or a gap over ${ACCURACY_GAP}`,
    fixes: "fewer epochs (early stopping), dropout, or more data",
    run(e) {
      const val = e.run
        ? e.run.epochs.map((x) => x.validationLoss ?? NaN)
        : e.history?.val_loss ?? [];
      const trainAcc = e.run
        ? e.run.epochs.map((x) => x.trainArgmaxAccuracy ?? NaN)
        : e.history?.accuracy ?? [];
      const valAcc = e.run
        ? e.run.epochs.map((x) => x.validationArgmaxAccuracy ?? NaN)
        : e.history?.val_accuracy ?? [];
      const finite = val.filter(Number.isFinite);
      if (finite.length < 3) return null;
      const best = Math.min(...finite), bestEpoch = val.indexOf(best) + 1, last = finite.at(-1)!;
      const rising = last > best * VALIDATION_RISE && bestEpoch < val.length;
      const gap = (trainAcc.at(-1) ?? NaN) - (valAcc.at(-1) ?? NaN);
      if (!rising && !(gap > ACCURACY_GAP)) return null;
      const evidence = [];
      if (rising) {
        evidence.push(
          `the validation loss was lowest at epoch ${bestEpoch} (${f(best)}) and rose to ${
            f(last)
          } by epoch ${val.length}`,
        );
      }
      if (gap > ACCURACY_GAP) {
        evidence.push(
          `training accuracy ${f(trainAcc.at(-1)!)} against validation ${f(valAcc.at(-1)!)}`,
        );
      }
      return {
        id: "overfitting",
        severity: "warning",
        confidence: rising && gap > ACCURACY_GAP ? 0.75 : 0.55,
        evidence,
        fix: { field: "epochs", from: e.recipe.epochs, to: bestEpoch },
      };
    },
  },
  {
    id: "metric-bug",
    when: "curves",
    measures:
      "Keras' accuracy against the argmax accuracy, and accuracy against what the loss allows",
    threshold: "a difference over 0.1, or an accuracy below 1 − L/ln 2 when L < 0.9 ln 2",
    fixes: "the loss whose accuracy is the argmax one",
    run(e) {
      const last = e.run?.epochs.at(-1);
      if (
        last?.trainAccuracy !== undefined && last.trainArgmaxAccuracy !== undefined &&
        Math.abs(last.trainAccuracy - last.trainArgmaxAccuracy) > 0.1
      ) {
        return {
          id: "metric-bug",
          severity: "warning",
          confidence: 0.6,
          evidence: [
            `Keras' "accuracy" reads ${f(last.trainAccuracy)} while the argmax accuracy is ${
              f(last.trainArgmaxAccuracy)
            }`,
          ],
          fix: {
            field: "loss",
            from: e.recipe.loss.name,
            to: e.recipe.data.labels === "one-hot"
              ? "categorical_crossentropy"
              : "sparse_categorical_crossentropy",
          },
        };
      }
      const loss = e.history?.loss, accuracy = e.history?.accuracy;
      if (!loss || !accuracy || loss.length < 2 || !crossEntropy(e.recipe)) return null;
      const k = Math.max(classes(e), 2);
      const bound = (l: number) => 1 - l / Math.LN2;
      const violations = loss.map((
        l,
        i,
      ) => (l < 0.9 * Math.LN2 && accuracy[i] < bound(l) - 0.01 ? i : -1)).filter((i) => i >= 0);
      const flatAtChance = accuracy.every((a) => Math.abs(a - 1 / k) < 0.005) &&
        loss[0] - loss.at(-1)! > 0.1 * loss[0];
      if (violations.length === 0 && !flatAtChance) return null;
      const i = violations[0] ?? loss.length - 1;
      return {
        id: "metric-bug",
        severity: "error",
        confidence: 0.8,
        evidence: [
          flatAtChance
            ? `the accuracy stays at 1/${k} = ${f(1 / k)} while the loss falls from ${
              f(loss[0])
            } to ${f(loss.at(-1)!)}`
            : `at epoch ${i + 1} the loss is ${f(loss[i])}, so at least ${
              f(bound(loss[i]))
            } of the examples must be right, but the accuracy reads ${f(accuracy[i])}`,
        ],
        confirm: "compute the accuracy from argmax(predictions) == labels on the same rows",
      };
    },
  },
  {
    id: "evaluated-on-training-data",
    when: "curves",
    measures: "validation figures identical to the training figures",
    threshold: "equal to 6 digits at every epoch",
    fixes: "a held-out validation split",
    run(e) {
      const { loss, val_loss } = e.history ?? {};
      if (!loss || !val_loss || loss.length < 2) return null;
      const same = loss.every((l, i) =>
        Math.abs(l - (val_loss[i] ?? NaN)) < 1e-6 * Math.max(1, Math.abs(l))
      );
      if (!same) return null;
      return {
        id: "evaluated-on-training-data",
        severity: "warning",
        confidence: 0.7,
        evidence: [
          "val_loss equals loss at every epoch: the validation rows are the training rows",
        ],
        fix: { field: "data.validationSplit", from: e.recipe.data.validationSplit, to: 0.2 },
      };
    },
  },
  {
    id: "labels-depend-on-model",
    when: "curves",
    measures: "a loss driven to 0 while the accuracy stays at chance",
    threshold: "loss under 0.05 with accuracy within 0.05 of 1/K",
    fixes: "the true labels as the loss's target",
    run(e) {
      const { loss, accuracy } = e.history ?? {};
      const k = Math.max(classes(e), 2);
      if (!loss || !accuracy || loss.length === 0) return null;
      if (!(loss.at(-1)! < 0.05 && Math.abs(accuracy.at(-1)! - 1 / k) < 0.05)) return null;
      return {
        id: "labels-depend-on-model",
        severity: "error",
        confidence: 0.85,
        evidence: [
          `the loss reached ${f(loss.at(-1)!)} while the accuracy is ${
            f(accuracy.at(-1)!)
          }, chance for ${k} classes: the loss is being met without the labels`,
        ],
        confirm:
          "check what the loss is given as its labels: the true labels, not the model's own output",
      };
    },
  },
  {
    id: "softmax-overflow",
    when: "live",
    measures:
      "the largest logit against float32's ln(FLT_MAX) = 88.72 when the loss went non-finite",
    threshold: "a logit above 88.72 at the collapse",
    fixes: "a log-sum-exp softmax cross-entropy (fromLogits true)",
    run(e) {
      const run = e.run;
      if (!run?.nonFinite) return null;
      const before = run.epochs.filter((x) => Number.isFinite(x.largestLogit)).at(-1);
      if (!before || before.largestLogit < FLOAT32_EXP_LIMIT) return null;
      return {
        id: "softmax-overflow",
        severity: "error",
        confidence: 0.6,
        evidence: [
          `the largest logit reached ${
            f(before.largestLogit)
          } > ln(FLT_MAX) = 88.72 at epoch ${before.epoch}, before the loss became non-finite at epoch ${run.nonFinite.epoch}`,
        ],
        fix: { field: "loss.fromLogits", from: e.recipe.loss.fromLogits, to: true },
      };
    },
  },
  {
    id: "unshuffled-data",
    when: "curves",
    measures: "a validation (or training) metric that repeats a fixed cycle",
    threshold: "the same values, to 4 digits, with a period of 2 or more, seen at least twice over",
    fixes: "reshuffled batches, and the whole validation set evaluated",
    run(e) {
      const series: [string, number[] | undefined][] = [
        ["val_accuracy", e.history?.val_accuracy],
        ["val_loss", e.history?.val_loss],
        ["accuracy", e.history?.accuracy],
      ];
      for (const [name, values] of series) {
        const period = repeatingPeriod(values ?? []);
        if (period === undefined) continue;
        const cycle = values!.slice(0, period).map((v) => f(v, 4)).join(", ");
        return {
          id: "unshuffled-data",
          severity: "error",
          confidence: 0.8,
          evidence: [
            `${name} repeats the cycle [${cycle}] (period ${period}) over ${
              values!.length
            } values: ` +
            "the same fixed batches are being measured again and again, not the model's progress",
          ],
          fix: { field: "shuffle", from: e.recipe.shuffle, to: true },
          confirm: "evaluate on the whole held-out set, with batches reshuffled every epoch",
        };
      }
      return null;
    },
  },
];

/**
 * Whether the training rows, then the validation rows (Keras' split keeps the file's order), come
 * in one contiguous run per class: sorted or grouped by class. A shuffled set of n rows has about
 * n (1 − Σ p²) class changes; a grouped one has K − 1.
 */
export function storedSortedByClass(data: RecipeData): boolean {
  const labels = [...(data.train.labels ?? []), ...(data.validation?.labels ?? [])];
  const k = new Set(labels).size;
  if (k < 2 || labels.length < 4 * k) return false;
  let changes = 0;
  for (let i = 1; i < labels.length; i++) if (labels[i] !== labels[i - 1]) changes++;
  return changes <= k - 1;
}

/** The shortest period (2 or more) that the series repeats exactly, at least twice over. */
export function repeatingPeriod(values: number[]): number | undefined {
  const rounded = values.map((v) => Number(v.toPrecision(4)));
  for (let period = 2; period * 2 <= rounded.length; period++) {
    const cycle = rounded.slice(0, period);
    if (new Set(cycle).size < 2) continue; // a constant is a plateau, not a pattern
    if (rounded.every((v, i) => v === cycle[i % period])) return period;
  }
  return undefined;
}

function denseIndexBefore(recipe: Recipe, layerName: string): number {
  // Layer names are kind + position among that kind ("relu2"); the dense before the n-th ReLU.
  const match = layerName.match(/^([a-z-]+)(\d+)$/);
  if (!match) return -1;
  const [, kind, nth] = match;
  let seen = 0;
  for (const [i, layer] of recipe.model.entries()) {
    const name = layer.kind === "dense"
      ? layer.activation.name
      : layer.kind === "activation"
      ? layer.activation.name
      : "";
    const asKind = name === "leaky_relu" ? "leaky-relu" : name;
    if (asKind === kind && ++seen === Number(nth)) {
      if (layer.kind === "dense") return i;
      for (let j = i - 1; j >= 0; j--) if (recipe.model[j].kind === "dense") return j;
    }
  }
  return -1;
}

function lowRateNote(lr: number, recipe: Recipe): Finding {
  return {
    id: "learning-rate-too-low",
    severity: "warning",
    confidence: 0.4,
    evidence: [`learning rate ${lr} for ${recipe.optimizer.name} is far below the usual range`],
    fix: { field: "optimizer.learningRate", from: lr, to: Number((lr * 100).toPrecision(3)) },
  };
}

const SEVERITY_RANK: Record<Severity, number> = { error: 2, warning: 1, note: 0 };

/** Findings ranked: errors first, then by confidence; one finding per id. */
export function rank(findings: Finding[]): Finding[] {
  const sorted = [...findings].sort((a, b) =>
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.confidence - a.confidence
  );
  // Two checks may name the same fault (from the setup and from the curves): keep the stronger.
  const seen = new Set<FindingId>();
  return sorted.filter((finding) => !seen.has(finding.id) && seen.add(finding.id));
}

/** Run every check whose inputs are present. */
export function diagnose(evidence: Evidence): { findings: Finding[]; checked: string[] } {
  const findings: Finding[] = [];
  const checked: string[] = [];
  for (const check of CHECKS) {
    if (check.when === "live" && !evidence.run && !evidence.history) continue;
    if (check.when === "curves" && !evidence.run && !evidence.history) continue;
    checked.push(`${check.id}: ${check.measures} (${check.threshold})`);
    const finding = check.run(evidence);
    if (finding) findings.push({ ...finding, confidence: Number(finding.confidence.toFixed(2)) });
  }
  return { findings: rank(findings), checked };
}
