// How each ONNX operator lowers to the graph IR (see onnx/lower.ts for the passes): one rule
// per op type of the interpreter's registry, or null where the op has no planned equivalent
// of its own (the graph then runs on the interpreter). A new op type fails to compile until
// it is given a rule or null here.
import { type Affine, type Op, type View, foldAffineIntoConv } from "../plan/graph.js";
import { Attributes } from "./attributes.js";
import { type LoweringContext, type Window, addPads, need } from "./lower_context.js";
import type { OnnxNode } from "./node.js";
import { constantPadding } from "./ops/pad.js";
import type { OpType } from "./ops/registry.js";
import { normalizeAxis } from "./shape.js";
import type { OnnxTensor } from "./tensor.js";

/** Lowers one node (not folded into another, not an alias) into IR ops and values. */
export type LowerRule = (l: LoweringContext, node: OnnxNode) => void;

const opName = (node: OnnxNode) => node.name || node.label;

function conv(l: LoweringContext, node: OnnxNode): void {
  const weight = l.constant(node, 1, "weight");
  const [m, c] = weight.dims;
  need(weight.dims.length === 4, () => `${node.label} is not 2-D`);
  need(new Attributes(node).int("group", 1) === 1, () => `${node.label}: group > 1 has no planned kernel`);
  const bias = node.inputs[2] ? (l.constant(node, 2, "bias").data as Float32Array) : null;
  const { kernel, stride, dilation, pads } = l.window(node, weight.dims.slice(2));
  const x = l.operand(node);
  need(x.source.channels === c, () => `${node.label}: weights for ${c} input channels, input has ${x.source.channels}`);
  const allPads = addPads(pads, x.extra);
  let w = { weight: weight.data as Float32Array, bias };
  let out = node.outputs[0];
  const bn = l.soleReader(out, "BatchNormalization");
  if (bn) {
    w = foldAffineIntoConv(w.weight, w.bias, l.batchNorm(bn, false), m);
    l.fuse(bn);
    out = bn.outputs[0];
  }
  const relu = l.soleReader(out, "Relu");
  if (relu) {
    l.fuse(relu);
    out = relu.outputs[0];
  }
  const convOp = (input: View, output: View, pre: Affine | null, nominalInput?: View): Op => ({
    kind: "conv",
    name: opName(node),
    input,
    output,
    inChannels: c,
    outChannels: m,
    kernel,
    stride,
    pads: allPads,
    dilation,
    weight: w.weight,
    bias: w.bias,
    pre,
    relu: relu !== null,
    ...(nominalInput ? { nominalInput } : {}),
  });
  const pointwise = kernel.every((k) => k === 1) && stride.every((s) => s === 1) && allPads.every((p) => p === 0);
  const pool = relu || !pointwise ? null : l.soleReader(out, "AveragePool");
  if (pool && swapsWithPointwise(l, pool)) {
    // Transition: the average pool first (with the conv's pre-activation), then the 1x1 conv on 4x fewer pixels.
    const pooled = l.buffer(`${opName(pool)}.input`, c);
    l.emit(poolOp(l, pool, x.source.view, { buffer: pooled, channel: 0 }, c, x.pre));
    l.fuse(pool);
    const view = l.place(pool.outputs[0], m);
    l.emit(convOp({ buffer: pooled, channel: 0 }, view, null, x.source.view));
    l.set(pool.outputs[0], { kind: "map", view, channels: m, nonNegative: false });
    return;
  }
  const spatial = l.shape(node.inputs[0]);
  if (pointwise && !x.pre && !relu && spatial?.[2] === 1 && spatial[3] === 1) {
    // A 1x1 conv on a (C, 1, 1) map is a linear layer (a Caffe2-style classifier).
    const view = l.place(out, m);
    l.emit({
      kind: "linear",
      name: opName(node),
      input: x.source.view,
      output: view,
      inFeatures: c,
      outFeatures: m,
      weight: w.weight,
      bias: w.bias,
    });
    l.set(out, { kind: "map", view, channels: m, nonNegative: false });
    return;
  }
  const view = l.place(out, m);
  l.emit(convOp(x.source.view, view, x.pre));
  l.set(out, { kind: "map", view, channels: m, nonNegative: relu !== null });
}

/** An average pool commutes with a 1x1 conv when its windows average real pixels only (weights summing to 1). */
function swapsWithPointwise(l: LoweringContext, pool: OnnxNode): boolean {
  const { pads } = l.window(pool);
  return pool.outputs.length === 1 && (pads.every((p) => p === 0) || new Attributes(pool).int("count_include_pad", 0) === 0);
}

function poolOp(
  l: LoweringContext,
  node: OnnxNode,
  input: View,
  output: View,
  channels: number,
  pre: Affine | null,
  extra: Window["pads"] = [0, 0, 0, 0],
  nonNegative = false,
): Op {
  const { spec, kernel, stride, dilation, pads } = l.window(node);
  const max = node.opType === "MaxPool";
  let countIncludePad = !max && new Attributes(node).int("count_include_pad", 0) === 1;
  if (extra.some((p) => p > 0)) {
    if (max) {
      // Zero padding equals max-pool padding only when every window also sees a real value >= 0.
      need(
        nonNegative && dilation.every((d) => d === 1) && addPads(pads, extra).every((p, i) => p < kernel[i % 2]),
        () => `${node.label}: the Pad before it is not equivalent to max-pool padding`,
      );
    } else {
      // Explicit zeros count as elements: only exact when the pool counts its own padding too (or has none).
      need(
        !spec.ceil && (countIncludePad || pads.every((p) => p === 0)),
        () => `${node.label}: the Pad before it does not merge into average-pool padding`,
      );
      countIncludePad = true;
    }
  }
  return {
    kind: "pool",
    name: opName(node),
    mode: max ? "max" : "avg",
    input,
    output,
    channels,
    kernel,
    stride,
    pads: addPads(pads, extra),
    dilation,
    ceilMode: spec.ceil,
    countIncludePad,
    pre,
  };
}

function pool(l: LoweringContext, node: OnnxNode): void {
  need(node.outputs.length === 1, () => `${node.label}: the Indices output has no planned equivalent`);
  const x = l.operand(node);
  const view = l.place(node.outputs[0], x.source.channels);
  l.emit(poolOp(l, node, x.source.view, view, x.source.channels, x.pre, x.extra, x.nonNegative));
  l.set(node.outputs[0], { kind: "map", view, channels: x.source.channels, nonNegative: x.nonNegative });
}

function globalPool(l: LoweringContext, node: OnnxNode): void {
  const x = l.operand(node);
  need(
    x.extra.every((p) => p === 0),
    () => `${node.label} reads a padded map`,
  );
  const view = l.place(node.outputs[0], x.source.channels);
  l.emit({
    kind: "globalPool",
    name: opName(node),
    mode: node.opType === "GlobalMaxPool" ? "max" : "avg",
    input: x.source.view,
    output: view,
    channels: x.source.channels,
    pre: x.pre,
  });
  l.set(node.outputs[0], { kind: "map", view, channels: x.source.channels, nonNegative: x.nonNegative });
}

function standaloneBatchNorm(l: LoweringContext, node: OnnxNode): void {
  const x = l.value(node.inputs[0]);
  need(x.kind === "map", () => `${node.label} does not read a stored map`);
  const relu = l.soleReader(node.outputs[0], "Relu");
  if (relu) l.fuse(relu);
  l.set(relu ? relu.outputs[0] : node.outputs[0], { kind: "affine", source: x, affine: l.batchNorm(node, relu !== null) });
}

function relu(l: LoweringContext, node: OnnxNode): void {
  const x = l.value(node.inputs[0]);
  if (x.kind === "map" && x.nonNegative) {
    l.set(node.outputs[0], x);
    return;
  }
  need(x.kind === "map" || x.kind === "affine", () => `${node.label} has no planned equivalent here`);
  const affine: Affine =
    x.kind === "affine"
      ? { ...x.affine, relu: true }
      : { scale: new Float32Array(x.channels).fill(1), shift: new Float32Array(x.channels), relu: true };
  l.set(node.outputs[0], { kind: "affine", source: x.kind === "affine" ? x.source : x, affine });
}

function concat(l: LoweringContext, node: OnnxNode): void {
  const parts = node.inputs.map((name) => {
    const v = l.value(name);
    const slot = l.concatSlot(name)!;
    need(
      v.kind === "map" && v.view.buffer === slot.buffer && v.view.channel === slot.offset,
      () => `${node.label}: input '${name}' is not written into the concatenation buffer`,
    );
    return v;
  });
  const channels = parts.reduce((n, v) => n + v.channels, 0);
  l.set(node.outputs[0], {
    kind: "map",
    view: l.place(node.outputs[0], channels),
    channels,
    nonNegative: parts.every((v) => v.nonNegative),
  });
}

function pad(l: LoweringContext, node: OnnxNode): void {
  need(l.shape(node.inputs[0])?.length === 4, () => `${node.label} does not pad an (N, C, H, W) map`);
  const padding = constantPadding(node, { opset: l.opset, constant: (name) => l.constantValue(name) }, 4);
  need(padding && padding.value === 0, () => `${node.label} does not pad with a constant 0`);
  const [n0, c0, t, left, n1, c1, b, r] = padding.pads;
  need([n0, c0, n1, c1].every((p) => p === 0) && [t, left, b, r].every((p) => p >= 0), () => `${node.label} pads more than H and W`);
  const x = l.value(node.inputs[0]);
  need(x.kind === "map" || x.kind === "affine", () => `${node.label} pads a matrix or padded map`);
  l.set(node.outputs[0], { kind: "padded", source: x, pads: [t, left, b, r] });
}

/** Flatten/Reshape between (N, C, 1, 1) and (N, C): the same per-image data. */
function reshape(l: LoweringContext, node: OnnxNode): void {
  const x = l.value(node.inputs[0]);
  const from = l.shape(node.inputs[0]),
    to = l.shape(node.outputs[0]);
  need(x.kind === "map" || x.kind === "flat", () => `${node.label} reshapes a value with a pending affine or padding`);
  const oneByOne = x.kind === "flat" || (from?.[2] === 1 && from[3] === 1);
  // An unknown first dimension is the batch (the per-image part below is fixed); a known one must equal the input's.
  const sameBatch = to !== null && from !== null && (to[0] === null || to[0] === from[0]);
  const flat = to?.length === 2 && to[1] === x.channels;
  const map = to?.length === 4 && to[1] === x.channels && to[2] === 1 && to[3] === 1;
  need(oneByOne && sameBatch && (flat || map), () => `${node.label} changes the per-image layout`);
  l.set(
    node.outputs[0],
    flat ? { kind: "flat", view: x.view, channels: x.channels } : { kind: "map", view: x.view, channels: x.channels, nonNegative: false },
  );
}

function linear(
  l: LoweringContext,
  node: OnnxNode,
  weight: Float32Array,
  outFeatures: number,
  bias: Float32Array | null,
  out: string,
): void {
  const x = l.value(node.inputs[0]);
  need(x.kind === "flat", () => `${node.label} does not read an (N, C) matrix`);
  need(weight.length === outFeatures * x.channels, () => `${node.label}: weight does not match ${x.channels} input features`);
  const view = l.place(out, outFeatures);
  l.emit({ kind: "linear", name: opName(node), input: x.view, output: view, inFeatures: x.channels, outFeatures, weight, bias });
  l.set(out, { kind: "flat", view, channels: outFeatures });
}

/** Softmax over the channels of an (N, C) matrix or (N, C, 1, 1) map: its axis must span exactly C. */
function softmax(l: LoweringContext, node: OnnxNode): void {
  const x = l.value(node.inputs[0]);
  need(x.kind === "flat" || x.kind === "map", () => `${node.label} reads a value with a pending affine or padding`);
  const shape = l.shape(node.inputs[0]);
  need(
    shape && (shape.length === 2 || (shape.length === 4 && shape[2] === 1 && shape[3] === 1)),
    () => `${node.label} does not read an (N, C) or (N, C, 1, 1) value`,
  );
  // From opset 13 Softmax runs along `axis` alone (default -1); before, over every dim from `axis` (default 1) on.
  const axis = normalizeAxis(new Attributes(node).int("axis", l.opset >= 13 ? -1 : 1), shape.length);
  need(axis === 1, () => `${node.label}: axis ${axis} is not the channel axis`);
  const view = l.place(node.outputs[0], x.channels);
  l.emit({ kind: "softmax", name: opName(node), input: x.view, output: view, channels: x.channels });
  l.set(
    node.outputs[0],
    x.kind === "flat" ? { kind: "flat", view, channels: x.channels } : { kind: "map", view, channels: x.channels, nonNegative: true },
  );
}

function gemm(l: LoweringContext, node: OnnxNode): void {
  const a = new Attributes(node);
  need(
    a.float("alpha", 1) === 1 && a.float("beta", 1) === 1 && a.int("transA", 0) === 0,
    () => `${node.label}: alpha, beta or transA has no planned equivalent`,
  );
  const b = l.constant(node, 1, "B matrix");
  const [rows, cols] = b.dims;
  const transB = a.int("transB", 0) === 1;
  const n = transB ? rows : cols;
  const weight = transB ? (b.data as Float32Array) : transpose(b.data as Float32Array, rows, cols);
  const bias = node.inputs[2] ? rowBias(l.constant(node, 2, "C bias"), n) : null;
  need(!node.inputs[2] || bias, () => `${node.label}: C is not a per-output bias`);
  linear(l, node, weight, n, bias, node.outputs[0]);
}

function matmul(l: LoweringContext, node: OnnxNode): void {
  const b = l.constant(node, 1, "B matrix");
  need(b.dims.length === 2, () => `${node.label}: B is not a matrix`);
  const [k, n] = b.dims;
  let out = node.outputs[0];
  const add = l.soleReader(out, "Add");
  const other = add?.inputs.find((i) => !l.same(i, out));
  const addend = other ? l.constantValue(other) : undefined;
  const bias = addend ? rowBias(addend, n) : null;
  if (add && bias) {
    l.fuse(add);
    out = add.outputs[0];
  }
  linear(l, node, transpose(b.data as Float32Array, k, n), n, bias, out);
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

/**
 * The rule of every ONNX op type. null: no planned equivalent on its own — Identity and
 * Dropout become aliases before any rule runs, an Add folds into the MatMul before it, and
 * Clip, Sigmoid, Mul (or an Add that does not fold) keep the graph on the interpreter.
 */
export const LOWER_RULES = {
  Conv: conv,
  BatchNormalization: standaloneBatchNorm,
  Relu: relu,
  MaxPool: pool,
  AveragePool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  Concat: concat,
  Pad: pad,
  Flatten: reshape,
  Reshape: reshape,
  Gemm: gemm,
  MatMul: matmul,
  Softmax: softmax,
  Identity: null,
  Dropout: null,
  Add: null,
  Mul: null,
  Clip: null,
  Sigmoid: null,
} as const satisfies Record<OpType, LowerRule | null>;
