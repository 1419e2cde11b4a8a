/**
 * The recipe: a training setup described without code, in Keras' vocabulary (the format is
 * ../shared/RECIPE.md, v1). `parseRecipe` checks a recipe completely before anything runs and fills
 * in Keras 2 (tf.keras) defaults; every problem is an error that names the field, the value and
 * what is allowed. Unknown fields are errors, not ignored: a typo such as "learning_rate" would
 * otherwise train at the default and hide the very bug the learner came with.
 */

/** Thrown for an invalid recipe; `field` is the path, e.g. "model[2].activation". */
export class RecipeError extends Error {
  override name = "RecipeError";
  constructor(readonly field: string, message: string) {
    super(`recipe: ${field}: ${message}`);
  }
}

// The vocabularies: one list each, the types derived from them.
export const TASKS = ["classification", "multilabel", "regression"] as const;
export const SOURCES = ["mnist", "fashion-mnist", "csv", "synthetic"] as const;
export const SYNTHETIC_KINDS = [
  "blobs",
  "circles",
  "moons",
  "xor",
  "spiral",
  "linear",
  "sine",
] as const;
export const ORDERS = ["as-stored", "shuffled", "sorted-by-class"] as const;
export const INPUT_SCALES = ["raw", "unit", "standardise", "minmax"] as const;
export const TARGET_SCALES = ["raw", "standardise"] as const;
export const LABEL_FORMATS = ["index", "one-hot", "multi-hot"] as const;
export const ACTIVATIONS = [
  "linear",
  "relu",
  "leaky_relu",
  "elu",
  "selu",
  "sigmoid",
  "tanh",
  "softmax",
  "softplus",
] as const;
export const INITIALIZERS = [
  "zeros",
  "ones",
  "constant",
  "random_normal",
  "random_uniform",
  "glorot_uniform",
  "glorot_normal",
  "he_normal",
  "he_uniform",
  "lecun_normal",
] as const;
export const LOSSES = [
  "categorical_crossentropy",
  "sparse_categorical_crossentropy",
  "binary_crossentropy",
  "mse",
  "mae",
  "hinge",
] as const;
/** Keras' long names, read as the short ones. */
const LOSS_ALIASES: Record<string, LossName> = {
  mean_squared_error: "mse",
  mean_absolute_error: "mae",
};
export const OPTIMIZERS = [
  "sgd",
  "rmsprop",
  "adam",
  "adamax",
  "nadam",
  "adagrad",
  "adadelta",
] as const;
export const METRICS = ["accuracy", "mae", "mse"] as const;

export type Task = typeof TASKS[number];
export type Source = typeof SOURCES[number];
export type SyntheticKind = typeof SYNTHETIC_KINDS[number];
export type Order = typeof ORDERS[number];
export type InputScale = typeof INPUT_SCALES[number];
export type TargetScale = typeof TARGET_SCALES[number];
export type LabelFormat = typeof LABEL_FORMATS[number];
export type ActivationName = typeof ACTIVATIONS[number];
export type InitializerName = typeof INITIALIZERS[number];
export type LossName = typeof LOSSES[number];
export type OptimizerName = typeof OPTIMIZERS[number];
export type Metric = typeof METRICS[number];

/** An activation with its parameter: leaky_relu's slope (Keras' default 0.3). */
export interface Activation {
  name: ActivationName;
  alpha?: number;
}

/** An initialiser with its parameter: constant's value, random_normal's std, random_uniform's limit. */
export interface Initializer {
  name: InitializerName;
  value?: number;
}

export interface Regularizer {
  kind: "l1" | "l2";
  lambda: number;
}

export type LayerSpec =
  | {
    kind: "dense";
    units: number;
    activation: Activation;
    kernelInitializer: Initializer;
    biasInitializer: Initializer;
    kernelRegularizer?: Regularizer;
  }
  | { kind: "dropout"; rate: number }
  | { kind: "batchNormalization"; momentum: number; epsilon: number }
  | { kind: "activation"; activation: Activation };

export interface SyntheticSpec {
  kind: SyntheticKind;
  count: number;
  features: number;
  classes: number;
  outputs: number;
  noise: number;
  scale: number;
  offset: number;
  /** `linear`: a vector (one output) or features x outputs, row-major. */
  weights?: number[] | number[][];
  bias?: number | number[];
}

export interface DataSpec {
  source: Source;
  classes?: number[];
  trainCount?: number;
  testCount?: number;
  validationSplit: number;
  testSplit: number;
  order: Order;
  inputScale: InputScale;
  targetScale: TargetScale;
  labels: LabelFormat;
  /** CSV: relative to the recipe file. */
  path?: string;
  header: boolean;
  /** CSV: column names or indices; undefined = the last column. */
  target?: (string | number)[];
  delimiter: string;
  synthetic?: SyntheticSpec;
}

export interface OptimizerSpec {
  name: OptimizerName;
  learningRate: number;
  momentum: number;
  nesterov: boolean;
  rho: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  decay: number;
  clipnorm?: number;
  clipvalue?: number;
}

export interface LossSpec {
  name: LossName;
  fromLogits: boolean;
}

export interface Recipe {
  name?: string;
  notes?: string;
  task: Task;
  data: DataSpec;
  model: LayerSpec[];
  loss: LossSpec;
  metrics: Metric[];
  optimizer: OptimizerSpec;
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  seed: number;
}

/** tf.keras 2 defaults for each optimiser's learning rate. */
export const DEFAULT_LEARNING_RATE: Record<OptimizerName, number> = {
  sgd: 0.01,
  rmsprop: 0.001,
  adam: 0.001,
  adamax: 0.001,
  nadam: 0.001,
  adagrad: 0.001,
  adadelta: 0.001,
};

// Reading helpers: each names the field and says what is allowed. -----------------------------

type Json = Record<string, unknown>;

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return String(value);
}

function object(value: unknown, field: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RecipeError(field, `expected an object, got ${describe(value)}`);
  }
  return value as Json;
}

function allowOnly(record: Json, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      const near = allowed.find((name) => normalised(name) === normalised(key)) ??
        allowed.find((name) => editDistance(normalised(name), normalised(key)) <= 2);
      throw new RecipeError(
        field === "" ? key : `${field}.${key}`,
        `unknown field${near ? ` (did you mean "${near}"?)` : ""}; allowed here: ${
          allowed.join(", ")
        }`,
      );
    }
  }
}

const normalised = (name: string) => name.toLowerCase().replace(/[_-]/g, "");

/** Levenshtein distance, for "did you mean": "epoch" is 1 from "epochs". */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw new RecipeError(field, `${describe(value)} is not one of ${allowed.join(", ")}`);
  }
  return value as T;
}

function number(
  value: unknown,
  field: string,
  { min, max, integer = false, exclusiveMin = false }: {
    min?: number;
    max?: number;
    integer?: boolean;
    exclusiveMin?: boolean;
  } = {},
): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    const hint = typeof value === "string" && Number.isFinite(Number(value))
      ? ` (write it as a number, without quotes: ${Number(value)})`
      : "";
    throw new RecipeError(field, `expected a number, got ${describe(value)}${hint}`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new RecipeError(field, `expected a whole number, got ${value}`);
  }
  if (min !== undefined && (exclusiveMin ? value <= min : value < min)) {
    throw new RecipeError(
      field,
      `must be ${exclusiveMin ? "greater than" : "at least"} ${min}, got ${value}`,
    );
  }
  if (max !== undefined && value > max) {
    throw new RecipeError(field, `must be at most ${max}, got ${value}`);
  }
  return value;
}

function boolean(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") {
    throw new RecipeError(field, `expected true or false, got ${describe(value)}`);
  }
  return value;
}

function text(value: unknown, field: string): string {
  if (typeof value !== "string") {
    throw new RecipeError(field, `expected text, got ${describe(value)}`);
  }
  return value;
}

// The parts of a recipe. -----------------------------------------------------------------------

/** "relu", "leaky_relu" or "leaky_relu:0.1". */
export function parseActivation(value: unknown, field: string): Activation {
  const name = text(value, field);
  const [base, parameter, ...rest] = name.split(":");
  const activation = oneOf(base, field, ACTIVATIONS);
  if (rest.length > 0 || (parameter !== undefined && activation !== "leaky_relu")) {
    throw new RecipeError(
      field,
      `${describe(value)}: only leaky_relu takes a parameter (leaky_relu:0.1)`,
    );
  }
  if (activation === "leaky_relu") {
    const alpha = parameter === undefined ? 0.3 : Number(parameter);
    if (!Number.isFinite(alpha) || alpha < 0) {
      throw new RecipeError(field, `leaky_relu's slope must be a number >= 0, got "${parameter}"`);
    }
    return { name: activation, alpha };
  }
  return { name: activation };
}

const INITIALIZER_PARAMETER: Partial<Record<InitializerName, string>> = {
  constant: "the value (constant:0.1)",
  random_normal: "the standard deviation (random_normal:0.05)",
  random_uniform: "the limit L of U(-L, L) (random_uniform:0.05)",
};
/** Keras' defaults where the parameter is left out: RandomNormal(stddev=0.05), RandomUniform(-0.05, 0.05). */
const INITIALIZER_DEFAULT: Partial<Record<InitializerName, number>> = {
  random_normal: 0.05,
  random_uniform: 0.05,
};

/** "glorot_uniform", "random_normal:0.01", "constant:0.1". */
export function parseInitializer(value: unknown, field: string): Initializer {
  const name = text(value, field);
  const [base, parameter, ...rest] = name.split(":");
  const initializer = oneOf(base, field, INITIALIZERS);
  const takes = INITIALIZER_PARAMETER[initializer];
  if (rest.length > 0 || (parameter !== undefined && takes === undefined)) {
    throw new RecipeError(
      field,
      `${describe(value)}: only constant, random_normal and random_uniform take a parameter`,
    );
  }
  if (takes === undefined) return { name: initializer };
  if (parameter === undefined) {
    const fallback = INITIALIZER_DEFAULT[initializer];
    if (fallback === undefined) throw new RecipeError(field, `constant needs ${takes}`);
    return { name: initializer, value: fallback };
  }
  const parsed = Number(parameter);
  if (!Number.isFinite(parsed) || (initializer !== "constant" && parsed < 0)) {
    throw new RecipeError(field, `${describe(value)}: ${takes} must be a number`);
  }
  return { name: initializer, value: parsed };
}

/** "l1:0.01" or "l2:0.001". */
export function parseRegularizer(value: unknown, field: string): Regularizer {
  const name = text(value, field);
  const match = name.match(/^(l1|l2):(.+)$/);
  const lambda = match ? Number(match[2]) : NaN;
  if (!match || !Number.isFinite(lambda) || lambda < 0) {
    throw new RecipeError(field, `${describe(value)}: expected "l1:λ" or "l2:λ" with λ >= 0`);
  }
  return { kind: match[1] as "l1" | "l2", lambda };
}

function parseLayer(value: unknown, field: string): LayerSpec {
  if (typeof value === "string") {
    return { kind: "activation", activation: parseActivation(value, field) };
  }
  const layer = object(value, field);
  if ("dense" in layer) {
    allowOnly(layer, field, [
      "dense",
      "activation",
      "kernelInitializer",
      "biasInitializer",
      "kernelRegularizer",
    ]);
    return {
      kind: "dense",
      units: number(layer.dense, `${field}.dense`, { min: 1, integer: true }),
      activation: parseActivation(layer.activation ?? "linear", `${field}.activation`),
      kernelInitializer: parseInitializer(
        layer.kernelInitializer ?? "glorot_uniform",
        `${field}.kernelInitializer`,
      ),
      biasInitializer: parseInitializer(
        layer.biasInitializer ?? "zeros",
        `${field}.biasInitializer`,
      ),
      ...(layer.kernelRegularizer === undefined ? {} : {
        kernelRegularizer: parseRegularizer(
          layer.kernelRegularizer,
          `${field}.kernelRegularizer`,
        ),
      }),
    };
  }
  if ("dropout" in layer) {
    allowOnly(layer, field, ["dropout"]);
    return {
      kind: "dropout",
      rate: number(layer.dropout, `${field}.dropout`, { min: 0, max: 0.999 }),
    };
  }
  if ("batchNormalization" in layer) {
    allowOnly(layer, field, ["batchNormalization"]);
    const options = object(layer.batchNormalization, `${field}.batchNormalization`);
    allowOnly(options, `${field}.batchNormalization`, ["momentum", "epsilon"]);
    return {
      kind: "batchNormalization",
      momentum: number(options.momentum ?? 0.99, `${field}.batchNormalization.momentum`, {
        min: 0,
        max: 1,
      }),
      epsilon: number(options.epsilon ?? 1e-3, `${field}.batchNormalization.epsilon`, {
        min: 0,
        exclusiveMin: true,
      }),
    };
  }
  if ("activation" in layer) {
    allowOnly(layer, field, ["activation"]);
    return {
      kind: "activation",
      activation: parseActivation(layer.activation, `${field}.activation`),
    };
  }
  throw new RecipeError(
    field,
    `a layer is {"dense": N, ...}, {"dropout": p}, {"batchNormalization": {}} or an activation name; got keys ${
      Object.keys(layer).join(", ") || "(none)"
    }`,
  );
}

function parseSynthetic(value: unknown, field: string, task: Task): SyntheticSpec {
  const record = object(value, field);
  allowOnly(record, field, [
    "kind",
    "count",
    "features",
    "classes",
    "outputs",
    "noise",
    "scale",
    "offset",
    "weights",
    "bias",
  ]);
  const kind = oneOf(record.kind, `${field}.kind`, SYNTHETIC_KINDS);
  const regression = kind === "linear" || kind === "sine";
  if (regression !== (task === "regression")) {
    throw new RecipeError(
      `${field}.kind`,
      `"${kind}" is a ${regression ? "regression" : "classification"} set, but task is "${task}"`,
    );
  }
  const twoDimensional = ["circles", "moons", "xor", "spiral"].includes(kind);
  const features = number(record.features ?? (kind === "sine" ? 1 : 2), `${field}.features`, {
    min: 1,
    integer: true,
  });
  if (twoDimensional && features !== 2) {
    throw new RecipeError(`${field}.features`, `"${kind}" has 2 features, got ${features}`);
  }
  if (kind === "sine" && features !== 1) {
    throw new RecipeError(`${field}.features`, `"sine" has 1 feature, got ${features}`);
  }
  const classes = number(
    record.classes ?? (kind === "spiral" || kind === "blobs" ? 3 : 2),
    `${field}.classes`,
    {
      min: 2,
      max: 256,
      integer: true,
    },
  );
  if (["circles", "moons", "xor"].includes(kind) && classes !== 2) {
    throw new RecipeError(`${field}.classes`, `"${kind}" has 2 classes, got ${classes}`);
  }
  const outputs = number(record.outputs ?? 1, `${field}.outputs`, { min: 1, integer: true });
  if (kind === "sine" && outputs !== 1) {
    throw new RecipeError(`${field}.outputs`, `"sine" has 1 output`);
  }
  const spec: SyntheticSpec = {
    kind,
    count: number(record.count ?? 1000, `${field}.count`, {
      min: 2,
      max: 10_000_000,
      integer: true,
    }),
    features,
    classes,
    outputs,
    noise: number(record.noise ?? (regression ? 0.1 : twoDimensional ? 0.1 : 1), `${field}.noise`, {
      min: 0,
    }),
    scale: number(record.scale ?? 1, `${field}.scale`),
    offset: number(record.offset ?? 0, `${field}.offset`),
  };
  if (record.weights !== undefined) {
    if (kind !== "linear") throw new RecipeError(`${field}.weights`, `only "linear" takes weights`);
    const weights = record.weights;
    const isMatrix = Array.isArray(weights) && weights.every(Array.isArray);
    const flat = isMatrix ? (weights as unknown[][]).flat() : weights;
    if (!Array.isArray(flat) || !flat.every((w) => typeof w === "number" && Number.isFinite(w))) {
      throw new RecipeError(`${field}.weights`, "expected a list of numbers, or a list of lists");
    }
    if (flat.length !== features * outputs) {
      throw new RecipeError(
        `${field}.weights`,
        `expected ${
          features * outputs
        } numbers (features ${features} x outputs ${outputs}), got ${flat.length}`,
      );
    }
    spec.weights = weights as number[] | number[][];
  }
  if (record.bias !== undefined) {
    if (kind !== "linear") throw new RecipeError(`${field}.bias`, `only "linear" takes a bias`);
    const bias = record.bias;
    const list = typeof bias === "number" ? [bias] : bias;
    if (!Array.isArray(list) || !list.every((b) => typeof b === "number" && Number.isFinite(b))) {
      throw new RecipeError(`${field}.bias`, "expected a number or a list of numbers");
    }
    if (list.length !== outputs) {
      throw new RecipeError(
        `${field}.bias`,
        `expected ${outputs} numbers (one per output), got ${list.length}`,
      );
    }
    spec.bias = bias as number | number[];
  }
  return spec;
}

function parseData(value: unknown, task: Task): DataSpec {
  const field = "data";
  const record = object(value, field);
  allowOnly(record, field, [
    "source",
    "classes",
    "trainCount",
    "testCount",
    "validationSplit",
    "testSplit",
    "order",
    "inputScale",
    "targetScale",
    "labels",
    "path",
    "header",
    "target",
    "delimiter",
    "kind",
    "count",
    "features",
    "outputs",
    "noise",
    "scale",
    "offset",
    "weights",
    "bias",
  ]);
  const source = oneOf(record.source, "data.source", SOURCES);
  const image = source === "mnist" || source === "fashion-mnist";
  const syntheticKeys = [
    "kind",
    "count",
    "features",
    "outputs",
    "noise",
    "scale",
    "offset",
    "weights",
    "bias",
  ];
  for (const key of syntheticKeys) {
    if (source !== "synthetic" && key in record) {
      throw new RecipeError(
        `data.${key}`,
        `only a synthetic source takes "${key}" (source is "${source}")`,
      );
    }
  }
  for (const key of ["path", "header", "target", "delimiter"]) {
    if (source !== "csv" && key in record) {
      throw new RecipeError(
        `data.${key}`,
        `only a csv source takes "${key}" (source is "${source}")`,
      );
    }
  }
  if (!image && "classes" in record && source !== "synthetic") {
    throw new RecipeError(
      "data.classes",
      `a class subset applies to image sources, not "${source}"`,
    );
  }
  if (image && task === "regression") {
    throw new RecipeError(
      "task",
      `"${source}" is a classification set; task "regression" does not fit it`,
    );
  }
  if ("testSplit" in record && image) {
    throw new RecipeError(
      "data.testSplit",
      `image sources have their own test set; testSplit is for csv and synthetic`,
    );
  }
  let classes: number[] | undefined;
  if (image && record.classes !== undefined) {
    if (!Array.isArray(record.classes) || record.classes.length < 2) {
      throw new RecipeError("data.classes", "expected a list of at least two class indices (0-9)");
    }
    classes = record.classes.map((c, i) =>
      number(c, `data.classes[${i}]`, { min: 0, max: 9, integer: true })
    );
    if (new Set(classes).size !== classes.length) {
      throw new RecipeError("data.classes", `a class is listed twice: ${JSON.stringify(classes)}`);
    }
  }
  const labelDefault: LabelFormat = task === "multilabel" ? "multi-hot" : "index";
  const labels = oneOf(record.labels ?? labelDefault, "data.labels", LABEL_FORMATS);
  if (task === "multilabel" && labels !== "multi-hot") {
    throw new RecipeError("data.labels", `a multilabel task has multi-hot labels, got "${labels}"`);
  }
  if (task !== "multilabel" && labels === "multi-hot") {
    throw new RecipeError(
      "data.labels",
      `multi-hot labels belong to task "multilabel", not "${task}"`,
    );
  }
  const spec: DataSpec = {
    source,
    validationSplit: number(record.validationSplit ?? 0, "data.validationSplit", {
      min: 0,
      max: 0.95,
    }),
    testSplit: number(record.testSplit ?? 0, "data.testSplit", { min: 0, max: 0.95 }),
    order: oneOf(record.order ?? "as-stored", "data.order", ORDERS),
    inputScale: oneOf(record.inputScale ?? "raw", "data.inputScale", INPUT_SCALES),
    targetScale: oneOf(record.targetScale ?? "raw", "data.targetScale", TARGET_SCALES),
    labels,
    header: true,
    delimiter: ",",
    ...(classes ? { classes } : {}),
  };
  if (spec.validationSplit + spec.testSplit >= 1) {
    throw new RecipeError(
      "data.validationSplit",
      "validationSplit + testSplit must leave training rows",
    );
  }
  if (record.targetScale !== undefined && task !== "regression") {
    throw new RecipeError("data.targetScale", `targetScale is for regression, task is "${task}"`);
  }
  if (record.order === "sorted-by-class" && task === "regression") {
    throw new RecipeError("data.order", "sorted-by-class needs classes; this task is regression");
  }
  if (record.trainCount !== undefined) {
    spec.trainCount = number(record.trainCount, "data.trainCount", { min: 1, integer: true });
  }
  if (record.testCount !== undefined) {
    spec.testCount = number(record.testCount, "data.testCount", { min: 1, integer: true });
  }
  if (source === "csv") {
    spec.path = text(record.path, "data.path");
    if (record.header !== undefined) spec.header = boolean(record.header, "data.header");
    if (record.delimiter !== undefined) {
      spec.delimiter = text(record.delimiter, "data.delimiter");
      if (spec.delimiter.length !== 1) {
        throw new RecipeError(
          "data.delimiter",
          `expected one character, got ${describe(record.delimiter)}`,
        );
      }
    }
    if (record.target !== undefined) {
      const targets = Array.isArray(record.target) ? record.target : [record.target];
      if (targets.length === 0) {
        throw new RecipeError("data.target", "an empty list names no column");
      }
      spec.target = targets.map((t, i) => {
        const where = Array.isArray(record.target) ? `data.target[${i}]` : "data.target";
        if (typeof t === "number") return number(t, where, { min: 0, integer: true });
        if (typeof t === "string" && t !== "") return t;
        throw new RecipeError(
          where,
          `expected a column name or a column index, got ${describe(t)}`,
        );
      });
    }
  }
  if (source === "synthetic") {
    const syntheticRecord: Json = {};
    for (const key of syntheticKeys) if (key in record) syntheticRecord[key] = record[key];
    if ("classes" in record) syntheticRecord.classes = record.classes;
    spec.synthetic = parseSynthetic(syntheticRecord, "data", task);
  }
  return spec;
}

function parseLoss(value: unknown): LossSpec {
  if (typeof value === "string") {
    const name = LOSS_ALIASES[value] ??
      oneOf(value, "loss", [...LOSSES, ...Object.keys(LOSS_ALIASES)]);
    return { name: name as LossName, fromLogits: false };
  }
  const record = object(value, "loss");
  allowOnly(record, "loss", ["name", "fromLogits"]);
  const raw = text(record.name, "loss.name");
  const name = LOSS_ALIASES[raw] ??
    oneOf(raw, "loss.name", [...LOSSES, ...Object.keys(LOSS_ALIASES)]);
  const fromLogits = record.fromLogits === undefined
    ? false
    : boolean(record.fromLogits, "loss.fromLogits");
  if (fromLogits && !(name as string).includes("crossentropy")) {
    throw new RecipeError(
      "loss.fromLogits",
      `only the cross-entropies take fromLogits, not "${name}"`,
    );
  }
  return { name: name as LossName, fromLogits };
}

/** Which fields each optimiser takes besides the common ones, as tf.keras 2 names them. */
const OPTIMIZER_FIELDS: Record<OptimizerName, string[]> = {
  sgd: ["momentum", "nesterov"],
  rmsprop: ["rho", "momentum"],
  adam: ["beta1", "beta2"],
  adamax: ["beta1", "beta2"],
  nadam: ["beta1", "beta2"],
  adagrad: [],
  adadelta: ["rho"],
};

function parseOptimizer(value: unknown): OptimizerSpec {
  const record = typeof value === "string" ? { name: value } : object(value, "optimizer");
  const name = oneOf(record.name, "optimizer.name", OPTIMIZERS);
  const own = OPTIMIZER_FIELDS[name];
  allowOnly(record, "optimizer", [
    "name",
    "learningRate",
    "epsilon",
    "decay",
    "clipnorm",
    "clipvalue",
    ...own,
  ]);
  const spec: OptimizerSpec = {
    name,
    learningRate: number(
      record.learningRate ?? DEFAULT_LEARNING_RATE[name],
      "optimizer.learningRate",
      {
        min: 0,
        exclusiveMin: true,
      },
    ),
    momentum: number(record.momentum ?? 0, "optimizer.momentum", { min: 0, max: 1 }),
    nesterov: record.nesterov === undefined
      ? false
      : boolean(record.nesterov, "optimizer.nesterov"),
    rho: number(record.rho ?? (name === "adadelta" ? 0.95 : 0.9), "optimizer.rho", {
      min: 0,
      max: 1,
    }),
    beta1: number(record.beta1 ?? 0.9, "optimizer.beta1", { min: 0, max: 1 }),
    beta2: number(record.beta2 ?? 0.999, "optimizer.beta2", { min: 0, max: 1 }),
    epsilon: number(record.epsilon ?? 1e-7, "optimizer.epsilon", { min: 0, exclusiveMin: true }),
    decay: number(record.decay ?? 0, "optimizer.decay", { min: 0 }),
  };
  if (record.clipnorm !== undefined) {
    spec.clipnorm = number(record.clipnorm, "optimizer.clipnorm", { min: 0, exclusiveMin: true });
  }
  if (record.clipvalue !== undefined) {
    spec.clipvalue = number(record.clipvalue, "optimizer.clipvalue", {
      min: 0,
      exclusiveMin: true,
    });
  }
  if (spec.nesterov && spec.momentum === 0) {
    throw new RecipeError("optimizer.nesterov", "Nesterov momentum needs a momentum above 0");
  }
  return spec;
}

/**
 * A complete, checked recipe with every default filled in, from parsed JSON.
 *
 * ```ts
 * import { parseRecipe } from "./recipe.ts";
 * const recipe = parseRecipe({
 *   task: "classification",
 *   data: { source: "synthetic", kind: "blobs", count: 200, classes: 3 },
 *   model: [{ dense: 16, activation: "relu" }, { dense: 3, activation: "softmax" }],
 *   loss: "sparse_categorical_crossentropy",
 *   optimizer: { name: "adam" },
 * });
 * console.assert(recipe.optimizer.learningRate === 0.001 && recipe.batchSize === 32);
 * ```
 */
export function parseRecipe(value: unknown): Recipe {
  const record = object(value, "(the recipe)");
  allowOnly(record, "", [
    "name",
    "notes",
    "task",
    "data",
    "model",
    "loss",
    "metrics",
    "optimizer",
    "epochs",
    "batchSize",
    "shuffle",
    "seed",
  ]);
  for (const required of ["task", "data", "model", "loss", "optimizer"]) {
    if (!(required in record)) throw new RecipeError(required, "missing (it has no default)");
  }
  const task = oneOf(record.task, "task", TASKS);
  if (!Array.isArray(record.model) || record.model.length === 0) {
    throw new RecipeError("model", "expected a non-empty list of layers");
  }
  const model = record.model.map((layer, i) => parseLayer(layer, `model[${i}]`));
  if (!model.some((layer) => layer.kind === "dense")) {
    throw new RecipeError("model", "has no dense layer, so nothing to train");
  }
  const metrics = record.metrics === undefined ? [] : record.metrics;
  if (!Array.isArray(metrics)) {
    throw new RecipeError("metrics", `expected a list, got ${describe(metrics)}`);
  }
  const recipe: Recipe = {
    ...(record.name === undefined ? {} : { name: text(record.name, "name") }),
    ...(record.notes === undefined ? {} : { notes: text(record.notes, "notes") }),
    task,
    data: parseData(record.data, task),
    model,
    loss: parseLoss(record.loss),
    metrics: metrics.map((m, i) => {
      const name = m === "acc"
        ? "accuracy"
        : m === "mean_absolute_error"
        ? "mae"
        : m === "mean_squared_error"
        ? "mse"
        : m;
      return oneOf(name, `metrics[${i}]`, METRICS);
    }),
    optimizer: parseOptimizer(record.optimizer),
    epochs: number(record.epochs ?? 1, "epochs", { min: 1, integer: true }),
    batchSize: number(record.batchSize ?? 32, "batchSize", { min: 1, integer: true }),
    shuffle: record.shuffle === undefined ? true : boolean(record.shuffle, "shuffle"),
    seed: number(record.seed ?? 0, "seed", { min: 0, max: 2 ** 32 - 1, integer: true }),
  };
  return recipe;
}

/** A recipe file: JSON parsed (with the line of a syntax error) and checked. */
export async function readRecipe(path: string): Promise<Recipe> {
  let source: string;
  try {
    source = await Deno.readTextFile(path);
  } catch (error) {
    throw new RecipeError("(file)", `cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (error) {
    throw new RecipeError("(file)", `${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseRecipe(json);
}
