import { CONV_FLAGS, CONV_FLAG_PRE_RELU, CONV_H, CONV_IN_OFF, CONV_PRE_SCALE, CONV_PRE_SHIFT, CONV_W } from "../src/kernels/layout";
import { field, ptr } from "./desc";
import { preact, preact4 } from "./preact";

/**
 * Packs the B panel of a 1x1/stride-1 convolution: rows [k0, k0+kc) (input channels) and
 * columns [n0, n0+nr) (pixels) of X (Cin, H*W) into p as [kc][8] f32, zero-filling columns
 * nr..7. The layer's pre-activation (x*scale[c] + shift[c], then ReLU) is applied on the way.
 */
export function pack_b_1x1_f32(d: usize, base: usize, k0: i32, kc: i32, n0: i32, nr: i32, p: usize): void {
  if (nr == 8) {
    pack_b_1x1_panels_f32(d, base, k0, kc, n0, 1, p, 0);
    return;
  }
  const n = field(d, CONV_H) * field(d, CONV_W);
  const rowBytes = <usize>n << 2;
  let src = base + ptr(d, CONV_IN_OFF) + ((<usize>k0 * n + n0) << 2);
  const scale = ptr(d, CONV_PRE_SCALE), shift = ptr(d, CONV_PRE_SHIFT);
  const relu = (field(d, CONV_FLAGS) & CONV_FLAG_PRE_RELU) != 0;
  for (let k = 0; k < kc; k++) {
    let s: f32 = 1, t: f32 = 0;
    if (scale != 0) { s = load<f32>(scale + (<usize>(k0 + k) << 2)); t = load<f32>(shift + (<usize>(k0 + k) << 2)); }
    for (let j = 0; j < 8; j++) {
      let v: f32 = 0; // columns past nr
      if (j < nr) v = preact(load<f32>(src + (<usize>j << 2)), s, t, scale != 0, relu);
      store<f32>(p + (<usize>j << 2), v);
    }
    src += rowBytes; p += 32;
  }
}

/**
 * pack_b_1x1_f32 of `count` whole consecutive panels (nr = 8) at once, K rows [k0, k0 + kc), the
 * panel of pixels n0 + 8q at p + q * stride: each input channel's 8 * count pixels read in one
 * pass (one sequential run per row instead of count scattered ones).
 */
export function pack_b_1x1_panels_f32(d: usize, base: usize, k0: i32, kc: i32, n0: i32, count: i32, p: usize, stride: usize): void {
  const n = field(d, CONV_H) * field(d, CONV_W);
  const rowBytes = <usize>n << 2;
  let src = base + ptr(d, CONV_IN_OFF) + ((<usize>k0 * n + n0) << 2);
  const scale = ptr(d, CONV_PRE_SCALE), shift = ptr(d, CONV_PRE_SHIFT);
  const relu = (field(d, CONV_FLAGS) & CONV_FLAG_PRE_RELU) != 0, pre = scale != 0;
  for (let k = 0; k < kc; k++) {
    let s = f32x4.splat(1), t = f32x4.splat(0);
    if (pre) { s = v128.load32_splat(scale + (<usize>(k0 + k) << 2)); t = v128.load32_splat(shift + (<usize>(k0 + k) << 2)); }
    let q = p + (<usize>k << 5), from = src;
    for (let j = 0; j < count; j++) {
      v128.store(q, preact4(v128.load(from), s, t, pre, relu));
      v128.store(q, preact4(v128.load(from, 16), s, t, pre, relu), 16);
      q += stride; from += 32;
    }
    src += rowBytes;
  }
}
