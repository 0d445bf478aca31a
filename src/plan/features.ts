import type { Graph } from "./graph.js";

/**
 * The graph that stops at the globally pooled features the classifier sees (DenseNet-121:
 * 1024 per image): the ops up to the last global pool, whose output buffer becomes the
 * graph's output. Null where the graph has no global pool writing a whole buffer, or where
 * an op after it reads anything but what follows the pool (then "the features" is not a
 * well-defined prefix of the graph).
 */
export function featuresGraph(graph: Graph): Graph | null {
  let last = -1;
  graph.ops.forEach((op, i) => { if (op.kind === "globalPool") last = i; });
  if (last < 0) return null;
  const pool = graph.ops[last];
  if (pool.kind !== "globalPool" || pool.output.channel !== 0 || pool.channels !== graph.buffers[pool.output.buffer].channels) return null;
  const head = new Set(graph.ops.slice(last + 1).map((op) => op.output.buffer));
  head.add(pool.output.buffer);
  if (!graph.ops.slice(last + 1).every((op) => head.has(op.input.buffer))) return null;
  return { ...graph, ops: graph.ops.slice(0, last + 1), output: pool.output.buffer };
}
