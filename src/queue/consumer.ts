// The BullMQ side of `densenet worker`: takes every job of one queue, whatever its name,
// hands its data to the inference thread, and returns the response body as the job's value.
import type { Job, Worker } from "bullmq";
import type { BullMQModule } from "./bullmq.js";
import { type InferenceThread, JobFailure } from "./inference_thread.js";

export interface ConsumerOptions {
  /** redis:// or rediss:// URL. */
  readonly redisUrl: string;
  readonly queue: string;
  /** Jobs taken at once; they run concurrently on the inference thread (one after another per model). */
  readonly concurrency: number;
  /** BullMQ's lockDuration: a job whose lock is not renewed for this long counts as stalled. */
  readonly lockDurationMs: number;
  /** BullMQ's stalledInterval: how often this worker looks for stalled jobs (of any worker). */
  readonly stalledIntervalMs: number;
  /** Stored on each job as `processedBy`. */
  readonly workerName: string;
}

export interface ConsumerCounts {
  completed: number;
  failed: number;
}

/** Prints a line unless the same line was printed less than `quietMs` ago (Redis retries repeat). */
function throttled(log: (line: string) => void, quietMs: number): (line: string) => void {
  const last = new Map<string, number>();
  return (line) => {
    const now = Date.now();
    if ((last.get(line) ?? -Infinity) + quietMs > now) return;
    last.set(line, now);
    log(line);
  };
}

/**
 * A BullMQ worker on one queue. A job whose data is refused fails at once with the one-line
 * error as an UnrecoverableError (no retries, whatever its `attempts`); any other failure
 * (an inference thread that died) is an ordinary error, retried as the job's options say.
 */
export class Consumer {
  readonly counts: ConsumerCounts = { completed: 0, failed: 0 };
  private readonly worker: Worker;
  /** Jobs whose processor is running, and who waits for that count to reach 0. */
  private inHand = 0;
  private idle: (() => void)[] = [];
  /** Jobs processed whose outcome BullMQ has not yet stored in Redis (no completed/failed event yet). */
  private readonly unstored = new Set<string>();

  constructor(bull: BullMQModule, options: ConsumerOptions, inference: InferenceThread, log: (line: string) => void) {
    const processor = async (job: Job): Promise<object> => {
      this.inHand++;
      try {
        return await inference.process(job.data);
      } catch (e) {
        if (e instanceof JobFailure && e.invalidInput) throw new bull.UnrecoverableError(e.message);
        throw e;
      } finally {
        this.unstored.add(job.id!);
        if (--this.inHand === 0) for (const wake of this.idle.splice(0)) wake();
      }
    };
    this.worker = new bull.Worker(options.queue, processor, {
      // ioredis reconnects by itself; with no per-request retry limit, commands issued while
      // Redis is down wait for the reconnection instead of failing (BullMQ requires this).
      connection: { url: options.redisUrl, maxRetriesPerRequest: null },
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      name: options.workerName,
    });
    const logError = throttled(log, 10_000);
    this.worker.on("error", (e) => logError(`redis: ${e.message.split("\n")[0]} (retrying)`));
    this.worker.on("completed", (job) => {
      this.counts.completed++;
      this.unstored.delete(job.id!);
    });
    this.worker.on("failed", (job, e) => {
      this.counts.failed++;
      if (job) this.unstored.delete(job.id!);
      log(`job ${job?.id ?? "?"} failed: ${e.message.split("\n")[0]}`);
    });
    this.worker.on("stalled", (jobId) => log(`job ${jobId} stalled (its worker stopped renewing the lock) and was put back in the queue`));
  }

  /** Resolves once connected to Redis (rejects if closed first). */
  ready(): Promise<void> {
    return this.worker.waitUntilReady().then(() => undefined);
  }

  /**
   * Takes no new job, lets the jobs in hand finish and their outcomes be stored, and closes.
   * If Redis is still unreachable `graceMs` after the last job in hand finished (1 s if every
   * outcome was stored), it gives up: `closed` is false and `unstored` counts the jobs whose
   * outcome was not stored; each stays active until its lock expires and then runs again on
   * another worker (late, not lost). BullMQ's connections then still retry: exit the process.
   */
  async stop(graceMs: number): Promise<{ closed: boolean; unstored: number }> {
    const closed = this.worker.close().then(() => ({ closed: true, unstored: 0 }));
    const idle = this.inHand === 0 ? Promise.resolve() : new Promise<void>((wake) => this.idle.push(wake));
    let timer: NodeJS.Timeout | undefined;
    const stuck = idle.then(
      () =>
        new Promise<{ closed: boolean; unstored: number }>((resolve) => {
          timer = setTimeout(() => resolve({ closed: false, unstored: this.unstored.size }), this.unstored.size > 0 ? graceMs : 1000);
        }),
    );
    try {
      return await Promise.race([closed, stuck]);
    } finally {
      clearTimeout(timer);
    }
  }
}
