import * as L from "../kernels/layout.js";
import type { LinearMemory } from "../runtime/memory.js";
import type { Affine, Graph, Op } from "./graph.js";

/** Where an op's weights live in linear memory (absolute addresses; 0 = absent). */
export interface PackedWeights {
  /** conv: packed A panels; linear: the row-major matrix. */
  readonly matrix: number;
  readonly bias: number;
  readonly preScale: number;
  readonly preShift: number;
  readonly preRelu: boolean;
  /** conv: the micro-kernel rows the panels were packed for. */
  readonly mr: number;
}

/** Micro-kernel row counts the kernel module has (gemm_f32_4x8, gemm_f32_6x8). */
export const MICRO_KERNEL_ROWS = [4, 6] as const;
export type MicroKernelRows = (typeof MICRO_KERNEL_ROWS)[number];

/**
 * The row count for a conv's micro-kernel. Measured on DenseNet-121's layers (Node 20,
 * bench/kernels.mjs): 4x8 beats 6x8 on every shape (V8 spills some of 6x8's 12 accumulators),
 * so 4 is the default; 6 stays selectable for the benchmark.
 */
export function chooseMicroKernelRows(_m: number, preferred?: MicroKernelRows): MicroKernelRows {
  return preferred ?? 4;
}

/**
 * Packs A = W (M, K) into ceil(M/mr) panels of [K][mr], zero-padding the last panel's
 * missing rows, so the micro-kernel reads mr consecutive floats per k.
 */
export function packPanels(weight: Float32Array, m: number, k: number, mr: number): Float32Array {
  const blocks = Math.ceil(m / mr);
  const out = new Float32Array(blocks * k * mr);
  for (let b = 0; b < blocks; b++) {
    for (let r = 0; r < mr && b * mr + r < m; r++) {
      const row = (b * mr + r) * k, base = b * k * mr + r;
      for (let i = 0; i < k; i++) out[base + i * mr] = weight[row + i];
    }
  }
  return out;
}

function padTo(values: Float32Array | null, length: number): Float32Array {
  const out = new Float32Array(length);
  if (values) out.set(values);
  return out;
}

/** Copies every op's weights into linear memory, packed for its kernel. Done once a session. */
export function packGraphWeights(graph: Graph, mem: LinearMemory, tile?: MicroKernelRows): PackedWeights[] {
  const pre = (affine: Affine | null) => affine
    ? { preScale: mem.allocF32(affine.scale), preShift: mem.allocF32(affine.shift), preRelu: affine.relu }
    : { preScale: 0, preShift: 0, preRelu: false };
  return graph.ops.map((op: Op): PackedWeights => {
    switch (op.kind) {
      case "conv": {
        const k = op.inChannels * op.kernel[0] * op.kernel[1];
        const mr = chooseMicroKernelRows(op.outChannels, tile);
        const blocks = Math.ceil(op.outChannels / mr);
        return {
          matrix: mem.allocF32(packPanels(op.weight, op.outChannels, k, mr)),
          bias: mem.allocF32(padTo(op.bias, blocks * mr)),
          ...pre(op.pre), mr,
        };
      }
      case "pool":
      case "globalPool":
        return { matrix: 0, bias: 0, ...pre(op.pre), mr: 0 };
      case "linear":
        return { matrix: mem.allocF32(op.weight), bias: op.bias ? mem.allocF32(op.bias) : 0, preScale: 0, preShift: 0, preRelu: false, mr: 0 };
    }
  });
}

/** GEMM micro-kernel tile width, for sizing. */
export const NR = L.GEMM_NR;
