/**
 * The public surface of the library. Nothing here imports an npm package:
 * data loading (lib/data) and plotting (lib/plot) are imported separately,
 * so this core runs where no registry is reachable (a GPU machine).
 */
export * from "./tensor.ts";
export * from "./backend/mod.ts";
export type {
  AdamHyper,
  BinaryOp,
  Reduction,
  Storage,
  UnaryOp,
  WindowGeometry,
} from "./backend/backend.ts";
/** The tensor operations (matmul, add, relu, softmax, ...), as `ops.matmul(a, b)`. */
export * as ops from "./ops.ts";
export { ShapeError } from "./ops.ts";
export * from "./layers/mod.ts";
export * from "./losses.ts";
export * from "./init.ts";
export * from "./optim.ts";
export * from "./random.ts";
export * from "./gradcheck.ts";
export * from "./metrics.ts";
export * from "./weights.ts";
export * from "./train/mod.ts";
export type { Dataset } from "./data/dataset.ts";
export * from "./monitors.ts";
