// The image API: decode JPEG, PNG and WebP like Pillow 9.4, convert and preprocess like torchvision.
export { decodeImage, type DecodeOptions } from "./decode.js";
export { toMode } from "./convert.js";
export { resizeImage } from "./resample.js";
export { centerCrop, checkPreprocessSpec, preprocess, resizedSize, MAX_PREPROCESS_SIDE } from "./preprocess.js";
export { MAX_IMAGE_PIXELS, sniffFormat, type ImageFormat } from "./header.js";
export type { DecodedImage, DecodedImage8, DecodedImage16, ImageMode, ModelImage, PreprocessSpec, TargetMode } from "./types.js";
