// SIMD paths for the two pools every DenseNet runs, on one channel plane. The pre-activation
// (x*s + t, then optional ReLU) is applied to every loaded value, as the general path does.
import { preact as actScalar, preact4 as act } from "./preact";

/** 2x2 stride-2 average, no padding (a transition's pool): (h, w) -> (h/2, w/2), floor. */
export function avgpool2x2s2_plane(src: usize, dst: usize, w: i32, oh: i32, ow: i32, s: f32, t: f32, pre: bool, relu: bool): void {
  const sv = f32x4.splat(s), tv = f32x4.splat(t), quarter = f32x4.splat(0.25);
  const rowBytes = <usize>w << 2;
  for (let oy = 0; oy < oh; oy++) {
    const r0 = src + (<usize>(2 * oy) * rowBytes), r1 = r0 + rowBytes;
    const d = dst + ((<usize>oy * ow) << 2);
    let ox = 0;
    for (; ox + 4 <= ow; ox += 4) {
      const o = <usize>ox << 3;
      const a0 = act(v128.load(r0 + o), sv, tv, pre, relu), a1 = act(v128.load(r0 + o, 16), sv, tv, pre, relu);
      const b0 = act(v128.load(r1 + o), sv, tv, pre, relu), b1 = act(v128.load(r1 + o, 16), sv, tv, pre, relu);
      const top = f32x4.add(f32x4.shuffle(a0, a1, 0, 2, 4, 6), f32x4.shuffle(a0, a1, 1, 3, 5, 7));
      const bottom = f32x4.add(f32x4.shuffle(b0, b1, 0, 2, 4, 6), f32x4.shuffle(b0, b1, 1, 3, 5, 7));
      v128.store(d + (<usize>ox << 2), f32x4.mul(f32x4.add(top, bottom), quarter));
    }
    for (; ox < ow; ox++) {
      const o = <usize>ox << 3;
      const top = actScalar(load<f32>(r0 + o), s, t, pre, relu) + actScalar(load<f32>(r0 + o, 4), s, t, pre, relu);
      const bottom = actScalar(load<f32>(r1 + o), s, t, pre, relu) + actScalar(load<f32>(r1 + o, 4), s, t, pre, relu);
      store<f32>(d + (<usize>ox << 2), (top + bottom) * 0.25);
    }
  }
}

/** Max over input columns 2ox-1..2ox+1 of one row, for the 4 outputs ox..ox+3 (needs ox >= 1, 2ox+7 < w). */
// @ts-ignore: decorator
@inline function rowMax4(row: usize, ox: i32, sv: v128, tv: v128, pre: bool, relu: bool): v128 {
  const p = row + (<usize>(2 * ox - 1) << 2);
  const a = act(v128.load(p), sv, tv, pre, relu), b = act(v128.load(p, 16), sv, tv, pre, relu);
  const c = act(v128.load32_splat(p, 32), sv, tv, pre, relu);
  const even = f32x4.shuffle(a, b, 0, 2, 4, 6);
  const odd = f32x4.shuffle(a, b, 1, 3, 5, 7);
  return f32x4.max(f32x4.max(even, odd), f32x4.shuffle(even, c, 1, 2, 3, 4));
}

/**
 * 3x3 stride-2 max with 1 padding (the DenseNet stem's pool), padding ignored. Where four
 * outputs take a vector, each input row's max over the column windows is computed once: row
 * 2oy+1's serves output rows oy and oy + 1, kept for the latter in its own output row until
 * that row is computed (max is exact, so the order it combines rows in changes no bit).
 */
export function maxpool3x3s2p1_plane(src: usize, dst: usize, h: i32, w: i32, oh: i32, ow: i32, s: f32, t: f32, pre: bool, relu: bool): void {
  const sv = f32x4.splat(s), tv = f32x4.splat(t);
  const rowBytes = <usize>w << 2;
  const vectorEnd = (w - 8) / 2 + 1; // outputs ox with 2(ox+3)+1 < w start a full vector
  for (let oy = 0; oy < oh; oy++) {
    const y0 = max(2 * oy - 1, 0), y1 = min(2 * oy + 1, h - 1);
    const d = dst + ((<usize>oy * ow) << 2), next = d + (<usize>ow << 2);
    const below = 2 * oy + 1 < h, carry = below && oy + 1 < oh;
    let ox = 0;
    while (ox < ow) {
      if (ox >= 1 && ox + 3 < vectorEnd) {
        const at = <usize>ox << 2;
        let m = rowMax4(src + <usize>(2 * oy) * rowBytes, ox, sv, tv, pre, relu);
        if (below) {
          const b = rowMax4(src + <usize>(2 * oy + 1) * rowBytes, ox, sv, tv, pre, relu);
          m = f32x4.max(m, b);
          if (carry) v128.store(next + at, b); // row 2(oy+1)-1 of output row oy + 1
        }
        if (oy > 0) m = f32x4.max(m, v128.load(d + at)); // row 2oy-1, carried from output row oy - 1
        v128.store(d + at, m);
        ox += 4;
        continue;
      }
      const x0 = max(2 * ox - 1, 0), x1 = min(2 * ox + 1, w - 1);
      let m: f32 = -Infinity;
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) m = max(m, actScalar(load<f32>(src + <usize>y * rowBytes + (<usize>x << 2)), s, t, pre, relu));
      }
      store<f32>(d + (<usize>ox << 2), m);
      ox++;
    }
  }
}
