// A pool worker: instantiates the kernels once on the session's shared memory, then runs
// its part of each run (see RunTask). Errors go back to the session as rejections.
import { workerData } from "node:worker_threads";
import { RunAborted, abortRun, barrierView } from "./barrier.js";
import { claimImage, claimSlot, claimedSync } from "./claim.js";
import { type ImageSync, type KernelTable, type StepHooks, barrierSync, runImage } from "./executor.js";
import { instantiateKernels, kernelTable } from "./kernels.js";
import { type RunTask, type WorkerSetup, ownImageStart } from "./task.js";

const setup = workerData as WorkerSetup;
const table: KernelTable = kernelTable(setup.memory, instantiateKernels(setup.module, setup.memory));

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

export default function run(t: RunTask): number {
  const buffer = bufferOf(setup.memory, t.memoryBytes);
  const barrier = barrierView(buffer, t.barrier);
  const schedule = { table: t.schedule, steps: t.steps, sync: t.sync };
  const hooks = faultHooks(t.fault);
  try {
    const whole = t.batch - t.shared;
    if (t.claims) {
      for (let i = claimImage(buffer, t.claims); i < whole; i = claimImage(buffer, t.claims)) {
        runImage(table, schedule, t, i, t.arenas[t.ith], t.scratch, 0, 1, null, hooks);
      }
    } else {
      for (let i = ownImageStart(whole, t.ith, t.nth); i < ownImageStart(whole, t.ith + 1, t.nth); i++) {
        runImage(table, schedule, t, i, t.arenas[t.ith], t.scratch, 0, 1, null, hooks);
      }
    }
    for (let i = whole; i < t.batch; i++) {
      const sync: ImageSync = t.claims
        ? claimedSync(buffer, claimSlot(t.claims, t.steps, t.nth, i - whole), t.steps, t.ith, t.nth, barrier)
        : barrierSync(barrier, t.nth);
      runImage(table, schedule, t, i, t.arenas[0], t.scratch, t.ith, t.nth, sync, hooks);
    }
    return t.ith;
  } catch (e) {
    if (!(e instanceof RunAborted)) abortRun(barrier);
    throw e;
  }
}
