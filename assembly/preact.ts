// The pre-activation every kernel applies to what it reads: a per-channel x*s + t (a folded
// BatchNorm), then ReLU as `x < 0 ? 0 : x` (so NaN passes through and -0 stays -0), in
// scalar and f32x4 forms that round identically.

/** (pre ? v*s + t : v), then ReLU if relu. */
// @ts-ignore: decorator
@inline export function preact(v: f32, s: f32, t: f32, pre: bool, relu: bool): f32 {
  if (pre) v = v * s + t;
  if (relu && v < 0) v = 0;
  return v;
}

/** preact on four lanes; f32x4.pmax(v, 0) is `v < 0 ? 0 : v` per lane. */
// @ts-ignore: decorator
@inline export function preact4(v: v128, s: v128, t: v128, pre: bool, relu: bool): v128 {
  if (pre) v = f32x4.add(f32x4.mul(v, s), t);
  if (relu) v = f32x4.pmax(v, f32x4.splat(0));
  return v;
}
