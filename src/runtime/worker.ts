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
  const barrier = barrierView(setup.memory.buffer, t.barrier);
  const schedule = { table: t.schedule, steps: t.steps, sync: t.sync };
  const hooks = faultHooks(t.fault);
  try {
    const whole = t.batch - t.shared;
    const buffer = setup.memory.buffer;
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
        ? claimedSync(buffer, claimSlot(t.claims, t.steps, i - whole), t.steps, t.ith, barrier)
        : barrierSync(barrier, t.nth);
      runImage(table, schedule, t, i, t.arenas[0], t.scratch, t.ith, t.nth, sync, hooks);
    }
    return t.ith;
  } catch (e) {
    if (!(e instanceof RunAborted)) abortRun(barrier);
    throw e;
  }
}
