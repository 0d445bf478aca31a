// Pillow 9.4's Image.resize(size, BILINEAR) for 8-bit images (libImaging/Resample.c), ported
// to typed arrays: a triangle filter widened by the scale when shrinking (antialiasing),
// coefficients computed in float64 as Pillow does, then rounded to 22-bit fixed point; a
// horizontal pass into uint8, then a vertical pass, each rounding and clamping to 0..255.
import { DenseNetError } from "../errors.js";
import { MAX_IMAGE_PIXELS } from "./header.js";
import type { ModelImage } from "./types.js";

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const ONE = 1 << PRECISION_BITS;

/** One axis' filter: output i reads inputs start[i] .. start[i] + count[i] - 1 with weights k[i·ksize + j]. */
interface AxisCoefficients {
  readonly ksize: number;
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly k: Int32Array;
}

function bilinear(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the box (0, inSize) and BILINEAR. */
function axisCoefficients(inSize: number, outSize: number): AxisCoefficients {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = 1.0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      w[x] = bilinear((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0.0 ? w[x] / ww : w[x];
      k[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, start, count, k };
}

/** Checks an output size: positive integers, at most MAX_IMAGE_PIXELS pixels. */
function checkSize(width: number, height: number, what: string): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new DenseNetError(`${what}: size must be positive integers, got ${width}×${height}`);
  }
  if (width * height > MAX_IMAGE_PIXELS) throw new DenseNetError(`${what}: ${width}×${height} is more than ${MAX_IMAGE_PIXELS} pixels`);
}

/**
 * Resizes to width × height exactly as Pillow 9.4's `img.resize((width, height), Image.BILINEAR)`
 * (what torchvision's `Resize` calls on a PIL image), bit for bit.
 */
export function resizeImage(img: ModelImage, width: number, height: number): ModelImage {
  checkSize(width, height, "resizeImage");
  const channels = img.mode === "RGB" ? 3 : 1;
  const inW = img.width;
  const inH = img.height;
  if (width === inW && height === inH) return { ...img, data: img.data.slice() };
  const vertical = axisCoefficients(inH, height);
  // Rows of the source the vertical pass reads (Pillow resamples only those horizontally).
  const firstRow = vertical.start[0];
  const lastRow = vertical.start[height - 1] + vertical.count[height - 1];
  let src = img.data;
  let srcRow0 = 0;
  if (width !== inW) {
    src = horizontalPass(img.data, inW, channels, firstRow, lastRow, axisCoefficients(inW, width), width);
    srcRow0 = firstRow;
  }
  if (height === inH) return { width, height, mode: img.mode, data: src };
  const data = verticalPass(src, width * channels, srcRow0, vertical, height);
  return { width, height, mode: img.mode, data };
}

/** Rows [firstRow, lastRow) of (·, inW, channels) resampled to outW columns. */
function horizontalPass(
  src: Uint8Array,
  inW: number,
  channels: number,
  firstRow: number,
  lastRow: number,
  c: AxisCoefficients,
  outW: number,
): Uint8Array {
  const rows = lastRow - firstRow;
  const out = new Uint8ClampedArray(rows * outW * channels); // clamps like Pillow's clip8
  const { ksize, start, count, k } = c;
  const inStride = inW * channels;
  for (let r = 0; r < rows; r++) {
    const rowIn = (firstRow + r) * inStride;
    let o = r * outW * channels;
    if (channels === 1) {
      for (let xx = 0; xx < outW; xx++) {
        const base = rowIn + start[xx];
        const kb = xx * ksize;
        const n = count[xx];
        let s = HALF;
        for (let x = 0; x < n; x++) s += src[base + x] * k[kb + x];
        out[o++] = s >> PRECISION_BITS;
      }
    } else {
      for (let xx = 0; xx < outW; xx++) {
        let p = rowIn + start[xx] * 3;
        const kb = xx * ksize;
        const n = count[xx];
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let x = 0; x < n; x++, p += 3) {
          const w = k[kb + x];
          s0 += src[p] * w;
          s1 += src[p + 1] * w;
          s2 += src[p + 2] * w;
        }
        out[o] = s0 >> PRECISION_BITS;
        out[o + 1] = s1 >> PRECISION_BITS;
        out[o + 2] = s2 >> PRECISION_BITS;
        o += 3;
      }
    }
  }
  return new Uint8Array(out.buffer);
}

/** (·, rowLength) rows, the first of which is source row `row0`, resampled to outH rows. */
function verticalPass(src: Uint8Array, rowLength: number, row0: number, c: AxisCoefficients, outH: number): Uint8Array {
  const out = new Uint8ClampedArray(outH * rowLength);
  const acc = new Int32Array(rowLength);
  const { ksize, start, count, k } = c;
  for (let yy = 0; yy < outH; yy++) {
    acc.fill(HALF);
    const n = count[yy];
    for (let y = 0; y < n; y++) {
      const w = k[yy * ksize + y];
      const rowIn = (start[yy] - row0 + y) * rowLength;
      for (let i = 0; i < rowLength; i++) acc[i] += src[rowIn + i] * w;
    }
    const o = yy * rowLength;
    for (let i = 0; i < rowLength; i++) out[o + i] = acc[i] >> PRECISION_BITS;
  }
  return new Uint8Array(out.buffer);
}
