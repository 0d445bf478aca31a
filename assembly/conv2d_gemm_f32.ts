import {
  CONV_A, CONV_BIAS, CONV_CIN, CONV_COUT, CONV_FLAGS, CONV_FLAG_RELU, CONV_KC, CONV_KH, CONV_KW, CONV_OH,
  CONV_OUT_OFF, CONV_OUT_ORIGIN, CONV_OUT_PLANE, CONV_OUT_ROW, CONV_OW, CONV_PH, CONV_PW, CONV_SH, CONV_SW,
  CONV_UKERNEL, GEMM_MR_4X8, GEMM_MR_6X8, GEMM_NR,
  UKERNEL_4X8_SHUFFLE, UKERNEL_6X8,
} from "../src/kernels/layout";
import { chunkCount, chunkStart, field, firstChunk, nextChunk, ptr } from "./desc";
import { GEMM_ACCUMULATE, GEMM_RELU } from "./gemm_flags";
import { gemm_f32_4x8, gemm_f32_4x8_shuffle } from "./gemm_f32_4x8";
import { gemm_f32_6x8 } from "./gemm_f32_6x8";
import { pack_b_1x1_f32, pack_b_1x1_panels_f32 } from "./pack_b_1x1_f32";
import { pack_b_im2col_f32 } from "./pack_b_im2col_f32";

/**
 * Packed B panels a 1x1 conv keeps at once (at most GROUP_PANELS, GROUP_BYTES of scratch) to run each
 * block of A over all of them in turn: A's block stays in L1 while B's panels come from L1/L2, where
 * otherwise every panel would stream all of A (up to 512 KB per DenseNet-121 layer, at batch 1 read
 * from L3 for the first panel). DenseNet-121, same-process A/B: 1 thread batch 1 ~2 % faster, 2
 * threads batch 8 ~2.3 %; the 7x7 1x1 convs 13 % faster.
 */
const GROUP_PANELS = 8, GROUP_BYTES = 262144;

/** Bytes of per-worker scratch conv2d_gemm_f32 needs for a K block of kc rows. */
export function conv2d_gemm_scratch_bytes(kc: i32): i32 {
  return max(kc * GEMM_NR * 4, GROUP_BYTES) + 64 + 8 * GEMM_NR * 4;
}

/**
 * One image of a convolution, as GEMM over packed panels: for each 8-pixel panel of the
 * output and each K block, pack the B panel (1x1: straight from the input; otherwise
 * im2col of just that panel), then run the MR x 8 micro-kernel down the output channels.
 * Worker ith of nth computes chunks of contiguous (panel, block of MR output channels) tiles,
 * numbered panel-major: its static share, or chunks it claims (see desc.ts); every output
 * value is summed in the same order whatever the split, so results are bitwise identical at
 * any thread count. A 1x1 conv whose K is one block runs its tiles in groups instead where it
 * can (GROUP_PANELS): if every panel's B fits the group, its tiles are numbered block-major
 * and each worker packs a panel the first time it needs it; else a run of whole panels in one
 * chunk is packed as groups of panels, each block of A running over the group. With
 * CONV_OUT_ROW set, the output is written zero-padded (see layout.ts): a panel within one
 * output row straight from the micro-kernel, any other through the tile, and each block's
 * margins zeroed by whoever computes its first panel.
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
  const panelBytes = <usize>kTotal * GEMM_NR << 2;
  const groupPanels = pointwise && kTotal <= kcMax ? min(GROUP_PANELS, GROUP_BYTES / <i32>panelBytes) : 1;
  const blockMajor = groupPanels >= panels && panels > 1;

  const a = ptr(d, CONV_A), bias = ptr(d, CONV_BIAS), out = base + ptr(d, CONV_OUT_OFF);
  const panel = scratch, cols = scratch + <usize>max(kcMax * GEMM_NR * 4, GROUP_BYTES), tile = cols + 64;
  const aBlockBytes = <usize>kTotal * mr << 2;
  const flags1 = relu ? GEMM_RELU : 0; // flags of a tile whose K is one block
  const grain = blockMajor ? panels : blocks;
  let packed = -1; // panel-major: the pixel panel whose B panel (all of K, one block) this call packed last
  let packedMask = 0; // block-major: the panels packed (panel q at panel + q * panelBytes)
  let chunk = firstChunk(claim, ith, nth, count), u1 = chunkStart(total, grain, chunk + 1, count, claim);
  for (let u = chunkStart(total, grain, chunk, count, claim); chunk < count;) {
    if (u >= u1) { chunk = nextChunk(claim, ith, nth, count, chunk); u = chunkStart(total, grain, chunk, count, claim); u1 = chunkStart(total, grain, chunk + 1, count, claim); continue; }
    if (blockMajor) {
      const bi = u / panels, p0 = u % panels, p1 = min(panels, p0 + u1 - u);
      u += p1 - p0;
      for (let pi = p0; pi < p1; pi++) {
        const bq = panel + <usize>pi * panelBytes;
        if ((packedMask & (1 << pi)) == 0) {
          pack_b_1x1_f32(d, base, 0, kTotal, pi * GEMM_NR, min(GEMM_NR, n - pi * GEMM_NR), bq);
          packedMask |= 1 << pi;
        }
        if (pi == 0) zeroBlockMargins(d, out, bi, mr, m);
        runTile(d, out, ukernel, mr, a + <usize>bi * aBlockBytes, bq, bi, pi * GEMM_NR, kTotal, bias, flags1, tile);
      }
      continue;
    }
    const pi = u / blocks, b0 = u % blocks;
    if (groupPanels > 1 && b0 == 0 && u1 - u >= 2 * blocks) {
      const g = min(groupPanels, (u1 - u) / blocks);
      u += g * blocks;
      const whole = min(g, n / GEMM_NR - pi); // the group's panels of 8 pixels, packed in one pass
      if (whole > 0) pack_b_1x1_panels_f32(d, base, 0, kTotal, pi * GEMM_NR, whole, panel, panelBytes);
      for (let q = whole; q < g; q++) {
        pack_b_1x1_f32(d, base, 0, kTotal, (pi + q) * GEMM_NR, n - (pi + q) * GEMM_NR, panel + <usize>q * panelBytes);
      }
      packed = -1;
      if (pi == 0) for (let bi = 0; bi < blocks; bi++) zeroBlockMargins(d, out, bi, mr, m);
      for (let bi = 0; bi < blocks; bi++) {
        for (let q = 0; q < g; q++) runTile(d, out, ukernel, mr, a + <usize>bi * aBlockBytes, panel + <usize>q * panelBytes, bi, (pi + q) * GEMM_NR, kTotal, bias, flags1, tile);
      }
      continue;
    }
    const b1 = min(blocks, b0 + u1 - u);
    u += b1 - b0;
    const n0 = pi * GEMM_NR, nr = min(GEMM_NR, n - n0);
    if (pi == 0) for (let bi = b0; bi < b1; bi++) zeroBlockMargins(d, out, bi, mr, m);
    for (let k0 = 0; k0 < kTotal; k0 += kcMax) {
      const kc = min(kcMax, kTotal - k0);
      if (kc < kTotal || pi != packed) { // a claimed chunk that goes on in the panel of this worker's last one reuses it
        if (pointwise) pack_b_1x1_f32(d, base, k0, kc, n0, nr, panel);
        else pack_b_im2col_f32(d, base, k0, kc, n0, nr, panel, cols);
        packed = pi;
      }
      const flags = (k0 > 0 ? GEMM_ACCUMULATE : 0) | (relu && k0 + kc == kTotal ? GEMM_RELU : 0);
      for (let bi = b0; bi < b1; bi++) runTile(d, out, ukernel, mr, a + <usize>bi * aBlockBytes + (<usize>k0 * mr << 2), panel, bi, n0, kc, bias, flags, tile);
    }
  }
}

/**
 * Zeroes the margins of block bi's planes (rows min(mr, m - bi * mr)) if d writes its output
 * zero-padded (CONV_OUT_ROW; see layout.ts), else nothing.
 */
function zeroBlockMargins(d: usize, out: usize, bi: i32, mr: i32, m: i32): void {
  const rowStride = field(d, CONV_OUT_ROW);
  if (rowStride == 0) return;
  const plane = field(d, CONV_OUT_PLANE), m0 = bi * mr;
  zeroMargins(out + (<usize>m0 * plane << 2), min(mr, m - m0), plane, rowStride, field(d, CONV_OUT_ORIGIN), field(d, CONV_OH), field(d, CONV_OW));
}

/**
 * The micro-kernel on A block bi (ap) and the packed B panel of output pixels n0.. (bp, kc rows)
 * into channels bi * mr.. at out: pixel (y, x) of channel c at out + 4 * (c * plane + origin +
 * y * rowStride + x) (zero-padded planes with CONV_OUT_ROW, else plain ones). Straight where the
 * tile is whole and its pixels are consecutive there, else through `tile`.
 */
// @ts-ignore: decorator
@inline function runTile(
  d: usize, out: usize, ukernel: i32, mr: i32, ap: usize, bp: usize, bi: i32, n0: i32, kc: i32, bias: usize, flags: i32, tile: usize,
): void {
  const m = field(d, CONV_COUT), ow = field(d, CONV_OW), n = field(d, CONV_OH) * ow;
  const padded = field(d, CONV_OUT_ROW) != 0;
  const rowStride = padded ? field(d, CONV_OUT_ROW) : ow;
  const plane = padded ? field(d, CONV_OUT_PLANE) : n, origin = padded ? field(d, CONV_OUT_ORIGIN) : 0;
  const m0 = bi * mr, rows = min(mr, m - m0), nr = min(GEMM_NR, n - n0);
  const block = out + (<usize>m0 * plane << 2), biasp = bias + (<usize>m0 << 2);
  const y0 = n0 / ow, x0 = n0 - y0 * ow;
  if (rows == mr && nr == GEMM_NR && (!padded || x0 + nr <= ow)) {
    microKernel(ukernel, ap, bp, block + (<usize>(origin + y0 * rowStride + x0) << 2), plane, kc, biasp, flags);
  } else {
    if (flags & GEMM_ACCUMULATE) copyTile(block, tile, rows, nr, n0, plane, rowStride, origin, ow, false);
    microKernel(ukernel, ap, bp, tile, GEMM_NR, kc, biasp, flags);
    copyTile(block, tile, rows, nr, n0, plane, rowStride, origin, ow, true);
  }
}

// @ts-ignore: decorator
@inline function microKernel(ukernel: i32, a: usize, b: usize, c: usize, ldc: i32, kc: i32, bias: usize, flags: i32): void {
  if (ukernel == UKERNEL_6X8) gemm_f32_6x8(a, b, c, ldc, kc, bias, flags);
  else if (ukernel == UKERNEL_4X8_SHUFFLE) gemm_f32_4x8_shuffle(a, b, c, ldc, kc, bias, flags);
  else gemm_f32_4x8(a, b, c, ldc, kc, bias, flags);
}

/**
 * Between the tile (rows x nr, row stride GEMM_NR) and output pixels n0 .. n0 + nr of `rows`
 * planes from `block` (pixel (y, x) at origin + y * rowStride + x of a plane): each run of the
 * pixels within one output row at once. `toPlanes`: tile -> planes, else planes -> tile.
 */
function copyTile(
  block: usize, tile: usize, rows: i32, nr: i32, n0: i32, plane: i32, rowStride: i32, origin: i32, ow: i32, toPlanes: bool,
): void {
  for (let j = 0; j < nr;) {
    const p = n0 + j, y = p / ow, x = p - y * ow, run = min(nr - j, ow - x);
    const at = origin + y * rowStride + x;
    for (let r = 0; r < rows; r++) {
      const t = tile + (<usize>(r * GEMM_NR + j) << 2), q = block + (<usize>(r * plane + at) << 2);
      if (toPlanes) memory.copy(q, t, <usize>run << 2);
      else memory.copy(t, q, <usize>run << 2);
    }
    j += run;
  }
}

/**
 * Writes 0 everywhere in `rows` planes from `block` but their oh x ow pixels (row stride
 * rowStride from `origin`): the top rows and the first left margin, each right margin with
 * the next row's left one, and the last right margin with the bottom rows.
 */
function zeroMargins(block: usize, rows: i32, plane: i32, rowStride: i32, origin: i32, oh: i32, ow: i32): void {
  for (let r = 0; r < rows; r++) {
    const p = block + (<usize>r * plane << 2);
    zeroFloats(p, origin);
    for (let y = 0; y < oh; y++) {
      const from = origin + y * rowStride + ow, to = y + 1 < oh ? origin + (y + 1) * rowStride : plane;
      zeroFloats(p + (<usize>from << 2), to - from);
    }
  }
}

/** count f32 zeros at p: vector stores, then single ones (a margin is a few floats: no memory.fill call). */
// @ts-ignore: decorator
@inline function zeroFloats(p: usize, count: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= count; i += 4) v128.store(p + (<usize>i << 2), zero);
  for (; i < count; i++) store<f32>(p + (<usize>i << 2), 0);
}
