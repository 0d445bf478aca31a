// Entropy decoding of JPEG scans as libjpeg-turbo 2.1 does it (jdhuff.c, jdphuff.c): Huffman
// tables, baseline and progressive scans (DC/AC first and refinement passes), restart
// intervals, and zeros fed in past a marker, into each component's 16-bit coefficient blocks.
import type { DenseNetError } from "../errors.js";

/** Zig-zag index -> natural (row-major) index, with libjpeg's 16 guard entries past the end. */
export const NATURAL = new Int32Array([
  0,
  1,
  8,
  16,
  9,
  2,
  3,
  10,
  17,
  24,
  32,
  25,
  18,
  11,
  4,
  5,
  12,
  19,
  26,
  33,
  40,
  48,
  41,
  34,
  27,
  20,
  13,
  6,
  7,
  14,
  21,
  28,
  35,
  42,
  49,
  56,
  57,
  50,
  43,
  36,
  29,
  22,
  15,
  23,
  30,
  37,
  44,
  51,
  58,
  59,
  52,
  45,
  38,
  31,
  39,
  46,
  53,
  60,
  61,
  54,
  47,
  55,
  62,
  63,
  ...new Array(16).fill(63),
]);

export interface Huffman {
  /** For each code length 1..16: the largest code (or -1), and the index of its first value. */
  readonly maxcode: Int32Array;
  readonly valptr: Int32Array;
  readonly mincode: Int32Array;
  readonly values: Uint8Array;
  /** For each 9-bit prefix: (code length << 8) | value when the code is at most 9 bits, else 0. */
  readonly lookup: Int32Array;
}

export interface Component {
  readonly id: number;
  readonly h: number;
  readonly v: number;
  readonly tq: number;
  /** Blocks per row and column of the MCU-padded grid (the coefficient array's shape). */
  readonly blocksPerLine: number;
  readonly blocksPerColumn: number;
  /** Blocks a non-interleaved scan covers: the component's own size, rounded up to blocks. */
  readonly ownBlocksPerLine: number;
  readonly ownBlocksPerColumn: number;
  /** libjpeg's downsampled_width/height: ceil(image size · factor / max factor). */
  readonly downW: number;
  readonly downH: number;
  /** (blocksPerColumn, blocksPerLine, 64) coefficients in natural order; JCOEF is 16-bit. */
  readonly coefs: Int16Array;
  pred: number;
  dc: Huffman | null;
  ac: Huffman | null;
}

/** Bits of Huffman code decoded by one table look-up. */
const LOOKAHEAD = 9;

export function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxcode = new Int32Array(18).fill(-1);
  const mincode = new Int32Array(17);
  const valptr = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    valptr[len] = k;
    mincode[len] = code;
    code += counts[len - 1];
    k += counts[len - 1];
    if (counts[len - 1]) maxcode[len] = code - 1;
    code <<= 1;
  }
  const lookup = new Int32Array(1 << LOOKAHEAD);
  for (let len = 1, k = 0; len <= LOOKAHEAD; len++) {
    for (let n = 0; n < counts[len - 1]; n++, k++) {
      const c = mincode[len] + n;
      const shift = LOOKAHEAD - len;
      for (let fill = 0; fill < 1 << shift; fill++) lookup[(c << shift) | fill] = (len << 8) | (values[k] ?? 0);
    }
  }
  return { maxcode, mincode, valptr, values, lookup };
}

/** Reads the entropy-coded data of one scan starting at `start`, into the components' coefficients. */
export function decodeScan(
  bytes: Uint8Array,
  start: number,
  scan: Component[],
  progressive: boolean,
  ss: number,
  se: number,
  ah: number,
  al: number,
  restartInterval: number,
  mcusPerLine: number,
  mcusPerColumn: number,
  corrupt: (why: string) => DenseNetError,
): void {
  let pos = start;
  // Up to 31 bits, the oldest first; past a marker, libjpeg reads zeros (and so do we).
  let bitBuf = 0;
  let bitCount = 0;
  let atMarker = false;
  let eobrun = 0;
  const fill = (): void => {
    while (bitCount <= 23) {
      let b = 0;
      if (!atMarker) {
        b = pos < bytes.length ? bytes[pos] : 0xff;
        if (b === 0xff) {
          if (bytes[pos + 1] === 0x00) pos += 2;
          else {
            atMarker = true;
            b = 0;
          }
        } else pos++;
      }
      bitBuf = ((bitBuf << 8) | b) >>> 0;
      bitCount += 8;
    }
  };
  const receive = (n: number): number => {
    if (n === 0) return 0;
    if (bitCount < n) fill();
    bitCount -= n;
    const v = (bitBuf >>> bitCount) & ((1 << n) - 1);
    bitBuf &= (1 << bitCount) - 1;
    return v;
  };
  const readBit = (): number => receive(1);
  const extend = (v: number, n: number): number => (v < 1 << (n - 1) ? v - (1 << n) + 1 : v);
  const decodeHuffman = (t: Huffman | null): number => {
    if (!t) throw corrupt("scan uses an undefined Huffman table");
    if (bitCount < 16) fill();
    const hit = t.lookup[(bitBuf >>> (bitCount - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)];
    if (hit) {
      bitCount -= hit >> 8;
      bitBuf &= (1 << bitCount) - 1;
      return hit & 255;
    }
    let code = 0;
    for (let len = 1; len <= 16; len++) {
      code = (code << 1) | readBit();
      if (code <= t.maxcode[len]) return t.values[t.valptr[len] + code - t.mincode[len]] ?? 0;
    }
    return 0; // a bad code: libjpeg warns and uses 0
  };

  const decodeBlock = (c: Component, offset: number): void => {
    const b = c.coefs;
    if (!progressive) {
      const t = decodeHuffman(c.dc);
      c.pred += t ? extend(receive(t), t) : 0;
      b[offset] = c.pred;
      for (let k = 1; k < 64; k++) {
        const rs = decodeHuffman(c.ac);
        const s = rs & 15;
        const r = rs >> 4;
        if (s === 0) {
          if (r < 15) break;
          k += 15;
          continue;
        }
        k += r;
        b[offset + NATURAL[k]] = extend(receive(s), s);
      }
    } else if (ss === 0) {
      if (ah === 0) {
        const t = decodeHuffman(c.dc);
        c.pred += t ? extend(receive(t), t) : 0;
        b[offset] = c.pred * (1 << al);
      } else if (readBit()) b[offset] |= 1 << al;
    } else if (ah === 0) {
      if (eobrun > 0) {
        eobrun--;
        return;
      }
      for (let k = ss; k <= se; k++) {
        const rs = decodeHuffman(c.ac);
        const s = rs & 15;
        const r = rs >> 4;
        if (s) {
          k += r;
          b[offset + NATURAL[k]] = extend(receive(s), s) * (1 << al);
        } else if (r === 15) {
          k += 15;
        } else {
          eobrun = (1 << r) - 1;
          if (r) eobrun += receive(r);
          break;
        }
      }
    } else {
      refineAc(b, offset);
    }
  };

  const refineAc = (b: Int16Array, offset: number): void => {
    const p1 = 1 << al;
    const m1 = -1 << al;
    const c = scan[0];
    let k = ss;
    const refine = (at: number) => {
      if (readBit() && (b[at] & p1) === 0) b[at] += b[at] >= 0 ? p1 : m1;
    };
    if (eobrun === 0) {
      for (; k <= se; k++) {
        const rs = decodeHuffman(c.ac);
        let r = rs >> 4;
        let s = rs & 15;
        if (s) s = readBit() ? p1 : m1;
        else if (r !== 15) {
          eobrun = 1 << r;
          if (r) eobrun += receive(r);
          break;
        }
        do {
          const at = offset + NATURAL[k];
          if (b[at] !== 0) refine(at);
          else if (--r < 0) break;
          k++;
        } while (k <= se);
        if (s) b[offset + NATURAL[k]] = s;
      }
    }
    if (eobrun > 0) {
      for (; k <= se; k++) {
        const at = offset + NATURAL[k];
        if (b[at] !== 0) refine(at);
      }
      eobrun--;
    }
  };

  const restart = () => {
    bitCount = 0;
    bitBuf = 0;
    atMarker = false;
    eobrun = 0;
    for (const c of scan) c.pred = 0;
    while (pos < bytes.length && !(bytes[pos] === 0xff && bytes[pos + 1] >= 0xd0 && bytes[pos + 1] <= 0xd7)) {
      if (bytes[pos] === 0xff && bytes[pos + 1] !== 0x00 && bytes[pos + 1] !== 0xff) return; // another marker: no RST
      pos++;
    }
    pos += 2;
  };

  if (scan.length === 1) {
    const c = scan[0];
    const total = c.ownBlocksPerLine * c.ownBlocksPerColumn;
    for (let n = 0; n < total; n++) {
      if (restartInterval && n > 0 && n % restartInterval === 0) restart();
      const row = Math.floor(n / c.ownBlocksPerLine);
      const col = n % c.ownBlocksPerLine;
      decodeBlock(c, (row * c.blocksPerLine + col) * 64);
    }
    return;
  }
  const total = mcusPerLine * mcusPerColumn;
  for (let n = 0; n < total; n++) {
    if (restartInterval && n > 0 && n % restartInterval === 0) restart();
    const mcuRow = Math.floor(n / mcusPerLine);
    const mcuCol = n % mcusPerLine;
    for (const c of scan) {
      for (let v = 0; v < c.v; v++) {
        for (let h = 0; h < c.h; h++) {
          decodeBlock(c, ((mcuRow * c.v + v) * c.blocksPerLine + mcuCol * c.h + h) * 64);
        }
      }
    }
  }
}
