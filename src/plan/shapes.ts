import { DenseNetError } from "../errors.js";
import type { Graph, Op, Pads, Pair } from "./graph.js";
import { winogradInputSize } from "./winograd.js";
import { type Spatial, windowOutput } from "./window.js";

function windowed(op: { kernel: Pair; stride: Pair; pads: Pads; dilation: Pair }, input: Spatial, ceil: boolean): Spatial {
  return {
    height: windowOutput(input.height, op.kernel[0], op.stride[0], op.pads[0], op.pads[2], op.dilation[0], ceil),
    width: windowOutput(input.width, op.kernel[1], op.stride[1], op.pads[1], op.pads[3], op.dilation[1], ceil),
  };
}

function outputSpatial(op: Op, input: Spatial, sizes: readonly (Spatial | undefined)[]): Spatial {
  switch (op.kind) {
    case "conv": return op.winograd ? sizes[op.winograd.source.buffer]! : windowed(op, input, false);
    case "winogradInput": return winogradInputSize(input);
    case "pool": return windowed(op, input, op.ceilMode);
    case "globalPool": return { height: 1, width: 1 };
    case "linear":
    case "softmax": return { height: 1, width: 1 };
  }
}

/**
 * The spatial size of every buffer for an input of height x width. Each buffer takes its
 * size from the first op writing it; every later writer must agree. An input too small for
 * the network is an error naming the first op whose output would be empty.
 */
export function inferSpatial(graph: Graph, height: number, width: number): Spatial[] {
  const sizes: (Spatial | undefined)[] = graph.buffers.map(() => undefined);
  sizes[graph.input] = { height, width };
  for (const op of graph.ops) {
    const input = sizes[op.input.buffer];
    if (!input) throw new DenseNetError(`op '${op.name}' reads buffer '${graph.buffers[op.input.buffer].name}' before anything writes it`);
    if ((op.kind === "linear" || op.kind === "softmax") && (input.height !== 1 || input.width !== 1)) {
      throw new DenseNetError(`op '${op.name}': a ${op.kind} layer needs a (C, 1, 1) input, got ${input.height}x${input.width}`);
    }
    const out = outputSpatial(op, input, sizes);
    if (out.height < 1 || out.width < 1) {
      throw new DenseNetError(`input ${height}x${width} is too small: '${op.name}' would produce a ${out.height}x${out.width} output from ${input.height}x${input.width}`);
    }
    const known = sizes[op.output.buffer];
    if (known && (known.height !== out.height || known.width !== out.width)) {
      throw new DenseNetError(`op '${op.name}' writes ${out.height}x${out.width} into '${graph.buffers[op.output.buffer].name}', which is ${known.height}x${known.width}`);
    }
    sizes[op.output.buffer] = out;
  }
  return sizes.map((s, i) => {
    if (!s) throw new DenseNetError(`buffer '${graph.buffers[i].name}' is never written`);
    return s;
  });
}

/** Multiply-accumulates of one op (convs and linear layers; pools count none) for an output size. */
export function opMacs(op: Op, out: Spatial): number {
  if (op.kind === "conv") return op.outChannels * op.inChannels * op.kernel[0] * op.kernel[1] * out.height * out.width;
  if (op.kind === "linear") return op.inFeatures * op.outFeatures;
  return 0;
}

/** Multiply-accumulates of one image through the graph at the given buffer sizes. */
export function graphMacs(graph: Graph, sizes: readonly Spatial[]): number {
  return graph.ops.reduce((sum, op) => sum + opMacs(op, sizes[op.output.buffer]), 0);
}

/**
 * Multiply-accumulates as the source model counts them: a conv the plan moved after an
 * average pool counts at the size it had before (its nominalInput's). For DenseNets this is
 * torchvision's count (config.nominalMacs), for the ONNX and safetensors paths alike.
 */
export function nominalGraphMacs(graph: Graph, sizes: readonly Spatial[]): number {
  return graph.ops.reduce((sum, op) => {
    const at = op.kind === "conv" && op.nominalInput ? sizes[op.nominalInput.buffer] : sizes[op.output.buffer];
    return sum + opMacs(op, at);
  }, 0);
}
