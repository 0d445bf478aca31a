import { LINEAR_BIAS, LINEAR_IN_OFF, LINEAR_K, LINEAR_M, LINEAR_OUT_OFF, LINEAR_W } from "../src/kernels/layout";
import { chunkCount, chunkStart, field, firstChunk, nextChunk, ptr } from "./desc";

/**
 * y[M] = W[M, K] x[K] + bias for one image. Each output is summed in four f32x4 lanes
 * over 16-element steps, then a fixed lane reduction and the scalar tail, so its value does
 * not depend on how workers split the rows (worker ith of nth takes chunks of rows: its share,
 * or claimed: see desc.ts).
 */
export function linear_f32(d: usize, base: usize, scratch: usize, ith: i32, nth: i32, claim: usize): void {
  const m = field(d, LINEAR_M), k = field(d, LINEAR_K);
  const x = base + ptr(d, LINEAR_IN_OFF), y = base + ptr(d, LINEAR_OUT_OFF);
  const wts = ptr(d, LINEAR_W), bias = ptr(d, LINEAR_BIAS);
  const count = chunkCount(m, nth, claim);
  for (let chunk = firstChunk(claim, ith, nth, count); chunk < count; chunk = nextChunk(claim, ith, nth, count, chunk)) {
    const r0 = chunkStart(m, 1, chunk, count, claim), r1 = chunkStart(m, 1, chunk + 1, count, claim);
    for (let r = r0; r < r1; r++) {
      let acc = linear_f32_dot_row(wts + ((<usize>r * k) << 2), x, k);
      if (bias != 0) acc += load<f32>(bias + (<usize>r << 2));
      store<f32>(y + (<usize>r << 2), acc);
    }
  }
}

/**
 * One row's dot product with x: four f32x4 lanes over 16-element steps, a fixed lane
 * reduction, the scalar tail. A function of its own, so that V8 can replace it by its
 * optimized code between rows: a classifier runs as one call per image, and on a session's
 * first image all of it ran in the baseline tier (~3 ms instead of ~0.4 for DenseNet-121's
 * 1000x1024). Exported only to stay one: Binaryen inlines a function called once, and keeps
 * an exported one.
 */
export function linear_f32_dot_row(row: usize, x: usize, k: i32): f32 {
  const k16 = k & ~15;
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i < k16; i += 16) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(row + o), v128.load(x + o)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(row + o, 16), v128.load(x + o, 16)));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(row + o, 32), v128.load(x + o, 32)));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(row + o, 48), v128.load(x + o, 48)));
  }
  const v = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let acc = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
  for (; i < k; i++) acc += load<f32>(row + (<usize>i << 2)) * load<f32>(x + (<usize>i << 2));
  return acc;
}
