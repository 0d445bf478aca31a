import * as L from "../kernels/layout.js";
import {
  type ConvOp,
  type Graph,
  type Op,
  type OpOf,
  type View,
  type WinogradTile,
  scaledWeight,
  weightInto,
  weightValues,
} from "./graph.js";
import { type OpDef, convFields, fields } from "./op_def.js";
import { MICRO_KERNELS, NO_WEIGHTS, allocBias, allocFloats, packPre, panelsLength } from "./panels.js";
import { G4, packWinograd4Weights } from "./winograd_f4x4.js";
import type { Spatial } from "./window.js";

// Winograd F(2x2, 3x3) for DenseNet's 3x3 convs (stride 1, padding 1): 16 multiply-adds
// per 2x2 output tile and channel pair instead of 36; or F(4x4, 3x3): 36 per 4x4 tile instead
// of 144 (1.78x fewer than F(2x2) where the tiles fit the image; its weights take 36/16 of
// F(2x2)'s memory, and it rounds more: see test/reference.mjs). A graph pass replaces each eligible conv
// by a WinogradInputOp (zero-padded, pre-activated copy of the input, so the kernel's
// vectorised input transform needs no bounds checks) and a WinogradConvOp reading that copy;
// where a 1x1 conv makes the input (DenseNet's conv1), it writes it zero-padded itself instead.
// Everything Winograd-specific lives here: the pass, the two op kinds' definitions (their
// sizes, packing and descriptors, in the op table of plan/ops.ts) and F(2x2)'s weight transform
// (F(4x4)'s is in plan/winograd_f4x4.ts); assembly/conv2d_winograd.ts has the kernel
// (its tiles' transforms beside it); the constants both sides use are WINO_* in
// kernels/layout.ts.

/** 3x3, stride 1, padding 1 on every side, no dilation, and few enough input channels. */
export function winogradEligible(op: ConvOp): boolean {
  return (
    op.kernel[0] === 3 &&
    op.kernel[1] === 3 &&
    op.stride[0] === 1 &&
    op.stride[1] === 1 &&
    op.pads.every((p) => p === 1) &&
    op.dilation[0] === 1 &&
    op.dilation[1] === 1 &&
    op.inChannels <= L.WINO_MAX_CIN
  );
}

/**
 * The graph with every eligible conv running as Winograd with output tiles `tile` (F(2x2, 3x3)
 * by default), or the tile `tile(op)` chooses for each (plan/winograd_auto.ts). Where the
 * conv's input is the whole output of a 1x1 stride-1 conv read by nothing else, and needs no
 * pre-activation (DenseNet's conv1 -> conv2), that conv writes it padded itself
 * (ConvOp.paddedOutput) and no copy step runs; otherwise a WinogradInputOp makes the copy.
 */
export function useWinograd(graph: Graph, tiles: WinogradTile | ((op: ConvOp) => WinogradTile) = "f2x2"): Graph {
  const buffers = [...graph.buffers];
  const ops: Op[] = [];
  const readers = new Map<number, number>();
  for (const op of graph.ops) readers.set(op.input.buffer, (readers.get(op.input.buffer) ?? 0) + 1);
  /** Index in `ops` of each buffer's one writer so far (-1: more than one). */
  const writer = new Map<number, number>();
  const emit = (op: Op) => {
    writer.set(op.output.buffer, writer.has(op.output.buffer) ? -1 : ops.length);
    ops.push(op);
  };
  for (const op of graph.ops) {
    if (op.kind !== "conv" || !winogradEligible(op)) {
      emit(op);
      continue;
    }
    const tile = typeof tiles === "function" ? tiles(op) : tiles;
    const producer = fusibleProducer(op, ops, writer.get(op.input.buffer) ?? -1, readers, graph);
    let padded: View;
    let source: View;
    if (producer) {
      ops[producer.index] = { ...producer.op, paddedOutput: tile };
      // the padded buffer is the producer's; the conv's output has the producer's input size
      [padded, source] = [op.input, producer.op.input];
    } else {
      padded = { buffer: buffers.push({ name: `${op.name}.winograd_input`, channels: op.inChannels }) - 1, channel: 0 };
      source = op.input;
      emit({ kind: "winogradInput", name: `${op.name}.pad`, tile, input: op.input, output: padded, channels: op.inChannels, pre: op.pre });
    }
    emit({
      kind: "winogradConv",
      name: op.name,
      tile,
      input: padded,
      output: op.output,
      source,
      inChannels: op.inChannels,
      outChannels: op.outChannels,
      weight: scaledWeight(op),
      bias: op.bias,
      relu: op.relu,
    });
  }
  return { ...graph, buffers, ops };
}

/**
 * The op that can write `conv`'s input padded: the one writer (at `index` of `ops`) of all of
 * the input's buffer, a 1x1 stride-1 unpadded conv (its output keeps its input's size), when
 * `conv` is that buffer's only reader, is not the graph's output and needs no pre-activation.
 */
function fusibleProducer(
  conv: ConvOp,
  ops: readonly Op[],
  index: number,
  readers: ReadonlyMap<number, number>,
  graph: Graph,
): { op: ConvOp; index: number } | null {
  const op = index >= 0 ? ops[index] : undefined;
  if (op?.kind !== "conv" || op.paddedOutput || conv.pre !== null) return null;
  const buffer = conv.input.buffer;
  const whole =
    conv.input.channel === 0 &&
    op.output.channel === 0 &&
    graph.buffers[buffer].channels === conv.inChannels &&
    op.outChannels === conv.inChannels;
  const pointwise =
    op.kernel.every((k) => k === 1) &&
    op.stride.every((s) => s === 1) &&
    op.pads.every((p) => p === 0) &&
    op.dilation.every((d) => d === 1);
  return whole && pointwise && readers.get(buffer) === 1 && buffer !== graph.output && buffer !== graph.input ? { op, index } : null;
}

/** Output rows and columns per tile. */
const TILE_SIZE: Record<WinogradTile, number> = { f2x2: 2, f4x4: 4 };

/**
 * The padded input's size: every tile's patch (tile size + 2 square), plus the 2 columns the
 * vector loads overrun past the last patch (a run of 4 tiles reads F(2x2): 12 floats for its
 * 10, F(4x4): 20 for 18; one tile alone F(2x2): 4 for 4, F(4x4): 8 for 6).
 */
export function winogradInputSize(input: Spatial, tile: WinogradTile = "f2x2"): Spatial {
  const t = TILE_SIZE[tile];
  return { height: t * Math.ceil(input.height / t) + 2 * L.WINO_PAD, width: t * Math.ceil(input.width / t) + 4 };
}

/** The transformed weight matrices of a tile: F(2x2) 16, F(4x4) 36. */
const POSITIONS: Record<WinogradTile, number> = { f2x2: L.WINO_XI, f4x4: L.WINO4_XI };

// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], the F(2x2, 3x3) weight transform (written out in packWinogradWeights).

/**
 * Writes the 16 transformed weight matrices U_xi[o][c] = (G g_oc G^T)[i][j], xi = 4i + j,
 * computed in f64 from the (Cout, Cin, 3, 3) weights, straight into their packed panels:
 * `out` holds 16 runs of `length` floats (zeroed), U_xi packed as packPanels packs a (Cout,
 * Cin) matrix into rows of `mr`. No matrix is materialised on the way. The products by G's
 * entries are written out (winogradRow), each sum in the order G g G^T gives, so the values
 * are those of the matrix products term for term (0 * x included: it keeps the sign of zero).
 */
export function packWinogradWeights(out: Float32Array, length: number, weight: Float32Array, cout: number, cin: number, mr: number): void {
  for (let o = 0; o < cout; o++) {
    // packPanels' index of (row o, column c): panel o / mr, then [c][o % mr].
    const rowBase = Math.floor(o / mr) * cin * mr + (o % mr);
    for (let c = 0; c < cin; c++) {
      const g = (o * cin + c) * 9; // g_oc is weight[g .. g + 9), row-major 3x3
      // (G g)[i][k] for the three columns k of g.
      const w00 = weight[g],
        w10 = weight[g + 3],
        w20 = weight[g + 6];
      const w01 = weight[g + 1],
        w11 = weight[g + 4],
        w21 = weight[g + 7];
      const w02 = weight[g + 2],
        w12 = weight[g + 5],
        w22 = weight[g + 8];
      const at = rowBase + c * mr;
      winogradRow(out, at, length, 0, 1 * w00 + 0 * w10 + 0 * w20, 1 * w01 + 0 * w11 + 0 * w21, 1 * w02 + 0 * w12 + 0 * w22);
      winogradRow(
        out,
        at,
        length,
        1,
        0.5 * w00 + 0.5 * w10 + 0.5 * w20,
        0.5 * w01 + 0.5 * w11 + 0.5 * w21,
        0.5 * w02 + 0.5 * w12 + 0.5 * w22,
      );
      winogradRow(
        out,
        at,
        length,
        2,
        0.5 * w00 + -0.5 * w10 + 0.5 * w20,
        0.5 * w01 + -0.5 * w11 + 0.5 * w21,
        0.5 * w02 + -0.5 * w12 + 0.5 * w22,
      );
      winogradRow(out, at, length, 3, 0 * w00 + 0 * w10 + 1 * w20, 0 * w01 + 0 * w11 + 1 * w21, 0 * w02 + 0 * w12 + 1 * w22);
    }
  }
}

/** Row i of (G g) G^T from row i of G g, (a, b, c): U_{4i+j} = a G[j][0] + b G[j][1] + c G[j][2], into the packed panels at `at`. */
function winogradRow(out: Float32Array, at: number, length: number, i: number, a: number, b: number, c: number): void {
  const xi = 4 * i * length + at;
  out[xi] = a * 1 + b * 0 + c * 0;
  out[xi + length] = a * 0.5 + b * 0.5 + c * 0.5;
  out[xi + 2 * length] = a * 0.5 + b * -0.5 + c * 0.5;
  out[xi + 3 * length] = a * 0 + b * 0 + c * 1;
}

const at = (input: Spatial, output: Spatial) => `${input.height}x${input.width} -> ${output.height}x${output.width}`;

const winogradInput: OpDef<OpOf<"winogradInput">> = {
  kernel: "pad2d_nchw_f32",
  vectorInput: false,
  outputSize: (op, input) => winogradInputSize(input, op.tile),
  macs: () => 0,
  pack: (op, mem) => ({ ...NO_WEIGHTS, ...packPre(mem, op.pre) }),
  descriptor(op, { inOff, outOff, input, output }) {
    const f = fields(L.PAD_FIELDS),
      w = op.weights;
    f[L.PAD_IN_OFF] = inOff;
    f[L.PAD_OUT_OFF] = outOff;
    f[L.PAD_C] = op.channels;
    f[L.PAD_H] = input.height;
    f[L.PAD_W] = input.width;
    f[L.PAD_OH] = output.height;
    f[L.PAD_OW] = output.width;
    f[L.PAD_TOP] = L.WINO_PAD;
    f[L.PAD_LEFT] = L.WINO_PAD;
    f[L.PAD_FLAGS] = w.preRelu ? L.POOL_FLAG_PRE_RELU : 0;
    f[L.PAD_PRE_SCALE] = w.preScale;
    f[L.PAD_PRE_SHIFT] = w.preShift;
    return f;
  },
  describe: (op, input, output) =>
    `pad for Winograd ${op.channels} ch${op.weights.preScale !== 0 ? " (BN-ReLU fused)" : ""} @ ${at(input, output)}`,
  scratchBytes: () => 0,
};

const winogradConv: OpDef<OpOf<"winogradConv">> = {
  kernel: (op) => (op.tile === "f4x4" ? "conv2d_winograd_f4x4_f32" : "conv2d_winograd_f32"),
  vectorInput: false,
  outputSize: (op, _input, sizes) => sizes[op.source.buffer]!,
  // As the direct 3x3 conv counts them.
  macs: (op, out) => op.outChannels * op.inChannels * 9 * out.height * out.width,
  pack(op, mem, microKernel, transforms) {
    // The kernel runs the 4-row micro-kernels: 6x8 falls back to 4x8.
    const kernel = microKernel === "6x8" ? "4x8" : microKernel;
    const length = panelsLength(op.outChannels, op.inChannels, L.WINO_ROWS);
    const packed = allocFloats(mem, POSITIONS[op.tile] * length);
    const [cout, cin, mr] = [op.outChannels, op.inChannels, L.WINO_ROWS];
    if (transforms) {
      // in WebAssembly (assembly/winograd_weights.ts: the same arithmetic), F(4x4)'s G first,
      // the weights read straight into the staging area after it
      const count = cout * cin * 9;
      const stage = transforms.staging();
      new Float64Array(mem.memory.buffer, stage, G4.length).set(G4);
      weightInto(op.weight, mem.f32(stage + G4.byteLength, count), transforms.scan);
      if (op.tile === "f4x4") transforms.kernels.winograd_f4x4_weights(packed.ptr, length, stage + G4.byteLength, cout, cin, mr, stage);
      else transforms.kernels.winograd_f2x2_weights(packed.ptr, length, stage + G4.byteLength, cout, cin, mr);
    } else {
      const pack = op.tile === "f4x4" ? packWinograd4Weights : packWinogradWeights;
      pack(packed.view, length, weightValues(op.weight), cout, cin, mr);
    }
    return {
      ...NO_WEIGHTS,
      matrix: packed.ptr,
      bias: allocBias(mem, op.bias, Math.ceil(op.outChannels / L.WINO_ROWS) * L.WINO_ROWS),
      ukernel: MICRO_KERNELS[kernel],
    };
  },
  stagingBytes: (op) => G4.byteLength + 4 * op.outChannels * op.inChannels * 9,
  // A CONV descriptor (see WINO_MAX_CIN in kernels/layout.ts): CONV_IN_OFF is the padded copy of CONV_H x CONV_W.
  descriptor(op, at) {
    const f = convFields(op, at);
    f[L.CONV_FLAGS] = op.relu ? L.CONV_FLAG_RELU : 0;
    return f;
  },
  describe: (op, input, output) =>
    `conv 3x3/1 ${op.inChannels}->${op.outChannels} Winograd ${op.tile === "f4x4" ? "F(4x4,3x3)" : "F(2x2,3x3)"} @ ${at(input, output)}`,
  scratchBytes: (op, kernels) =>
    op.tile === "f4x4" ? kernels.conv2d_winograd_f4x4_scratch_bytes(op.inChannels) : kernels.conv2d_winograd_scratch_bytes(op.inChannels),
};

/** The Winograd op kinds' entries of the op table (plan/ops.ts). */
export const WINOGRAD_OPS = { winogradInput, winogradConv };
