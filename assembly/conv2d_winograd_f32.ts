import { GEMM_NR, WINO_XI } from "../src/kernels/layout";
import { CHUNK, M_XI_BYTES, PANEL_SKEW } from "./winograd_gemms";

// Winograd F(2x2, 3x3): each 2x2 output tile comes from a 4x4 input patch d as
// Y = A^T [ (G g G^T) (.) (B^T d B) ] A, summed over input channels, so a 3x3 conv costs 16
// multiply-adds per tile and channel pair instead of 36. The 16 products are 16 GEMMs
// M_xi[Cout, tiles] = U_xi[Cout, Cin] V_xi[Cin, tiles] on the packed micro-kernels.
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]    A^T = [1 1 1 0; 0 1 -1 -1]
// Both transforms are vectorised across a group of 4 tiles (conv2d_winograd.ts forms the
// groups): 4 consecutive tiles of one tile row (transformInput, transformOutput), or 4 tiles
// anywhere (the ...Lanes forms, for the tiles that remain at the end of each row). The input
// was zero-padded by pad2d_nchw_f32, so no load needs a bounds check. The kernel itself,
// shared with F(4x4), is conv2d_winograd.ts; this file has F(2x2)'s transforms.

/** The lane transforms' intermediates (16 vectors), in the scratch after the zero vector. */
export const TMP_BYTES_2 = 16 * 16;

/** Per-worker scratch bytes for Winograd convs with up to maxCin input channels. */
export function conv2d_winograd_scratch_bytes(maxCin: i32): i32 {
  return WINO_XI * (maxCin * GEMM_NR * 4 + PANEL_SKEW) + CHUNK * WINO_XI * M_XI_BYTES + 16 + TMP_BYTES_2 + 32;
}

/**
 * B^T d B for 4 tiles of one tile row, for every channel: patch rows 2ty..2ty+3 and columns
 * 2tx+2j..2tx+2j+3 (j = 0..3) of the padded input. Writes V_xi for the 4 tiles as one f32x4
 * at v + xi * vBytes + c * 32 (the B panels' [c][8] layout, this group's half).
 */
export function transformInput(x: usize, cin: i32, inPlane: usize, pw: i32, ty: i32, tx: i32, v: usize, vBytes: usize): void {
  const rowBytes = <usize>pw << 2;
  let p = x + <usize>(2 * ty) * rowBytes + (<usize>(2 * tx) << 2);
  for (let c = 0; c < cin; c++) {
    // Column transform of each patch row: e_r = (d_r B), four tiles per vector.
    let e00: v128, e01: v128, e02: v128, e03: v128, e10: v128, e11: v128, e12: v128, e13: v128;
    let e20: v128, e21: v128, e22: v128, e23: v128, e30: v128, e31: v128, e32: v128, e33: v128;
    {
      const r = p;
      const lo = v128.load(r), mid = v128.load(r, 16), hi = v128.load(r, 32);
      const c0 = f32x4.shuffle(lo, mid, 0, 2, 4, 6), c1 = f32x4.shuffle(lo, mid, 1, 3, 5, 7);
      const c2 = f32x4.shuffle(c0, hi, 1, 2, 3, 4), c3 = f32x4.shuffle(c1, hi, 1, 2, 3, 5);
      e00 = f32x4.sub(c0, c2); e01 = f32x4.add(c1, c2); e02 = f32x4.sub(c2, c1); e03 = f32x4.sub(c1, c3);
    }
    {
      const r = p + rowBytes;
      const lo = v128.load(r), mid = v128.load(r, 16), hi = v128.load(r, 32);
      const c0 = f32x4.shuffle(lo, mid, 0, 2, 4, 6), c1 = f32x4.shuffle(lo, mid, 1, 3, 5, 7);
      const c2 = f32x4.shuffle(c0, hi, 1, 2, 3, 4), c3 = f32x4.shuffle(c1, hi, 1, 2, 3, 5);
      e10 = f32x4.sub(c0, c2); e11 = f32x4.add(c1, c2); e12 = f32x4.sub(c2, c1); e13 = f32x4.sub(c1, c3);
    }
    {
      const r = p + 2 * rowBytes;
      const lo = v128.load(r), mid = v128.load(r, 16), hi = v128.load(r, 32);
      const c0 = f32x4.shuffle(lo, mid, 0, 2, 4, 6), c1 = f32x4.shuffle(lo, mid, 1, 3, 5, 7);
      const c2 = f32x4.shuffle(c0, hi, 1, 2, 3, 4), c3 = f32x4.shuffle(c1, hi, 1, 2, 3, 5);
      e20 = f32x4.sub(c0, c2); e21 = f32x4.add(c1, c2); e22 = f32x4.sub(c2, c1); e23 = f32x4.sub(c1, c3);
    }
    {
      const r = p + 3 * rowBytes;
      const lo = v128.load(r), mid = v128.load(r, 16), hi = v128.load(r, 32);
      const c0 = f32x4.shuffle(lo, mid, 0, 2, 4, 6), c1 = f32x4.shuffle(lo, mid, 1, 3, 5, 7);
      const c2 = f32x4.shuffle(c0, hi, 1, 2, 3, 4), c3 = f32x4.shuffle(c1, hi, 1, 2, 3, 5);
      e30 = f32x4.sub(c0, c2); e31 = f32x4.add(c1, c2); e32 = f32x4.sub(c2, c1); e33 = f32x4.sub(c1, c3);
    }
    // Row transform: V = B^T e; V_(i, j) goes to xi = 4i + j.
    const o = v + (<usize>c << 5);
    v128.store(o, f32x4.sub(e00, e20)); v128.store(o + vBytes, f32x4.sub(e01, e21));
    v128.store(o + 2 * vBytes, f32x4.sub(e02, e22)); v128.store(o + 3 * vBytes, f32x4.sub(e03, e23));
    v128.store(o + 4 * vBytes, f32x4.add(e10, e20)); v128.store(o + 5 * vBytes, f32x4.add(e11, e21));
    v128.store(o + 6 * vBytes, f32x4.add(e12, e22)); v128.store(o + 7 * vBytes, f32x4.add(e13, e23));
    v128.store(o + 8 * vBytes, f32x4.sub(e20, e10)); v128.store(o + 9 * vBytes, f32x4.sub(e21, e11));
    v128.store(o + 10 * vBytes, f32x4.sub(e22, e12)); v128.store(o + 11 * vBytes, f32x4.sub(e23, e13));
    v128.store(o + 12 * vBytes, f32x4.sub(e10, e30)); v128.store(o + 13 * vBytes, f32x4.sub(e11, e31));
    v128.store(o + 14 * vBytes, f32x4.sub(e12, e32)); v128.store(o + 15 * vBytes, f32x4.sub(e13, e33));
    p += inPlane;
  }
}

/**
 * transformInput for 4 tiles anywhere: lane k's patch starts at byte offset pk from x (tile
 * (ty, tx) at 2ty rows and 2tx columns into the padded input). tmp: TMP_BYTES_2.
 */
export function transformInputLanes(x: usize, cin: i32, inPlane: usize, pw: i32, p0: usize, p1: usize, p2: usize, p3: usize, v: usize, vBytes: usize, tmp: usize): void {
  const rowBytes = <usize>pw << 2;
  let q0 = x + p0, q1 = x + p1, q2 = x + p2, q3 = x + p3;
  for (let c = 0; c < cin; c++) {
    // Column transform of each patch row, e_r = d_r B, into tmp[r][j]: lane k's 4 columns, transposed.
    for (let r = 0; r < 4; r++) {
      const o = <usize>r * rowBytes, e = tmp + (<usize>r << 6);
      const t0 = v128.load(q0 + o), t1 = v128.load(q1 + o), t2 = v128.load(q2 + o), t3 = v128.load(q3 + o);
      const a0 = f32x4.shuffle(t0, t1, 0, 4, 1, 5), a1 = f32x4.shuffle(t0, t1, 2, 6, 3, 7);
      const a2 = f32x4.shuffle(t2, t3, 0, 4, 1, 5), a3 = f32x4.shuffle(t2, t3, 2, 6, 3, 7);
      const c0 = f32x4.shuffle(a0, a2, 0, 1, 4, 5), c1 = f32x4.shuffle(a0, a2, 2, 3, 6, 7);
      const c2 = f32x4.shuffle(a1, a3, 0, 1, 4, 5), c3 = f32x4.shuffle(a1, a3, 2, 3, 6, 7);
      v128.store(e, f32x4.sub(c0, c2)); v128.store(e, f32x4.add(c1, c2), 16);
      v128.store(e, f32x4.sub(c2, c1), 32); v128.store(e, f32x4.sub(c1, c3), 48);
    }
    // Row transform: V = B^T e; V_(i, j) goes to xi = 4i + j (as transformInput).
    const o = v + (<usize>c << 5);
    for (let j = 0; j < 4; j++) {
      const e = tmp + (<usize>j << 4), w = o + <usize>j * vBytes;
      const e0 = v128.load(e), e1 = v128.load(e, 64), e2 = v128.load(e, 128), e3 = v128.load(e, 192);
      v128.store(w, f32x4.sub(e0, e2)); v128.store(w + 4 * vBytes, f32x4.add(e1, e2));
      v128.store(w + 8 * vBytes, f32x4.sub(e2, e1)); v128.store(w + 12 * vBytes, f32x4.sub(e1, e3));
    }
    q0 += inPlane; q1 += inPlane; q2 += inPlane; q3 += inPlane;
  }
}

/**
 * A^T M A (+ bias, ReLU) for one output channel and 4 tiles of one tile row: m holds M_xi
 * for the 4 tiles at m + xi * 128 (the GEMM results' row for this channel, this group's
 * half). Writes output rows y0, y0+1 at columns x0..x0+7, clipped to the oh x ow image
 * (tmp: 32 bytes for a clipped row).
 */
export function transformOutput(m: usize, plane: usize, y0: i32, x0: i32, oh: i32, ow: i32, bias: f32, relu: bool, tmp: usize): void {
  outputLanes(true, m, plane, y0, x0, 0, 0, 0, 0, 0, 0, 4, oh, ow, bias, relu, tmp);
}

/**
 * transformOutput for 4 tiles anywhere: lane k's tile has its top-left output pixel at
 * (yk, xk); only the first `lanes` lanes are written.
 */
export function transformOutputLanes(
  m: usize, plane: usize, y0: i32, x0: i32, y1: i32, x1: i32, y2: i32, x2: i32, y3: i32, x3: i32, lanes: i32,
  oh: i32, ow: i32, bias: f32, relu: bool,
): void {
  outputLanes(false, m, plane, y0, x0, y1, x1, y2, x2, y3, x3, lanes, oh, ow, bias, relu, 0);
}

/** The output transform; `inRow`: the 4 tiles are consecutive in one tile row, starting at (y0, x0). */
// @ts-ignore: decorator
@inline function outputLanes(
  inRow: bool, m: usize, plane: usize, y0: i32, x0: i32, y1: i32, x1: i32, y2: i32, x2: i32, y3: i32, x3: i32, lanes: i32,
  oh: i32, ow: i32, bias: f32, relu: bool, tmp: usize,
): void {
  const s = M_XI_BYTES; // bytes between consecutive xi
  const m0 = v128.load(m), m1 = v128.load(m, s), m2 = v128.load(m, 2 * s), m3 = v128.load(m, 3 * s);
  const m4 = v128.load(m, 4 * s), m5 = v128.load(m, 5 * s), m6 = v128.load(m, 6 * s), m7 = v128.load(m, 7 * s);
  const m8 = v128.load(m, 8 * s), m9 = v128.load(m, 9 * s), m10 = v128.load(m, 10 * s), m11 = v128.load(m, 11 * s);
  const m12 = v128.load(m, 12 * s), m13 = v128.load(m, 13 * s), m14 = v128.load(m, 14 * s), m15 = v128.load(m, 15 * s);
  // Rows: t0 = M0 + M1 + M2, t1 = M1 - M2 - M3 (M_i = row i of the 4x4).
  const a0 = f32x4.add(f32x4.add(m0, m4), m8), a1 = f32x4.add(f32x4.add(m1, m5), m9);
  const a2 = f32x4.add(f32x4.add(m2, m6), m10), a3 = f32x4.add(f32x4.add(m3, m7), m11);
  const b0 = f32x4.sub(f32x4.sub(m4, m8), m12), b1 = f32x4.sub(f32x4.sub(m5, m9), m13);
  const b2 = f32x4.sub(f32x4.sub(m6, m10), m14), b3 = f32x4.sub(f32x4.sub(m7, m11), m15);
  const bv = f32x4.splat(bias);
  let y00 = f32x4.add(f32x4.add(f32x4.add(a0, a1), a2), bv), y01 = f32x4.add(f32x4.sub(f32x4.sub(a1, a2), a3), bv);
  let y10 = f32x4.add(f32x4.add(f32x4.add(b0, b1), b2), bv), y11 = f32x4.add(f32x4.sub(f32x4.sub(b1, b2), b3), bv);
  if (relu) {
    const z = f32x4.splat(0);
    // pmax(y, 0) is `y < 0 ? 0 : y`, the ReLU of every other kernel (f32x4.max would turn -0 into +0).
    y00 = f32x4.pmax(y00, z); y01 = f32x4.pmax(y01, z); y10 = f32x4.pmax(y10, z); y11 = f32x4.pmax(y11, z);
  }
  // Tile k's two columns of output row 0 are (y00[k], y01[k]): lanes 2k, 2k+1 of these, tiles 0, 1 in lo and 2, 3 in hi.
  const lo0 = f32x4.shuffle(y00, y01, 0, 4, 1, 5), hi0 = f32x4.shuffle(y00, y01, 2, 6, 3, 7);
  const lo1 = f32x4.shuffle(y10, y11, 0, 4, 1, 5), hi1 = f32x4.shuffle(y10, y11, 2, 6, 3, 7);
  if (inRow) {
    storeRow(plane, y0, x0, oh, ow, lo0, hi0, tmp);
    storeRow(plane, y0 + 1, x0, oh, ow, lo1, hi1, tmp);
    return;
  }
  storeTile(plane, y0, x0, oh, ow, lo0, lo1, false);
  if (lanes > 1) storeTile(plane, y1, x1, oh, ow, lo0, lo1, true);
  if (lanes > 2) storeTile(plane, y2, x2, oh, ow, hi0, hi1, false);
  if (lanes > 3) storeTile(plane, y3, x3, oh, ow, hi0, hi1, true);
}

/** Stores a 2x2 tile at (y, x), keeping what lies inside oh x ow: its rows are 64-bit lane 0 (1 if `second`) of r0 and r1. */
// @ts-ignore: decorator
@inline function storeTile(plane: usize, y: i32, x: i32, oh: i32, ow: i32, r0: v128, r1: v128, second: bool): void {
  if (y >= oh || x >= ow) return;
  const p = plane + ((<usize>y * ow + x) << 2), next = p + (<usize>ow << 2);
  const below = y + 1 < oh;
  if (x + 2 <= ow) {
    if (second) { v128.store64_lane(p, r0, 1); if (below) v128.store64_lane(next, r1, 1); }
    else { v128.store64_lane(p, r0, 0); if (below) v128.store64_lane(next, r1, 0); }
  } else if (second) { v128.store32_lane(p, r0, 2); if (below) v128.store32_lane(next, r1, 2); }
  else { v128.store32_lane(p, r0, 0); if (below) v128.store32_lane(next, r1, 0); }
}

/** Stores 8 values at row y, columns x0..x0+7, keeping those inside oh x ow. */
// @ts-ignore: decorator
@inline function storeRow(plane: usize, y: i32, x0: i32, oh: i32, ow: i32, lo: v128, hi: v128, tmp: usize): void {
  if (y >= oh || x0 >= ow) return;
  const p = plane + ((<usize>y * ow + x0) << 2);
  const dst = x0 + 8 <= ow ? p : tmp;
  v128.store(dst, lo);
  v128.store(dst, hi, 16);
  if (dst == tmp) memory.copy(p, tmp, <usize>(ow - x0) << 2);
}
