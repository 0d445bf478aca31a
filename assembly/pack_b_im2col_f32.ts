import {
  CONV_CIN, CONV_DH, CONV_DW, CONV_FLAGS, CONV_FLAG_PRE_RELU, CONV_H, CONV_IN_OFF, CONV_KH, CONV_KW,
  CONV_OW, CONV_PH, CONV_PRE_SCALE, CONV_PRE_SHIFT, CONV_PW, CONV_SH, CONV_SW, CONV_W,
} from "../src/kernels/layout";
import { field, ptr } from "./desc";
import { preact, preact4 } from "./preact";

/**
 * Packs one im2col panel of a general convolution: rows [k0, k0+kc) of the implicit
 * im2col matrix (k = (c*KH + ky)*KW + kx, matching the weight layout) and output pixels
 * [n0, n0+nr), into p as [kc][8] f32. Padding reads as 0, columns nr..7 are 0. The optional
 * per-channel pre-activation applies to in-bounds values only (padding stays 0).
 * cols: 64 bytes of scratch for the panel's per-column input origins.
 */
export function pack_b_im2col_f32(d: usize, base: usize, k0: i32, kc: i32, n0: i32, nr: i32, p: usize, cols: usize): void {
  const h = field(d, CONV_H), w = field(d, CONV_W), kh = field(d, CONV_KH), kw = field(d, CONV_KW);
  const sh = field(d, CONV_SH), sw = field(d, CONV_SW), ph = field(d, CONV_PH), pw = field(d, CONV_PW);
  const dh = field(d, CONV_DH), dw = field(d, CONV_DW), ow = field(d, CONV_OW);
  const x = base + ptr(d, CONV_IN_OFF);
  const scale = ptr(d, CONV_PRE_SCALE), shift = ptr(d, CONV_PRE_SHIFT);
  const relu = (field(d, CONV_FLAGS) & CONV_FLAG_PRE_RELU) != 0;
  const plane = <usize>h * w;
  const oy0 = n0 / ow, ox0 = n0 % ow;
  const taps = kh * kw;
  let c = k0 / taps, r = k0 % taps;
  let ky = r / kw, kx = r % kw;
  const pre = scale != 0;
  if (nr == 8 && (sw == 1 || sw == 2) && ox0 + 8 <= ow) {
    // All eight columns in one output row: each (channel, ky) reads one input row, its taps
    // every (stride 1) or every other (stride 2) input pixel from ix: vector loads (and an
    // even-lane shuffle for stride 2) where all eight are in the row, else one by one.
    const span = sw == 1 ? 8 : 16; // input pixels the eight columns cover
    const iy0 = oy0 * sh - ph, ix0 = ox0 * sw - pw;
    for (let k = 0; k < kc;) {
      const run = min(kw - kx, kc - k); // taps of this (channel, ky) row
      let s: f32 = 1, t: f32 = 0;
      if (pre) { s = load<f32>(scale + (<usize>c << 2)); t = load<f32>(shift + (<usize>c << 2)); }
      const sv = f32x4.splat(s), tv = f32x4.splat(t);
      const iy = iy0 + ky * dh, inRow = <u32>iy < <u32>h;
      const row = x + ((<usize>c * plane + (inRow ? <usize>iy : 0) * <usize>w) << 2);
      for (let j = 0; j < run; j++) {
        const ix = ix0 + (kx + j) * dw;
        if (inRow && ix >= 0 && ix + span <= w) {
          const src = row + (<usize>ix << 2);
          let v0 = v128.load(src), v1 = v128.load(src, 16);
          if (sw == 2) {
            const v2 = v128.load(src, 32), v3 = v128.load(src, 48);
            v0 = f32x4.shuffle(v0, v1, 0, 2, 4, 6);
            v1 = f32x4.shuffle(v2, v3, 0, 2, 4, 6);
          }
          v128.store(p, preact4(v0, sv, tv, pre, relu)); v128.store(p, preact4(v1, sv, tv, pre, relu), 16);
        } else {
          for (let q = 0; q < 8; q++) {
            const xx = ix + q * sw;
            let v: f32 = 0; // padding
            if (inRow && <u32>xx < <u32>w) v = preact(load<f32>(row + (<usize>xx << 2)), s, t, pre, relu);
            store<f32>(p + (<usize>q << 2), v);
          }
        }
        p += 32;
      }
      k += run; kx = 0;
      if (++ky == kh) { ky = 0; c++; }
    }
    return;
  }
  for (let j = 0; j < 8; j++) {
    const n = n0 + j;
    store<i32>(cols + (<usize>j << 3), j < nr ? (n / ow) * sh - ph : -0x40000000);
    store<i32>(cols + (<usize>j << 3) + 4, (n % ow) * sw - pw);
  }
  for (let k = 0; k < kc; k++) {
    const chan = x + ((<usize>c * plane) << 2);
    let s: f32 = 1, t: f32 = 0;
    if (pre) { s = load<f32>(scale + (<usize>c << 2)); t = load<f32>(shift + (<usize>c << 2)); }
    const dy = ky * dh, dx = kx * dw;
    for (let j = 0; j < 8; j++) {
      const yy = load<i32>(cols + (<usize>j << 3)) + dy, xx = load<i32>(cols + (<usize>j << 3) + 4) + dx;
      let v: f32 = 0; // padding, and columns past nr
      if (<u32>yy < <u32>h && <u32>xx < <u32>w) v = preact(load<f32>(chan + ((<usize>yy * w + xx) << 2)), s, t, pre, relu);
      store<f32>(p + (<usize>j << 2), v);
    }
    p += 32;
    if (++kx == kw) { kx = 0; if (++ky == kh) { ky = 0; c++; } }
  }
}
