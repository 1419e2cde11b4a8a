/**
 * Where the chapters compute unless told otherwise: the fast CPU path, WebAssembly SIMD on one
 * thread (about 3.5x less CPU time than the readable reference).
 *
 * Every number the chapters state was measured on this backend. The readable reference,
 * `--backend cpu`, computes the same networks with float32 sums rounded in another order (it
 * accumulates in float64), so its numbers differ in the last digits, and where a run is chaotic
 * (Chapter 5's collapse) or a verdict sits on a thin margin (Chapter 3's "more layers can
 * represent more") by more; the chapters say where. One thread: a second one gives the same
 * numbers but pays only on large matmuls on an idle machine (BENCHMARKS.md); `new
 * WasmBackend({ threads: 2 })` is there for that.
 */
import type { Backend } from "../lib/backend/backend.ts";
import { wasm } from "../lib/backend/mod.ts";

/** The chapters' default backend. */
export function chapterBackend(): Backend {
  return wasm();
}
