// Format sniffing and header reading, before any pixel is decoded: the decompression-bomb
// guard and the structural checks (truncation, unsupported variants) run on these.
import { DenseNetError } from "../errors.js";

/**
 * The most pixels (width × height) an image may have: Pillow's `Image.MAX_IMAGE_PIXELS`
 * (89,478,485, about 0.25 GiB of RGB bytes). Pillow warns above it and refuses above twice it;
 * we refuse above it, from the header, before anything is allocated.
 */
export const MAX_IMAGE_PIXELS = 89_478_485;

export type ImageFormat = "jpeg" | "png" | "gif" | "webp" | "bmp" | "tiff" | "jpeg2000" | "heif" | "avif";

/** The format told by the first bytes (never by the name), or null when none is recognised. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  const at = (i: number, ...b: number[]) => b.every((v, k) => bytes[i + k] === v);
  const ascii = (i: number, s: string) => at(i, ...Array.from(s, (c) => c.charCodeAt(0)));
  if (at(0, 0xff, 0xd8, 0xff)) return "jpeg";
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "png";
  if (ascii(0, "GIF87a") || ascii(0, "GIF89a")) return "gif";
  if (ascii(0, "RIFF") && ascii(8, "WEBP")) return "webp";
  if (ascii(0, "BM")) return "bmp";
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return "tiff";
  if (at(0, 0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20) || at(0, 0xff, 0x4f, 0xff, 0x51)) return "jpeg2000";
  if (ascii(4, "ftypavif")) return "avif";
  if (ascii(4, "ftypheic") || ascii(4, "ftypmif1")) return "heif";
  return null;
}

/** Throws unless width × height is a positive size within MAX_IMAGE_PIXELS. */
export function checkImageSize(width: number, height: number, name: string): void {
  if (width <= 0 || height <= 0) throw new DenseNetError(`${name}: image is ${width}×${height}, it has no pixels`);
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new DenseNetError(
      `${name}: image is ${width}×${height} = ${width * height} pixels, more than the limit of ${MAX_IMAGE_PIXELS} (a decompression bomb?)`,
    );
  }
}

/** One frame component of a JPEG (SOF): its id and sampling factors. */
export interface JpegComponentInfo {
  readonly id: number;
  readonly h: number;
  readonly v: number;
  readonly tq: number;
}

/** What the markers of a JPEG say, read without decoding a pixel. */
export interface JpegInfo {
  readonly width: number;
  readonly height: number;
  /** The SOF marker's low nibble: 0 baseline, 1 extended, 2 progressive (Huffman coding). */
  readonly process: number;
  readonly components: readonly JpegComponentInfo[];
  /** The Adobe APP14 colour transform (0 none, 1 YCbCr, 2 YCCK), or null without one. */
  readonly adobeTransform: number | null;
  /** The EXIF orientation tag (1..8), or 1 when there is none. */
  readonly exifOrientation: number;
}

/**
 * SOF processes decoded here: Huffman-coded baseline, extended and progressive. Pillow's
 * libjpeg-turbo also decodes arithmetic coding (SOF9, SOF10), which @jsquash/jpeg's build lacks.
 */
const SUPPORTED_PROCESSES = new Set([0, 1, 2]);

/**
 * Walks every marker of a JPEG, skipping entropy-coded data, up to its EOI marker. Throws a
 * one-line DenseNetError for a truncated file (no EOI: Pillow raises "image file is truncated"
 * then too), a missing or unsupported frame header, or a size over the limit.
 */
export function readJpegInfo(bytes: Uint8Array, name: string): JpegInfo {
  const n = bytes.length;
  const truncated = (where: string) => new DenseNetError(`${name}: truncated JPEG (${where} after ${n} bytes)`);
  const u16 = (i: number) => (bytes[i] << 8) | bytes[i + 1];
  let frame: Omit<JpegInfo, "adobeTransform" | "exifOrientation"> | null = null;
  let adobeTransform: number | null = null;
  let exifOrientation = 1;
  let scans = 0;
  let i = 2;
  for (;;) {
    if (i >= n) throw truncated("no end-of-image marker");
    if (bytes[i] !== 0xff) throw new DenseNetError(`${name}: corrupt JPEG (expected a marker at byte ${i})`);
    while (i < n && bytes[i] === 0xff) i++; // fill bytes
    if (i >= n) throw truncated("no end-of-image marker");
    const marker = bytes[i++];
    if (marker === 0xd9) break; // EOI
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // standalone markers
    if (i + 2 > n) throw truncated("a segment header cut off");
    const length = u16(i);
    if (length < 2)
      throw new DenseNetError(`${name}: corrupt JPEG (segment 0xFF${marker.toString(16).toUpperCase()} has length ${length})`);
    const end = i + length;
    if (end > n) throw truncated(`segment 0xFF${marker.toString(16).toUpperCase()} cut off`);
    const s = i + 2; // segment payload
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (frame) throw new DenseNetError(`${name}: corrupt JPEG (two frame headers)`);
      const process = marker & 0x0f;
      const precision = bytes[s];
      const height = u16(s + 1);
      const width = u16(s + 3);
      const count = bytes[s + 5];
      if (length < 8 + 3 * count) throw new DenseNetError(`${name}: corrupt JPEG (frame header too short)`);
      if (!SUPPORTED_PROCESSES.has(process)) {
        const kind = process === 9 || process === 10 ? "arithmetic coding" : "lossless or hierarchical JPEG";
        throw new DenseNetError(`${name}: unsupported JPEG (SOF${process}: ${kind}; baseline and progressive Huffman JPEGs are supported)`);
      }
      if (precision !== 8) throw new DenseNetError(`${name}: unsupported JPEG with ${precision}-bit samples (only 8-bit)`);
      if (count !== 1 && count !== 3 && count !== 4)
        throw new DenseNetError(`${name}: unsupported JPEG with ${count} components (1, 3 or 4)`);
      checkImageSize(width, height, name);
      const components: JpegComponentInfo[] = [];
      for (let c = 0; c < count; c++) {
        const hv = bytes[s + 7 + 3 * c];
        const h = hv >> 4;
        const v = hv & 15;
        if (h < 1 || h > 4 || v < 1 || v > 4) throw new DenseNetError(`${name}: corrupt JPEG (component sampling ${h}×${v})`);
        components.push({ id: bytes[s + 6 + 3 * c], h, v, tq: bytes[s + 8 + 3 * c] & 15 });
      }
      frame = { width, height, process, components };
    } else if (marker === 0xee && length >= 14 && String.fromCharCode(...bytes.subarray(s, s + 5)) === "Adobe") {
      adobeTransform = bytes[s + 11];
    } else if (marker === 0xe1 && length >= 16 && String.fromCharCode(...bytes.subarray(s, s + 6)) === "Exif\0\0") {
      exifOrientation = readExifOrientation(bytes.subarray(s + 6, end)) ?? exifOrientation;
    } else if (marker === 0xda) {
      if (!frame) throw new DenseNetError(`${name}: corrupt JPEG (scan before the frame header)`);
      scans++;
      i = skipEntropyCodedData(bytes, end);
      continue;
    }
    i = end;
  }
  if (!frame) throw new DenseNetError(`${name}: corrupt JPEG (no frame header)`);
  if (scans === 0) throw new DenseNetError(`${name}: corrupt JPEG (no scan)`);
  return { ...frame, adobeTransform, exifOrientation };
}

/** The offset of the first marker after entropy-coded data starting at `i` (n if none). */
export function skipEntropyCodedData(bytes: Uint8Array, i: number): number {
  const n = bytes.length;
  while (i < n) {
    i = bytes.indexOf(0xff, i); // native search: entropy-coded data is most of a JPEG
    if (i < 0) return n;
    const next = bytes[i + 1];
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7))
      i += 2; // stuffed byte, restart marker
    else if (next === 0xff)
      i++; // fill byte before a marker
    else return i;
  }
  return n;
}

/** The orientation tag (0x0112) of an EXIF TIFF block, or null. Out-of-range reads give null. */
function readExifOrientation(tiff: Uint8Array): number | null {
  if (tiff.length < 8) return null;
  const little = tiff[0] === 0x49;
  const u16 = (i: number) => (i + 2 > tiff.length ? -1 : little ? tiff[i] | (tiff[i + 1] << 8) : (tiff[i] << 8) | tiff[i + 1]);
  const u32 = (i: number) => (i + 4 > tiff.length ? -1 : little ? u16(i) + u16(i + 2) * 65536 : u16(i) * 65536 + u16(i + 2));
  const ifd = u32(4);
  const count = u16(ifd);
  if (ifd < 0 || count < 0) return null;
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + 12 * k;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : null;
    }
  }
  return null;
}

/** What a WebP's RIFF header says. */
export interface WebpInfo {
  readonly width: number;
  readonly height: number;
  /** Pillow's mode is "RGBA" when libwebp's features say alpha, else "RGB". */
  readonly alpha: boolean;
}

/**
 * Reads a WebP's size and alpha flag from its first chunk (VP8, VP8L or VP8X), checks the size
 * limit and refuses truncated files (RIFF size past the end) and animations.
 */
export function readWebpInfo(bytes: Uint8Array, name: string): WebpInfo {
  const n = bytes.length;
  const u32 = (i: number) => (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
  const u24 = (i: number) => bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16);
  if (n < 30) throw new DenseNetError(`${name}: truncated WebP (${n} bytes)`);
  if (8 + u32(4) > n) throw new DenseNetError(`${name}: truncated WebP (RIFF size ${u32(4) + 8} bytes, file ${n})`);
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  const p = 20; // first chunk's payload
  let info: WebpInfo;
  if (chunk === "VP8 ") {
    if (bytes[p] & 1 || bytes[p + 3] !== 0x9d || bytes[p + 4] !== 0x01 || bytes[p + 5] !== 0x2a) {
      throw new DenseNetError(`${name}: corrupt WebP (bad VP8 frame header)`);
    }
    info = { width: (bytes[p + 6] | (bytes[p + 7] << 8)) & 0x3fff, height: (bytes[p + 8] | (bytes[p + 9] << 8)) & 0x3fff, alpha: false };
  } else if (chunk === "VP8L") {
    if (bytes[p] !== 0x2f) throw new DenseNetError(`${name}: corrupt WebP (bad VP8L signature)`);
    const bits = u32(p + 1);
    info = { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, alpha: ((bits >>> 28) & 1) === 1 };
  } else if (chunk === "VP8X") {
    const flags = bytes[p];
    if (flags & 0x02) throw new DenseNetError(`${name}: unsupported WebP (animated; still images are supported)`);
    info = { width: u24(p + 4) + 1, height: u24(p + 7) + 1, alpha: (flags & 0x10) !== 0 };
  } else {
    throw new DenseNetError(`${name}: corrupt WebP (first chunk ${JSON.stringify(chunk)})`);
  }
  checkImageSize(info.width, info.height, name);
  return info;
}
