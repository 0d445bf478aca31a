// The contract every operator implements: attribute reading at load time (compile), shape
// and type inference that works with unknown dimensions (infer, run at load time on the
// declared shapes and again at run time on the real ones), and the computation itself (run).
import { DenseNetError } from "../../errors.js";
import type { Attributes } from "../attributes.js";
import type { OnnxNode } from "../graph.js";
import { type Shape, formatShape } from "../shape.js";
import type { DataType, OnnxTensor } from "../tensor.js";

/** What is known of a value: its element type, its shape (null: rank unknown), and its contents when constant. */
export interface ValueType {
  readonly type: DataType;
  readonly shape: Shape | null;
  readonly value?: OnnxTensor;
}

export interface CompileContext {
  /** The model's ai.onnx opset. */
  readonly opset: number;
  /** The value of a constant (initializer or Constant node output), undefined for anything else. */
  constant(name: string): OnnxTensor | undefined;
}

export interface Kernel {
  /**
   * Output types from input types (undefined for an omitted optional input). Throws a
   * DenseNetError naming the node when known dimensions disagree.
   */
  infer(inputs: readonly (ValueType | undefined)[]): ValueType[];
  /** Computes the outputs; `outputs` is infer's answer for these very inputs (all shapes known). */
  run(inputs: readonly (OnnxTensor | undefined)[], outputs: readonly ValueType[]): OnnxTensor[];
}

export interface OpDef {
  /** Attribute names the op understands; any other is refused at load time. */
  readonly attributes: readonly string[];
  /** [required, most] inputs and outputs. */
  readonly inputs: readonly [number, number];
  readonly outputs: readonly [number, number];
  /** Reads and checks the attributes (load time) and returns the node's kernel. */
  compile(node: OnnxNode, attrs: Attributes, ctx: CompileContext): Kernel;
}

export function nodeError(node: OnnxNode, message: string): DenseNetError {
  return new DenseNetError(`${node.label}: ${message}`);
}

export function nodeCheck(node: OnnxNode, condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw nodeError(node, typeof message === "string" ? message : message());
}

/** The input at `index` required to be float32; returns it. */
export function floatInput(node: OnnxNode, inputs: readonly (ValueType | undefined)[], index: number): ValueType {
  const v = inputs[index]!;
  nodeCheck(node, v.type === "float32", () => `input ${index} ('${node.inputs[index]}') is ${v.type}; only float32 is supported`);
  return v;
}

/** The shape of a value whose rank must be known (at load time, for ops that need it), with a rank check. */
export function shapeOf(node: OnnxNode, v: ValueType, index: number, rank: (r: number) => boolean, expected: string): Shape | null {
  if (v.shape === null) return null;
  nodeCheck(node, rank(v.shape.length), () => `input ${index} ('${node.inputs[index]}') has shape ${formatShape(v.shape!)}; ${expected}`);
  return v.shape;
}

/** A float output of `shape`. */
export const floatOut = (shape: Shape | null): ValueType => ({ type: "float32", shape });

/** The concrete dims of an inferred output (known at run time). */
export function dimsOf(v: ValueType): number[] {
  return v.shape as number[];
}
