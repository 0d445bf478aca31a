import type { Graph } from "./graph.js";
import type { PackedGraph } from "./panels.js";
import type { ExecutionPlan } from "./plan.js";

/**
 * Where a run of `plan` leaves the globally pooled features the classifier sees (DenseNet-121:
 * 1024 per image): the output of the graph's last global pool, which a full run computes
 * anyway. Valid only where no later step writes arena memory overlapping it; null where the
 * graph has no such pool (then "the features" are not defined for it).
 */
export function featuresView(graph: Graph | PackedGraph, plan: ExecutionPlan): { offset: number; elements: number } | null {
  let last = -1;
  graph.ops.forEach((op, i) => {
    if (op.kind === "globalPool") last = i;
  });
  if (last < 0) return null;
  const pool = graph.ops[last];
  const buffer = pool.output.buffer;
  if (pool.kind !== "globalPool" || pool.output.channel !== 0 || pool.channels !== graph.buffers[buffer].channels) return null;
  const range = (b: number) => {
    const start = plan.bufferOffsets[b];
    return [start, start + graph.buffers[b].channels * plan.sizes[b].height * plan.sizes[b].width * 4];
  };
  const [start, end] = range(buffer);
  const overwritten = graph.ops.slice(last + 1).some((op) => {
    const [s, e] = range(op.output.buffer);
    return op.output.buffer !== buffer && s < end && start < e;
  });
  if (overwritten || graph.ops.slice(last + 1).some((op) => op.output.buffer === buffer)) return null;
  return { offset: start, elements: pool.channels };
}
