import type { Graph } from "./graph.js";
import { GEMM_KC } from "./plan.js";

/** The kernel module's scratch-size exports (assembly/index.ts) that planning needs. */
export interface ScratchSizes {
  conv2d_gemm_scratch_bytes(kc: number): number;
  conv2d_winograd_scratch_bytes(maxCin: number): number;
}

/**
 * Bytes of scratch one worker needs to run any step of `graph` as planned: the conv GEMM's
 * B panel for the planner's K block (GEMM_KC), or the widest Winograd conv's transformed
 * input panels, whichever is larger. Every caller that allocates per-worker scratch (the
 * session, the kernel tests, the benchmarks) sizes it with this one function.
 */
export function scratchBytes(graph: Graph, kernels: ScratchSizes): number {
  const winogradCin = Math.max(0, ...graph.ops.map((op) => (op.kind === "conv" && op.winograd ? op.inChannels : 0)));
  return Math.max(kernels.conv2d_gemm_scratch_bytes(GEMM_KC), kernels.conv2d_winograd_scratch_bytes(winogradCin));
}
