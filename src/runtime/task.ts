// What a session and its pool workers exchange: the setup each worker starts with, and each
// worker's part of a run (which reaches it through its slot of runtime/mailbox.ts).
import type { Staging } from "./executor.js";

/** Created once per worker (Piscina's workerData): what it instantiates the kernels on. */
export interface WorkerSetup {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  /** The pool's mailboxes (runtime/mailbox.ts), one slot per worker index. */
  readonly mailboxes: SharedArrayBuffer;
  readonly slots: number;
  /** One i32 that every pool of the process bumps when it starts a run (lingering workers of other pools stop spinning). */
  readonly processRuns: SharedArrayBuffer;
}

/** The Piscina task that starts a worker's resident loop on mailbox slot `slot` (runtime/worker.ts). */
export interface LoopStart {
  readonly slot: number;
}

/**
 * One worker's part of one run, on images staged in linear memory (see Staging). Images
 * [0, batch - shared) are run whole, each by one worker on its own arena (ownArena): static
 * (claims = 0), worker w takes images ownImageStart(whole, w, nth) up to
 * ownImageStart(whole, w + 1, nth); dynamic, workers claim them one by one. The last `shared`
 * images are run by all workers together on sharedArena, each step split (ith, nth): static,
 * in fixed shares with barriers where the plan's sync table says; dynamic, in chunks claimed
 * from the image's slot of the claim area, waiting there for unfinished work only
 * (runtime/claim.ts).
 */
export interface RunTask extends Staging {
  /** Bytes of the memory when the run was sent (the worker waits until its view spans them). */
  readonly memoryBytes: number;
  readonly ith: number;
  readonly nth: number;
  readonly barrier: number;
  /** [kernel id, descriptor] u32 pairs. */
  readonly schedule: number;
  readonly steps: number;
  /** The plan's sync table: a u32 per step, 1 where workers sharing an image wait before it. */
  readonly sync: number;
  /** Address of the run's zeroed claim area (claimAreaBytes); 0: static shares. */
  readonly claims: number;
  /** The arena of this worker's whole images (0 when the run has none). */
  readonly ownArena: number;
  /** The arena of the images all workers run together. */
  readonly sharedArena: number;
  readonly scratch: number;
  readonly batch: number;
  readonly shared: number;
  /** Test hook: make this worker fail at the given step ("throw") or die ("exit"). */
  readonly fault?: { readonly at: number; readonly mode: "throw" | "exit" };
}

/** Where worker ith's whole images start, for `whole` images over nth workers. */
export function ownImageStart(whole: number, ith: number, nth: number): number {
  return Math.floor((whole * ith) / nth);
}
