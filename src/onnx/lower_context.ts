// What the rules that lower ONNX nodes to the graph IR (onnx/lower_rules.ts) see of a
// lowering in progress (onnx/lower.ts): the values computed so far and where they live.
import type { Affine, Op, Pads, Pair, View } from "../plan/graph.js";
import type { OnnxNode } from "./node.js";
import type { Shape, WindowSpec } from "./shape.js";
import type { OnnxTensor } from "./tensor.js";

/** Why a graph cannot run on the planned kernels (it then runs on the interpreter). */
export class NotLowerable extends Error {}

export const need: (condition: unknown, reason: string | (() => string)) => asserts condition = (condition, reason) => {
  if (!condition) throw new NotLowerable(typeof reason === "string" ? reason : reason());
};

/** A (C, H, W) per-image map at a buffer view. */
export interface MapValue {
  readonly kind: "map";
  readonly view: View;
  readonly channels: number;
  readonly nonNegative: boolean;
}
/** A per-channel affine (+ ReLU) of a map, applied by whichever op reads it. */
export interface AffineValue {
  readonly kind: "affine";
  readonly source: MapValue;
  readonly affine: Affine;
}
/** Explicit zero padding (top, left, bottom, right) of a map or affine, waiting to merge into a window op. */
export interface PaddedValue {
  readonly kind: "padded";
  readonly source: MapValue | AffineValue;
  readonly pads: Pads;
}
/** A (N, C) row per image, stored as a (C, 1, 1) buffer view. */
export interface FlatValue {
  readonly kind: "flat";
  readonly view: View;
  readonly channels: number;
}
export type Value = MapValue | AffineValue | PaddedValue | FlatValue;

/** A 2-D window op's geometry with explicit pads. */
export interface Window {
  readonly spec: WindowSpec;
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly dilation: Pair;
  readonly pads: Pads;
}

/** An op's input: the map it reads, the affine applied while reading, and explicit zero padding to merge. */
export interface Operand {
  readonly source: MapValue;
  readonly pre: Affine | null;
  readonly extra: Pads;
  readonly nonNegative: boolean;
}

export interface LoweringContext {
  /** The model's ai.onnx opset. */
  readonly opset: number;
  /** The inferred shape of a value (null when unknown). */
  shape(name: string): Shape | null;
  /** The lowered value of `name` (NotLowerable when it is none: not a per-image value). */
  value(name: string): Value;
  set(name: string, v: Value): void;
  /** A new buffer of `channels` channels. */
  buffer(name: string, channels: number): number;
  /** Where an op writes value `name`: its Concat buffer slot, or a buffer of its own. */
  place(name: string, channels: number): View;
  /** The Concat slot of value `name`, and that Concat's buffer (undefined while no op has written it). */
  concatSlot(name: string): { buffer: number | undefined; offset: number } | undefined;
  /** The float32 constant input `index` of `node` (NotLowerable when it is no such constant). */
  constant(node: OnnxNode, index: number, what: string): OnnxTensor;
  /** A constant by value name (undefined for anything else). */
  constantValue(name: string): OnnxTensor | undefined;
  /** Whether two value names are the same value (through Identity, Dropout and zero Pads). */
  same(a: string, b: string): boolean;
  /** The node reading `name` when it is the value's only reader (and the value is no graph output). */
  soleReader(name: string, opType: string): OnnxNode | null;
  /** Marks a node as folded into the op just emitted: it emits nothing of its own. */
  fuse(node: OnnxNode): void;
  /** The node's BatchNormalization parameters as a per-channel affine. */
  batchNorm(node: OnnxNode, relu: boolean): Affine;
  operand(node: OnnxNode): Operand;
  /** Kernel, stride, dilation and explicit pads of a 2-D window op (`kernel` for a Conv, from its weights). */
  window(node: OnnxNode, kernel?: readonly number[]): Window;
  emit(op: Op): void;
}

export function addPads(a: Pads, b: Pads): Pads {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
}
