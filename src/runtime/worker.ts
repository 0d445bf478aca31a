// A pool worker: instantiates the kernels once on the session's shared memory. Each Piscina
// task it is given (LoopStart) is a resident loop on one mailbox slot: it runs the run in the
// slot, reports it (an error as its message), then lingers for the next one, and returns once
// it has lingered LINGER_MS without one (runtime/mailbox.ts has the protocol).
import { workerData } from "node:worker_threads";
import { RunAborted, abortRun, barrierView } from "./barrier.js";
import { claimImage, claimSlot, claimedSync } from "./claim.js";
import { type ImageSync, type KernelTable, type StepHooks, barrierSync, runImage } from "./executor.js";
import { instantiateKernels, kernelTable } from "./kernels.js";
import { Mailboxes } from "./mailbox.js";
import { type LoopStart, type RunTask, type WorkerSetup, ownImageStart } from "./task.js";

/**
 * How long a worker spins after a run, watching its slot, before it sleeps: long enough to
 * catch the next run of a session that is being run back to back (the session's own work
 * between two runs is 0.1-0.3 ms), short enough to cost little CPU when it is not.
 */
const SPIN_MS = 0.5;
/** How long it lingers in all (sleeping after the spin) before its loop task returns. */
const LINGER_MS = 20;

const setup = workerData as WorkerSetup;
const table: KernelTable = kernelTable(setup.memory, instantiateKernels(setup.module, setup.memory));
const mailboxes = new Mailboxes(setup.mailboxes, setup.slots);
const processRuns = new Int32Array(setup.processRuns);

/**
 * The memory's buffer once it spans `bytes`. Another thread grew the memory, and a worker's
 * view of a shared memory's buffer may lag behind the growth (refreshed by the engine in its
 * own time, or by a grow of 0 pages): wait a little for it rather than read a short buffer.
 */
function bufferOf(memory: WebAssembly.Memory, bytes: number): ArrayBufferLike {
  const lag = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; memory.buffer.byteLength < bytes; attempt++) {
    if (attempt === 100) throw new Error(`this worker sees ${memory.buffer.byteLength} bytes of memory, the run needs ${bytes}`);
    memory.grow(0);
    if (attempt > 0) Atomics.wait(lag, 0, 0, 1);
  }
  return memory.buffer;
}

/** The test hook of RunTask.fault: throw or exit before the given step. */
function faultHooks(fault: RunTask["fault"]): StepHooks {
  if (!fault) return {};
  return {
    before(s) {
      if (s !== fault.at) return;
      if (fault.mode === "exit") process.exit(3);
      throw new Error(`injected fault at step ${s}`);
    },
  };
}

export default function loop(start: LoopStart): number {
  do {
    let error: string | null = null;
    try {
      runPart(mailboxes.read(start.slot));
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    mailboxes.report(start.slot, error);
  } while (mailboxes.linger(start.slot, SPIN_MS, LINGER_MS, processRuns));
  return start.slot;
}

/** Worker t.ith's part of a run; throws (after aborting the run's barrier) on failure. */
function runPart(t: RunTask): void {
  const schedule = { table: t.schedule, steps: t.steps, sync: t.sync };
  const hooks = faultHooks(t.fault);
  try {
    const buffer = bufferOf(setup.memory, t.memoryBytes);
    const barrier = barrierView(buffer, t.barrier);
    const whole = t.batch - t.shared;
    if (t.claims) {
      for (let i = claimImage(buffer, t.claims); i < whole; i = claimImage(buffer, t.claims)) {
        runImage(table, schedule, t, i, t.ownArena, t.scratch, 0, 1, null, hooks);
      }
    } else {
      for (let i = ownImageStart(whole, t.ith, t.nth); i < ownImageStart(whole, t.ith + 1, t.nth); i++) {
        runImage(table, schedule, t, i, t.ownArena, t.scratch, 0, 1, null, hooks);
      }
    }
    for (let i = whole; i < t.batch; i++) {
      const sync: ImageSync = t.claims
        ? claimedSync(buffer, claimSlot(t.claims, t.steps, t.nth, i - whole), t.steps, t.ith, t.nth, barrier)
        : barrierSync(barrier, t.nth);
      runImage(table, schedule, t, i, t.sharedArena, t.scratch, t.ith, t.nth, sync, hooks);
    }
  } catch (e) {
    // the barrier lies in memory the session allocated before any run, so any view spans it
    if (!(e instanceof RunAborted)) abortRun(barrierView(setup.memory.buffer, t.barrier));
    throw e;
  }
}
