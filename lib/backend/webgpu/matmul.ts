/**
 * C = op(A) op(B) (+ bias) in WGSL, tiled through workgroup memory, from one
 * generator whose parameters are chosen per adapter (see `chooseTiling`).
 *
 * A workgroup of threadsX x threadsY threads computes a tile of C of
 * (threadsY * rowsPerThread) x (threadsX * colsPerThread), each thread a
 * rowsPerThread x colsPerThread block of it held in vec4 registers. k advances
 * kStep at a time: the threads copy a tileRows x kStep panel of op(A) and a
 * kStep x tileCols panel of op(B) into workgroup memory, one vec4 per job;
 * then each thread, for every 4 values of k, reads a vec4 of A for each of its
 * rows and a vec4 of B for each of its column quads and multiply-adds them.
 * A value read from workgroup memory is used colsPerThread (A) or
 * rowsPerThread (B) times; a value read from global memory tileCols (A) or
 * tileRows (B) times. Larger blocks per thread buy more arithmetic per load;
 * larger k steps buy fewer barriers; both cost workgroup memory and registers.
 *
 * A thread's column quads are strided by threadsX (quad x, x + threadsX, ...)
 * so that neighbouring threads read neighbouring vec4s of the B panel.
 *
 * The panels are kept as op(A) row by row (tileA[row * kStep/4 + q], a vec4
 * over k) and op(B) k by k (tileB[k * tileCols/4 + q], a vec4 over columns),
 * whatever the transposes: a transpose only changes how a panel is read from
 * global memory. Each job reads four neighbours along the dimension that is
 * contiguous in memory, as one vec4 load when that dimension is a multiple of
 * 4 (otherwise as four checked scalar loads):
 *
 *   op(A) = A   (A is m x k): along k, straight into tileA;
 *   op(A) = Aᵀ  (A is k x m): along m, scattered over 4 rows of tileA;
 *   op(B) = B   (B is k x n): along n, straight into tileB;
 *   op(B) = Bᵀ  (B is n x k): along k, scattered over 4 k of tileB.
 *
 * Split-K: workgroup z computes the partial product over k in
 * [z * kChunk, (z + 1) * kChunk) and writes it to slice z of a [splits, m, n]
 * scratch buffer, which `splitSumShader` then adds up (with the bias). A
 * product with few output tiles (the MLP's n = 10 layer: 128 x 10 is one tile)
 * then still occupies many workgroups. Without a split, kChunk = k and z = 0.
 *
 * Transposes and vector widths are uniforms, not compile-time variants: the
 * branches are uniform across the workgroup, so they cost little on a GPU, and
 * there is one pipeline per tiling to compile. That matters on Mesa's llvmpipe
 * (the CI adapter), where every pipeline is compiled by LLVM on the CPU.
 *
 * Each buffer is bound twice, as array<f32> and as array<vec4<f32>> (pooled
 * buffers are multiples of 16 bytes).
 */

export interface Tiling {
  /** Names the variant in pipeline keys, tests and the benchmark. */
  name: string;
  threadsX: number;
  threadsY: number;
  rowsPerThread: number;
  /** A multiple of 4: a thread's columns are vec4s. */
  colsPerThread: number;
  /** A multiple of 4. */
  kStep: number;
}

/**
 * The variants. tile64k8 is the first design, kept small for fear of slow
 * compiles on llvmpipe; measured there (BENCHMARKS.md), every variant's first
 * dispatch, compile included, took 20-90 ms, and tile128k16 ran 1.5-2 times as
 * fast as tile64k8, so software adapters get tile128k16 too. The largest needs
 * 16 KiB of workgroup memory, WebGPU's default limit.
 */
export const TILINGS = {
  // 64 x 64 tiles, 4 x 4 per thread, k by 8: 4 KiB of panels.
  tile64k8: {
    name: "tile64k8",
    threadsX: 16,
    threadsY: 16,
    rowsPerThread: 4,
    colsPerThread: 4,
    kStep: 8,
  },
  // The same tile, k by 16: half the barriers, 8 KiB of panels.
  tile64k16: {
    name: "tile64k16",
    threadsX: 16,
    threadsY: 16,
    rowsPerThread: 4,
    colsPerThread: 4,
    kStep: 16,
  },
  // 128 x 128 tiles, 8 x 8 per thread: 64 multiply-adds per 4 vec4 reads of each panel; 8 KiB.
  tile128k8: {
    name: "tile128k8",
    threadsX: 16,
    threadsY: 16,
    rowsPerThread: 8,
    colsPerThread: 8,
    kStep: 8,
  },
  // 128 x 128, 8 x 8 per thread, k by 16: 16 KiB of panels.
  tile128k16: {
    name: "tile128k16",
    threadsX: 16,
    threadsY: 16,
    rowsPerThread: 8,
    colsPerThread: 8,
    kStep: 16,
  },
  // 32 x 32 tiles of 8 x 8 threads: more workgroups for small products; 2 KiB.
  tile32: {
    name: "tile32",
    threadsX: 8,
    threadsY: 8,
    rowsPerThread: 4,
    colsPerThread: 4,
    kStep: 8,
  },
} as const satisfies Record<string, Tiling>;

export type TilingName = keyof typeof TILINGS;
export const tilingNames = Object.keys(TILINGS) as TilingName[];

export function tileRows(t: Tiling): number {
  return t.threadsY * t.rowsPerThread;
}

export function tileCols(t: Tiling): number {
  return t.threadsX * t.colsPerThread;
}

/** Bytes of workgroup memory the two panels take. */
export function panelBytes(t: Tiling): number {
  return (tileRows(t) + tileCols(t)) * t.kStep * 4;
}

/** What the device must allow for a tiling to compile. */
export function fitsLimits(
  t: Tiling,
  limits: { maxComputeWorkgroupStorageSize: number; maxComputeInvocationsPerWorkgroup: number },
): boolean {
  return panelBytes(t) <= limits.maxComputeWorkgroupStorageSize &&
    t.threadsX * t.threadsY <= limits.maxComputeInvocationsPerWorkgroup;
}

/**
 * How one product runs: the tiling and the number of k splits. `forced`
 * (tests, the benchmark) fixes either. Otherwise, on a software adapter:
 * its one tiling, never split (its threads run in turn on the CPU, so more
 * workgroups buy nothing). On a GPU: the largest tile that still gives
 * `TARGET_WORKGROUPS` workgroups, and a split of k when even the smallest
 * tile gives too few and k is long (tall-skinny products, n = 10).
 */
export interface MatmulPlan {
  tiling: Tiling;
  splits: number;
  kChunk: number;
}

/** About enough workgroups to occupy a large GPU (an H100 has 132 multiprocessors). */
const TARGET_WORKGROUPS = 128;
/** k values each split gets at least: below that the extra pass costs more than it saves. */
const MIN_SPLIT_CHUNK = 64;
const MAX_SPLITS = 16;

export function planMatmul(
  m: number,
  k: number,
  n: number,
  choice: { software: boolean; tilings: readonly Tiling[]; forcedSplits?: number },
): MatmulPlan {
  const { software, tilings, forcedSplits } = choice;
  const groups = (t: Tiling) => Math.ceil(m / tileRows(t)) * Math.ceil(n / tileCols(t));
  let tiling = tilings[0];
  if (!software && tilings.length > 1) {
    // Largest first: take the first that fills the GPU, else the one with most workgroups.
    const bySize = [...tilings].sort((a, b) =>
      tileRows(b) * tileCols(b) - tileRows(a) * tileCols(a)
    );
    tiling = bySize.find((t) => groups(t) >= TARGET_WORKGROUPS) ?? bySize[bySize.length - 1];
  }
  let splits = 1;
  if (forcedSplits !== undefined) {
    splits = forcedSplits;
  } else if (!software && groups(tiling) < TARGET_WORKGROUPS / 4) {
    splits = Math.min(
      MAX_SPLITS,
      Math.floor(k / MIN_SPLIT_CHUNK),
      Math.ceil(TARGET_WORKGROUPS / groups(tiling)),
    );
  }
  splits = Math.max(1, Math.min(splits, k));
  // Chunks are whole k steps, so that only the last chunk has a ragged end.
  const kChunk = Math.ceil(Math.ceil(k / splits) / tiling.kStep) * tiling.kStep;
  return {
    tiling,
    splits: Math.max(1, Math.ceil(k / Math.max(kChunk, 1))),
    kChunk: Math.max(kChunk, 1),
  };
}

/** The uniform fields, in order: m, n, k, the flags, then the k chunk of a split. */
export function matmulParams(
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
  kChunk: number,
): number[] {
  const flag = (b: boolean) => (b ? 1 : 0);
  return [
    m,
    n,
    k,
    flag(transposeA),
    flag(transposeB),
    // The dimension contiguous in memory must be a multiple of 4 for vec4 loads.
    flag((transposeA ? m : k) % 4 === 0),
    flag((transposeB ? k : n) % 4 === 0),
    flag(n % 4 === 0),
    kChunk,
  ];
}

/** Load four neighbours as one vec4 when allowed, else as four checked scalars. */
function load4(
  vectorFlag: string,
  scalar: string,
  vector: string,
  inside: (offset: number) => string,
  flat: (offset: number) => string,
): string {
  const scalars = [0, 1, 2, 3].map((c) =>
    `if (${inside(c)}) { value[${c}] = ${scalar}[${flat(c)}]; }`
  ).join("\n        ");
  return `if (${vectorFlag} == 1u) {
        if (${inside(0)}) { value = ${vector}[(${flat(0)}) / 4u]; }
      } else {
        ${scalars}
      }`;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * The shader for a tiling. With `bias`, binding 7 is a bias row added to every
 * row of C in the epilogue (x W + b in one dispatch); a split product adds its
 * bias in the split sum instead.
 */
export function matmulShader(t: Tiling, bias: boolean): string {
  const rows = tileRows(t), cols = tileCols(t);
  const kQuads = t.kStep / 4, colQuads = cols / 4, rowQuads = rows / 4;
  const threads = t.threadsX * t.threadsY;
  const quadsPerThread = t.colsPerThread / 4;
  // Jobs: one vec4 of a panel each; A's first, then B's, shared out over the threads.
  const jobsA = rows * kQuads, jobsB = t.kStep * colQuads;
  const acc = (r: number, j: number) => `acc${r}_${j}`;
  const fmas = range(t.rowsPerThread).flatMap((r) =>
    ["x", "y", "z", "w"].flatMap((component, p) =>
      range(quadsPerThread).map((j) =>
        `${acc(r, j)} = fma(vec4<f32>(x${r}.${component}), y${p}_${j}, ${acc(r, j)});`
      )
    )
  );
  const stores = range(t.rowsPerThread).flatMap((r) =>
    range(quadsPerThread).map((j) => {
      const value = bias ? `(${acc(r, j)} + biasAt(col${j}))` : acc(r, j);
      return `store(row + ${r}u, col${j}, ${value});`;
    })
  );
  return /* wgsl */ `
struct Params {
  m: u32, n: u32, k: u32,
  transposeA: u32, transposeB: u32, vectorA: u32, vectorB: u32, vectorC: u32,
  kChunk: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;
@group(0) @binding(6) var<storage, read_write> c4: array<vec4<f32>>;
${bias ? "@group(0) @binding(7) var<storage, read> biasRow: array<f32>;" : ""}
// tileA[row * ${kQuads} + q]: op(A)[row, 4q .. 4q + 3] of the panel.
var<workgroup> tileA: array<vec4<f32>, ${rows * kQuads}>;
// tileB[k * ${colQuads} + q]: op(B)[k, 4q .. 4q + 3] of the panel.
var<workgroup> tileB: array<vec4<f32>, ${t.kStep * colQuads}>;

${
    bias
      ? `fn biasAt(col: u32) -> vec4<f32> {
  var value = vec4<f32>();
  for (var q = 0u; q < 4u; q++) { if (col + q < params.n) { value[q] = biasRow[col + q]; } }
  return value;
}`
      : ""
  }

/** C[row, col .. col + 3] of this split's slice, the columns past n left out. */
fn store(row: u32, col: u32, value: vec4<f32>) {
  let m = params.m;
  let n = params.n;
  if (row >= m || col >= n) { return; }
  let base = split * m * n + row * n + col;
  if (params.vectorC == 1u) {
    c4[base / 4u] = value;
  } else {
    for (var q = 0u; q < 4u; q++) { if (col + q < n) { c[base + q] = value[q]; } }
  }
}

var<private> split: u32;

/** Copy vec4 number \`job\` of the A panel (rows of op(A) from rowBase, k from k0) into tileA. */
fn loadA(job: u32, rowBase: u32, k0: u32, kEnd: u32) {
  let m = params.m;
  let k = params.k;
  var value = vec4<f32>();
  if (params.transposeA == 0u) {
    // A is m x k: row job / ${kQuads}, k quad job % ${kQuads}.
    let row = rowBase + job / ${kQuads}u;
    let kk = k0 + 4u * (job % ${kQuads}u);
    ${
    load4("params.vectorA", "a", "a4", (o) =>
      `row < m && kk + ${o}u < kEnd`, (o) =>
      `row * k + kk + ${o}u`)
  }
    tileA[job] = value;
  } else {
    // A is k x m: k line job / ${rowQuads}, row quad job % ${rowQuads}.
    let line = job / ${rowQuads}u;
    let kk = k0 + line;
    let row = 4u * (job % ${rowQuads}u);
    ${
    load4("params.vectorA", "a", "a4", (o) =>
      `kk < kEnd && rowBase + row + ${o}u < m`, (o) =>
      `kk * m + rowBase + row + ${o}u`)
  }
    for (var r = 0u; r < 4u; r++) {
      tileA[(row + r) * ${kQuads}u + line / 4u][line % 4u] = value[r];
    }
  }
}

/** Copy vec4 number \`job\` of the B panel (k from k0, columns of op(B) from colBase) into tileB. */
fn loadB(job: u32, colBase: u32, k0: u32, kEnd: u32) {
  let n = params.n;
  let k = params.k;
  var value = vec4<f32>();
  if (params.transposeB == 0u) {
    // B is k x n: k line job / ${colQuads}, column quad job % ${colQuads}.
    let kk = k0 + job / ${colQuads}u;
    let col = colBase + 4u * (job % ${colQuads}u);
    ${
    load4("params.vectorB", "b", "b4", (o) =>
      `kk < kEnd && col + ${o}u < n`, (o) =>
      `kk * n + col + ${o}u`)
  }
    tileB[job] = value;
  } else {
    // B is n x k: column job / ${kQuads}, k quad job % ${kQuads}.
    let col = job / ${kQuads}u;
    let quad = job % ${kQuads}u;
    let kk = k0 + 4u * quad;
    ${
    load4("params.vectorB", "b", "b4", (o) =>
      `colBase + col < n && kk + ${o}u < kEnd`, (o) =>
      `(colBase + col) * k + kk + ${o}u`)
  }
    for (var r = 0u; r < 4u; r++) {
      tileB[(4u * quad + r) * ${colQuads}u + col / 4u][col % 4u] = value[r];
    }
  }
}

@compute @workgroup_size(${t.threadsX}, ${t.threadsY})
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u) {
  split = workgroup.z;
  let rowBase = workgroup.y * ${rows}u;
  let colBase = workgroup.x * ${cols}u;
  let thread = local.y * ${t.threadsX}u + local.x;
  let kBegin = split * params.kChunk;
  let kEnd = min(params.k, kBegin + params.kChunk);
  ${
    range(t.rowsPerThread).flatMap((r) =>
      range(quadsPerThread).map((j) => `var ${acc(r, j)} = vec4<f32>();`)
    ).join("\n  ")
  }
  for (var k0 = kBegin; k0 < kEnd; k0 += ${t.kStep}u) {
    ${
    // Unrolled at generation: each thread's jobs are known (a loop here halved llvmpipe's speed).
    range(Math.ceil((jobsA + jobsB) / threads)).map((i) => {
      const job = `thread + ${i * threads}u`;
      return `if (${job} < ${jobsA}u) { loadA(${job}, rowBase, k0, kEnd); } ` +
        `else if (${job} < ${jobsA + jobsB}u) { loadB(${job} - ${jobsA}u, colBase, k0, kEnd); }`;
    }).join("\n    ")}
    workgroupBarrier();
    for (var q = 0u; q < ${kQuads}u; q++) {
      ${
    range(t.rowsPerThread).map((r) =>
      `let x${r} = tileA[(local.y * ${t.rowsPerThread}u + ${r}u) * ${kQuads}u + q];`
    ).join("\n      ")
  }
      ${
    range(4).flatMap((p) =>
      range(quadsPerThread).map((j) =>
        `let y${p}_${j} = tileB[(q * 4u + ${p}u) * ${colQuads}u + local.x + ${j * t.threadsX}u];`
      )
    ).join("\n      ")
  }
      ${fmas.join("\n      ")}
    }
    workgroupBarrier();
  }
  let row = rowBase + local.y * ${t.rowsPerThread}u;
  ${
    range(quadsPerThread).map((j) => `let col${j} = colBase + 4u * (local.x + ${j * t.threadsX}u);`)
      .join("\n  ")
  }
  ${stores.join("\n  ")}
}`;
}

/** C = Σ over splits of the scratch slices (+ bias): one thread per element of C. */
export function splitSumShader(bias: boolean, workgroupSize: number): string {
  return /* wgsl */ `
struct Params { count: u32, n: u32, splits: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
${bias ? "@group(0) @binding(3) var<storage, read> biasRow: array<f32>;" : ""}
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(num_workgroups) groups: vec3u) {
  let i = (workgroup.y * groups.x + workgroup.x) * ${workgroupSize}u + local.x;
  if (i >= params.count) { return; }
  var sum = 0.0;
  for (var s = 0u; s < params.splits; s++) { sum += partial[s * params.count + i]; }
  c[i] = sum${bias ? " + biasRow[i % params.n]" : ""};
}`;
}
