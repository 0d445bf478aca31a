// Reads the gzip IDX files of MNIST-style data sets (big-endian dims after a 4-byte magic
// whose last byte is the rank; unsigned bytes), as Debian's dataset-fashion-mnist ships them.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/**
 * { dims, data: Uint8Array } of a .gz IDX file of unsigned bytes (magic 0x0801 / 0x0803).
 * @param {string | URL} path
 * @returns {{ dims: number[], data: Uint8Array }}
 */
export function readIdx(path) {
  const bytes = gunzipSync(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0 || bytes[2] !== 0x08) throw new Error(`${path}: not an unsigned-byte IDX file`);
  const dims = Array.from({ length: bytes[3] }, (_, i) => view.getUint32(4 + 4 * i));
  return { dims, data: bytes.subarray(4 + 4 * dims.length) };
}

/**
 * Greyscale images (N, H, W) as decoded images { width, height, mode: "L", data }.
 * @param {{ dims: readonly number[], data: Uint8Array }} idx
 * @returns {import("../dist/image/index.js").DecodedImage8[]}
 */
export function idxImages({ dims: [n, h, w], data }) {
  return Array.from({ length: n }, (_, i) => ({ width: w, height: h, mode: "L", data: data.subarray(i * h * w, (i + 1) * h * w) }));
}
