import {
  PAD_C, PAD_FLAGS, PAD_H, PAD_IN_OFF, PAD_LEFT, PAD_OH, PAD_OUT_OFF, PAD_OW, PAD_PRE_SCALE, PAD_PRE_SHIFT, PAD_TOP,
  PAD_W, POOL_FLAG_PRE_RELU,
} from "../src/kernels/layout";
import { chunkCount, chunkStart, field, firstChunk, nextChunk, ptr } from "./desc";
import { preact, preact4 } from "./preact";

/**
 * Zero-padded copy of one image (C, H, W) into (C, OH, OW) at (top, left), applying the
 * optional per-channel pre-activation (x*scale + shift, then ReLU) to the copied values
 * only, so padding stays 0. Worker ith of nth takes chunks of channels (its share, or claimed:
 * see desc.ts).
 */
export function pad2d_nchw_f32(d: usize, base: usize, scratch: usize, ith: i32, nth: i32, claim: usize): void {
  const ch = field(d, PAD_C), h = field(d, PAD_H), w = field(d, PAD_W);
  const oh = field(d, PAD_OH), ow = field(d, PAD_OW), top = field(d, PAD_TOP), left = field(d, PAD_LEFT);
  const scale = ptr(d, PAD_PRE_SCALE), shift = ptr(d, PAD_PRE_SHIFT);
  const relu = (field(d, PAD_FLAGS) & POOL_FLAG_PRE_RELU) != 0;
  const inRow = <usize>w << 2, outRow = <usize>ow << 2;
  const pre = scale != 0;
  const count = chunkCount(ch, nth, claim);
  for (let chunk = firstChunk(claim, ith, nth, count); chunk < count; chunk = nextChunk(claim, ith, nth, count, chunk)) {
    const c0 = chunkStart(ch, 1, chunk, count, claim), c1 = chunkStart(ch, 1, chunk + 1, count, claim);
    for (let c = c0; c < c1; c++) {
      let s: f32 = 1, t: f32 = 0;
      if (scale != 0) { s = load<f32>(scale + (<usize>c << 2)); t = load<f32>(shift + (<usize>c << 2)); }
      const sv = f32x4.splat(s), tv = f32x4.splat(t), z = f32x4.splat(0);
      const src = base + ptr(d, PAD_IN_OFF) + <usize>c * h * inRow;
      const dst = base + ptr(d, PAD_OUT_OFF) + <usize>c * oh * outRow;
      const right = ow - left - w, bottom = oh - top - h;
      memory.fill(dst, 0, <usize>top * outRow);
      for (let y = 0; y < h; y++) {
        const from = src + <usize>y * inRow, row = dst + <usize>(top + y) * outRow;
        // The row's zero margins by vector stores where they are at most 4 floats (a Winograd
        // input's are 1 and 1-5): the left one before the copy overwrites its image part; the
        // right one may run into the next row of this plane, which is written after it.
        if (left <= 4 && left + w >= 4) v128.store(row, z);
        else memory.fill(row, 0, <usize>left << 2);
        const to = row + (<usize>left << 2);
        let x = 0;
        for (; x + 4 <= w; x += 4) {
          v128.store(to + (<usize>x << 2), preact4(v128.load(from + (<usize>x << 2)), sv, tv, pre, relu));
        }
        for (; x < w; x++) {
          store<f32>(to + (<usize>x << 2), preact(load<f32>(from + (<usize>x << 2)), s, t, pre, relu));
        }
        if (right <= 4 && ow >= 4 && (y + 1 < h || bottom > 0)) v128.store(to + inRow, z);
        else memory.fill(to + inRow, 0, <usize>right << 2);
      }
      memory.fill(dst + <usize>(top + h) * outRow, 0, <usize>bottom * outRow);
    }
  }
}
