// When an image run by all of a pool's workers together (batch 1, and a batch's images past
// the last multiple of the thread count) is better run whole by one of them. Splitting costs a
// wait at each dependent step; a tiny model's steps are too small to repay it. Measured at
// batch 1 on 2 threads, against 1 thread (2026-12-01, this repo's 2-core VM): the embedded
// Fashion-MNIST model at 48x48, 0.21 M MACs per step, 1.20-1.24x the 1-thread time split;
// at 64x64 (0.37 M) 0.96x; at 96x96 (0.82 M) 0.84x; at 144x144 (1.9 M) 0.68x; tiny121 at
// 64x64 (0.04 M) 1.67x; DenseNet-121 at 32x32 (0.43 M) 0.58x, at 224x224 (23 M) 0.55x.

/** The fewest MACs per step and worker for which an image is split between the workers. */
export const MIN_SPLIT_MACS_PER_STEP_AND_WORKER = 150_000;

/** Whether a plan of `macs` over `steps` steps is split between `nth` workers (bitwise the same either way). */
export function splitPays(macs: number, steps: number, nth: number): boolean {
  return steps > 0 && macs / steps >= MIN_SPLIT_MACS_PER_STEP_AND_WORKER * nth;
}
