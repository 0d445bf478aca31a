// Flags of the GEMM micro-kernels (internal to assembly/).
/** Add to the values already in C instead of starting from the bias. */
export const GEMM_ACCUMULATE: i32 = 1;
/** Apply max(x, 0) to the tile before storing it. */
export const GEMM_RELU: i32 = 2;
