import type { LinearMemory } from "../kernels/memory.js";
import type { Graph, Op } from "./graph.js";
import type { StagedTransforms, WeightTransforms } from "./op_def.js";
import { opDef } from "./ops.js";
import { type MicroKernel, type PackedGraph, type PackedOp, defaultMicroKernel } from "./panels.js";

export { MICRO_KERNELS, type MicroKernel, type PackedGraph, type PackedOp, type PackedWeights, defaultMicroKernel } from "./panels.js";

/**
 * Copies every op's weights into linear memory, packed for its kernel (each op kind's `pack`
 * in plan/ops.ts), straight into the zeroed, never reused allocations; with `kernels`, the
 * Winograd weight transforms run in WebAssembly (the same values). Done once a session;
 * the packed graph holds no weight arrays, so the unpacked ones can be garbage-collected.
 */
export function packGraph(
  graph: Graph,
  mem: LinearMemory,
  microKernel: MicroKernel = defaultMicroKernel(),
  kernels: WeightTransforms | null = null,
): PackedGraph {
  let stage = { ptr: 0, bytes: 0 };
  const transforms: StagedTransforms | null = kernels && {
    kernels,
    staging(bytes) {
      if (bytes > stage.bytes) stage = { ptr: mem.alloc(bytes), bytes };
      return stage.ptr;
    },
  };
  const ops = graph.ops.map((op: Op): PackedOp => {
    const weights = opDef(op).pack(op, mem, microKernel, transforms);
    const { weight: _w, bias: _b, pre: _p, ...geometry } = op as Op & { weight?: unknown; bias?: unknown; pre?: unknown };
    return { ...geometry, weights } as PackedOp;
  });
  return { buffers: graph.buffers, ops, input: graph.input, output: graph.output };
}
