// `densenet worker`: consumes inference jobs from a BullMQ queue on Redis until SIGTERM or
// SIGINT, then finishes the jobs in hand and exits 0. See src/queue/ for the parts.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_NAME, DEFAULT_MODEL_PATH } from "../default_model.js";
import { DenseNetError } from "../errors.js";
import { loadBullMQ } from "../queue/bullmq.js";
import { Consumer, type ConsumerOptions } from "../queue/consumer.js";
import { InferenceThread } from "../queue/inference_thread.js";
import { type ModelSpec, parseModelSpecs } from "../queue/model_specs.js";
import { MAX_THREADS, defaultThreads } from "../session.js";
import { integerOf } from "./common.js";

/**
 * densenet worker: consume inference jobs from a BullMQ queue on Redis
 *
 * usage:
 *   densenet worker --redis redis://HOST:PORT [--queue densenet] [--model [NAME=]PATH]...
 *                   [--concurrency N] [--threads T] [--lock-duration MS] [--stalled-interval MS] [--name NAME]
 *
 *   --redis             redis:// or rediss:// URL (user, password and /DB as Redis URLs allow)
 *   --queue             BullMQ queue name (default densenet); every job of it is taken, whatever its name
 *   --model             a model to serve, named NAME or by its file stem (repeatable; default: the
 *                       embedded fashion-mnist-densenet model). Job data: the body of
 *                       POST /v2/models/{NAME}/infer plus "model": NAME; job value: the response body
 *   --concurrency       jobs taken at once (default 2); they share the models' sessions
 *   --threads           inference threads per model (default: all available cores). Inference never
 *                       runs on the thread that renews BullMQ's job locks
 *   --lock-duration     ms without a lock renewal before a job counts as stalled (default 30000)
 *   --stalled-interval  ms between this worker's checks for stalled jobs (default 30000)
 *   --name              worker name stored on each job as processedBy (default HOST:PID)
 *
 * SIGTERM or SIGINT: takes no new job, finishes the jobs in hand, exits 0 (1 if Redis stayed
 * unreachable so that some finished job could not be marked done; it runs again elsewhere).
 * (`densenet --help` prints the usage line; cli.ts shows it for `densenet worker --help`.)
 */
const OPTIONS = {
  redis: { type: "string" },
  queue: { type: "string" },
  model: { type: "string", multiple: true },
  concurrency: { type: "string" },
  threads: { type: "string" },
  "lock-duration": { type: "string" },
  "stalled-interval": { type: "string" },
  name: { type: "string" },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

interface WorkerSettings {
  readonly consumer: ConsumerOptions;
  readonly models: readonly ModelSpec[];
  readonly threads: number;
}

const integer = integerOf<Flags>;

function redisUrl(text: string | undefined): string {
  if (!text) throw new DenseNetError("--redis is required, e.g. --redis redis://127.0.0.1:6379 (see densenet --help)");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DenseNetError(`--redis must be a redis:// or rediss:// URL, got '${text}'`);
  }
  if ((url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") {
    throw new DenseNetError(`--redis must be a redis:// or rediss:// URL with a host, got '${text}'`);
  }
  return text;
}

/** The URL without its password, for logs. */
function redacted(text: string): string {
  const url = new URL(text);
  if (url.password) url.password = "***";
  return url.toString();
}

function settings(flags: Flags): WorkerSettings {
  const url = redisUrl(flags.redis);
  const queue = flags.queue ?? "densenet";
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(queue)) {
    throw new DenseNetError(`--queue must be 1 to 128 letters, digits, '.', '_' or '-', got '${queue}'`);
  }
  const consumer: ConsumerOptions = {
    redisUrl: url,
    queue,
    concurrency: integer(flags, "concurrency", 2, 1, 1024),
    lockDurationMs: integer(flags, "lock-duration", 30_000, 500, 3_600_000),
    stalledIntervalMs: integer(flags, "stalled-interval", 30_000, 100, 3_600_000),
    workerName: flags.name ?? `${hostname()}:${process.pid}`,
  };
  const threads = integer(flags, "threads", defaultThreads(), 1, MAX_THREADS);
  const models = parseModelSpecs(flags.model ?? [], { name: DEFAULT_MODEL_NAME, source: DEFAULT_MODEL_PATH });
  for (const { source } of models) {
    if (source === DEFAULT_MODEL_PATH && !existsSync(source)) {
      throw new DenseNetError(`the embedded default model is missing (${source}): pass --model [NAME=]PATH`);
    }
  }
  return { consumer, models, threads };
}

/** After SIGTERM and the last job in hand, how long Redis may stay unreachable before the worker gives up. */
const CLOSE_GRACE_MS = 10_000;

const log = (line: string) => console.error(`densenet worker: ${line}`);

/** Resolves with the first of SIGTERM or SIGINT. */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      resolve(signal);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}

/** Runs the worker until a stop signal; returns the exit code. Bad flags or models throw a DenseNetError. */
export async function workerCommand(argv: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new DenseNetError(`${(e as Error).message.split("\n")[0]} (see densenet --help)`);
  }
  const { consumer: options, models, threads } = settings(flags);
  const bull = await loadBullMQ();
  const stopping = stopSignal();
  const inference = await InferenceThread.start(models, threads);
  const consumer = new Consumer(bull, options, inference, log);
  const served = inference.models.map((m) => `${m.name} (${m.description})`).join(", ");
  void consumer.ready().then(
    () =>
      log(
        `${options.workerName} consuming queue '${options.queue}' on ${redacted(options.redisUrl)}: ` +
          `${served}; concurrency ${options.concurrency}, ${threads} thread(s)`,
      ),
    (e: Error) => log(`closed before Redis was reached: ${e.message.split("\n")[0]}`),
  );
  const signal = await stopping;
  log(`${signal}: finishing the jobs in hand`);
  const { closed, unstored } = await consumer.stop(CLOSE_GRACE_MS);
  await inference.close();
  log(`stopped after ${consumer.counts.completed} completed and ${consumer.counts.failed} failed job(s)`);
  if (closed) return 0;
  if (unstored > 0) {
    log(
      `Redis was unreachable for ${CLOSE_GRACE_MS / 1000} s after the last job: ${unstored} job(s) could not be ` +
        "marked done; each stays active until its lock expires, then runs again",
    );
  } else {
    log("Redis is unreachable; no job was left undone");
  }
  // BullMQ's connections keep retrying (and its close() keeps waiting) while Redis is away.
  process.exit(unstored > 0 ? 1 : 0);
}
