import { check } from "../errors.js";
import { type AnyTensor, type Tensor, formatDims } from "../tensor.js";
import { isTuple, parsePyLiteral } from "./py_literal.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** Longest header read (numpy itself refuses headers over 10,000 bytes unless told otherwise). */
const MAX_HEADER_BYTES = 1 << 20;
/** numpy's limit on the number of dimensions (NPY_MAXDIMS in numpy 2). */
const MAX_RANK = 64;
const DTYPES = { "<f4": 4, "<i8": 8 } as const;

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

/** The header of a .npy file: where its data starts, and what it holds. */
export interface NpyHeader {
  readonly dataStart: number;
  readonly descr: keyof typeof DTYPES;
  readonly dims: number[];
  /** Bytes of data the header promises. */
  readonly dataBytes: number;
}

/**
 * Reads and checks a .npy header from the first bytes of a file. The header is parsed as
 * the Python dict literal it is (io/py_literal.ts), with numpy's own rules: exactly the keys
 * 'descr', 'fortran_order' and 'shape' (a repeated key keeps the last value, as Python's
 * literal_eval does), a tuple of non-negative ints as the shape.
 */
export function parseNpyHeader(bytes: Uint8Array, what = "npy"): NpyHeader {
  check(bytes.length >= 10 && MAGIC.every((b, i) => bytes[i] === b), `${what}: not a .npy file (bad magic)`);
  const major = bytes[6];
  check(major >= 1 && major <= 3 && bytes[7] === 0, `${what}: unsupported .npy format version ${major}.${bytes[7]}`);
  check(major === 1 || bytes.length >= 12, `${what}: truncated header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  check(headerLen <= MAX_HEADER_BYTES, `${what}: header of ${headerLen} bytes is over the limit of ${MAX_HEADER_BYTES}`);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLen;
  check(dataStart <= bytes.length, `${what}: truncated header`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, dataStart));
  const dict = parsePyLiteral(header, what);
  check(dict instanceof Map, `${what}: malformed header: not a dict`);
  const keys = [...dict.keys()].sort();
  check(
    keys.join() === "descr,fortran_order,shape",
    () => `${what}: malformed header: keys are [${keys.join(", ")}], expected exactly descr, fortran_order and shape`,
  );
  const descr = dict.get("descr"),
    fortran = dict.get("fortran_order"),
    shape = dict.get("shape");
  check(typeof descr === "string", `${what}: malformed header: 'descr' is not a string`);
  check(typeof fortran === "boolean", `${what}: malformed header: 'fortran_order' is not True or False`);
  check(isTuple(shape) && shape.every((d) => typeof d === "number"), `${what}: malformed header: 'shape' is not a tuple of integers`);
  check(Object.hasOwn(DTYPES, descr), () => `${what}: dtype ${descr} is not supported; expected float32 ('<f4') or int64 ('<i8')`);
  check(!fortran, `${what}: Fortran-order arrays are not supported; save it in C order (np.ascontiguousarray)`);
  const dims = shape as readonly number[] as number[];
  check(dims.length <= MAX_RANK, `${what}: shape has ${dims.length} dimensions, over numpy's limit of ${MAX_RANK}`);
  const itemBytes = DTYPES[descr as keyof typeof DTYPES];
  let dataBytes = itemBytes;
  for (const d of dims) dataBytes *= d;
  check(Number.isSafeInteger(dataBytes), () => `${what}: shape ${formatDims(dims)} is too large`);
  return { dataStart, descr: descr as keyof typeof DTYPES, dims: [...dims], dataBytes };
}

/**
 * How much of a .npy file to read (for readRegularFile): its first bytes, enough for any
 * accepted header, decide the rest; a malformed header is an error naming `what`.
 */
export function npyReadBound(what: string): { headBytes: number; total: (head: Uint8Array) => number } {
  return {
    headBytes: 12 + MAX_HEADER_BYTES,
    total: (head) => {
      const h = parseNpyHeader(head, what);
      return h.dataStart + h.dataBytes;
    },
  };
}

/** Like parseNpy, but also takes little-endian int64 ('<i8') arrays, as BigInt64Array. */
export function parseNpyAny(bytes: Uint8Array, what = "npy"): AnyTensor {
  const { dataStart, descr, dims, dataBytes } = parseNpyHeader(bytes, what);
  const present = bytes.length - dataStart;
  check(present >= dataBytes, () => `${what}: truncated data: shape ${formatDims(dims)} needs ${dataBytes} bytes, file has ${present}`);
  const count = dataBytes / DTYPES[descr];
  const data = descr === "<f4" ? new Float32Array(count) : new BigInt64Array(count);
  new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + dataBytes));
  return data instanceof Float32Array ? { data, dims } : { data, dims };
}

/**
 * Serialises a float32 or int64 tensor as a .npy file (C order), as numpy.save writes it:
 * format 1.0, or 2.0 (a 4-byte header length) when the header does not fit in 65,535 bytes;
 * the header is space-padded so the data starts at a multiple of 64 bytes.
 */
export function formatNpy(tensor: AnyTensor): Uint8Array {
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(", ")})`;
  const descr = tensor.data instanceof BigInt64Array ? "<i8" : "<f4";
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const padded = (preamble: number) => `${dict}${" ".repeat((64 - ((preamble + dict.length + 1) % 64)) % 64)}\n`;
  let header = padded(10);
  const major = header.length <= 0xffff ? 1 : 2;
  if (major === 2) header = padded(12);
  const preamble = major === 1 ? 10 : 12;
  const out = new Uint8Array(preamble + header.length + tensor.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), preamble + header.length);
  return out;
}
