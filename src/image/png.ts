// PNG decoding to Pillow 9.4's pixels: every colour type and bit depth, Adam7 interlacing,
// palette with tRNS. The chunks are walked and CRC-checked here and the size is checked
// against MAX_IMAGE_PIXELS from IHDR before anything is inflated; fflate inflates the image
// data into a buffer of exactly the size the header implies, refusing more (a zlib bomb) or less.
import { Unzlib } from "fflate";
import { DenseNetError } from "../errors.js";
import { checkImageSize } from "./header.js";
import type { DecodedImage } from "./types.js";

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

/** Samples per pixel of each PNG colour type. */
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, readonly number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
/** Adam7 passes: x0, y0, dx, dy. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A chunk type as text when it is 4 ASCII letters (as it must be), else as hex. */
function chunkName(bytes: Uint8Array, i: number): string {
  const b = bytes.subarray(i, i + 4);
  const letters = b.every((c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122));
  return letters ? String.fromCharCode(...b) : `0x${Array.from(b, (c) => c.toString(16).padStart(2, "0")).join("")}`;
}

/** Decodes a PNG (its signature already checked) into the mode Pillow 9.4 would open. */
export function decodePng(bytes: Uint8Array, name: string): DecodedImage {
  const n = bytes.length;
  const u32 = (i: number) => ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  let transparency: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let i = 8;
  while (i < n) {
    if (i + 12 > n) throw new DenseNetError(`${name}: truncated PNG (a chunk header cut off at byte ${i} of ${n})`);
    const length = u32(i);
    const type = chunkName(bytes, i + 4);
    const data = i + 8;
    const end = data + length;
    if (end + 4 > n) throw new DenseNetError(`${name}: truncated PNG (chunk ${type} cut off)`);
    if (crc32(bytes, i + 4, end) !== u32(end)) throw new DenseNetError(`${name}: corrupt PNG (bad CRC in chunk ${type})`);
    if (!header && type !== "IHDR") throw new DenseNetError(`${name}: corrupt PNG (first chunk is ${type}, not IHDR)`);
    if (type === "IHDR") {
      if (header) throw new DenseNetError(`${name}: corrupt PNG (two IHDR chunks)`);
      if (length !== 13) throw new DenseNetError(`${name}: corrupt PNG (IHDR has ${length} bytes, not 13)`);
      header = readHeader(bytes, data, name);
    } else if (type === "PLTE") {
      if (length % 3 !== 0 || length === 0 || length > 768) throw new DenseNetError(`${name}: corrupt PNG (PLTE of ${length} bytes)`);
      palette = bytes.subarray(data, end);
    } else if (type === "tRNS") {
      transparency = bytes.subarray(data, end);
    } else if (type === "IDAT") {
      idat.push(bytes.subarray(data, end));
    } else if (type === "IEND") {
      break;
    } else if (!(bytes[i + 4] & 0x20)) {
      throw new DenseNetError(`${name}: unsupported PNG (unknown critical chunk ${type})`);
    }
    i = end + 4;
  }
  if (!header) throw new DenseNetError(`${name}: truncated PNG (no IHDR chunk)`);
  if (idat.length === 0) throw new DenseNetError(`${name}: truncated PNG (no image data)`);
  if (header.colorType === 3 && !palette) throw new DenseNetError(`${name}: corrupt PNG (palette image without PLTE)`);
  const raw = inflateExactly(idat, rawSize(header), name);
  return unpack(raw, header, palette, transparency, name);
}

function readHeader(bytes: Uint8Array, i: number, name: string): Header {
  const u32 = (k: number) => ((bytes[k] << 24) | (bytes[k + 1] << 16) | (bytes[k + 2] << 8) | bytes[k + 3]) >>> 0;
  const width = u32(i);
  const height = u32(i + 4);
  const [depth, colorType, compression, filter, interlace] = bytes.subarray(i + 8, i + 13);
  checkImageSize(width, height, name);
  if (!(colorType in SAMPLES)) throw new DenseNetError(`${name}: corrupt PNG (colour type ${colorType})`);
  if (!DEPTHS[colorType].includes(depth))
    throw new DenseNetError(`${name}: corrupt PNG (bit depth ${depth} with colour type ${colorType})`);
  if (compression !== 0 || filter !== 0 || interlace > 1) {
    throw new DenseNetError(`${name}: unsupported PNG (compression ${compression}, filter ${filter}, interlace ${interlace})`);
  }
  return { width, height, depth, colorType, interlaced: interlace === 1 };
}

/** Bytes per filtered row of `w` pixels, without the filter-type byte. */
function rowBytes(h: Header, w: number): number {
  return Math.ceil((w * SAMPLES[h.colorType] * h.depth) / 8);
}

/** The (pass width, pass height) of each pass: one pass, or Adam7's seven. */
function passes(h: Header): { x0: number; y0: number; dx: number; dy: number; w: number; rows: number }[] {
  if (!h.interlaced) return [{ x0: 0, y0: 0, dx: 1, dy: 1, w: h.width, rows: h.height }];
  return ADAM7.map(([x0, y0, dx, dy]) => ({
    x0,
    y0,
    dx,
    dy,
    w: Math.max(0, Math.ceil((h.width - x0) / dx)),
    rows: Math.max(0, Math.ceil((h.height - y0) / dy)),
  })).filter((p) => p.w > 0 && p.rows > 0);
}

function rawSize(h: Header): number {
  return passes(h).reduce((sum, p) => sum + p.rows * (1 + rowBytes(h, p.w)), 0);
}

/** Bytes of compressed data inflated at a time. */
const SLICE = 4096;

/** Inflates the zlib stream of the IDAT chunks into exactly `size` bytes, or throws. */
function inflateExactly(chunks: Uint8Array[], size: number, name: string): Uint8Array {
  const out = new Uint8Array(size);
  let filled = 0;
  let overflow = false;
  const inflater = new Unzlib((chunk) => {
    if (filled + chunk.length > size) overflow = true;
    else out.set(chunk, filled);
    filled += chunk.length;
  });
  try {
    // Pushed in slices so that a zlib bomb stops within one slice's output (≤ ~1032 × SLICE).
    for (let k = 0; k < chunks.length && !overflow; k++) {
      const chunk = chunks[k];
      for (let at = 0; at < chunk.length && !overflow; at += SLICE) {
        const end = Math.min(chunk.length, at + SLICE);
        inflater.push(chunk.subarray(at, end), k === chunks.length - 1 && end === chunk.length);
      }
    }
  } catch (e) {
    throw new DenseNetError(`${name}: corrupt PNG image data (${e instanceof Error ? e.message : String(e)})`);
  }
  if (overflow) throw new DenseNetError(`${name}: corrupt PNG (image data inflates to more than the ${size} bytes its header implies)`);
  if (filled < size) throw new DenseNetError(`${name}: truncated PNG image data (${filled} of ${size} bytes)`);
  return out;
}

/** Reverses the PNG filter of one row in place; `prev` is the previous unfiltered row (zeros first). */
function unfilter(type: number, row: Uint8Array, prev: Uint8Array, bpp: number, name: string): void {
  const len = row.length;
  switch (type) {
    case 0:
      return;
    case 1:
      for (let x = bpp; x < len; x++) row[x] = (row[x] + row[x - bpp]) & 255;
      return;
    case 2:
      for (let x = 0; x < len; x++) row[x] = (row[x] + prev[x]) & 255;
      return;
    case 3:
      for (let x = 0; x < len; x++) row[x] = (row[x] + (((x >= bpp ? row[x - bpp] : 0) + prev[x]) >> 1)) & 255;
      return;
    case 4:
      for (let x = 0; x < len; x++) {
        const a = x >= bpp ? row[x - bpp] : 0;
        const b = prev[x];
        const c = x >= bpp ? prev[x - bpp] : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        row[x] = (row[x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      }
      return;
    default:
      throw new DenseNetError(`${name}: corrupt PNG (row filter type ${type})`);
  }
}

/**
 * Unfilters every row and writes its pixels where they go, in Pillow's mode: grey 1/2/4-bit to
 * "L" scaled to 0..255 (Pillow's "1" and "L;2"/"L;4" unpackers), 16-bit grey to "I;16", other
 * 16-bit samples to their high byte (Pillow's ";16B" rawmodes), a palette to "RGB"/"RGBA".
 */
function unpack(raw: Uint8Array, h: Header, palette: Uint8Array | null, trns: Uint8Array | null, name: string): DecodedImage {
  const { width, height, depth, colorType } = h;
  const samples = SAMPLES[colorType];
  const isPalette = colorType === 3;
  const withAlpha = isPalette && trns !== null;
  const mode =
    colorType === 0
      ? depth === 16
        ? "I;16"
        : "L"
      : colorType === 2
        ? "RGB"
        : colorType === 4
          ? "LA"
          : colorType === 6
            ? "RGBA"
            : withAlpha
              ? "RGBA"
              : "RGB";
  const outChannels = isPalette ? (withAlpha ? 4 : 3) : samples;
  const out16 = mode === "I;16" ? new Uint16Array(width * height) : null;
  const out8 = out16 ? null : new Uint8Array(width * height * outChannels);
  // Palette as RGBA, 256 entries; entries past PLTE are Pillow's default grey ramp.
  const lut = new Uint8Array(1024);
  if (isPalette) {
    for (let k = 0; k < 256; k++) {
      const has = palette !== null && 3 * k + 2 < palette.length;
      lut[4 * k] = has ? palette![3 * k] : k;
      lut[4 * k + 1] = has ? palette![3 * k + 1] : k;
      lut[4 * k + 2] = has ? palette![3 * k + 2] : k;
      lut[4 * k + 3] = trns !== null && k < trns.length ? trns[k] : 255;
    }
  }
  const scale = depth === 1 ? 255 : depth === 2 ? 85 : depth === 4 ? 17 : 1;
  const bpp = Math.max(1, (samples * depth) >> 3);
  let offset = 0;
  for (const p of passes(h)) {
    const len = rowBytes(h, p.w);
    let prev: Uint8Array = new Uint8Array(len);
    for (let r = 0; r < p.rows; r++) {
      const type = raw[offset];
      const row = raw.subarray(offset + 1, offset + 1 + len);
      offset += 1 + len;
      unfilter(type, row, prev, bpp, name);
      prev = row;
      const y = p.y0 + r * p.dy;
      for (let k = 0; k < p.w; k++) {
        const pixel = y * width + p.x0 + k * p.dx;
        if (depth < 8) {
          const bit = k * depth;
          const v = (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
          if (isPalette) out8!.set(lut.subarray(4 * v, 4 * v + outChannels), pixel * outChannels);
          else out8![pixel] = v * scale;
        } else if (depth === 8) {
          if (isPalette) {
            const v = row[k];
            const o = pixel * outChannels;
            out8![o] = lut[4 * v];
            out8![o + 1] = lut[4 * v + 1];
            out8![o + 2] = lut[4 * v + 2];
            if (withAlpha) out8![o + 3] = lut[4 * v + 3];
          } else {
            const o = pixel * samples;
            for (let c = 0; c < samples; c++) out8![o + c] = row[k * samples + c];
          }
        } else if (out16) {
          out16[pixel] = (row[2 * k] << 8) | row[2 * k + 1];
        } else {
          const o = pixel * samples;
          for (let c = 0; c < samples; c++) out8![o + c] = row[2 * (k * samples + c)];
        }
      }
    }
  }
  return out16 ? { width, height, mode: "I;16", data: out16 } : { width, height, mode: mode as "L" | "LA" | "RGB" | "RGBA", data: out8! };
}
