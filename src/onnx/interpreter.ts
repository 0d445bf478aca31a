// The portable interpreter: every node compiled once at load time (attributes checked, shapes
// inferred from the declared input shapes), then run op by op on general tensors.
import { check } from "../errors.js";
import { Attributes } from "./attributes.js";
import { type DeclaredDim, type OnnxGraph, type OnnxNode, type ValueInfo, formatDeclared } from "./graph.js";
import { opDefinition } from "./ops/registry.js";
import type { CompileContext, Kernel, ValueType } from "./ops/types.js";
import { type Dim, formatShape, product } from "./shape.js";
import { type OnnxTensor, dataType } from "./tensor.js";
import { MAX_TENSOR_ELEMENTS, elementCount } from "../tensor.js";

interface Step {
  readonly node: OnnxNode;
  readonly kernel: Kernel;
  /** Values whose last use is this step, freed after it runs. */
  readonly last: readonly string[];
}

export interface Program {
  readonly graph: OnnxGraph;
  /** What load-time inference knows of every value, by name. */
  readonly types: ReadonlyMap<string, ValueType>;
  /** Runs the graph on named inputs (validated) and returns every graph output by name. */
  run(feeds: Readonly<Record<string, OnnxTensor>>): Record<string, OnnxTensor>;
}

export function compileProgram(graph: OnnxGraph): Program {
  const ctx: CompileContext = { opset: graph.opset, constant: (name) => graph.constants.get(name) };
  const types = new Map<string, ValueType>();
  for (const [name, value] of graph.constants) types.set(name, { type: dataType(value), shape: value.dims, value });
  for (const input of graph.inputs) {
    types.set(input.name, { type: input.type!, shape: input.dims?.map((d): Dim => (typeof d === "number" ? d : null)) ?? null });
  }
  const steps: { node: OnnxNode; kernel: Kernel }[] = graph.nodes.map((node) => {
    const kernel = opDefinition(node).compile(node, new Attributes(node), ctx);
    const outputs = checkSizes(node, kernel.infer(node.inputs.map((name) => (name ? types.get(name) : undefined))));
    node.outputs.forEach((name, i) => {
      if (name) types.set(name, outputs[i]);
    });
    return { node, kernel };
  });
  const keep = new Set([...graph.outputs.map((o) => o.name), ...graph.constants.keys()]);
  const lastUse = new Map<string, number>();
  steps.forEach(({ node }, i) =>
    node.inputs.forEach((name) => {
      if (name && !keep.has(name)) lastUse.set(name, i);
    }),
  );
  const program: Step[] = steps.map((s, i) => ({ ...s, last: s.node.inputs.filter((name) => name && lastUse.get(name) === i) }));

  return {
    graph,
    types,
    run(feeds) {
      const values = new Map<string, OnnxTensor>(graph.constants);
      for (const input of graph.inputs) values.set(input.name, checkFeed(input, feeds[input.name]));
      for (const { node, kernel, last } of program) {
        const inputs = node.inputs.map((name) => (name ? values.get(name)! : undefined));
        const outputTypes = checkSizes(node, kernel.infer(inputs.map((t) => t && { type: dataType(t), shape: t.dims, value: t })));
        const outputs = kernel.run(inputs, outputTypes);
        node.outputs.forEach((name, i) => {
          if (name) values.set(name, outputs[i]);
        });
        for (const name of last) values.delete(name);
      }
      return Object.fromEntries(graph.outputs.map((o) => [o.name, values.get(o.name)!]));
    },
  };
}

const MAX_ELEMENTS = MAX_TENSOR_ELEMENTS;

/** Refuses outputs too large to allocate (at load time where shapes are known, else before running the node). */
function checkSizes(node: OnnxNode, outputs: ValueType[]): ValueType[] {
  outputs.forEach((t, i) => {
    const n = t.shape === null ? null : product(t.shape);
    check(
      n === null || n <= MAX_ELEMENTS,
      () => `${node.label}: output ${i} of shape ${formatShape(t.shape!)} would hold ${n} elements, over the limit of ${MAX_ELEMENTS}`,
    );
  });
  return outputs;
}

/** Checks a fed tensor against the graph input's declared type and shape. */
function checkFeed(input: ValueInfo, feed: OnnxTensor | undefined): OnnxTensor {
  const name = input.name;
  check(feed !== undefined, () => `missing input '${name}'`);
  const data = typeof feed === "object" && feed !== null ? (feed as { data?: unknown }).data : undefined;
  check(
    (data instanceof Float32Array || data instanceof BigInt64Array) && Array.isArray(feed.dims),
    () => `input '${name}' must be a tensor { data: Float32Array | BigInt64Array, dims: number[] }`,
  );
  const dims = feed.dims;
  check(
    dims.every((d) => Number.isSafeInteger(d) && d >= 0),
    () => `input '${name}' has invalid shape [${dims.join(", ")}]`,
  );
  check(dataType(feed) === input.type, () => `input '${name}' is ${dataType(feed)}, the model expects ${input.type}`);
  const count = elementCount(dims);
  check(feed.data.length === count, () => `input '${name}' has ${feed.data.length} values, shape [${dims.join(", ")}] needs ${count}`);
  const declared = input.dims;
  if (declared) {
    const fits = declared.length === dims.length && declared.every((d: DeclaredDim, i) => typeof d !== "number" || d === dims[i]);
    check(fits, () => `input '${name}' has shape [${dims.join(", ")}], the model expects ${formatDeclared(declared)}`);
  }
  return feed;
}
