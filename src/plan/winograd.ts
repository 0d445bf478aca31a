import * as L from "../kernels/layout.js";
import type { ConvOp, Graph, Op } from "./graph.js";
import type { Spatial } from "./window.js";

// Winograd F(2x2, 3x3) for DenseNet's 3x3 convs (stride 1, padding 1): 16 multiply-adds
// per 2x2 output tile and channel pair instead of 36. A graph pass splits each eligible conv
// into a WinogradInputOp (zero-padded, pre-activated copy of the input, so the kernel's
// vectorised input transform needs no bounds checks) and the conv itself, which then reads
// that copy; assembly/conv2d_winograd_f32.ts has the transforms.

/** 3x3, stride 1, padding 1 on every side, no dilation, and few enough input channels. */
export function winogradEligible(op: ConvOp): boolean {
  return op.kernel[0] === 3 && op.kernel[1] === 3 && op.stride[0] === 1 && op.stride[1] === 1 &&
    op.pads.every((p) => p === 1) && op.dilation[0] === 1 && op.dilation[1] === 1 && op.inChannels <= L.WINO_MAX_CIN;
}

/** The graph with every eligible conv running as Winograd F(2x2, 3x3). */
export function useWinograd(graph: Graph): Graph {
  const buffers = [...graph.buffers];
  const ops: Op[] = [];
  for (const op of graph.ops) {
    if (op.kind !== "conv" || !winogradEligible(op)) {
      ops.push(op);
      continue;
    }
    const padded = buffers.push({ name: `${op.name}.winograd_input`, channels: op.inChannels }) - 1;
    ops.push({ kind: "winogradInput", name: `${op.name}.pad`, input: op.input, output: { buffer: padded, channel: 0 }, channels: op.inChannels, pre: op.pre });
    ops.push({ ...op, input: { buffer: padded, channel: 0 }, pre: null, winograd: { source: op.input } });
  }
  return { ...graph, buffers, ops };
}

/** Tiles per tile row (ceil(width / 2) rounded up to a multiple of 4: groups of 4 never straddle rows). */
export function winogradTilesW(width: number): number {
  return Math.ceil(Math.ceil(width / 2) / 4) * 4;
}

/** The padded input's size: every tile's 4x4 patch, plus 2 columns the vector loads overrun. */
export function winogradInputSize(input: Spatial): Spatial {
  return { height: 2 * Math.ceil(input.height / 2) + 2, width: 2 * winogradTilesW(input.width) + 4 };
}

// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];

/**
 * The 16 transformed weight matrices U_xi[o][c] = (G g_oc G^T)[i][j], xi = 4i + j, computed
 * in f64 from the (Cout, Cin, 3, 3) weights.
 */
export function winogradWeights(weight: Float32Array, cout: number, cin: number): Float32Array[] {
  const u = Array.from({ length: 16 }, () => new Float32Array(cout * cin));
  const gg = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let o = 0; o < cout; o++) {
    for (let c = 0; c < cin; c++) {
      const g = weight.subarray((o * cin + c) * 9, (o * cin + c) * 9 + 9);
      for (let i = 0; i < 4; i++) {
        for (let k = 0; k < 3; k++) gg[i * 3 + k] = G[i][0] * g[k] + G[i][1] * g[3 + k] + G[i][2] * g[6 + k];
      }
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          u[4 * i + j][o * cin + c] = gg[i * 3] * G[j][0] + gg[i * 3 + 1] * G[j][1] + gg[i * 3 + 2] * G[j][2];
        }
      }
    }
  }
  return u;
}
