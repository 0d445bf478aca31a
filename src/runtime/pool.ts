import { Piscina } from "piscina";
import { DenseNetError } from "../errors.js";
import { RUN_ABORTED, abortRun } from "./barrier.js";
import type { RunTask, WorkerSetup } from "./task.js";

const WORKER_URL = new URL("./worker.js", import.meta.url);

/** A worker's RunAborted: it stopped because another worker failed. */
const isAbortEcho = (e: unknown) => e instanceof Error && e.message.includes(RUN_ABORTED);

/**
 * A session's Piscina pool: `threads` workers, each with the kernels instantiated once on
 * the session's shared memory. A run sends exactly one task per worker; the workers then
 * step through the schedule together, synchronising on a shared-memory barrier.
 */
export class WorkerPool {
  private readonly piscina: Piscina;

  constructor(
    setup: WorkerSetup,
    readonly threads: number,
  ) {
    this.piscina = new Piscina({
      filename: WORKER_URL.href,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      workerData: setup,
    });
  }

  /**
   * Runs one task per worker. If any worker throws or dies, the barrier is aborted so the
   * others stop too, and the run rejects with the first worker's error (the failure itself
   * rather than another worker's RunAborted, whichever arrives first); Piscina replaces a
   * dead worker, so the next run starts on a healthy pool.
   */
  async run(tasks: readonly RunTask[], barrier: Int32Array): Promise<void> {
    let failure: unknown = null;
    await Promise.all(
      tasks.map((task) =>
        this.piscina.run(task).catch((e: unknown) => {
          if (failure === null || isAbortEcho(failure)) failure = e;
          abortRun(barrier);
        }),
      ),
    );
    if (failure !== null) {
      const message = failure instanceof Error ? failure.message : String(failure);
      throw new DenseNetError(`a worker failed during the run: ${message.split("\n")[0]}`);
    }
  }

  async destroy(): Promise<void> {
    await this.piscina.destroy();
  }
}
