// A pool worker: instantiates the kernels once on the session's shared memory, then runs
// its part of each run (see RunTask). Errors go back to the session as rejections.
import { workerData } from "node:worker_threads";
import { RunAborted, abortRun, arriveAndWait, barrierView } from "./barrier.js";
import type { OpKernel } from "../kernels/op_kernels.js";
import { instantiateKernels, opKernelTable } from "./kernels.js";
import { type RunTask, type WorkerSetup, ownImageStart } from "./task.js";

const setup = workerData as WorkerSetup;
const table: OpKernel[] = opKernelTable(instantiateKernels(setup.module, setup.memory));

function runImage(t: RunTask, image: number, arena: number, ith: number, nth: number, barrier: Int32Array): void {
  const buffer = setup.memory.buffer;
  const f32 = new Float32Array(buffer);
  const schedule = new Uint32Array(buffer, t.schedule, t.steps * 2);
  if (ith === 0) {
    const src = (t.inputStage >>> 2) + image * t.inputElements;
    f32.copyWithin((arena + t.inputOffset) >>> 2, src, src + t.inputElements);
  }
  arriveAndWait(barrier, nth);
  for (let s = 0; s < t.steps; s++) {
    if (t.fault && t.fault.at === s) {
      if (t.fault.mode === "exit") process.exit(3);
      throw new Error(`injected fault at step ${s}`);
    }
    table[schedule[2 * s]](schedule[2 * s + 1], arena, t.scratch, ith, nth);
    arriveAndWait(barrier, nth);
  }
  if (ith === 0) {
    const dst = (t.outputStage >>> 2) + image * t.outputElements;
    const src = (arena + t.outputOffset) >>> 2;
    f32.copyWithin(dst, src, src + t.outputElements);
  }
}

export default function run(t: RunTask): number {
  const barrier = barrierView(setup.memory.buffer, t.barrier);
  try {
    const whole = t.batch - t.shared;
    for (let i = ownImageStart(whole, t.ith, t.nth); i < ownImageStart(whole, t.ith + 1, t.nth); i++) {
      runImage(t, i, t.arenas[t.ith], 0, 1, barrier);
    }
    for (let i = whole; i < t.batch; i++) runImage(t, i, t.arenas[0], t.ith, t.nth, barrier);
    return t.ith;
  } catch (e) {
    if (!(e instanceof RunAborted)) abortRun(barrier);
    throw e;
  }
}
