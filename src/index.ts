export { Session, type SessionOptions, type SessionInfo, MAX_BATCH } from "./session.js";
export { DenseNetError } from "./errors.js";
export type { Tensor } from "./tensor.js";
export { parseNpy, formatNpy } from "./io/npy.js";
export { parseSafetensors } from "./io/safetensors.js";
export {
  ARCHITECTURES, type ArchitectureName, type DenseNetConfig, architectureConfig, densenetConfig, describeConfig,
} from "./model/config.js";
