// The one loop that executes plans: on the calling thread, in each pool worker, for
// profiles and in the kernel tests. A plan's schedule is a table in linear memory of
// [kernel id, descriptor address] u32 pairs (plan/plan.ts); images travel through staging
// areas in linear memory, so every thread stages them the same way.
import type { OpKernel } from "../kernels/op_kernels.js";
import { arriveAndWait } from "./barrier.js";

/**
 * A plan's schedule table: `steps` [kernel id, descriptor] u32 pairs at byte address `table`;
 * `sync`, where given, the plan's u32 per step (1: workers sharing an image wait before it).
 */
export interface Schedule {
  readonly table: number;
  readonly steps: number;
  readonly sync?: number;
}

/**
 * How the workers running one image together keep its steps apart: arrival barriers with
 * static shares (barrierSync), or claimed chunks and waits for completed work (claim.ts).
 */
export interface ImageSync {
  /** The claim record to hand step `step`'s kernel, or 0 for static shares. */
  claim(step: number): number;
  /** Called by every worker once worker 0 has staged the input: returns when all may start. */
  inputStaged(): void;
  /** Returns once steps [from, to) are complete. */
  complete(from: number, to: number): void;
  /** After the last step (the open steps from `from` on): returns once worker 0 may read the output, and this worker may go on. */
  imageDone(from: number, steps: number): void;
}

/** Static shares, with every worker arriving at a barrier wherever one waits. */
export function barrierSync(barrier: Int32Array, nth: number): ImageSync {
  return {
    claim: () => 0,
    inputStaged: () => arriveAndWait(barrier, nth),
    complete: () => arriveAndWait(barrier, nth),
    imageDone: () => arriveAndWait(barrier, nth),
  };
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
 * arena, all nth workers run their shares of every step (static, or claimed chunks), waiting
 * where the schedule's sync table says (before every step without one) and after the last
 * step, and worker 0 copies the output vector to the output stage. No sync for nth = 1.
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
  sync: ImageSync | null = null,
  hooks: StepHooks = {},
): void {
  const f32 = new Float32Array(t.memory.buffer);
  if (ith === 0) {
    const src = (staging.inputStage >>> 2) + image * staging.inputElements;
    f32.copyWithin((arena + staging.inputOffset) >>> 2, src, src + staging.inputElements);
  }
  sync?.inputStaged();
  const pairs = new Uint32Array(t.memory.buffer, schedule.table, schedule.steps * 2);
  const waits = schedule.sync ? new Uint32Array(t.memory.buffer, schedule.sync, schedule.steps) : null;
  let open = 0; // the first step since the last wait
  for (let s = 0; s < schedule.steps; s++) {
    if (sync && s > 0 && (!waits || waits[s])) {
      sync.complete(open, s);
      open = s;
    }
    hooks.before?.(s);
    t.kernels[pairs[2 * s]](pairs[2 * s + 1], arena, scratch, ith, nth, sync ? sync.claim(s) : 0);
    hooks.after?.(s);
  }
  sync?.imageDone(open, schedule.steps);
  if (ith === 0) {
    const dst = (staging.outputStage >>> 2) + image * staging.outputElements;
    const src = (arena + staging.outputOffset) >>> 2;
    f32.copyWithin(dst, src, src + staging.outputElements);
  }
}
