/**
 * C = op(A) op(B) in WGSL, tiled through workgroup memory.
 *
 * A workgroup of 16 x 16 threads computes a 64 x 64 tile of C, each thread a
 * 4 x 4 block of it held in four vec4 registers. k advances 8 at a time: half
 * the threads copy a 64 x 8 panel of op(A) into workgroup memory, the other
 * half an 8 x 64 panel of op(B), one vec4 each; then each thread, for every 4
 * values of k, reads four vec4s of A (its 4 rows, 4 k each) and four of B (4 k,
 * its 4 columns) and does 16 vec4 multiply-adds. Every value read from
 * workgroup memory is used 4 times, every value read from global memory 16
 * times (by the 16 threads that share its row or column of the tile).
 *
 * The panels are kept as op(A) row by row (tileA[row][k / 4], a vec4 over k)
 * and op(B) k by k (tileB[k][column / 4], a vec4 over columns), whatever the
 * transposes: a transpose only changes how a panel is read from global memory.
 * Each thread reads four neighbours along the dimension that is contiguous in
 * memory, as one vec4 load when that dimension is a multiple of 4 (otherwise
 * as four checked scalar loads):
 *
 *   op(A) = A   (A is m x k): along k, straight into tileA;
 *   op(A) = Aᵀ  (A is k x m): along m, scattered over 4 rows of tileA;
 *   op(B) = B   (B is k x n): along n, straight into tileB;
 *   op(B) = Bᵀ  (B is n x k): along k, scattered over 4 k of tileB.
 *
 * Transposes and vector widths are uniforms, not compile-time variants: the
 * branches are uniform across the workgroup, so they cost little on a GPU, and
 * there is one pipeline to compile. That matters on Mesa's llvmpipe (the CI
 * adapter), where compiling a shader with workgroup memory takes about a second
 * and grows steeply with the size of that memory; that is also why k advances
 * 8 at a time rather than 16 (8 KiB of panels instead of 16 KiB).
 *
 * Each buffer is bound twice, as array<f32> and as array<vec4<f32>> (pooled
 * buffers are multiples of 16 bytes).
 */

export const MATMUL_TILE = 64;
const K_STEP = 8;

/** The uniform fields, in order: m, n, k, then the flags. */
export function matmulParams(
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
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
  ).join("\n          ");
  return `if (${vectorFlag} == 1u) {
          if (${inside(0)}) { value = ${vector}[(${flat(0)}) / 4u]; }
        } else {
          ${scalars}
        }`;
}

export function matmulShader(): string {
  return /* wgsl */ `
struct Params {
  m: u32, n: u32, k: u32,
  transposeA: u32, transposeB: u32, vectorA: u32, vectorB: u32, vectorC: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;
@group(0) @binding(6) var<storage, read_write> c4: array<vec4<f32>>;
// tileA[row * ${K_STEP / 4} + q]: op(A)[row, 4q .. 4q + 3] of the panel.
var<workgroup> tileA: array<vec4<f32>, ${(MATMUL_TILE * K_STEP) / 4}>;
// tileB[k * 16 + q]: op(B)[k, 4q .. 4q + 3] of the panel.
var<workgroup> tileB: array<vec4<f32>, ${(MATMUL_TILE * K_STEP) / 4}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let rowBase = workgroup.y * ${MATMUL_TILE}u;
  let colBase = workgroup.x * ${MATMUL_TILE}u;
  let thread = local.y * 16u + local.x;
  let m = params.m;
  let n = params.n;
  let k = params.k;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  let steps = (k + ${K_STEP - 1}u) / ${K_STEP}u;
  for (var step = 0u; step < steps; step++) {
    let k0 = step * ${K_STEP}u;
    var value = vec4<f32>();
    if (thread < 128u) {
      let job = thread;
      if (params.transposeA == 0u) {
        // A is m x k: row job / 2, k quad job % 2.
        let row = rowBase + job / 2u;
        let kk = k0 + 4u * (job % 2u);
        ${
    load4("params.vectorA", "a", "a4", (o) =>
      `row < m && kk + ${o}u < k`, (o) =>
      `row * k + kk + ${o}u`)
  }
        tileA[job] = value;
      } else {
        // A is k x m: k line job / 16, row quad job % 16.
        let line = job / 16u;
        let kk = k0 + line;
        let row = 4u * (job % 16u);
        ${
    load4("params.vectorA", "a", "a4", (o) =>
      `kk < k && rowBase + row + ${o}u < m`, (o) =>
      `kk * m + rowBase + row + ${o}u`)
  }
        for (var r = 0u; r < 4u; r++) {
          tileA[(row + r) * ${K_STEP / 4}u + line / 4u][line % 4u] = value[r];
        }
      }
    } else {
      let job = thread - 128u;
      if (params.transposeB == 0u) {
        // B is k x n: k line job / 16, column quad job % 16.
        let kk = k0 + job / 16u;
        let col = colBase + 4u * (job % 16u);
        ${
    load4("params.vectorB", "b", "b4", (o) =>
      `kk < k && col + ${o}u < n`, (o) =>
      `kk * n + col + ${o}u`)
  }
        tileB[job] = value;
      } else {
        // B is n x k: column job / 2, k quad job % 2.
        let col = job / 2u;
        let quad = job % 2u;
        let kk = k0 + 4u * quad;
        ${
    load4("params.vectorB", "b", "b4", (o) =>
      `colBase + col < n && kk + ${o}u < k`, (o) =>
      `(colBase + col) * k + kk + ${o}u`)
  }
        for (var r = 0u; r < 4u; r++) {
          tileB[(4u * quad + r) * 16u + col / 4u][col % 4u] = value[r];
        }
      }
    }
    workgroupBarrier();
    for (var q = 0u; q < ${K_STEP / 4}u; q++) {
      let x0 = tileA[(local.y * 4u + 0u) * ${K_STEP / 4}u + q];
      let x1 = tileA[(local.y * 4u + 1u) * ${K_STEP / 4}u + q];
      let x2 = tileA[(local.y * 4u + 2u) * ${K_STEP / 4}u + q];
      let x3 = tileA[(local.y * 4u + 3u) * ${K_STEP / 4}u + q];
      let y0 = tileB[(q * 4u + 0u) * 16u + local.x];
      let y1 = tileB[(q * 4u + 1u) * 16u + local.x];
      let y2 = tileB[(q * 4u + 2u) * 16u + local.x];
      let y3 = tileB[(q * 4u + 3u) * 16u + local.x];
      ${
    [0, 1, 2, 3].map((r) =>
      ["x", "y", "z", "w"].map((component, p) =>
        `acc${r} = fma(vec4<f32>(x${r}.${component}), y${p}, acc${r});`
      )
        .join(" ")
    ).join("\n      ")
  }
    }
    workgroupBarrier();
  }
  let row = rowBase + local.y * 4u;
  let col = colBase + local.x * 4u;
  if (params.vectorC == 1u) {
    ${
    [0, 1, 2, 3].map((r) =>
      `if (row + ${r}u < m && col < n) { c4[((row + ${r}u) * n + col) / 4u] = acc${r}; }`
    )
      .join("\n    ")
  }
  } else {
    ${
    [0, 1, 2, 3].flatMap((r) =>
      [0, 1, 2, 3].map((q) =>
        `if (row + ${r}u < m && col + ${q}u < n) { c[(row + ${r}u) * n + col + ${q}u] = acc${r}[${q}]; }`
      )
    ).join("\n    ")
  }
  }
}`;
}
