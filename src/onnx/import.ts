import { DenseNetError } from "../errors.js";
import type { LoadedModel } from "../model/load.js";

/** Imports an ONNX model (protobuf bytes). */
export function importOnnx(_bytes: Uint8Array, name: string): LoadedModel {
  throw new DenseNetError(`${name}: ONNX models are not supported yet`);
}
