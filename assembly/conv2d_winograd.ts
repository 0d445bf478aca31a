// The Winograd 3x3 convolution kernels, F(2x2, 3x3) and F(4x4, 3x3): one loop, specialised
// by the tile (inlined with a constant, so each kernel compiles to its own straight code).
// The tiles' transforms are in conv2d_winograd_f32.ts (F(2x2)) and conv2d_winograd_f4x4_f32.ts
// (F(4x4)); the GEMMs and the scratch layout constants in winograd_gemms.ts.
import {
  CONV_A, CONV_BIAS, CONV_CIN, CONV_COUT, CONV_FLAGS, CONV_FLAG_RELU, CONV_H, CONV_IN_OFF, CONV_OH, CONV_OUT_OFF, CONV_OW,
  CONV_UKERNEL, CONV_W, GEMM_NR, UKERNEL_4X8_SHUFFLE, WINO4_XI, WINO_XI,
} from "../src/kernels/layout";
import {
  transformInput as transformInput2, transformOutput as transformOutput2, winogradTilesW,
} from "./conv2d_winograd_f32";
import {
  TMP_BYTES, transformInput as transformInput4, transformOutput as transformOutput4, winograd4TilesW,
} from "./conv2d_winograd_f4x4_f32";
import { chunkCount, chunkStart, field, firstChunk, nextChunk, ptr } from "./desc";
import { CHUNK, M_XI_BYTES, PANEL_SKEW, ROWS, winogradGemms } from "./winograd_gemms";

/**
 * One image of a 3x3 stride-1 pad-1 convolution by Winograd F(2x2, 3x3). See winograd().
 */
export function conv2d_winograd_f32(d: usize, base: usize, scratch: usize, ith: i32, nth: i32, claim: usize): void {
  winograd(2, d, base, scratch, ith, nth, claim);
}

/**
 * One image of a 3x3 stride-1 pad-1 convolution by Winograd F(4x4, 3x3). See winograd().
 */
export function conv2d_winograd_f4x4_f32(d: usize, base: usize, scratch: usize, ith: i32, nth: i32, claim: usize): void {
  winograd(4, d, base, scratch, ith, nth, claim);
}

/**
 * F(tile x tile, 3x3), tile 2 or 4. For each panel of 8 tiles: transform the input patches of
 * all channels into the 16 or 36 B panels, then for each block of 4 output channels run the
 * 16 or 36 GEMMs (CHUNK blocks at a time, position-major) and transform the 4x8 results back
 * into output tiles (+ bias, optional ReLU). Worker ith of nth takes chunks of contiguous
 * (panel, channel block) units, numbered panel-major (its share, or claimed: see desc.ts);
 * results do not depend on the split.
 */
// @ts-ignore: decorator
@inline function winograd(tile: i32, d: usize, base: usize, scratch: usize, ith: i32, nth: i32, claim: usize): void {
  const positions = tile == 4 ? WINO4_XI : WINO_XI;
  const m = field(d, CONV_COUT), cin = field(d, CONV_CIN), oh = field(d, CONV_OH), ow = field(d, CONV_OW);
  const pw = field(d, CONV_W);
  const th = tile == 4 ? (oh + 3) >> 2 : (oh + 1) >> 1, tw = tile == 4 ? winograd4TilesW(ow) : winogradTilesW(ow);
  const panels = (th * tw + GEMM_NR - 1) / GEMM_NR, blocks = (m + ROWS - 1) / ROWS;
  const total = panels * blocks, count = chunkCount(total, nth, claim);

  const x = base + ptr(d, CONV_IN_OFF), out = base + ptr(d, CONV_OUT_OFF);
  const a = ptr(d, CONV_A), bias = ptr(d, CONV_BIAS);
  const relu = (field(d, CONV_FLAGS) & CONV_FLAG_RELU) != 0;
  const shuffle = field(d, CONV_UKERNEL) == UKERNEL_4X8_SHUFFLE;
  const vBytes = (<usize>cin * GEMM_NR << 2) + PANEL_SKEW; // from one position's B panel to the next
  // scratch: the B panels, the GEMM results of CHUNK blocks, a zero vector, the transforms' temporaries
  const v = scratch, mt = v + <usize>positions * vBytes, zero = mt + CHUNK * positions * M_XI_BYTES, tmp = zero + 16, row = tmp + TMP_BYTES;
  v128.store(zero, f32x4.splat(0));
  const aXiBytes = <usize>blocks * cin * ROWS << 2, aBlockBytes = <usize>cin * ROWS << 2;
  const inPlane = <usize>field(d, CONV_H) * pw << 2;
  let transformed = -1; // the tile panel whose transformed input (v) this call computed last
  let chunk = firstChunk(claim, ith, nth, count), u1 = chunkStart(total, blocks, chunk + 1, count, claim);
  for (let u = chunkStart(total, blocks, chunk, count, claim); chunk < count;) {
    if (u >= u1) { chunk = nextChunk(claim, ith, nth, count, chunk); u = chunkStart(total, blocks, chunk, count, claim); u1 = chunkStart(total, blocks, chunk + 1, count, claim); continue; }
    const pi = u / blocks, b0 = u % blocks, b1 = min(blocks, b0 + u1 - u);
    u += b1 - b0;
    const t0 = pi * GEMM_NR;
    const groups = min(2, (th * tw - t0) >> 2);
    for (let g = pi == transformed ? 2 : 0; g < 2; g++) { // a claimed chunk going on in the same panel reuses v
      if (g < groups) {
        const ty = (t0 + 4 * g) / tw, tx = (t0 + 4 * g) % tw, vg = v + (<usize>g << 4);
        if (tile == 4) transformInput4(x, cin, inPlane, pw, ty, tx, vg, vBytes, tmp);
        else transformInput2(x, cin, inPlane, pw, ty, tx, vg, vBytes);
      } else for (let xi = 0; xi < positions; xi++) zeroColumns(v + <usize>xi * vBytes + (<usize>g << 4), cin);
    }
    transformed = pi;
    for (let c0 = b0; c0 < b1; c0 += CHUNK) {
      const c1 = min(b1, c0 + CHUNK);
      winogradGemms(positions, a, aXiBytes, aBlockBytes, v, vBytes, mt, c0, c1, cin, zero, shuffle);
      for (let bi = c0; bi < c1; bi++) {
        const m0 = bi * ROWS, mb = mt + <usize>(bi - c0) * positions * M_XI_BYTES;
        for (let r = 0; r < min(ROWS, m - m0); r++) {
          const plane = out + (<usize>(m0 + r) * oh * ow << 2);
          const b = load<f32>(bias + (<usize>(m0 + r) << 2));
          for (let g = 0; g < groups; g++) {
            const t = t0 + 4 * g, mg = mb + (<usize>r * GEMM_NR << 2) + (<usize>g << 4);
            if (tile == 4) transformOutput4(mg, plane, (t / tw) * 4, (t % tw) * 4, oh, ow, b, relu, tmp, row);
            else transformOutput2(mg, plane, (t / tw) * 2, (t % tw) * 2, oh, ow, b, relu, tmp);
          }
        }
      }
    }
  }
}

/** Zeroes `count` f32x4 columns 4 floats apart by 8 (the unused half of the B panels). */
function zeroColumns(p: usize, count: i32): void {
  const z = f32x4.splat(0);
  for (let i = 0; i < count; i++) v128.store(p + (<usize>i << 5), z);
}
