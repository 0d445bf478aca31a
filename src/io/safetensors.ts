import { check } from "../errors.js";
import { formatDims } from "../tensor.js";
import { checkJsonStructure } from "./json_scan.js";

/** One tensor of a safetensors file, converted to float32 where its dtype is a float. */
export interface StoredTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** float32 values for F32/F16/BF16/F64 tensors; null for other dtypes (I64 counters, ...). */
  readonly data: Float32Array | null;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** Deepest JSON nesting accepted in a header (a real one nests 3 deep: header, entry, list). */
const MAX_HEADER_DEPTH = 64;
export const ITEM_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U16: 2, U32: 4, U64: 8, BOOL: 1,
};

/**
 * Parses a safetensors file (8-byte little-endian header length, JSON header, data). Aligned
 * float32 tensors are views of `bytes` (no copy).
 * Every entry is validated against the file before any is read: dtype known, shape a list
 * of non-negative integers, offsets matching the shape's size; as the format requires, the
 * tensors' byte ranges are contiguous and non-overlapping and cover the data exactly. The
 * header is checked for depth and repeated keys before it is parsed (io/json_scan.ts).
 */
export function parseSafetensors(bytes: Uint8Array, what = "safetensors"): Map<string, StoredTensor> {
  check(bytes.length >= 8, `${what}: file is truncated (${bytes.length} bytes; a safetensors file starts with an 8-byte header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  check(headerLen >= 2 && headerLen <= MAX_HEADER_BYTES, `${what}: not a safetensors file (header length ${headerLen})`);
  check(8 + headerLen <= bytes.length, `${what}: file is truncated: header needs ${headerLen} bytes, ${bytes.length - 8} present`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    check(false, `${what}: header is not valid UTF-8`);
  }
  checkJsonStructure(text, what, MAX_HEADER_DEPTH);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    check(false, `${what}: header is not valid UTF-8 JSON`);
  }
  check(typeof header === "object" && header !== null && !Array.isArray(header), `${what}: header is not a JSON object`);
  const dataStart = 8 + headerLen;
  const dataBytes = bytes.length - dataStart;
  const tensors = new Map<string, StoredTensor>();
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    check(typeof e === "object" && e !== null, `${what}: tensor '${name}' has no description`);
    const dtype = e.dtype;
    check(typeof dtype === "string" && dtype in ITEM_BYTES, `${what}: tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`);
    const shape = e.shape;
    check(Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0),
      () => `${what}: tensor '${name}' has an invalid shape ${Array.isArray(shape) ? formatDims(shape) : typeof shape}`);
    const offsets = e.data_offsets;
    check(Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => Number.isSafeInteger(o) && o >= 0) && offsets[0] <= offsets[1],
      () => `${what}: tensor '${name}' has invalid data_offsets ${Array.isArray(offsets) ? formatDims(offsets) : typeof offsets}`);
    const [begin, end] = offsets as number[];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    check(end - begin === count * ITEM_BYTES[dtype], () => `${what}: tensor '${name}' (${dtype} ${formatDims(shape)}) should span ${count * ITEM_BYTES[dtype]} bytes but its offsets span ${end - begin}`);
    check(end <= dataBytes, `${what}: file is truncated: tensor '${name}' ends at byte ${end} of a ${dataBytes}-byte data section`);
    ranges.push({ name, begin, end });
    tensors.set(name, { dtype, shape: shape as number[], data: null });
  }
  checkContiguous(ranges, dataBytes, what);
  for (const { name, begin, end } of ranges) {
    const t = tensors.get(name)!;
    const count = (end - begin) / ITEM_BYTES[t.dtype];
    tensors.set(name, { ...t, data: decodeFloats(bytes.subarray(dataStart + begin, dataStart + end), t.dtype, count) });
  }
  return tensors;
}

/** The byte ranges, in order of their start, must tile [0, dataBytes) with no gap or overlap. */
function checkContiguous(ranges: { name: string; begin: number; end: number }[], dataBytes: number, what: string): void {
  const sorted = [...ranges].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const r of sorted) {
    check(r.begin >= at, () => `${what}: tensor '${r.name}' (bytes ${r.begin}..${r.end}) overlaps the tensor before it, which ends at ${at}`);
    check(r.begin === at, () => `${what}: tensor '${r.name}' starts at byte ${r.begin}, leaving a gap after byte ${at}: the data must be contiguous`);
    at = r.end;
  }
  check(at === dataBytes, () => `${what}: the tensors cover ${at} bytes of a ${dataBytes}-byte data section: the file has trailing bytes`);
}

/**
 * Little-endian raw values of a safetensors dtype as float32; null for non-float dtypes.
 * Aligned F32 data is returned as a view of `raw`'s buffer, not a copy.
 */
export function decodeFloats(raw: Uint8Array, dtype: string, count: number): Float32Array | null {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case "F32": {
      if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, count);
      const out = new Float32Array(count);
      new Uint8Array(out.buffer).set(raw);
      return out;
    }
    case "F64":
      return Float32Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
    case "F16":
      return Float32Array.from({ length: count }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
    case "BF16": {
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    default:
      return null;
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * The `__metadata__` string map of a safetensors file ({} where it has none). The file's
 * header has been validated by parseSafetensors; values that are not strings are refused
 * as the format requires.
 */
export function safetensorsMetadata(bytes: Uint8Array, what = "safetensors"): Record<string, string> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  const metadata = header.__metadata__;
  if (metadata === undefined) return {};
  check(typeof metadata === "object" && metadata !== null && !Array.isArray(metadata) &&
    Object.values(metadata).every((v) => typeof v === "string"), `${what}: __metadata__ must be an object of strings`);
  return metadata as Record<string, string>;
}
