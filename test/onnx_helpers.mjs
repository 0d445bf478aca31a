// Helpers for the ONNX tests: a .npy reader for float32 and int64 arrays, the shared
// assertions, and small builders of ONNX models.
import { parseNpyAny } from "../dist/index.js";
import { modelProtoType } from "../dist/onnx/proto.js";

export { assertMatchesReference, rejectsWith } from "./helpers.mjs";

/** Parses a .npy of dtype '<f4' or '<i8' (the library's parseNpyAny). */
export const readNpy = (bytes) => parseNpyAny(bytes);

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
    irVersion: 8,
    opsetImport: [{ domain: "", version: opset }],
    graph: { name: "test", node: nodes, input: inputs, output: outputs, initializer: initializers },
  });
}

/** A float32 (elemType 1) or other tensor value info; string dims are symbolic. */
export function valueInfo(name, dims, elemType = 1) {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) } } },
  };
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
