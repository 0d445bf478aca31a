// JPEG decoding with @jsquash/jpeg (mozjpeg, i.e. libjpeg-turbo's decoder, built to WASM):
// the same islow IDCT, fancy upsampling and YCbCr->RGB tables as Pillow's libjpeg-turbo, so
// the pixels are bitwise Pillow's. 4-component JPEGs, which it refuses, go to our own decoder.
import { DenseNetError } from "../errors.js";
import type { JpegInfo } from "./header.js";
import { decodeJpegCmyk } from "./jpeg_cmyk.js";
import type { DecodedImage8 } from "./types.js";
import { WasmCodec } from "./wasm_codec.js";

/** The part of the Emscripten module of mozjpeg_dec that we call. */
interface MozjpegModule {
  /** RGBA pixels; `applyOrientation` true rotates by the EXIF tag (we pass false). */
  decode(data: Uint8Array, applyOrientation: boolean): { width: number; height: number; data: Uint8ClampedArray } | null;
}

/** Images above this many pixels free the codec's memory after decoding (see WasmCodec.reset). */
export const LARGE_IMAGE_PIXELS = 4_000_000;

const mozjpeg = new WasmCodec<MozjpegModule>("@jsquash/jpeg/codec/dec/mozjpeg_dec.js");

/**
 * Decodes a JPEG whose markers `info` has already checked (see readJpegInfo): 1 component to
 * "L", 3 to "RGB", 4 (CMYK or YCCK) to "CMYK".
 */
export async function decodeJpeg(bytes: Uint8Array, info: JpegInfo, name: string): Promise<DecodedImage8> {
  if (info.components.length === 4) return decodeJpegCmyk(bytes, info, name);
  const rgba = await mozjpeg.run(
    (m) => m.decode(bytes, false),
    (why) => new DenseNetError(`${name}: cannot decode JPEG (${why})`),
  );
  if (info.width * info.height > LARGE_IMAGE_PIXELS) mozjpeg.reset();
  if (!rgba) throw new DenseNetError(`${name}: cannot decode JPEG`);
  if (rgba.width !== info.width || rgba.height !== info.height) {
    throw new DenseNetError(`${name}: JPEG decoded to ${rgba.width}×${rgba.height}, its header says ${info.width}×${info.height}`);
  }
  const grey = info.components.length === 1;
  return { width: info.width, height: info.height, mode: grey ? "L" : "RGB", data: dropChannels(rgba.data, grey ? 1 : 3) };
}

/** The first `keep` channels of each RGBA pixel. */
export function dropChannels(rgba: Uint8ClampedArray, keep: number): Uint8Array {
  const pixels = rgba.length >> 2;
  const out = new Uint8Array(pixels * keep);
  if (keep === 1) {
    for (let p = 0; p < pixels; p++) out[p] = rgba[4 * p];
  } else if (keep === 3) {
    for (let p = 0, o = 0; p < pixels; p++, o += 3) {
      out[o] = rgba[4 * p];
      out[o + 1] = rgba[4 * p + 1];
      out[o + 2] = rgba[4 * p + 2];
    }
  } else out.set(rgba);
  return out;
}
