// Image.convert("RGB") / convert("L") exactly as Pillow 9.4's Convert.c computes them.
import { DenseNetError } from "../errors.js";
import type { DecodedImage, ModelImage, TargetMode } from "./types.js";

/** ITU-R 601-2 luma in Pillow's fixed point: (r·19595 + g·38470 + b·7471 + 0x8000) >> 16. */
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/**
 * Converts to "RGB" or "L" like Pillow's `Image.convert(mode)`: alpha is dropped (not blended),
 * grey is replicated to RGB, RGB to L by `luma`, CMYK to RGB by Pillow's cmyk2rgb (and to L
 * through RGB, as Pillow does), 16-bit grey clamped to 0..255 (Pillow's "I" to "L"/"RGB").
 * The result may share `data` with the input when no conversion is needed; neither is mutated.
 */
export function toMode(img: DecodedImage, mode: TargetMode): ModelImage {
  const { width, height } = img;
  const pixels = width * height;
  if (mode !== "RGB" && mode !== "L") throw new DenseNetError(`toMode: mode must be "RGB" or "L", not ${JSON.stringify(mode)}`);
  if (img.mode === mode) return { width, height, mode, data: img.data as Uint8Array };
  const out = new Uint8Array(pixels * (mode === "RGB" ? 3 : 1));
  const src = img.data;
  switch (img.mode) {
    case "I;16":
    case "L":
    case "LA": {
      const step = img.mode === "LA" ? 2 : 1;
      const clamp = img.mode === "I;16";
      for (let p = 0; p < pixels; p++) {
        const v = clamp ? Math.min(src[p], 255) : src[p * step];
        if (mode === "L") out[p] = v;
        else out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = v;
      }
      break;
    }
    case "RGB":
    case "RGBA": {
      const step = img.mode === "RGBA" ? 4 : 3;
      for (let p = 0, s = 0; p < pixels; p++, s += step) {
        if (mode === "L") out[p] = luma(src[s], src[s + 1], src[s + 2]);
        else {
          out[3 * p] = src[s];
          out[3 * p + 1] = src[s + 1];
          out[3 * p + 2] = src[s + 2];
        }
      }
      break;
    }
    case "CMYK": {
      for (let p = 0, s = 0; p < pixels; p++, s += 4) {
        const nk = 255 - src[s + 3];
        const r = nk - muldiv255(src[s], nk);
        const g = nk - muldiv255(src[s + 1], nk);
        const b = nk - muldiv255(src[s + 2], nk);
        if (mode === "L") out[p] = luma(r, g, b);
        else {
          out[3 * p] = r;
          out[3 * p + 1] = g;
          out[3 * p + 2] = b;
        }
      }
      break;
    }
    default:
      throw new DenseNetError(`toMode: unknown image mode ${JSON.stringify((img as { mode: unknown }).mode)}`);
  }
  return { width, height, mode, data: out };
}

/** Pillow's MULDIV255: a·b/255 rounded, in integers. */
function muldiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}
