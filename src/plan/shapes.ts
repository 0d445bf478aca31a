import { DenseNetError } from "../errors.js";
import type { BufferSpec, Op } from "./graph.js";
import { opDef } from "./ops.js";
import type { OpGeometry } from "./panels.js";
import type { Spatial } from "./window.js";

/** What sizes and MACs are computed from: a graph before or after packing. */
export interface GraphGeometry {
  readonly buffers: readonly BufferSpec[];
  readonly ops: readonly OpGeometry<Op>[];
  readonly input: number;
  readonly output: number;
}

/**
 * The spatial size of every buffer for an input of height x width. Each buffer takes its
 * size from the first op writing it; every later writer must agree. An input too small for
 * the network is an error naming the first op whose output would be empty.
 */
export function inferSpatial(graph: GraphGeometry, height: number, width: number): Spatial[] {
  const sizes: (Spatial | undefined)[] = graph.buffers.map(() => undefined);
  sizes[graph.input] = { height, width };
  for (const op of graph.ops) {
    const input = sizes[op.input.buffer];
    if (!input) throw new DenseNetError(`op '${op.name}' reads buffer '${graph.buffers[op.input.buffer].name}' before anything writes it`);
    const def = opDef(op);
    if (def.vectorInput && (input.height !== 1 || input.width !== 1)) {
      throw new DenseNetError(`op '${op.name}': a ${op.kind} layer needs a (C, 1, 1) input, got ${input.height}x${input.width}`);
    }
    const out = def.outputSize(op, input, sizes);
    if (out.height < 1 || out.width < 1) {
      throw new DenseNetError(
        `input ${height}x${width} is too small: '${op.name}' would produce a ${out.height}x${out.width} output from ${input.height}x${input.width}`,
      );
    }
    const known = sizes[op.output.buffer];
    if (known && (known.height !== out.height || known.width !== out.width)) {
      throw new DenseNetError(
        `op '${op.name}' writes ${out.height}x${out.width} into '${graph.buffers[op.output.buffer].name}', which is ${known.height}x${known.width}`,
      );
    }
    sizes[op.output.buffer] = out;
  }
  return sizes.map((s, i) => {
    if (!s) throw new DenseNetError(`buffer '${graph.buffers[i].name}' is never written`);
    return s;
  });
}

/** Multiply-accumulates of one op (convs and linear layers; pools count none) for an output size. */
export function opMacs(op: OpGeometry<Op>, out: Spatial, input: Spatial): number {
  return opDef(op).macs(op, out, input);
}

/** Multiply-accumulates of one image through the graph at the given buffer sizes. */
export function graphMacs(graph: GraphGeometry, sizes: readonly Spatial[]): number {
  return graph.ops.reduce((sum, op) => sum + opMacs(op, sizes[op.output.buffer], sizes[op.input.buffer]), 0);
}

/**
 * Multiply-accumulates as the source model counts them: a conv the plan moved after an
 * average pool counts at the size it had before (its nominalInput's). For DenseNets this is
 * torchvision's count (config.nominalMacs), for the ONNX and safetensors paths alike.
 */
export function nominalGraphMacs(graph: GraphGeometry, sizes: readonly Spatial[]): number {
  return graph.ops.reduce((sum, op) => {
    const at = op.kind === "conv" && op.nominalInput ? sizes[op.nominalInput.buffer] : sizes[op.output.buffer];
    return sum + opMacs(op, at, sizes[op.input.buffer]);
  }, 0);
}
