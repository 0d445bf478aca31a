// decodeImage: sniff the format from the bytes, check the header (size limit, truncation),
// then decode with the format's decoder.
import { DenseNetError } from "../errors.js";
import { readJpegInfo, readWebpInfo, sniffFormat } from "./header.js";
import { decodeJpeg } from "./jpeg.js";
import { applyOrientation } from "./orientation.js";
import { decodePng } from "./png.js";
import type { DecodedImage } from "./types.js";
import { decodeWebp } from "./webp.js";

export interface DecodeOptions {
  /**
   * Apply a JPEG's EXIF orientation tag, as Pillow's `ImageOps.exif_transpose` does
   * (default false: like `Image.open` and torchvision, the stored pixels as they are).
   */
  readonly exifOrientation?: boolean;
}

/**
 * Decodes a JPEG, PNG or still WebP file's bytes to the pixels Pillow 9.4's
 * `Image.open(f).load()` gives (no EXIF rotation unless `options.exifOrientation`). The format
 * comes from the magic bytes, never from `name`, which only names the file in errors. Anything
 * wrong (not an image, an unsupported format, truncated or corrupt data, a bad CRC, no pixels,
 * more than MAX_IMAGE_PIXELS pixels) is a one-line DenseNetError starting with `name`; the size
 * limit is checked from the header before any pixel memory is allocated.
 */
export async function decodeImage(bytes: Uint8Array, name = "image", options: DecodeOptions = {}): Promise<DecodedImage> {
  if (!(bytes instanceof Uint8Array)) throw new DenseNetError(`${name}: image bytes must be a Uint8Array`);
  if (bytes.length === 0) throw new DenseNetError(`${name}: empty file, not an image`);
  const format = sniffFormat(bytes);
  switch (format) {
    case "jpeg": {
      const info = readJpegInfo(bytes, name);
      const img = await decodeJpeg(bytes, info, name);
      return options.exifOrientation ? applyOrientation(img, info.exifOrientation) : img;
    }
    case "png":
      return decodePng(bytes, name);
    case "webp":
      return decodeWebp(bytes, readWebpInfo(bytes, name), name);
    case null:
      throw new DenseNetError(`${name}: not a JPEG, PNG or WebP file (unrecognised content)`);
    default:
      throw new DenseNetError(`${name}: unsupported image format ${format.toUpperCase()} (JPEG, PNG and WebP are supported)`);
  }
}
