// Field indices of the kernel descriptors: i32 records that the planner writes into linear
// memory and the AssemblyScript kernels read. This file is compiled by both tsc and asc, so it
// holds nothing but integer constants.
//
// Pointer fields named *_OFF are byte offsets into the activation arena (the kernel adds the
// arena base it is called with); every other pointer field is an absolute byte address
// (weights, folded biases, BN scale/shift), or 0 for "absent".

/** Convolution as GEMM: C[Cout, OH*OW] = A[Cout, Cin*KH*KW] * im2col(X). One image, NCHW. */
export const CONV_A = 0; // packed weights: ceil(Cout/MR) panels of [K][MR] f32
export const CONV_BIAS = 1; // Cout f32 (padded to a multiple of MR)
export const CONV_PRE_SCALE = 2; // Cin f32 per-channel scale applied while packing, or 0
export const CONV_PRE_SHIFT = 3; // Cin f32 per-channel shift applied while packing
export const CONV_IN_OFF = 4; // (Cin, H, W) f32
export const CONV_OUT_OFF = 5; // (Cout, OH, OW) f32
export const CONV_CIN = 6;
export const CONV_H = 7;
export const CONV_W = 8;
export const CONV_COUT = 9;
export const CONV_OH = 10;
export const CONV_OW = 11;
export const CONV_KH = 12;
export const CONV_KW = 13;
export const CONV_SH = 14;
export const CONV_SW = 15;
export const CONV_PH = 16; // top padding
export const CONV_PW = 17; // left padding
export const CONV_DH = 18;
export const CONV_DW = 19;
export const CONV_FLAGS = 20; // CONV_FLAG_*
export const CONV_UKERNEL = 21; // UKERNEL_*: the micro-kernel (and so the rows the weights were packed for)
export const CONV_KC = 22; // K block length
/**
 * A conv that writes its output zero-padded (the input of the Winograd conv after it, which
 * then needs no copy of its own): floats from one output row to the next, or 0 for a dense
 * (Cout, OH, OW) output; with it, the floats from one channel's plane to the next and where in
 * a plane pixel (0, 0) goes. Everything in a plane outside the OH x OW pixels is written 0.
 */
export const CONV_OUT_ROW = 23;
export const CONV_OUT_PLANE = 24;
export const CONV_OUT_ORIGIN = 25;
export const CONV_FIELDS = 26;

export const CONV_FLAG_RELU = 1; // ReLU epilogue on the output
export const CONV_FLAG_PRE_RELU = 2; // ReLU after the pre-scale/shift, while packing

export const UKERNEL_4X8 = 0; // gemm_f32_4x8
export const UKERNEL_4X8_SHUFFLE = 1; // gemm_f32_4x8_shuffle
export const UKERNEL_6X8 = 2; // gemm_f32_6x8

/** Rows of A per micro-kernel call, and so the height of the weight panels packed for it. */
export const GEMM_MR_4X8 = 4; // gemm_f32_4x8 and gemm_f32_4x8_shuffle
export const GEMM_MR_6X8 = 6; // gemm_f32_6x8

/**
 * Winograd F(2x2, 3x3) convolution (3x3, stride 1, padding 1) reads a CONV descriptor whose
 * CONV_A holds the 16 transformed weight matrices (xi-major, each packed as for the 4-row
 * micro-kernels), CONV_IN_OFF a WINO_INPUT buffer of CONV_H x CONV_W (already padded), and
 * CONV_OH x CONV_OW the output size. Tiles: ceil(OH/2) rows of ceil(OW/2), in groups of
 * WINO_TILE_GROUP (assembly/conv2d_winograd.ts), two groups per GEMM panel.
 */
export const WINO_MAX_CIN = 1024; // the transformed input panels of one 8-tile panel: 16 * Cin * 8 f32
export const WINO_XI = 16; // transformed positions per 4x4 patch: 16 weight matrices, 16 GEMMs per tile panel
export const WINO_ROWS = GEMM_MR_4X8; // it runs the 4-row micro-kernels (4x8 or 4x8-shuffle)
export const WINO_TILE_GROUP = 4; // tiles per vectorised transform (one per f32x4 lane)
export const WINO_PAD = 1; // the padded input holds the image at (WINO_PAD, WINO_PAD)
/**
 * Winograd F(4x4, 3x3) (assembly/conv2d_winograd.ts) reads the same CONV descriptor,
 * with 36 transformed weight matrices in CONV_A and tiles of 4x4: ceil(OH/4) rows of
 * ceil(OW/4) tiles; WINO_MAX_CIN, WINO_ROWS, WINO_TILE_GROUP and WINO_PAD hold for it too.
 */
export const WINO4_XI = 36; // transformed positions per 6x6 patch: 36 weight matrices, 36 GEMMs per tile panel

/** Zero-padded copy with an optional pre-activation: the input of a Winograd conv. Workers split channels. */
export const PAD_IN_OFF = 0; // (C, H, W)
export const PAD_OUT_OFF = 1; // (C, OH, OW), the input at (TOP, LEFT), zeros elsewhere
export const PAD_C = 2;
export const PAD_H = 3;
export const PAD_W = 4;
export const PAD_OH = 5;
export const PAD_OW = 6;
export const PAD_TOP = 7;
export const PAD_LEFT = 8;
export const PAD_FLAGS = 9; // POOL_FLAG_PRE_RELU
export const PAD_PRE_SCALE = 10; // C f32 or 0: x*scale+shift on in-bounds values
export const PAD_PRE_SHIFT = 11;
export const PAD_FIELDS = 12;

/** 2-D pooling over one image, NCHW; workers split channels. */
export const POOL_IN_OFF = 0; // (C, H, W)
export const POOL_OUT_OFF = 1; // (C, OH, OW)
export const POOL_C = 2;
export const POOL_H = 3;
export const POOL_W = 4;
export const POOL_OH = 5;
export const POOL_OW = 6;
export const POOL_KH = 7;
export const POOL_KW = 8;
export const POOL_SH = 9;
export const POOL_SW = 10;
export const POOL_PH = 11; // top padding
export const POOL_PW = 12; // left padding
export const POOL_PH_END = 13; // bottom padding (for count_include_pad divisors)
export const POOL_PW_END = 14; // right padding
export const POOL_DH = 15;
export const POOL_DW = 16;
export const POOL_MODE = 17; // POOL_MODE_*
export const POOL_FLAGS = 18; // POOL_FLAG_*
export const POOL_PRE_SCALE = 19; // C f32 or 0: x*scale+shift before pooling
export const POOL_PRE_SHIFT = 20;
export const POOL_FIELDS = 21;

export const POOL_MODE_MAX = 0;
export const POOL_MODE_AVG = 1;
export const POOL_FLAG_COUNT_PAD = 1; // average divides by the window including padding
export const POOL_FLAG_PRE_RELU = 2; // ReLU after the pre-scale/shift

/** Global pooling: (C, HW) -> (C). Workers split channels. */
export const GPOOL_IN_OFF = 0;
export const GPOOL_OUT_OFF = 1;
export const GPOOL_C = 2;
export const GPOOL_HW = 3;
export const GPOOL_MODE = 4; // POOL_MODE_*
export const GPOOL_FLAGS = 5; // POOL_FLAG_PRE_RELU
export const GPOOL_PRE_SCALE = 6;
export const GPOOL_PRE_SHIFT = 7;
export const GPOOL_FIELDS = 8;

/** Fully connected: y[M] = W[M, K] x[K] + b. Workers split output rows. */
export const LINEAR_IN_OFF = 0;
export const LINEAR_OUT_OFF = 1;
export const LINEAR_W = 2; // row-major (M, K) f32
export const LINEAR_BIAS = 3; // M f32, or 0
export const LINEAR_M = 4;
export const LINEAR_K = 5;
export const LINEAR_FIELDS = 6;

/** Softmax over the channels of a (C, 1, 1) vector. Worker 0 computes it; the others skip. */
export const SOFTMAX_IN_OFF = 0;
export const SOFTMAX_OUT_OFF = 1;
export const SOFTMAX_C = 2;
export const SOFTMAX_FIELDS = 3;

/** Width of every GEMM micro-kernel tile (two v128 of f32). */
export const GEMM_NR = 8;

/**
 * A step's claim record for dynamic work claiming (assembly/desc.ts, runtime/claim.ts), i32
 * words: [done, count, 0, 0, next_0 .. next_{R-1}], R = min(nth, CLAIM_MAX_RANGES) counters of
 * the chunks claimed from each worker's home range of the step's chunks.
 */
export const CLAIM_DONE = 0; // chunks finished
export const CLAIM_COUNT = 1; // the step's chunk count (every worker's kernel call stores it)
export const CLAIM_NEXT = 4; // next_r: claims made in home range r
export const CLAIM_MAX_RANGES = 16;
