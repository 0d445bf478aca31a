import { CONV_FLAGS, CONV_FLAG_PRE_RELU, CONV_H, CONV_IN_OFF, CONV_PRE_SCALE, CONV_PRE_SHIFT, CONV_W } from "../src/kernels/layout";
import { field, ptr } from "./desc";

/**
 * Packs the B panel of a 1x1/stride-1 convolution: rows [k0, k0+kc) (input channels) and
 * columns [n0, n0+nr) (pixels) of X (Cin, H*W) into p as [kc][8] f32, zero-filling columns
 * nr..7. The layer's pre-activation (x*scale[c] + shift[c], then ReLU) is applied on the way.
 */
export function pack_b_1x1_f32(d: usize, base: usize, k0: i32, kc: i32, n0: i32, nr: i32, p: usize): void {
  const n = field(d, CONV_H) * field(d, CONV_W);
  const rowBytes = <usize>n << 2;
  let src = base + ptr(d, CONV_IN_OFF) + ((<usize>k0 * n + n0) << 2);
  let scale = ptr(d, CONV_PRE_SCALE), shift = ptr(d, CONV_PRE_SHIFT);
  const relu = (field(d, CONV_FLAGS) & CONV_FLAG_PRE_RELU) != 0;
  if (nr == 8) {
    if (scale == 0) {
      for (let k = 0; k < kc; k++) {
        v128.store(p, v128.load(src)); v128.store(p, v128.load(src, 16), 16);
        src += rowBytes; p += 32;
      }
      return;
    }
    scale += <usize>k0 << 2; shift += <usize>k0 << 2;
    const z = f32x4.splat(0);
    for (let k = 0; k < kc; k++) {
      const s = v128.load32_splat(scale), t = v128.load32_splat(shift);
      let v0 = f32x4.add(f32x4.mul(v128.load(src), s), t);
      let v1 = f32x4.add(f32x4.mul(v128.load(src, 16), s), t);
      if (relu) { v0 = f32x4.pmax(v0, z); v1 = f32x4.pmax(v1, z); }
      v128.store(p, v0); v128.store(p, v1, 16);
      src += rowBytes; p += 32; scale += 4; shift += 4;
    }
    return;
  }
  for (let k = 0; k < kc; k++) {
    let s: f32 = 1, t: f32 = 0;
    if (scale != 0) { s = load<f32>(scale + (<usize>(k0 + k) << 2)); t = load<f32>(shift + (<usize>(k0 + k) << 2)); }
    for (let j = 0; j < 8; j++) {
      let v: f32 = 0;
      if (j < nr) {
        v = load<f32>(src + (<usize>j << 2));
        if (scale != 0) v = v * s + t;
        if (relu && v < 0) v = 0;
      }
      store<f32>(p + (<usize>j << 2), v);
    }
    src += rowBytes; p += 32;
  }
}
