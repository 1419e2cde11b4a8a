/**
 * Kernel generators: each function here writes one WebAssembly function with
 * the emitter, and says in comments what the code does and why it is fast.
 *
 * Conventions: pointers and sizes are i32 byte offsets and element counts into
 * the one linear memory; every tensor allocation starts on a 16-byte boundary
 * and is padded to a multiple of 16 bytes (see allocator.ts), so element-wise
 * kernels run whole f32x4 vectors over the padded length and never need a
 * scalar tail: the extra lanes read and write only padding.
 */
import { FunctionBuilder, type Local } from "./emitter.ts";

/** for (i = 0; i < limit; i += stepBytes) body, with i a byte offset. Limit is a local. */
function forBytes(f: FunctionBuilder, i: Local, limit: Local, stepBytes: number, body: () => void) {
  f.i32Const(0).set(i);
  f.block().get(i).get(limit).i32GeS().brIf(0);
  f.loop();
  body();
  f.get(i).i32Const(stepBytes).i32Add().tee(i).get(limit).i32LtS().brIf(0);
  f.end().end();
}

const ZERO = "zero" as const;

/** for (i = start; i < limit; i++) body, on element counts; start is 0 or a local. */
function forCount(
  f: FunctionBuilder,
  i: Local,
  start: typeof ZERO | Local,
  limit: Local,
  body: () => void,
) {
  if (start === ZERO) f.i32Const(0);
  else f.get(start);
  f.set(i);
  f.block().get(i).get(limit).i32GeS().brIf(0);
  f.loop();
  body();
  f.get(i).i32Const(1).i32Add().tee(i).get(limit).i32LtS().brIf(0);
  f.end().end();
}

/** Byte offsets of f32 lanes 0-3 (first operand) and 4-7 (second) for i8x16.shuffle. */
const lanes = (...picks: number[]) =>
  picks.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);

/** Bytes of n f32 values rounded up to whole vectors: the length element-wise loops run over. */
function paddedBytes(f: FunctionBuilder, n: Local, into: Local) {
  f.get(n).i32Const(3).i32Add().i32Const(-4).i32And().i32Const(2).i32Shl().set(into);
}

// Element-wise --------------------------------------------------------------------------

/** Pushes the f32x4 result of an element-wise function, given locals holding its inputs. */
export type VectorBody = (f: FunctionBuilder, x: Local, a: Local, b: Local) => void;

/** out[i] = g(x[i]) with two scalar parameters a, b broadcast to vectors. */
export function unaryKernel(name: string, body: VectorBody): FunctionBuilder {
  const f = new FunctionBuilder(name, ["i32", "i32", "i32", "f32", "f32"]);
  const [x, out, n] = [f.param(0), f.param(1), f.param(2)];
  const bytes = f.local("i32"), i = f.local("i32");
  const xv = f.local("v128"), av = f.local("v128"), bv = f.local("v128");
  f.get(f.param(3)).f32x4Splat().set(av).get(f.param(4)).f32x4Splat().set(bv);
  paddedBytes(f, n, bytes);
  forBytes(f, i, bytes, 16, () => {
    f.get(x).get(i).i32Add().v128Load().set(xv);
    f.get(out).get(i).i32Add();
    body(f, xv, av, bv);
    f.v128Store();
  });
  return f;
}

const splatOne = (f: FunctionBuilder) => f.f32Const(1).f32x4Splat();
const splatZero = (f: FunctionBuilder) => f.f32Const(0).f32x4Splat();
/** Mask of the lanes where x is NaN (x != x). */
const nanMask = (f: FunctionBuilder, x: Local) => f.get(x).get(x).f32x4Compare("ne");

/**
 * The element-wise functions that SIMD computes exactly as the CPU reference
 * does (same rounding, NaN passed through the same way). exp, log, sigmoid and
 * tanh are not here: WebAssembly has no instruction for them, and the backend
 * runs them as loops over views of the same memory.
 */
export const unaryBodies: Record<string, VectorBody> = {
  neg: (f, x) => void f.get(x).f32x4Op("neg"),
  sqrt: (f, x) => void f.get(x).f32x4Op("sqrt"),
  square: (f, x) => void f.get(x).get(x).f32x4Op("mul"),
  abs: (f, x) => void f.get(x).f32x4Op("abs"),
  scale: (f, x, a) => void f.get(x).get(a).f32x4Op("mul"),
  addScalar: (f, x, a) => void f.get(x).get(a).f32x4Op("add"),
  // min and max propagate NaN, like Math.min and Math.max.
  clip: (f, x, a, b) => void f.get(x).get(a).f32x4Op("max").get(b).f32x4Op("min"),
  // x where x > 0 or x is NaN, else 0: a mask and an and.
  relu: (f, x) => {
    f.get(x);
    f.get(x);
    splatZero(f);
    f.f32x4Compare("gt");
    nanMask(f, x);
    f.v128Or().v128And();
  },
  leakyRelu: (f, x, a) => {
    f.get(x).get(x).get(a).f32x4Op("mul").get(x);
    splatZero(f);
    f.f32x4Compare("gt").v128Bitselect();
  },
  // 1 where x > 0, 0 elsewhere, NaN stays NaN.
  step: (f, x) => {
    f.get(x);
    splatOne(f);
    f.get(x);
    splatZero(f);
    f.f32x4Compare("gt").v128And();
    nanMask(f, x);
    f.v128Bitselect();
  },
  leakyStep: (f, x, a) => {
    f.get(x);
    splatOne(f);
    f.get(a).get(x);
    splatZero(f);
    f.f32x4Compare("gt").v128Bitselect();
    nanMask(f, x);
    f.v128Bitselect();
  },
  // |x| < inf is false for NaN and the infinities: 0 where it holds, else 1.
  isNonFinite: (f, x) => {
    splatZero(f);
    splatOne(f);
    f.get(x).f32x4Op("abs").f32Const(Infinity).f32x4Splat().f32x4Compare("lt").v128Bitselect();
  },
};

type BinaryName = "add" | "sub" | "mul" | "div" | "equal" | "greater" | "maximum";

/** Pushes f(a, b) for two f32x4 operands on the stack. */
function binaryVector(f: FunctionBuilder, op: BinaryName, one: Local) {
  if (op === "equal") f.f32x4Compare("eq").get(one).v128And();
  else if (op === "greater") f.f32x4Compare("gt").get(one).v128And();
  else if (op === "maximum") f.f32x4Op("max");
  else f.f32x4Op(op);
}

/** Pushes f(a, b) for two f32 operands on the stack. */
function binaryScalar(f: FunctionBuilder, op: BinaryName) {
  if (op === "equal") f.f32Compare("eq").f32ConvertI32U();
  else if (op === "greater") f.f32Compare("gt").f32ConvertI32U();
  else if (op === "maximum") f.f32Op("max");
  else f.f32Op(op);
}

/** out = a op b, b of a's size (form "same") or a single value (form "scalar"). */
export function binaryFlatKernel(op: BinaryName, form: "same" | "scalar"): FunctionBuilder {
  const f = new FunctionBuilder(`binary_${op}_${form}`, ["i32", "i32", "i32", "i32"]);
  const [a, b, out, n] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const bytes = f.local("i32"), i = f.local("i32"), one = f.local("v128"), bv = f.local("v128");
  splatOne(f);
  f.set(one);
  if (form === "scalar") f.get(b).v128Load32Splat().set(bv);
  paddedBytes(f, n, bytes);
  forBytes(f, i, bytes, 16, () => {
    f.get(out).get(i).i32Add();
    f.get(a).get(i).i32Add().v128Load();
    if (form === "scalar") f.get(bv);
    else f.get(b).get(i).i32Add().v128Load();
    binaryVector(f, op, one);
    f.v128Store();
  });
  return f;
}

/**
 * out[r, c] = a[r, c] op b[c] (form "row": b repeated down the rows) or
 * op b[r] (form "column": one value per row). Rows whose length is a multiple
 * of 4 run as vectors; otherwise a scalar loop, since a vector would cross
 * from one row into the next.
 */
export function binaryBroadcastKernel(op: BinaryName, form: "row" | "column"): FunctionBuilder {
  const f = new FunctionBuilder(`binary_${op}_${form}`, ["i32", "i32", "i32", "i32", "i32"]);
  const [a, b, out, rows, cols] = [f.param(0), f.param(1), f.param(2), f.param(3), f.param(4)];
  const r = f.local("i32"),
    c = f.local("i32"),
    rowStart = f.local("i32"),
    rowBytes = f.local("i32");
  const one = f.local("v128"), bv = f.local("v128"), addr = f.local("i32");
  splatOne(f);
  f.set(one);
  f.get(cols).i32Const(2).i32Shl().set(rowBytes);
  f.get(cols).i32Const(3).i32And().i32Eqz().if();
  forCount(f, r, ZERO, rows, () => {
    f.get(r).get(rowBytes).i32Mul().set(rowStart);
    if (form === "column") f.get(b).get(r).i32Const(2).i32Shl().i32Add().v128Load32Splat().set(bv);
    forBytes(f, c, rowBytes, 16, () => {
      f.get(rowStart).get(c).i32Add().set(addr);
      f.get(out).get(addr).i32Add();
      f.get(a).get(addr).i32Add().v128Load();
      if (form === "column") f.get(bv);
      else f.get(b).get(c).i32Add().v128Load();
      binaryVector(f, op, one);
      f.v128Store();
    });
  });
  f.else();
  forCount(f, r, ZERO, rows, () => {
    forCount(f, c, ZERO, cols, () => {
      f.get(r).get(cols).i32Mul().get(c).i32Add().i32Const(2).i32Shl().set(addr);
      f.get(out).get(addr).i32Add();
      f.get(a).get(addr).i32Add().f32Load();
      f.get(b).get(form === "column" ? r : c).i32Const(2).i32Shl().i32Add().f32Load();
      binaryScalar(f, op);
      f.f32Store();
    });
  });
  f.end();
  return f;
}

// Reductions -----------------------------------------------------------------------------

/**
 * Down the columns of a [rows, cols] matrix, giving [cols]: sums (and means)
 * accumulate in f64 and are rounded once, as the CPU reference does, so the
 * bias gradients agree to the bit; max works in f32, where it is exact. Four
 * columns at a time: one f32x4 load per row, widened to two f64x2 halves;
 * the last cols % 4 columns one at a time.
 */
export function reduceRowsKernel(op: "sum" | "mean" | "max"): FunctionBuilder {
  const f = new FunctionBuilder(`reduceRows_${op}`, ["i32", "i32", "i32", "i32"]);
  const [x, out, rows, cols] = [0, 1, 2, 3].map((i) => f.param(i));
  const c = f.local("i32"), r = f.local("i32"), cols4 = f.local("i32"), addr = f.local("i32");
  const v = f.local("v128"), low = f.local("v128"), high = f.local("v128");
  const wide = f.local("f64"), narrow = f.local("f32"), divisor = f.local("v128");
  f.get(cols).i32Const(-4).i32And().set(cols4);
  f.get(rows).f64ConvertI32S().f64x2Splat().set(divisor);
  /** Address of x[r, c] into addr. */
  const element = () =>
    f.get(x).get(r).get(cols).i32Mul().get(c).i32Add().i32Const(2).i32Shl().i32Add().set(addr);
  f.i32Const(0).set(c);
  f.block().get(c).get(cols4).i32GeS().brIf(0).loop();
  {
    if (op === "max") f.f32Const(-Infinity).f32x4Splat().set(v);
    else f.f64Const(0).f64x2Splat().tee(low).set(high);
    forCount(f, r, ZERO, rows, () => {
      element();
      if (op === "max") f.get(v).get(addr).v128Load().f32x4Op("max").set(v);
      else {
        f.get(low).get(addr).v128Load().f64x2PromoteLowF32x4().f64x2Op("add").set(low);
        f.get(high).get(addr).v128Load().get(addr).v128Load().i8x16Shuffle(lanes(2, 3, 2, 3))
          .f64x2PromoteLowF32x4().f64x2Op("add").set(high);
      }
    });
    f.get(out).get(c).i32Const(2).i32Shl().i32Add();
    if (op === "max") f.get(v);
    else {
      if (op === "mean") {
        f.get(low).get(divisor).f64x2Op("div").set(low);
        f.get(high).get(divisor).f64x2Op("div").set(high);
      }
      f.get(low).f32x4DemoteF64x2Zero().get(high).f32x4DemoteF64x2Zero()
        .i8x16Shuffle(lanes(0, 1, 4, 5));
    }
    f.v128Store();
  }
  f.get(c).i32Const(4).i32Add().tee(c).get(cols4).i32LtS().brIf(0);
  f.end().end();
  // The last columns, one at a time, in the same order and precision.
  forCount(f, c, cols4, cols, () => {
    if (op === "max") f.f32Const(-Infinity).set(narrow);
    else f.f64Const(0).set(wide);
    forCount(f, r, ZERO, rows, () => {
      element();
      if (op === "max") f.get(narrow).get(addr).f32Load().f32Op("max").set(narrow);
      else f.get(wide).get(addr).f32Load().f64PromoteF32().f64Op("add").set(wide);
    });
    f.get(out).get(c).i32Const(2).i32Shl().i32Add();
    if (op === "max") f.get(narrow);
    else {
      f.get(wide);
      if (op === "mean") f.get(rows).f64ConvertI32S().f64Op("div");
      f.f32DemoteF64();
    }
    f.f32Store();
  });
  return f;
}

// Optimiser updates ---------------------------------------------------------------------

/**
 * The updates compute in f64 and store f32, exactly as the CPU reference does
 * (its typed arrays are float32, its arithmetic JavaScript numbers), so that
 * training histories agree to the last bit between the two backends. They are
 * scalar loops: parameters are few next to a step's matmul work.
 */
function forEachElement(f: FunctionBuilder, n: Local, body: (offset: Local) => void) {
  const i = f.local("i32"), bytes = f.local("i32");
  f.get(n).i32Const(2).i32Shl().set(bytes);
  forBytes(f, i, bytes, 4, () => body(i));
}

/** Pushes the f64 value of the f32 at base + offset. */
const loadWide = (f: FunctionBuilder, base: Local, offset: Local) =>
  f.get(base).get(offset).i32Add().f32Load().f64PromoteF32();

/**
 * p -= lr * (g + wd * p), four values at a time: each f32x4 is widened into two
 * f64x2 halves, updated in f64 like the scalar loops, and narrowed back.
 */
export function sgdKernel(): FunctionBuilder {
  const f = new FunctionBuilder("sgd", ["i32", "i32", "i32", "f64", "f64"]);
  const [p, g, n, lr, wd] = [0, 1, 2, 3, 4].map((i) => f.param(i));
  const bytes = f.local("i32"), i = f.local("i32");
  const pv = f.local("v128"), gv = f.local("v128"), lrv = f.local("v128"), wdv = f.local("v128");
  const halves = [f.local("v128"), f.local("v128")];
  f.get(lr).f64x2Splat().set(lrv).get(wd).f64x2Splat().set(wdv);
  paddedBytes(f, n, bytes);
  forBytes(f, i, bytes, 16, () => {
    f.get(p).get(i).i32Add().v128Load().set(pv);
    f.get(g).get(i).i32Add().v128Load().set(gv);
    for (const half of [0, 1]) {
      // The half's two lanes moved to the bottom, then widened to f64.
      const widen = (v: Local) => {
        f.get(v);
        if (half === 1) f.get(v).i8x16Shuffle(lanes(2, 3, 2, 3));
        f.f64x2PromoteLowF32x4();
      };
      widen(pv);
      f.get(lrv);
      widen(gv);
      f.get(wdv);
      widen(pv);
      f.f64x2Op("mul").f64x2Op("add").f64x2Op("mul").f64x2Op("sub").f32x4DemoteF64x2Zero();
      f.set(halves[half]);
    }
    f.get(p).get(i).i32Add();
    f.get(halves[0]).get(halves[1]).i8x16Shuffle(lanes(0, 1, 4, 5)).v128Store();
  });
  return f;
}

/** v = mu * v + g + wd * p (stored as f32); p -= lr * v (the stored v). */
export function momentumKernel(): FunctionBuilder {
  const f = new FunctionBuilder("momentum", ["i32", "i32", "i32", "i32", "f64", "f64", "f64"]);
  const [p, v, g, n, lr, mu, wd] = [0, 1, 2, 3, 4, 5, 6].map((i) => f.param(i));
  forEachElement(f, n, (i) => {
    f.get(v).get(i).i32Add();
    f.get(mu);
    loadWide(f, v, i);
    f.f64Op("mul");
    loadWide(f, g, i);
    f.f64Op("add").get(wd);
    loadWide(f, p, i);
    f.f64Op("mul").f64Op("add").f32DemoteF64().f32Store();
    f.get(p).get(i).i32Add();
    loadWide(f, p, i);
    f.get(lr);
    loadWide(f, v, i);
    f.f64Op("mul").f64Op("sub").f32DemoteF64().f32Store();
  });
  return f;
}

/**
 * Adam, in the CPU reference's order: gi = g + wd p; m = b1 m + (1 - b1) gi;
 * v = b2 v + (1 - b2) gi gi; p -= lr (m / c1) / (sqrt(v / c2) + eps), with m
 * and v read back as the f32 values just stored.
 */
export function adamKernel(): FunctionBuilder {
  const f = new FunctionBuilder("adam", [
    "i32",
    "i32",
    "i32",
    "i32",
    "i32", // p, m, v, g, n
    "f64",
    "f64",
    "f64",
    "f64",
    "f64",
    "f64",
    "f64", // lr, b1, b2, eps, wd, c1, c2
  ]);
  const [p, m, v, g, n, lr, b1, b2, eps, wd, c1, c2] = Array.from(
    { length: 12 },
    (_, i) => f.param(i),
  );
  const gi = f.local("f64");
  forEachElement(f, n, (i) => {
    loadWide(f, g, i);
    f.get(wd);
    loadWide(f, p, i);
    f.f64Op("mul").f64Op("add").set(gi);
    f.get(m).get(i).i32Add().get(b1);
    loadWide(f, m, i);
    f.f64Op("mul").f64Const(1).get(b1).f64Op("sub").get(gi).f64Op("mul").f64Op("add");
    f.f32DemoteF64().f32Store();
    f.get(v).get(i).i32Add().get(b2);
    loadWide(f, v, i);
    f.f64Op("mul").f64Const(1).get(b2).f64Op("sub").get(gi).f64Op("mul").get(gi).f64Op("mul");
    f.f64Op("add").f32DemoteF64().f32Store();
    f.get(p).get(i).i32Add();
    loadWide(f, p, i);
    f.get(lr);
    loadWide(f, m, i);
    f.get(c1).f64Op("div").f64Op("mul");
    loadWide(f, v, i);
    f.get(c2).f64Op("div").f64Op("sqrt").get(eps).f64Op("add").f64Op("div");
    f.f64Op("sub").f32DemoteF64().f32Store();
  });
  return f;
}

// Matmul ------------------------------------------------------------------------------

/** Rows of op(A) per register tile, and columns of op(B). */
export const TILE_ROWS = 4;
export const TILE_COLUMNS = 8;
/** Depth steps per trip of the tile's inner loop. */
const DEPTH_UNROLL = 4;

/**
 * Packing: copy `rows` rows of a strided matrix (element (r, p) at
 * src + 4 (r rowStride + p depthStride)) into panels of `width` rows, where
 * panel q holds, for each depth p, the values of rows qW..qW+W-1 side by side.
 * The tile kernel then reads A's 4 values and B's 8 values for one p as one and
 * two contiguous vectors, whatever the transposes were: transposing costs O(mk)
 * here instead of strided loads in the O(mkn) loop. The last panel is padded
 * with zeros, so the tile kernel never tests for edges in its inner loop.
 *
 * Two fast paths: rows adjacent in memory (rowStride 1: one vector copy per
 * four values), and depths adjacent (depthStride 1: 4x4 blocks loaded as four
 * vectors and transposed with shuffles). Anything else, and the ragged last
 * panel, goes through a scalar loop.
 */
export function packKernel(width: 4 | 8): FunctionBuilder {
  const f = new FunctionBuilder(`pack${width}`, ["i32", "i32", "i32", "i32", "i32", "i32"]);
  const [src, dst, rows, depth, rowStride, depthStride] = [0, 1, 2, 3, 4, 5].map((i) => f.param(i));
  const r0 = f.local("i32"), p = f.local("i32"), fullRows = f.local("i32"), s = f.local("i32");
  const d = f.local("i32"), rr = f.local("i32"), depth4 = f.local("i32"), panelEnd = f.local("i32");
  const x = [0, 1, 2, 3].map(() => f.local("v128"));
  const t = [0, 1, 2, 3].map(() => f.local("v128"));
  const vectorsPerDepth = width / 4;

  f.get(rows).i32Const(-width).i32And().set(fullRows);
  f.get(depth).i32Const(-4).i32And().set(depth4);

  // Destination of (panel starting at row r0, depth p): dst + 4 (r0 depth + p width).
  const destination = (pLocal: Local) =>
    f.get(dst).get(r0).get(depth).i32Mul().get(pLocal).i32Const(width).i32Mul().i32Add()
      .i32Const(2).i32Shl().i32Add();

  f.get(rowStride).i32Const(1).i32Ne().i32Eqz().if();
  {
    // Rows adjacent: the W values at one depth are W consecutive floats.
    f.i32Const(0).set(r0);
    f.block().get(r0).get(fullRows).i32GeS().brIf(0).loop();
    forCount(f, p, ZERO, depth, () => {
      f.get(src).get(p).get(depthStride).i32Mul().get(r0).i32Add().i32Const(2).i32Shl().i32Add()
        .set(s);
      destination(p).set(d);
      for (let v = 0; v < vectorsPerDepth; v++) f.get(d).get(s).v128Load(16 * v).v128Store(16 * v);
    });
    f.get(r0).i32Const(width).i32Add().tee(r0).get(fullRows).i32LtS().brIf(0);
    f.end().end();
  }
  f.else();
  f.get(depthStride).i32Const(1).i32Ne().i32Eqz().if();
  {
    // Depths adjacent: each row's values are consecutive, so take 4 rows x 4
    // depths as four vectors and transpose them (two rounds of shuffles).
    f.i32Const(0).set(r0);
    f.block().get(r0).get(fullRows).i32GeS().brIf(0).loop();
    for (let group = 0; group < vectorsPerDepth; group++) {
      f.i32Const(0).set(p);
      f.block().get(p).get(depth4).i32GeS().brIf(0).loop();
      // s = address of (row r0 + 4 group, depth p)
      f.get(src).get(r0).i32Const(4 * group).i32Add().get(rowStride).i32Mul().get(p).i32Add()
        .i32Const(2).i32Shl().i32Add().set(s);
      for (let i = 0; i < 4; i++) {
        f.get(s).v128Load().set(x[i]);
        if (i < 3) f.get(s).get(rowStride).i32Const(2).i32Shl().i32Add().set(s);
      }
      // t0 = x0[0] x1[0] x0[1] x1[1], t1 = x2[0] x3[0] x2[1] x3[1], t2, t3 the same for lanes 2, 3.
      f.get(x[0]).get(x[1]).i8x16Shuffle(lanes(0, 4, 1, 5)).set(t[0]);
      f.get(x[2]).get(x[3]).i8x16Shuffle(lanes(0, 4, 1, 5)).set(t[1]);
      f.get(x[0]).get(x[1]).i8x16Shuffle(lanes(2, 6, 3, 7)).set(t[2]);
      f.get(x[2]).get(x[3]).i8x16Shuffle(lanes(2, 6, 3, 7)).set(t[3]);
      destination(p).i32Const(16 * group).i32Add().set(d);
      const rowOfDepth = 4 * width; // bytes from depth p to depth p + 1 in a panel
      f.get(d).get(t[0]).get(t[1]).i8x16Shuffle(lanes(0, 1, 4, 5)).v128Store(0);
      f.get(d).get(t[0]).get(t[1]).i8x16Shuffle(lanes(2, 3, 6, 7)).v128Store(rowOfDepth);
      f.get(d).get(t[2]).get(t[3]).i8x16Shuffle(lanes(0, 1, 4, 5)).v128Store(2 * rowOfDepth);
      f.get(d).get(t[2]).get(t[3]).i8x16Shuffle(lanes(2, 3, 6, 7)).v128Store(3 * rowOfDepth);
      f.get(p).i32Const(4).i32Add().tee(p).get(depth4).i32LtS().brIf(0);
      f.end().end();
    }
    f.get(r0).i32Const(width).i32Add().tee(r0).get(fullRows).i32LtS().brIf(0);
    f.end().end();
    // The last depth % 4 depths of the whole panels, one value at a time.
    forCount(f, p, depth4, depth, () => {
      forCount(f, rr, ZERO, fullRows, () => {
        f.get(dst).get(rr).i32Const(-width).i32And().get(depth).i32Mul()
          .get(p).i32Const(width).i32Mul().i32Add()
          .get(rr).i32Const(width - 1).i32And().i32Add().i32Const(2).i32Shl().i32Add();
        f.get(src).get(rr).get(rowStride).i32Mul().get(p).i32Add().i32Const(2).i32Shl().i32Add()
          .f32Load().f32Store();
      });
    });
  }
  f.else();
  f.i32Const(0).set(fullRows); // neither stride is 1: every panel takes the scalar loop
  f.end().end();

  // Scalar loop: the panels from fullRows on, zero past the last row.
  f.get(rows).i32Const(width - 1).i32Add().i32Const(-width).i32And().set(panelEnd);
  forCount(f, rr, fullRows, panelEnd, () => {
    forCount(f, p, ZERO, depth, () => {
      f.get(dst).get(rr).i32Const(-width).i32And().get(depth).i32Mul()
        .get(p).i32Const(width).i32Mul().i32Add()
        .get(rr).i32Const(width - 1).i32And().i32Add().i32Const(2).i32Shl().i32Add().set(d);
      f.get(rr).get(rows).i32LtS().if();
      f.get(d).get(src).get(rr).get(rowStride).i32Mul().get(p).get(depthStride).i32Mul()
        .i32Add().i32Const(2).i32Shl().i32Add().f32Load().f32Store();
      f.else().get(d).f32Const(0).f32Store().end();
    });
  });
  return f;
}

/**
 * The tile loop: C[rowStart..rowEnd, 0..n) (+)= packedA packedB over `depth`.
 *
 * Each 4 x 8 block of C is held in eight f32x4 accumulators (two per row) for
 * the whole depth loop, so C is read and written once per block. x64 has 16
 * vector registers; 8 accumulators, A's vector, B's two vectors and a
 * broadcast lane make 12, which V8 keeps in registers (more spill to the
 * stack). Per depth step: one 16-byte load of A's four rows (packed side by
 * side), two 16-byte loads of B's eight columns, and the four rows broadcast
 * from A's vector by shuffles rather than four splat loads, because Deno
 * bounds-checks every memory access explicitly and loads are what cost. Then
 * 8 multiply-adds: 32 flops per 3 loads.
 *
 * Blocks on the bottom or right edge of C are computed the same way (the
 * packed panels are zero-padded) and written through a scratch block, one
 * value at a time, so the kernel never writes past C. With `accumulate`, C's
 * values are added (the depth is cut into blocks that fit the cache).
 * Rows are visited in the outer loop: A's panel (4 x depth values) stays in L1
 * while B's panels stream from L2.
 */
export function tilesKernel(relaxed: boolean): FunctionBuilder {
  const f = new FunctionBuilder("tiles", [
    "i32",
    "i32",
    "i32", // packed A, packed B, C
    "i32",
    "i32",
    "i32", // rows of C, n, depth
    "i32",
    "i32",
    "i32",
    "i32", // accumulate, scratch, first row, end row
    "i32", // bias: 0, or a row of n values added to C after the sum (the linear layer's epilogue)
  ]);
  const [aPacked, bPacked, c, m, n, depth, accumulate, scratch, rowStart, rowEnd, bias] = Array
    .from({ length: 11 }, (_, i) => f.param(i));
  const i0 = f.local("i32"), j0 = f.local("i32"), aPtr = f.local("i32"), bPtr = f.local("i32");
  const aEnd = f.local("i32"), aEndUnrolled = f.local("i32"), cRow = f.local("i32");
  const rowsHere = f.local("i32"),
    colsHere = f.local("i32"),
    r = f.local("i32"),
    cc = f.local("i32");
  const addr = f.local("i32"), aPanelBytes = f.local("i32"), bPanelBytes = f.local("i32");
  const value = f.local("f32");
  const acc = Array.from({ length: 8 }, () => f.local("v128"));
  const av = f.local("v128"), b0 = f.local("v128"), b1 = f.local("v128"), lane = f.local("v128");

  f.get(depth).i32Const(16).i32Mul().set(aPanelBytes);
  f.get(depth).i32Const(32).i32Mul().set(bPanelBytes);

  /** One depth step, reading A at aPtr + 16 step and B at bPtr + 32 step. */
  const depthStep = (step: number) => {
    f.get(aPtr).v128Load(16 * step).set(av);
    f.get(bPtr).v128Load(32 * step).set(b0);
    f.get(bPtr).v128Load(32 * step + 16).set(b1);
    for (let row = 0; row < 4; row++) {
      f.get(av).get(av).f32x4Broadcast(row).set(lane);
      f.get(lane).get(b0).get(acc[2 * row]).f32x4MultiplyAdd(relaxed).set(acc[2 * row]);
      f.get(lane).get(b1).get(acc[2 * row + 1]).f32x4MultiplyAdd(relaxed).set(acc[2 * row + 1]);
    }
  };

  f.get(rowStart).set(i0);
  f.block().get(i0).get(rowEnd).i32GeS().brIf(0).loop();
  f.i32Const(0).set(j0);
  f.block().get(j0).get(n).i32GeS().brIf(0).loop();
  {
    for (const a of acc) f.f32Const(0).f32x4Splat().set(a);
    // aPtr = A's panel for rows i0.., bPtr = B's panel for columns j0..
    f.get(aPacked).get(i0).i32Const(2).i32Shl().get(depth).i32Mul().i32Add().tee(aPtr);
    f.get(aPanelBytes).i32Add().set(aEnd);
    f.get(bPacked).get(j0).i32Const(2).i32Shl().get(depth).i32Mul().i32Add().set(bPtr);
    // DEPTH_UNROLL depth steps per iteration (constant offsets in the loads, one
    // pointer update), then the remaining depth % DEPTH_UNROLL one at a time.
    f.get(aEnd).i32Const(16 * (DEPTH_UNROLL - 1)).i32Sub().set(aEndUnrolled);
    f.block().get(aPtr).get(aEndUnrolled).i32GeS().brIf(0).loop();
    for (let step = 0; step < DEPTH_UNROLL; step++) depthStep(step);
    f.get(bPtr).i32Const(32 * DEPTH_UNROLL).i32Add().set(bPtr);
    f.get(aPtr).i32Const(16 * DEPTH_UNROLL).i32Add().tee(aPtr).get(aEndUnrolled).i32LtS().brIf(0);
    f.end().end();
    f.block().get(aPtr).get(aEnd).i32GeS().brIf(0).loop();
    depthStep(0);
    f.get(bPtr).i32Const(32).i32Add().set(bPtr);
    f.get(aPtr).i32Const(16).i32Add().tee(aPtr).get(aEnd).i32LtS().brIf(0);
    f.end().end();

    f.get(m).get(i0).i32Sub().set(rowsHere);
    f.get(n).get(j0).i32Sub().set(colsHere);
    f.get(rowsHere).i32Const(4).i32GeS().get(colsHere).i32Const(8).i32GeS().i32And().if();
    {
      // A whole block: straight to C, row by row. The bias is added after C's
      // earlier depth blocks, as add(matmul(x, w), b) would: the same values.
      f.get(bias).if();
      f.get(bias).get(j0).i32Const(2).i32Shl().i32Add().tee(addr).v128Load(0).set(b0);
      f.get(addr).v128Load(16).set(b1);
      f.end();
      for (let row = 0; row < 4; row++) {
        f.get(c).get(i0).i32Const(row).i32Add().get(n).i32Mul().get(j0).i32Add().i32Const(2)
          .i32Shl().i32Add().set(cRow);
        f.get(accumulate).if();
        f.get(acc[2 * row]).get(cRow).v128Load(0).f32x4Op("add").set(acc[2 * row]);
        f.get(acc[2 * row + 1]).get(cRow).v128Load(16).f32x4Op("add").set(acc[2 * row + 1]);
        f.end();
        f.get(bias).if();
        f.get(acc[2 * row]).get(b0).f32x4Op("add").set(acc[2 * row]);
        f.get(acc[2 * row + 1]).get(b1).f32x4Op("add").set(acc[2 * row + 1]);
        f.end();
        f.get(cRow).get(acc[2 * row]).v128Store(0);
        f.get(cRow).get(acc[2 * row + 1]).v128Store(16);
      }
    }
    f.else();
    {
      // An edge block: through the scratch block, only the values inside C.
      for (let v = 0; v < 8; v++) f.get(scratch).get(acc[v]).v128Store(16 * v);
      f.get(rowsHere).i32Const(4).i32GeS().if().i32Const(4).set(rowsHere).end();
      f.get(colsHere).i32Const(8).i32GeS().if().i32Const(8).set(colsHere).end();
      forCount(f, r, ZERO, rowsHere, () => {
        forCount(f, cc, ZERO, colsHere, () => {
          f.get(c).get(i0).get(r).i32Add().get(n).i32Mul().get(j0).i32Add().get(cc).i32Add()
            .i32Const(2).i32Shl().i32Add().set(addr);
          f.get(scratch).get(r).i32Const(3).i32Shl().get(cc).i32Add().i32Const(2).i32Shl()
            .i32Add().f32Load().set(value);
          f.get(accumulate).if().get(value).get(addr).f32Load().f32Op("add").set(value).end();
          f.get(bias).if().get(value).get(bias).get(j0).get(cc).i32Add().i32Const(2).i32Shl()
            .i32Add().f32Load().f32Op("add").set(value).end();
          f.get(addr).get(value).f32Store();
        });
      });
    }
    f.end();
  }
  f.get(j0).i32Const(8).i32Add().tee(j0).get(n).i32LtS().brIf(0);
  f.end().end();
  f.get(i0).i32Const(4).i32Add().tee(i0).get(rowEnd).i32LtS().brIf(0);
  f.end().end();
  return f;
}

/**
 * The float64 tile loop, for float64 tensors (gradient checks, Chapter 5's float64 runs):
 * C (mPadded x nPadded, dense) = packedA packedB, every dimension a whole number of tiles.
 *
 * Each 4 x 4 block of C is held in eight f64x2 accumulators (two per row). Per depth step: A's
 * four rows as two vectors, B's four columns as two, each row broadcast by a shuffle, then a
 * multiply and a separate add: not a fused multiply-add, so that every value is rounded exactly
 * as the CPU reference's `c += x * y` rounds it, in the same depth order from 0. The results are
 * the reference's to the bit. The panels are packed, and the valid part of C copied out, by the
 * caller (lib/backend/wasm/backend.ts).
 */
export function tilesF64Kernel(): FunctionBuilder {
  const f = new FunctionBuilder("tiles_f64", ["i32", "i32", "i32", "i32", "i32", "i32"]);
  const [aPacked, bPacked, c, m, n, depth] = [0, 1, 2, 3, 4, 5].map((i) => f.param(i));
  const i0 = f.local("i32"), j0 = f.local("i32"), aPtr = f.local("i32"), bPtr = f.local("i32");
  const aEnd = f.local("i32"), cRow = f.local("i32");
  const acc = Array.from({ length: 8 }, () => f.local("v128"));
  const a01 = f.local("v128"), a23 = f.local("v128"), b01 = f.local("v128"), b23 = f.local("v128");
  const lane = f.local("v128");
  // f64 lane l of a vector, in both lanes: bytes 8l..8l+7 twice.
  const broadcast = (l: number) => {
    const bytes = Array.from({ length: 8 }, (_, i) => 8 * l + i);
    return [...bytes, ...bytes];
  };

  f.i32Const(0).set(i0);
  f.block().get(i0).get(m).i32GeS().brIf(0).loop();
  f.i32Const(0).set(j0);
  f.block().get(j0).get(n).i32GeS().brIf(0).loop();
  {
    for (const a of acc) f.f64Const(0).f64x2Splat().set(a);
    // A's panel for rows i0..i0+3 and B's for columns j0..j0+3: 32 bytes per depth step each.
    f.get(aPacked).get(i0).i32Const(3).i32Shl().get(depth).i32Mul().i32Add().tee(aPtr);
    f.get(depth).i32Const(32).i32Mul().i32Add().set(aEnd);
    f.get(bPacked).get(j0).i32Const(3).i32Shl().get(depth).i32Mul().i32Add().set(bPtr);
    f.block().get(aPtr).get(aEnd).i32GeS().brIf(0).loop();
    f.get(aPtr).v128Load(0).set(a01).get(aPtr).v128Load(16).set(a23);
    f.get(bPtr).v128Load(0).set(b01).get(bPtr).v128Load(16).set(b23);
    for (let row = 0; row < 4; row++) {
      const a = row < 2 ? a01 : a23;
      f.get(a).get(a).i8x16Shuffle(broadcast(row % 2)).set(lane);
      f.get(acc[2 * row]).get(lane).get(b01).f64x2Op("mul").f64x2Op("add").set(acc[2 * row]);
      f.get(acc[2 * row + 1]).get(lane).get(b23).f64x2Op("mul").f64x2Op("add")
        .set(acc[2 * row + 1]);
    }
    f.get(bPtr).i32Const(32).i32Add().set(bPtr);
    f.get(aPtr).i32Const(32).i32Add().tee(aPtr).get(aEnd).i32LtS().brIf(0);
    f.end().end();
    for (let row = 0; row < 4; row++) {
      f.get(c).get(i0).i32Const(row).i32Add().get(n).i32Mul().get(j0).i32Add().i32Const(3)
        .i32Shl().i32Add().set(cRow);
      f.get(cRow).get(acc[2 * row]).v128Store(0);
      f.get(cRow).get(acc[2 * row + 1]).v128Store(16);
    }
  }
  f.get(j0).i32Const(4).i32Add().tee(j0).get(n).i32LtS().brIf(0);
  f.end().end();
  f.get(i0).i32Const(4).i32Add().tee(i0).get(m).i32LtS().brIf(0);
  f.end().end();
  return f;
}
