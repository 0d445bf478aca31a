// An ONNX ModelProto read into a checked graph: nodes in topological order, initializers and
// Constant nodes as named constants, the real inputs (graph inputs without an initializer)
// with their declared shapes. Everything wrong with the file's structure (no ai.onnx opset,
// an unknown domain, a dangling reference, a cycle, a value produced twice) is a one-line
// error here, before any op is looked at.
import { DenseNetError, check } from "../errors.js";
import { Attributes } from "./attributes.js";
import type { OnnxNode } from "./node.js";
import { type AttributeProto, type ModelProto, type NodeProto, type ValueInfoProto, present } from "./proto.js";
import type { DataType, OnnxTensor } from "./tensor.js";
import { dataTypeName, int64ToNumber, readTensorProto, toDataType } from "./tensor_proto.js";

/** The ai.onnx opsets this runtime implements its operators for. */
export const MIN_OPSET = 7;
export const MAX_OPSET = 25;
/** Most nodes (and initializers) a graph may have: DenseNet-201 exports have about 1,500 nodes. */
export const MAX_NODES = 50_000;

export type { OnnxNode } from "./node.js";

/** A declared dimension: a size, a symbolic name (dim_param), or null when not given. */
export type DeclaredDim = number | string | null;

export interface ValueInfo {
  readonly name: string;
  /** Null for a graph output declared without a type. */
  readonly type: DataType | null;
  /** Null when the rank is not declared. */
  readonly dims: readonly DeclaredDim[] | null;
}

export interface OnnxGraph {
  readonly opset: number;
  /** Graph inputs the caller feeds (those without an initializer). */
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** Nodes in an order where every input is produced before it is used; Constant nodes are folded into `constants`. */
  readonly nodes: readonly OnnxNode[];
  /** Initializers and Constant node outputs. */
  readonly constants: ReadonlyMap<string, OnnxTensor>;
}

export function formatDeclared(dims: readonly DeclaredDim[]): string {
  return `[${dims.map((d) => d ?? "?").join(", ")}]`;
}

export function readGraph(model: ModelProto): OnnxGraph {
  const graph = model.graph!;
  const opset = readOpset(model);
  check(graph.sparseInitializer.length === 0, "sparse initializers are not supported");
  check(graph.node.length <= MAX_NODES, () => `the graph has ${graph.node.length} nodes, over the limit of ${MAX_NODES}`);
  check(
    graph.initializer.length <= MAX_NODES,
    () => `the graph has ${graph.initializer.length} initializers, over the limit of ${MAX_NODES}`,
  );
  const constants = new Map<string, OnnxTensor>();
  for (const t of graph.initializer) {
    check(t.name.length > 0, "an initializer has no name");
    check(!constants.has(t.name), () => `initializer '${t.name}' is defined twice`);
    constants.set(t.name, readTensorProto(t, `initializer '${t.name}'`));
  }
  const inputs = graph.input.filter((v) => !constants.has(v.name)).map((v) => readValueInfo(v, "graph input", true));
  const outputs = graph.output.map((v) => readValueInfo(v, "graph output", false));
  check(outputs.length > 0, "the graph has no outputs");
  const seen = new Set<string>();
  for (const v of inputs) {
    check(!seen.has(v.name), () => `graph input '${v.name}' is declared twice`);
    seen.add(v.name);
  }

  const nodes: OnnxNode[] = [];
  graph.node.forEach((proto, index) => {
    const node = toNode(proto, index);
    check(node.opType.length > 0, () => `node #${index} has no op_type`);
    if (proto.domain !== "" && proto.domain !== "ai.onnx") {
      throw new DenseNetError(`${node.label}: operator '${proto.domain}::${node.opType}' is not supported (only the ai.onnx domain is)`);
    }
    if (node.opType === "Constant") {
      check(node.outputs.length === 1 && node.outputs[0] !== "", () => `${node.label}: needs exactly one output`);
      check(!constants.has(node.outputs[0]), () => `${node.label}: value '${node.outputs[0]}' is produced twice`);
      constants.set(node.outputs[0], constantValue(node));
    } else {
      nodes.push(node);
    }
  });
  const sorted = topologicalOrder(nodes, new Set([...inputs.map((v) => v.name), ...constants.keys()]));
  const available = new Set([...inputs.map((v) => v.name), ...constants.keys(), ...sorted.flatMap((n) => n.outputs)]);
  for (const v of outputs) check(available.has(v.name), () => `graph output '${v.name}' is not produced by any node`);
  return { opset, inputs, outputs, nodes: live(sorted, outputs), constants };
}

/**
 * The nodes some graph output depends on, in the same order: dead nodes (whose outputs no
 * output needs) are dropped before anything compiles or runs them. One backward pass over
 * the topologically ordered nodes, so linear in the graph's size.
 */
function live(sorted: readonly OnnxNode[], outputs: readonly ValueInfo[]): OnnxNode[] {
  const needed = new Set(outputs.map((v) => v.name));
  const keep: OnnxNode[] = [];
  for (let i = sorted.length - 1; i >= 0; i--) {
    const node = sorted[i];
    if (!node.outputs.some((o) => o !== "" && needed.has(o))) continue;
    keep.push(node);
    for (const input of node.inputs) if (input) needed.add(input);
  }
  return keep.reverse();
}

function readOpset(model: ModelProto): number {
  const entry = model.opsetImport.find((o) => o.domain === "" || o.domain === "ai.onnx");
  // IR version 1-2 models predate opset_import and mean opset 1.
  const version = entry ? int64ToNumber(entry.version, "opset version") : 1;
  check(
    version >= MIN_OPSET && version <= MAX_OPSET,
    () => `ai.onnx opset ${version} is not supported (opsets ${MIN_OPSET} to ${MAX_OPSET} are)`,
  );
  return version;
}

function readValueInfo(v: ValueInfoProto, what: string, required: boolean): ValueInfo {
  check(v.name.length > 0, () => `a ${what} has no name`);
  const t = v.type;
  if (t && (["sequenceType", "mapType", "sparseTensorType", "optionalType"] as const).some((f) => present(t, f))) {
    throw new DenseNetError(`${what} '${v.name}': only tensors are supported (not sequences, maps, optionals or sparse tensors)`);
  }
  const tensor = present(t, "tensorType") ? t!.tensorType : undefined;
  if (!tensor) {
    check(!required, () => `${what} '${v.name}' has no tensor type`);
    return { name: v.name, type: null, dims: null };
  }
  const type = toDataType(tensor.elemType);
  check(
    type !== null,
    () => `${what} '${v.name}' has element type ${dataTypeName(tensor.elemType)}, which is not supported (float32 and int64 are)`,
  );
  const dims = present(tensor, "shape")
    ? tensor.shape!.dim.map((d): DeclaredDim => {
        if (present(d, "dimValue")) return int64ToNumber(d.dimValue!, `${what} '${v.name}': dimension`);
        return d.dimParam ? d.dimParam : null;
      })
    : null;
  return { name: v.name, type, dims };
}

function toNode(proto: NodeProto, index: number): OnnxNode {
  const opType = proto.opType;
  const label = proto.name ? `${opType} "${proto.name}"` : `${opType} #${index}`;
  const attributes = new Map<string, AttributeProto>();
  for (const a of proto.attribute) {
    if (attributes.has(a.name)) throw new DenseNetError(`${label}: attribute '${a.name}' is given twice`);
    if (a.refAttrName) throw new DenseNetError(`${label}: attribute '${a.name}' refers to a function attribute, which is not supported`);
    attributes.set(a.name, a);
  }
  // Trailing empty names only mark omitted optional outputs.
  const outputs = [...proto.output];
  while (outputs.length > 0 && outputs[outputs.length - 1] === "") outputs.pop();
  return { index, opType, name: proto.name, label, inputs: [...proto.input], outputs, attributes };
}

/** A Constant node's value (opset 7-25 forms: value, value_float(s), value_int(s)). */
function constantValue(node: OnnxNode): OnnxTensor {
  const attrs = new Attributes(node);
  const names = [...node.attributes.keys()];
  check(names.length === 1, () => `${node.label}: needs exactly one value attribute, found [${names.join(", ")}]`);
  switch (names[0]) {
    case "value":
      return attrs.tensor("value");
    case "value_float":
      return { data: Float32Array.of(attrs.float("value_float")), dims: [] };
    case "value_floats": {
      const v = attrs.floats("value_floats");
      return { data: Float32Array.from(v), dims: [v.length] };
    }
    case "value_int":
      return { data: BigInt64Array.of(BigInt(attrs.int("value_int"))), dims: [] };
    case "value_ints": {
      const v = attrs.ints("value_ints");
      return { data: BigInt64Array.from(v, BigInt), dims: [v.length] };
    }
  }
  throw new DenseNetError(`${node.label}: attribute '${names[0]}' is not supported`);
}

/**
 * Kahn's algorithm over the nodes. Every input must be available (a graph input, a constant
 * or some node's output); what is left when no node is ready lies on a cycle.
 */
function topologicalOrder(nodes: readonly OnnxNode[], available: ReadonlySet<string>): OnnxNode[] {
  const producer = new Map<string, OnnxNode>();
  for (const node of nodes) {
    for (const out of node.outputs) {
      if (out === "") continue;
      const other = producer.get(out);
      check(
        !other && !available.has(out),
        () =>
          `${node.label}: value '${out}' is produced twice${other ? ` (also by ${other.label})` : " (it is also a graph input or initializer)"}`,
      );
      producer.set(out, node);
    }
  }
  const waiting = new Map<OnnxNode, number>();
  const users = new Map<string, OnnxNode[]>();
  for (const node of nodes) {
    let count = 0;
    for (const input of new Set(node.inputs)) {
      if (input === "" || available.has(input)) continue;
      if (!producer.has(input)) {
        throw new DenseNetError(
          `${node.label}: input '${input}' is not a graph input, an initializer or any node's output (a missing initializer?)`,
        );
      }
      count++;
      const list = users.get(input);
      if (list) list.push(node);
      else users.set(input, [node]);
    }
    waiting.set(node, count);
  }
  const ready = nodes.filter((n) => waiting.get(n) === 0);
  const order: OnnxNode[] = [];
  for (let next = 0; next < ready.length; next++) {
    // a queue without shift(): linear time
    const node = ready[next];
    order.push(node);
    for (const out of node.outputs) {
      for (const user of users.get(out) ?? []) {
        const left = waiting.get(user)! - 1;
        waiting.set(user, left);
        if (left === 0) ready.push(user);
      }
    }
  }
  if (order.length < nodes.length) throw new DenseNetError(`the graph has a cycle: ${describeCycle(nodes, waiting, producer)}`);
  return order;
}

function describeCycle(
  nodes: readonly OnnxNode[],
  waiting: ReadonlyMap<OnnxNode, number>,
  producer: ReadonlyMap<string, OnnxNode>,
): string {
  const stuck = (n: OnnxNode | undefined) => n !== undefined && waiting.get(n)! > 0;
  const path: OnnxNode[] = [];
  const onPath = new Map<OnnxNode, number>();
  let node = nodes.find(stuck);
  while (node && !onPath.has(node)) {
    onPath.set(node, path.length);
    path.push(node);
    node = node.inputs.map((i) => producer.get(i)).find(stuck);
  }
  const cycle = node ? path.slice(onPath.get(node)) : path;
  const shown = cycle.length > 6 ? [...cycle.slice(0, 3), `… ${cycle.length - 5} more …`, ...cycle.slice(-2)] : cycle;
  return [...shown.map((n) => (typeof n === "string" ? n : n.label)), cycle[0].label].reverse().join(" -> ");
}
