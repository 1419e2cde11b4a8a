/**
 * The backend's WebAssembly module, built from the kernel generators at
 * import: no binary file and no toolchain, and the bytes are the same on
 * every run (test/wasm_module_test.ts pins their SHA-256).
 */
import { encodeModule, FunctionBuilder } from "./emitter.ts";
import {
  adamKernel,
  binaryBroadcastKernel,
  binaryFlatKernel,
  momentumKernel,
  packKernel,
  reduceRowsKernel,
  sgdKernel,
  tilesF64Kernel,
  tilesKernel,
  unaryBodies,
  unaryKernel,
} from "./kernels.ts";

export const binaryOps = ["add", "sub", "mul", "div", "equal", "greater", "maximum"] as const;
export type WasmUnaryOp = keyof typeof unaryBodies;

/** 64 KiB pages: 16 MiB to start; at most 2 GiB, since kernels compare byte offsets as signed i32. */
export const MEMORY = { initialPages: 256, maximumPages: 32768 };

/** Bytes at the bottom of memory the kernels use as scratch (the matmul's edge block). */
export const SCRATCH_BYTES = 1024;

export interface ModuleOptions {
  /** Use `f32x4.relaxed_madd` (one fused multiply-add) in the matmul. */
  relaxed: boolean;
  /** Import a shared memory (for a worker thread). */
  shared: boolean;
}

/** Every kernel, in a fixed order. */
function kernels(options: ModuleOptions): FunctionBuilder[] {
  return [
    ...Object.entries(unaryBodies).map(([op, body]) => unaryKernel(`unary_${op}`, body)),
    ...binaryOps.flatMap((op) => [
      binaryFlatKernel(op, "same"),
      binaryFlatKernel(op, "scalar"),
      binaryBroadcastKernel(op, "row"),
      binaryBroadcastKernel(op, "column"),
    ]),
    reduceRowsKernel("sum"),
    reduceRowsKernel("mean"),
    reduceRowsKernel("max"),
    sgdKernel(),
    momentumKernel(),
    adamKernel(),
    packKernel(4),
    packKernel(8),
    tilesKernel(options.relaxed),
    tilesF64Kernel(),
  ];
}

export function moduleBytes(options: ModuleOptions): Uint8Array {
  return encodeModule(kernels(options), { ...MEMORY, shared: options.shared });
}

/** Whether this engine runs relaxed SIMD's fused multiply-add (Deno 2.9 does, with no flag). */
export function relaxedSimdAvailable(): boolean {
  const f = new FunctionBuilder("probe", ["i32"]);
  f.get(f.param(0)).get(f.param(0)).v128Load().get(f.param(0)).v128Load().get(f.param(0))
    .v128Load().f32x4MultiplyAdd(true).v128Store();
  try {
    return WebAssembly.validate(
      encodeModule([f], { initialPages: 1, maximumPages: 1, shared: false }) as BufferSource,
    );
  } catch {
    return false;
  }
}

/** The exported kernels, typed loosely: each takes numbers (i32 byte offsets, counts, scalars). */
export type Kernels = Record<string, (...args: number[]) => void>;

export function instantiate(bytes: Uint8Array, memory: WebAssembly.Memory): Kernels {
  const module = new WebAssembly.Module(bytes as BufferSource);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as Kernels;
}
