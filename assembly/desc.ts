// Reading kernel descriptors (see src/kernels/layout.ts) and splitting work between workers.

/** Field i of the i32 descriptor at d. */
// @ts-ignore: decorator
@inline export function field(d: usize, i: i32): i32 {
  return load<i32>(d + (<usize>i << 2));
}

/** Field i of descriptor d as an absolute pointer (0 = absent). */
// @ts-ignore: decorator
@inline export function ptr(d: usize, i: i32): usize {
  return <usize>load<u32>(d + (<usize>i << 2));
}

/**
 * First index of worker ith's share of [0, total) split into nth contiguous ranges. The GEMM
 * kernels split panels x row-blocks work units numbered panel-major, so shares are balanced
 * to one micro-kernel call and a worker packs only the panels it touches.
 */
// @ts-ignore: decorator
@inline export function shareStart(total: i32, ith: i32, nth: i32): i32 {
  return <i32>((<i64>total * ith) / nth);
}
