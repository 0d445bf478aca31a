// The op kernels of the module (assembly/index.ts), named and numbered: a plan's schedule
// table holds each step's kernel as its index in OP_KERNELS, which every instance of the
// module (the session's and each worker's) maps back to the export of that name.

/** Every op kernel's signature: (descriptor, arena base, scratch, ith, nth, claim record or 0 for static shares); see assembly/index.ts. */
export type OpKernel = (desc: number, base: number, scratch: number, ith: number, nth: number, claim?: number) => void;

/** The op kernels, in the order of their ids in a schedule table. */
export const OP_KERNELS = [
  "conv2d_gemm_f32",
  "conv2d_winograd_f32",
  "pad2d_nchw_f32",
  "pool2d_nchw_f32",
  "global_pool_f32",
  "linear_f32",
  "softmax_f32",
  "conv2d_winograd_f4x4_f32",
] as const;
export type OpKernelName = (typeof OP_KERNELS)[number];
