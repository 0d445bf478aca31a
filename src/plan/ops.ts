// One definition per op kind of the graph IR: its output size, multiply-accumulates, weight
// packing, kernel, descriptor and description. Adding an op kind means adding its entry here
// (the table fails to compile while a kind is missing), a kernel in assembly/ with its
// descriptor layout in kernels/layout.ts, and its name in kernels/op_kernels.ts.
import * as L from "../kernels/layout.js";
import { type ConvOp, type Op, type OpKind, type OpOf, type Pads, type Pair, scaledWeight, weightInto, weightValues } from "./graph.js";
import { type OpDef, convFields, fields } from "./op_def.js";
import {
  MICRO_KERNELS,
  NO_WEIGHTS,
  type OpGeometry,
  type PackedWeights,
  allocBias,
  allocFloats,
  microKernelRows,
  packPanels,
  packPre,
  panelsLength,
} from "./panels.js";
import { WINOGRAD_OPS, winogradInputSize } from "./winograd.js";
import { type Spatial, windowOutput } from "./window.js";

/** Rows of the tallest micro-kernel's panels (6x8). */
const MAX_MR = Math.max(...Object.keys(MICRO_KERNELS).map((k) => microKernelRows(k as keyof typeof MICRO_KERNELS)));

/** K-block length of the conv GEMM. Measured on DenseNet-121 (1 thread): 128..2304 all within 3%; 1152 keeps every DenseNet-121 3x3 conv in one block (a 36 KiB B panel, streamed from L1/L2). */
export const GEMM_KC = 1152;

type WindowOp = { readonly kernel: Pair; readonly stride: Pair; readonly pads: Pads; readonly dilation: Pair };

function windowed(op: WindowOp, input: Spatial, ceil: boolean): Spatial {
  return {
    height: windowOutput(input.height, op.kernel[0], op.stride[0], op.pads[0], op.pads[2], op.dilation[0], ceil),
    width: windowOutput(input.width, op.kernel[1], op.stride[1], op.pads[1], op.pads[3], op.dilation[1], ceil),
  };
}

const VECTOR: Spatial = { height: 1, width: 1 };
const at = (input: Spatial, output: Spatial) => `${input.height}x${input.width} -> ${output.height}x${output.width}`;
const preNote = (w: PackedWeights, note: string) => (w.preScale !== 0 ? ` (${note})` : "");
const noScratch = () => 0;
const poolMode = (mode: "max" | "avg") => (mode === "max" ? L.POOL_MODE_MAX : L.POOL_MODE_AVG);

/** A conv's output pixels: its buffer's size, or within it (the margins of a padded output aside). */
const convPixels = (op: OpGeometry<ConvOp>, output: Spatial, input: Spatial) => (op.paddedOutput ? windowed(op, input, false) : output);

const conv: OpDef<OpOf<"conv">> = {
  kernel: "conv2d_gemm_f32",
  vectorInput: false,
  outputSize(op, input) {
    const out = windowed(op, input, false);
    return op.paddedOutput ? winogradInputSize(out, op.paddedOutput) : out;
  },
  macs(op, output, input) {
    const out = convPixels(op, output, input);
    return op.outChannels * op.inChannels * op.kernel[0] * op.kernel[1] * out.height * out.width;
  },
  pack(op, mem, microKernel, transforms) {
    const k = op.inChannels * op.kernel[0] * op.kernel[1];
    const mr = microKernelRows(microKernel);
    const m = op.outChannels;
    const packed = allocFloats(mem, panelsLength(m, k, mr));
    if (transforms) {
      // in WebAssembly (assembly/weight_panels.ts: the same values): the weights read straight
      // into their packed area, then packed there in place, panel by panel through a scratch
      // after the row scale in the staging area (so no staging area holds a whole weight)
      const scale = op.weightScale ?? null;
      const scaleBytes = scale ? 4 * m : 0;
      const stage = transforms.staging();
      if (scale) mem.f32(stage, m).set(scale);
      weightInto(op.weight, mem.f32(packed.ptr, m * k), transforms.scan);
      transforms.kernels.pack_panels_in_place_f32(packed.ptr, m, k, mr, scale ? stage : 0, stage + scaleBytes);
    } else {
      packPanels(packed.view, weightValues(scaledWeight(op)), m, k, mr);
    }
    return {
      matrix: packed.ptr,
      bias: allocBias(mem, op.bias, Math.ceil(op.outChannels / mr) * mr),
      ...packPre(mem, op.pre),
      ukernel: MICRO_KERNELS[microKernel],
    };
  },
  // the row scale and one panel of the tallest micro-kernel
  stagingBytes: (op) => 4 * ((op.weightScale ? op.outChannels : 0) + MAX_MR * op.inChannels * op.kernel[0] * op.kernel[1]),
  descriptor(op, at) {
    const f = convFields(op, at),
      w = op.weights;
    f[L.CONV_PRE_SCALE] = w.preScale;
    f[L.CONV_PRE_SHIFT] = w.preShift;
    [f[L.CONV_KH], f[L.CONV_KW]] = op.kernel;
    [f[L.CONV_SH], f[L.CONV_SW]] = op.stride;
    [f[L.CONV_PH], f[L.CONV_PW]] = op.pads;
    [f[L.CONV_DH], f[L.CONV_DW]] = op.dilation;
    f[L.CONV_FLAGS] = (op.relu ? L.CONV_FLAG_RELU : 0) | (w.preRelu ? L.CONV_FLAG_PRE_RELU : 0);
    f[L.CONV_KC] = GEMM_KC;
    if (op.paddedOutput) {
      // the pixels at (WINO_PAD, WINO_PAD) of planes of the padded buffer's size
      const pixels = convPixels(op, at.output, at.input);
      [f[L.CONV_OH], f[L.CONV_OW]] = [pixels.height, pixels.width];
      f[L.CONV_OUT_ROW] = at.output.width;
      f[L.CONV_OUT_PLANE] = at.output.height * at.output.width;
      f[L.CONV_OUT_ORIGIN] = L.WINO_PAD * at.output.width + L.WINO_PAD;
    }
    return f;
  },
  describe: (op, input, output) =>
    `conv ${op.kernel[0]}x${op.kernel[1]}/${op.stride[0]} ${op.inChannels}->${op.outChannels}` +
    `${preNote(op.weights, "BN-ReLU packed")} @ ${at(input, convPixels(op, output, input))}` +
    (op.paddedOutput ? ` (written padded to ${output.height}x${output.width} for Winograd)` : ""),
  scratchBytes: (_op, kernels) => kernels.conv2d_gemm_scratch_bytes(GEMM_KC),
};

const pool: OpDef<OpOf<"pool">> = {
  kernel: "pool2d_nchw_f32",
  vectorInput: false,
  outputSize: (op, input) => windowed(op, input, op.ceilMode),
  macs: () => 0,
  pack: (op, mem) => ({ ...NO_WEIGHTS, ...packPre(mem, op.pre) }),
  descriptor(op, { inOff, outOff, input, output }) {
    const f = fields(L.POOL_FIELDS),
      w = op.weights;
    f[L.POOL_IN_OFF] = inOff;
    f[L.POOL_OUT_OFF] = outOff;
    f[L.POOL_C] = op.channels;
    f[L.POOL_H] = input.height;
    f[L.POOL_W] = input.width;
    f[L.POOL_OH] = output.height;
    f[L.POOL_OW] = output.width;
    [f[L.POOL_KH], f[L.POOL_KW]] = op.kernel;
    [f[L.POOL_SH], f[L.POOL_SW]] = op.stride;
    [f[L.POOL_PH], f[L.POOL_PW], f[L.POOL_PH_END], f[L.POOL_PW_END]] = op.pads;
    [f[L.POOL_DH], f[L.POOL_DW]] = op.dilation;
    f[L.POOL_MODE] = poolMode(op.mode);
    f[L.POOL_FLAGS] = (op.countIncludePad ? L.POOL_FLAG_COUNT_PAD : 0) | (w.preRelu ? L.POOL_FLAG_PRE_RELU : 0);
    f[L.POOL_PRE_SCALE] = w.preScale;
    f[L.POOL_PRE_SHIFT] = w.preShift;
    return f;
  },
  describe: (op, input, output) =>
    `${op.mode} pool ${op.kernel[0]}x${op.kernel[1]}/${op.stride[0]} ${op.channels} ch` +
    `${preNote(op.weights, "BN-ReLU fused")} @ ${at(input, output)}`,
  scratchBytes: noScratch,
};

const globalPool: OpDef<OpOf<"globalPool">> = {
  kernel: "global_pool_f32",
  vectorInput: false,
  outputSize: () => VECTOR,
  macs: () => 0,
  pack: (op, mem) => ({ ...NO_WEIGHTS, ...packPre(mem, op.pre) }),
  descriptor(op, { inOff, outOff, input }) {
    const f = fields(L.GPOOL_FIELDS),
      w = op.weights;
    f[L.GPOOL_IN_OFF] = inOff;
    f[L.GPOOL_OUT_OFF] = outOff;
    f[L.GPOOL_C] = op.channels;
    f[L.GPOOL_HW] = input.height * input.width;
    f[L.GPOOL_MODE] = poolMode(op.mode);
    f[L.GPOOL_FLAGS] = w.preRelu ? L.POOL_FLAG_PRE_RELU : 0;
    f[L.GPOOL_PRE_SCALE] = w.preScale;
    f[L.GPOOL_PRE_SHIFT] = w.preShift;
    return f;
  },
  describe: (op, input) => `global ${op.mode} pool ${op.channels} ch @ ${input.height}x${input.width}`,
  scratchBytes: noScratch,
};

const linear: OpDef<OpOf<"linear">> = {
  kernel: "linear_f32",
  vectorInput: true,
  outputSize: () => VECTOR,
  macs: (op) => op.inFeatures * op.outFeatures,
  pack(op, mem, _microKernel, transforms) {
    // read straight into linear memory where the reader can (a classifier is a model's largest tensor)
    const matrix = allocFloats(mem, op.inFeatures * op.outFeatures);
    weightInto(op.weight, matrix.view, transforms?.scan);
    return { ...NO_WEIGHTS, matrix: matrix.ptr, bias: op.bias ? mem.allocF32(op.bias) : 0 };
  },
  descriptor(op, { inOff, outOff }) {
    const f = fields(L.LINEAR_FIELDS);
    f[L.LINEAR_IN_OFF] = inOff;
    f[L.LINEAR_OUT_OFF] = outOff;
    f[L.LINEAR_W] = op.weights.matrix;
    f[L.LINEAR_BIAS] = op.weights.bias;
    f[L.LINEAR_M] = op.outFeatures;
    f[L.LINEAR_K] = op.inFeatures;
    return f;
  },
  describe: (op) => `linear ${op.inFeatures}->${op.outFeatures}`,
  scratchBytes: noScratch,
};

const softmax: OpDef<OpOf<"softmax">> = {
  kernel: "softmax_f32",
  vectorInput: true,
  outputSize: () => VECTOR,
  macs: () => 0,
  pack: () => NO_WEIGHTS,
  descriptor(op, { inOff, outOff }) {
    const f = fields(L.SOFTMAX_FIELDS);
    f[L.SOFTMAX_IN_OFF] = inOff;
    f[L.SOFTMAX_OUT_OFF] = outOff;
    f[L.SOFTMAX_C] = op.channels;
    return f;
  },
  describe: (op) => `softmax ${op.channels}`,
  scratchBytes: noScratch,
};

/** The definition of every op kind. */
export const OP_DEFS = { conv, pool, globalPool, linear, softmax, ...WINOGRAD_OPS } satisfies { readonly [K in OpKind]: OpDef<OpOf<K>> };

/**
 * The definition of `op`'s kind. (The one unchecked step of the dispatch: TypeScript cannot
 * relate OP_DEFS[op.kind] to op's own kind, but the table is keyed by exactly that kind.)
 */
export function opDef(op: { readonly kind: OpKind }): OpDef<Op> {
  return OP_DEFS[op.kind] as unknown as OpDef<Op>;
}
