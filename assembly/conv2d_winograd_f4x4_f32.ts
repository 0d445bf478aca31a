import { GEMM_NR, WINO4_XI } from "../src/kernels/layout";
import { CHUNK, M_XI_BYTES, PANEL_SKEW } from "./winograd_gemms";

// Winograd F(4x4, 3x3) (Lavin & Gray; interpolation points 0, 1, -1, 2, -2, inf): each 4x4
// output tile comes from a 6x6 input patch d as Y = A^T [ (G g G^T) (.) (B^T d B) ] A, summed
// over input channels: 36 multiply-adds per 16 outputs and channel pair instead of 144 (F(2x2)
// needs 64). The 36 products are 36 GEMMs M_xi[Cout, tiles] = U_xi[Cout, Cin] V_xi[Cin, tiles]
// on the packed 4-row micro-kernels, xi = 6i + j.
//   B^T = [4  0 -5  0  1  0]      A^T = [1  1  1  1  1  0]
//         [0 -4 -4  1  1  0]            [0  1 -1  2 -2  0]
//         [0  4 -4 -1  1  0]            [0  1  1  4  4  0]
//         [0 -2 -1  2  1  0]            [0  1 -1  8 -8  1]
//         [0  2 -1 -2  1  0]
//         [0  4  0 -5  0  1]      (G: plan/winograd_f4x4.ts, applied to the weights at load time)
// Both transforms are written in factored forms whose every intermediate is bounded by the
// absolute-value version of the same matrix product (|B^T| |d| |B|, |A^T| |M| |A|), which is
// what the error bound of the kernel tests assumes. Both transforms are vectorised across a
// group of 4 tiles (conv2d_winograd.ts forms the groups): 4 consecutive tiles of one tile row
// (transformInput, transformOutput), or 4 tiles anywhere (the ...Lanes forms, for the tiles
// that remain at the end of each row). The input was zero-padded by pad2d_nchw_f32 to
// plan/winograd.ts's winogradInputSize, so no load needs a bounds check. The kernel itself,
// shared with F(2x2), is conv2d_winograd.ts; this file has F(4x4)'s transforms.

const XI = WINO4_XI; // 36 transformed positions
/** The transforms' 6x6 (or 4x6) intermediate vectors, in the scratch after the zero vector. */
export const TMP_BYTES = 36 * 16;
const ROW_BYTES = 64; // one clipped output row of 4 tiles


/** Per-worker scratch bytes for F(4x4) Winograd convs with up to maxCin input channels. */
export function conv2d_winograd_f4x4_scratch_bytes(maxCin: i32): i32 {
  return XI * (maxCin * GEMM_NR * 4 + PANEL_SKEW) + CHUNK * XI * M_XI_BYTES + 16 + TMP_BYTES + ROW_BYTES;
}

/**
 * The six outputs of B^T applied to (d0..d5), stored at out + k * stride (k = 0..5):
 *   4d0 - 5d2 + d4, -4d1 - 4d2 + d3 + d4, 4d1 - 4d2 - d3 + d4, -2d1 - d2 + 2d3 + d4,
 *   2d1 - d2 - 2d3 + d4, 4d1 - 5d3 + d5.
 */
// @ts-ignore: decorator
@inline function inputRows(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, out: usize, stride: usize): void {
  const four = f32x4.splat(4);
  const p = f32x4.sub(d4, f32x4.mul(four, d2)), q = f32x4.sub(d3, f32x4.mul(four, d1)); // d4 - 4d2, d3 - 4d1
  const r = f32x4.sub(d4, d2), s = f32x4.sub(d3, d1); // d4 - d2, d3 - d1
  const s2 = f32x4.add(s, s);
  v128.store(out, f32x4.add(f32x4.mul(four, f32x4.sub(d0, d2)), r));
  v128.store(out + stride, f32x4.add(p, q));
  v128.store(out + 2 * stride, f32x4.sub(p, q));
  v128.store(out + 3 * stride, f32x4.add(r, s2));
  v128.store(out + 4 * stride, f32x4.sub(r, s2));
  v128.store(out + 5 * stride, f32x4.sub(f32x4.sub(d5, d3), f32x4.mul(four, s)));
}

/**
 * B^T d B for 4 tiles of one tile row, for every channel: patch rows 4ty..4ty+5 and columns
 * 4tx+4j..4tx+4j+5 (j = 0..3) of the padded input. Writes V_xi for the 4 tiles as one f32x4
 * at v + xi * vBytes + c * 32 (the B panels' [c][8] layout, this group's half). tmp: 576 bytes.
 */
export function transformInput(x: usize, cin: i32, inPlane: usize, pw: i32, ty: i32, tx: i32, v: usize, vBytes: usize, tmp: usize): void {
  const p = x + <usize>(4 * ty) * (<usize>pw << 2) + (<usize>(4 * tx) << 2);
  transformLanes(true, p, 0, 0, 0, cin, inPlane, pw, v, vBytes, tmp);
}

/**
 * transformInput for 4 tiles anywhere: lane k's patch starts at byte offset pk from x (tile
 * (ty, tx) at 4ty rows and 4tx columns into the padded input).
 */
export function transformInputLanes(x: usize, cin: i32, inPlane: usize, pw: i32, p0: usize, p1: usize, p2: usize, p3: usize, v: usize, vBytes: usize, tmp: usize): void {
  transformLanes(false, x + p0, x + p1, x + p2, x + p3, cin, inPlane, pw, v, vBytes, tmp);
}

/** The input transform; `row`: the 4 tiles are consecutive in one tile row, starting at p0. */
// @ts-ignore: decorator
@inline function transformLanes(row: bool, p0: usize, p1: usize, p2: usize, p3: usize, cin: i32, inPlane: usize, pw: i32, v: usize, vBytes: usize, tmp: usize): void {
  const rowBytes = <usize>pw << 2;
  for (let c = 0; c < cin; c++) {
    // Column transform of each patch row: e_r = (B^T d_r^T)^T, four tiles per vector, into tmp[r][j].
    for (let r = 0; r < 6; r++) {
      const o = <usize>r * rowBytes;
      // t_k: lane k's patch columns 0..3; the first two floats of n_k: its columns 4 and 5.
      let t0: v128, t1: v128, t2: v128, t3: v128, n0: v128, n1: v128, n2: v128, n3: v128;
      if (row) {
        // Consecutive tiles: tile k's columns are floats 4k..4k+5 of the row, so n_k = t_(k+1).
        t0 = v128.load(p0 + o); t1 = v128.load(p0 + o, 16); t2 = v128.load(p0 + o, 32); t3 = v128.load(p0 + o, 48);
        n0 = t1; n1 = t2; n2 = t3; n3 = v128.load(p0 + o, 64);
      } else {
        t0 = v128.load(p0 + o); t1 = v128.load(p1 + o); t2 = v128.load(p2 + o); t3 = v128.load(p3 + o);
        n0 = v128.load(p0 + o, 16); n1 = v128.load(p1 + o, 16); n2 = v128.load(p2 + o, 16); n3 = v128.load(p3 + o, 16);
      }
      // c_j: column j of the 4 tiles, a 4x4 transpose of t_0..t_3 for j < 4.
      const a0 = f32x4.shuffle(t0, t1, 0, 4, 1, 5), a1 = f32x4.shuffle(t0, t1, 2, 6, 3, 7);
      const a2 = f32x4.shuffle(t2, t3, 0, 4, 1, 5), a3 = f32x4.shuffle(t2, t3, 2, 6, 3, 7);
      const c0 = f32x4.shuffle(a0, a2, 0, 1, 4, 5), c1 = f32x4.shuffle(a0, a2, 2, 3, 6, 7);
      const c2 = f32x4.shuffle(a1, a3, 0, 1, 4, 5), c3 = f32x4.shuffle(a1, a3, 2, 3, 6, 7);
      let c4: v128, c5: v128;
      if (row) {
        // column 0 and 1 of tiles 1..3 are in c0 and c1 already: two shifts in n_3
        c4 = f32x4.shuffle(c0, n3, 1, 2, 3, 4); c5 = f32x4.shuffle(c1, n3, 1, 2, 3, 5);
      } else {
        const b0 = f32x4.shuffle(n0, n1, 0, 4, 1, 5), b2 = f32x4.shuffle(n2, n3, 0, 4, 1, 5);
        c4 = f32x4.shuffle(b0, b2, 0, 1, 4, 5); c5 = f32x4.shuffle(b0, b2, 2, 3, 6, 7);
      }
      inputRows(c0, c1, c2, c3, c4, c5, tmp + <usize>r * 96, 16);
    }
    // Row transform: V = B^T e; V_(i, j) goes to xi = 6i + j.
    const o = v + (<usize>c << 5);
    for (let j = 0; j < 6; j++) {
      const e = tmp + (<usize>j << 4);
      inputRows(
        v128.load(e), v128.load(e, 96), v128.load(e, 192), v128.load(e, 288), v128.load(e, 384), v128.load(e, 480),
        o + <usize>j * vBytes, 6 * vBytes,
      );
    }
    p0 += inPlane; p1 += inPlane; p2 += inPlane; p3 += inPlane;
  }
}

/**
 * The four outputs of A^T applied to (m0..m5), stored at out + k * stride (k = 0..3):
 *   m0 + m1 + m2 + m3 + m4, m1 - m2 + 2(m3 - m4), m1 + m2 + 4(m3 + m4), m1 - m2 + 8(m3 - m4) + m5.
 */
// @ts-ignore: decorator
@inline function outputRows(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, out: usize, stride: usize): void {
  const s1 = f32x4.add(m1, m2), d1 = f32x4.sub(m1, m2), s2 = f32x4.add(m3, m4), d2 = f32x4.sub(m3, m4);
  v128.store(out, f32x4.add(f32x4.add(m0, s1), s2));
  v128.store(out + stride, f32x4.add(d1, f32x4.add(d2, d2)));
  v128.store(out + 2 * stride, f32x4.add(s1, f32x4.mul(s2, f32x4.splat(4))));
  v128.store(out + 3 * stride, f32x4.add(f32x4.add(d1, f32x4.mul(d2, f32x4.splat(8))), m5));
}

/**
 * A^T M A (+ bias, ReLU) for one output channel and 4 tiles of one tile row: m holds M_xi
 * for the 4 tiles at m + xi * 128 (the GEMM results' row for this channel, this group's
 * half). Writes output rows y0..y0+3 at columns x0..x0+15, clipped to the oh x ow image
 * (tmp: 448 bytes of intermediates; row: 64 bytes for a clipped row).
 */
export function transformOutput(m: usize, plane: usize, y0: i32, x0: i32, oh: i32, ow: i32, bias: f32, relu: bool, tmp: usize, row: usize): void {
  outputLanes(true, m, plane, y0, x0, 0, 0, 0, 0, 0, 0, 4, oh, ow, bias, relu, tmp, row);
}

/**
 * transformOutput for 4 tiles anywhere: lane k's tile has its top-left output pixel at
 * (yk, xk); only the first `lanes` lanes are written.
 */
export function transformOutputLanes(
  m: usize, plane: usize, y0: i32, x0: i32, y1: i32, x1: i32, y2: i32, x2: i32, y3: i32, x3: i32, lanes: i32,
  oh: i32, ow: i32, bias: f32, relu: bool, tmp: usize, row: usize,
): void {
  outputLanes(false, m, plane, y0, x0, y1, x1, y2, x2, y3, x3, lanes, oh, ow, bias, relu, tmp, row);
}

/** The output transform; `inRow`: the 4 tiles are consecutive in one tile row, starting at (y0, x0). */
// @ts-ignore: decorator
@inline function outputLanes(
  inRow: bool, m: usize, plane: usize, y0: i32, x0: i32, y1: i32, x1: i32, y2: i32, x2: i32, y3: i32, x3: i32, lanes: i32,
  oh: i32, ow: i32, bias: f32, relu: bool, tmp: usize, row: usize,
): void {
  // Column pass: t[p][j] = (A^T M)[p][j], into tmp[p][j].
  for (let j = 0; j < 6; j++) {
    const c = m + <usize>j * M_XI_BYTES, s = 6 * M_XI_BYTES;
    outputRows(
      v128.load(c), v128.load(c, s), v128.load(c, 2 * s), v128.load(c, 3 * s), v128.load(c, 4 * s), v128.load(c, 5 * s),
      tmp + (<usize>j << 4), 96,
    );
  }
  const bv = f32x4.splat(bias), z = f32x4.splat(0);
  for (let p = 0; p < 4; p++) {
    if (inRow && y0 + p >= oh) break;
    // Row pass: Y[p][q] = (t A)[p][q] for q = 0..3, into tmp's 64 bytes after t.
    const t = tmp + <usize>p * 96, yq = tmp + 384;
    outputRows(v128.load(t), v128.load(t, 16), v128.load(t, 32), v128.load(t, 48), v128.load(t, 64), v128.load(t, 80), yq, 16);
    let q0 = f32x4.add(v128.load(yq), bv), q1 = f32x4.add(v128.load(yq, 16), bv);
    let q2 = f32x4.add(v128.load(yq, 32), bv), q3 = f32x4.add(v128.load(yq, 48), bv);
    if (relu) {
      // pmax(y, 0) is `y < 0 ? 0 : y`, the ReLU of every other kernel (f32x4.max would turn -0 into +0).
      q0 = f32x4.pmax(q0, z); q1 = f32x4.pmax(q1, z); q2 = f32x4.pmax(q2, z); q3 = f32x4.pmax(q3, z);
    }
    // q_k holds column k of the 4 tiles; transpose so that each vector is one tile's 4 columns.
    const a0 = f32x4.shuffle(q0, q1, 0, 4, 1, 5), a1 = f32x4.shuffle(q0, q1, 2, 6, 3, 7);
    const a2 = f32x4.shuffle(q2, q3, 0, 4, 1, 5), a3 = f32x4.shuffle(q2, q3, 2, 6, 3, 7);
    const r0 = f32x4.shuffle(a0, a2, 0, 1, 4, 5), r1 = f32x4.shuffle(a0, a2, 2, 3, 6, 7);
    const r2 = f32x4.shuffle(a1, a3, 0, 1, 4, 5), r3 = f32x4.shuffle(a1, a3, 2, 3, 6, 7);
    if (inRow) storeRow(plane, y0 + p, x0, ow, r0, r1, r2, r3, row);
    else {
      storeTileRow(plane, y0 + p, x0, oh, ow, r0, row);
      if (lanes > 1) storeTileRow(plane, y1 + p, x1, oh, ow, r1, row);
      if (lanes > 2) storeTileRow(plane, y2 + p, x2, oh, ow, r2, row);
      if (lanes > 3) storeTileRow(plane, y3 + p, x3, oh, ow, r3, row);
    }
  }
}

/** Stores one tile's 4 values at row y, columns x..x+3, keeping those inside oh x ow. */
// @ts-ignore: decorator
@inline function storeTileRow(plane: usize, y: i32, x: i32, oh: i32, ow: i32, r: v128, row: usize): void {
  if (y >= oh || x >= ow) return;
  const p = plane + ((<usize>y * ow + x) << 2);
  if (x + 4 <= ow) v128.store(p, r);
  else {
    v128.store(row, r);
    memory.copy(p, row, <usize>(ow - x) << 2);
  }
}

/** Stores 16 values at row y, columns x0..x0+15, keeping those inside the ow-wide row (y < oh already). */
// @ts-ignore: decorator
@inline function storeRow(plane: usize, y: i32, x0: i32, ow: i32, r0: v128, r1: v128, r2: v128, r3: v128, row: usize): void {
  if (x0 >= ow) return;
  const p = plane + ((<usize>y * ow + x0) << 2);
  const dst = x0 + 16 <= ow ? p : row;
  v128.store(dst, r0);
  v128.store(dst, r1, 16);
  v128.store(dst, r2, 32);
  v128.store(dst, r3, 48);
  if (dst == row) memory.copy(p, row, <usize>(ow - x0) << 2);
}
