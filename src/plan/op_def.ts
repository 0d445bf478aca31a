// The shape of an op kind's definition (see plan/ops.ts for the table of them).
import * as L from "../kernels/layout.js";
import type { LinearMemory } from "../kernels/memory.js";
import type { OpKernelName } from "../kernels/op_kernels.js";
import type { FiniteScan, Op } from "./graph.js";
import type { MicroKernel, OpGeometry, PackedOp, PackedWeights } from "./panels.js";
import type { Spatial } from "./window.js";

/** Where a step reads and writes: arena byte offsets of its input and output views, and their sizes. */
export interface StepPlacement {
  readonly inOff: number;
  readonly outOff: number;
  readonly input: Spatial;
  readonly output: Spatial;
}

/** The kernel module's scratch-size exports (assembly/index.ts) that planning needs. */
export interface ScratchSizes {
  conv2d_gemm_scratch_bytes(kc: number): number;
  conv2d_winograd_scratch_bytes(maxCin: number): number;
  conv2d_winograd_f4x4_scratch_bytes(maxCin: number): number;
}

/** Weight transforms the kernels run on the memory the weights are packed into (assembly/winograd_weights.ts). */
export interface WeightTransforms {
  winograd_f2x2_weights(out: number, length: number, weight: number, cout: number, cin: number, mr: number): void;
  winograd_f4x4_weights(out: number, length: number, weight: number, cout: number, cin: number, mr: number, g: number): void;
  pack_panels_in_place_f32(buf: number, m: number, k: number, mr: number, scale: number, scratch: number): void;
  first_non_finite_f32(data: number, n: number): number;
}

/** The kernels' weight transforms, and a staging area in the memory for their inputs. */
export interface StagedTransforms {
  readonly kernels: WeightTransforms;
  /** The address of a scratch area of the memory of at least the op's stagingBytes, the same for every op (made once, for the op that needs the most). */
  staging(): number;
  /** firstNonFinite, in WebAssembly for views of the memory. */
  readonly scan: FiniteScan;
}

/** Everything the planner and the runtime need to know about one op kind. */
export interface OpDef<O extends Op> {
  /** The kernel (assembly/) that runs the op, or which one for this op (the Winograd tiles). */
  readonly kernel: OpKernelName | ((op: OpGeometry<O>) => OpKernelName);
  /** The op reads a (C, 1, 1) vector (a classifier layer), not a map. */
  readonly vectorInput: boolean;
  /** The output's size for an input of `input`; `sizes` holds every buffer's size known so far. */
  outputSize(op: OpGeometry<O>, input: Spatial, sizes: readonly (Spatial | undefined)[]): Spatial;
  /** Multiply-accumulates of one image at the given output size. */
  macs(op: OpGeometry<O>, output: Spatial, input: Spatial): number;
  /**
   * Copies the op's weights into linear memory in the layout its kernel reads (done once a
   * session); `transforms`, where given, runs weight transforms in the kernels instead.
   */
  pack(op: O, mem: LinearMemory, microKernel: MicroKernel, transforms: StagedTransforms | null): PackedWeights;
  /** Bytes of the staging area `pack` asks `transforms` for (none where absent): the area is made once, for the largest op. */
  stagingBytes?(op: O): number;
  /** The i32 fields of the op's kernel descriptor (kernels/layout.ts). */
  descriptor(op: PackedOp<O>, at: StepPlacement): number[];
  /** The op and its shapes in words, e.g. "conv 3x3/1 128->32 @ 56x56 -> 56x56" (for profiles). */
  describe(op: PackedOp<O>, input: Spatial, output: Spatial): string;
  /** Bytes of per-worker scratch the kernel needs (0: none). */
  scratchBytes(op: OpGeometry<O>, kernels: ScratchSizes): number;
}

/** An i32 descriptor of `length` fields, all 0 ("absent") until set. */
export function fields(length: number): number[] {
  return new Array<number>(length).fill(0);
}

/**
 * A CONV descriptor with the fields every conv kernel reads (packed matrix, bias, micro-kernel,
 * offsets, channels and sizes) set; the caller adds what its kernel needs besides.
 */
export function convFields(
  op: { readonly inChannels: number; readonly outChannels: number; readonly weights: PackedWeights },
  { inOff, outOff, input, output }: StepPlacement,
): number[] {
  const f = fields(L.CONV_FIELDS);
  f[L.CONV_A] = op.weights.matrix;
  f[L.CONV_BIAS] = op.weights.bias;
  f[L.CONV_UKERNEL] = op.weights.ukernel;
  f[L.CONV_IN_OFF] = inOff;
  f[L.CONV_OUT_OFF] = outOff;
  f[L.CONV_CIN] = op.inChannels;
  f[L.CONV_H] = input.height;
  f[L.CONV_W] = input.width;
  f[L.CONV_COUT] = op.outChannels;
  f[L.CONV_OH] = output.height;
  f[L.CONV_OW] = output.width;
  return f;
}
