// ONNX import: decode, check and compile the graph, then lower it to the planned kernels or
// keep it on the interpreter.
import { DenseNetError, check } from "../errors.js";
import type { InterpretedModel, PlannedModel } from "../model/types.js";
import { Attributes } from "./attributes.js";
import { MAX_NODES, type OnnxGraph, type ValueInfo, formatDeclared, readGraph } from "./graph.js";
import { type Program, compileProgram } from "./interpreter.js";
import { NotLowerable, lowerToPlan } from "./lower.js";
import { parseModelMetadata } from "../model/metadata.js";
import { decodeModel } from "./proto.js";
import { countGraphEntries } from "./wire_scan.js";
import { firstNonFinite } from "../tensor.js";

/**
 * Imports an ONNX model (protobuf bytes). Every node is checked and compiled for the
 * interpreter first, so unsupported ops, attributes and inconsistent shapes are load-time
 * errors (prefixed with `name`) whichever path runs. A graph of per-image convnet ops then
 * lowers to the planned, fused kernels; anything else runs on the interpreter.
 */
export function importOnnx(bytes: Uint8Array, name: string): PlannedModel | InterpretedModel {
  const counts = countGraphEntries(bytes);
  check(
    counts === null || counts.nodes <= MAX_NODES,
    () => `${name}: the graph has ${counts!.nodes} nodes, over the limit of ${MAX_NODES}`,
  );
  check(
    counts === null || counts.initializers <= MAX_NODES,
    () => `${name}: the graph has ${counts!.initializers} initializers, over the limit of ${MAX_NODES}`,
  );
  const proto = decodeModel(bytes, name);
  let graph: OnnxGraph, program: Program;
  try {
    graph = readGraph(proto);
    program = compileProgram(graph);
  } catch (e) {
    if (e instanceof DenseNetError) throw new DenseNetError(`${name}: ${e.message}`);
    throw e;
  }
  checkFiniteWeights(graph, name);
  checkBatchNormVariances(graph, name);
  const base = {
    name,
    inputNames: graph.inputs.map((v) => v.name),
    outputNames: graph.outputs.map((v) => v.name),
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
  const { graph: planned, outputRank } = lowered;
  const input = graph.inputs[0];
  const classes = planned.buffers[planned.output].channels;
  return {
    ...base,
    kind: "planned",
    graph: planned,
    config: null,
    randomWeights: false,
    outputDims: (n) => (outputRank === 2 ? [n, classes] : [n, classes, 1, 1]),
    checkInput: (dims) => checkFixedDims(input, dims),
    ...(input.dims?.length === 4 ? { declaredInput: input.dims.map((d) => (typeof d === "number" ? d : null)) } : {}),
  };
}

/** Every float initializer must be finite (planned or interpreted): a NaN or infinity would silently poison the outputs. */
function checkFiniteWeights(graph: OnnxGraph, name: string): void {
  for (const [tensor, value] of graph.constants) {
    if (!(value.data instanceof Float32Array)) continue;
    const i = firstNonFinite(value.data);
    check(i < 0, () => `${name}: initializer '${tensor}' holds a non-finite value (${value.data[i]}) at index ${i}`);
  }
}

/** A BatchNormalization with a constant variance needs var + epsilon > 0 everywhere, or its 1/sqrt is NaN or infinite. */
function checkBatchNormVariances(graph: OnnxGraph, name: string): void {
  for (const node of graph.nodes) {
    if (node.opType !== "BatchNormalization") continue;
    const variance = graph.constants.get(node.inputs[4] ?? "");
    if (!(variance?.data instanceof Float32Array)) continue;
    const eps = new Attributes(node).float("epsilon", 1e-5);
    const data = variance.data;
    const i = data.findIndex((v) => !(v + eps > 0));
    check(
      i < 0,
      () => `${name}: ${node.label}: variance ${data[i]} at index ${i} with epsilon ${eps}: BatchNormalization needs var + epsilon > 0`,
    );
  }
}

function checkFixedDims(input: ValueInfo, dims: readonly number[]): void {
  const declared = input.dims!;
  check(
    declared.every((d, i) => typeof d !== "number" || d === dims[i]),
    () => `input '${input.name}' has shape [${dims.join(", ")}], the model expects ${formatDeclared(declared)}`,
  );
}
