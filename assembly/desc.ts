// Reading kernel descriptors (see src/kernels/layout.ts) and splitting work between workers.
import { CLAIM_COUNT, CLAIM_DONE, CLAIM_MAX_RANGES, CLAIM_NEXT } from "../src/kernels/layout";

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
//   const count = chunkCount(total, nth, claim);
//   for (let c = firstChunk(claim, ith, nth, count); c < count; c = nextChunk(claim, ith, nth, count, c)) {
//     units [chunkStart(total, grain, c, count, claim), chunkStart(..., c + 1, ...)) }
// claim == 0: static shares, as before claiming: nth chunks, worker ith computes chunk ith.
// claim != 0: the address of the step's claim record (CLAIM_* in kernels/layout.ts), zero
// before the step. The chunks are split into R = min(nth, CLAIM_MAX_RANGES) home ranges as
// shareStart splits them; worker ith claims the next chunk of its home range (ith mod R) with
// an atomic add, and once that is used up, of the ranges after it in turn (taking over the
// rest of a slow worker's range), until none is left. So on a quiet host each worker computes
// about its static share, keeping its data in its own cache from step to step. Finished
// chunks are counted in `done` (the last one wakes the waiters on it). Who computes a chunk
// never changes how its units are computed, so outputs do not depend on the split.

/**
 * Chunks per worker when claiming: few enough that the atomics cost nothing, enough to balance.
 * 16 rather than 4: DenseNet-121 batch 1 on 2 threads 2.5-4 % faster (same-process A/B; a
 * worker waited up to 0.2 ms at the end of each 56x56 Winograd step for the other's last,
 * 3-4-panel chunk), no change with a busy thread competing (bench/contention.mjs); 32 no better.
 */
export const CHUNKS_PER_WORKER: i32 = 16;

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
@inline export function firstChunk(claim: usize, ith: i32, nth: i32, count: i32): i32 {
  if (claim == 0) return ith;
  atomic.store<i32>(claim + (CLAIM_COUNT << 2), count);
  const ranges = min(nth, CLAIM_MAX_RANGES);
  return claimFrom(claim, 0, ith % ranges, ranges, count);
}

/** Counts chunk c, just computed, as done and claims the next (count: none is left). */
// @ts-ignore: decorator
@inline export function nextChunk(claim: usize, ith: i32, nth: i32, count: i32, c: i32): i32 {
  if (claim == 0) return count;
  if (atomic.add<i32>(claim + (CLAIM_DONE << 2), 1) == count - 1) atomic.notify(claim + (CLAIM_DONE << 2));
  const ranges = min(nth, CLAIM_MAX_RANGES), home = ith % ranges;
  const r = ((c + 1) * ranges - 1) / count; // the home range holding c (the ranges before it in turn are used up)
  return claimFrom(claim, (r - home + ranges) % ranges, home, ranges, count);
}

/** Claims the next chunk of the home ranges home + d0, home + d0 + 1, ... (mod ranges); count if none is left. */
function claimFrom(claim: usize, d0: i32, home: i32, ranges: i32, count: i32): i32 {
  for (let d = d0; d < ranges; d++) {
    const r = (home + d) % ranges;
    const start = shareStart(count, r, ranges), end = shareStart(count, r + 1, ranges);
    if (start == end) continue;
    const j = atomic.add<i32>(claim + (<usize>(CLAIM_NEXT + r) << 2), 1);
    if (start + j < end) return start + j;
  }
  return count;
}
