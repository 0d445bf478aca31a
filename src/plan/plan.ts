import type { LinearMemory } from "../kernels/memory.js";
import { OP_KERNELS, type OpKernelName } from "../kernels/op_kernels.js";
import { assignOffsets } from "./arena.js";
import type { View } from "./graph.js";
import { opDef } from "./ops.js";
import type { PackedGraph } from "./panels.js";
import { graphMacs, inferSpatial, nominalGraphMacs, opMacs } from "./shapes.js";
import { syncPoints } from "./sync.js";
import type { Spatial } from "./window.js";

export { GEMM_KC } from "./ops.js";

/** One kernel call of the schedule. */
export interface Step {
  readonly kernel: OpKernelName;
  /** Address of the op's descriptor. */
  readonly desc: number;
  readonly name: string;
  /** The op and its shapes in words, e.g. "conv 3x3/1 128->32 @ 56x56 -> 56x56" (for profiles). */
  readonly description: string;
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
  /**
   * Per step, whether workers sharing an image wait before it for the steps since the last
   * wait to complete (plan/sync.ts); the same as a u32 (1: wait) per step at `syncTable`.
   */
  readonly sync: readonly boolean[];
  readonly syncTable: number;
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
 * Plans a packed graph for images of height x width: infers every buffer's size, lays the
 * buffers out in an arena by liveness (a buffer lives from the first op touching it to the
 * last; a dense block's channels after the first writer's from the second writer on: see
 * lateChannels), and writes each op's kernel descriptor into linear memory.
 */
export function planGraph(graph: PackedGraph, mem: LinearMemory, height: number, width: number): ExecutionPlan {
  const sizes = inferSpatial(graph, height, width);
  const bytes = graph.buffers.map((b, i) => b.channels * sizes[i].height * sizes[i].width * 4);
  const first = graph.buffers.map(() => Infinity),
    last = graph.buffers.map(() => -Infinity);
  const touch = (buffer: number, step: number) => {
    first[buffer] = Math.min(first[buffer], step);
    last[buffer] = Math.max(last[buffer], step);
  };
  touch(graph.input, -1);
  graph.ops.forEach((op, i) => {
    touch(op.input.buffer, i);
    touch(op.output.buffer, i);
  });
  touch(graph.output, graph.ops.length);
  const arena = assignOffsets(
    bytes.map((b, i) => {
      const tail = i === graph.input || i === graph.output ? null : lateChannels(graph, i);
      const plane = sizes[i].height * sizes[i].width * 4;
      return { bytes: b, first: first[i], last: last[i], ...(tail && { tail: { start: tail.channel * plane, first: tail.step } }) };
    }),
  );
  const offset = (v: View) => arena.offsets[v.buffer] + v.channel * sizes[v.buffer].height * sizes[v.buffer].width * 4;

  const steps = graph.ops.map((op): Step => {
    const def = opDef(op);
    const input = sizes[op.input.buffer],
      output = sizes[op.output.buffer];
    const fields = def.descriptor(op, { inOff: offset(op.input), outOff: offset(op.output), input, output });
    const desc = mem.alloc(fields.length * 4, 16);
    mem.u32(desc, fields.length).set(fields);
    return {
      kernel: typeof def.kernel === "function" ? def.kernel(op) : def.kernel,
      desc,
      name: op.name,
      description: def.describe(op, input, output),
      macs: opMacs(op, output, input),
    };
  });
  const schedule = mem.alloc(steps.length * 8, 16);
  mem.u32(schedule, steps.length * 2).set(steps.flatMap((s) => [OP_KERNELS.indexOf(s.kernel), s.desc]));
  const whole = (buffer: number) => [[arena.offsets[buffer], arena.offsets[buffer] + bytes[buffer]] as const];
  const sync = syncPoints(graph.ops.map((op) => ({ reads: whole(op.input.buffer), writes: whole(op.output.buffer) })));
  const syncTable = mem.alloc(Math.max(1, steps.length) * 4, 16);
  mem.u32(syncTable, steps.length).set(sync.map(Number));
  const inChannels = graph.buffers[graph.input].channels;
  return {
    height,
    width,
    steps,
    schedule,
    sync,
    syncTable,
    arenaBytes: arena.bytes,
    inputOffset: arena.offsets[graph.input],
    outputOffset: arena.offsets[graph.output],
    inputElements: inChannels * height * width,
    outputElements: graph.buffers[graph.output].channels,
    macs: graphMacs(graph, sizes),
    nominalMacs: nominalGraphMacs(graph, sizes),
    sizes,
    bufferOffsets: arena.offsets,
  };
}

/** Channels an op reads from its input view's channel on, and writes from its output view's. */
function channelCounts(op: PackedGraph["ops"][number]): { reads: number; writes: number } {
  switch (op.kind) {
    case "conv":
    case "winogradConv":
      return { reads: op.inChannels, writes: op.outChannels };
    case "linear":
      return { reads: op.inFeatures, writes: op.outFeatures };
    default:
      return { reads: op.channels, writes: op.channels };
  }
}

/**
 * Where the first op writing buffer `b` writes only its first channels (from channel 0), and
 * until the second writer nothing reads past them: that channel and the second writer's
 * step. The channels after it are then not live before that step (a dense block's buffer:
 * the pool before the block writes its first channels, its layers the others), and the
 * arena may give their bytes to a buffer that dies before (DenseNet's stem output: 6.4 ->
 * 5.0 MB of activations for DenseNet-121 at 224x224).
 */
function lateChannels(graph: PackedGraph, b: number): { channel: number; step: number } | null {
  const firstWriter = graph.ops.findIndex((op) => op.output.buffer === b);
  if (firstWriter < 0 || graph.ops[firstWriter].output.channel !== 0) return null;
  const head = channelCounts(graph.ops[firstWriter]).writes;
  if (head >= graph.buffers[b].channels) return null;
  for (let i = firstWriter + 1; i < graph.ops.length; i++) {
    const op = graph.ops[i];
    if (op.output.buffer === b) return { channel: head, step: i };
    if (op.input.buffer === b && op.input.channel + channelCounts(op).reads > head) return null;
  }
  return null;
}
