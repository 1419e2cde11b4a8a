// A minimal PNG encoder for 8-bit greyscale images, so an image grid can carry each image as one
// small data URL instead of one rect mark per pixel. The image data is stored uncompressed inside
// the zlib stream (deflate "stored" blocks): a 28x28 image is under 1 KB either way.

/** PNG bytes for `pixels` (row-major, 0 = black, 255 = white). */
export function encodeGreyscalePng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  if (pixels.length !== width * height) {
    throw new RangeError(
      `expected ${width * height} pixels for ${width}x${height}, got ${pixels.length}`,
    );
  }
  // Each scanline starts with its filter type; 0 means "none".
  const scanlines = new Uint8Array(height * (width + 1));
  for (let row = 0; row < height; row++) {
    scanlines.set(pixels.subarray(row * width, (row + 1) * width), row * (width + 1) + 1);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 0, 0, 0, 0], 8); // bit depth 8, greyscale, deflate, adaptive filtering, no interlace
  return concatBytes([
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", header),
    chunk("IDAT", zlibStored(scanlines)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

/** A data URL for a greyscale PNG, usable as a vega image mark's `url`. */
export function greyscalePngDataUrl(pixels: Uint8Array, width: number, height: number): string {
  return `data:image/png;base64,${encodeGreyscalePng(pixels, width, height).toBase64()}`;
}

/** length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const typeAndData = concatBytes([new TextEncoder().encode(type), data]);
  const bytes = new Uint8Array(8 + data.length + 4);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, data.length);
  bytes.set(typeAndData, 4);
  view.setUint32(8 + data.length, crc32(typeAndData));
  return bytes;
}

/** A zlib stream of uncompressed deflate blocks (at most 65535 bytes each), then Adler-32. */
function zlibStored(data: Uint8Array): Uint8Array {
  const blockSize = 65535;
  const blockCount = Math.max(1, Math.ceil(data.length / blockSize));
  const bytes = new Uint8Array(2 + blockCount * 5 + data.length + 4);
  const view = new DataView(bytes.buffer);
  bytes.set([0x78, 0x01]); // deflate, 32 KiB window, no dictionary; a multiple of 31 as zlib asks
  let offset = 2;
  for (let block = 0; block < blockCount; block++) {
    const part = data.subarray(block * blockSize, (block + 1) * blockSize);
    bytes[offset] = block === blockCount - 1 ? 1 : 0; // BFINAL bit; BTYPE 00 = stored
    view.setUint16(offset + 1, part.length, true);
    view.setUint16(offset + 3, ~part.length & 0xffff, true);
    bytes.set(part, offset + 5);
    offset += 5 + part.length;
  }
  view.setUint32(offset, adler32(data));
  return bytes;
}

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}
