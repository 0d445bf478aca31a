// The kernel module's exports. Kernels hold no static data: every instance on the shared
// memory would re-write it at start-up.
//
// Every op kernel has one signature, (desc, base, scratch, ith, nth, claim): its descriptor, the
// arena base that the descriptor's *_OFF fields are relative to, this worker's scratch,
// the worker's index and count, and the step's claim record (0: static shares); it computes
// its (ith, nth) share of the op's output, or the chunks it claims (desc.ts).
export { conv2d_gemm_f32, conv2d_gemm_scratch_bytes } from "./conv2d_gemm_f32";
export { conv2d_winograd_f32, conv2d_winograd_f4x4_f32 } from "./conv2d_winograd";
export { conv2d_winograd_scratch_bytes } from "./conv2d_winograd_f32";
export { conv2d_winograd_f4x4_scratch_bytes } from "./conv2d_winograd_f4x4_f32";
export { gemm_f32_4x8, gemm_f32_4x8_shuffle } from "./gemm_f32_4x8";
export { gemm_f32_6x8 } from "./gemm_f32_6x8";
export { global_pool_f32 } from "./global_pool_f32";
export { linear_f32, linear_f32_dot_row } from "./linear_f32";
export { pad2d_nchw_f32 } from "./pad2d_nchw_f32";
export { pool2d_nchw_f32 } from "./pool2d_nchw_f32";
export { softmax_f32 } from "./softmax_f32";
export { first_non_finite_f32, pack_panels_in_place_f32 } from "./weight_panels";
export { winograd_f2x2_weights, winograd_f4x4_weights } from "./winograd_weights";
