// `densenet worker`: consumes inference jobs from a BullMQ queue on Redis until SIGTERM or
// SIGINT, then finishes the jobs in hand and exits 0. See src/queue/ for the parts.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_NAME, DEFAULT_MODEL_PATH } from "../default_model.js";
import { DenseNetError } from "../errors.js";
import { loadBullMQ } from "../queue/bullmq.js";
import { type ConsumerOptions, startConsumer } from "../queue/consumer.js";
import { InferenceThread } from "../queue/inference_thread.js";
import { type ModelSpec, parseModelSpecs } from "../queue/model_specs.js";
import { defaultThreads } from "../session.js";

const USAGE = `densenet worker: consume inference jobs from a BullMQ queue on Redis

usage:
  densenet worker --redis redis://HOST:PORT [--queue densenet] [--model [NAME=]PATH]...
                  [--concurrency N] [--threads T] [--lock-duration MS] [--stalled-interval MS] [--name NAME]

  --redis             redis:// or rediss:// URL (user, password and /DB as Redis URLs allow)
  --queue             BullMQ queue name (default densenet); every job of it is taken, whatever its name
  --model             a model to serve, named NAME or by its file stem (repeatable; default: the
                      embedded ${DEFAULT_MODEL_NAME} model). Job data: the body of
                      POST /v2/models/{NAME}/infer plus "model": NAME; job value: the response body
  --concurrency       jobs taken at once (default 2); they share the models' sessions
  --threads           inference threads per model (default: all available cores). Inference never
                      runs on the thread that renews BullMQ's job locks
  --lock-duration     ms without a lock renewal before a job counts as stalled (default 30000)
  --stalled-interval  ms between this worker's checks for stalled jobs (default 30000)
  --name              worker name stored on each job as processedBy (default HOST:PID)

SIGTERM or SIGINT: takes no new job, finishes the jobs in hand, exits 0.`;

const OPTIONS = {
  redis: { type: "string" }, queue: { type: "string" }, model: { type: "string", multiple: true },
  concurrency: { type: "string" }, threads: { type: "string" }, "lock-duration": { type: "string" },
  "stalled-interval": { type: "string" }, name: { type: "string" }, help: { type: "boolean", short: "h" },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

interface WorkerSettings {
  readonly consumer: ConsumerOptions;
  readonly models: readonly ModelSpec[];
  readonly threads: number;
}

function integer(flags: Flags, name: "concurrency" | "threads" | "lock-duration" | "stalled-interval",
  fallback: number, min: number, max: number): number {
  const text = flags[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DenseNetError(`--${name} must be an integer from ${min} to ${max}, got '${text}'`);
  }
  return value;
}

function redisUrl(text: string | undefined): string {
  if (!text) throw new DenseNetError("--redis is required, e.g. --redis redis://127.0.0.1:6379 (see densenet worker --help)");
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
    redisUrl: url, queue,
    concurrency: integer(flags, "concurrency", 2, 1, 1024),
    lockDurationMs: integer(flags, "lock-duration", 30_000, 500, 3_600_000),
    stalledIntervalMs: integer(flags, "stalled-interval", 30_000, 100, 3_600_000),
    workerName: flags.name ?? `${hostname()}:${process.pid}`,
  };
  const threads = integer(flags, "threads", defaultThreads(), 1, 256);
  const models = parseModelSpecs(flags.model ?? [], { name: DEFAULT_MODEL_NAME, source: DEFAULT_MODEL_PATH });
  for (const { source } of models) {
    if (source === DEFAULT_MODEL_PATH && !existsSync(source)) {
      throw new DenseNetError(`the embedded default model is missing (${source}): pass --model [NAME=]PATH`);
    }
  }
  return { consumer, models, threads };
}

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
    throw new DenseNetError(`${(e as Error).message.split("\n")[0]} (see densenet worker --help)`);
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const { consumer, models, threads } = settings(flags);
  const bull = await loadBullMQ();
  const stopping = stopSignal();
  const inference = await InferenceThread.start(models, threads);
  const { worker, counts } = startConsumer(bull, consumer, inference, log);
  const served = inference.models.map((m) => `${m.name} (${m.description})`).join(", ");
  log(`${consumer.workerName} consuming queue '${consumer.queue}' on ${redacted(consumer.redisUrl)}: ` +
    `${served}; concurrency ${consumer.concurrency}, ${threads} thread(s)`);
  const signal = await stopping;
  log(`${signal}: finishing the jobs in hand`);
  await worker.close();
  await inference.close();
  log(`stopped after ${counts.completed} completed and ${counts.failed} failed job(s)`);
  return 0;
}
