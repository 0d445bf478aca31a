import { DenseNetError } from "../errors.js";
import type { JpegInfo } from "./header.js";
import type { DecodedImage8 } from "./types.js";

export function decodeJpegCmyk(_bytes: Uint8Array, _info: JpegInfo, name: string): Promise<DecodedImage8> {
  throw new DenseNetError(`${name}: CMYK JPEG not decoded yet`);
}
