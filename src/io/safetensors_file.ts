// A safetensors file read in place: the header is read and validated when it is opened, each
// tensor's bytes only when it is asked for, by a positional read into a buffer of that
// tensor's size (float32 data lands straight in the Float32Array returned). The file is never
// held whole in memory: a model's weights go from the file to their packed panels in linear
// memory one op at a time (model/load.ts, plan/pack_weights.ts).
import { closeSync } from "node:fs";
import { check } from "../errors.js";
import { openRegularFileSync, readFullySync } from "./file.js";
import {
  ITEM_BYTES,
  type LazyTensor,
  checkMetadata,
  decodeFloats,
  parseSafetensorsHeader,
  safetensorsHeaderLength,
} from "./safetensors.js";

export interface SafetensorsFile {
  /** The tensors by name; each read() reads the file again. */
  readonly tensors: Map<string, LazyTensor>;
  readonly metadata: Record<string, string>;
  /** Closes the file; reads after it fail. */
  close(): void;
}

/** True when the first bytes of the file at `fd` look like a safetensors header: a u64 length < 2^48, then '{'. */
export function looksLikeSafetensors(first: Uint8Array): boolean {
  return first.length >= 9 && first[8] === 0x7b && first[6] === 0 && first[7] === 0;
}

/**
 * Opens the safetensors file at `path` (a regular file; `what` names it in errors) and
 * validates its header against the file's size, as parseSafetensors does for bytes. Returns
 * null, with nothing left open, when the file does not start like a safetensors file.
 */
export function openSafetensorsFile(path: string, what: string): SafetensorsFile | null {
  const { fd, size } = openRegularFileSync(path, "model file");
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  try {
    const first = new Uint8Array(Math.min(size, 9));
    readFullySync(fd, first, 0, `model file '${path}'`);
    if (!looksLikeSafetensors(first)) {
      close();
      return null;
    }
    const headerLen = safetensorsHeaderLength(first, size, what);
    const headerBytes = new Uint8Array(headerLen);
    check(readFullySync(fd, headerBytes, 8, `model file '${path}'`), `${what}: the file shrank while it was read`);
    const header = parseSafetensorsHeader(headerBytes, size, what);
    const metadata = checkMetadata(header.metadata, what);
    const tensors = new Map<string, LazyTensor>();
    const fileWhat = `model file '${path}'`;
    for (const { name, dtype, shape, begin, end } of header.entries) {
      const count = (end - begin) / ITEM_BYTES[dtype];
      const readBytes = (raw: Uint8Array) => {
        check(open, () => `${what}: tensor '${name}' read after the file was closed`);
        check(
          readFullySync(fd, raw, header.dataStart + begin, fileWhat),
          () => `${what}: the file ended before tensor '${name}' (it shrank while it was read)`,
        );
      };
      // float32 is read straight into the array it is wanted in; other float dtypes into bytes, then converted.
      const read = (): Float32Array | null => {
        if (!(dtype in FLOATS)) return null;
        const out = new Float32Array(count);
        readInto(out);
        return out;
      };
      const readInto = (out: Float32Array): void => {
        if (dtype === "F32") {
          readBytes(new Uint8Array(out.buffer, out.byteOffset, end - begin));
        } else {
          const raw = new Uint8Array(end - begin);
          readBytes(raw);
          out.set(decodeFloats(raw, dtype, count)!);
        }
      };
      tensors.set(name, { dtype, shape, read, readInto });
    }
    return { tensors, metadata, close };
  } catch (e) {
    close();
    throw e;
  }
}

const FLOATS = { F32: 1, F16: 1, BF16: 1, F64: 1 };
