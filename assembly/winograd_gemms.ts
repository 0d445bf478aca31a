// What the Winograd kernels (conv2d_winograd_f32.ts: F(2x2, 3x3), 16 positions;
// conv2d_winograd_f4x4_f32.ts: F(4x4, 3x3), 36) share: their scratch layout constants and the
// GEMMs over the transformed positions of one panel of 8 tiles.
import { GEMM_NR, WINO_ROWS } from "../src/kernels/layout";
import { gemm_f32_4x8, gemm_f32_4x8_shuffle } from "./gemm_f32_4x8";

/** The micro-kernel's rows: a channel block of the output. */
export const ROWS = WINO_ROWS;
/**
 * Bytes between consecutive B panels beyond the panel itself: with Cin a multiple of 16 the
 * panels would be a multiple of 4 KB apart, and the input transform's 16 or 36 stores per
 * channel would all fall in one L1 set.
 */
export const PANEL_SKEW = 64;
/**
 * Channel blocks whose GEMMs run together, position-major: each B panel V_xi (Cin x 8, 4 KB
 * for Cin = 128) stays in L1 while CHUNK blocks of A_xi (contiguous in memory) stream past it.
 */
export const CHUNK = 8;
/** Bytes between consecutive positions' GEMM results of one channel block. */
export const M_XI_BYTES = 4 * ROWS * GEMM_NR;

/**
 * For channel blocks [c0, c1) (at most CHUNK) and each of the `positions` transformed
 * positions xi: M = A_xi[block] (ROWS x cin, at a + xi·aXiBytes + block·aBlockBytes) times
 * V_xi (cin x GEMM_NR, at v + xi·vBytes), written to mt + ((block - c0)·positions + xi)·M_XI_BYTES.
 */
// @ts-ignore: decorator
@inline export function winogradGemms(
  positions: i32, a: usize, aXiBytes: usize, aBlockBytes: usize, v: usize, vBytes: usize, mt: usize,
  c0: i32, c1: i32, cin: i32, zero: usize, shuffle: bool,
): void {
  for (let xi = 0; xi < positions; xi++) {
    const bp = v + <usize>xi * vBytes;
    for (let bi = c0; bi < c1; bi++) {
      const ap = a + <usize>xi * aXiBytes + <usize>bi * aBlockBytes, cp = mt + <usize>((bi - c0) * positions + xi) * M_XI_BYTES;
      if (shuffle) gemm_f32_4x8_shuffle(ap, bp, cp, GEMM_NR, cin, zero, 0);
      else gemm_f32_4x8(ap, bp, cp, GEMM_NR, cin, zero, 0);
    }
  }
}
