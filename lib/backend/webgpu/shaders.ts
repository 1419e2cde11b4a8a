/**
 * WGSL for every kernel except matmul (see matmul.ts). Each function returns
 * the source of one compute shader; the backend compiles each once and caches
 * the pipeline under the op's name.
 *
 * Conventions: binding 0 is a uniform `Params` struct (u32 fields first, then
 * f32 fields, as UniformArena writes them), the inputs follow, the output is
 * last. Element-wise kernels run 256 threads per workgroup over a 2-D grid of
 * workgroups (a grid dimension holds at most 65,535), row kernels run one
 * workgroup of 64 threads per row.
 *
 * NaN and infinity are tested on the bits, not with x != x, so that no
 * compiler may assume them away; where WGSL leaves a builtin undefined for
 * them (min, max, clamp, log of 0, sqrt of a negative), the kernel says what
 * JavaScript's Math gives, because the CPU backend is the reference.
 */
import type { BinaryOp, Reduction, UnaryOp } from "../backend.ts";

export const ELEMENTWISE_WORKGROUP = 256;
export const ROW_WORKGROUP = 64;

const specialValues = /* wgsl */ `
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isNonFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }
fn nan() -> f32 { return bitcast<f32>(0x7fc00000u); }
fn infinity() -> f32 { return bitcast<f32>(0x7f800000u); }
// Math.max: NaN if either is NaN.
fn maxOrNan(a: f32, b: f32) -> f32 {
  if (isNan(a) || isNan(b)) { return nan(); }
  return max(a, b);
}
`;

/** The flat index of an element-wise thread in a 2-D grid of 256-thread workgroups. */
const flatIndex = /* wgsl */ `
fn flatIndex(workgroup: vec3u, local: vec3u, groups: vec3u) -> u32 {
  return (workgroup.y * groups.x + workgroup.x) * ${ELEMENTWISE_WORKGROUP}u + local.x;
}
`;

/** The row of a row kernel: one workgroup per row, over a 2-D grid. */
const rowIndex = /* wgsl */ `
fn rowIndex(workgroup: vec3u, groups: vec3u) -> u32 {
  return workgroup.y * groups.x + workgroup.x;
}
`;

const elementwiseEntry = /* wgsl */ `@compute @workgroup_size(${ELEMENTWISE_WORKGROUP})
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(num_workgroups) groups: vec3u) {
  let i = flatIndex(workgroup, local, groups);`;

const rowEntry = /* wgsl */ `@compute @workgroup_size(${ROW_WORKGROUP})
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(num_workgroups) groups: vec3u) {
  let row = rowIndex(workgroup, groups);
  if (row >= params.rows) { return; }
  let lane = local.x;`;

// Element-wise -------------------------------------------------------------------

/** The body of f(x, a, b) for each unary op, matching cpu.ts's Math-based functions. */
const unaryBodies: Record<UnaryOp, string> = {
  neg: "return -x;",
  exp: "if (isNan(x)) { return x; } return exp(x);",
  log: `if (isNan(x) || x < 0.0) { return nan(); }
  if (x == 0.0) { return -infinity(); }
  if (isNonFinite(x)) { return x; }
  return log(x);`,
  sqrt: `if (isNan(x) || x < 0.0) { return nan(); }
  if (isNonFinite(x)) { return x; }
  return sqrt(x);`,
  square: "return x * x;",
  abs: "return abs(x);",
  scale: "return x * a;",
  addScalar: "return x + a;",
  clip: "if (isNan(x)) { return x; } return min(max(x, a), b);",
  // NaN passes through, as on the CPU: a ReLU must not hide a NaN from the non-finite check.
  relu: "return select(0.0, x, x > 0.0 || isNan(x));",
  leakyRelu: "return select(a * x, x, x > 0.0 || isNan(x));",
  // As on the CPU, exp only of -|x|, so that it never overflows.
  sigmoid: `if (isNan(x)) { return x; }
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);`,
  // tanh(15) is 1 in float32; clamping keeps implementations that compute
  // tanh from exp(2x) away from Infinity / Infinity.
  tanh: "if (isNan(x)) { return x; } return tanh(clamp(x, -15.0, 15.0));",
  step: "if (isNan(x)) { return x; } return select(0.0, 1.0, x > 0.0);",
  leakyStep: "if (isNan(x)) { return x; } return select(a, 1.0, x > 0.0);",
  isNonFinite: "return select(0.0, 1.0, isNonFinite(x));",
};

export function unaryShader(op: UnaryOp): string {
  return /* wgsl */ `
struct Params { count: u32, a: f32, b: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
${specialValues}${flatIndex}
fn f(x: f32, a: f32, b: f32) -> f32 {
  ${unaryBodies[op]}
}
${elementwiseEntry}
  if (i >= params.count) { return; }
  output[i] = f(input[i], params.a, params.b);
}`;
}

const binaryBodies: Record<BinaryOp, string> = {
  add: "return x + y;",
  sub: "return x - y;",
  mul: "return x * y;",
  div: "return x / y;",
  equal: "return select(0.0, 1.0, x == y);",
  greater: "return select(0.0, 1.0, x > y);",
  maximum: "return maxOrNan(x, y);",
};

/** How b is indexed: same shape, b[i % period] (row or scalar), or b[i / period] (column). */
export const Broadcast = { same: 0, modulo: 1, divide: 2 } as const;

export function binaryShader(op: BinaryOp): string {
  return /* wgsl */ `
struct Params { count: u32, broadcast: u32, period: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> left: array<f32>;
@group(0) @binding(2) var<storage, read> right: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
${specialValues}${flatIndex}
fn f(x: f32, y: f32) -> f32 {
  ${binaryBodies[op]}
}
${elementwiseEntry}
  if (i >= params.count) { return; }
  var j = i;
  if (params.broadcast == ${Broadcast.modulo}u) { j = i % params.period; }
  else if (params.broadcast == ${Broadcast.divide}u) { j = i / params.period; }
  output[i] = f(left[i], right[j]);
}`;
}

// Reductions ---------------------------------------------------------------------

const reductionStart: Record<Reduction, string> = {
  sum: "0.0",
  mean: "0.0",
  max: "-infinity()",
};

function combine(op: Reduction, acc: string, value: string): string {
  return op === "max" ? `maxOrNan(${acc}, ${value})` : `${acc} + ${value}`;
}

/** Tree reduction of partial[0..size) into partial[0], in a workgroup of `size` threads. */
function treeReduce(op: Reduction, size: number, lane: string): string {
  return /* wgsl */ `
  workgroupBarrier();
  for (var width = ${size / 2}u; width > 0u; width = width / 2u) {
    if (${lane} < width) {
      partial[${lane}] = ${combine(op, `partial[${lane}]`, `partial[${lane} + width]`)};
    }
    workgroupBarrier();
  }`;
}

/**
 * Everything into one value, by one workgroup of 64 threads striding over the
 * input (small: llvmpipe compiles shaders with large workgroup arrays slowly).
 */
export function reduceAllShader(op: Reduction): string {
  const size = ROW_WORKGROUP;
  return /* wgsl */ `
struct Params { count: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
var<workgroup> partial: array<f32, ${size}>;
${specialValues}
@compute @workgroup_size(${size})
fn main(@builtin(local_invocation_id) local: vec3u) {
  let lane = local.x;
  var acc = ${reductionStart[op]};
  for (var i = lane; i < params.count; i += ${size}u) {
    acc = ${combine(op, "acc", "input[i]")};
  }
  partial[lane] = acc;
  ${treeReduce(op, size, "lane")}
  if (lane == 0u) {
    output[0] = partial[0]${op === "mean" ? " / f32(params.count)" : ""};
  }
}`;
}

/** Down each column (axis 0): one thread per column, reading rows in order. */
export function reduceRowsShader(op: Reduction): string {
  return /* wgsl */ `
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
${specialValues}${flatIndex}
${elementwiseEntry}
  if (i >= params.cols) { return; }
  var acc = ${reductionStart[op]};
  for (var r = 0u; r < params.rows; r++) {
    acc = ${combine(op, "acc", "input[r * params.cols + i]")};
  }
  output[i] = acc${op === "mean" ? " / f32(params.rows)" : ""};
}`;
}

/** Along each row (axis 1): one workgroup per row. */
export function reduceColumnsShader(op: Reduction): string {
  return /* wgsl */ `
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
var<workgroup> partial: array<f32, ${ROW_WORKGROUP}>;
${specialValues}${rowIndex}
${rowEntry}
  let base = row * params.cols;
  var acc = ${reductionStart[op]};
  for (var c = lane; c < params.cols; c += ${ROW_WORKGROUP}u) {
    acc = ${combine(op, "acc", "input[base + c]")};
  }
  partial[lane] = acc;
  ${treeReduce(op, ROW_WORKGROUP, "lane")}
  if (lane == 0u) {
    output[row] = partial[0]${op === "mean" ? " / f32(params.cols)" : ""};
  }
}`;
}

/**
 * The first index of each row's largest value, exactly as the CPU's strict ">"
 * scan finds it: NaNs are never chosen, except that a NaN in column 0 is never
 * replaced (nothing is greater than NaN), so such a row gives 0.
 */
export function argmaxRowsShader(): string {
  return /* wgsl */ `
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
var<workgroup> bestValue: array<f32, ${ROW_WORKGROUP}>;
var<workgroup> bestIndex: array<u32, ${ROW_WORKGROUP}>;
${specialValues}${rowIndex}
const NONE = 0xffffffffu;
// Is (value b at index j) better than (value a at index i)? Larger wins, then the lower index.
fn better(a: f32, i: u32, b: f32, j: u32) -> bool {
  if (j == NONE) { return false; }
  if (i == NONE) { return true; }
  return b > a || (b == a && j < i);
}
${rowEntry}
  let base = row * params.cols;
  var value = 0.0;
  var index = NONE;
  for (var c = lane; c < params.cols; c += ${ROW_WORKGROUP}u) {
    let x = input[base + c];
    if (!isNan(x) && better(value, index, x, c)) { value = x; index = c; }
  }
  bestValue[lane] = value;
  bestIndex[lane] = index;
  workgroupBarrier();
  for (var width = ${ROW_WORKGROUP / 2}u; width > 0u; width = width / 2u) {
    if (lane < width && better(bestValue[lane], bestIndex[lane], bestValue[lane + width], bestIndex[lane + width])) {
      bestValue[lane] = bestValue[lane + width];
      bestIndex[lane] = bestIndex[lane + width];
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    var answer = bestIndex[0];
    if (answer == NONE || (params.cols > 0u && isNan(input[base]))) { answer = 0u; }
    output[row] = f32(answer);
  }
}`;
}

/**
 * Row-wise softmax or log-softmax, with the row's maximum subtracted before exp:
 *   softmax:     e^{x − max} / Σ e^{x − max}
 *   logSoftmax:  (x − max) − log Σ e^{x − max}
 * (for logSoftmax, max + log Σ would lose digits in float32 when max is large).
 */
export function softmaxShader(log: boolean): string {
  const sumTree = treeReduce("sum", ROW_WORKGROUP, "lane");
  const maxTree = treeReduce("max", ROW_WORKGROUP, "lane");
  return /* wgsl */ `
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
var<workgroup> partial: array<f32, ${ROW_WORKGROUP}>;
${specialValues}${rowIndex}
${rowEntry}
  let base = row * params.cols;
  var acc = -infinity();
  for (var c = lane; c < params.cols; c += ${ROW_WORKGROUP}u) { acc = maxOrNan(acc, input[base + c]); }
  partial[lane] = acc;
  ${maxTree}
  let rowMax = partial[0];
  workgroupBarrier();
  acc = 0.0;
  for (var c = lane; c < params.cols; c += ${ROW_WORKGROUP}u) { acc += exp(input[base + c] - rowMax); }
  partial[lane] = acc;
  ${sumTree}
  let total = partial[0];
  ${log ? "let logTotal = log(total);" : ""}
  for (var c = lane; c < params.cols; c += ${ROW_WORKGROUP}u) {
    ${
    log
      ? "output[base + c] = (input[base + c] - rowMax) - logTotal;"
      : "output[base + c] = exp(input[base + c] - rowMax) / total;"
  }
  }
}`;
}

// Labels, gathering, slicing -----------------------------------------------------------

/** out[r] = x[r, labels[r]] */
export function pickColumnsShader(): string {
  return /* wgsl */ `
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
${flatIndex}
${elementwiseEntry}
  if (i >= params.rows) { return; }
  output[i] = input[i * params.cols + u32(labels[i])];
}`;
}

/** out[r, c] = (c == labels[r]) */
export function oneHotShader(): string {
  return /* wgsl */ `
struct Params { count: u32, classes: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
${flatIndex}
${elementwiseEntry}
  if (i >= params.count) { return; }
  let label = labels[i / params.classes];
  output[i] = select(0.0, 1.0, f32(i % params.classes) == label);
}`;
}

/**
 * out[r, :] = x[indices[r], :] for the indices in [firstRow, firstRow + rows):
 * `input` is bound to just those rows, so that a dataset larger than one
 * binding may hold (128 MiB on some adapters) is gathered in a few passes.
 */
export function gatherRowsShader(): string {
  return /* wgsl */ `
struct Params { count: u32, cols: u32, firstRow: u32, rows: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
${flatIndex}
${elementwiseEntry}
  if (i >= params.count) { return; }
  let source = u32(indices[i / params.cols]);
  if (source < params.firstRow || source >= params.firstRow + params.rows) { return; }
  output[i] = input[(source - params.firstRow) * params.cols + i % params.cols];
}`;
}

/** out[r, c] = x[r, start + c] */
export function sliceColumnsShader(): string {
  return /* wgsl */ `
struct Params { count: u32, cols: u32, start: u32, width: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
${flatIndex}
${elementwiseEntry}
  if (i >= params.count) { return; }
  let r = i / params.width;
  output[i] = input[r * params.cols + params.start + i % params.width];
}`;
}

// Updates in place -------------------------------------------------------------------

/**
 * The optimiser updates, each for `count` parameters in one dispatch: a
 * training step updates all its parameters with the same hyperparameters, so
 * they are batched (as many as the device's storage bindings allow) instead of
 * one dispatch each. Thread i updates element i of every parameter that long.
 * The buffers of parameter j are bound in the order of `updateBuffers[kind]`.
 */
export type UpdateKind = "sgd" | "momentum" | "adam";

export const updateBuffers: Record<UpdateKind, readonly string[]> = {
  sgd: ["grad", "param"],
  momentum: ["grad", "param", "velocity"],
  adam: ["grad", "param", "mean", "variance"],
};

/** The f32 uniforms of each kind, in the order the backend writes them. */
export const updateHyperparameters: Record<UpdateKind, readonly string[]> = {
  sgd: ["learningRate", "weightDecay"],
  momentum: ["learningRate", "momentum", "weightDecay"],
  // The bias corrections 1 − β^t are computed on the CPU in float64.
  adam: [
    "learningRate",
    "beta1",
    "oneMinusBeta1",
    "beta2",
    "oneMinusBeta2",
    "epsilon",
    "weightDecay",
    "correction1",
    "correction2",
  ],
};

/** The update of element i, with `_j` after each buffer's name. */
const updateBodies: Record<UpdateKind, (j: number) => string> = {
  // p -= lr (g + wd p)
  sgd: (j) =>
    `let p = param_${j}[i];
    param_${j}[i] = p - params.learningRate * (grad_${j}[i] + params.weightDecay * p);`,
  // v = mu v + (g + wd p); p -= lr v
  momentum: (j) =>
    `let p = param_${j}[i];
    let v = params.momentum * velocity_${j}[i] + grad_${j}[i] + params.weightDecay * p;
    velocity_${j}[i] = v;
    param_${j}[i] = p - params.learningRate * v;`,
  adam: (j) =>
    `let p = param_${j}[i];
    let g = grad_${j}[i] + params.weightDecay * p;
    let m = params.beta1 * mean_${j}[i] + params.oneMinusBeta1 * g;
    let v = params.beta2 * variance_${j}[i] + params.oneMinusBeta2 * g * g;
    mean_${j}[i] = m;
    variance_${j}[i] = v;
    param_${j}[i] = p - params.learningRate * (m / params.correction1) / (sqrt(v / params.correction2) + params.epsilon);`,
};

export function updateShader(kind: UpdateKind, count: number): string {
  const names = updateBuffers[kind];
  const parameters = Array.from({ length: count }, (_, j) => j);
  const bindings = parameters.flatMap((j) =>
    names.map((name, b) =>
      `@group(0) @binding(${1 + j * names.length + b}) var<storage, ${
        name === "grad" ? "read" : "read_write"
      }> ${name}_${j}: array<f32>;`
    )
  );
  return /* wgsl */ `
struct Params {
  ${parameters.map((j) => `count${j}: u32,`).join(" ")}
  ${updateHyperparameters[kind].map((name) => `${name}: f32,`).join(" ")}
}
@group(0) @binding(0) var<uniform> params: Params;
${bindings.join("\n")}
${flatIndex}
${elementwiseEntry}
  ${
    parameters.map((j) =>
      `if (i < params.count${j}) {
    ${updateBodies[kind](j)}
  }`
    ).join("\n  ")
  }
}`;
}

/** target += source */
export function addInPlaceShader(): string {
  return /* wgsl */ `
struct Params { count: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var<storage, read_write> destination: array<f32>;
${flatIndex}
${elementwiseEntry}
  if (i >= params.count) { return; }
  destination[i] = destination[i] + source[i];
}`;
}
