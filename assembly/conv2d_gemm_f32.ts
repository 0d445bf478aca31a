import {
  CONV_A, CONV_BIAS, CONV_CIN, CONV_COUT, CONV_FLAGS, CONV_FLAG_RELU, CONV_KC, CONV_KH, CONV_KW, CONV_OH,
  CONV_OUT_OFF, CONV_OW, CONV_PH, CONV_PW, CONV_SH, CONV_SW, CONV_UKERNEL, GEMM_MR_4X8, GEMM_MR_6X8, GEMM_NR,
  UKERNEL_4X8_SHUFFLE, UKERNEL_6X8,
} from "../src/kernels/layout";
import { chunkCount, chunkStart, field, firstChunk, nextChunk, ptr } from "./desc";
import { GEMM_ACCUMULATE, GEMM_RELU } from "./gemm_flags";
import { gemm_f32_4x8, gemm_f32_4x8_shuffle } from "./gemm_f32_4x8";
import { gemm_f32_6x8 } from "./gemm_f32_6x8";
import { pack_b_1x1_f32 } from "./pack_b_1x1_f32";
import { pack_b_im2col_f32 } from "./pack_b_im2col_f32";

/** Bytes of per-worker scratch conv2d_gemm_f32 needs for a K block of kc rows. */
export function conv2d_gemm_scratch_bytes(kc: i32): i32 {
  return kc * GEMM_NR * 4 + 64 + 8 * GEMM_NR * 4;
}

/**
 * One image of a convolution, as GEMM over packed panels: for each 8-pixel panel of the
 * output and each K block, pack the B panel (1x1: straight from the input; otherwise
 * im2col of just that panel), then run the MR x 8 micro-kernel down the output channels.
 * Worker ith of nth computes chunks of contiguous (panel, block of MR output channels) tiles,
 * numbered panel-major: its static share, or chunks it claims (see desc.ts); every output
 * value is summed in the same order whatever the split, so results are bitwise identical at
 * any thread count.
 *   d: conv descriptor; base: arena base; scratch: conv2d_gemm_scratch_bytes(KC) bytes;
 *   claim: the step's claim record, or 0 for static shares
 */
export function conv2d_gemm_f32(d: usize, base: usize, scratch: usize, ith: i32, nth: i32, claim: usize): void {
  const m = field(d, CONV_COUT), oh = field(d, CONV_OH), ow = field(d, CONV_OW);
  const kh = field(d, CONV_KH), kw = field(d, CONV_KW);
  const n = oh * ow, kTotal = field(d, CONV_CIN) * kh * kw;
  const ukernel = field(d, CONV_UKERNEL), kcMax = field(d, CONV_KC);
  const mr = ukernel == UKERNEL_6X8 ? GEMM_MR_6X8 : GEMM_MR_4X8;
  const pointwise = kh == 1 && kw == 1 && field(d, CONV_SH) == 1 && field(d, CONV_SW) == 1
    && field(d, CONV_PH) == 0 && field(d, CONV_PW) == 0;
  const relu = (field(d, CONV_FLAGS) & CONV_FLAG_RELU) != 0;
  const panels = (n + GEMM_NR - 1) / GEMM_NR, blocks = (m + mr - 1) / mr;
  const total = panels * blocks, count = chunkCount(total, nth, claim);

  const a = ptr(d, CONV_A), bias = ptr(d, CONV_BIAS), out = base + ptr(d, CONV_OUT_OFF);
  const panel = scratch, cols = scratch + (<usize>kcMax * GEMM_NR << 2), tile = cols + 64;
  const aBlockBytes = <usize>kTotal * mr << 2;
  let packed = -1; // the pixel panel whose B panel (all of K, one block) this call packed last
  let chunk = firstChunk(claim, ith, nth, count), u1 = chunkStart(total, blocks, chunk + 1, count, claim);
  for (let u = chunkStart(total, blocks, chunk, count, claim); chunk < count;) {
    if (u >= u1) { chunk = nextChunk(claim, ith, nth, count, chunk); u = chunkStart(total, blocks, chunk, count, claim); u1 = chunkStart(total, blocks, chunk + 1, count, claim); continue; }
    const pi = u / blocks, b0 = u % blocks, b1 = min(blocks, b0 + u1 - u);
    u += b1 - b0;
    const n0 = pi * GEMM_NR, nr = min(GEMM_NR, n - n0);
    for (let k0 = 0; k0 < kTotal; k0 += kcMax) {
      const kc = min(kcMax, kTotal - k0);
      if (kc < kTotal || pi != packed) { // a claimed chunk that goes on in the panel of this worker's last one reuses it
        if (pointwise) pack_b_1x1_f32(d, base, k0, kc, n0, nr, panel);
        else pack_b_im2col_f32(d, base, k0, kc, n0, nr, panel, cols);
        packed = pi;
      }
      const flags = (k0 > 0 ? GEMM_ACCUMULATE : 0) | (relu && k0 + kc == kTotal ? GEMM_RELU : 0);
      let ap = a + <usize>b0 * aBlockBytes + (<usize>k0 * mr << 2);
      for (let bi = b0; bi < b1; bi++) {
        const m0 = bi * mr, rows = min(mr, m - m0);
        const c = out + ((<usize>m0 * n + n0) << 2), bp = bias + (<usize>m0 << 2);
        if (rows == mr && nr == GEMM_NR) {
          microKernel(ukernel, ap, panel, c, n, kc, bp, flags);
        } else {
          if (flags & GEMM_ACCUMULATE) copyTile(c, n, tile, GEMM_NR, rows, nr);
          microKernel(ukernel, ap, panel, tile, GEMM_NR, kc, bp, flags);
          copyTile(tile, GEMM_NR, c, n, rows, nr);
        }
        ap += aBlockBytes;
      }
    }
  }
}

// @ts-ignore: decorator
@inline function microKernel(ukernel: i32, a: usize, b: usize, c: usize, ldc: i32, kc: i32, bias: usize, flags: i32): void {
  if (ukernel == UKERNEL_6X8) gemm_f32_6x8(a, b, c, ldc, kc, bias, flags);
  else if (ukernel == UKERNEL_4X8_SHUFFLE) gemm_f32_4x8_shuffle(a, b, c, ldc, kc, bias, flags);
  else gemm_f32_4x8(a, b, c, ldc, kc, bias, flags);
}

/** Copies rows x cols f32 between two row-major tiles with row strides lds / ldd floats. */
function copyTile(src: usize, lds: i32, dst: usize, ldd: i32, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + (<usize>r * ldd << 2), src + (<usize>r * lds << 2), <usize>cols << 2);
  }
}
