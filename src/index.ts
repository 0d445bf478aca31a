export { Session, type SessionOptions, type SessionInfo, MAX_BATCH } from "./session.js";
export { MAX_SIDE, MAX_THREADS, DEFAULT_PLAN_CACHE_BYTES, type StepProfile } from "./session.js";
export type { ModelSource } from "./model/load.js";
export type { ExecutionPlan, Step } from "./plan/plan.js";
export type { Spatial } from "./plan/shapes.js";
export type { MicroKernel } from "./plan/pack_weights.js";
export type { KernelBuild, OpKernelName } from "./runtime/kernels.js";
export { DenseNetError } from "./errors.js";
export type { AnyTensor, Int64Tensor, Tensor } from "./tensor.js";
export { formatNpy, parseNpy, parseNpyAny } from "./io/npy.js";
export { parseSafetensors } from "./io/safetensors.js";
export {
  ARCHITECTURES, type ArchitectureName, type DenseNetConfig, architectureConfig, densenetConfig, describeConfig,
} from "./model/config.js";
