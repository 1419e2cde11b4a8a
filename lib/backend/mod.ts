/**
 * Choosing a backend, and making tensors on it.
 *
 * The CPU backend (`cpu`, the readable reference) is always there. `wasm`, the
 * fast CPU path, builds its module on first use. WebGPU is loaded only when
 * asked for, so that nothing GPU-related runs for code that never uses it.
 */
import type { Backend } from "./backend.ts";
import { CpuBackend } from "./cpu.ts";
import { WasmBackend } from "./wasm/backend.ts";
import type { DType, Tensor } from "../tensor.ts";

export type { Backend } from "./backend.ts";
/** What `--backend` accepts: a backend by name, or "auto" (a hardware GPU, else wasm). */
export type BackendChoice = "cpu" | "webgpu" | "auto" | "wasm";
/** Every {@link BackendChoice}, for messages and argument checks. */
export const backendChoices: readonly BackendChoice[] = ["cpu", "webgpu", "auto", "wasm"];

/** The readable reference backend: plain TypeScript loops over typed arrays. */
export const cpu: Backend = new CpuBackend();

let wasmInstance: WasmBackend | null = null;
/** The WebAssembly SIMD backend: one instance (one memory) per process, made on first use. */
export function wasm(): Backend {
  return wasmInstance ??= new WasmBackend();
}

/**
 * The backend for a choice. "auto" takes WebGPU only on a hardware adapter and
 * otherwise the fast CPU backend, wasm, saying why; "webgpu" fails with a
 * reason when no adapter is there; "cpu" is the readable reference. `log`
 * receives one line about the decision.
 */
export async function selectBackend(
  choice: BackendChoice = "cpu",
  log: (line: string) => void = (line) => console.error(line),
): Promise<Backend> {
  if (!backendChoices.includes(choice)) {
    throw new Error(`unknown backend "${choice}": choose one of ${backendChoices.join(", ")}`);
  }
  if (choice === "cpu") return cpu;
  if (choice === "wasm") return wasm();
  const { requestWebGpuBackend } = await import("./webgpu.ts");
  return await requestWebGpuBackend(choice, log) ?? wasm();
}

/**
 * The fastest backend on this machine: `selectBackend("auto")` (a hardware GPU
 * where one is present, else wasm), with its one line about the choice sent to
 * `log` (by default nowhere, so that a notebook cell stays quiet). The chapters
 * do not use it: they pin wasm (`chapters/backend.ts`), so that the numbers
 * they state do not depend on the machine.
 */
export function defaultBackend(log: (line: string) => void = () => {}): Promise<Backend> {
  return selectBackend("auto", log);
}

/** Where a new tensor lives and its element type. */
export interface TensorOptions {
  /** The backend to create it on (default: the CPU reference). */
  backend?: Backend;
  /** float32 (default) or float64 (gradient checks). */
  dtype?: DType;
}

/**
 * A tensor from values (row-major) and a shape, on the CPU unless told otherwise.
 *
 * @example
 * ```ts
 * import { tensor } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const t = tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: "float64" });
 * assert.deepEqual(t.shape, [2, 3]);
 * assert.deepEqual(Array.from(await t.data()), [1, 2, 3, 4, 5, 6]);
 * assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 values cannot fill shape \[2, 2\]/);
 * ```
 */
export function tensor(
  values: ArrayLike<number>,
  shape: readonly number[],
  options: TensorOptions = {},
): Tensor {
  const { backend = cpu, dtype = "float32" } = options;
  const size = shape.reduce((p, d) => p * d, 1);
  if (values.length !== size) {
    throw new Error(`tensor: ${values.length} values cannot fill shape [${shape.join(", ")}]`);
  }
  return backend.fromValues(values, shape, dtype);
}

/** A tensor of zeros, on the CPU unless told otherwise. */
export function zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
  const { backend = cpu, dtype = "float32" } = options;
  return backend.zeros(shape, dtype);
}
