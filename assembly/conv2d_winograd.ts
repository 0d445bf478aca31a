// The Winograd 3x3 convolution kernels, F(2x2, 3x3) and F(4x4, 3x3): one loop, specialised
// by the tile (inlined with a constant, so each kernel compiles to its own straight code).
// The tiles' transforms are in conv2d_winograd_f32.ts (F(2x2)) and conv2d_winograd_f4x4_f32.ts
// (F(4x4)); the GEMMs and the scratch layout constants in winograd_gemms.ts.
import {
  CONV_A, CONV_BIAS, CONV_CIN, CONV_COUT, CONV_FLAGS, CONV_FLAG_RELU, CONV_H, CONV_IN_OFF, CONV_OH, CONV_OUT_OFF, CONV_OW,
  CONV_UKERNEL, CONV_W, GEMM_NR, UKERNEL_4X8_SHUFFLE, WINO4_XI, WINO_XI,
} from "../src/kernels/layout";
import {
  transformInput as transformInput2, transformInputLanes as transformInputLanes2, transformOutput as transformOutput2,
  transformOutputLanes as transformOutputLanes2,
} from "./conv2d_winograd_f32";
import {
  TMP_BYTES, transformInput as transformInput4, transformInputLanes as transformInputLanes4, transformOutput as transformOutput4,
  transformOutputLanes as transformOutputLanes4,
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
 * F(tile x tile, 3x3), tile 2 or 4. The output's tiles are taken in groups of 4, each group
 * one vector lane per tile: first every tile row's runs of 4 consecutive tiles, then the
 * tiles left at the rows' ends (0 to 3 per row), 4 at a time in row-major order, the last
 * group's missing lanes repeating its last tile (computed, not stored). Two groups make a
 * panel of 8 tiles, the GEMMs' B width. For each panel: transform the input patches of all
 * channels into the 16 or 36 B panels, then for each block of 4 output channels run the 16
 * or 36 GEMMs (CHUNK blocks at a time, position-major) and transform the 4x8 results back
 * into output tiles (+ bias, optional ReLU). Every tile is computed the same way whichever
 * group holds it. Worker ith of nth takes chunks of contiguous (panel, channel block) units,
 * numbered panel-major (its share, or claimed: see desc.ts); results do not depend on the split.
 */
// @ts-ignore: decorator
@inline function winograd(tile: i32, d: usize, base: usize, scratch: usize, ith: i32, nth: i32, claim: usize): void {
  const positions = tile == 4 ? WINO4_XI : WINO_XI;
  const m = field(d, CONV_COUT), cin = field(d, CONV_CIN), oh = field(d, CONV_OH), ow = field(d, CONV_OW);
  const pw = field(d, CONV_W);
  const th = (oh + tile - 1) / tile, tw = (ow + tile - 1) / tile;
  const runs = tw >> 2, rest = tw & 3; // per tile row: runs of 4 tiles, then 0..3 tiles left
  const runGroups = th * runs, restTiles = th * rest, groups = runGroups + ((restTiles + 3) >> 2);
  const panels = (groups + 1) >> 1, blocks = (m + ROWS - 1) / ROWS;
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
    const inPanel = min(2, groups - 2 * pi);
    for (let g = pi == transformed ? 2 : 0; g < 2; g++) { // a claimed chunk going on in the same panel reuses v
      const gi = 2 * pi + g, vg = v + (<usize>g << 4);
      if (gi < runGroups) {
        const ty = gi / runs, tx = (gi % runs) * 4;
        if (tile == 4) transformInput4(x, cin, inPlane, pw, ty, tx, vg, vBytes, tmp);
        else transformInput2(x, cin, inPlane, pw, ty, tx, vg, vBytes);
      } else if (gi < groups) {
        const q = (gi - runGroups) * 4;
        const p0 = restPatch(tile, q, restTiles, runs, rest, pw), p1 = restPatch(tile, q + 1, restTiles, runs, rest, pw);
        const p2 = restPatch(tile, q + 2, restTiles, runs, rest, pw), p3 = restPatch(tile, q + 3, restTiles, runs, rest, pw);
        if (tile == 4) transformInputLanes4(x, cin, inPlane, pw, p0, p1, p2, p3, vg, vBytes, tmp);
        else transformInputLanes2(x, cin, inPlane, pw, p0, p1, p2, p3, vg, vBytes, tmp);
      } else for (let xi = 0; xi < positions; xi++) zeroColumns(v + <usize>xi * vBytes + (<usize>g << 4), cin);
    }
    transformed = pi;
    for (let c0 = b0; c0 < b1; c0 += CHUNK) {
      const c1 = min(b1, c0 + CHUNK);
      winogradGemms(positions, a, aXiBytes, aBlockBytes, v, vBytes, mt, c0, c1, cin, zero, shuffle);
      for (let g = 0; g < inPanel; g++) {
        // where the group's tiles go, once per chunk of blocks: a run's first output pixel,
        // or each lane's (a missing lane's is never stored)
        const gi = 2 * pi + g, inRun = gi < runGroups, q = (gi - runGroups) * 4, lanes = min(4, restTiles - q);
        let y0 = 0, x0 = 0, y1 = 0, x1 = 0, y2 = 0, x2 = 0, y3 = 0, x3 = 0;
        if (inRun) {
          y0 = (gi / runs) * tile; x0 = (gi % runs) * 4 * tile;
        } else { // rest > 0 here
          y0 = restRow(tile, q, rest); x0 = restColumn(tile, q, runs, rest);
          y1 = restRow(tile, q + 1, rest); x1 = restColumn(tile, q + 1, runs, rest);
          y2 = restRow(tile, q + 2, rest); x2 = restColumn(tile, q + 2, runs, rest);
          y3 = restRow(tile, q + 3, rest); x3 = restColumn(tile, q + 3, runs, rest);
        }
        for (let bi = c0; bi < c1; bi++) {
          const m0 = bi * ROWS, mb = mt + <usize>(bi - c0) * positions * M_XI_BYTES;
          for (let r = 0; r < min(ROWS, m - m0); r++) {
            const plane = out + (<usize>(m0 + r) * oh * ow << 2);
            const b = load<f32>(bias + (<usize>(m0 + r) << 2));
            const mg = mb + (<usize>r * GEMM_NR << 2) + (<usize>g << 4);
            if (inRun) {
              if (tile == 4) transformOutput4(mg, plane, y0, x0, oh, ow, b, relu, tmp, row);
              else transformOutput2(mg, plane, y0, x0, oh, ow, b, relu, tmp);
            } else if (tile == 4) transformOutputLanes4(mg, plane, y0, x0, y1, x1, y2, x2, y3, x3, lanes, oh, ow, b, relu, tmp, row);
            else transformOutputLanes2(mg, plane, y0, x0, y1, x1, y2, x2, y3, x3, lanes, oh, ow, b, relu);
          }
        }
      }
    }
  }
}

/** Output row of the tile left at a row's end numbered q (row-major over all rows' `rest` such tiles). */
// @ts-ignore: decorator
@inline function restRow(tile: i32, q: i32, rest: i32): i32 {
  return (q / rest) * tile;
}

/** Output column of the tile left at a row's end numbered q. */
// @ts-ignore: decorator
@inline function restColumn(tile: i32, q: i32, runs: i32, rest: i32): i32 {
  return (runs * 4 + q % rest) * tile;
}

/** Byte offset in a padded input plane of the patch of left-over tile q; past the last one (restTiles), the last one's. */
// @ts-ignore: decorator
@inline function restPatch(tile: i32, q: i32, restTiles: i32, runs: i32, rest: i32, pw: i32): usize {
  const k = min(q, restTiles - 1);
  return (<usize>restRow(tile, k, rest) * pw + <usize>restColumn(tile, k, runs, rest)) << 2;
}

/** Zeroes `count` f32x4 columns 4 floats apart by 8 (the unused half of the B panels). */
function zeroColumns(p: usize, count: i32): void {
  const z = f32x4.splat(0);
  for (let i = 0; i < count; i++) v128.store(p + (<usize>i << 5), z);
}
