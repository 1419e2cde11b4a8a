/**
 * The old path of the training module, kept so that existing imports
 * (`../lib/train.ts`) keep working: everything is in lib/train/.
 *
 * @module
 */
export * from "./train/mod.ts";
