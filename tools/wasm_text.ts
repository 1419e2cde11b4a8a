/**
 * The wasm backend's module as WebAssembly text, to read what the kernel generators emit:
 *
 *     deno task wasm:text                 # every kernel, with relaxed SIMD's fused multiply-add
 *     deno task wasm:text tiles pack8     # only the functions whose name contains one of these
 *     deno task wasm:text --no-relaxed    # the fallback module (f32x4.mul + f32x4.add)
 *
 * The module is built exactly as the backend builds it (lib/backend/wasm/module.ts); the
 * disassembler is the npm `wabt` package, used by this tool only (the library does not import
 * it). Names come from the module's name section; locals are numbered as in the generators.
 */
import wabtInit from "wabt";
import { moduleBytes } from "../lib/backend/wasm/module.ts";

const relaxed = !Deno.args.includes("--no-relaxed");
const filters = Deno.args.filter((a) => !a.startsWith("--"));
const bytes = moduleBytes({ relaxed, shared: false });
const wabt = await wabtInit();
const module = wabt.readWasm(bytes, {
  readDebugNames: true,
  simd: true,
  relaxed_simd: true,
  threads: true,
});
module.generateNames();
module.applyNames();
const text = module.toText({ foldExprs: false, inlineExport: true });
module.destroy();

if (filters.length === 0) {
  console.log(text);
} else {
  // One function per "(func" block, up to the next one.
  const blocks = text.split(/\n(?=\s*\(func )/);
  const chosen = blocks.filter((block) =>
    block.trimStart().startsWith("(func") &&
    filters.some((name) => (block.match(/^\s*\(func \$(\S+)/)?.[1] ?? "").includes(name))
  );
  if (chosen.length === 0) {
    const names = blocks.map((b) => b.match(/^\s*\(func \$(\S+)/)?.[1]).filter(Boolean);
    console.error(`no function matches ${filters.join(", ")}; the module has: ${names.join(", ")}`);
    Deno.exit(1);
  }
  console.log(chosen.join("\n"));
}
console.error(
  `${bytes.length.toLocaleString("en-US")} bytes, relaxed SIMD ${relaxed ? "on" : "off"}`,
);
