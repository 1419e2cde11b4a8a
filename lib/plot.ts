/**
 * The old path of the plotting module, kept so that existing imports
 * (`../lib/plot.ts`, in chapters and notebooks) keep working: everything is in
 * lib/plot/ (entry lib/plot/mod.ts).
 *
 * @module
 */
export * from "./plot/mod.ts";
