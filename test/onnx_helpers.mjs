// Helpers for the ONNX tests: a .npy reader for float32 and int64 arrays (the library's
// parseNpy is float32-only), an assertion that a promise rejects with a one-line
// DenseNetError, and small builders of ONNX models.
import * as assert from "uvu/assert";
import { DenseNetError } from "../dist/index.js";
import { modelProtoType } from "../dist/onnx/proto.js";

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

/**
 * The golden bound against PyTorch: max|y - ref| <= 1e-4 * max|ref| over the output, and the
 * same top-1 class in every row of ref's (N, classes, ...) layout.
 */
export function assertMatchesReference(y, ref) {
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < ref.data.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(y.data[i] - ref.data[i]));
    maxRef = Math.max(maxRef, Math.abs(ref.data[i]));
  }
  assert.ok(maxErr <= 1e-4 * maxRef, `max|err| ${maxErr.toExponential(3)} > 1e-4 * max|ref| ${maxRef.toExponential(3)}`);
  const [n, classes] = ref.dims;
  const argmax = (data, offset) => {
    let best = 0;
    for (let i = 1; i < classes; i++) if (data[offset + i] > data[offset + best]) best = i;
    return best;
  };
  for (let i = 0; i < n; i++) assert.is(argmax(y.data, i * classes), argmax(ref.data, i * classes), `top-1 of image ${i}`);
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

// ---- building ONNX models in tests (encoded with the runtime's own ModelProto schema) ----

const ModelProto = modelProtoType();

/** ModelProto bytes from a plain object ({ irVersion, opsetImport, graph: {...} }, ONNX field names in camelCase). */
export function encodeModel(model) {
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** A model's bytes decoded to a plain object that encodeModel accepts back. */
export function decodeToObject(bytes) {
  return ModelProto.toObject(ModelProto.decode(bytes));
}

/** A one-graph model at an ai.onnx opset. */
export function model({ opset = 13, nodes, inputs, outputs, initializers = [] }) {
  return encodeModel({
    irVersion: 8, opsetImport: [{ domain: "", version: opset }],
    graph: { name: "test", node: nodes, input: inputs, output: outputs, initializer: initializers },
  });
}

/** A float32 (elemType 1) or other tensor value info; string dims are symbolic. */
export function valueInfo(name, dims, elemType = 1) {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) } } } };
}

export function node(opType, input, output, name = "", attribute = []) {
  return { opType, input, output, name, attribute };
}

export const attr = {
  int: (name, i) => ({ name, type: 2, i }),
  ints: (name, ints) => ({ name, type: 7, ints }),
  float: (name, f) => ({ name, type: 1, f }),
  string: (name, s) => ({ name, type: 3, s: new TextEncoder().encode(s) }),
};

/** A float32 initializer filled with `fill`. */
export function floatTensor(name, dims, fill = 0.5) {
  return { name, dims, dataType: 1, floatData: new Array(dims.reduce((a, b) => a * b, 1)).fill(fill) };
}
