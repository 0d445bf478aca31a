// exp(x) from IEEE-754 basic arithmetic only, so it gives the same bits in every JavaScript
// engine: Math.exp is only required to be "implementation-approximated", and V8 in Node 20
// and in Deno 2 differ in the last bit for some inputs, which would make class probabilities
// differ between the two runtimes on bitwise-identical logits.
//
// Method: x = k·ln2 + r with k = round(x / ln2) and |r| <= ln2/2 (Cody-Waite: ln2 split in a
// high part with trailing zero bits, so k·LN2_HI is exact for |k| < 2^11, and a low part);
// e^r by its Taylor series to degree 14 in Horner form (the truncation error at |r| = 0.347
// is below 3e-19, well under half an ulp); then the exact scaling by 2^k built from the
// exponent bits. Accurate to about 1 ulp (the tests check 2 ulps against Math.exp).

const LN2_HI = 0.6931471803691238; // fdlibm's split of ln 2 (0x3fe62e42fee00000)
const LN2_LO = 1.9082149292705877e-10; // 0x3dea39ef35793c76
const INV_LN2 = Math.LOG2E;
const MAX_ARGUMENT = 709.782712893384; // e^x overflows past this
const MIN_ARGUMENT = -745.1332191019411; // and underflows to 0 below this

/** 1/n! for n in [0, 14] (n! is exact in float64; its reciprocal is rounded once). */
const INV_FACTORIAL = Array.from({ length: 15 }, (_, n) => {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return 1 / f;
});

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // the word holding the exponent

/** 2^k for an integer k in [-1022, 1023], exactly. */
function pow2(k: number): number {
  words[1 - HIGH] = 0;
  words[HIGH] = (k + 1023) << 20;
  return bits[0];
}

/** e^x, bitwise the same in every engine; within ~1 ulp of the true value. */
export function exp(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x > MAX_ARGUMENT) return Number.POSITIVE_INFINITY;
  if (x < MIN_ARGUMENT) return 0;
  const k = Math.round(x * INV_LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  let er = INV_FACTORIAL[14];
  for (let n = 13; n >= 0; n--) er = er * r + INV_FACTORIAL[n];
  // k in [-1075, 1024]: scale in two exact steps when 2^k alone would not be a normal double
  if (k > 1023) return er * pow2(1023) * pow2(k - 1023);
  if (k < -1022) return er * pow2(k + 1000) * pow2(-1000);
  return er * pow2(k);
}
