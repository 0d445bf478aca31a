// The one loop that executes plans: on the calling thread, in each pool worker, for
// profiles and in the kernel tests. A plan's schedule is a table in linear memory of
// [kernel id, descriptor address] u32 pairs (plan/plan.ts); images travel through staging
// areas in linear memory, so every thread stages them the same way.
import type { OpKernel } from "../kernels/op_kernels.js";
import { arriveAndWait } from "./barrier.js";

/** A plan's schedule table: `steps` [kernel id, descriptor] u32 pairs at byte address `table`. */
export interface Schedule {
  readonly table: number;
  readonly steps: number;
}

/** Where one run's images are staged and where the plan takes and leaves an image in its arena. */
export interface Staging {
  /** Image i's input at inputStage + i * inputElements floats, its output at outputStage + i * outputElements. */
  readonly inputStage: number;
  readonly outputStage: number;
  /** Arena offsets of the plan's input image and output vector. */
  readonly inputOffset: number;
  readonly outputOffset: number;
  readonly inputElements: number;
  readonly outputElements: number;
}

/** Called around each step with its index: a barrier, a timer, a test's fault. */
export interface StepHooks {
  before?(step: number): void;
  after?(step: number): void;
}

/** An instance of the kernels on one memory: its op kernels indexed by id. */
export interface KernelTable {
  readonly memory: WebAssembly.Memory;
  readonly kernels: readonly OpKernel[];
}

/** Runs worker ith's share (of nth) of every step of a schedule, in order, on one arena. */
export function runSchedule(
  t: KernelTable,
  schedule: Schedule,
  arena: number,
  scratch: number,
  ith = 0,
  nth = 1,
  hooks: StepHooks = {},
): void {
  const pairs = new Uint32Array(t.memory.buffer, schedule.table, schedule.steps * 2);
  const { before, after } = hooks;
  for (let s = 0; s < schedule.steps; s++) {
    before?.(s);
    t.kernels[pairs[2 * s]](pairs[2 * s + 1], arena, scratch, ith, nth);
    after?.(s);
  }
}

/**
 * Runs image `image` of a staged batch: worker 0 copies it from the input stage into the
 * arena, all nth workers run their shares of every step with `barrier` between steps (none
 * for nth = 1), and worker 0 copies the output vector to the output stage.
 */
export function runImage(
  t: KernelTable,
  schedule: Schedule,
  staging: Staging,
  image: number,
  arena: number,
  scratch: number,
  ith = 0,
  nth = 1,
  barrier: Int32Array | null = null,
  hooks: StepHooks = {},
): void {
  const f32 = new Float32Array(t.memory.buffer);
  const sync = () => {
    if (barrier) arriveAndWait(barrier, nth);
  };
  if (ith === 0) {
    const src = (staging.inputStage >>> 2) + image * staging.inputElements;
    f32.copyWithin((arena + staging.inputOffset) >>> 2, src, src + staging.inputElements);
  }
  sync();
  runSchedule(t, schedule, arena, scratch, ith, nth, {
    before: hooks.before,
    after: (s) => {
      sync();
      hooks.after?.(s);
    },
  });
  if (ith === 0) {
    const dst = (staging.outputStage >>> 2) + image * staging.outputElements;
    const src = (arena + staging.outputOffset) >>> 2;
    f32.copyWithin(dst, src, src + staging.outputElements);
  }
}
