import { check } from "../errors.js";
import type { AnyTensor, Tensor } from "../tensor.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/**
 * Parses a NumPy .npy file holding a little-endian float32 array in C order (format
 * versions 1-3). Anything else (other dtypes, Fortran order, truncated data) is an error
 * naming what was found.
 */
export function parseNpy(bytes: Uint8Array, what = "npy"): Tensor {
  const t = parseNpyAny(bytes, what);
  check(t.data instanceof Float32Array, `${what}: dtype <i8 is not supported here; expected float32 ('<f4')`);
  return t as Tensor;
}

/** Like parseNpy, but also takes little-endian int64 ('<i8') arrays, as BigInt64Array. */
export function parseNpyAny(bytes: Uint8Array, what = "npy"): AnyTensor {
  check(bytes.length >= 10 && MAGIC.every((b, i) => bytes[i] === b), `${what}: not a .npy file (bad magic)`);
  const major = bytes[6];
  check(major >= 1 && major <= 3, `${what}: unsupported .npy format version ${major}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLen;
  check(dataStart <= bytes.length, `${what}: truncated header`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, dataStart));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  check(descr !== undefined && fortran !== undefined && shapeText !== undefined, `${what}: malformed header ${JSON.stringify(header.trim())}`);
  check(descr === "<f4" || descr === "<i8", `${what}: dtype ${descr} is not supported; expected float32 ('<f4') or int64 ('<i8')`);
  check(fortran === "False", `${what}: Fortran-order arrays are not supported; save it in C order (np.ascontiguousarray)`);
  const dims = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    check(/^\d+$/.test(s), `${what}: bad shape entry '${s}'`);
    return Number(s);
  });
  const count = dims.reduce((a, b) => a * b, 1);
  const itemBytes = descr === "<f4" ? 4 : 8;
  check(Number.isSafeInteger(count) && bytes.length - dataStart >= count * itemBytes,
    `${what}: truncated data: shape [${dims.join(", ")}] needs ${count * itemBytes} bytes, file has ${bytes.length - dataStart}`);
  const data = descr === "<f4" ? new Float32Array(count) : new BigInt64Array(count);
  new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + count * itemBytes));
  return data instanceof Float32Array ? { data, dims } : { data, dims };
}

/** Serialises a float32 or int64 tensor as a version-1 .npy file (C order). */
export function formatNpy(tensor: AnyTensor): Uint8Array {
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(", ")})`;
  const descr = tensor.data instanceof BigInt64Array ? "<i8" : "<f4";
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += `${" ".repeat(pad % 64)}\n`;
  const out = new Uint8Array(10 + header.length + tensor.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), 10 + header.length);
  return out;
}
