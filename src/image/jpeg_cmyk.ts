// A JPEG decoder for 4-component (CMYK, YCCK) JPEGs, which @jsquash/jpeg refuses. It repeats
// libjpeg-turbo 2.1's integer arithmetic (Pillow 9.4's decoder) step for step, so the pixels
// are bitwise Pillow's: Huffman decoding (baseline and progressive, restart intervals), the
// "islow" integer IDCT (jidctint.c) with its range-limit table, "fancy" upsampling of
// subsampled components (jdsample.c), YCCK->CMYK (jdcolor.c) when the Adobe marker says so,
// and Pillow's "CMYK;I" rawmode (Adobe polarity: every sample inverted).
import { DenseNetError } from "../errors.js";
import { skipEntropyCodedData, type JpegInfo } from "./header.js";
import type { DecodedImage8 } from "./types.js";

/** Zig-zag index -> natural (row-major) index, with libjpeg's 16 guard entries past the end. */
const NATURAL = new Int32Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
  54, 47, 55, 62, 63, ...new Array(16).fill(63),
]);

interface Huffman {
  /** For each code length 1..16: the largest code (or -1), and the index of its first value. */
  readonly maxcode: Int32Array;
  readonly valptr: Int32Array;
  readonly mincode: Int32Array;
  readonly values: Uint8Array;
  /** For each 9-bit prefix: (code length << 8) | value when the code is at most 9 bits, else 0. */
  readonly lookup: Int32Array;
}

interface Component {
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

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
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

/** Decodes a 4-component JPEG to Pillow's "CMYK" pixels. `info` comes from readJpegInfo. */
export async function decodeJpegCmyk(bytes: Uint8Array, info: JpegInfo, name: string): Promise<DecodedImage8> {
  const corrupt = (why: string) => new DenseNetError(`${name}: corrupt JPEG (${why})`);
  const { width, height } = info;
  const hmax = Math.max(...info.components.map((c) => c.h));
  const vmax = Math.max(...info.components.map((c) => c.v));
  const mcusPerLine = Math.ceil(width / (8 * hmax));
  const mcusPerColumn = Math.ceil(height / (8 * vmax));
  const components: Component[] = info.components.map((c) => {
    const downW = Math.ceil((width * c.h) / hmax);
    const downH = Math.ceil((height * c.v) / vmax);
    const blocksPerLine = mcusPerLine * c.h;
    const blocksPerColumn = mcusPerColumn * c.v;
    return {
      ...c, blocksPerLine, blocksPerColumn, downW, downH,
      ownBlocksPerLine: Math.ceil(downW / 8), ownBlocksPerColumn: Math.ceil(downH / 8),
      coefs: new Int16Array(blocksPerLine * blocksPerColumn * 64), pred: 0, dc: null, ac: null,
    };
  });
  const quant: (Int32Array | null)[] = [null, null, null, null];
  const dcTables: (Huffman | null)[] = [null, null, null, null];
  const acTables: (Huffman | null)[] = [null, null, null, null];
  let restartInterval = 0;
  const u16 = (i: number) => (bytes[i] << 8) | bytes[i + 1];

  let i = 2;
  for (;;) {
    while (bytes[i] === 0xff) i++;
    const marker = bytes[i++];
    if (marker === 0xd9) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    const end = i + u16(i);
    let p = i + 2;
    if (marker === 0xdb) { // DQT
      while (p < end) {
        const pq = bytes[p] >> 4;
        const tq = bytes[p] & 15;
        if (tq > 3) throw corrupt(`quantization table ${tq}`);
        p++;
        const table = new Int32Array(64);
        for (let k = 0; k < 64; k++) {
          table[NATURAL[k]] = pq ? u16(p + 2 * k) : bytes[p + k];
        }
        p += pq ? 128 : 64;
        quant[tq] = table;
      }
    } else if (marker === 0xc4) { // DHT
      while (p < end) {
        const tc = bytes[p] >> 4;
        const th = bytes[p] & 15;
        if (th > 3 || tc > 1) throw corrupt(`Huffman table class ${tc} id ${th}`);
        const counts = bytes.subarray(p + 1, p + 17);
        const total = counts.reduce((a, b) => a + b, 0);
        const values = bytes.slice(p + 17, p + 17 + total);
        if (total > 256 || p + 17 + total > end) throw corrupt("Huffman table overruns its segment");
        (tc === 0 ? dcTables : acTables)[th] = buildHuffman(counts, values);
        p += 17 + total;
      }
    } else if (marker === 0xdd) { // DRI
      restartInterval = u16(p);
    } else if (marker === 0xda) { // SOS
      const count = bytes[p];
      const scan: Component[] = [];
      for (let k = 0; k < count; k++) {
        const id = bytes[p + 1 + 2 * k];
        const tables = bytes[p + 2 + 2 * k];
        const c = components.find((x) => x.id === id);
        if (!c) throw corrupt(`scan names component ${id}, which the frame lacks`);
        c.dc = dcTables[tables >> 4] ?? null;
        c.ac = acTables[tables & 15] ?? null;
        scan.push(c);
      }
      const q = p + 1 + 2 * count;
      const ss = bytes[q];
      const se = bytes[q + 1];
      const ah = bytes[q + 2] >> 4;
      const al = bytes[q + 2] & 15;
      decodeScan(bytes, end, scan, info.process === 2, ss, se, ah, al, restartInterval, mcusPerLine, mcusPerColumn, corrupt);
      i = skipEntropyCodedData(bytes, end);
      continue;
    }
    i = end;
  }

  // IDCT every block into a plane per component, then upsample, convert and invert.
  const planes = components.map((c) => {
    const q = quant[c.tq];
    if (!q) throw corrupt(`component ${c.id} uses quantization table ${c.tq}, which is not defined`);
    return idctPlane(c, q);
  });
  const full = components.map((c, k) => upsample(planes[k], c, hmax, vmax, width, height, name));
  const pixels = width * height;
  const out = new Uint8Array(pixels * 4);
  const transform = info.adobeTransform;
  if (transform !== null && transform !== 0) yccToCmyk(full, out, pixels);
  else for (let p = 0; p < pixels; p++) for (let c = 0; c < 4; c++) out[4 * p + c] = full[c][p];
  for (let k = 0; k < out.length; k++) out[k] = 255 - out[k]; // Pillow's "CMYK;I"
  return { width, height, mode: "CMYK", data: out };
}

/** Reads the entropy-coded data of one scan starting at `start`, into the components' coefficients. */
function decodeScan(
  bytes: Uint8Array, start: number, scan: Component[], progressive: boolean, ss: number, se: number, ah: number, al: number,
  restartInterval: number, mcusPerLine: number, mcusPerColumn: number, corrupt: (why: string) => DenseNetError,
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
          else { atMarker = true; b = 0; }
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

// jidctint.c's constants: FIX(x) = round(x · 2^13).
const F0_298631336 = 2446, F0_390180644 = 3196, F0_541196100 = 4433, F0_765366865 = 6270;
const F0_899976223 = 7373, F1_175875602 = 9633, F1_501321110 = 12299, F1_847759065 = 15137;
const F1_961570560 = 16069, F2_053119869 = 16819, F2_562915447 = 20995, F3_072711026 = 25172;

/**
 * libjpeg's DESCALE: (x + 2^(n-1)) >> n on 64-bit integers. x is an exact integer in float64;
 * the 32-bit shift serves whenever the sum fits (always for valid files), floor division else.
 */
function descale(x: number, n: number, half: number, scale: number): number {
  const t = x + half;
  return t >= -2147483648 && t <= 2147483647 ? t >> n : Math.floor(t / scale);
}

/** The IDCT range limit (sample_range_limit + CENTERJSAMPLE), indexed by value & 1023. */
const IDCT_LIMIT = (() => {
  const t = new Uint8Array(1024);
  for (let x = 0; x < 1024; x++) t[x] = x < 128 ? x + 128 : x < 512 ? 255 : x < 896 ? 0 : x - 896;
  return t;
})();

/** jpeg_idct_islow over every block of a component: a (blocksPerColumn·8, blocksPerLine·8) plane. */
function idctPlane(c: Component, q: Int32Array): Uint8Array {
  const stride = c.blocksPerLine * 8;
  const plane = new Uint8Array(stride * c.blocksPerColumn * 8);
  const ws = new Float64Array(64);
  const v = new Float64Array(8);
  const coefs = c.coefs;
  for (let by = 0; by < c.blocksPerColumn; by++) {
    for (let bx = 0; bx < c.blocksPerLine; bx++) {
      const o = (by * c.blocksPerLine + bx) * 64;
      // Pass 1: columns, dequantized; a column with no AC term is its DC · 2^PASS1_BITS.
      for (let col = 0; col < 8; col++) {
        let ac = 0;
        for (let r = 1; r < 8; r++) ac |= coefs[o + 8 * r + col];
        if (ac === 0) {
          const dc = coefs[o + col] * q[col] * 4;
          for (let r = 0; r < 8; r++) ws[8 * r + col] = dc | 0;
          continue;
        }
        for (let r = 0; r < 8; r++) v[r] = coefs[o + 8 * r + col] * q[8 * r + col];
        idct1d(v, 11);
        for (let r = 0; r < 8; r++) ws[8 * r + col] = v[r] | 0; // libjpeg's int workspace
      }
      // Pass 2: rows, descaled by 2^(CONST_BITS + PASS1_BITS + 3), range-limited.
      for (let r = 0; r < 8; r++) {
        const out = (by * 8 + r) * stride + bx * 8;
        const w = 8 * r;
        if (ws[w + 1] === 0 && ws[w + 2] === 0 && ws[w + 3] === 0 && ws[w + 4] === 0 && ws[w + 5] === 0 && ws[w + 6] === 0 && ws[w + 7] === 0) {
          plane.fill(IDCT_LIMIT[descale(ws[w], 5, 16, 32) & 1023], out, out + 8);
          continue;
        }
        for (let col = 0; col < 8; col++) v[col] = ws[w + col];
        idct1d(v, 18);
        for (let col = 0; col < 8; col++) plane[out + col] = IDCT_LIMIT[v[col] & 1023];
      }
    }
  }
  return plane;
}

/**
 * One 8-point pass of jpeg_idct_islow on v (in place), descaled by `shift` bits (11 for the
 * column pass, 18 for the row pass). libjpeg's shortcuts for all-zero AC terms (above) give
 * the same values as this full computation.
 */
function idct1d(v: Float64Array, shift: number): void {
  const half = 2 ** (shift - 1);
  const scale = 2 ** shift;
  let z2 = v[2];
  let z3 = v[6];
  let z1 = (z2 + z3) * F0_541196100;
  let tmp2 = z1 + z3 * -F1_847759065;
  let tmp3 = z1 + z2 * F0_765366865;
  z2 = v[0];
  z3 = v[4];
  let tmp0 = (z2 + z3) * 8192;
  let tmp1 = (z2 - z3) * 8192;
  const tmp10 = tmp0 + tmp3;
  const tmp13 = tmp0 - tmp3;
  const tmp11 = tmp1 + tmp2;
  const tmp12 = tmp1 - tmp2;
  tmp0 = v[7];
  tmp1 = v[5];
  tmp2 = v[3];
  tmp3 = v[1];
  z1 = tmp0 + tmp3;
  z2 = tmp1 + tmp2;
  z3 = tmp0 + tmp2;
  let z4 = tmp1 + tmp3;
  const z5 = (z3 + z4) * F1_175875602;
  tmp0 *= F0_298631336;
  tmp1 *= F2_053119869;
  tmp2 *= F3_072711026;
  tmp3 *= F1_501321110;
  z1 *= -F0_899976223;
  z2 *= -F2_562915447;
  z3 = z3 * -F1_961570560 + z5;
  z4 = z4 * -F0_390180644 + z5;
  tmp0 += z1 + z3;
  tmp1 += z2 + z4;
  tmp2 += z2 + z3;
  tmp3 += z1 + z4;
  v[0] = descale(tmp10 + tmp3, shift, half, scale);
  v[7] = descale(tmp10 - tmp3, shift, half, scale);
  v[1] = descale(tmp11 + tmp2, shift, half, scale);
  v[6] = descale(tmp11 - tmp2, shift, half, scale);
  v[2] = descale(tmp12 + tmp1, shift, half, scale);
  v[5] = descale(tmp12 - tmp1, shift, half, scale);
  v[3] = descale(tmp13 + tmp0, shift, half, scale);
  v[4] = descale(tmp13 - tmp0, shift, half, scale);
}

/**
 * A component's samples at full resolution, (height, width), as libjpeg-turbo's upsampler
 * makes them: fancy (triangle) h2v1, h1v2 and h2v2, plain replication for other integer
 * factors (and for h2 components 2 samples wide or less); rows past the component's last are
 * that row repeated, as libjpeg's context rows are.
 */
function upsample(plane: Uint8Array, c: Component, hmax: number, vmax: number, width: number, height: number, name: string): Uint8Array {
  const stride = c.blocksPerLine * 8;
  const he = hmax / c.h;
  const ve = vmax / c.v;
  if (!Number.isInteger(he) || !Number.isInteger(ve)) {
    throw new DenseNetError(`${name}: unsupported JPEG (fractional sampling ${c.h}×${c.v} of ${hmax}×${vmax})`);
  }
  const out = new Uint8Array(width * height);
  const row = (y: number) => Math.min(Math.max(y, 0), c.downH - 1) * stride;
  const fancyH = he === 2 && c.downW > 2;
  if (he === 1 && ve === 1) {
    for (let y = 0; y < height; y++) out.set(plane.subarray(y * stride, y * stride + width), y * width);
  } else if (fancyH && ve === 1) {
    const line = new Uint8Array(2 * c.downW);
    for (let y = 0; y < height; y++) {
      const r = y * stride;
      const w = c.downW;
      line[0] = plane[r];
      line[1] = (plane[r] * 3 + plane[r + 1] + 2) >> 2;
      for (let x = 1; x < w - 1; x++) {
        const cur = plane[r + x] * 3;
        line[2 * x] = (cur + plane[r + x - 1] + 1) >> 2;
        line[2 * x + 1] = (cur + plane[r + x + 1] + 2) >> 2;
      }
      line[2 * w - 2] = (plane[r + w - 1] * 3 + plane[r + w - 2] + 1) >> 2;
      line[2 * w - 1] = plane[r + w - 1];
      out.set(line.subarray(0, width), y * width);
    }
  } else if (he === 1 && ve === 2) {
    for (let y = 0; y < height; y++) {
      const near = row(y >> 1);
      const far = row((y >> 1) + (y & 1 ? 1 : -1));
      const bias = y & 1 ? 2 : 1;
      for (let x = 0; x < width; x++) out[y * width + x] = (plane[near + x] * 3 + plane[far + x] + bias) >> 2;
    }
  } else if (fancyH && ve === 2) {
    const w = c.downW;
    const sums = new Int32Array(w);
    const line = new Uint8Array(2 * w);
    for (let y = 0; y < height; y++) {
      const near = row(y >> 1);
      const far = row((y >> 1) + (y & 1 ? 1 : -1));
      for (let x = 0; x < w; x++) sums[x] = plane[near + x] * 3 + plane[far + x];
      line[0] = (sums[0] * 4 + 8) >> 4;
      line[1] = (sums[0] * 3 + sums[1] + 7) >> 4;
      for (let x = 1; x < w - 1; x++) {
        line[2 * x] = (sums[x] * 3 + sums[x - 1] + 8) >> 4;
        line[2 * x + 1] = (sums[x] * 3 + sums[x + 1] + 7) >> 4;
      }
      line[2 * w - 2] = (sums[w - 1] * 3 + sums[w - 2] + 8) >> 4;
      line[2 * w - 1] = (sums[w - 1] * 4 + 7) >> 4;
      out.set(line.subarray(0, width), y * width);
    }
  } else {
    for (let y = 0; y < height; y++) {
      const r = Math.floor(y / ve) * stride;
      for (let x = 0; x < width; x++) out[y * width + x] = plane[r + Math.floor(x / he)];
    }
  }
  return out;
}

// jdcolor.c's YCC tables: FIX(x) = round(x · 2^16).
const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
const CR_G = new Float64Array(256);
const CB_G = new Float64Array(256);
for (let k = 0; k < 256; k++) {
  const x = k - 128;
  CR_R[k] = Math.floor((91881 * x + 32768) / 65536);
  CB_B[k] = Math.floor((116130 * x + 32768) / 65536);
  CR_G[k] = -46802 * x;
  CB_G[k] = -22554 * x + 32768;
}

/** ycck_cmyk_convert: Y, Cb, Cr to C, M, Y (as 255 - R, G, B, range-limited); K unchanged. */
function yccToCmyk(full: Uint8Array[], out: Uint8Array, pixels: number): void {
  const limit = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  const [y0, cb0, cr0, k0] = full;
  for (let p = 0; p < pixels; p++) {
    const y = y0[p];
    const cb = cb0[p];
    const cr = cr0[p];
    out[4 * p] = limit(255 - (y + CR_R[cr]));
    out[4 * p + 1] = limit(255 - (y + Math.floor((CB_G[cb] + CR_G[cr]) / 65536)));
    out[4 * p + 2] = limit(255 - (y + CB_B[cb]));
    out[4 * p + 3] = k0[p];
  }
}
