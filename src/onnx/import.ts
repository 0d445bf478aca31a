import { DenseNetError } from "../errors.js";
import type { InterpretedModel, LoadedModel } from "../model/load.js";
import type { Tensor } from "../tensor.js";
import { readGraph } from "./graph.js";
import { compileProgram } from "./interpreter.js";
import { decodeModel } from "./proto.js";
import type { OnnxTensor } from "./tensor.js";

/**
 * Imports an ONNX model (protobuf bytes): a graph of the DenseNet op set lowers to the
 * planned, fused kernels; anything else runs on the interpreter. Every problem with the
 * file (corrupt bytes, unsupported ops or attributes, inconsistent shapes) is an error here,
 * at load time, prefixed with `name`.
 */
export function importOnnx(bytes: Uint8Array, name: string): LoadedModel {
  const proto = decodeModel(bytes, name);
  try {
    const graph = readGraph(proto);
    const program = compileProgram(graph);
    const parameters = [...graph.constants.values()].reduce((n, t) => n + (t.data instanceof Float32Array ? t.data.length : 0), 0);
    const model: InterpretedModel = {
      kind: "interpreted", name, parameters,
      inputNames: graph.inputs.map((v) => v.name), outputNames: graph.outputs.map((v) => v.name),
      // The public Tensor is float32-only today; int64 tensors pass through as { data: BigInt64Array, dims }.
      run: (feeds) => program.run(feeds as Readonly<Record<string, OnnxTensor>>) as Record<string, Tensor>,
    };
    return model;
  } catch (e) {
    if (e instanceof DenseNetError) throw new DenseNetError(`${name}: ${e.message}`);
    throw e;
  }
}
