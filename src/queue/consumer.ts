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
 * Starts consuming. A job whose data is refused fails at once with the one-line error as an
 * UnrecoverableError (no retries, whatever its `attempts`); any other failure (an inference
 * thread that died) is an ordinary error, retried as the job's options say.
 */
export function startConsumer(bull: BullMQModule, options: ConsumerOptions, inference: InferenceThread,
  log: (line: string) => void): { worker: Worker; counts: ConsumerCounts } {
  const counts: ConsumerCounts = { completed: 0, failed: 0 };
  const processor = async (job: Job): Promise<object> => {
    try {
      return await inference.process(job.data);
    } catch (e) {
      if (e instanceof JobFailure && e.invalidInput) throw new bull.UnrecoverableError(e.message);
      throw e;
    }
  };
  const worker = new bull.Worker(options.queue, processor, {
    // ioredis reconnects by itself; with no per-request retry limit, commands issued while
    // Redis is down wait for the reconnection instead of failing (BullMQ requires this).
    connection: { url: options.redisUrl, maxRetriesPerRequest: null },
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    name: options.workerName,
  });
  const logError = throttled(log, 10_000);
  worker.on("error", (e) => logError(`redis: ${e.message.split("\n")[0]} (retrying)`));
  worker.on("completed", () => { counts.completed++; });
  worker.on("failed", (job, e) => {
    counts.failed++;
    log(`job ${job?.id ?? "?"} failed: ${e.message.split("\n")[0]}`);
  });
  worker.on("stalled", (jobId) => log(`job ${jobId} stalled (its worker stopped renewing the lock) and was put back in the queue`));
  return { worker, counts };
}
