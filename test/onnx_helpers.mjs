// Helpers for the ONNX tests: a .npy reader for float32 and int64 arrays (the library's
// parseNpy is float32-only), and an assertion that a promise rejects with a one-line DenseNetError.
import * as assert from "uvu/assert";
import { DenseNetError } from "../dist/index.js";

const TYPES = { "<f4": Float32Array, "<i8": BigInt64Array };

/** Parses a little-endian, C-order .npy of dtype '<f4' or '<i8' (format version 1). */
export function readNpy(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getUint16(8, true);
  const header = new TextDecoder("latin1").decode(bytes.subarray(10, 10 + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)[1];
  const Type = TYPES[descr];
  if (!Type || !/'fortran_order'\s*:\s*False/.test(header)) throw new Error(`unsupported .npy header ${header}`);
  const dims = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)[1].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const start = 10 + headerLen;
  const data = new Type(count);
  new Uint8Array(data.buffer).set(bytes.subarray(start, start + count * Type.BYTES_PER_ELEMENT));
  return { data, dims };
}

/** Asserts that `promise` rejects with a DenseNetError whose message is one line matching `pattern`. */
export async function rejectsWith(promise, pattern) {
  try {
    await promise;
  } catch (e) {
    assert.instance(e, DenseNetError, `expected a DenseNetError, got ${e?.stack ?? e}`);
    assert.ok(!e.message.includes("\n"), `message is not one line: ${JSON.stringify(e.message)}`);
    assert.ok(pattern.test(e.message), `message '${e.message}' does not match ${pattern}`);
    return e.message;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}
