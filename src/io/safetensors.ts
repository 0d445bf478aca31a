import { check } from "../errors.js";
import { formatDims } from "../tensor.js";
import { parseCheckedJson } from "./json_scan.js";

/** One tensor of a safetensors file, converted to float32 where its dtype is a float. */
export interface StoredTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** float32 values for F32/F16/BF16/F64 tensors; null for other dtypes (I64 counters, ...). */
  readonly data: Float32Array | null;
}

/**
 * A tensor whose values are read on demand: from memory (a parsed file or random weights), or
 * from the model file each time for a streamed safetensors file (io/safetensors_file.ts), so
 * a model's weights are read one op at a time while they are packed, never all at once.
 */
export interface LazyTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** float32 values for float dtypes (a fresh read for a streamed file); null for other dtypes. */
  read(): Float32Array | null;
  /** Writes the float32 values of a float tensor into `out` (its element count long). */
  readInto(out: Float32Array): void;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** Deepest JSON nesting accepted in a header (a real one nests 3 deep: header, entry, list). */
const MAX_HEADER_DEPTH = 64;
export const ITEM_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  U16: 2,
  U32: 4,
  U64: 8,
  BOOL: 1,
};

/** One tensor of a safetensors header: its byte range [begin, end) within the data section. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** A validated safetensors header: the entries, where the data section starts, and the raw __metadata__. */
export interface SafetensorsHeader {
  readonly entries: readonly SafetensorsEntry[];
  readonly dataStart: number;
  readonly metadata: unknown;
}

/**
 * The header length from a file's first bytes (`first`: at least its first 8, or all of a
 * shorter file), checked against the file's size `fileBytes`.
 */
export function safetensorsHeaderLength(first: Uint8Array, fileBytes: number, what = "safetensors"): number {
  check(first.length >= 8, `${what}: file is truncated (${first.length} bytes; a safetensors file starts with an 8-byte header length)`);
  const headerLen = Number(new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true));
  check(headerLen >= 2 && headerLen <= MAX_HEADER_BYTES, `${what}: not a safetensors file (header length ${headerLen})`);
  check(8 + headerLen <= fileBytes, `${what}: file is truncated: header needs ${headerLen} bytes, ${fileBytes - 8} present`);
  return headerLen;
}

/**
 * Parses the JSON header (`header`: the file's bytes [8, 8 + length)) of a safetensors file of
 * `fileBytes` bytes. Every entry is validated against the file: dtype known, shape a list of
 * non-negative integers, offsets matching the shape's size; as the format requires, the
 * tensors' byte ranges are contiguous and non-overlapping and cover the data exactly. The
 * header is checked for depth and repeated keys as it is parsed (io/json_scan.ts).
 */
export function parseSafetensorsHeader(header: Uint8Array, fileBytes: number, what = "safetensors"): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(header);
  } catch {
    check(false, `${what}: header is not valid UTF-8`);
  }
  const parsed = parseCheckedJson(text, what, MAX_HEADER_DEPTH, "header is not valid UTF-8 JSON");
  check(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed), `${what}: header is not a JSON object`);
  const dataStart = 8 + header.length;
  const dataBytes = fileBytes - dataStart;
  const entries: SafetensorsEntry[] = [];
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === "__metadata__") continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    check(typeof e === "object" && e !== null, () => `${what}: tensor '${name}' has no description`);
    const dtype = e.dtype;
    check(typeof dtype === "string" && dtype in ITEM_BYTES, () => `${what}: tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`);
    const shape = e.shape;
    check(
      Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0),
      () => `${what}: tensor '${name}' has an invalid shape ${Array.isArray(shape) ? formatDims(shape) : typeof shape}`,
    );
    const offsets = e.data_offsets;
    check(
      Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => Number.isSafeInteger(o) && o >= 0) && offsets[0] <= offsets[1],
      () => `${what}: tensor '${name}' has invalid data_offsets ${Array.isArray(offsets) ? formatDims(offsets) : typeof offsets}`,
    );
    const [begin, end] = offsets as number[];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    check(
      end - begin === count * ITEM_BYTES[dtype],
      () =>
        `${what}: tensor '${name}' (${dtype} ${formatDims(shape)}) should span ${count * ITEM_BYTES[dtype]} bytes but its offsets span ${end - begin}`,
    );
    check(end <= dataBytes, () => `${what}: file is truncated: tensor '${name}' ends at byte ${end} of a ${dataBytes}-byte data section`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  checkContiguous(entries, dataBytes, what);
  return { entries, dataStart, metadata: (parsed as Record<string, unknown>).__metadata__ };
}

/**
 * Parses a safetensors file (8-byte little-endian header length, JSON header, data), the
 * header validated by parseSafetensorsHeader. Aligned float32 tensors are views of `bytes`
 * (no copy).
 */
export function parseSafetensors(bytes: Uint8Array, what = "safetensors"): Map<string, StoredTensor> {
  const headerLen = safetensorsHeaderLength(bytes, bytes.length, what);
  const { entries, dataStart } = parseSafetensorsHeader(bytes.subarray(8, 8 + headerLen), bytes.length, what);
  const tensors = new Map<string, StoredTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    const count = (end - begin) / ITEM_BYTES[dtype];
    tensors.set(name, { dtype, shape, data: decodeFloats(bytes.subarray(dataStart + begin, dataStart + end), dtype, count) });
  }
  return tensors;
}

/** The byte ranges, in order of their start, must tile [0, dataBytes) with no gap or overlap. */
function checkContiguous(ranges: readonly { name: string; begin: number; end: number }[], dataBytes: number, what: string): void {
  const sorted = [...ranges].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const r of sorted) {
    check(
      r.begin >= at,
      () => `${what}: tensor '${r.name}' (bytes ${r.begin}..${r.end}) overlaps the tensor before it, which ends at ${at}`,
    );
    check(
      r.begin === at,
      () => `${what}: tensor '${r.name}' starts at byte ${r.begin}, leaving a gap after byte ${at}: the data must be contiguous`,
    );
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
  return checkMetadata(header.__metadata__, what);
}

/** A header's `__metadata__` as a string map ({} where absent); values that are not strings are refused, as the format requires. */
export function checkMetadata(metadata: unknown, what = "safetensors"): Record<string, string> {
  if (metadata === undefined) return {};
  check(
    typeof metadata === "object" &&
      metadata !== null &&
      !Array.isArray(metadata) &&
      Object.values(metadata).every((v) => typeof v === "string"),
    `${what}: __metadata__ must be an object of strings`,
  );
  return metadata as Record<string, string>;
}
