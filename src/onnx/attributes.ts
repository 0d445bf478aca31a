// Typed access to a node's attributes; a wrong type or a missing required attribute is a
// one-line error naming the node.
import { DenseNetError } from "../errors.js";
import type { OnnxNode } from "./node.js";
import { ATTRIBUTE_TYPES, type AttributeProto, present } from "./proto.js";
import { int64ToNumber, readTensorProto } from "./tensor_proto.js";
import type { OnnxTensor } from "./tensor.js";

type TypeName = keyof typeof ATTRIBUTE_TYPES;

/**
 * A float attribute as the decimal the exporter most likely wrote: the shortest decimal that
 * rounds to the same float32 (ONNX stores attributes as float32, so PyTorch's eps=1e-5
 * arrives as 9.99999974e-6; reading it back as 1e-5 makes BatchNorm folding bit-identical
 * to the one done from the original float64 hyper-parameter).
 */
export function shortestDecimal(f: number): number {
  for (let p = 1; p <= 9; p++) {
    const v = Number(f.toPrecision(p));
    if (Math.fround(v) === f) return v;
  }
  return f;
}

export class Attributes {
  constructor(private readonly node: OnnxNode) {}

  has(name: string): boolean {
    return this.node.attributes.has(name);
  }

  int(name: string, fallback?: number): number {
    const a = this.get(name, "INT", fallback);
    return a ? int64ToNumber(a.i, `${this.node.label}: attribute '${name}'`) : fallback!;
  }

  ints(name: string, fallback?: readonly number[]): number[] {
    const a = this.get(name, "INTS", fallback);
    return a ? a.ints.map((v) => int64ToNumber(v, `${this.node.label}: attribute '${name}'`)) : [...fallback!];
  }

  float(name: string, fallback?: number): number {
    const a = this.get(name, "FLOAT", fallback);
    return a ? shortestDecimal(a.f) : fallback!;
  }

  floats(name: string, fallback?: readonly number[]): number[] {
    const a = this.get(name, "FLOATS", fallback);
    return a ? a.floats.map(shortestDecimal) : [...fallback!];
  }

  string(name: string, fallback?: string): string {
    const a = this.get(name, "STRING", fallback);
    return a ? new TextDecoder().decode(a.s) : fallback!;
  }

  tensor(name: string): OnnxTensor {
    const a = this.get(name, "TENSOR", undefined)!;
    if (!present(a, "t") || !a.t) throw new DenseNetError(`${this.node.label}: attribute '${name}' holds no tensor`);
    return readTensorProto(a.t, `${this.node.label}: attribute '${name}'`);
  }

  /** The attribute checked to be of `type`; undefined when absent and a fallback exists. */
  private get(name: string, type: TypeName, fallback: unknown): AttributeProto | undefined {
    const a = this.node.attributes.get(name);
    if (!a) {
      if (fallback === undefined) throw new DenseNetError(`${this.node.label}: attribute '${name}' is required`);
      return undefined;
    }
    // Type 0 (UNDEFINED) comes from exporters older than the type field: read the field asked for.
    if (a.type !== 0 && a.type !== ATTRIBUTE_TYPES[type]) {
      const found = Object.entries(ATTRIBUTE_TYPES).find(([, v]) => v === a.type)?.[0] ?? `type ${a.type}`;
      throw new DenseNetError(`${this.node.label}: attribute '${name}' must be ${type.toLowerCase()}, found ${found.toLowerCase()}`);
    }
    return a;
  }
}
