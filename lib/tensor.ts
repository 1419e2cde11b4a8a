/**
 * Tensor: a shape, a dtype and storage that lives on a backend.
 *
 * Values are read with `await t.data()` on every backend. On the CPU that is
 * immediate; on WebGPU it waits for the GPU and copies the buffer back (about
 * 12 ms), which is why training code reads values rarely and never per step.
 */
import type { Backend, Storage } from "./backend/backend.ts";

/** The element types: float32 for training, float64 for gradient checks. */
export type DType = "float32" | "float64";
/** What `data()` returns: the values as a typed array of the dtype. */
export type TypedArray = Float32Array | Float64Array;

/**
 * A shape, a dtype and storage on a backend. Make one with `tensor(values, shape)`;
 * read its values with `await t.data()` (on every backend).
 *
 * @example
 * ```ts
 * import { tensor } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * assert.deepEqual(t.shape, [2, 3]);
 * assert.equal(t.size, 6);
 * assert.deepEqual(Array.from(await t.data()), [1, 2, 3, 4, 5, 6]);
 * assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 values cannot fill shape \[2, 2\]/);
 * ```
 */
export class Tensor {
  #disposed = false;
  /** The tensor that owns the storage: this one, or the one this is a view of (reshape). */
  readonly #owner: Tensor;
  /** Views of this tensor's storage not yet disposed; the storage is released after the last. */
  #liveViews = 0;
  #released = false;
  /** What made this tensor, for error messages ("linear1 output"). */
  label?: string;

  /** Backends make tensors (use `tensor(values, shape)`); `viewOf` marks a view sharing that tensor's storage. */
  constructor(
    readonly backend: Backend,
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly dtype: DType,
    viewOf?: Tensor,
  ) {
    this.#owner = viewOf ? viewOf.#owner : this;
    if (viewOf) this.#owner.#liveViews++;
    trackInScope(this);
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** The number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Whether dispose() has run (reading is then an error). */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** A copy of the values, row-major. */
  data(): Promise<TypedArray> {
    this.assertAlive("data()");
    return this.backend.read(this);
  }

  /** The values as nested arrays, for printing small tensors. */
  async array(): Promise<number[] | number[][]> {
    const values = Array.from(await this.data());
    if (this.rank !== 2) return values;
    const [rows, cols] = this.shape;
    return Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols));
  }

  /** Give the storage back to the backend. Reading afterwards is an error. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#owner !== this) this.#owner.#liveViews--;
    this.#owner.#releaseIfUnused();
  }

  /** Storage goes back to the backend once its owner and every view of it are disposed. */
  #releaseIfUnused(): void {
    if (this.#disposed && this.#liveViews === 0 && !this.#released) {
      this.#released = true;
      this.backend.release(this);
    }
  }

  /** Throw, naming `what`, if the tensor was disposed. */
  assertAlive(what: string): void {
    if (this.#disposed) {
      throw new Error(
        `${what} on a disposed tensor${this.label ? ` (${this.label})` : ""} of shape ` +
          `[${this.shape}]: tensors made inside a training step are released when the step ends; ` +
          `read them inside a hook, or keep() them.`,
      );
    }
  }

  /** e.g. "Tensor(float32, [2,3], cpu)". */
  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape}], ${this.backend.name})`;
  }
}

/** The number of elements of a shape (1 for []). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Every backend's fromValues() checks this first: a shape of whole sizes that the values fill exactly. */
export function checkValuesFitShape(values: ArrayLike<number>, shape: readonly number[]): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`tensor: a shape is a list of whole numbers >= 0, got [${shape.join(", ")}]`);
  }
  if (values.length !== sizeOf(shape)) {
    throw new Error(`tensor: ${values.length} values cannot fill shape [${shape.join(", ")}]`);
  }
}

/** A shape as messages print it: "[2, 3]". */
export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

// ---------------------------------------------------------------------------
// Scopes. On the CPU the garbage collector frees arrays; GPU buffers must be
// given back explicitly. `tidy(fn)` releases every tensor made inside `fn`
// except the ones it returns and the ones passed to `keep`. The training loop
// runs each step inside one, so memory does not grow over epochs.

const scopes: Set<Tensor>[] = [];

function trackInScope(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

/** Exclude `t` from the enclosing scopes: it lives until disposed by hand. */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) scope.delete(t);
  return t;
}

/** What a tidy() function may return: tensors in it survive the scope. */
export type TidyResult = Tensor | Tensor[] | Record<string, unknown> | void | number | undefined;

/** Run `fn`, then dispose every tensor it made that it does not return or keep. */
export function tidy<T extends TidyResult>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    throw new TypeError(
      "tidy: the function returned a Promise. tidy() is synchronous: tensors made after an " +
        "await would escape it, and the ones before would be freed while still in use. Keep " +
        "the awaits outside tidy(), or use openScope() and closeScope() around async code",
    );
  }
  const survivors = collectTensors(result);
  for (const t of scope) {
    if (survivors.has(t)) trackInScope(t);
    else t.dispose();
  }
  return result;
}

/**
 * Open a scope by hand, for code that awaits (the training step): every tensor
 * made until closeScope() is disposed then, unless kept. Scopes must close in
 * the reverse order they opened.
 */
export function openScope(): Set<Tensor> {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  return scope;
}

/** Close a scope opened by openScope(), disposing every tensor made in it that was not kept. */
export function closeScope(scope: Set<Tensor>): void {
  if (scopes.at(-1) !== scope) throw new Error("closeScope: scopes closed out of order");
  scopes.pop();
  for (const t of scope) t.dispose();
}

function collectTensors(value: unknown, found = new Set<Tensor>()): Set<Tensor> {
  if (value instanceof Tensor) found.add(value);
  else if (Array.isArray(value)) { for (const v of value) collectTensors(v, found); }
  else if (value && typeof value === "object" && !(ArrayBuffer.isView(value))) {
    for (const v of Object.values(value)) collectTensors(v, found);
  }
  return found;
}
