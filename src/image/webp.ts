// WebP decoding with @jsquash/webp (libwebp built to WASM): lossy, lossless and alpha decode
// bitwise as Pillow 9.4's libwebp does. Pillow's mode is "RGBA" when the file says it has
// alpha, else "RGB"; so is ours.
import { DenseNetError } from "../errors.js";
import { dropChannels, LARGE_IMAGE_PIXELS } from "./jpeg.js";
import type { WebpInfo } from "./header.js";
import type { DecodedImage8 } from "./types.js";
import { WasmCodec } from "./wasm_codec.js";

interface LibwebpModule {
  decode(data: Uint8Array): { width: number; height: number; data: Uint8ClampedArray } | null;
}

const libwebp = new WasmCodec<LibwebpModule>("@jsquash/webp/codec/dec/webp_dec.js");

/** Decodes a still WebP whose header `info` has already checked (see readWebpInfo). */
export async function decodeWebp(bytes: Uint8Array, info: WebpInfo, name: string): Promise<DecodedImage8> {
  const rgba = await libwebp.run(
    (m) => m.decode(bytes),
    (why) => new DenseNetError(`${name}: cannot decode WebP (${why})`),
  );
  if (info.width * info.height > LARGE_IMAGE_PIXELS) libwebp.reset();
  if (!rgba) throw new DenseNetError(`${name}: cannot decode WebP (corrupt data)`);
  if (rgba.width !== info.width || rgba.height !== info.height) {
    throw new DenseNetError(`${name}: WebP decoded to ${rgba.width}×${rgba.height}, its header says ${info.width}×${info.height}`);
  }
  return { width: info.width, height: info.height, mode: info.alpha ? "RGBA" : "RGB", data: dropChannels(rgba.data, info.alpha ? 4 : 3) };
}
