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
import { type Affine, type BufferSpec, type Graph, type Op, type Pads, type Pair, type View, batchNormAffine, foldAffineIntoConv } from "../plan/graph.js";
import { Attributes } from "./attributes.js";
import { type ChannelConcat, type ConcatLayout, layoutConcats } from "./concat_layout.js";
import type { OnnxGraph, OnnxNode } from "./graph.js";
import { constantPadding } from "./ops/pad.js";
import type { CompileContext, ValueType } from "./ops/types.js";
import { readWindowAttributes, windowSpec } from "./ops/window.js";
import { type Shape, normalizeAxis, windowGeometry } from "./shape.js";
import type { OnnxTensor } from "./tensor.js";

/** Why a graph cannot run on the planned kernels (it then runs on the interpreter). */
export class NotLowerable extends Error {}

/** A (C, H, W) per-image map at a buffer view. */
interface MapValue { readonly kind: "map"; readonly view: View; readonly channels: number; readonly nonNegative: boolean }
/** A per-channel affine (+ ReLU) of a map, applied by whichever op reads it. */
interface AffineValue { readonly kind: "affine"; readonly source: MapValue; readonly affine: Affine }
/** Explicit zero padding (top, left, bottom, right) of a map or affine, waiting to merge into a window op. */
interface PaddedValue { readonly kind: "padded"; readonly source: MapValue | AffineValue; readonly pads: Pads }
/** A (N, C) row per image, stored as a (C, 1, 1) buffer view. */
interface FlatValue { readonly kind: "flat"; readonly view: View; readonly channels: number }
type Value = MapValue | AffineValue | PaddedValue | FlatValue;

export interface Lowered {
  readonly graph: Graph;
  /** Rank of the output: 2 for (N, classes), 4 for (N, classes, 1, 1). */
  readonly outputRank: 2 | 4;
}

export function lowerToPlan(onnx: OnnxGraph, types: ReadonlyMap<string, ValueType>): Lowered {
  return new Lowering(onnx, types).run();
}

const need: (condition: unknown, reason: string | (() => string)) => asserts condition = (condition, reason) => {
  if (!condition) throw new NotLowerable(typeof reason === "string" ? reason : reason());
};

class Lowering {
  private readonly ctx: CompileContext;
  private readonly alias = new Map<string, string>();
  private readonly uses = new Map<string, (OnnxNode | "output")[]>();
  private readonly values = new Map<string, Value>();
  private readonly fused = new Set<OnnxNode>();
  private readonly buffers: BufferSpec[] = [];
  private readonly ops: Op[] = [];
  private layout!: ConcatLayout;
  private readonly groupBuffers = new Map<number, number>();

  constructor(private readonly onnx: OnnxGraph, private readonly types: ReadonlyMap<string, ValueType>) {
    this.ctx = { opset: onnx.opset, constant: (name) => onnx.constants.get(name) };
  }

  run(): Lowered {
    const { onnx } = this;
    need(onnx.inputs.length === 1 && onnx.outputs.length === 1, "the planned path takes one input and one output");
    const input = onnx.inputs[0];
    need(input.type === "float32" && input.dims?.length === 4 && typeof input.dims[1] === "number",
      () => `input '${input.name}' is not a float32 (N, C, H, W) image batch with a fixed C`);
    this.findAliases();
    this.countUses();
    this.layoutConcats();
    need(!this.layout.placements.has(this.canon(input.name)), "the graph input is concatenated directly");
    const inputBuffer = this.buffer(input.name, input.dims[1] as number);
    this.values.set(this.canon(input.name), { kind: "map", view: { buffer: inputBuffer, channel: 0 }, channels: input.dims[1] as number, nonNegative: false });
    for (const node of onnx.nodes) if (!this.fused.has(node) && !this.alias.has(node.outputs[0])) this.emit(node);

    const outputName = onnx.outputs[0].name;
    const out = this.value(outputName);
    const shape = this.shape(outputName);
    need((out.kind === "map" || out.kind === "flat") && out.view.channel === 0 && this.buffers[out.view.buffer].channels === out.channels,
      "the output is not a whole buffer");
    const rank = shape?.length;
    need(rank === 2 ? out.kind === "flat" : rank === 4 && shape![2] === 1 && shape![3] === 1,
      () => `output '${outputName}' is not (N, C) or (N, C, 1, 1)`);
    return { graph: { buffers: this.buffers, ops: this.ops, input: inputBuffer, output: out.view.buffer }, outputRank: rank as 2 | 4 };
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
  private soleReader(name: string, opType: string): OnnxNode | null {
    const uses = this.uses.get(this.canon(name)) ?? [];
    const only = uses.length === 1 ? uses[0] : null;
    return only !== null && only !== "output" && only.opType === opType ? only : null;
  }

  private layoutConcats(): void {
    const concats: ChannelConcat[] = this.onnx.nodes.filter((n) => n.opType === "Concat").map((node) => {
      const axis = new Attributes(node).int("axis");
      need(normalizeAxis(axis, 4) === 1 && this.shape(node.outputs[0])?.length === 4, () => `${node.label} does not concatenate (N, C, H, W) maps along C`);
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

  private shape(name: string): Shape | null {
    return this.types.get(name)?.shape ?? null;
  }

  private value(name: string): Value {
    const v = this.values.get(this.canon(name));
    need(v, () => `value '${name}' is not a per-image map`);
    return v;
  }

  private set(name: string, v: Value): void {
    this.values.set(this.canon(name), v);
  }

  private buffer(name: string, channels: number): number {
    return this.buffers.push({ name, channels }) - 1;
  }

  /** Where an op writes value `name`: its Concat buffer slot, or a buffer of its own. */
  private place(name: string, channels: number): View {
    const p = this.layout.placements.get(this.canon(name));
    if (!p) return { buffer: this.buffer(name, channels), channel: 0 };
    if (!this.groupBuffers.has(p.group)) {
      const g = this.layout.groups[p.group];
      this.groupBuffers.set(p.group, this.buffer(g.name, g.channels));
    }
    return { buffer: this.groupBuffers.get(p.group)!, channel: p.offset };
  }

  private constant(node: OnnxNode, index: number, what: string): OnnxTensor {
    const t = node.inputs[index] ? this.onnx.constants.get(node.inputs[index]) : undefined;
    need(t && t.data instanceof Float32Array, () => `${node.label}: the ${what} is not a float32 constant`);
    return t;
  }

  private batchNorm(node: OnnxNode, relu: boolean): Affine {
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => this.constant(node, i, "BatchNormalization parameter").data as Float32Array);
    return batchNormAffine(scale, bias, mean, variance, new Attributes(node).float("epsilon", 1e-5), relu);
  }

  /** An op's input: the map it reads, the affine applied while reading, and explicit zero padding to merge. */
  private operand(node: OnnxNode): { source: MapValue; pre: Affine | null; extra: Pads; nonNegative: boolean } {
    const v = this.value(node.inputs[0]);
    const extra: Pads = v.kind === "padded" ? v.pads : [0, 0, 0, 0];
    const inner = v.kind === "padded" ? v.source : v;
    need(inner.kind === "map" || inner.kind === "affine", () => `${node.label} reads a (N, C) matrix`);
    const source = inner.kind === "map" ? inner : inner.source;
    const pre = inner.kind === "affine" ? inner.affine : null;
    return { source, pre, extra, nonNegative: pre ? pre.relu : source.nonNegative };
  }

  // ---- ops -------------------------------------------------------------------------------

  private emit(node: OnnxNode): void {
    switch (node.opType) {
      case "Conv": return this.conv(node);
      case "BatchNormalization": return this.standaloneBatchNorm(node);
      case "Relu": return this.relu(node);
      case "MaxPool": case "AveragePool": return this.pool(node);
      case "GlobalAveragePool": case "GlobalMaxPool": return this.globalPool(node);
      case "Concat": return this.concat(node);
      case "Pad": return this.pad(node);
      case "Flatten": case "Reshape": return this.reshape(node);
      case "Gemm": return this.gemm(node);
      case "MatMul": return this.matmul(node);
      case "Softmax": return this.softmax(node);
      default: throw new NotLowerable(`${node.label} has no planned equivalent`);
    }
  }

  /** Kernel, stride, dilation and explicit pads of a 2-D window op; SAME pads need known sizes or stride 1. */
  private window(node: OnnxNode, kernel?: readonly number[]) {
    const attrs = readWindowAttributes(node, new Attributes(node));
    const spec = windowSpec(node, attrs, kernel ?? attrs.kernel!);
    need(spec.kernel.length === 2, () => `${node.label} is not 2-D`);
    const x = this.shape(node.inputs[0]);
    const sizes = spec.autoPad.startsWith("SAME") && spec.strides.every((s) => s === 1) ? [1, 1] : x?.slice(2) ?? [null, null];
    const g = windowGeometry(spec, sizes);
    need(g.begin.every((p) => p !== null), () => `${node.label}: auto_pad needs the input size`);
    const [t, l] = g.begin as number[], [b, r] = g.end as number[];
    const pads: Pads = [t, l, b, r];
    return { spec, kernel: spec.kernel as unknown as Pair, stride: spec.strides as unknown as Pair, dilation: spec.dilations as unknown as Pair, pads };
  }

  private conv(node: OnnxNode): void {
    const weight = this.constant(node, 1, "weight");
    const [m, c] = weight.dims;
    need(weight.dims.length === 4, () => `${node.label} is not 2-D`);
    need(new Attributes(node).int("group", 1) === 1, () => `${node.label}: group > 1 has no planned kernel`);
    const bias = node.inputs[2] ? this.constant(node, 2, "bias").data as Float32Array : null;
    const { kernel, stride, dilation, pads } = this.window(node, weight.dims.slice(2));
    const x = this.operand(node);
    need(x.source.channels === c, () => `${node.label}: weights for ${c} input channels, input has ${x.source.channels}`);
    const allPads = addPads(pads, x.extra);
    let w = { weight: weight.data as Float32Array, bias };
    let out = node.outputs[0];
    const bn = this.soleReader(out, "BatchNormalization");
    if (bn) {
      w = foldAffineIntoConv(w.weight, w.bias, this.batchNorm(bn, false), m);
      this.fused.add(bn);
      out = bn.outputs[0];
    }
    const relu = this.soleReader(out, "Relu");
    if (relu) {
      this.fused.add(relu);
      out = relu.outputs[0];
    }
    const conv = (input: View, output: View, pre: Affine | null, nominalInput?: View): Op => ({
      kind: "conv", name: node.name || node.label, input, output, inChannels: c, outChannels: m, kernel, stride, pads: allPads,
      dilation, weight: w.weight, bias: w.bias, pre, relu: relu !== null, ...(nominalInput ? { nominalInput } : {}),
    });
    const pointwise = kernel.every((k) => k === 1) && stride.every((s) => s === 1) && allPads.every((p) => p === 0);
    const pool = relu || !pointwise ? null : this.soleReader(out, "AveragePool");
    if (pool && this.swapsWithPointwise(pool)) {
      // Transition: the average pool first (with the conv's pre-activation), then the 1x1 conv on 4x fewer pixels.
      const pooled = this.buffer(`${pool.name || pool.label}.input`, c);
      this.ops.push(this.poolOp(pool, x.source.view, { buffer: pooled, channel: 0 }, c, x.pre));
      this.fused.add(pool);
      const view = this.place(pool.outputs[0], m);
      this.ops.push(conv({ buffer: pooled, channel: 0 }, view, null, x.source.view));
      this.set(pool.outputs[0], { kind: "map", view, channels: m, nonNegative: false });
      return;
    }
    const spatial = this.shape(node.inputs[0]);
    if (pointwise && !x.pre && !relu && spatial?.[2] === 1 && spatial[3] === 1) {
      // A 1x1 conv on a (C, 1, 1) map is a linear layer (a Caffe2-style classifier).
      const view = this.place(out, m);
      this.ops.push({ kind: "linear", name: node.name || node.label, input: x.source.view, output: view, inFeatures: c, outFeatures: m, weight: w.weight, bias: w.bias });
      this.set(out, { kind: "map", view, channels: m, nonNegative: false });
      return;
    }
    const view = this.place(out, m);
    this.ops.push(conv(x.source.view, view, x.pre));
    this.set(out, { kind: "map", view, channels: m, nonNegative: relu !== null });
  }

  /** An average pool commutes with a 1x1 conv when its windows average real pixels only (weights summing to 1). */
  private swapsWithPointwise(pool: OnnxNode): boolean {
    const { pads } = this.window(pool);
    return pool.outputs.length === 1 && (pads.every((p) => p === 0) || new Attributes(pool).int("count_include_pad", 0) === 0);
  }

  private poolOp(node: OnnxNode, input: View, output: View, channels: number, pre: Affine | null, extra: Pads = [0, 0, 0, 0], nonNegative = false): Op {
    const { spec, kernel, stride, dilation, pads } = this.window(node);
    const max = node.opType === "MaxPool";
    let countIncludePad = !max && new Attributes(node).int("count_include_pad", 0) === 1;
    if (extra.some((p) => p > 0)) {
      if (max) {
        // Zero padding equals max-pool padding only when every window also sees a real value >= 0.
        need(nonNegative && dilation.every((d) => d === 1) && addPads(pads, extra).every((p, i) => p < kernel[i % 2]),
          () => `${node.label}: the Pad before it is not equivalent to max-pool padding`);
      } else {
        // Explicit zeros count as elements: only exact when the pool counts its own padding too (or has none).
        need(!spec.ceil && (countIncludePad || pads.every((p) => p === 0)), () => `${node.label}: the Pad before it does not merge into average-pool padding`);
        countIncludePad = true;
      }
    }
    return {
      kind: "pool", name: node.name || node.label, mode: max ? "max" : "avg", input, output, channels, kernel, stride,
      pads: addPads(pads, extra), dilation, ceilMode: spec.ceil, countIncludePad, pre,
    };
  }

  private pool(node: OnnxNode): void {
    need(node.outputs.length === 1, () => `${node.label}: the Indices output has no planned equivalent`);
    const x = this.operand(node);
    const view = this.place(node.outputs[0], x.source.channels);
    this.ops.push(this.poolOp(node, x.source.view, view, x.source.channels, x.pre, x.extra, x.nonNegative));
    this.set(node.outputs[0], { kind: "map", view, channels: x.source.channels, nonNegative: x.nonNegative });
  }

  private globalPool(node: OnnxNode): void {
    const x = this.operand(node);
    need(x.extra.every((p) => p === 0), () => `${node.label} reads a padded map`);
    const view = this.place(node.outputs[0], x.source.channels);
    this.ops.push({
      kind: "globalPool", name: node.name || node.label, mode: node.opType === "GlobalMaxPool" ? "max" : "avg",
      input: x.source.view, output: view, channels: x.source.channels, pre: x.pre,
    });
    this.set(node.outputs[0], { kind: "map", view, channels: x.source.channels, nonNegative: x.nonNegative });
  }

  private standaloneBatchNorm(node: OnnxNode): void {
    const x = this.value(node.inputs[0]);
    need(x.kind === "map", () => `${node.label} does not read a stored map`);
    const relu = this.soleReader(node.outputs[0], "Relu");
    if (relu) this.fused.add(relu);
    this.set(relu ? relu.outputs[0] : node.outputs[0], { kind: "affine", source: x, affine: this.batchNorm(node, relu !== null) });
  }

  private relu(node: OnnxNode): void {
    const x = this.value(node.inputs[0]);
    if (x.kind === "map" && x.nonNegative) return this.set(node.outputs[0], x);
    need(x.kind === "map" || x.kind === "affine", () => `${node.label} has no planned equivalent here`);
    const affine: Affine = x.kind === "affine" ? { ...x.affine, relu: true }
      : { scale: new Float32Array(x.channels).fill(1), shift: new Float32Array(x.channels), relu: true };
    this.set(node.outputs[0], { kind: "affine", source: x.kind === "affine" ? x.source : x, affine });
  }

  private concat(node: OnnxNode): void {
    const parts = node.inputs.map((name) => {
      const v = this.value(name);
      const at = this.layout.placements.get(this.canon(name))!;
      need(v.kind === "map" && v.view.buffer === this.groupBuffers.get(at.group) && v.view.channel === at.offset,
        () => `${node.label}: input '${name}' is not written into the concatenation buffer`);
      return v;
    });
    const channels = parts.reduce((n, v) => n + v.channels, 0);
    this.set(node.outputs[0], { kind: "map", view: this.place(node.outputs[0], channels), channels, nonNegative: parts.every((v) => v.nonNegative) });
  }

  private pad(node: OnnxNode): void {
    need(this.shape(node.inputs[0])?.length === 4, () => `${node.label} does not pad an (N, C, H, W) map`);
    const padding = constantPadding(node, this.ctx, 4);
    need(padding && padding.value === 0, () => `${node.label} does not pad with a constant 0`);
    const [n0, c0, t, l, n1, c1, b, r] = padding.pads;
    need([n0, c0, n1, c1].every((p) => p === 0) && [t, l, b, r].every((p) => p >= 0), () => `${node.label} pads more than H and W`);
    const x = this.value(node.inputs[0]);
    need(x.kind === "map" || x.kind === "affine", () => `${node.label} pads a matrix or padded map`);
    this.set(node.outputs[0], { kind: "padded", source: x, pads: [t, l, b, r] });
  }

  /** Flatten/Reshape between (N, C, 1, 1) and (N, C): the same per-image data. */
  private reshape(node: OnnxNode): void {
    const x = this.value(node.inputs[0]);
    const from = this.shape(node.inputs[0]), to = this.shape(node.outputs[0]);
    need(x.kind === "map" || x.kind === "flat", () => `${node.label} reshapes a value with a pending affine or padding`);
    const oneByOne = x.kind === "flat" || (from?.[2] === 1 && from[3] === 1);
    // An unknown first dimension is the batch (the per-image part below is fixed); a known one must equal the input's.
    const sameBatch = to !== null && from !== null && (to[0] === null || to[0] === from[0]);
    const flat = to?.length === 2 && to[1] === x.channels;
    const map = to?.length === 4 && to[1] === x.channels && to[2] === 1 && to[3] === 1;
    need(oneByOne && sameBatch && (flat || map), () => `${node.label} changes the per-image layout`);
    this.set(node.outputs[0], flat ? { kind: "flat", view: x.view, channels: x.channels } : { kind: "map", view: x.view, channels: x.channels, nonNegative: false });
  }

  private linear(node: OnnxNode, name: string, weight: Float32Array, outFeatures: number, bias: Float32Array | null, out: string): void {
    const x = this.value(node.inputs[0]);
    need(x.kind === "flat", () => `${node.label} does not read an (N, C) matrix`);
    need(weight.length === outFeatures * x.channels, () => `${node.label}: weight does not match ${x.channels} input features`);
    const view = this.place(out, outFeatures);
    this.ops.push({ kind: "linear", name, input: x.view, output: view, inFeatures: x.channels, outFeatures, weight, bias });
    this.set(out, { kind: "flat", view, channels: outFeatures });
  }

  /** Softmax over the channels of an (N, C) matrix or (N, C, 1, 1) map: its axis must span exactly C. */
  private softmax(node: OnnxNode): void {
    const x = this.value(node.inputs[0]);
    need(x.kind === "flat" || x.kind === "map", () => `${node.label} reads a value with a pending affine or padding`);
    const shape = this.shape(node.inputs[0]);
    need(shape && (shape.length === 2 || (shape.length === 4 && shape[2] === 1 && shape[3] === 1)),
      () => `${node.label} does not read an (N, C) or (N, C, 1, 1) value`);
    // From opset 13 Softmax runs along `axis` alone (default -1); before, over every dim from `axis` (default 1) on.
    const axis = normalizeAxis(new Attributes(node).int("axis", this.ctx.opset >= 13 ? -1 : 1), shape.length);
    need(axis === 1, () => `${node.label}: axis ${axis} is not the channel axis`);
    const view = this.place(node.outputs[0], x.channels);
    this.ops.push({ kind: "softmax", name: node.name || node.label, input: x.view, output: view, channels: x.channels });
    this.set(node.outputs[0], x.kind === "flat" ? { kind: "flat", view, channels: x.channels } : { kind: "map", view, channels: x.channels, nonNegative: true });
  }

  private gemm(node: OnnxNode): void {
    const a = new Attributes(node);
    need(a.float("alpha", 1) === 1 && a.float("beta", 1) === 1 && a.int("transA", 0) === 0, () => `${node.label}: alpha, beta or transA has no planned equivalent`);
    const b = this.constant(node, 1, "B matrix");
    const [rows, cols] = b.dims;
    const transB = a.int("transB", 0) === 1;
    const n = transB ? rows : cols;
    const weight = transB ? b.data as Float32Array : transpose(b.data as Float32Array, rows, cols);
    const bias = node.inputs[2] ? rowBias(this.constant(node, 2, "C bias"), n) : null;
    need(!node.inputs[2] || bias, () => `${node.label}: C is not a per-output bias`);
    this.linear(node, node.name || node.label, weight, n, bias, node.outputs[0]);
  }

  private matmul(node: OnnxNode): void {
    const b = this.constant(node, 1, "B matrix");
    need(b.dims.length === 2, () => `${node.label}: B is not a matrix`);
    const [k, n] = b.dims;
    let out = node.outputs[0];
    let bias: Float32Array | null = null;
    const add = this.soleReader(out, "Add");
    const other = add && add.inputs.find((i) => this.canon(i) !== this.canon(out));
    const addend = other ? this.onnx.constants.get(other) : undefined;
    if (add && addend && (bias = rowBias(addend, n))) {
      this.fused.add(add);
      out = add.outputs[0];
    }
    this.linear(node, node.name || node.label, transpose(b.data as Float32Array, k, n), n, bias, out);
  }
}

function addPads(a: Pads, b: Pads): Pads {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
  return t;
}

/** A bias for n outputs from a constant of shape [], [1], [n] or [1, n]; null for anything else. */
function rowBias(t: OnnxTensor, n: number): Float32Array | null {
  if (!(t.data instanceof Float32Array)) return null;
  const d = t.dims;
  if (t.data.length === 1 && d.every((x) => x === 1)) return new Float32Array(n).fill(t.data[0]);
  const row = (d.length === 1 && d[0] === n) || (d.length === 2 && d[0] === 1 && d[1] === n);
  return row ? t.data : null;
}
