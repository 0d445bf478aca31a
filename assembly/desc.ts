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

// Work claiming. A kernel's work units [0, total) are cut into chunks, and each worker runs
// the loop
//   const count = chunkCount(total, grain, nth, claim);
//   for (let c = firstChunk(claim, ith, count); c < count; c = nextChunk(claim, count)) {
//     units [chunkStart(total, grain, c, count, claim), chunkStart(..., c + 1, ...)) }
// claim == 0: static shares, today's split: nth chunks, worker ith computes chunk ith.
// claim != 0: the address of the step's claim record (src/runtime/claim.ts), four i32s
// [next, done, count, 0], zero before the step: each worker claims the next chunk with an
// atomic add until none is left, and counts each chunk it finishes in `done` (waking the
// waiters on `done` when the last one finishes). Who computes a chunk never changes how its
// units are computed, so outputs do not depend on the split.

/** Chunks per worker when claiming: few enough that the atomics cost nothing, enough to balance. */
export const CHUNKS_PER_WORKER: i32 = 4;
const CLAIM_DONE: usize = 4, CLAIM_COUNT: usize = 8;

/** Chunks of `total` units for nth workers (static: nth; claimed: up to CHUNKS_PER_WORKER per worker). */
// @ts-ignore: decorator
@inline export function chunkCount(total: i32, nth: i32, claim: usize): i32 {
  return claim == 0 ? nth : min(total, CHUNKS_PER_WORKER * nth);
}

/**
 * First unit of chunk c of count. Claimed chunks are whole `grain`s of units (a GEMM's output
 * channel blocks of one pixel panel, so a chunk packs each panel once) where there are at
 * least as many grains as chunks; static chunks are shareStart's shares.
 */
// @ts-ignore: decorator
@inline export function chunkStart(total: i32, grain: i32, c: i32, count: i32, claim: usize): i32 {
  if (claim == 0) return shareStart(total, c, count);
  const grains = (total + grain - 1) / grain;
  return grains >= count ? min(total, shareStart(grains, c, count) * grain) : shareStart(total, c, count);
}

/** The first chunk this worker computes (publishing the step's chunk count in its claim record). */
// @ts-ignore: decorator
@inline export function firstChunk(claim: usize, ith: i32, count: i32): i32 {
  if (claim == 0) return ith;
  atomic.store<i32>(claim + CLAIM_COUNT, count);
  return atomic.add<i32>(claim, 1);
}

/** Counts the chunk just computed as done and claims the next (count or more: none is left). */
// @ts-ignore: decorator
@inline export function nextChunk(claim: usize, count: i32): i32 {
  if (claim == 0) return count;
  if (atomic.add<i32>(claim + CLAIM_DONE, 1) == count - 1) atomic.notify(claim + CLAIM_DONE);
  return atomic.add<i32>(claim, 1);
}
