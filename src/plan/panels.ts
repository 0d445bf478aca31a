// Packing weights into linear memory for the kernels: the GEMM micro-kernels and the panel
// layout they read, and what a packed op holds instead of its weight arrays.
import * as L from "../kernels/layout.js";
import type { LinearMemory } from "../kernels/memory.js";
import type { Affine, BufferSpec, Op } from "./graph.js";

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

/** An op without its weight arrays: what shapes, MACs and descriptors are computed from. */
export type OpGeometry<O extends Op = Op> = O extends Op ? Omit<O, "weight" | "weightScale" | "bias" | "pre"> : never;

/** An op once packed: its geometry and where its weights live in linear memory. */
export type PackedOp<O extends Op = Op> = O extends Op ? OpGeometry<O> & { readonly weights: PackedWeights } : never;

/** A graph whose weights are packed into linear memory: what a session plans each input size from. */
export interface PackedGraph {
  readonly buffers: readonly BufferSpec[];
  readonly ops: readonly PackedOp[];
  readonly input: number;
  readonly output: number;
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

/** Rows of A a micro-kernel computes per call (the panel height weights are packed for). */
export function microKernelRows(kernel: MicroKernel): number {
  return kernel === "6x8" ? L.GEMM_MR_6X8 : L.GEMM_MR_4X8;
}

/** Floats of W (M, K) packed into ceil(M/mr) panels of [K][mr]. */
export function panelsLength(m: number, k: number, mr: number): number {
  return Math.ceil(m / mr) * k * mr;
}

/**
 * Packs A = W (M, K) into `out` as ceil(M/mr) panels of [K][mr], so the micro-kernel reads mr
 * consecutive floats per k. `out` must be zeroed (the last panel's missing rows stay 0).
 */
export function packPanels(out: Float32Array, weight: Float32Array, m: number, k: number, mr: number): void {
  const blocks = Math.ceil(m / mr);
  for (let b = 0; b < blocks; b++) {
    if (mr === 4 && b * mr + 4 <= m) {
      // a whole 4-row panel in one pass, written in order (the common case; ~1.5x faster)
      const r0 = b * 4 * k,
        r1 = r0 + k,
        r2 = r1 + k,
        r3 = r2 + k;
      for (let i = 0, o = b * k * 4; i < k; i++, o += 4) {
        out[o] = weight[r0 + i];
        out[o + 1] = weight[r1 + i];
        out[o + 2] = weight[r2 + i];
        out[o + 3] = weight[r3 + i];
      }
      continue;
    }
    for (let r = 0; r < mr && b * mr + r < m; r++) {
      const row = (b * mr + r) * k,
        base = b * k * mr + r;
      for (let i = 0; i < k; i++) out[base + i * mr] = weight[row + i];
    }
  }
}

/** A fresh, zeroed linear-memory allocation of `length` floats, and a view of it. */
export function allocFloats(mem: LinearMemory, length: number): { ptr: number; view: Float32Array } {
  const ptr = mem.alloc(length * 4);
  return { ptr, view: mem.f32(ptr, length) };
}

/** A bias padded with zeros to `length` (a whole number of micro-kernel rows), in linear memory. */
export function allocBias(mem: LinearMemory, bias: Float32Array | null, length: number): number {
  const out = new Float32Array(length);
  if (bias) out.set(bias);
  return mem.allocF32(out);
}

/** The pre-activation fields of PackedWeights: the affine's scale and shift in linear memory, or none. */
export function packPre(mem: LinearMemory, affine: Affine | null): Pick<PackedWeights, "preScale" | "preShift" | "preRelu"> {
  return affine
    ? { preScale: mem.allocF32(affine.scale), preShift: mem.allocF32(affine.shift), preRelu: affine.relu }
    : { preScale: 0, preShift: 0, preRelu: false };
}

/** PackedWeights of an op with no weights. */
export const NO_WEIGHTS: PackedWeights = { matrix: 0, bias: 0, preScale: 0, preShift: 0, preRelu: false, ukernel: 0 };
