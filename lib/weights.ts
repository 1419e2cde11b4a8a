/**
 * A model's weights as plain JSON, and back (as ConvNetJS's toJSON/fromJSON):
 * each parameter's name, shape, dtype and its values as little-endian bytes in
 * base64, so that the round trip is bit-exact (−0 and infinities included; a NaN stays NaN)
 * and a 100,000-weight network is about half a megabyte of text.
 *
 * @module
 */
import type { Layer } from "./layers/layer.ts";
import { type DType, shapeString, tidy } from "./tensor.ts";

/** The format tag and version written into every file. */
export const WEIGHTS_FORMAT = "why-wont-it-learn/weights" as const;

/** One parameter as saved. */
export interface SavedParameter {
  /** e.g. "linear1.weight". */
  name: string;
  /** The shape, e.g. [784, 128]. */
  shape: number[];
  /** The dtype the values were saved in. */
  dtype: DType;
  /** The values, row-major, as little-endian IEEE 754 bytes in base64. */
  data: string;
}

/** What `saveWeights` returns: JSON-ready (`JSON.stringify` it to write a file). */
export interface SavedWeights {
  /** Always WEIGHTS_FORMAT. */
  format: typeof WEIGHTS_FORMAT;
  /** The format version (1). */
  version: 1;
  /** The model's `describe()` when it was saved, for the reader and for error messages. */
  architecture: string;
  /** Every parameter, in the model's order. */
  parameters: SavedParameter[];
}

/**
 * Read every parameter of `model` back and return them as JSON-ready data.
 *
 * @example
 * ```ts
 * import { loadWeights, mlp, saveWeights } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const trained = mlp([4, 3, 2], { seed: 1 });
 * const text = JSON.stringify(await saveWeights(trained));
 * const copy = mlp([4, 3, 2], { seed: 2 });
 * loadWeights(copy, JSON.parse(text));
 * assert.deepEqual(await copy.parameters()[0].value.data(), await trained.parameters()[0].value.data());
 * ```
 */
export async function saveWeights(model: Layer): Promise<SavedWeights> {
  checkLayer("saveWeights", model);
  const parameters: SavedParameter[] = [];
  for (const p of model.parameters()) {
    const values = await p.value.data();
    parameters.push({
      name: p.name,
      shape: [...p.value.shape],
      dtype: p.value.dtype,
      data: encode(values, p.value.dtype),
    });
  }
  return { format: WEIGHTS_FORMAT, version: 1, architecture: model.describe(), parameters };
}

/**
 * Write saved weights into `model`'s parameters, in place (an optimiser built
 * on the model keeps working). The model must have the same parameters, by
 * name and shape, in the same order; otherwise nothing is changed and the error
 * names the first parameter that differs and both shapes. Values saved in one
 * dtype are converted to the model's (exact from float32 to float64).
 */
export function loadWeights(model: Layer, saved: SavedWeights): void {
  checkLayer("loadWeights", model);
  checkSaved(saved);
  const parameters = model.parameters();
  const names = (list: { name: string }[]) => list.map((p) => p.name).join(", ");
  if (parameters.length !== saved.parameters.length) {
    throw new Error(
      `loadWeights: the model has ${parameters.length} parameters (${names(parameters)}) but ` +
        `the saved weights have ${saved.parameters.length} (${names(saved.parameters)}); ` +
        `they were saved from:\n${saved.architecture}`,
    );
  }
  const decoded = parameters.map((p, i) => {
    const s = saved.parameters[i];
    if (s.name !== p.name) {
      throw new Error(
        `loadWeights: parameter ${i + 1} of the model is ${p.name} ${
          shapeString(p.value.shape)
        }, ` +
          `but the saved one is ${s.name} ${
            shapeString(s.shape)
          }; they were saved from:\n${saved.architecture}`,
      );
    }
    if (shapeString(s.shape) !== shapeString(p.value.shape)) {
      throw new Error(
        `loadWeights: ${p.name} is ${shapeString(p.value.shape)} in the model but ` +
          `${
            shapeString(s.shape)
          } in the saved weights; they were saved from:\n${saved.architecture}`,
      );
    }
    return decode(s);
  });
  // Only now, with every parameter checked, change the model.
  parameters.forEach((p, i) =>
    tidy(() => {
      const { backend, shape, dtype } = p.value;
      backend.assign(p.value, backend.fromValues(decoded[i], shape, dtype));
    })
  );
}

function checkLayer(where: string, model: Layer): void {
  if (!model || typeof (model as Layer).parameters !== "function") {
    throw new TypeError(`${where}: give a model (a Sequential or a layer), got ${String(model)}`);
  }
}

function checkSaved(saved: SavedWeights): void {
  if (!saved || typeof saved !== "object" || saved.format !== WEIGHTS_FORMAT) {
    throw new Error(
      `loadWeights: this is not saved weights (expected format "${WEIGHTS_FORMAT}", got ${
        JSON.stringify((saved as { format?: unknown } | null)?.format)
      }); give what saveWeights() returned, or JSON.parse of its file`,
    );
  }
  if (saved.version !== 1) {
    throw new Error(`loadWeights: weights format version ${saved.version}; this library reads 1`);
  }
  if (!Array.isArray(saved.parameters)) {
    throw new Error("loadWeights: the saved weights have no parameters list");
  }
}

const bytesPer: Record<DType, number> = { float32: 4, float64: 8 };

function encode(values: ArrayLike<number>, dtype: DType): string {
  const bytes = new Uint8Array(values.length * bytesPer[dtype]);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    if (dtype === "float32") view.setFloat32(4 * i, values[i], true);
    else view.setFloat64(8 * i, values[i], true);
  }
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

function decode(saved: SavedParameter): Float32Array | Float64Array {
  const size = saved.shape.reduce((a, b) => a * b, 1);
  const width = bytesPer[saved.dtype];
  if (width === undefined) {
    throw new Error(
      `loadWeights: ${saved.name} has dtype "${saved.dtype}"; expected float32 or float64`,
    );
  }
  let binary: string;
  try {
    binary = atob(saved.data);
  } catch {
    throw new Error(`loadWeights: ${saved.name}'s data is not base64`);
  }
  if (binary.length !== size * width) {
    throw new Error(
      `loadWeights: ${saved.name} ${shapeString(saved.shape)} needs ${size * width} bytes of ` +
        `${saved.dtype}, but its data holds ${binary.length}`,
    );
  }
  const view = new DataView(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i));
  const out = saved.dtype === "float32" ? new Float32Array(size) : new Float64Array(size);
  for (let i = 0; i < size; i++) {
    out[i] = saved.dtype === "float32"
      ? view.getFloat32(4 * i, true)
      : view.getFloat64(8 * i, true);
  }
  return out;
}
