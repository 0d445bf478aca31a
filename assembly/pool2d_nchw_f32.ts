import {
  POOL_C, POOL_DH, POOL_DW, POOL_FLAGS, POOL_FLAG_COUNT_PAD, POOL_FLAG_PRE_RELU, POOL_H, POOL_IN_OFF, POOL_KH,
  POOL_KW, POOL_MODE, POOL_MODE_MAX, POOL_OH, POOL_OUT_OFF, POOL_OW, POOL_PH, POOL_PH_END, POOL_PRE_SCALE,
  POOL_PRE_SHIFT, POOL_PW, POOL_PW_END, POOL_SH, POOL_SW, POOL_W,
} from "../src/kernels/layout";
import { chunkCount, chunkStart, field, firstChunk, nextChunk, ptr } from "./desc";
import { avgpool2x2s2_plane, maxpool3x3s2p1_plane } from "./pool2d_fast_nchw_f32";
import { preact } from "./preact";

/**
 * Max or average pooling of one image (C, H, W) -> (C, OH, OW), with an optional
 * per-channel pre-activation (x*scale + shift, then ReLU) on every tap, so that a DenseNet
 * transition's BN-ReLU costs no pass of its own. Padding taps are skipped; an average
 * divides by the taps inside the image, or (POOL_FLAG_COUNT_PAD) inside the padded image.
 * Worker ith of nth takes chunks of channels (its share, or claimed: see desc.ts). DenseNet's
 * two pools (2x2/2 average, 3x3/2 pad-1 max) take SIMD paths.
 */
export function pool2d_nchw_f32(d: usize, base: usize, scratch: usize, ith: i32, nth: i32, claim: usize): void {
  const ch = field(d, POOL_C), h = field(d, POOL_H), w = field(d, POOL_W);
  const oh = field(d, POOL_OH), ow = field(d, POOL_OW), kh = field(d, POOL_KH), kw = field(d, POOL_KW);
  const sh = field(d, POOL_SH), sw = field(d, POOL_SW), ph = field(d, POOL_PH), pw = field(d, POOL_PW);
  const hEnd = h + field(d, POOL_PH_END), wEnd = w + field(d, POOL_PW_END);
  const dh = field(d, POOL_DH), dw = field(d, POOL_DW);
  const isMax = field(d, POOL_MODE) == POOL_MODE_MAX, flags = field(d, POOL_FLAGS);
  const countPad = (flags & POOL_FLAG_COUNT_PAD) != 0, relu = (flags & POOL_FLAG_PRE_RELU) != 0;
  const scale = ptr(d, POOL_PRE_SCALE), shift = ptr(d, POOL_PRE_SHIFT);
  const inPlane = <usize>h * w << 2, outPlane = <usize>oh * ow << 2;
  const unit = dh == 1 && dw == 1 && sh == 2 && sw == 2;
  const avg2x2 = unit && !isMax && kh == 2 && kw == 2 && ph == 0 && pw == 0 && oh * 2 <= h && ow * 2 <= w;
  const max3x3 = unit && isMax && kh == 3 && kw == 3 && ph == 1 && pw == 1 && oh == (h - 1) / 2 + 1 && ow == (w - 1) / 2 + 1;
  const count = chunkCount(ch, nth, claim);
  for (let chunk = firstChunk(claim, ith, nth, count); chunk < count; chunk = nextChunk(claim, ith, nth, count, chunk)) {
    const c0 = chunkStart(ch, 1, chunk, count, claim), c1 = chunkStart(ch, 1, chunk + 1, count, claim);
    let src = base + ptr(d, POOL_IN_OFF) + <usize>c0 * inPlane;
    let dst = base + ptr(d, POOL_OUT_OFF) + <usize>c0 * outPlane;
    for (let c = c0; c < c1; c++) {
      let s: f32 = 1, t: f32 = 0;
      if (scale != 0) { s = load<f32>(scale + (<usize>c << 2)); t = load<f32>(shift + (<usize>c << 2)); }
      if (avg2x2 || max3x3) {
        if (avg2x2) avgpool2x2s2_plane(src, dst, w, oh, ow, s, t, scale != 0, relu);
        else maxpool3x3s2p1_plane(src, dst, h, w, oh, ow, s, t, scale != 0, relu);
        src += inPlane;
        dst += outPlane;
        continue;
      }
      for (let oy = 0; oy < oh; oy++) {
        const iy0 = oy * sh - ph;
        for (let ox = 0; ox < ow; ox++) {
          const ix0 = ox * sw - pw;
          let acc: f32 = isMax ? -Infinity : 0;
          let inside = 0, padded = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = iy0 + ky * dh;
            if (iy >= hEnd) break;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ix0 + kx * dw;
              if (ix >= wEnd) break;
              padded++;
              if (<u32>iy >= <u32>h || <u32>ix >= <u32>w) continue;
              const v = preact(load<f32>(src + ((<usize>iy * w + ix) << 2)), s, t, scale != 0, relu);
              acc = isMax ? max(acc, v) : acc + v;
              inside++;
            }
          }
          if (!isMax) acc /= <f32>(countPad ? padded : inside);
          store<f32>(dst, acc);
          dst += 4;
        }
      }
      src += inPlane;
    }
  }
}
