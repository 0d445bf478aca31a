// torchvision's eval transform on a PIL image: convert(mode), Resize(resize), CenterCrop(crop),
// ToTensor(), Normalize(mean, std) — each stage as torchvision 0.14 / Pillow 9.4 compute it.
import { DenseNetError } from "../errors.js";
import type { Tensor } from "../tensor.js";
import { toMode } from "./convert.js";
import { resizeImage } from "./resample.js";
import type { DecodedImage, ModelImage, PreprocessSpec } from "./types.js";

/** The largest resize or crop side a spec may ask for. */
export const MAX_PREPROCESS_SIDE = 8192;

/**
 * torchvision's `Resize(resize)` output size for a width × height image, as [width, height]:
 * the shorter side becomes `resize`, the longer `int(resize * long / short)` (truncated).
 */
export function resizedSize(width: number, height: number, resize: number): [number, number] {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((resize * long) / short);
  return width <= height ? [resize, newLong] : [newLong, resize];
}

/** Python's round(): halves to even. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * torchvision's `CenterCrop((height, width))`: an image smaller than the crop on a side is first
 * padded with zeros on that side (left/top get `(crop - size) // 2`, right/bottom the rest);
 * the crop then starts at `int(round((size - crop) / 2.0))` (Python's round, halves to even).
 */
export function centerCrop(img: ModelImage, height: number, width: number): ModelImage {
  if (!Number.isSafeInteger(height) || !Number.isSafeInteger(width) || height < 1 || width < 1) {
    throw new DenseNetError(`centerCrop: size must be positive integers, got ${height}×${width}`);
  }
  const channels = img.mode === "RGB" ? 3 : 1;
  // Padding (zero when the image is large enough on that side).
  const padLeft = width > img.width ? (width - img.width) >> 1 : 0;
  const padTop = height > img.height ? (height - img.height) >> 1 : 0;
  const paddedW = Math.max(width, img.width);
  const paddedH = Math.max(height, img.height);
  const top = roundHalfEven((paddedH - height) / 2);
  const left = roundHalfEven((paddedW - width) / 2);
  const out = new Uint8Array(width * height * channels);
  // Output (y, x) is padded (top + y, left + x), i.e. source (top + y - padTop, left + x - padLeft).
  const x0 = Math.max(0, padLeft - left);
  const x1 = Math.min(width, padLeft + img.width - left);
  for (let y = 0; y < height; y++) {
    const sy = top + y - padTop;
    if (sy < 0 || sy >= img.height || x1 <= x0) continue;
    const from = (sy * img.width + (left + x0 - padLeft)) * channels;
    out.set(img.data.subarray(from, from + (x1 - x0) * channels), (y * width + x0) * channels);
  }
  return { width, height, mode: img.mode, data: out };
}

/** The crop as [height, width]. */
function cropSize(spec: PreprocessSpec): [number, number] {
  return typeof spec.crop === "number" ? [spec.crop, spec.crop] : [spec.crop[0], spec.crop[1]];
}

/** Throws a one-line DenseNetError naming the first field of `spec` that is invalid. */
export function checkPreprocessSpec(spec: PreprocessSpec): void {
  const side = (v: unknown, what: string) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > MAX_PREPROCESS_SIDE) {
      throw new DenseNetError(`preprocess spec: ${what} must be an integer from 1 to ${MAX_PREPROCESS_SIDE}, got ${JSON.stringify(v)}`);
    }
  };
  if (typeof spec !== "object" || spec === null)
    throw new DenseNetError("preprocess spec: must be an object {resize, crop, mean, std, mode}");
  if (spec.mode !== "RGB" && spec.mode !== "L")
    throw new DenseNetError(`preprocess spec: mode must be "RGB" or "L", got ${JSON.stringify(spec.mode)}`);
  side(spec.resize, "resize");
  if (Array.isArray(spec.crop)) {
    if (spec.crop.length !== 2)
      throw new DenseNetError(`preprocess spec: crop must be a number or [height, width], got ${spec.crop.length} numbers`);
    side(spec.crop[0], "crop height");
    side(spec.crop[1], "crop width");
  } else side(spec.crop, "crop");
  const channels = spec.mode === "RGB" ? 3 : 1;
  for (const key of ["mean", "std"] as const) {
    const v = spec[key];
    if (!Array.isArray(v) || v.length !== channels) {
      throw new DenseNetError(`preprocess spec: ${key} must have ${channels} number(s) for mode ${spec.mode}, got ${JSON.stringify(v)}`);
    }
    if (!v.every((x) => typeof x === "number" && Number.isFinite(x) && (key === "mean" || x > 0))) {
      throw new DenseNetError(`preprocess spec: ${key} must be finite numbers${key === "std" ? " > 0" : ""}, got ${JSON.stringify(v)}`);
    }
  }
}

/**
 * Preprocesses a batch as torchvision's eval transform does each image: `convert(mode)`,
 * `Resize(resize)` (Pillow bilinear), `CenterCrop(crop)`, `ToTensor()` (x / 255 in float32),
 * `Normalize(mean, std)` ((x - mean) / std, each a float32 operation like torch's).
 * Returns the (N, C, cropH, cropW) float32 tensor.
 */
export function preprocess(images: readonly DecodedImage[], spec: PreprocessSpec): Tensor {
  checkPreprocessSpec(spec);
  if (!Array.isArray(images) || images.length === 0) throw new DenseNetError("preprocess: no images given");
  const [cropH, cropW] = cropSize(spec);
  const channels = spec.mode === "RGB" ? 3 : 1;
  const plane = cropH * cropW;
  const data = new Float32Array(images.length * channels * plane);
  const mean = spec.mean.map(Math.fround);
  const std = spec.std.map(Math.fround);
  images.forEach((img, n) => {
    const converted = toMode(img, spec.mode);
    const [w, h] = resizedSize(converted.width, converted.height, spec.resize);
    const cropped = centerCrop(resizeImage(converted, w, h), cropH, cropW);
    const px = cropped.data;
    for (let c = 0; c < channels; c++) {
      const m = mean[c];
      const s = std[c];
      const o = (n * channels + c) * plane;
      for (let p = 0; p < plane; p++) {
        const x = Math.fround(px[p * channels + c] / 255);
        data[o + p] = Math.fround(x - m) / s;
      }
    }
  });
  return { data, dims: [images.length, channels, cropH, cropW] };
}
