// Lowers an ONNX graph of per-image NCHW convnet ops to the planned graph IR with the same
// passes the torchvision path applies (src/model/densenet_graph.ts), so an export of a
// torchvision DenseNet gets the very same ops and weights:
//  - a BatchNormalization that follows a conv (and is its only reader) is folded into it,
//    and a ReLU after that becomes the conv's epilogue;
//  - any other BatchNormalization (+ ReLU) becomes the `pre` affine of every op reading it;
//  - channel Concats cost nothing: their inputs are written at fixed offsets of one buffer;
//  - a 1x1 conv read only by an average pool (a transition) runs as pool-then-conv, the pool
//    taking the conv's pre-activation;
//  - an explicit zero Pad merges into the padding of the conv or pool after it where that is
//    exact; Identity, inference Dropout and all-zero Pads vanish.
// Anything else throws NotLowerable, and the model runs on the interpreter instead.
import { type Affine, type BufferSpec, type Graph, type Op, type Pads, type Pair, type View, batchNormAffine } from "../plan/graph.js";
import { Attributes } from "./attributes.js";
import { type ChannelConcat, type ConcatLayout, layoutConcats } from "./concat_layout.js";
import type { OnnxGraph } from "./graph.js";
import { type LoweringContext, NotLowerable, type Operand, type Value, type Window, need } from "./lower_context.js";
import { LOWER_RULES } from "./lower_rules.js";
import type { OnnxNode } from "./node.js";
import { constantPadding } from "./ops/pad.js";
import { isOpType } from "./ops/registry.js";
import type { CompileContext, ValueType } from "./ops/types.js";
import { readWindowAttributes, windowSpec } from "./ops/window.js";
import { type Shape, normalizeAxis, windowGeometry } from "./shape.js";
import type { OnnxTensor } from "./tensor.js";

export { NotLowerable };

export interface Lowered {
  readonly graph: Graph;
  /** Rank of the output: 2 for (N, classes), 4 for (N, classes, 1, 1). */
  readonly outputRank: 2 | 4;
}

export function lowerToPlan(onnx: OnnxGraph, types: ReadonlyMap<string, ValueType>): Lowered {
  return new Lowering(onnx, types).run();
}

class Lowering implements LoweringContext {
  readonly opset: number;
  private readonly ctx: CompileContext;
  private readonly alias = new Map<string, string>();
  private readonly uses = new Map<string, (OnnxNode | "output")[]>();
  private readonly values = new Map<string, Value>();
  private readonly fused = new Set<OnnxNode>();
  private readonly buffers: BufferSpec[] = [];
  private readonly ops: Op[] = [];
  private layout!: ConcatLayout;
  private readonly groupBuffers = new Map<number, number>();

  constructor(
    private readonly onnx: OnnxGraph,
    private readonly types: ReadonlyMap<string, ValueType>,
  ) {
    this.opset = onnx.opset;
    this.ctx = { opset: onnx.opset, constant: (name) => onnx.constants.get(name) };
  }

  run(): Lowered {
    const { onnx } = this;
    need(onnx.inputs.length === 1 && onnx.outputs.length === 1, "the planned path takes one input and one output");
    const input = onnx.inputs[0];
    need(
      input.type === "float32" && input.dims?.length === 4 && typeof input.dims[1] === "number",
      () => `input '${input.name}' is not a float32 (N, C, H, W) image batch with a fixed C`,
    );
    this.findAliases();
    this.countUses();
    this.layoutConcats();
    need(!this.layout.placements.has(this.canon(input.name)), "the graph input is concatenated directly");
    const inputBuffer = this.buffer(input.name, input.dims[1] as number);
    this.values.set(this.canon(input.name), {
      kind: "map",
      view: { buffer: inputBuffer, channel: 0 },
      channels: input.dims[1] as number,
      nonNegative: false,
    });
    for (const node of onnx.nodes) if (!this.fused.has(node) && !this.alias.has(node.outputs[0])) this.lowerNode(node);

    const outputName = onnx.outputs[0].name;
    const out = this.value(outputName);
    const shape = this.shape(outputName);
    need(
      (out.kind === "map" || out.kind === "flat") && out.view.channel === 0 && this.buffers[out.view.buffer].channels === out.channels,
      "the output is not a whole buffer",
    );
    const rank = shape?.length;
    need(
      rank === 2 ? out.kind === "flat" : rank === 4 && shape![2] === 1 && shape![3] === 1,
      () => `output '${outputName}' is not (N, C) or (N, C, 1, 1)`,
    );
    return { graph: { buffers: this.buffers, ops: this.ops, input: inputBuffer, output: out.view.buffer }, outputRank: rank as 2 | 4 };
  }

  private lowerNode(node: OnnxNode): void {
    const rule = isOpType(node.opType) ? LOWER_RULES[node.opType] : null;
    if (!rule) throw new NotLowerable(`${node.label} has no planned equivalent`);
    rule(this, node);
  }

  // ---- graph analysis --------------------------------------------------------------------

  /** Identity, inference Dropout and Pads of all zeros pass their input through. */
  private findAliases(): void {
    for (const node of this.onnx.nodes) {
      const rank = this.shape(node.inputs[0])?.length;
      const zeroPad = node.opType === "Pad" && rank !== undefined && constantPadding(node, this.ctx, rank)?.pads.every((p) => p === 0);
      if (node.opType === "Identity" || node.opType === "Dropout" || zeroPad) this.alias.set(node.outputs[0], node.inputs[0]);
    }
  }

  private canon(name: string): string {
    let n = name;
    while (this.alias.has(n)) n = this.alias.get(n)!;
    return n;
  }

  private countUses(): void {
    for (const node of this.onnx.nodes) {
      if (this.alias.has(node.outputs[0])) continue;
      for (const input of node.inputs) if (input) this.use(input, node);
    }
    for (const o of this.onnx.outputs) this.use(o.name, "output");
  }

  private use(name: string, by: OnnxNode | "output"): void {
    const key = this.canon(name);
    if (!this.uses.has(key)) this.uses.set(key, []);
    this.uses.get(key)!.push(by);
  }

  /** The node reading `name` when it is the value's only reader (and the value is no graph output). */
  soleReader(name: string, opType: string): OnnxNode | null {
    const uses = this.uses.get(this.canon(name)) ?? [];
    const only = uses.length === 1 ? uses[0] : null;
    return only !== null && only !== "output" && only.opType === opType ? only : null;
  }

  private layoutConcats(): void {
    const concats: ChannelConcat[] = this.onnx.nodes
      .filter((n) => n.opType === "Concat")
      .map((node) => {
        const axis = new Attributes(node).int("axis");
        need(
          normalizeAxis(axis, 4) === 1 && this.shape(node.outputs[0])?.length === 4,
          () => `${node.label} does not concatenate (N, C, H, W) maps along C`,
        );
        return { output: this.canon(node.outputs[0]), inputs: node.inputs.map((i) => this.canon(i)) };
      });
    const layout = layoutConcats(concats, (name) => {
      const c = this.shape(name)?.[1];
      return typeof c === "number" ? c : null;
    });
    need(typeof layout !== "string", () => `the Concats cannot share buffers: ${layout as string}`);
    this.layout = layout;
  }

  // ---- values and buffers ----------------------------------------------------------------

  shape(name: string): Shape | null {
    return this.types.get(name)?.shape ?? null;
  }

  value(name: string): Value {
    const v = this.values.get(this.canon(name));
    need(v, () => `value '${name}' is not a per-image map`);
    return v;
  }

  set(name: string, v: Value): void {
    this.values.set(this.canon(name), v);
  }

  buffer(name: string, channels: number): number {
    return this.buffers.push({ name, channels }) - 1;
  }

  /** Where an op writes value `name`: its Concat buffer slot, or a buffer of its own. */
  place(name: string, channels: number): View {
    const p = this.layout.placements.get(this.canon(name));
    if (!p) return { buffer: this.buffer(name, channels), channel: 0 };
    if (!this.groupBuffers.has(p.group)) {
      const g = this.layout.groups[p.group];
      this.groupBuffers.set(p.group, this.buffer(g.name, g.channels));
    }
    return { buffer: this.groupBuffers.get(p.group)!, channel: p.offset };
  }

  constant(node: OnnxNode, index: number, what: string): OnnxTensor {
    const t = node.inputs[index] ? this.onnx.constants.get(node.inputs[index]) : undefined;
    need(t && t.data instanceof Float32Array, () => `${node.label}: the ${what} is not a float32 constant`);
    return t;
  }

  batchNorm(node: OnnxNode, relu: boolean): Affine {
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map(
      (i) => this.constant(node, i, "BatchNormalization parameter").data as Float32Array,
    );
    return batchNormAffine(scale, bias, mean, variance, new Attributes(node).float("epsilon", 1e-5), relu);
  }

  /** An op's input: the map it reads, the affine applied while reading, and explicit zero padding to merge. */
  operand(node: OnnxNode): Operand {
    const v = this.value(node.inputs[0]);
    const extra: Pads = v.kind === "padded" ? v.pads : [0, 0, 0, 0];
    const inner = v.kind === "padded" ? v.source : v;
    need(inner.kind === "map" || inner.kind === "affine", () => `${node.label} reads a (N, C) matrix`);
    const source = inner.kind === "map" ? inner : inner.source;
    const pre = inner.kind === "affine" ? inner.affine : null;
    return { source, pre, extra, nonNegative: pre ? pre.relu : source.nonNegative };
  }

  /** Kernel, stride, dilation and explicit pads of a 2-D window op; SAME pads need known sizes or stride 1. */
  window(node: OnnxNode, kernel?: readonly number[]): Window {
    const attrs = readWindowAttributes(node, new Attributes(node));
    const spec = windowSpec(node, attrs, kernel ?? attrs.kernel!);
    need(spec.kernel.length === 2, () => `${node.label} is not 2-D`);
    const x = this.shape(node.inputs[0]);
    const sizes = spec.autoPad.startsWith("SAME") && spec.strides.every((s) => s === 1) ? [1, 1] : (x?.slice(2) ?? [null, null]);
    const g = windowGeometry(spec, sizes);
    need(
      g.begin.every((p) => p !== null),
      () => `${node.label}: auto_pad needs the input size`,
    );
    const [t, l] = g.begin as number[],
      [b, r] = g.end as number[];
    const pads: Pads = [t, l, b, r];
    return {
      spec,
      kernel: spec.kernel as unknown as Pair,
      stride: spec.strides as unknown as Pair,
      dilation: spec.dilations as unknown as Pair,
      pads,
    };
  }

  concatSlot(name: string): { buffer: number | undefined; offset: number } | undefined {
    const p = this.layout.placements.get(this.canon(name));
    return p && { buffer: this.groupBuffers.get(p.group), offset: p.offset };
  }

  constantValue(name: string): OnnxTensor | undefined {
    return this.onnx.constants.get(name);
  }

  same(a: string, b: string): boolean {
    return this.canon(a) === this.canon(b);
  }

  fuse(node: OnnxNode): void {
    this.fused.add(node);
  }

  emit(op: Op): void {
    this.ops.push(op);
  }
}
