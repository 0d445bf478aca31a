export { Session, type SessionOptions, type SessionInfo, MAX_BATCH } from "./session.js";
export { DenseNetError } from "./errors.js";
export type { AnyTensor, Int64Tensor, Tensor } from "./tensor.js";
export { formatNpy, parseNpy, parseNpyAny } from "./io/npy.js";
export { parseSafetensors } from "./io/safetensors.js";
export {
  ARCHITECTURES, type ArchitectureName, type DenseNetConfig, architectureConfig, densenetConfig, describeConfig,
} from "./model/config.js";
export { decodeImage, preprocess, toMode, type DecodedImage, type PreprocessSpec } from "./image/index.js";
