/**
 * a * b + c on f32x4. The relaxed-SIMD build (kernels.relaxed.wasm) uses
 * f32x4.relaxed_madd, a fused multiply-add on hardware with FMA; the baseline build a
 * separate mul and add. Either way an engine lowers it the same on every call, so results
 * stay bitwise identical at any thread count.
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
