/**
 * A decoded image as Pillow holds it after `Image.open(f).load()`, in the modes this package
 * needs: 8-bit samples interleaved row by row (HWC), `width * height * channels` bytes.
 *
 * - "L", "LA", "RGB", "RGBA": 8 bits per sample, like Pillow's modes of the same names. A PNG
 *   palette is expanded here to "RGB" ("RGBA" when it has a tRNS chunk); Pillow keeps mode "P",
 *   and its `convert("RGB")`/`convert("L")` of it give the same pixels as ours of the expansion.
 * - "CMYK": a 4-component JPEG as Pillow reads it (rawmode "CMYK;I": Adobe polarity, inverted).
 * - "I;16": a 16-bit greyscale PNG, one `Uint16Array` sample per pixel. Pillow 9.4 opens it as
 *   its 32-bit mode "I", whose `convert("L")` clamps each value to 0..255 (it does not scale).
 */
export type DecodedImage = DecodedImage8 | DecodedImage16;

/** The 8-bit modes. */
export type ImageMode8 = "L" | "LA" | "RGB" | "RGBA" | "CMYK";
/** Every mode a decoded image may have. */
export type ImageMode = ImageMode8 | "I;16";

export interface DecodedImage8 {
  readonly width: number;
  readonly height: number;
  readonly mode: ImageMode8;
  /** (height, width, channels) uint8, row-major. */
  readonly data: Uint8Array;
}

export interface DecodedImage16 {
  readonly width: number;
  readonly height: number;
  readonly mode: "I;16";
  /** (height, width) uint16, row-major. */
  readonly data: Uint16Array;
}

/** The modes a model consumes, after `toMode`. */
export type TargetMode = "RGB" | "L";

/** An 8-bit image in a model's mode, the input of `resizeImage` and `centerCrop`. */
export interface ModelImage {
  readonly width: number;
  readonly height: number;
  readonly mode: TargetMode;
  /** (height, width, channels) uint8, row-major; channels 3 for "RGB", 1 for "L". */
  readonly data: Uint8Array;
}

/**
 * torchvision's eval transform, `Compose([Resize(resize), CenterCrop(crop), ToTensor(),
 * Normalize(mean, std)])` on `Image.open(f).convert(mode)`.
 */
export interface PreprocessSpec {
  /** The shorter side after `Resize` (the longer one keeps the aspect ratio, truncated). */
  readonly resize: number;
  /** `CenterCrop` size: one number for a square, or [height, width]. */
  readonly crop: number | readonly [number, number];
  /** Per-channel mean, one per channel of `mode` (3 for "RGB", 1 for "L"). */
  readonly mean: readonly number[];
  /** Per-channel standard deviation, each finite and > 0. */
  readonly std: readonly number[];
  /** The colour mode the model takes. */
  readonly mode: TargetMode;
}

/** Channels per pixel of each mode. */
export const CHANNELS: Readonly<Record<ImageMode, number>> = { L: 1, LA: 2, RGB: 3, RGBA: 4, CMYK: 4, "I;16": 1 };
