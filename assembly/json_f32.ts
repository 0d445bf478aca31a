// A separate, single-threaded module (build/json_f32.wasm, its own memory, no imports) for
// the server's JSON parser (src/serve/json_bytes.ts): it reads a run of JSON numbers, each
// followed by a comma, from a window of the request body and writes each as the float32
// Math.fround(JSON.parse(text)) gives. Anything it cannot decide exactly it leaves to the
// JavaScript parser, which reads that one element from its text (STOP_ONE).
//
// Contract of run(len, last, cap), over window [0, len) (bytes at len.. are zero; last: the
// window ends where the input does):
// - numbers are -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, each followed by optional
//   JSON whitespace, a comma and optional whitespace; at most `cap` are written to out;
// - it returns the count written; stopPosition() is the window offset where it stopped and
//   stopReason() why: STOP_FULL (cap numbers written), STOP_NO_COMMA (after a number and its
//   whitespace, at a byte that is not a comma), STOP_ONE (at an element it leaves to the
//   caller: not a number, a number against the grammar, one it cannot round exactly here, or
//   one that reaches the window's end when `last` is 0, which the window may have cut short).
//   Nothing past stopPosition() has been consumed.
//
// Two lanes read a number: a SIMD one for the common form -?D+(.D+)? with a comma right after
// it, all within 32 bytes (positions from byte masks, no byte-by-byte scan), and a scalar one
// for every other form; both give the same (m, e) and share the rounding below.
//
// Exactness: with m the decimal digits as an integer (at most 19 digits, so m < 2^64) and e
// the decimal exponent (|e| <= 300), v = m * 10^e in float64 with 10^e the correctly rounded
// double: three roundings, so v is within 3 * 2^-53 relative (under 7 ulps of v) of the true
// value, and JSON.parse's double within half an ulp more. Float32 rounding boundaries (ties
// between two float32s) are the doubles whose low 29 mantissa bits are 2^28; if v is more
// than 128 ulps from one, in float32's normal range, the true value, JSON.parse's double and v
// all round to f32(v). Near a boundary (about one number in 2^21), for m < 2^53 and |e| <= 22,
// m * 10^e or m / 10^-e is a single rounding of exact operands: JSON.parse's double itself,
// and f32 of it is the answer. Else STOP_ONE.

export const STOP_FULL: i32 = 0;
export const STOP_NO_COMMA: i32 = 1;
export const STOP_ONE: i32 = 2;

/** The largest window, in bytes; the host zeroes WINDOW_PAD bytes after the window's end. */
export const WINDOW_BYTES: i32 = 1 << 16;
export const WINDOW_PAD: i32 = 32;
/** The most numbers one call writes. */
export const OUT_CAPACITY: i32 = 1 << 14;
export const POW10_COUNT: i32 = 301;

// [k] = 10^k and [POW10_COUNT + k] = 10^-k for k in [0, POW10_COUNT), as Number("1eK") and
// Number("1e-K") give them (the host writes them)
const pow10 = memory.data(2 * POW10_COUNT * 8, 16);
const window = memory.data(WINDOW_BYTES + WINDOW_PAD, 16);
const out = memory.data(OUT_CAPACITY * 4, 16);
// 10^k as integers, k in [0, 19]
const POW10_INT = memory.data<u64>([
  1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000, 100000000000, 1000000000000,
  10000000000000, 100000000000000, 1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000,
  10000000000000000000,
]);

const MAX_DIGITS = 19;
const MAX_EXPONENT = 300;

let stoppedAt: i32 = 0;
let stoppedWhy: i32 = STOP_FULL;

export function pow10Pointer(): usize {
  return pow10;
}
export function windowPointer(): usize {
  return window;
}
export function outPointer(): usize {
  return out;
}
export function stopPosition(): i32 {
  return stoppedAt;
}
export function stopReason(): i32 {
  return stoppedWhy;
}

// @ts-ignore: decorator
@inline function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

// @ts-ignore: decorator
@inline function isSpace(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

// @ts-ignore: decorator
@inline function skipSpace(i: usize): usize {
  while (isSpace(load<u8>(i))) i++;
  return i;
}

// @ts-ignore: decorator
@inline function pow10Int(k: u64): u64 {
  return load<u64>(POW10_INT + (<usize>k << 3));
}

/** The value of 8 ASCII digits, the first (most significant) in the low byte. */
// @ts-ignore: decorator
@inline function eightDigitValue(x: u64): u64 {
  let d = x - 0x3030303030303030;
  d = (d * 10 + (d >> 8)) & 0x00ff00ff00ff00ff; // pairs: 0..99 in 16-bit lanes
  d = (d * 100 + (d >> 16)) & 0x0000ffff0000ffff; // quads: 0..9999 in 32-bit lanes
  return (d * 10000 + (d >> 32)) & 0xffffffff;
}

/** The value of the k (0..8) ASCII digits at p, the first the most significant. */
// @ts-ignore: decorator
@inline function digitsValue(p: usize, k: u64): u64 {
  // the k digits moved to the top bytes, '0's below them (two half shifts: k = 0 and 8 work)
  const h = 32 - 4 * k;
  const x = load<u64>(p);
  return eightDigitValue(((x << h) << h) | ((0x3030303030303030 >> (4 * k)) >> (4 * k)));
}

/** The value of the k (0..19) ASCII digits at p: groups of 8 aligned to the last digit, the first 0..7 digits shifted in. */
// @ts-ignore: decorator
@inline function digitRunValue(p: usize, k: u64): u64 {
  if (k < 8) return digitsValue(p, k);
  const last8 = eightDigitValue(load<u64>(p + <usize>k - 8));
  if (k < 16) return digitsValue(p, k - 8) * 100000000 + last8;
  return (digitsValue(p, k - 16) * 100000000 + eightDigitValue(load<u64>(p + <usize>k - 16))) * 100000000 + last8;
}

/** The byte mask (0x80 in each byte) of the bytes of x that are not ASCII digits; exact up to the first one. */
// @ts-ignore: decorator
@inline function nonDigitMask(x: u64): u64 {
  // a digit byte neither carries nor borrows, so every byte up to the first non-digit is right
  return ((x + 0x4646464646464646) | (x - 0x3030303030303030) | x) & 0x8080808080808080;
}

let digitsRead: usize = 0;

/** m extended by the run of digits at i (digitsRead: how many; past 19 digits m wraps). */
// @ts-ignore: decorator
@inline function readDigits(i: usize, m: u64): u64 {
  const from = i;
  let x = load<u64>(i);
  let mask = nonDigitMask(x);
  while (mask == 0) {
    m = m * 100000000 + eightDigitValue(x);
    i += 8;
    x = load<u64>(i);
    mask = nonDigitMask(x);
  }
  const k = ctz(mask) >> 3;
  digitsRead = i - from + <usize>k;
  return m * pow10Int(k) + digitsValue(i, k);
}

/** The float32 of m * 10^e (m < 2^64) as Math.fround(JSON.parse) gives it, or NaN where it cannot tell (see the top). */
// @ts-ignore: decorator
@inline function roundToFloat32(m: u64, e: i32): f32 {
  if (m == 0) return 0;
  if (e < -MAX_EXPONENT || e > MAX_EXPONENT) return NaN;
  const v = <f64>m * load<f64>(pow10 + (<usize>(e >= 0 ? e : POW10_COUNT - e) << 3));
  const bits = reinterpret<u64>(v);
  const biased = <i32>(bits >> 52);
  const fromTie = <i64>(bits & 0x1fffffff) - 0x10000000;
  if (biased >= 1023 - 126 && biased <= 1023 + 127 && (fromTie > 128 || fromTie < -128)) return <f32>v;
  if (m <= (<u64>1 << 53) && e >= -22 && e <= 22) {
    // m and 10^|e| exact: one rounding, JSON.parse's double
    return <f32>(e >= 0 ? <f64>m * load<f64>(pow10 + (<usize>e << 3)) : <f64>m / load<f64>(pow10 + (<usize>-e << 3)));
  }
  return NaN;
}

/** The 32 bits of the 32 bytes at p, from the byte comparison `is` gives for each half. */
// @ts-ignore: decorator
@inline function bits32(a: v128, b: v128): u64 {
  return <u64>i8x16.bitmask(a) | (<u64>i8x16.bitmask(b) << 16);
}

export function run(len: i32, last: i32, cap: i32): i32 {
  const end = window + <usize>len;
  let i = window;
  let n = 0;
  let why = STOP_FULL;
  while (n < cap) {
    const start = i;
    if (i >= end) {
      why = STOP_ONE;
      break;
    }
    const negative = load<u8>(i) == 0x2d;
    let f: f32 = NaN;
    let next: usize = 0;
    {
      // the SIMD lane: positions from the masks of the 32 bytes at start (a byte past them
      // counts as a non-digit, so a number reaching it goes to the scalar lane; so does one
      // reaching the window's end, where the zeros after it stop it before any comma)
      const a = v128.load(i);
      const b = v128.load(i, 16);
      const zero = i8x16.splat(0x30),
        ten = i8x16.splat(10),
        dotChar = i8x16.splat(0x2e),
        commaChar = i8x16.splat(0x2c);
      const nonDigits = ~bits32(i8x16.lt_u(i8x16.sub(a, zero), ten), i8x16.lt_u(i8x16.sub(b, zero), ten));
      const dotBits = bits32(i8x16.eq(a, dotChar), i8x16.eq(b, dotChar));
      const commaBits = bits32(i8x16.eq(a, commaChar), i8x16.eq(b, commaChar));
      const at = <u64>negative;
      const intDigits = ctz(nonDigits >> at);
      const intEnd = at + intDigits;
      const dot = (dotBits >> intEnd) & 1;
      const fracDigits = dot ? ctz(nonDigits >> (intEnd + 1)) : 0;
      const numEnd = intEnd + dot * (1 + fracDigits);
      // the next number's start comes from the comma's position alone, a short dependency
      // chain from one number to the next; the checks only confirm the number ends there
      const comma = ctz(commaBits);
      if (
        intDigits != 0 &&
        (intDigits == 1 || load<u8>(i + <usize>at) != 0x30) &&
        dot == <u64>(fracDigits != 0) &&
        intDigits + fracDigits <= <u64>MAX_DIGITS &&
        numEnd == comma
      ) {
        const integer = intDigits == 1 ? <u64>(load<u8>(i + <usize>at) - 0x30) : digitRunValue(i + <usize>at, intDigits);
        const m = integer * pow10Int(fracDigits) + digitRunValue(i + <usize>(intEnd + 1), fracDigits);
        f = roundToFloat32(m, -<i32>fracDigits);
        next = i + <usize>comma + 1;
      }
    }
    if (isNaN(f)) {
      // the scalar lane
      i += <usize>negative;
      let m = readDigits(i, 0);
      const intDigits = <i32>digitsRead;
      let digits = intDigits;
      // false: leave the number to the caller (no digit, a leading zero, a '.' without digits,
      // more digits than m holds, an exponent out of range, or too near a float32 boundary)
      const leadingZero = load<u8>(i) == 0x30;
      let exact = intDigits > 0 && (intDigits == 1 || !leadingZero);
      i += <usize>intDigits;
      let e = 0;
      if (load<u8>(i) == 0x2e) {
        const first = ++i;
        if (leadingZero) while (load<u8>(i) == 0x30) i++; // zeros that add nothing to m
        m = readDigits(i, m);
        digits += <i32>digitsRead;
        i += digitsRead;
        if (i == first) exact = false;
        e = <i32>(first - i);
      }
      let c = <u32>load<u8>(i);
      if (c == 0x65 || c == 0x45) {
        c = load<u8>(++i);
        const minus = c == 0x2d;
        if (minus || c == 0x2b) c = load<u8>(++i);
        if (!isDigit(c)) exact = false;
        let x = 0;
        while (isDigit(c)) {
          if (x < 100000) x = x * 10 + <i32>(c - 0x30);
          c = load<u8>(++i);
        }
        e += minus ? -x : x;
      }
      if (exact && digits <= MAX_DIGITS) f = roundToFloat32(m, e);
      i = skipSpace(i);
      if (isNaN(f) || (i >= end && !last)) {
        // the caller reads it from its text (and reports a grammar error)
        why = STOP_ONE;
        i = start;
        break;
      }
      if (load<u8>(i) != 0x2c) {
        store<f32>(out + (<usize>n << 2), negative ? -f : f);
        n++;
        why = STOP_NO_COMMA;
        break;
      }
      next = i + 1;
    }
    i = skipSpace(next);
    if (i >= end && !last) {
      why = STOP_ONE;
      i = start;
      break;
    }
    store<f32>(out + (<usize>n << 2), negative ? -f : f);
    n++;
  }
  stoppedAt = <i32>(i - window);
  stoppedWhy = why;
  return n;
}
