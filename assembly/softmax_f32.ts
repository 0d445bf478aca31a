import { SOFTMAX_C, SOFTMAX_IN_OFF, SOFTMAX_OUT_OFF } from "../src/kernels/layout";
import { chunkCount, field, firstChunk, nextChunk, ptr } from "./desc";

const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;

/**
 * e^x for x <= 0 in f64, table-free (the kernels hold no static data): x = k ln2 + r with
 * |r| <= ln2/2, e^r by its Taylor series to r^12 (error < 1e-15), times 2^k.
 */
function expNonPositive(x: f64): f64 {
  if (x < -708) return 0;
  const k = Math.round(x / LN2_HI);
  const r = (x - k * LN2_HI) - k * LN2_LO;
  let p: f64 = 1;
  for (let i = 12; i >= 1; i--) p = 1 + p * r / <f64>i;
  return p * reinterpret<f64>(<u64>(<i64>k + 1023) << 52);
}

/**
 * y = softmax(x) over the C values of one image's (C, 1, 1) vector: exp(x - max) / sum, in
 * f64, stored as f32. One worker computes it (a C of ~1000 takes microseconds): worker 0 with
 * static shares, else whoever claims it first; the others skip, so the result does not depend
 * on the thread count.
 */
export function softmax_f32(d: usize, base: usize, scratch: usize, ith: i32, nth: i32, claim: usize): void {
  // One unit of work. Static: worker ith's chunk ith, so worker 0 computes it; claimed: one chunk.
  const count = chunkCount(1, nth, claim);
  for (let chunk = firstChunk(claim, ith, nth, count); chunk < count; chunk = nextChunk(claim, ith, nth, count, chunk)) {
    if (chunk == 0) softmaxVector(d, base);
  }
}

function softmaxVector(d: usize, base: usize): void {
  const c = field(d, SOFTMAX_C);
  const x = base + ptr(d, SOFTMAX_IN_OFF), y = base + ptr(d, SOFTMAX_OUT_OFF);
  let top: f64 = -Infinity;
  for (let i = 0; i < c; i++) top = max(top, <f64>load<f32>(x + (<usize>i << 2)));
  let sum: f64 = 0;
  for (let i = 0; i < c; i++) sum += expNonPositive(<f64>load<f32>(x + (<usize>i << 2)) - top);
  for (let i = 0; i < c; i++) store<f32>(y + (<usize>i << 2), <f32>(expNonPositive(<f64>load<f32>(x + (<usize>i << 2)) - top) / sum));
}
