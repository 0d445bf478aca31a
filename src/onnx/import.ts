// ONNX import: decode, check and compile the graph, then lower it to the planned kernels or
// keep it on the interpreter.
import { DenseNetError, check } from "../errors.js";
import type { InterpretedModel, PlannedModel } from "../model/load.js";
import { type OnnxGraph, type ValueInfo, formatDeclared, readGraph } from "./graph.js";
import { type Program, compileProgram } from "./interpreter.js";
import { NotLowerable, lowerToPlan } from "./lower.js";
import { decodeModel } from "./proto.js";


/**
 * Imports an ONNX model (protobuf bytes). Every node is checked and compiled for the
 * interpreter first, so unsupported ops, attributes and inconsistent shapes are load-time
 * errors (prefixed with `name`) whichever path runs. A graph of per-image convnet ops then
 * lowers to the planned, fused kernels; anything else runs on the interpreter.
 */
export function importOnnx(bytes: Uint8Array, name: string): PlannedModel | InterpretedModel {
  const proto = decodeModel(bytes, name);
  let graph: OnnxGraph, program: Program;
  try {
    graph = readGraph(proto);
    program = compileProgram(graph);
  } catch (e) {
    if (e instanceof DenseNetError) throw new DenseNetError(`${name}: ${e.message}`);
    throw e;
  }
  const base = {
    name, inputNames: graph.inputs.map((v) => v.name), outputNames: graph.outputs.map((v) => v.name),
    parameters: [...graph.constants.values()].reduce((n, t) => n + (t.data instanceof Float32Array ? t.data.length : 0), 0),
  };
  let reason: string;
  try {
    const { graph: planned, outputRank } = lowerToPlan(graph, program.types);
    const input = graph.inputs[0];
    const classes = planned.buffers[planned.output].channels;
    return {
      ...base, kind: "planned", graph: planned, config: null, randomWeights: false,
      outputDims: (n) => (outputRank === 2 ? [n, classes] : [n, classes, 1, 1]),
      checkInput: (dims) => checkFixedDims(input, dims),
    };
  } catch (e) {
    // The graph already compiled for the interpreter, so whatever stops the lowering (a
    // NotLowerable, or a check of a pattern the lowering assumed) only means: interpret it.
    if (!(e instanceof NotLowerable || e instanceof DenseNetError)) throw e;
    reason = e.message;
  }
  return {
    ...base, kind: "interpreted", notPlanned: reason,
    run: (feeds) => program.run(feeds),
  };
}

function checkFixedDims(input: ValueInfo, dims: readonly number[]): void {
  const declared = input.dims!;
  check(declared.every((d, i) => typeof d !== "number" || d === dims[i]),
    () => `input '${input.name}' has shape [${dims.join(", ")}], the model expects ${formatDeclared(declared)}`);
}
