import { GEMM_ACCUMULATE, GEMM_RELU } from "./gemm_flags";
import { madd } from "./madd";

/**
 * C[6, 8] (+)= A[6, kc] * B[kc, 8] with f32x4 accumulators (12 of the 16 xmm registers,
 * leaving two for the B row and one for the broadcast A value).
 *   a: packed A panel, [kc][6] f32;  b: packed B panel, [kc][8] f32
 *   c: row-major tile, row stride ldc floats
 *   bias: 6 f32, the starting value of each row unless flags has GEMM_ACCUMULATE
 */
export function gemm_f32_6x8(a: usize, b: usize, c: usize, ldc: i32, kc: i32, bias: usize, flags: i32): void {
  const rs = <usize>ldc << 2;
  const c1 = c + rs, c2 = c1 + rs, c3 = c2 + rs, c4 = c3 + rs, c5 = c4 + rs;
  let x0: v128, y0: v128, x1: v128, y1: v128, x2: v128, y2: v128;
  let x3: v128, y3: v128, x4: v128, y4: v128, x5: v128, y5: v128;
  if (flags & GEMM_ACCUMULATE) {
    x0 = v128.load(c); y0 = v128.load(c, 16);
    x1 = v128.load(c1); y1 = v128.load(c1, 16);
    x2 = v128.load(c2); y2 = v128.load(c2, 16);
    x3 = v128.load(c3); y3 = v128.load(c3, 16);
    x4 = v128.load(c4); y4 = v128.load(c4, 16);
    x5 = v128.load(c5); y5 = v128.load(c5, 16);
  } else {
    x0 = y0 = v128.load32_splat(bias);
    x1 = y1 = v128.load32_splat(bias, 4);
    x2 = y2 = v128.load32_splat(bias, 8);
    x3 = y3 = v128.load32_splat(bias, 12);
    x4 = y4 = v128.load32_splat(bias, 16);
    x5 = y5 = v128.load32_splat(bias, 20);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let s = v128.load32_splat(a);
    x0 = madd(s, b0, x0); y0 = madd(s, b1, y0);
    s = v128.load32_splat(a, 4);
    x1 = madd(s, b0, x1); y1 = madd(s, b1, y1);
    s = v128.load32_splat(a, 8);
    x2 = madd(s, b0, x2); y2 = madd(s, b1, y2);
    s = v128.load32_splat(a, 12);
    x3 = madd(s, b0, x3); y3 = madd(s, b1, y3);
    s = v128.load32_splat(a, 16);
    x4 = madd(s, b0, x4); y4 = madd(s, b1, y4);
    s = v128.load32_splat(a, 20);
    x5 = madd(s, b0, x5); y5 = madd(s, b1, y5);
    a += 24; b += 32;
  }
  if (flags & GEMM_RELU) {
    const z = f32x4.splat(0);
    x0 = f32x4.pmax(x0, z); y0 = f32x4.pmax(y0, z);
    x1 = f32x4.pmax(x1, z); y1 = f32x4.pmax(y1, z);
    x2 = f32x4.pmax(x2, z); y2 = f32x4.pmax(y2, z);
    x3 = f32x4.pmax(x3, z); y3 = f32x4.pmax(y3, z);
    x4 = f32x4.pmax(x4, z); y4 = f32x4.pmax(y4, z);
    x5 = f32x4.pmax(x5, z); y5 = f32x4.pmax(y5, z);
  }
  v128.store(c, x0); v128.store(c, y0, 16);
  v128.store(c1, x1); v128.store(c1, y1, 16);
  v128.store(c2, x2); v128.store(c2, y2, 16);
  v128.store(c3, x3); v128.store(c3, y3, 16);
  v128.store(c4, x4); v128.store(c4, y4, 16);
  v128.store(c5, x5); v128.store(c5, y5, 16);
}
