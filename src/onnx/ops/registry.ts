// The operator registry: every supported ai.onnx op type and its definition. Adding a name
// to OpType without a definition (or the reverse) fails to compile.
import type { OnnxNode } from "../graph.js";
import { batchNormalization } from "./batchnorm.js";
import { concat } from "./concat.js";
import { conv } from "./conv.js";
import { add, clip, mul, relu, sigmoid } from "./elementwise.js";
import { gemm, matmul } from "./gemm.js";
import { pad } from "./pad.js";
import { averagePool, globalAveragePool, globalMaxPool, maxPool } from "./pool.js";
import { dropout, flatten, identity, reshape } from "./reshape.js";
import { softmax } from "./softmax.js";
import { type OpDef, nodeError } from "./types.js";

export type OpType =
  | "Conv"
  | "BatchNormalization"
  | "Relu"
  | "MaxPool"
  | "AveragePool"
  | "GlobalAveragePool"
  | "GlobalMaxPool"
  | "Concat"
  | "Gemm"
  | "MatMul"
  | "Flatten"
  | "Reshape"
  | "Softmax"
  | "Dropout"
  | "Identity"
  | "Clip"
  | "Sigmoid"
  | "Add"
  | "Mul"
  | "Pad";

export const OPS = {
  Conv: conv,
  BatchNormalization: batchNormalization,
  Relu: relu,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  GlobalMaxPool: globalMaxPool,
  Concat: concat,
  Gemm: gemm,
  MatMul: matmul,
  Flatten: flatten,
  Reshape: reshape,
  Softmax: softmax,
  Dropout: dropout,
  Identity: identity,
  Clip: clip,
  Sigmoid: sigmoid,
  Add: add,
  Mul: mul,
  Pad: pad,
} as const satisfies Record<OpType, OpDef>;

export function isOpType(name: string): name is OpType {
  return Object.hasOwn(OPS, name);
}

/** The node's op definition, with its input/output counts and attribute names checked. */
export function opDefinition(node: OnnxNode): OpDef {
  if (!isOpType(node.opType)) {
    throw nodeError(node, `operator '${node.opType}' is not supported (supported: ${Object.keys(OPS).join(", ")}, Constant)`);
  }
  const def: OpDef = OPS[node.opType];
  const [minIn, maxIn] = def.inputs,
    [minOut, maxOut] = def.outputs;
  const inputs = node.inputs.length;
  if (inputs < minIn || inputs > maxIn) {
    throw nodeError(
      node,
      `has ${inputs} inputs; it takes ${minIn === maxIn ? minIn : `${minIn} to ${maxIn === Infinity ? "any number" : maxIn}`}`,
    );
  }
  const missing = node.inputs.slice(0, minIn).indexOf("");
  if (missing >= 0) throw nodeError(node, `required input ${missing} is missing`);
  if (node.outputs.length < minOut || node.outputs.length > maxOut || node.outputs[0] === "") {
    throw nodeError(node, `has ${node.outputs.length} outputs; it produces ${minOut === maxOut ? minOut : `${minOut} to ${maxOut}`}`);
  }
  for (const name of node.attributes.keys()) {
    if (!def.attributes.includes(name)) throw nodeError(node, `attribute '${name}' is not supported`);
  }
  return def;
}
