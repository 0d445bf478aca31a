// The Winograd weight transforms U = G g G^T, run once per session while the weights are
// packed: the same arithmetic as src/plan/winograd.ts packWinogradWeights (F(2x2, 3x3)) and
// src/plan/winograd_f4x4.ts packWinograd4Weights (F(4x4, 3x3)), operation for operation in f64
// (0 * x terms included: they keep the sign of zero), rounded once to f32, so the packed
// weights are bitwise the same as theirs (test/winograd_weights.test.mjs). Those stay the
// reference and the fallback; here the loops are compiled ahead instead of warming up a JIT.
//
// Both take (out, length, weight, cout, cin, mr) (F(4x4) also its G): `weight` holds the (cout, cin, 3, 3) f32
// weights; `out` holds the transformed matrices as runs of `length` floats (zeroed), U_xi
// packed as packPanels packs a (cout, cin) matrix into rows of `mr`: element (o, c) of U_xi at
// out + 4 * (xi * length + floor(o / mr) * cin * mr + c * mr + o % mr).

// @ts-ignore: decorator
@inline function w(weight: usize, g: i32, k: i32): f64 {
  return <f64>load<f32>(weight + (<usize>(g + k) << 2));
}

// @ts-ignore: decorator
@inline function put(out: usize, index: i32, v: f64): void {
  store<f32>(out + (<usize>index << 2), <f32>v);
}

/** Row i of (G g) G^T for F(2x2) from row i of G g, (a, b, c), as winogradRow writes it. */
// @ts-ignore: decorator
@inline function f2x2Row(out: usize, at: i32, length: i32, i: i32, a: f64, b: f64, c: f64): void {
  const xi = 4 * i * length + at;
  put(out, xi, a * 1 + b * 0 + c * 0);
  put(out, xi + length, a * 0.5 + b * 0.5 + c * 0.5);
  put(out, xi + 2 * length, a * 0.5 + b * -0.5 + c * 0.5);
  put(out, xi + 3 * length, a * 0 + b * 0 + c * 1);
}

export function winograd_f2x2_weights(out: usize, length: i32, weight: usize, cout: i32, cin: i32, mr: i32): void {
  const stride = cin * 9; // from output channel o's weights to o + 1's
  for (let o = 0; o < cout; ) {
    const rowBase = (o / mr) * cin * mr + (o % mr);
    // channels o and o + 1 side by side in f64x2 lanes where they share a panel (adjacent floats)
    const pair = o + 1 < cout && (o % mr) + 1 < mr;
    for (let c = 0; c < cin; c++) {
      const g = (o * cin + c) * 9;
      const at = rowBase + c * mr;
      if (pair) f2x2Pair(out, at, length, weight, g, stride);
      else f2x2One(out, at, length, weight, g);
    }
    o += pair ? 2 : 1;
  }
}

// @ts-ignore: decorator
@inline function f2x2One(out: usize, at: i32, length: i32, weight: usize, g: i32): void {
  const w00 = w(weight, g, 0), w10 = w(weight, g, 3), w20 = w(weight, g, 6);
  const w01 = w(weight, g, 1), w11 = w(weight, g, 4), w21 = w(weight, g, 7);
  const w02 = w(weight, g, 2), w12 = w(weight, g, 5), w22 = w(weight, g, 8);
  f2x2Row(out, at, length, 0, 1 * w00 + 0 * w10 + 0 * w20, 1 * w01 + 0 * w11 + 0 * w21, 1 * w02 + 0 * w12 + 0 * w22);
  f2x2Row(out, at, length, 1, 0.5 * w00 + 0.5 * w10 + 0.5 * w20, 0.5 * w01 + 0.5 * w11 + 0.5 * w21, 0.5 * w02 + 0.5 * w12 + 0.5 * w22);
  f2x2Row(out, at, length, 2, 0.5 * w00 + -0.5 * w10 + 0.5 * w20, 0.5 * w01 + -0.5 * w11 + 0.5 * w21, 0.5 * w02 + -0.5 * w12 + 0.5 * w22);
  f2x2Row(out, at, length, 3, 0 * w00 + 0 * w10 + 1 * w20, 0 * w01 + 0 * w11 + 1 * w21, 0 * w02 + 0 * w12 + 1 * w22);
}

// The same arithmetic on two output channels at once, one per f64x2 lane (IEEE operations
// lane by lane: bitwise the scalar results).

/** Weight k of (o, c) and of (o + 1, c), as f64 lanes. */
// @ts-ignore: decorator
@inline function w2(weight: usize, g: i32, stride: i32, k: i32): v128 {
  const p = weight + (<usize>(g + k) << 2);
  return f64x2.replace_lane(f64x2.splat(<f64>load<f32>(p)), 1, <f64>load<f32>(p + (<usize>stride << 2)));
}

/** Both lanes rounded to f32, into the two adjacent floats at `index`. */
// @ts-ignore: decorator
@inline function put2(out: usize, index: i32, v: v128): void {
  v128.store64_lane(out + (<usize>index << 2), f32x4.demote_f64x2_zero(v), 0);
}

/** (a x + b y) + c z, lane by lane, for constants a, b, c: the order `a * x + b * y + c * z` has. */
// @ts-ignore: decorator
@inline function sum3(a: f64, x: v128, b: f64, y: v128, c: f64, z: v128): v128 {
  return f64x2.add(f64x2.add(f64x2.mul(f64x2.splat(a), x), f64x2.mul(f64x2.splat(b), y)), f64x2.mul(f64x2.splat(c), z));
}

/** f2x2Row on two channels: the scalar `a * 1 + b * 0 + c * 0` is sum3(1, a, 0, b, 0, c) (products commute exactly). */
// @ts-ignore: decorator
@inline function f2x2Row2(out: usize, at: i32, length: i32, i: i32, a: v128, b: v128, c: v128): void {
  const xi = 4 * i * length + at;
  put2(out, xi, sum3(1, a, 0, b, 0, c));
  put2(out, xi + length, sum3(0.5, a, 0.5, b, 0.5, c));
  put2(out, xi + 2 * length, sum3(0.5, a, -0.5, b, 0.5, c));
  put2(out, xi + 3 * length, sum3(0, a, 0, b, 1, c));
}

// @ts-ignore: decorator
@inline function f2x2Pair(out: usize, at: i32, length: i32, weight: usize, g: i32, stride: i32): void {
  const w00 = w2(weight, g, stride, 0), w10 = w2(weight, g, stride, 3), w20 = w2(weight, g, stride, 6);
  const w01 = w2(weight, g, stride, 1), w11 = w2(weight, g, stride, 4), w21 = w2(weight, g, stride, 7);
  const w02 = w2(weight, g, stride, 2), w12 = w2(weight, g, stride, 5), w22 = w2(weight, g, stride, 8);
  f2x2Row2(out, at, length, 0, sum3(1, w00, 0, w10, 0, w20), sum3(1, w01, 0, w11, 0, w21), sum3(1, w02, 0, w12, 0, w22));
  f2x2Row2(out, at, length, 1, sum3(0.5, w00, 0.5, w10, 0.5, w20), sum3(0.5, w01, 0.5, w11, 0.5, w21), sum3(0.5, w02, 0.5, w12, 0.5, w22));
  f2x2Row2(out, at, length, 2, sum3(0.5, w00, -0.5, w10, 0.5, w20), sum3(0.5, w01, -0.5, w11, 0.5, w21), sum3(0.5, w02, -0.5, w12, 0.5, w22));
  f2x2Row2(out, at, length, 3, sum3(0, w00, 0, w10, 1, w20), sum3(0, w01, 0, w11, 1, w21), sum3(0, w02, 0, w12, 1, w22));
}

// @ts-ignore: decorator
@inline function at8(p: usize, k: i32): f64 {
  return load<f64>(p + (<usize>k << 3));
}

/** F(4x4): `gm` holds its G (6 x 3, f64, row-major) as src/plan/winograd_f4x4.ts defines it (the module holds no static data). */
export function winograd_f4x4_weights(out: usize, length: i32, weight: usize, cout: i32, cin: i32, mr: i32, gm: usize): void {
  const stride = cin * 9;
  for (let o = 0; o < cout; ) {
    const rowBase = (o / mr) * cin * mr + (o % mr);
    const pair = o + 1 < cout && (o % mr) + 1 < mr; // as in winograd_f2x2_weights
    for (let c = 0; c < cin; c++) {
      const g = (o * cin + c) * 9;
      const at = rowBase + c * mr;
      if (pair) f4x4Pair(out, at, length, weight, g, stride, gm);
      else f4x4One(out, at, length, weight, g, gm);
    }
    o += pair ? 2 : 1;
  }
}

// @ts-ignore: decorator
@inline function f4x4One(out: usize, at: i32, length: i32, weight: usize, g: i32, gm: usize): void {
  for (let i = 0; i < 6; i++) {
    const a = at8(gm, 3 * i), b = at8(gm, 3 * i + 1), e = at8(gm, 3 * i + 2);
    // (G g)[i][l] for the three columns l of g
    const p = a * w(weight, g, 0) + b * w(weight, g, 3) + e * w(weight, g, 6);
    const q = a * w(weight, g, 1) + b * w(weight, g, 4) + e * w(weight, g, 7);
    const r = a * w(weight, g, 2) + b * w(weight, g, 5) + e * w(weight, g, 8);
    for (let j = 0; j < 6; j++) put(out, (6 * i + j) * length + at, p * at8(gm, 3 * j) + q * at8(gm, 3 * j + 1) + r * at8(gm, 3 * j + 2));
  }
}

/** (x a + y b) + z c, lane by lane: the order `p * a + q * b + r * c` has, for constants a, b, c. */
// @ts-ignore: decorator
@inline function sum3r(x: v128, a: f64, y: v128, b: f64, z: v128, c: f64): v128 {
  return f64x2.add(f64x2.add(f64x2.mul(x, f64x2.splat(a)), f64x2.mul(y, f64x2.splat(b))), f64x2.mul(z, f64x2.splat(c)));
}

// @ts-ignore: decorator
@inline function f4x4Pair(out: usize, at: i32, length: i32, weight: usize, g: i32, stride: i32, gm: usize): void {
  const w0 = w2(weight, g, stride, 0), w1 = w2(weight, g, stride, 1), w2_ = w2(weight, g, stride, 2);
  const w3 = w2(weight, g, stride, 3), w4 = w2(weight, g, stride, 4), w5 = w2(weight, g, stride, 5);
  const w6 = w2(weight, g, stride, 6), w7 = w2(weight, g, stride, 7), w8 = w2(weight, g, stride, 8);
  for (let i = 0; i < 6; i++) {
    const a = at8(gm, 3 * i), b = at8(gm, 3 * i + 1), e = at8(gm, 3 * i + 2);
    const p = sum3(a, w0, b, w3, e, w6);
    const q = sum3(a, w1, b, w4, e, w7);
    const r = sum3(a, w2_, b, w5, e, w8);
    for (let j = 0; j < 6; j++) put2(out, (6 * i + j) * length + at, sum3r(p, at8(gm, 3 * j), q, at8(gm, 3 * j + 1), r, at8(gm, 3 * j + 2)));
  }
}
