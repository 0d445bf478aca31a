import type { AttributeProto } from "./proto.js";

/** One node of an ONNX graph as read from the file (onnx/graph.ts) and read by the ops. */
export interface OnnxNode {
  /** Position in the file. */
  readonly index: number;
  readonly opType: string;
  readonly name: string;
  /** `Conv "name"`, or `Conv #index` for an unnamed node: how messages name the node. */
  readonly label: string;
  /** Input value names; "" marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, AttributeProto>;
}
