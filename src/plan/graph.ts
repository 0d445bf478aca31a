// The graph IR every model format is lowered to: buffers of per-image activations (C, H, W)
// and ops that read and write channel ranges of them. A buffer written by several ops at
// different channel offsets is a concatenation that costs no copy.

/** A per-image activation buffer of `channels` x H x W f32 (H, W fixed at planning time). */
export interface BufferSpec {
  readonly name: string;
  readonly channels: number;
}

/** Channels [channel, channel + n) of a buffer, where n is the op's channel count. */
export interface View {
  readonly buffer: number;
  readonly channel: number;
}

/** A per-channel x*scale + shift, optionally followed by ReLU, applied as an op reads its input. */
export interface Affine {
  readonly scale: Float32Array;
  readonly shift: Float32Array;
  readonly relu: boolean;
}

/**
 * An op's weight matrix: its values, or a function that reads (or computes) them on each
 * call, returning an array valid until the next call of any such function of the graph (it
 * may be a reused scratch). Model files are lowered with the latter, so their weights are
 * read and packed one op at a time and never all held in JS at once (plan/pack_weights.ts
 * calls each once, and is done with the values before the next op).
 */
export type WeightData = Float32Array | LazyWeight;

/**
 * A weight read on demand; `into`, where present, reads it straight into `dest` (of its
 * length) instead, checking its values with `scan` (the index of the first non-finite value,
 * or -1; tensor.ts firstNonFinite where not given: the packer passes one in WebAssembly).
 */
export type LazyWeight = (() => Float32Array) & { readonly into?: (dest: Float32Array, scan?: FiniteScan) => void };

/** The index of the first NaN or infinity of `values`, or -1 where there is none. */
export type FiniteScan = (values: Float32Array) => number;

/** The values of a weight matrix (calling it where it is read on demand). */
export function weightValues(weight: WeightData): Float32Array {
  return typeof weight === "function" ? weight() : weight;
}

/** Writes a weight matrix's values into `dest` (of its length): read there directly (checked with `scan`) where the weight can be. */
export function weightInto(weight: WeightData, dest: Float32Array, scan?: FiniteScan): void {
  if (typeof weight === "function" && weight.into) weight.into(dest, scan);
  else dest.set(weightValues(weight));
}

/**
 * The values a conv's packed weights hold: `weight`, each output channel's row multiplied by
 * `weightScale` where the op has one (computed on each call, into a new array).
 */
export function scaledWeight(op: Pick<ConvOp, "weight" | "weightScale" | "outChannels">): WeightData {
  const { weight, weightScale, outChannels } = op;
  if (!weightScale) return weight;
  return () => {
    const values = weightValues(weight);
    return scaleRows(values, weightScale, outChannels, new Float32Array(values.length));
  };
}

export type Pair = readonly [number, number];
/** Padding as [top, left, bottom, right]. */
export type Pads = readonly [number, number, number, number];

export interface ConvOp {
  readonly kind: "conv";
  readonly name: string;
  readonly input: View;
  readonly output: View;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly pads: Pads;
  readonly dilation: Pair;
  /** (outChannels, inChannels * kh * kw): with weightScale, before that scale. */
  readonly weight: WeightData;
  /**
   * Where present, output channel o's weights are weight[o, :] * weightScale[o] (in f32): a
   * following BatchNorm folded in when the weights are packed (its shift is in `bias`), so
   * they are scaled where they are packed, in WebAssembly, not in a JS pass of their own.
   */
  readonly weightScale?: Float32Array | null;
  /** outChannels, or null for none. */
  readonly bias: Float32Array | null;
  /** Applied to in-bounds input values while packing (zero padding stays zero). */
  readonly pre: Affine | null;
  /** ReLU on the output. */
  readonly relu: boolean;
  /**
   * For a conv moved after an average pool (a transition pooling first), the view it read in
   * the source model: its MACs as the source model counts them are at that view's size.
   */
  readonly nominalInput?: View;
  /**
   * Where set, the conv writes its output zero-padded as the input of a Winograd conv with
   * these tiles (plan/winograd.ts winogradInputSize), which then reads it with no copy step;
   * its buffer has that padded size. Set by the Winograd pass, on 1x1 stride-1 convs only.
   */
  readonly paddedOutput?: WinogradTile;
}

/** The output tile of a Winograd conv: F(2x2, 3x3) or F(4x4, 3x3) (see plan/winograd.ts). */
export type WinogradTile = "f2x2" | "f4x4";

/** The zero-padded, pre-activated copy of a Winograd conv's input (made by the pass in plan/winograd.ts). */
export interface WinogradInputOp {
  readonly kind: "winogradInput";
  readonly name: string;
  /** The tile of the conv that reads it (which decides the padded size). */
  readonly tile: WinogradTile;
  readonly input: View;
  readonly output: View;
  readonly channels: number;
  readonly pre: Affine | null;
}

/**
 * A 3x3 stride-1 pad-1 conv run as Winograd F(2x2, 3x3) or F(4x4, 3x3) (made by the pass in
 * plan/winograd.ts): it reads `input`, a WinogradInputOp's padded copy of `source`, or the
 * padded output of a 1x1 conv that read `source` (ConvOp.paddedOutput); its output keeps
 * `source`'s size.
 */
export interface WinogradConvOp {
  readonly kind: "winogradConv";
  readonly name: string;
  readonly tile: WinogradTile;
  readonly input: View;
  readonly output: View;
  readonly source: View;
  readonly inChannels: number;
  readonly outChannels: number;
  /** (outChannels, inChannels, 3, 3), any following BatchNorm already folded in. */
  readonly weight: WeightData;
  readonly bias: Float32Array | null;
  /** ReLU on the output. */
  readonly relu: boolean;
}

export interface PoolOp {
  readonly kind: "pool";
  readonly name: string;
  readonly mode: "max" | "avg";
  readonly input: View;
  readonly output: View;
  readonly channels: number;
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly pads: Pads;
  readonly dilation: Pair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly pre: Affine | null;
}

export interface GlobalPoolOp {
  readonly kind: "globalPool";
  readonly name: string;
  readonly mode: "max" | "avg";
  readonly input: View;
  /** Written as (channels, 1, 1). */
  readonly output: View;
  readonly channels: number;
  readonly pre: Affine | null;
}

export interface LinearOp {
  readonly kind: "linear";
  readonly name: string;
  /** A (inFeatures, 1, 1) view. */
  readonly input: View;
  readonly output: View;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** (outFeatures, inFeatures) row-major. */
  readonly weight: WeightData;
  readonly bias: Float32Array | null;
}

/** Softmax over the channels of a (channels, 1, 1) vector (a classifier's probabilities). */
export interface SoftmaxOp {
  readonly kind: "softmax";
  readonly name: string;
  readonly input: View;
  readonly output: View;
  readonly channels: number;
}

export type Op = ConvOp | WinogradInputOp | WinogradConvOp | PoolOp | GlobalPoolOp | LinearOp | SoftmaxOp;
export type OpKind = Op["kind"];
/** The op of kind K. */
export type OpOf<K extends OpKind> = Extract<Op, { readonly kind: K }>;

export interface Graph {
  readonly buffers: readonly BufferSpec[];
  readonly ops: readonly Op[];
  /** The buffer the input image is copied into. */
  readonly input: number;
  /** The buffer the result is read from; one value per channel (H = W = 1). */
  readonly output: number;
}

/** Folds an inference-mode BatchNorm into a per-channel scale and shift (computed in f64). */
export function batchNormAffine(
  weight: Float32Array,
  bias: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  relu: boolean,
): Affine {
  const scale = new Float32Array(weight.length),
    shift = new Float32Array(weight.length);
  for (let c = 0; c < weight.length; c++) {
    const s = weight[c] / Math.sqrt(variance[c] + eps);
    scale[c] = s;
    shift[c] = bias[c] - mean[c] * s;
  }
  return { scale, shift, relu };
}

/**
 * Folds a per-output-channel affine that follows a conv into the conv itself:
 * W'[o, :] = W[o, :] * scale[o], b'[o] = b[o] * scale[o] + shift[o] (in f64).
 */
export function foldAffineIntoConv(
  weight: Float32Array,
  bias: Float32Array | null,
  affine: Affine,
  outChannels: number,
): { weight: Float32Array; bias: Float32Array } {
  return { weight: foldAffineIntoWeight(weight, affine, outChannels), bias: foldAffineIntoBias(bias, affine, outChannels) };
}

/** The weight half of foldAffineIntoConv: W'[o, :] = W[o, :] * scale[o], into `w` (which may be `weight` itself). */
export function foldAffineIntoWeight(
  weight: Float32Array,
  affine: Affine,
  outChannels: number,
  w: Float32Array = new Float32Array(weight.length),
): Float32Array {
  return scaleRows(weight, affine.scale, outChannels, w);
}

/** out[o, :] = weight[o, :] * scale[o] (one f32 product each) for the `rows` rows of `weight`; `out` may be `weight`. */
export function scaleRows(weight: Float32Array, scale: Float32Array, rows: number, out: Float32Array): Float32Array {
  const per = weight.length / rows;
  for (let o = 0; o < rows; o++) {
    const s = scale[o];
    for (let i = 0; i < per; i++) out[o * per + i] = weight[o * per + i] * s;
  }
  return out;
}

/** The bias half of foldAffineIntoConv: b'[o] = b[o] * scale[o] + shift[o]. */
export function foldAffineIntoBias(bias: Float32Array | null, affine: Affine, outChannels: number): Float32Array {
  const b = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) b[o] = (bias ? bias[o] * affine.scale[o] : 0) + affine.shift[o];
  return b;
}
