import * as L from "../kernels/layout.js";
import type { LinearMemory } from "../kernels/memory.js";
import { OP_KERNELS, type OpKernelName } from "../kernels/op_kernels.js";
import { assignOffsets } from "./arena.js";
import type { Graph, Op } from "./graph.js";
import type { PackedWeights } from "./pack_weights.js";
import { graphMacs, inferSpatial, nominalGraphMacs, opMacs } from "./shapes.js";
import type { Spatial } from "./window.js";

/** K-block length of the conv GEMM. Measured on DenseNet-121 (1 thread): 128..2304 all within 3%; 1152 keeps every DenseNet-121 3x3 conv in one block (a 36 KiB B panel, streamed from L1/L2). */
export const GEMM_KC = 1152;

/** One kernel call of the schedule. */
export interface Step {
  readonly kernel: OpKernelName;
  /** Address of the op's descriptor. */
  readonly desc: number;
  readonly name: string;
  /** The op and its shapes, e.g. "conv 3x3/1 128->32 @ 56x56" (for profiles). */
  readonly shape: string;
  /** Multiply-accumulates of this step for one image. */
  readonly macs: number;
}

/** A graph planned for one input size: descriptors written, arena laid out. */
export interface ExecutionPlan {
  readonly height: number;
  readonly width: number;
  readonly steps: readonly Step[];
  /** The steps as a table in linear memory, [kernel id, descriptor address] u32 pairs, for workers. */
  readonly schedule: number;
  /** Bytes of one image's activation arena (the plan's peak activation memory). */
  readonly arenaBytes: number;
  /** Arena offsets of the input image (C, H, W) and the output vector. */
  readonly inputOffset: number;
  readonly outputOffset: number;
  readonly inputElements: number;
  readonly outputElements: number;
  /** Multiply-accumulates per image, as executed (direct-conv equivalents for Winograd convs). */
  readonly macs: number;
  /** Multiply-accumulates per image as the source model counts them (see nominalGraphMacs). */
  readonly nominalMacs: number;
  readonly sizes: readonly Spatial[];
  readonly bufferOffsets: readonly number[];
}

/**
 * Plans a graph for images of height x width: infers every buffer's size, lays the
 * buffers out in an arena by liveness (a buffer lives from the first op touching it to the
 * last), and writes each op's kernel descriptor into linear memory.
 */
export function planGraph(graph: Graph, weights: readonly PackedWeights[], mem: LinearMemory, height: number, width: number): ExecutionPlan {
  const sizes = inferSpatial(graph, height, width);
  const bytes = graph.buffers.map((b, i) => b.channels * sizes[i].height * sizes[i].width * 4);
  const first = graph.buffers.map(() => Infinity), last = graph.buffers.map(() => -Infinity);
  const touch = (buffer: number, step: number) => {
    first[buffer] = Math.min(first[buffer], step);
    last[buffer] = Math.max(last[buffer], step);
  };
  touch(graph.input, -1);
  graph.ops.forEach((op, i) => { touch(op.input.buffer, i); touch(op.output.buffer, i); });
  touch(graph.output, graph.ops.length);
  const arena = assignOffsets(bytes.map((b, i) => ({ bytes: b, first: first[i], last: last[i] })));
  const view = (v: { buffer: number; channel: number }) =>
    arena.offsets[v.buffer] + v.channel * sizes[v.buffer].height * sizes[v.buffer].width * 4;

  const steps = graph.ops.map((op, i): Step => {
    const w = weights[i];
    const input = sizes[op.input.buffer], output = sizes[op.output.buffer];
    const fields = descriptorFields(op, w, view(op.input), view(op.output), input, output);
    const desc = mem.alloc(fields.length * 4, 16);
    mem.u32(desc, fields.length).set(fields);
    const kernel = op.kind === "conv" && op.winograd ? "conv2d_winograd_f32" : KERNEL_OF[op.kind];
    return { kernel, desc, name: op.name, shape: describeStep(op, input, output), macs: opMacs(op, output) };
  });
  const schedule = mem.alloc(steps.length * 8, 16);
  mem.u32(schedule, steps.length * 2).set(steps.flatMap((s) => [OP_KERNELS.indexOf(s.kernel), s.desc]));
  const inChannels = graph.buffers[graph.input].channels;
  return {
    height, width, steps, schedule, arenaBytes: arena.bytes,
    inputOffset: arena.offsets[graph.input], outputOffset: arena.offsets[graph.output],
    inputElements: inChannels * height * width, outputElements: graph.buffers[graph.output].channels,
    macs: graphMacs(graph, sizes), nominalMacs: nominalGraphMacs(graph, sizes), sizes, bufferOffsets: arena.offsets,
  };
}

function describeStep(op: Op, input: Spatial, output: Spatial): string {
  const at = `${input.height}x${input.width} -> ${output.height}x${output.width}`;
  switch (op.kind) {
    case "conv": return `conv ${op.kernel[0]}x${op.kernel[1]}/${op.stride[0]} ${op.inChannels}->${op.outChannels}` +
      `${op.pre ? " (BN-ReLU packed)" : ""}${op.winograd ? " Winograd F(2x2,3x3)" : ""} @ ${at}`;
    case "winogradInput": return `pad for Winograd ${op.channels} ch${op.pre ? " (BN-ReLU fused)" : ""} @ ${at}`;
    case "pool": return `${op.mode} pool ${op.kernel[0]}x${op.kernel[1]}/${op.stride[0]} ${op.channels} ch${op.pre ? " (BN-ReLU fused)" : ""} @ ${at}`;
    case "globalPool": return `global ${op.mode} pool ${op.channels} ch @ ${input.height}x${input.width}`;
    case "linear": return `linear ${op.inFeatures}->${op.outFeatures}`;
    case "softmax": return `softmax ${op.channels}`;
  }
}

const KERNEL_OF = {
  conv: "conv2d_gemm_f32", winogradInput: "pad2d_nchw_f32", pool: "pool2d_nchw_f32", globalPool: "global_pool_f32",
  linear: "linear_f32", softmax: "softmax_f32",
} as const satisfies Record<Op["kind"], OpKernelName>;

function descriptorFields(op: Op, w: PackedWeights, inOff: number, outOff: number, input: Spatial, output: Spatial): number[] {
  switch (op.kind) {
    case "conv": {
      const f = new Array<number>(L.CONV_FIELDS).fill(0);
      f[L.CONV_A] = w.matrix; f[L.CONV_BIAS] = w.bias; f[L.CONV_PRE_SCALE] = w.preScale; f[L.CONV_PRE_SHIFT] = w.preShift;
      f[L.CONV_IN_OFF] = inOff; f[L.CONV_OUT_OFF] = outOff;
      f[L.CONV_CIN] = op.inChannels; f[L.CONV_H] = input.height; f[L.CONV_W] = input.width;
      f[L.CONV_COUT] = op.outChannels; f[L.CONV_OH] = output.height; f[L.CONV_OW] = output.width;
      [f[L.CONV_KH], f[L.CONV_KW]] = op.kernel; [f[L.CONV_SH], f[L.CONV_SW]] = op.stride;
      [f[L.CONV_PH], f[L.CONV_PW]] = op.pads; [f[L.CONV_DH], f[L.CONV_DW]] = op.dilation;
      f[L.CONV_FLAGS] = (op.relu ? L.CONV_FLAG_RELU : 0) | (w.preRelu ? L.CONV_FLAG_PRE_RELU : 0);
      f[L.CONV_UKERNEL] = w.ukernel;
      f[L.CONV_KC] = GEMM_KC;
      return f;
    }
    case "winogradInput": {
      const f = new Array<number>(L.PAD_FIELDS).fill(0);
      f[L.PAD_IN_OFF] = inOff; f[L.PAD_OUT_OFF] = outOff; f[L.PAD_C] = op.channels;
      f[L.PAD_H] = input.height; f[L.PAD_W] = input.width; f[L.PAD_OH] = output.height; f[L.PAD_OW] = output.width;
      f[L.PAD_TOP] = 1; f[L.PAD_LEFT] = 1;
      f[L.PAD_FLAGS] = w.preRelu ? L.POOL_FLAG_PRE_RELU : 0;
      f[L.PAD_PRE_SCALE] = w.preScale; f[L.PAD_PRE_SHIFT] = w.preShift;
      return f;
    }
    case "pool": {
      const f = new Array<number>(L.POOL_FIELDS).fill(0);
      f[L.POOL_IN_OFF] = inOff; f[L.POOL_OUT_OFF] = outOff; f[L.POOL_C] = op.channels;
      f[L.POOL_H] = input.height; f[L.POOL_W] = input.width; f[L.POOL_OH] = output.height; f[L.POOL_OW] = output.width;
      [f[L.POOL_KH], f[L.POOL_KW]] = op.kernel; [f[L.POOL_SH], f[L.POOL_SW]] = op.stride;
      [f[L.POOL_PH], f[L.POOL_PW], f[L.POOL_PH_END], f[L.POOL_PW_END]] = op.pads;
      [f[L.POOL_DH], f[L.POOL_DW]] = op.dilation;
      f[L.POOL_MODE] = op.mode === "max" ? L.POOL_MODE_MAX : L.POOL_MODE_AVG;
      f[L.POOL_FLAGS] = (op.countIncludePad ? L.POOL_FLAG_COUNT_PAD : 0) | (w.preRelu ? L.POOL_FLAG_PRE_RELU : 0);
      f[L.POOL_PRE_SCALE] = w.preScale; f[L.POOL_PRE_SHIFT] = w.preShift;
      return f;
    }
    case "globalPool": {
      const f = new Array<number>(L.GPOOL_FIELDS).fill(0);
      f[L.GPOOL_IN_OFF] = inOff; f[L.GPOOL_OUT_OFF] = outOff; f[L.GPOOL_C] = op.channels;
      f[L.GPOOL_HW] = input.height * input.width;
      f[L.GPOOL_MODE] = op.mode === "max" ? L.POOL_MODE_MAX : L.POOL_MODE_AVG;
      f[L.GPOOL_FLAGS] = w.preRelu ? L.POOL_FLAG_PRE_RELU : 0;
      f[L.GPOOL_PRE_SCALE] = w.preScale; f[L.GPOOL_PRE_SHIFT] = w.preShift;
      return f;
    }
    case "linear": {
      const f = new Array<number>(L.LINEAR_FIELDS).fill(0);
      f[L.LINEAR_IN_OFF] = inOff; f[L.LINEAR_OUT_OFF] = outOff; f[L.LINEAR_W] = w.matrix; f[L.LINEAR_BIAS] = w.bias;
      f[L.LINEAR_M] = op.outFeatures; f[L.LINEAR_K] = op.inFeatures;
      return f;
    }
    case "softmax": {
      const f = new Array<number>(L.SOFTMAX_FIELDS).fill(0);
      f[L.SOFTMAX_IN_OFF] = inOff; f[L.SOFTMAX_OUT_OFF] = outOff; f[L.SOFTMAX_C] = op.channels;
      return f;
    }
  }
}
