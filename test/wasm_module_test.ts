/**
 * The wasm backend's module: emitted from TypeScript at import, the same bytes
 * on every run. The SHA-256 pins below change only when a kernel generator
 * does: update them on purpose, with the benchmark rerun.
 */
import assert from "node:assert/strict";
import { moduleBytes, relaxedSimdAvailable } from "../lib/backend/wasm/module.ts";
import { signedLeb, unsignedLeb } from "../lib/backend/wasm/emitter.ts";

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const pinned = {
  relaxed: "a734e034d59c94304628c245dfcdea481b4d3dc4a2cc25fa07604711609d0323",
  plain: "9b092cce461e12732a30eaca8ff206300b992d10b61260a2de68df7d00935e75",
};

Deno.test("wasm module: the emitted bytes are valid, deterministic, and pinned by SHA-256", async () => {
  for (const relaxed of [true, false]) {
    const bytes = moduleBytes({ relaxed, shared: false });
    assert.deepEqual(bytes, moduleBytes({ relaxed, shared: false }), "two builds, the same bytes");
    // The relaxed module validates only on an engine with relaxed SIMD (Deno 2.9 has it).
    if (!relaxed || relaxedSimdAvailable()) {
      assert.ok(
        WebAssembly.validate(bytes as BufferSource),
        `the module validates (relaxed ${relaxed})`,
      );
    }
    assert.equal(await sha256(bytes), relaxed ? pinned.relaxed : pinned.plain);
  }
});

Deno.test("wasm emitter: LEB128 encodings of the spec's examples", () => {
  assert.deepEqual(unsignedLeb(0), [0]);
  assert.deepEqual(unsignedLeb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(signedLeb(-123456), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(signedLeb(63), [0x3f]);
  assert.deepEqual(signedLeb(64), [0xc0, 0x00]);
  assert.deepEqual(signedLeb(-64), [0x40]);
  assert.deepEqual(signedLeb(-65), [0xbf, 0x7f]);
});
