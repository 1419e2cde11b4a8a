/**
 * Choosing a backend, and making tensors on it.
 *
 * The CPU backend is always there. WebGPU is loaded only when asked for, so
 * that nothing GPU-related runs for code that never uses it.
 */
import type { Backend } from "./backend.ts";
import { CpuBackend } from "./cpu.ts";
import type { DType, Tensor } from "../tensor.ts";

export type { Backend } from "./backend.ts";
export type BackendChoice = "cpu" | "webgpu" | "auto";
export const backendChoices: readonly BackendChoice[] = ["cpu", "webgpu", "auto"];

export const cpu: Backend = new CpuBackend();

/**
 * The backend for a choice. "auto" takes WebGPU only on a hardware adapter and
 * says why when it falls back to the CPU; "webgpu" fails with a reason when no
 * adapter is there. `log` receives one line about the decision.
 */
export async function selectBackend(
  choice: BackendChoice = "cpu",
  log: (line: string) => void = (line) => console.error(line),
): Promise<Backend> {
  if (!backendChoices.includes(choice)) {
    throw new Error(`unknown backend "${choice}": choose one of ${backendChoices.join(", ")}`);
  }
  if (choice === "cpu") return cpu;
  const { requestWebGpuBackend } = await import("./webgpu.ts");
  return await requestWebGpuBackend(choice, log) ?? cpu;
}

export interface TensorOptions {
  backend?: Backend;
  dtype?: DType;
}

/** A tensor from values (row-major) and a shape, on the CPU unless told otherwise. */
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

export function zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
  const { backend = cpu, dtype = "float32" } = options;
  return backend.zeros(shape, dtype);
}
