// From coefficients to CMYK samples as libjpeg-turbo 2.1 computes them: the "islow" integer
// IDCT (jidctint.c) with its range-limit table, upsampling of subsampled components
// (jdsample.c: fancy h2v1, h1v2, h2v2, else replication) and YCCK->CMYK (jdcolor.c).
import { DenseNetError } from "../errors.js";
import type { Component } from "./jpeg_scan.js";

// jidctint.c's constants: FIX(x) = round(x · 2^13).
const F0_298631336 = 2446,
  F0_390180644 = 3196,
  F0_541196100 = 4433,
  F0_765366865 = 6270;
const F0_899976223 = 7373,
  F1_175875602 = 9633,
  F1_501321110 = 12299,
  F1_847759065 = 15137;
const F1_961570560 = 16069,
  F2_053119869 = 16819,
  F2_562915447 = 20995,
  F3_072711026 = 25172;

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
export function idctPlane(c: Component, q: Int32Array): Uint8Array {
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
        if (
          ws[w + 1] === 0 &&
          ws[w + 2] === 0 &&
          ws[w + 3] === 0 &&
          ws[w + 4] === 0 &&
          ws[w + 5] === 0 &&
          ws[w + 6] === 0 &&
          ws[w + 7] === 0
        ) {
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
export function upsample(
  plane: Uint8Array,
  c: Component,
  hmax: number,
  vmax: number,
  width: number,
  height: number,
  name: string,
): Uint8Array {
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
export function yccToCmyk(full: Uint8Array[], out: Uint8Array, pixels: number): void {
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
