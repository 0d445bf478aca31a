// A reusable barrier for the workers of one run, on three i32s of shared memory:
// [arrived, generation, aborted]. Waiters spin briefly on the generation (a barrier between
// two DenseNet layers is usually passed within microseconds), then sleep in Atomics.wait.

export const BARRIER_BYTES = 16;
const ARRIVED = 0,
  GENERATION = 1,
  ABORTED = 2;
const SPINS = 20000;
const WAIT_SLICE_MS = 50;

/** Thrown in a worker whose run was aborted because another worker failed. */
export class RunAborted extends Error {
  override name = "RunAborted";
  constructor() {
    super(RUN_ABORTED);
  }
}

/** RunAborted's message (what reaches the session from a worker that stopped because another failed). */
export const RUN_ABORTED = "run aborted: another worker failed";

/** A view of the barrier words at byte address `ptr` of a shared buffer. */
export function barrierView(buffer: ArrayBufferLike, ptr: number): Int32Array {
  return new Int32Array(buffer, ptr, BARRIER_BYTES / 4);
}

export function resetBarrier(b: Int32Array): void {
  Atomics.store(b, ARRIVED, 0);
  Atomics.store(b, ABORTED, 0);
}

/** Waits until all nth workers have arrived; throws RunAborted once the run is aborted. */
export function arriveAndWait(b: Int32Array, nth: number): void {
  if (nth === 1) return;
  const generation = Atomics.load(b, GENERATION);
  if (Atomics.add(b, ARRIVED, 1) === nth - 1) {
    Atomics.store(b, ARRIVED, 0);
    Atomics.add(b, GENERATION, 1);
    Atomics.notify(b, GENERATION);
    return;
  }
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(b, GENERATION) !== generation) return;
  }
  while (Atomics.load(b, GENERATION) === generation) {
    if (Atomics.load(b, ABORTED)) throw new RunAborted();
    Atomics.wait(b, GENERATION, generation, WAIT_SLICE_MS);
  }
}

/** Whether the run was aborted (another worker failed). */
export function isAborted(b: Int32Array): boolean {
  return Atomics.load(b, ABORTED) !== 0;
}

/** Marks the run failed and wakes every waiter (callable from any thread). */
export function abortRun(b: Int32Array): void {
  Atomics.store(b, ABORTED, 1);
  Atomics.add(b, GENERATION, 1);
  Atomics.notify(b, GENERATION);
}
