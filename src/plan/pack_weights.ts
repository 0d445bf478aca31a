import type { LinearMemory } from "../kernels/memory.js";
import { firstNonFinite } from "../tensor.js";
import type { Graph, Op } from "./graph.js";
import type { StagedTransforms, WeightTransforms } from "./op_def.js";
import { opDef } from "./ops.js";
import { type MicroKernel, type PackedGraph, type PackedOp, defaultMicroKernel } from "./panels.js";

export { MICRO_KERNELS, type MicroKernel, type PackedGraph, type PackedOp, type PackedWeights, defaultMicroKernel } from "./panels.js";

/**
 * Copies every op's weights into linear memory, packed for its kernel (each op kind's `pack`
 * in plan/ops.ts), straight into the zeroed, never reused allocations; with `kernels`, the
 * weights are read into linear memory (a GEMM's into its packed area, a Winograd conv's into
 * a staging area) and checked, scaled, packed and Winograd-transformed there in WebAssembly
 * (the same values as the JS references). Done once a session;
 * the packed graph holds no weight arrays, so the unpacked ones can be garbage-collected.
 */
export function packGraph(
  graph: Graph,
  mem: LinearMemory,
  microKernel: MicroKernel = defaultMicroKernel(),
  kernels: WeightTransforms | null = null,
): PackedGraph {
  // one staging area, for the op that needs the most, made on first use
  let stage = 0;
  const transforms: StagedTransforms | null = kernels && {
    kernels,
    staging() {
      stage ||= mem.alloc(graph.ops.reduce((most, op) => Math.max(most, stagingBytes(op)), 0));
      return stage;
    },
    scan: (values) =>
      values.buffer === mem.memory.buffer ? kernels.first_non_finite_f32(values.byteOffset, values.length) : firstNonFinite(values),
  };
  const ops = graph.ops.map((op: Op): PackedOp => {
    const weights = opDef(op).pack(op, mem, microKernel, transforms);
    const {
      weight: _w,
      weightScale: _s,
      bias: _b,
      pre: _p,
      ...geometry
    } = op as Op & { weight?: unknown; weightScale?: unknown; bias?: unknown; pre?: unknown };
    return { ...geometry, weights } as PackedOp;
  });
  return { buffers: graph.buffers, ops, input: graph.input, output: graph.output };
}

function stagingBytes(op: Op): number {
  const def = opDef(op) as { stagingBytes?(op: Op): number };
  return def.stagingBytes?.(op) ?? 0;
}
