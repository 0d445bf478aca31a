import { Piscina } from "piscina";
import { DenseNetError } from "../errors.js";
import { RUN_ABORTED, abortRun } from "./barrier.js";
import { Mailboxes } from "./mailbox.js";
import type { LoopStart, RunTask, WorkerSetup } from "./task.js";

const WORKER_URL = new URL("./worker.js", import.meta.url);

/** A worker's RunAborted: it stopped because another worker failed. */
const isAbortEcho = (message: string) => message.includes(RUN_ABORTED);

/** Bumped by every pool of this process as it starts a run (WorkerSetup.processRuns). */
const processRuns = new Int32Array(new SharedArrayBuffer(4));

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** The run in flight: its barrier (aborted when a worker dies) and the messages of the workers that died in it. */
interface RunInFlight {
  readonly barrier: Int32Array;
  readonly deaths: Map<number, string>;
}

/**
 * A session's Piscina pool: `threads` workers, each with the kernels instantiated once on
 * the session's shared memory. A run puts one task per worker index into the pool's
 * mailboxes (runtime/mailbox.ts); the worker that just ran that index picks it up at once if
 * it is still lingering, otherwise a Piscina task starts a resident loop for the index on a
 * free worker. The workers then step through the schedule together, synchronising on a
 * shared-memory barrier.
 */
export class WorkerPool {
  private readonly piscina: Piscina;
  private readonly mailboxes: Mailboxes;
  /** Each index's loop task, while one runs (it settles when the loop returns or its worker dies). */
  private readonly loops: (Promise<void> | null)[];
  private inFlight: RunInFlight | null = null;
  /** Loop tasks started so far (a run whose workers were all still lingering starts none). */
  loopStarts = 0;

  constructor(
    setup: Pick<WorkerSetup, "module" | "memory">,
    readonly threads: number,
  ) {
    this.mailboxes = Mailboxes.create(threads);
    this.loops = Array.from({ length: threads }, () => null);
    const workerData: WorkerSetup = {
      ...setup,
      mailboxes: this.mailboxes.buffer,
      slots: threads,
      processRuns: processRuns.buffer as SharedArrayBuffer,
    };
    this.piscina = new Piscina({
      filename: WORKER_URL.href,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      workerData,
    });
  }

  /**
   * Runs one task per worker index (tasks[i].ith = i). If any worker throws or dies, the
   * barrier is aborted so the others stop too, and the run rejects with the first failure's
   * message (the failure itself rather than another worker's RunAborted); Piscina replaces a
   * dead worker, so the next run starts on a healthy pool. Runs must not overlap (the
   * session queues them).
   */
  async run(tasks: readonly RunTask[], barrier: Int32Array): Promise<void> {
    const run: RunInFlight = { barrier, deaths: new Map() };
    this.inFlight = run;
    this.mailboxes.beginRun();
    for (const task of tasks) this.mailboxes.write(task);
    for (const task of tasks) if (!this.mailboxes.handOver(task.ith)) this.startLoop(task.ith);
    Atomics.add(processRuns, 0, 1); // after the hand-overs: this pool's own workers have seen GO or will
    // A pending Atomics.waitAsync does not keep Node's event loop alive (nodejs/node#61941).
    // The run's loop tasks do while in flight, but that is Piscina's bookkeeping rather than a
    // contract: this timer keeps the process alive while the run is in flight.
    const keepAlive = setInterval(() => {}, 60_000);
    try {
      await this.mailboxes.allReported(tasks.length);
    } finally {
      clearInterval(keepAlive);
      this.inFlight = null;
    }
    const failures = tasks.flatMap((t) => run.deaths.get(t.ith) ?? this.mailboxes.failure(t.ith) ?? []);
    if (failures.length > 0) {
      const first = failures.find((m) => !isAbortEcho(m)) ?? failures[0];
      throw new DenseNetError(`a worker failed during the run: ${firstLine(first)}`);
    }
  }

  /** Starts index `slot`'s resident loop on a free worker (the slot holds its first run). */
  private startLoop(slot: number): void {
    const start: LoopStart = { slot };
    this.loopStarts++;
    const loop: Promise<void> = this.piscina.run(start).then(
      () => {
        if (this.loops[slot] === loop) this.loops[slot] = null;
      },
      (e: unknown) => {
        if (this.loops[slot] === loop) this.loops[slot] = null;
        this.loopDied(slot, e);
      },
    );
    this.loops[slot] = loop;
  }

  /** The worker running index `slot`'s loop died: the run it was in fails, and the next run starts a new loop. */
  private loopDied(slot: number, e: unknown): void {
    this.mailboxes.markIdle(slot);
    const run = this.inFlight;
    if (run === null) return;
    abortRun(run.barrier);
    // counted unless it had reported before it died; the session reads deaths only after this
    // synchronous call, once every slot is counted
    if (this.mailboxes.reportForDead(slot)) run.deaths.set(slot, firstLine(e));
  }

  async destroy(): Promise<void> {
    // ask the lingering loops to return (one still finishing a run returns LINGER_MS after it)
    for (let slot = 0; slot < this.threads; slot++) this.mailboxes.stop(slot);
    await Promise.all(this.loops);
    await this.piscina.destroy();
  }
}
