// Dynamic work claiming. A run's claim area in shared memory, zeroed before the run, starts
// with a record whose first i32 hands out the batch's whole images (each worker claims the
// next until none is left, and runs it alone on its own arena); then each image that all
// workers run together gets a slot: a header i32 (the input is staged: 1) and per step four
// i32s [next, done, count, 0] that the kernels use to claim chunks of the step's work
// (assembly/desc.ts). A worker waits only where the plan says
// (plan/sync.ts), and then for the *work* of the steps since the last wait to be done, not
// for every worker to arrive: a worker that is descheduled, or still busy with its own whole
// images, holds up the others only while it holds an unfinished chunk.
import { RunAborted, isAborted } from "./barrier.js";
import type { ImageSync } from "./executor.js";

export const CLAIM_RECORD_BYTES = 16;
// Word indices in a step's record; word 0 (next) is the kernels' alone.
const DONE = 1,
  COUNT = 2;
const SPINS = 20000;
const WAIT_SLICE_MS = 50;

/** Bytes of one image's claim slot for a plan of `steps` steps. */
export function claimSlotBytes(steps: number): number {
  return (steps + 1) * CLAIM_RECORD_BYTES;
}

/** Bytes of a run's claim area: the whole-image counter and a slot per shared image. */
export function claimAreaBytes(steps: number, shared: number): number {
  return CLAIM_RECORD_BYTES + shared * claimSlotBytes(steps);
}

/** Address of the claim slot of the j-th shared image in the claim area at `area`. */
export function claimSlot(area: number, steps: number, j: number): number {
  return area + CLAIM_RECORD_BYTES + j * claimSlotBytes(steps);
}

/** Claims the next whole image of the run: its index, or `whole` or more when none is left. */
export function claimImage(buffer: ArrayBufferLike, area: number): number {
  return Atomics.add(new Int32Array(buffer, area, 1), 0, 1);
}

/**
 * The ImageSync of worker ith on the claim slot at byte address `slot` of a plan of `steps`
 * steps; `barrier` is the run's barrier, whose abort flag ends every wait.
 */
export function claimedSync(buffer: ArrayBufferLike, slot: number, steps: number, ith: number, barrier: Int32Array): ImageSync {
  const words = new Int32Array(buffer, slot, claimSlotBytes(steps) / 4);
  const record = (step: number) => 4 * (step + 1);
  return {
    claim: (step) => slot + CLAIM_RECORD_BYTES * (step + 1),
    inputStaged() {
      if (ith === 0) {
        Atomics.store(words, 0, 1);
        Atomics.notify(words, 0);
      } else {
        waitWhile(words, 0, (staged) => staged === 0, barrier);
      }
    },
    complete(from, to) {
      for (let s = from; s < to; s++) {
        const r = record(s);
        // This worker has run step s's kernel, which published the count before claiming.
        const count = Atomics.load(words, r + COUNT);
        waitWhile(words, r + DONE, (done) => done !== count, barrier);
      }
    },
  };
}

/** Spins briefly, then sleeps on words[index] (woken by a notify there), while `pending(words[index])`. */
function waitWhile(words: Int32Array, index: number, pending: (value: number) => boolean, barrier: Int32Array): void {
  for (let i = 0; i < SPINS; i++) if (!pending(Atomics.load(words, index))) return;
  for (;;) {
    // Read once, wait on that value: a change after the read makes the wait return at once.
    const value = Atomics.load(words, index);
    if (!pending(value)) return;
    if (isAborted(barrier)) throw new RunAborted();
    Atomics.wait(words, index, value, WAIT_SLICE_MS);
  }
}
