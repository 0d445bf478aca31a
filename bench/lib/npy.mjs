// float32 C-order .npy files for the benchmarks (inputs, and every runtime's logits): read by
// the suite and the peer runners, written by the harness. (The library's own reader is
// src/io/npy.ts; this one also reads <f8, which PyTorch references may be.)
import { readFileSync, renameSync, writeFileSync } from "node:fs";

/** { shape, data: Float32Array } of a .npy file of dtype <f4 or <f8 (converted), C order. */
export function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString("latin1", 1, 6) !== "NUMPY") {
    throw new Error(`${path}: not a .npy file`);
  }
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString(major >= 3 ? "utf8" : "latin1", hstart, hstart + hlen);
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeStr === undefined) {
    throw new Error(`${path}: cannot parse .npy header ${header}`);
  }
  if (fortran === "True") throw new Error(`${path}: fortran_order arrays are not supported`);
  const shape = shapeStr
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((p, d) => p * d, 1);
  const off = hstart + hlen;
  let data;
  if (descr === "<f4" || descr === "|f4") {
    // copy into a fresh, aligned buffer
    data = new Float32Array(count);
    new Uint8Array(data.buffer).set(buf.subarray(off, off + count * 4));
  } else if (descr === "<f8") {
    const d64 = new Float64Array(count);
    new Uint8Array(d64.buffer).set(buf.subarray(off, off + count * 8));
    data = Float32Array.from(d64);
  } else {
    throw new Error(`${path}: dtype ${descr} not supported (float32 little-endian expected)`);
  }
  if (buf.length - off < data.byteLength) throw new Error(`${path}: truncated`);
  return { shape, data };
}

/** Writes data (float32) as a .npy of `shape`, atomically (a temporary file renamed). */
export function writeNpy(path, shape, data) {
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shp}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += `${" ".repeat(pad % 64)}\n`;
  const pre = Buffer.alloc(10);
  pre[0] = 0x93;
  pre.write("NUMPY", 1, "latin1");
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([pre, Buffer.from(header, "latin1"), Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength)]));
  renameSync(tmp, path);
}
