// Dynamic work claiming. A run's claim area in shared memory, zeroed before the run, starts
// with a record whose first i32 hands out the batch's whole images (each worker claims the
// next until none is left, and runs it alone on its own arena); then each image that all
// workers run together gets a slot: a header record (its first i32: the input is staged) and
// per step a claim record (CLAIM_* in kernels/layout.ts) that the kernels claim chunks of the
// step's work with (assembly/desc.ts). A worker waits only where the plan says
// (plan/sync.ts), and then for the *work* of the steps since the last wait to be done, not
// for every worker to arrive: a worker that is descheduled, or still busy with its own whole
// images, holds up the others only while it holds an unfinished chunk.
import { CLAIM_COUNT, CLAIM_DONE, CLAIM_MAX_RANGES, CLAIM_NEXT } from "../kernels/layout.js";
import { RunAborted, isAborted } from "./barrier.js";
import type { ImageSync } from "./executor.js";

const SPINS = 20000;
const WAIT_SLICE_MS = 50;

/** Bytes of a step's claim record for nth workers: CLAIM_NEXT words, a counter per home range, rounded up to 16. */
export function claimRecordBytes(nth: number): number {
  return 16 * Math.ceil((CLAIM_NEXT + Math.min(nth, CLAIM_MAX_RANGES)) / 4);
}

/** Bytes of one image's claim slot for a plan of `steps` steps and nth workers. */
export function claimSlotBytes(steps: number, nth: number): number {
  return (steps + 1) * claimRecordBytes(nth);
}

/** Bytes of a run's claim area: the whole-image counter and a slot per shared image. */
export function claimAreaBytes(steps: number, nth: number, shared: number): number {
  return 16 + shared * claimSlotBytes(steps, nth);
}

/** Address of the claim slot of the j-th shared image in the claim area at `area`. */
export function claimSlot(area: number, steps: number, nth: number, j: number): number {
  return area + 16 + j * claimSlotBytes(steps, nth);
}

/** Claims the next whole image of the run: its index, or `whole` or more when none is left. */
export function claimImage(buffer: ArrayBufferLike, area: number): number {
  return Atomics.add(new Int32Array(buffer, area, 1), 0, 1);
}

/**
 * The ImageSync of worker ith of nth on the claim slot at byte address `slot` of a plan of
 * `steps` steps; `barrier` is the run's barrier, whose abort flag ends every wait.
 */
export function claimedSync(
  buffer: ArrayBufferLike,
  slot: number,
  steps: number,
  ith: number,
  nth: number,
  barrier: Int32Array,
): ImageSync {
  const recordBytes = claimRecordBytes(nth);
  const words = new Int32Array(buffer, slot, claimSlotBytes(steps, nth) / 4);
  const record = (step: number) => (recordBytes / 4) * (step + 1);
  const complete = (from: number, to: number) => {
    for (let s = from; s < to; s++) {
      const r = record(s);
      // This worker has run step s's kernel, which published the count before claiming.
      const count = Atomics.load(words, r + CLAIM_COUNT);
      waitWhile(words, r + CLAIM_DONE, (done) => done !== count, barrier);
    }
  };
  return {
    claim: (step) => slot + recordBytes * (step + 1),
    inputStaged() {
      if (ith === 0) {
        Atomics.store(words, 0, 1);
        Atomics.notify(words, 0);
      } else {
        waitWhile(words, 0, (staged) => staged === 0, barrier);
      }
    },
    complete,
    imageDone(from, to) {
      // Worker 0 reads the output; the others go on (to the next image's input, staged by worker 0 after that).
      if (ith === 0) complete(from, to);
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
