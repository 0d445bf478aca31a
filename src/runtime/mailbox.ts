// The shared-memory mailboxes through which a session hands runs to its pool's workers
// (runtime/pool.ts writes, runtime/worker.ts reads), one slot per worker index ith.
//
// A worker's part of a run arrives as numbers in its slot, not as a message: a worker that
// has just finished a run lingers in its resident loop, watching its slot's state, so the
// next run starts within microseconds instead of after a message and a futex wake-up
// (50-900 µs measured on this VM, most of it waking a vCPU that had gone idle).
//
// A slot's state moves IDLE → GO (the session: a run is in the slot; it starts a loop task
// for the slot if none is running) → LINGER (the worker: done, and watching the slot) → GO
// (the session, by compare-and-swap: the next run) ... → IDLE (the worker, by
// compare-and-swap, when it has lingered long enough: its loop task returns, so an idle
// pool keeps no process alive) or STOP (the session, releasing the pool). A worker reports
// each run it was given once: it sets LINGER, writes its outcome, then counts itself into
// the run's FINISHED word and wakes the session; a worker that dies is counted by the
// session instead (REPORTED makes sure each slot is counted once).
import type { RunTask } from "./task.js";

export const SlotState = { IDLE: 0, LINGER: 1, GO: 2, STOP: 3 } as const;

/**
 * i32 words per slot: state, sleeping (the worker waits in Atomics.wait on state), reported
 * (the current run has been counted for this slot), failed, error bytes.
 */
const SLOT_WORDS = 5;
const STATE = 0,
  SLEEPING = 1,
  REPORTED = 2,
  FAILED = 3,
  ERROR_BYTES = 4;
/** After the slots: how many workers have reported the current run. */
const GLOBAL_WORDS = 4;
const FINISHED = 0;
/** Most bytes of a worker's error message kept (UTF-8; the rest is cut). */
const ERROR_CAPACITY = 1024;

/** The RunTask fields as they lie in a slot's parameters (f64s: every one is an integer below 2^53). */
const FIELDS = [
  "memoryBytes",
  "ith",
  "nth",
  "barrier",
  "schedule",
  "steps",
  "sync",
  "claims",
  "ownArena",
  "sharedArena",
  "scratch",
  "inputStage",
  "outputStage",
  "inputOffset",
  "outputOffset",
  "inputElements",
  "outputElements",
  "batch",
  "shared",
] as const satisfies readonly (keyof RunTask)[];
/** Then the test fault: its step (-1: none) and mode (0: throw, 1: exit). */
const PARAMS = FIELDS.length + 2;
const FAULT_MODES = ["throw", "exit"] as const;

/** Where the words (padded to 8 bytes), the parameters and the error areas of `slots` slots lie. */
function byteLayout(slots: number) {
  const words = slots * SLOT_WORDS + GLOBAL_WORDS;
  const params = 8 * Math.ceil((words * 4) / 8);
  const errors = params + slots * PARAMS * 8;
  return { words, params, errors, bytes: errors + slots * ERROR_CAPACITY };
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class Mailboxes {
  private readonly words: Int32Array;
  private readonly params: Float64Array;
  private readonly errors: Uint8Array;

  /** Views `buffer` (from Mailboxes.create, possibly in another thread) as `slots` mailboxes. */
  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly slots: number,
  ) {
    const at = byteLayout(slots);
    this.words = new Int32Array(buffer, 0, at.words);
    this.params = new Float64Array(buffer, at.params, slots * PARAMS);
    this.errors = new Uint8Array(buffer, at.errors, slots * ERROR_CAPACITY);
  }

  static create(slots: number): Mailboxes {
    return new Mailboxes(new SharedArrayBuffer(byteLayout(slots).bytes), slots);
  }

  private index(slot: number, word: number): number {
    return slot * SLOT_WORDS + word;
  }

  private get finishedIndex(): number {
    return this.slots * SLOT_WORDS + FINISHED;
  }

  state(slot: number): number {
    return Atomics.load(this.words, this.index(slot, STATE));
  }

  // ---- the session's side ----

  /** Starts a run: no worker has reported it yet. */
  beginRun(): void {
    Atomics.store(this.words, this.finishedIndex, 0);
  }

  /** Writes worker task.ith's part of the run into its slot (the worker reads it once it sees GO). */
  write(task: RunTask): void {
    const base = task.ith * PARAMS;
    for (let f = 0; f < FIELDS.length; f++) this.params[base + f] = task[FIELDS[f]];
    this.params[base + FIELDS.length] = task.fault ? task.fault.at : -1;
    this.params[base + FIELDS.length + 1] = task.fault ? FAULT_MODES.indexOf(task.fault.mode) : 0;
    Atomics.store(this.words, this.index(task.ith, FAILED), 0);
    Atomics.store(this.words, this.index(task.ith, REPORTED), 0);
  }

  /**
   * Hands the slot's run to its lingering worker (waking it if it sleeps): true; false when
   * no loop runs for the slot (it is IDLE), and the caller must start one. The slot is GO
   * either way.
   */
  handOver(slot: number): boolean {
    const i = this.index(slot, STATE);
    if (Atomics.compareExchange(this.words, i, SlotState.LINGER, SlotState.GO) === SlotState.LINGER) {
      if (Atomics.load(this.words, this.index(slot, SLEEPING))) Atomics.notify(this.words, i);
      return true;
    }
    Atomics.store(this.words, i, SlotState.GO);
    return false;
  }

  /** The slot's loop is gone (its worker died): the next run starts a new one. */
  markIdle(slot: number): void {
    Atomics.store(this.words, this.index(slot, STATE), SlotState.IDLE);
  }

  /** Asks a lingering loop to end: true if it was lingering (it returns soon). */
  stop(slot: number): boolean {
    const i = this.index(slot, STATE);
    const was = Atomics.compareExchange(this.words, i, SlotState.LINGER, SlotState.STOP);
    if (was === SlotState.LINGER) Atomics.notify(this.words, i);
    return was === SlotState.LINGER;
  }

  /**
   * Counts the slot's worker, which died, as having reported the current run, unless it did
   * before it died: true if this call counted it.
   */
  reportForDead(slot: number): boolean {
    return this.count(slot);
  }

  /** Counts the slot into the current run's FINISHED once (whoever calls first), waking the session's wait. */
  private count(slot: number): boolean {
    if (Atomics.compareExchange(this.words, this.index(slot, REPORTED), 0, 1) !== 0) return false;
    Atomics.add(this.words, this.finishedIndex, 1);
    Atomics.notify(this.words, this.finishedIndex);
    return true;
  }

  /** How many workers have reported the current run. */
  get finished(): number {
    return Atomics.load(this.words, this.finishedIndex);
  }

  /** Resolves once `count` workers have reported the current run (re-checking every `sliceMs`). */
  async allReported(count: number, sliceMs = 100): Promise<void> {
    for (let n = this.finished; n < count; n = this.finished) {
      const wait = Atomics.waitAsync(this.words, this.finishedIndex, n, sliceMs);
      if (wait.async) await wait.value;
    }
  }

  /** The error message the slot's worker reported for the current run, or null. */
  failure(slot: number): string | null {
    if (!Atomics.load(this.words, this.index(slot, FAILED))) return null;
    const bytes = Atomics.load(this.words, this.index(slot, ERROR_BYTES));
    return utf8Decoder.decode(this.errors.slice(slot * ERROR_CAPACITY, slot * ERROR_CAPACITY + bytes));
  }

  // ---- the worker's side ----

  /** The run in the slot (valid once the worker has seen GO). */
  read(slot: number): RunTask {
    const base = slot * PARAMS;
    const task: Record<string, unknown> = {};
    for (let f = 0; f < FIELDS.length; f++) task[FIELDS[f]] = this.params[base + f];
    const at = this.params[base + FIELDS.length];
    if (at >= 0) task.fault = { at, mode: FAULT_MODES[this.params[base + FIELDS.length + 1]] };
    return task as unknown as RunTask;
  }

  /** Reports the slot's run (error: its message, or null) and leaves the slot LINGER. */
  report(slot: number, error: string | null): void {
    Atomics.store(this.words, this.index(slot, STATE), SlotState.LINGER);
    if (error !== null) {
      // through an unshared copy: TextEncoder and TextDecoder need not take shared views
      const bytes = utf8Encoder.encode(error).subarray(0, ERROR_CAPACITY);
      this.errors.set(bytes, slot * ERROR_CAPACITY);
      Atomics.store(this.words, this.index(slot, ERROR_BYTES), bytes.length);
      Atomics.store(this.words, this.index(slot, FAILED), 1);
    }
    this.count(slot);
  }

  /**
   * Lingers after a report: spins for `spinMs`, then sleeps, until the session hands the
   * slot a run (true) or stops it, or `lingerMs` pass (the slot goes IDLE): false. The spin
   * ends early when `runs` (a counter every pool of the process bumps as it starts a run)
   * moves: another session's run has started, and a spinning worker would only take CPU
   * from it.
   */
  linger(slot: number, spinMs: number, lingerMs: number, runs: Int32Array | null = null): boolean {
    const i = this.index(slot, STATE);
    const t0 = performance.now();
    const started = runs ? Atomics.load(runs, 0) : 0;
    for (let k = 0; ; k++) {
      if (Atomics.load(this.words, i) !== SlotState.LINGER) break;
      if ((k & 255) === 0 && (performance.now() - t0 >= spinMs || (runs !== null && Atomics.load(runs, 0) !== started))) break;
    }
    while (Atomics.load(this.words, i) === SlotState.LINGER) {
      const left = lingerMs - (performance.now() - t0);
      if (left <= 0) {
        if (Atomics.compareExchange(this.words, i, SlotState.LINGER, SlotState.IDLE) === SlotState.LINGER) return false;
        break;
      }
      Atomics.store(this.words, this.index(slot, SLEEPING), 1);
      Atomics.wait(this.words, i, SlotState.LINGER, left);
      Atomics.store(this.words, this.index(slot, SLEEPING), 0);
    }
    return Atomics.load(this.words, i) === SlotState.GO;
  }
}
