import {
  GPOOL_C, GPOOL_FLAGS, GPOOL_HW, GPOOL_IN_OFF, GPOOL_MODE, GPOOL_OUT_OFF, GPOOL_PRE_SCALE, GPOOL_PRE_SHIFT,
  POOL_FLAG_PRE_RELU, POOL_MODE_MAX,
} from "../src/kernels/layout";
import { chunkCount, chunkStart, field, firstChunk, nextChunk, ptr } from "./desc";
import { preact } from "./preact";

/**
 * Global average or max pooling (C, HW) -> (C) of one image, with the optional per-channel
 * pre-activation (DenseNet's final BN-ReLU). Worker ith of nth takes chunks of channels (its
 * share, or claimed: see desc.ts).
 */
export function global_pool_f32(d: usize, base: usize, scratch: usize, ith: i32, nth: i32, claim: usize): void {
  const ch = field(d, GPOOL_C), hw = field(d, GPOOL_HW);
  const isMax = field(d, GPOOL_MODE) == POOL_MODE_MAX;
  const relu = (field(d, GPOOL_FLAGS) & POOL_FLAG_PRE_RELU) != 0;
  const scale = ptr(d, GPOOL_PRE_SCALE), shift = ptr(d, GPOOL_PRE_SHIFT);
  const dst = base + ptr(d, GPOOL_OUT_OFF);
  const count = chunkCount(ch, nth, claim);
  for (let chunk = firstChunk(claim, ith, nth, count); chunk < count; chunk = nextChunk(claim, ith, nth, count, chunk)) {
    const c0 = chunkStart(ch, 1, chunk, count, claim), c1 = chunkStart(ch, 1, chunk + 1, count, claim);
    let src = base + ptr(d, GPOOL_IN_OFF) + ((<usize>c0 * hw) << 2);
    for (let c = c0; c < c1; c++) {
      let s: f32 = 1, t: f32 = 0;
      if (scale != 0) { s = load<f32>(scale + (<usize>c << 2)); t = load<f32>(shift + (<usize>c << 2)); }
      let acc: f32 = isMax ? -Infinity : 0;
      for (let i = 0; i < hw; i++) {
        const v = preact(load<f32>(src + (<usize>i << 2)), s, t, scale != 0, relu);
        acc = isMax ? max(acc, v) : acc + v;
      }
      store<f32>(dst + (<usize>c << 2), isMax ? acc : acc / <f32>hw);
      src += <usize>hw << 2;
    }
  }
}
