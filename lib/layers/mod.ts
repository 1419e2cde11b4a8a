export * from "./layer.ts";
export * from "./linear.ts";
export * from "./activations.ts";
export * from "./sequential.ts";
export * from "./conv.ts";
export * from "./dropout.ts";
