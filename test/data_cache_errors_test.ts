// What a learner sees when the data cache or the npm data packages are damaged.
import assert from "node:assert/strict";
import { type ImageSource, loadSourceImages, readPackageJson } from "../lib/data/cache.ts";

const tinySource: ImageSource = {
  id: "tiny@1",
  expected: { count: 2, features: 3, classes: 2 },
  parse: () =>
    Promise.resolve({
      count: 2,
      features: 3,
      classes: 2,
      labels: new Uint8Array([0, 1]),
      pixels: new Uint8Array([1, 2, 3, 4, 5, 6]),
    }),
};
const quiet = { onProgress: () => {} };

Deno.test("a temporary file left by an interrupted build is removed; a fresh one is kept", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const abandoned = `${dir}/tiny@1.bin.0000.tmp`, live = `${dir}/tiny@1.bin.1111.tmp`;
    await Deno.writeFile(abandoned, new Uint8Array(100));
    await Deno.writeFile(live, new Uint8Array(100));
    const hourAgo = new Date(Date.now() - 60 * 60 * 1000);
    await Deno.utime(abandoned, hourAgo, hourAgo);
    const images = await loadSourceImages(tinySource, { cacheDir: dir, ...quiet });
    assert.deepEqual([...images.labels], [0, 1]);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["tiny@1.bin", "tiny@1.bin.1111.tmp"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a directory where the cache file belongs is named, with the fix", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/tiny@1.bin`);
    await assert.rejects(
      () => loadSourceImages(tinySource, { cacheDir: dir, ...quiet }),
      /cache file .*tiny@1\.bin is a directory\. Remove it/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file where the cache folder belongs: the images still load, and the reason is said", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/cache`, "not a folder");
    const messages: string[] = [];
    const images = await loadSourceImages(tinySource, {
      cacheDir: `${dir}/cache`,
      onProgress: (message) => messages.push(message),
    });
    assert.equal(images.count, 2);
    assert.match(messages.join("\n"), /could not write cache/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing or damaged package file gives the reinstall that works", async () => {
  await assert.rejects(
    () => readPackageJson("node_modules/no-such-package/data.json"),
    /not found: the npm package is missing or incomplete\. .*rm -rf node_modules && deno install/,
  );
  await Deno.mkdir(".cache", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: ".cache" });
  try {
    await Deno.writeTextFile(`${dir}/broken.json`, '{"truncated": [1, 2');
    await assert.rejects(
      () => readPackageJson(`${dir}/broken.json`),
      /broken\.json is damaged .*rm -rf node_modules && deno install/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
