import * as L from "../kernels/layout.js";
import type { LinearMemory } from "../kernels/memory.js";
import type { Affine, Graph, Op } from "./graph.js";
import { winogradWeights } from "./winograd.js";

/** Where an op's weights live in linear memory (absolute addresses; 0 = absent). */
export interface PackedWeights {
  /** conv: packed A panels; linear: the row-major matrix. */
  readonly matrix: number;
  readonly bias: number;
  readonly preScale: number;
  readonly preShift: number;
  readonly preRelu: boolean;
  /** conv: the micro-kernel (UKERNEL_*) the panels were packed for. */
  readonly ukernel: number;
}

/**
 * The GEMM micro-kernels: "4x8" (A broadcast by load-splat), "4x8-shuffle" (A loaded once per
 * k and broadcast by shuffles) and "6x8". Measured on DenseNet-121 (bench/kernels.mjs): 4x8
 * beats 6x8 on every layer shape (V8 spills some of 6x8's 12 accumulators); 4x8-shuffle is
 * ~1.25x faster than 4x8 under Deno (whose V8 bounds-checks every memory access) and ~5%
 * slower under Node. All three give bitwise the same results.
 */
export const MICRO_KERNELS = { "4x8": L.UKERNEL_4X8, "4x8-shuffle": L.UKERNEL_4X8_SHUFFLE, "6x8": L.UKERNEL_6X8 } as const;
export type MicroKernel = keyof typeof MICRO_KERNELS;

/** The micro-kernel for this engine: 4x8-shuffle under Deno, 4x8 elsewhere. */
export function defaultMicroKernel(): MicroKernel {
  return "Deno" in globalThis ? "4x8-shuffle" : "4x8";
}

function microKernelRows(kernel: MicroKernel): number {
  return kernel === "6x8" ? 6 : 4;
}

/** Floats of W (M, K) packed into ceil(M/mr) panels of [K][mr]. */
function panelsLength(m: number, k: number, mr: number): number {
  return Math.ceil(m / mr) * k * mr;
}

/**
 * Packs A = W (M, K) into `out` as ceil(M/mr) panels of [K][mr], so the micro-kernel reads mr
 * consecutive floats per k. `out` must be zeroed (the last panel's missing rows stay 0).
 */
export function packPanels(out: Float32Array, weight: Float32Array, m: number, k: number, mr: number): void {
  const blocks = Math.ceil(m / mr);
  for (let b = 0; b < blocks; b++) {
    for (let r = 0; r < mr && b * mr + r < m; r++) {
      const row = (b * mr + r) * k, base = b * k * mr + r;
      for (let i = 0; i < k; i++) out[base + i * mr] = weight[row + i];
    }
  }
}

/** A fresh, zeroed linear-memory allocation of `length` floats, and a view of it. */
function allocFloats(mem: LinearMemory, length: number): { ptr: number; view: Float32Array } {
  const ptr = mem.alloc(length * 4);
  return { ptr, view: mem.f32(ptr, length) };
}

function padTo(values: Float32Array | null, length: number): Float32Array {
  const out = new Float32Array(length);
  if (values) out.set(values);
  return out;
}

/**
 * Copies every op's weights into linear memory, packed for its kernel, packing straight into
 * the (zeroed, never reused) allocation. Done once a session.
 */
export function packGraphWeights(graph: Graph, mem: LinearMemory, microKernel: MicroKernel = defaultMicroKernel()): PackedWeights[] {
  const pre = (affine: Affine | null) => affine
    ? { preScale: mem.allocF32(affine.scale), preShift: mem.allocF32(affine.shift), preRelu: affine.relu }
    : { preScale: 0, preShift: 0, preRelu: false };
  return graph.ops.map((op: Op): PackedWeights => {
    switch (op.kind) {
      case "conv": {
        if (op.winograd) {
          // The Winograd kernel runs the 4-row micro-kernels.
          const kernel = microKernel === "6x8" ? "4x8" : microKernel;
          const length = panelsLength(op.outChannels, op.inChannels, 4);
          const packed = allocFloats(mem, 16 * length);
          winogradWeights(op.weight, op.outChannels, op.inChannels).forEach((u, xi) =>
            packPanels(packed.view.subarray(xi * length, (xi + 1) * length), u, op.outChannels, op.inChannels, 4));
          return {
            matrix: packed.ptr, bias: mem.allocF32(padTo(op.bias, Math.ceil(op.outChannels / 4) * 4)),
            ...pre(op.pre), ukernel: MICRO_KERNELS[kernel],
          };
        }
        const k = op.inChannels * op.kernel[0] * op.kernel[1];
        const mr = microKernelRows(microKernel);
        const blocks = Math.ceil(op.outChannels / mr);
        const packed = allocFloats(mem, panelsLength(op.outChannels, k, mr));
        packPanels(packed.view, op.weight, op.outChannels, k, mr);
        return {
          matrix: packed.ptr,
          bias: mem.allocF32(padTo(op.bias, blocks * mr)),
          ...pre(op.pre), ukernel: MICRO_KERNELS[microKernel],
        };
      }
      case "winogradInput":
      case "pool":
      case "globalPool":
        return { matrix: 0, bias: 0, ...pre(op.pre), ukernel: 0 };
      case "softmax":
        return { matrix: 0, bias: 0, preScale: 0, preShift: 0, preRelu: false, ukernel: 0 };
      case "linear":
        return { matrix: mem.allocF32(op.weight), bias: op.bias ? mem.allocF32(op.bias) : 0, preScale: 0, preShift: 0, preRelu: false, ukernel: 0 };
    }
  });
}
