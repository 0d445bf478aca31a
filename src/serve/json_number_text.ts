// The JSON parser's reader of number runs in JavaScript (json_bytes.ts): what every number
// the WebAssembly reader leaves comes to, and all of them where the module does not load.

/** Why a number run stopped. */
export enum RunEnd {
  /** out is full (float32RunFromText: the limit is reached); more may follow */
  Full,
  /** at an element that is not a number */
  NotANumber,
  /** after a number with no comma after it */
  NoComma,
}

/** What the reader needs of the parser: the bytes, the position, and its number grammar check. */
export interface NumberCursor {
  readonly b: Uint8Array;
  readonly view: DataView;
  i: number;
  runEnd: RunEnd;
  /** The end of the number at i, checked against JSON's grammar (a JsonSyntaxError if not). */
  numberEnd(i: number): number;
}

export const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
export const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

const SAFE_DIGITS = 15;
// Powers of ten as Number("1eK") gives them: exact up to 1e22, correctly rounded beyond.
const POW10 = Array.from({ length: 400 }, (_, k) => Number(`1e${k}`));
// the margin kept from float32 rounding boundaries
const MARGIN = 2 ** -46;

/**
 * The parser's float32Run in JavaScript, for at most limit - n numbers (limit <= out.length),
 * from p.i; p.i and p.runEnd say where and why it stopped.
 *
 * Client libraries print float32 tensors with 17 digits (the double's shortest form), past
 * the 15 digits of an exact double fast path. For up to 19 digits and no exponent the
 * double v is computed to within 2^-50 relative of the true value; if no float32 rounding
 * boundary lies within 2^-46·|v| of v, then the true value and JSON.parse's double (within
 * half an ulp of it) round to the same float32 as v. Every other number (an exponent, more
 * digits, one next to a boundary: about one in 2^22) is parsed from its text.
 */
export function float32RunFromText(p: NumberCursor, out: Float32Array, n: number, limit: number): number {
  const b = p.b,
    view = p.view,
    len = b.length;
  let i = p.i;
  p.runEnd = RunEnd.Full;
  while (n < limit) {
    const start = i;
    let c = b[i];
    const negative = c === 0x2d;
    if (negative) c = b[++i];
    if (!isDigit(c)) {
      i = start;
      p.runEnd = RunEnd.NotANumber;
      break;
    }
    let m = 0,
      significant = 0,
      exponent = 0;
    if (c === 0x30) c = b[++i];
    else
      do {
        m = m * 10 + (c - 0x30);
        significant++;
        c = b[++i];
      } while (isDigit(c));
    if (c === 0x2e && isDigit(b[i + 1])) {
      const first = ++i;
      for (;;) {
        if (m !== 0 && i + 4 <= len) {
          const x = view.getUint32(i, true);
          if (((x & 0xf0f0f0f0) | (((x + 0x06060606) & 0xf0f0f0f0) >>> 4)) === 0x33333333) {
            const d = x - 0x30303030; // four digit values, the first in the low byte
            m = m * 1e4 + ((d & 0xf) * 10 + ((d >>> 8) & 0xf)) * 100 + ((d >>> 16) & 0xf) * 10 + (d >>> 24);
            significant += 4;
            i += 4;
            continue;
          }
        }
        c = b[i];
        if (!isDigit(c)) break;
        m = m * 10 + (c - 0x30);
        if (m !== 0) significant++;
        i++;
      }
      exponent = first - i;
    }
    let v: number;
    if (c === 0x2e || c === 0x65 || c === 0x45 || isDigit(c) || significant > 19 || exponent < -300) {
      // an exponent, a leading zero before digits, a bare '.', or many digits: from the text
      i = p.numberEnd(start);
      v = Number(ascii(b, start, i));
    } else if (m === 0) v = negative ? -0 : 0;
    else {
      v = exponent === 0 ? m : m / POW10[-exponent];
      if (significant > SAFE_DIGITS || exponent < -22) {
        const f = Math.fround(v);
        if (Math.fround(v * (1 - MARGIN)) !== f || Math.fround(v * (1 + MARGIN)) !== f) v = Number(ascii(b, start, i));
        else if (negative) v = -v;
      } else if (negative) v = -v;
    }
    out[n++] = v;
    while (isSpace(b[i])) i++;
    if (b[i] !== 0x2c) {
      p.runEnd = RunEnd.NoComma;
      break;
    }
    i++;
    while (isSpace(b[i])) i++;
  }
  p.i = i;
  return n;
}

/** Bytes [start, end) of `b`, all ASCII, as a string. */
export function ascii(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let k = start; k < end; k += 4096)
    s += String.fromCharCode.apply(null, b.subarray(k, Math.min(end, k + 4096)) as unknown as number[]);
  return s;
}
