import type { ScratchSizes } from "./op_def.js";
import { opDef } from "./ops.js";
import type { GraphGeometry } from "./shapes.js";

export type { ScratchSizes };

/**
 * Bytes of scratch one worker needs to run any step of `graph` as planned: the largest of
 * its ops' kernels' needs (the conv GEMM's B panel for the planner's K block, the widest
 * Winograd conv's transformed input panels). Every caller that allocates per-worker scratch
 * (the session, the kernel tests, the benchmarks) sizes it with this one function.
 */
export function scratchBytes(graph: GraphGeometry, kernels: ScratchSizes): number {
  return Math.max(0, ...graph.ops.map((op) => opDef(op).scratchBytes(op, kernels)));
}
