// decodeImage: sniff the format from the bytes, check the header (size limit, truncation),
// then decode with the format's decoder.
import { DenseNetError } from "../errors.js";
import { readJpegInfo, sniffFormat } from "./header.js";
import { decodeJpeg } from "./jpeg.js";
import { decodePng } from "./png.js";
import type { DecodedImage } from "./types.js";

/**
 * Decodes a JPEG or PNG file's bytes to the pixels Pillow 9.4's `Image.open(f).load()` gives
 * (no EXIF rotation). The format comes from the magic bytes, never from `name`, which only
 * names the file in errors. Anything wrong (not an image, an unsupported format, truncated or
 * corrupt data, a bad CRC, no pixels, more than MAX_IMAGE_PIXELS pixels) is a one-line
 * DenseNetError starting with `name`; the size limit is checked from the header before any
 * pixel memory is allocated.
 */
export async function decodeImage(bytes: Uint8Array, name = "image"): Promise<DecodedImage> {
  if (!(bytes instanceof Uint8Array)) throw new DenseNetError(`${name}: image bytes must be a Uint8Array`);
  if (bytes.length === 0) throw new DenseNetError(`${name}: empty file, not an image`);
  const format = sniffFormat(bytes);
  switch (format) {
    case "jpeg":
      return decodeJpeg(bytes, readJpegInfo(bytes, name), name);
    case "png":
      return decodePng(bytes, name);
    case null:
      throw new DenseNetError(`${name}: not a JPEG or PNG file (unrecognised content)`);
    default:
      throw new DenseNetError(`${name}: unsupported image format ${format.toUpperCase()} (JPEG and PNG are supported)`);
  }
}
