// ONNX import: decode, check and compile the graph, then lower it to the planned kernels or
// keep it on the interpreter.
import { DenseNetError, check } from "../errors.js";
import type { InterpretedModel, PlannedModel } from "../model/types.js";
import { type OnnxGraph, type ValueInfo, formatDeclared, readGraph } from "./graph.js";
import { type Program, compileProgram } from "./interpreter.js";
import { NotLowerable, lowerToPlan } from "./lower.js";
import { parseModelMetadata } from "../model/metadata.js";
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
    metadata: parseModelMetadata(Object.fromEntries((proto.metadataProps ?? []).map((p) => [p.key, p.value])), name),
  };
  let lowered: ReturnType<typeof lowerToPlan>;
  try {
    lowered = lowerToPlan(graph, program.types);
  } catch (e) {
    // The graph already compiled for the interpreter, so whatever stops the lowering (a
    // NotLowerable, or a check of a pattern the lowering assumed) only means: interpret it.
    if (!(e instanceof NotLowerable || e instanceof DenseNetError)) throw e;
    return { ...base, kind: "interpreted", notPlanned: e.message, run: (feeds) => program.run(feeds) };
  }
  checkFiniteWeights(graph, name);
  const { graph: planned, outputRank } = lowered;
  const input = graph.inputs[0];
  const classes = planned.buffers[planned.output].channels;
  return {
    ...base, kind: "planned", graph: planned, config: null, randomWeights: false,
    outputDims: (n) => (outputRank === 2 ? [n, classes] : [n, classes, 1, 1]),
    checkInput: (dims) => checkFixedDims(input, dims),
  };
}

/** A planned model's weights must be finite: a NaN or infinity would silently poison every output. */
function checkFiniteWeights(graph: OnnxGraph, name: string): void {
  for (const [tensor, value] of graph.constants) {
    if (!(value.data instanceof Float32Array)) continue;
    const i = value.data.findIndex((v) => !Number.isFinite(v));
    check(i < 0, () => `${name}: initializer '${tensor}' holds a non-finite value (${value.data[i]}) at index ${i}`);
  }
}

function checkFixedDims(input: ValueInfo, dims: readonly number[]): void {
  const declared = input.dims!;
  check(declared.every((d, i) => typeof d !== "number" || d === dims[i]),
    () => `input '${input.name}' has shape [${dims.join(", ")}], the model expects ${formatDeclared(declared)}`);
}
