// The messages between a session and its pool workers.

/** Created once per worker (Piscina's workerData): what it instantiates the kernels on. */
export interface WorkerSetup {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
}

/**
 * One worker's part of one run. Images are staged in linear memory: image i's input at
 * inputStage + i * inputElements floats, its output at outputStage + i * outputElements.
 * Images [0, batch - shared) are split between workers whole (worker w takes
 * ownImages[w]..ownImages[w+1], each on its own arena); the last `shared` images are run by
 * all workers together on arenas[0], each step split (ith, nth) with a barrier after it.
 */
export interface RunTask {
  readonly kind: "run";
  readonly ith: number;
  readonly nth: number;
  readonly barrier: number;
  /** [kernel id, descriptor] u32 pairs. */
  readonly schedule: number;
  readonly steps: number;
  readonly arenas: readonly number[];
  readonly scratch: number;
  readonly inputStage: number;
  readonly outputStage: number;
  readonly inputOffset: number;
  readonly outputOffset: number;
  readonly inputElements: number;
  readonly outputElements: number;
  readonly batch: number;
  readonly shared: number;
  /** Test hook: make this worker fail at the given step ("throw") or die ("exit"). */
  readonly fault?: { readonly at: number; readonly mode: "throw" | "exit" };
}

/** Where worker ith's whole images start, for `whole` images over nth workers. */
export function ownImageStart(whole: number, ith: number, nth: number): number {
  return Math.floor((whole * ith) / nth);
}
