/**
 * PCA (lib/data/pca.ts): the covariance, the Jacobi and subspace-iteration eigensolvers, the
 * whitened projection and the cache, each against a direct computation on a small case.
 */
import assert from "node:assert/strict";
import {
  cachedPca,
  covariance,
  decodePcaCache,
  encodePcaCache,
  explainedVarianceRatio,
  fitPca,
  leadingEigenvectors,
  projectPca,
  symmetricEigen,
} from "../lib/data/pca.ts";
import { Random } from "../lib/random.ts";

/** Correlated data: 400 rows of 12 features, x = z A with a fixed random A. */
function correlatedRows(count = 400, features = 12, seed = 1): Float32Array {
  const random = new Random(seed);
  const mixing = Array.from({ length: features * features }, () => random.normal());
  const out = new Float32Array(count * features);
  for (let r = 0; r < count; r++) {
    const z = Array.from({ length: features }, (_, j) => random.normal() * (features - j));
    for (let c = 0; c < features; c++) {
      let v = 3 + c; // a non-zero mean, which the PCA must remove
      for (let j = 0; j < features; j++) v += z[j] * mixing[j * features + c];
      out[r * features + c] = v;
    }
  }
  return out;
}

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual}, expected ${expected} ± ${tolerance}`,
  );
}

Deno.test("covariance matches the textbook formula on a 3 x 2 case", () => {
  const { mean, covariance: c } = covariance([1, 2, 3, 6, 5, 10], 3, 2);
  assert.deepEqual(Array.from(mean), [3, 6]);
  // Centred rows (−2, −4), (0, 0), (2, 4): Σ x xᵀ / 2.
  assert.deepEqual(Array.from(c), [4, 8, 8, 16]);
});

Deno.test("symmetricEigen diagonalises a symmetric matrix: A v = λ v, values descending", () => {
  const a = [4, 1, 2, 1, 3, 0, 2, 0, 1];
  const { values, vectors } = symmetricEigen(a, 3);
  for (let i = 0; i < 3; i++) {
    for (let r = 0; r < 3; r++) {
      let av = 0;
      for (let c = 0; c < 3; c++) av += a[r * 3 + c] * vectors[i * 3 + c];
      close(av, values[i] * vectors[i * 3 + r], 1e-12, `(A v_${i})[${r}]`);
    }
  }
  assert.ok(values[0] >= values[1] && values[1] >= values[2]);
  close(values[0] + values[1] + values[2], 8, 1e-12, "the trace");
});

Deno.test("symmetricEigen rejects a matrix that is not symmetric, naming the entry", () => {
  assert.throws(() => symmetricEigen([1, 2, 3, 4], 2), /not symmetric at \(1, 0\)/);
});

Deno.test("subspace iteration finds the same leading eigenvalues as Jacobi on all of C", () => {
  const rows = correlatedRows();
  const { covariance: c } = covariance(rows, 400, 12);
  const direct = symmetricEigen(c, 12);
  const { values, vectors } = leadingEigenvectors(c, 12, 4, { oversampling: 3 });
  for (let i = 0; i < 4; i++) {
    close(values[i], direct.values[i], 1e-8 * direct.values[0], `λ_${i + 1}`);
    // The same direction up to sign: |v · v_direct| = 1.
    let dot = 0;
    for (let c = 0; c < 12; c++) dot += vectors[i * 12 + c] * direct.vectors[i * 12 + c];
    close(Math.abs(dot), 1, 1e-6, `|v_${i + 1} · v_${i + 1}(Jacobi)|`);
  }
});

Deno.test("fitPca: the components are orthonormal", () => {
  const model = fitPca(correlatedRows(), 400, 12, 5);
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) {
      let dot = 0;
      for (let c = 0; c < 12; c++) dot += model.vectors[i * 12 + c] * model.vectors[j * 12 + c];
      close(dot, i === j ? 1 : 0, 1e-10, `v_${i} · v_${j}`);
    }
  }
});

Deno.test("fitPca: explained variance equals the variance of the projected data over the total", () => {
  const rows = correlatedRows();
  const model = fitPca(rows, 400, 12, 5);
  // Direct: project without whitening, measure each coordinate's sample variance.
  const projected = projectPca(model, rows, 400, { whiten: false });
  let kept = 0;
  for (let i = 0; i < 5; i++) {
    let m = 0, s = 0;
    for (let r = 0; r < 400; r++) m += projected[r * 5 + i] / 400;
    for (let r = 0; r < 400; r++) s += (projected[r * 5 + i] - m) ** 2;
    close(s / 399, model.variances[i], 1e-4 * model.variances[i], `variance along v_${i + 1}`);
    kept += s / 399;
  }
  // The total: the summed variance of the raw features.
  const { covariance: c } = covariance(rows, 400, 12);
  let total = 0;
  for (let j = 0; j < 12; j++) total += c[j * 12 + j];
  close(model.totalVariance, total, 1e-9 * total, "trace of C");
  close(explainedVarianceRatio(model), kept / total, 1e-4, "explained variance ratio");
  // Twelve components of twelve features keep everything.
  close(explainedVarianceRatio(fitPca(rows, 400, 12, 12)), 1, 1e-9, "all components");
});

Deno.test("projectPca whitens: every component has mean 0 and variance 1 on the fitted rows", () => {
  const rows = correlatedRows();
  const model = fitPca(rows, 400, 12, 5);
  const z = projectPca(model, rows, 400);
  for (let i = 0; i < 5; i++) {
    let m = 0, s = 0;
    for (let r = 0; r < 400; r++) m += z[r * 5 + i] / 400;
    for (let r = 0; r < 400; r++) s += (z[r * 5 + i] - m) ** 2;
    close(m, 0, 1e-4, `mean of component ${i + 1}`);
    close(s / 399, 1, 1e-4, `variance of component ${i + 1}`);
  }
});

Deno.test("fitPca and projectPca name the shapes they were given", () => {
  assert.throws(() => fitPca(new Float32Array(10), 3, 4, 2), /10 values cannot be 3 rows of 4/);
  assert.throws(() => fitPca(new Float32Array(12), 3, 4, 5), /components must be .* 1 to 4/);
  const model = fitPca(correlatedRows(), 400, 12, 3);
  assert.throws(
    () => projectPca(model, new Float32Array(11), 1),
    /11 values cannot be 1 rows of 12/,
  );
});

Deno.test("the PCA cache round-trips, and a changed byte or key is caught", async () => {
  const model = fitPca(correlatedRows(), 400, 12, 3);
  const bytes = await encodePcaCache("test", model);
  const decoded = await decodePcaCache(bytes, { key: "test", features: 12, components: 3 });
  assert.ok("model" in decoded);
  assert.deepEqual(Array.from(decoded.model.vectors), Array.from(model.vectors));
  assert.deepEqual(Array.from(decoded.model.variances), Array.from(model.variances));
  assert.equal(decoded.model.totalVariance, model.totalVariance);
  const other = await decodePcaCache(bytes, { key: "other", features: 12, components: 3 });
  assert.deepEqual(other, { problem: 'holds "test", expected "other"' });
  const corrupted = bytes.slice();
  corrupted[corrupted.length - 1] ^= 1;
  assert.deepEqual(
    await decodePcaCache(corrupted, { key: "test", features: 12, components: 3 }),
    { problem: "checksum mismatch" },
  );
});

Deno.test("cachedPca fits once, then reads the file", async () => {
  const cacheDir = await Deno.makeTempDir();
  try {
    let fits = 0;
    const fit = () => (fits++, fitPca(correlatedRows(), 400, 12, 3));
    const quiet = { cacheDir, onProgress: () => {} };
    const first = await cachedPca("small case", { features: 12, components: 3 }, fit, quiet);
    const second = await cachedPca("small case", { features: 12, components: 3 }, fit, quiet);
    assert.equal(fits, 1);
    assert.deepEqual(Array.from(second.vectors), Array.from(first.vectors));
    const leftovers = [...Deno.readDirSync(cacheDir)].map((e) => e.name);
    assert.deepEqual(
      leftovers.filter((name) => name.endsWith(".tmp")),
      [],
      "no temporary file left",
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
