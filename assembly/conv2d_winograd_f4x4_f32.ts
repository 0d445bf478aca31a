import { GEMM_NR, WINO4_XI, WINO_TILE_GROUP } from "../src/kernels/layout";
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
// what the error bound of the kernel tests assumes. Tiles are numbered row by row, each tile
// row padded to a multiple of 4 tiles, so every group of 4 tiles lies in one row: the input
// transform is vectorised across the 4 tiles with no bounds checks (the input was zero-padded
// by pad2d_nchw_f32 to plan/winograd.ts's winogradInputSize). The kernel itself, shared with
// F(2x2), is conv2d_winograd.ts; this file has F(4x4)'s tiles and transforms.

const XI = WINO4_XI; // 36 transformed positions
/** The transforms' 6x6 (or 4x6) intermediate vectors, in the scratch after the zero vector. */
export const TMP_BYTES = 36 * 16;
const ROW_BYTES = 64; // one clipped output row of 4 tiles

/** Tiles per tile row for an output width: ceil(ow / 4) rounded up to a multiple of WINO_TILE_GROUP (plan/winograd.ts: winogradTilesW). */
// @ts-ignore: decorator
@inline export function winograd4TilesW(ow: i32): i32 {
  return ((((ow + 3) >> 2) + WINO_TILE_GROUP - 1) / WINO_TILE_GROUP) * WINO_TILE_GROUP;
}

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
  const rowBytes = <usize>pw << 2;
  let p = x + <usize>(4 * ty) * rowBytes + (<usize>(4 * tx) << 2);
  for (let c = 0; c < cin; c++) {
    // Column transform of each patch row: e_r = (B^T d_r^T)^T, four tiles per vector, into tmp[r][j].
    for (let r = 0; r < 6; r++) {
      const q = p + <usize>r * rowBytes;
      const v0 = v128.load(q), v1 = v128.load(q, 16), v2 = v128.load(q, 32), v3 = v128.load(q, 48), v4 = v128.load(q, 64);
      // Tile k's column j is float 4k + j of the row: a 4x4 transpose of v0..v3, then two shifts in v4.
      const a0 = f32x4.shuffle(v0, v1, 0, 4, 1, 5), a1 = f32x4.shuffle(v0, v1, 2, 6, 3, 7);
      const a2 = f32x4.shuffle(v2, v3, 0, 4, 1, 5), a3 = f32x4.shuffle(v2, v3, 2, 6, 3, 7);
      const c0 = f32x4.shuffle(a0, a2, 0, 1, 4, 5), c1 = f32x4.shuffle(a0, a2, 2, 3, 6, 7);
      const c2 = f32x4.shuffle(a1, a3, 0, 1, 4, 5), c3 = f32x4.shuffle(a1, a3, 2, 3, 6, 7);
      const c4 = f32x4.shuffle(c0, v4, 1, 2, 3, 4), c5 = f32x4.shuffle(c1, v4, 1, 2, 3, 5);
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
    p += inPlane;
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
    const y = y0 + p;
    if (y >= oh) break;
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
    storeRow(
      plane, y, x0, ow,
      f32x4.shuffle(a0, a2, 0, 1, 4, 5), f32x4.shuffle(a0, a2, 2, 3, 6, 7),
      f32x4.shuffle(a1, a3, 0, 1, 4, 5), f32x4.shuffle(a1, a3, 2, 3, 6, 7), row,
    );
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
