import { GEMM_ACCUMULATE, GEMM_RELU } from "./gemm_flags";
import { madd } from "./madd";

/**
 * C[4, 8] (+)= A[4, kc] * B[kc, 8] with f32x4 accumulators (8 of the 16 xmm registers).
 *   a: packed A panel, [kc][4] f32;  b: packed B panel, [kc][8] f32
 *   c: row-major tile, row stride ldc floats
 *   bias: 4 f32, the starting value of each row unless flags has GEMM_ACCUMULATE
 * A's four values per k are broadcast by four load-splats.
 */
export function gemm_f32_4x8(a: usize, b: usize, c: usize, ldc: i32, kc: i32, bias: usize, flags: i32): void {
  gemm4x8(a, b, c, ldc, kc, bias, flags, false);
}

/**
 * gemm_f32_4x8 with A's four values per k read by one v128 load and broadcast by shuffles:
 * 3 memory accesses per k instead of 6. Faster where the engine bounds-checks every wasm
 * memory access explicitly (Deno 2: ~1.25x on DenseNet-121), slower where guard pages make
 * them free (Node). Bitwise the same results.
 */
export function gemm_f32_4x8_shuffle(a: usize, b: usize, c: usize, ldc: i32, kc: i32, bias: usize, flags: i32): void {
  gemm4x8(a, b, c, ldc, kc, bias, flags, true);
}

// @ts-ignore: decorator
@inline function gemm4x8(a: usize, b: usize, c: usize, ldc: i32, kc: i32, bias: usize, flags: i32, shuffle: bool): void {
  const rs = <usize>ldc << 2;
  const c1 = c + rs, c2 = c1 + rs, c3 = c2 + rs;
  let x0: v128, y0: v128, x1: v128, y1: v128, x2: v128, y2: v128, x3: v128, y3: v128;
  if (flags & GEMM_ACCUMULATE) {
    x0 = v128.load(c); y0 = v128.load(c, 16);
    x1 = v128.load(c1); y1 = v128.load(c1, 16);
    x2 = v128.load(c2); y2 = v128.load(c2, 16);
    x3 = v128.load(c3); y3 = v128.load(c3, 16);
  } else {
    x0 = y0 = v128.load32_splat(bias);
    x1 = y1 = v128.load32_splat(bias, 4);
    x2 = y2 = v128.load32_splat(bias, 8);
    x3 = y3 = v128.load32_splat(bias, 12);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let s0: v128, s1: v128, s2: v128, s3: v128;
    if (shuffle) {
      const av = v128.load(a);
      s0 = i32x4.shuffle(av, av, 0, 0, 0, 0); s1 = i32x4.shuffle(av, av, 1, 1, 1, 1);
      s2 = i32x4.shuffle(av, av, 2, 2, 2, 2); s3 = i32x4.shuffle(av, av, 3, 3, 3, 3);
    } else {
      s0 = v128.load32_splat(a); s1 = v128.load32_splat(a, 4);
      s2 = v128.load32_splat(a, 8); s3 = v128.load32_splat(a, 12);
    }
    x0 = madd(s0, b0, x0); y0 = madd(s0, b1, y0);
    x1 = madd(s1, b0, x1); y1 = madd(s1, b1, y1);
    x2 = madd(s2, b0, x2); y2 = madd(s2, b1, y2);
    x3 = madd(s3, b0, x3); y3 = madd(s3, b1, y3);
    a += 16; b += 32;
  }
  if (flags & GEMM_RELU) {
    const z = f32x4.splat(0);
    x0 = f32x4.pmax(x0, z); y0 = f32x4.pmax(y0, z);
    x1 = f32x4.pmax(x1, z); y1 = f32x4.pmax(y1, z);
    x2 = f32x4.pmax(x2, z); y2 = f32x4.pmax(y2, z);
    x3 = f32x4.pmax(x3, z); y3 = f32x4.pmax(y3, z);
  }
  v128.store(c, x0); v128.store(c, y0, 16);
  v128.store(c1, x1); v128.store(c1, y1, 16);
  v128.store(c2, x2); v128.store(c2, y2, 16);
  v128.store(c3, x3); v128.store(c3, y3, 16);
}
