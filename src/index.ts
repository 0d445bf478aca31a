export { Session, type SessionOptions, type SessionInfo, MAX_BATCH } from "./session.js";
export { MAX_SIDE, MAX_THREADS, DEFAULT_PLAN_CACHE_BYTES, type StepProfile } from "./session.js";
export type { ModelSource } from "./model/load.js";
export type { ExecutionPlan, Step } from "./plan/plan.js";
export type { Spatial } from "./plan/window.js";
export type { MicroKernel } from "./plan/pack_weights.js";
export type { KernelBuild } from "./runtime/kernels.js";
export type { OpKernelName } from "./kernels/op_kernels.js";
export { DenseNetError } from "./errors.js";
export type { AnyTensor, Int64Tensor, Tensor } from "./tensor.js";
export { formatNpy, parseNpy, parseNpyAny } from "./io/npy.js";
export { parseSafetensors } from "./io/safetensors.js";
export {
  ARCHITECTURES,
  type ArchitectureName,
  type DenseNetConfig,
  architectureConfig,
  densenetConfig,
  describeConfig,
} from "./model/config.js";
export { decodeImage, preprocess, toMode, type DecodedImage, type PreprocessSpec } from "./image/index.js";
export {
  type ClassScore,
  type ClassifyOptions,
  type ClassifyResult,
  type ImageInput,
  classify,
  imageTensor,
  imagenetClassNames,
  labelsOf,
  loadImage,
  preprocessingOf,
  topClasses,
} from "./classify.js";
export { type ModelMetadata, type ModelPreprocessing, imagenetPreprocessing } from "./model/metadata.js";
export { DEFAULT_MODEL_NAME, DEFAULT_MODEL_PATH, DEFAULT_SAMPLES_DIR } from "./default_model.js";
export { InferenceServer, type ServerOptions } from "./serve/server.js";
export {
  type InferRequest,
  type InferResponse,
  inferResponse,
  modelMetadata,
  parseInferRequest,
  runInferRequest,
} from "./serve/protocol.js";
