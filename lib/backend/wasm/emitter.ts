/**
 * A small WebAssembly emitter: enough of the binary format to write the
 * backend's kernels as TypeScript that reads like the assembly it produces.
 *
 * A module here has one imported memory (`env.memory`) and functions whose
 * parameters and locals are i32, f32, f64 or v128. `FunctionBuilder` appends
 * instructions one method call at a time (`f.get(x).get(y).f32x4Add()`), in the
 * stack-machine order WebAssembly executes them. The format is in the spec:
 * https://webassembly.github.io/spec/core/binary/ (SIMD opcodes: "Vector Instructions").
 */

export type ValueType = "i32" | "f32" | "f64" | "v128";
const valueTypeCode: Record<ValueType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Unsigned LEB128: 7 bits per byte, high bit set while more follow. */
export function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128, for i32.const. */
export function signedLeb(value: number): number[] {
  const out: number[] = [];
  value |= 0;
  while (true) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8(name: string): number[] {
  const bytes = [...new TextEncoder().encode(name)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...unsignedLeb(body.length), ...body];
}

/** A local variable or parameter: an index into the function's locals. */
export type Local = number & { readonly __local: unique symbol };

/** Memory argument of loads and stores: log2 of the alignment, and a constant byte offset. */
const memarg = (alignLog2: number, offset: number) => [
  ...unsignedLeb(alignLog2),
  ...unsignedLeb(offset),
];

/**
 * One function's body. Parameters come first (`param(i)`), then locals made
 * with `local(type)`. Control flow uses labels by depth, as WebAssembly does:
 * `br(0)` leaves (a block) or repeats (a loop) the innermost construct.
 */
export class FunctionBuilder {
  readonly code: number[] = [];
  readonly #locals: ValueType[] = [];

  constructor(
    readonly name: string,
    readonly params: readonly ValueType[],
    readonly results: readonly ValueType[] = [],
  ) {}

  param(index: number): Local {
    if (index >= this.params.length) throw new Error(`${this.name}: no parameter ${index}`);
    return index as Local;
  }

  local(type: ValueType): Local {
    this.#locals.push(type);
    return (this.params.length + this.#locals.length - 1) as Local;
  }

  #op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  #simd(opcode: number, ...immediates: number[]): this {
    return this.#op(0xfd, ...unsignedLeb(opcode), ...immediates);
  }

  // Control -------------------------------------------------------------------
  block(): this {
    return this.#op(0x02, 0x40);
  }
  loop(): this {
    return this.#op(0x03, 0x40);
  }
  if(): this {
    return this.#op(0x04, 0x40);
  }
  else(): this {
    return this.#op(0x05);
  }
  end(): this {
    return this.#op(0x0b);
  }
  br(depth: number): this {
    return this.#op(0x0c, ...unsignedLeb(depth));
  }
  brIf(depth: number): this {
    return this.#op(0x0d, ...unsignedLeb(depth));
  }
  return(): this {
    return this.#op(0x0f);
  }
  select(): this {
    return this.#op(0x1b);
  }

  // Locals ------------------------------------------------------------------
  get(local: Local): this {
    return this.#op(0x20, ...unsignedLeb(local));
  }
  set(local: Local): this {
    return this.#op(0x21, ...unsignedLeb(local));
  }
  tee(local: Local): this {
    return this.#op(0x22, ...unsignedLeb(local));
  }

  // Scalar memory and constants -----------------------------------------------
  i32Load(offset = 0): this {
    return this.#op(0x28, ...memarg(2, offset));
  }
  f32Load(offset = 0): this {
    return this.#op(0x2a, ...memarg(2, offset));
  }
  f32Store(offset = 0): this {
    return this.#op(0x38, ...memarg(2, offset));
  }
  i32Const(value: number): this {
    return this.#op(0x41, ...signedLeb(value));
  }
  f32Const(value: number): this {
    return this.#op(0x43, ...new Uint8Array(Float32Array.of(value).buffer));
  }
  f64Const(value: number): this {
    return this.#op(0x44, ...new Uint8Array(Float64Array.of(value).buffer));
  }

  // i32 arithmetic --------------------------------------------------------------
  i32Eqz(): this {
    return this.#op(0x45);
  }
  i32Ne(): this {
    return this.#op(0x47);
  }
  i32LtS(): this {
    return this.#op(0x48);
  }
  i32GtS(): this {
    return this.#op(0x4a);
  }
  i32LeS(): this {
    return this.#op(0x4c);
  }
  i32GeS(): this {
    return this.#op(0x4e);
  }
  i32Add(): this {
    return this.#op(0x6a);
  }
  i32Sub(): this {
    return this.#op(0x6b);
  }
  i32Mul(): this {
    return this.#op(0x6c);
  }
  i32And(): this {
    return this.#op(0x71);
  }
  i32Shl(): this {
    return this.#op(0x74);
  }

  // f32 / f64 scalar arithmetic ---------------------------------------------------
  f32Op(name: "abs" | "neg" | "sqrt" | "add" | "sub" | "mul" | "div" | "min" | "max"): this {
    const codes = {
      abs: 0x8b,
      neg: 0x8c,
      sqrt: 0x91,
      add: 0x92,
      sub: 0x93,
      mul: 0x94,
      div: 0x95,
      min: 0x96,
      max: 0x97,
    };
    return this.#op(codes[name]);
  }
  f32Compare(name: "eq" | "ne" | "lt" | "gt" | "le" | "ge"): this {
    const codes = { eq: 0x5b, ne: 0x5c, lt: 0x5d, gt: 0x5e, le: 0x5f, ge: 0x60 };
    return this.#op(codes[name]);
  }
  f64Op(name: "sqrt" | "add" | "sub" | "mul" | "div"): this {
    const codes = { sqrt: 0x9f, add: 0xa0, sub: 0xa1, mul: 0xa2, div: 0xa3 };
    return this.#op(codes[name]);
  }
  f32ConvertI32U(): this {
    return this.#op(0xb3);
  }
  f64ConvertI32S(): this {
    return this.#op(0xb7);
  }
  f64PromoteF32(): this {
    return this.#op(0xbb);
  }
  f32DemoteF64(): this {
    return this.#op(0xb6);
  }

  // Vectors (SIMD, 128 bits: four f32 lanes or two f64 lanes) -----------------------
  v128Load(offset = 0): this {
    return this.#simd(0x00, ...memarg(4, offset));
  }
  v128Load32Splat(offset = 0): this {
    return this.#simd(0x09, ...memarg(2, offset));
  }
  v128Store(offset = 0): this {
    return this.#simd(0x0b, ...memarg(4, offset));
  }
  /** Lanes of the result: bytes 0-15 pick from the first operand, 16-31 from the second. */
  i8x16Shuffle(bytes: readonly number[]): this {
    return this.#simd(0x0d, ...bytes);
  }
  /** Lane `lane` of a f32x4 repeated into all four: a shuffle of the vector (pushed twice) with itself. */
  f32x4Broadcast(lane: number): this {
    const b = [0, 1, 2, 3].map((i) => lane * 4 + i);
    return this.i8x16Shuffle([...b, ...b, ...b, ...b]);
  }
  f32x4Splat(): this {
    return this.#simd(0x13);
  }
  f32x4ExtractLane(lane: number): this {
    return this.#simd(0x1f, lane);
  }
  f32x4Compare(name: "eq" | "ne" | "lt" | "gt" | "le" | "ge"): this {
    const codes = { eq: 0x41, ne: 0x42, lt: 0x43, gt: 0x44, le: 0x45, ge: 0x46 };
    return this.#simd(codes[name]);
  }
  v128And(): this {
    return this.#simd(0x4e);
  }
  v128Or(): this {
    return this.#simd(0x50);
  }
  /** (a & mask) | (b & ~mask), operands pushed as a, b, mask. */
  v128Bitselect(): this {
    return this.#simd(0x52);
  }
  f32x4Op(name: "abs" | "neg" | "sqrt" | "add" | "sub" | "mul" | "div" | "min" | "max"): this {
    const codes = {
      abs: 0xe0,
      neg: 0xe1,
      sqrt: 0xe3,
      add: 0xe4,
      sub: 0xe5,
      mul: 0xe6,
      div: 0xe7,
      min: 0xe8,
      max: 0xe9,
    };
    return this.#simd(codes[name]);
  }
  f64x2Op(name: "sqrt" | "add" | "sub" | "mul" | "div"): this {
    const codes = { sqrt: 0xef, add: 0xf0, sub: 0xf1, mul: 0xf2, div: 0xf3 };
    return this.#simd(codes[name]);
  }
  f64x2Splat(): this {
    return this.#simd(0x14);
  }
  /** The two low f32 lanes widened to f64. */
  f64x2PromoteLowF32x4(): this {
    return this.#simd(0x5f);
  }
  /** Two f64 lanes narrowed to the low f32 lanes; the high lanes become 0. */
  f32x4DemoteF64x2Zero(): this {
    return this.#simd(0x5e);
  }
  /**
   * a * b + c for the accumulator of a tile. With relaxed SIMD this is one
   * fused multiply-add (vfmadd on x64); without it, a multiply and an add.
   * Operands pushed as a, b, c.
   */
  f32x4MultiplyAdd(relaxed: boolean): this {
    return relaxed ? this.#simd(0x105) : this.#fallbackMultiplyAdd();
  }
  #fallbackMultiplyAdd(): this {
    // Stack: a b c. mul needs a b on top, so c is parked in a scratch local.
    const c = this.#scratchV128 ??= this.local("v128");
    return this.set(c).f32x4Op("mul").get(c).f32x4Op("add");
  }
  #scratchV128?: Local;

  /** The function's entry in the code section: its locals, then its body. */
  encode(): number[] {
    const groups: number[][] = [];
    for (const type of this.#locals) groups.push([...unsignedLeb(1), valueTypeCode[type]]);
    const body = [...vector(groups), ...this.code, 0x0b];
    return [...unsignedLeb(body.length), ...body];
  }
}

export interface MemoryImport {
  /** Initial and maximum size in 64 KiB pages. */
  initialPages: number;
  maximumPages: number;
  shared: boolean;
}

/** A module of the given functions, each exported under its name, importing `env.memory`. */
export function encodeModule(functions: FunctionBuilder[], memory: MemoryImport): Uint8Array {
  const signatures: string[] = [];
  const typeOf = functions.map((f) => {
    const key = `${f.params.join(",")}->${f.results.join(",")}`;
    if (!signatures.includes(key)) signatures.push(key);
    return signatures.indexOf(key);
  });
  const types = signatures.map((key) => {
    const [params, results] = key.split("->").map((s) => s ? s.split(",") as ValueType[] : []);
    return [
      0x60,
      ...vector(params.map((t) => [valueTypeCode[t]])),
      ...vector(results.map((t) => [valueTypeCode[t]])),
    ];
  });
  const limits = memory.shared
    ? [0x03, ...unsignedLeb(memory.initialPages), ...unsignedLeb(memory.maximumPages)]
    : [0x01, ...unsignedLeb(memory.initialPages), ...unsignedLeb(memory.maximumPages)];
  const imports = vector([[...utf8("env"), ...utf8("memory"), 0x02, ...limits]]);
  const exports = vector(functions.map((f, i) => [...utf8(f.name), 0x00, ...unsignedLeb(i)]));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // "\0asm", version 1
    ...section(1, vector(types)),
    ...section(2, imports),
    ...section(3, vector(typeOf.map((t) => unsignedLeb(t)))),
    ...section(7, exports),
    ...section(10, vector(functions.map((f) => f.encode()))),
  ]);
}
