// Queue throughput: `densenet worker` processes (1 and 2, each at 1 and 2 threads) draining a
// BullMQ queue on a private Redis, against the offline figure (`densenet bench`, same model,
// threads and image size, in a fresh process) measured in the same run; then a run where one
// of two workers is SIGKILLed half-way and its jobs come back by stalled-job detection.
//
//   node bench/queue.mjs [--model densenet121] [--size 224] [--jobs 48] [--workers 1,2]
//                        [--threads 1,2] [--concurrency 2] [--out bench/results/queue.json]
//
// Each job is one image (the v2 infer body, 3 x size x size FP32 values on a 1/8 grid, so
// short in JSON). Time: from adding the jobs (already queued workers, planned by warm-up
// jobs) to the last completion, as seen in Redis. Redis listens on 127.0.0.1 only.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { commandLine, integer, integers, parseOptions } from "./lib/args.mjs";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { cli, startRedis, startWorker, waitFor } from "../test/queue_helpers.mjs";

const USAGE = `usage: node bench/queue.mjs [--model densenet121] [--size 224] [--jobs 48] [--workers 1,2] [--threads 1,2]
       [--concurrency 2] [--runs 10] [--out bench/results/queue.json]`;
const { args: flags, exit } = commandLine(
  (argv) => {
    const v = parseOptions(argv, {
      model: { type: "string", default: "densenet121" },
      size: { type: "string", default: "224" },
      jobs: { type: "string", default: "48" },
      workers: { type: "string", default: "1,2" },
      threads: { type: "string", default: "1,2" },
      concurrency: { type: "string", default: "2" },
      runs: { type: "string", default: "10" },
      out: { type: "string", default: fileURLToPath(new URL("./results/queue.json", import.meta.url)) },
    });
    return {
      ...v,
      size: integer("size", v.size),
      jobs: integer("jobs", v.jobs),
      workers: integers("workers", v.workers),
      threads: integers("threads", v.threads),
      concurrency: integer("concurrency", v.concurrency),
      runs: integer("runs", v.runs),
    };
  },
  USAGE,
  "queue",
);
if (!flags) process.exit(exit);
const size = flags.size,
  jobCount = flags.jobs;
const root = fileURLToPath(new URL("..", import.meta.url));
// Short locks for the killed-worker run only, so a dead worker's jobs return in seconds.
const KILL_LOCK = ["--lock-duration", "4000", "--stalled-interval", "1000"];

/** `densenet bench` in a fresh process: batch 1, the same model, size and threads. */
function offline(threads) {
  const out = execFileSync(
    process.execPath,
    [
      cli,
      "bench",
      "--model",
      flags.model,
      "--size",
      String(size),
      "--threads",
      String(threads),
      "--runs",
      String(flags.runs),
      "--warmup",
      "2",
      "--json",
    ],
    { encoding: "utf8" },
  );
  return JSON.parse(out).images_per_s;
}

async function inputName() {
  const out = execFileSync(process.execPath, [cli, "info", "--model", flags.model, "--json"], { encoding: "utf8" });
  const info = JSON.parse(out);
  return { input: info.inputs[0], channels: info.in_channels ?? 3 };
}

function jobData(modelName, input, channels) {
  let seed = 1;
  const data = Array.from({ length: channels * size * size }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.round(((seed / 2 ** 31) * 4 - 2) * 8) / 8;
  });
  return { model: modelName, inputs: [{ name: input, shape: [1, channels, size, size], datatype: "FP32", data }] };
}

/** Adds `count` jobs and waits for them; `onProgress(done)` is called at every poll. */
async function drain(queue, data, count, /** @type {(done: number) => Promise<void>} */ onProgress = async () => {}) {
  const before = await queue.getJobCounts("completed", "failed");
  const t0 = performance.now();
  await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: `bench-${i}`, data, opts: { removeOnComplete: false } })));
  await waitFor(
    async () => {
      const now = await queue.getJobCounts("completed", "failed");
      if (now.failed > before.failed) throw new Error(`a bench job failed: ${(await queue.getFailed(0, 0))[0]?.failedReason}`);
      await onProgress(now.completed - before.completed);
      return now.completed - before.completed === count;
    },
    600_000,
    `${count} jobs`,
  );
  return (performance.now() - t0) / 1000;
}

async function run() {
  const modelName = flags.model
    .split("/")
    .pop()
    .replace(/\.[^.]*$/, "");
  const { input, channels } = await inputName();
  const data = jobData(modelName, input, channels);
  const redis = await startRedis();
  const results = { offline: {}, queue: [], killed: null };
  let queueIndex = 0;
  try {
    for (const threads of flags.threads) {
      results.offline[threads] = offline(threads);
      console.error(`offline, ${threads} thread(s): ${results.offline[threads].toFixed(2)} images/s`);
    }
    const measure = async (workerCount, threads, extra, during) => {
      const name = `bench${queueIndex++}`;
      const queue = new Queue(name, { connection: { url: redis.url } });
      const args = [
        "--model",
        flags.model,
        "--queue",
        name,
        "--threads",
        String(threads),
        "--concurrency",
        String(flags.concurrency),
        ...extra,
      ];
      const workers = await Promise.all(Array.from({ length: workerCount }, (_, i) => startWorker(redis.url, args, `w${i}`)));
      try {
        await drain(queue, data, 2 * workerCount); // warm-up: every worker plans the size
        const seconds = await drain(queue, data, jobCount, (done) => during?.(done, workers));
        return { seconds, images_per_s: jobCount / seconds, workers };
      } finally {
        for (const w of workers) w.child.kill("SIGTERM");
        await Promise.all(workers.map((w) => w.exited));
        await queue.close();
      }
    };
    for (const workerCount of flags.workers) {
      for (const threads of flags.threads) {
        const { seconds, images_per_s } = await measure(workerCount, threads, []);
        const row = {
          workers: workerCount,
          threads,
          jobs: jobCount,
          seconds,
          images_per_s,
          vs_offline: images_per_s / results.offline[threads],
        };
        results.queue.push(row);
        console.error(
          `${workerCount} worker(s) x ${threads} thread(s): ${images_per_s.toFixed(2)} images/s (${row.vs_offline.toFixed(2)}x offline)`,
        );
      }
    }
    // Two workers at 1 thread; one is SIGKILLed when half the jobs are done.
    let killedAt = null;
    const killed = await measure(2, 1, KILL_LOCK, async (done, workers) => {
      if (killedAt === null && done >= jobCount / 2) {
        killedAt = done;
        workers[0].child.kill("SIGKILL");
      }
    });
    const client = new Redis(redis.url);
    const events = await client.xrange(`bull:bench${queueIndex - 1}:events`, "-", "+");
    client.disconnect();
    const stalled = events.filter(([, f]) => f[1] === "stalled").length;
    results.killed = {
      workers: 2,
      threads: 1,
      jobs: jobCount,
      killed_after: killedAt,
      stalled_jobs_requeued: stalled,
      seconds: killed.seconds,
      images_per_s: killed.images_per_s,
      lock_duration_ms: 4000,
      stalled_interval_ms: 1000,
    };
    console.error(
      `2 workers x 1 thread, one SIGKILLed after ${killedAt} jobs: ${killed.images_per_s.toFixed(2)} images/s, ${stalled} stalled job(s) re-queued, all ${jobCount} completed`,
    );
  } finally {
    await redis.stop();
  }
  const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
  const report = {
    date: new Date().toISOString(),
    commit,
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: availableParallelism(),
    memory_gb: +(totalmem() / 2 ** 30).toFixed(1),
    model: flags.model,
    size,
    concurrency: Number(flags.concurrency),
    ...results,
  };
  mkdirSync(dirname(flags.out), { recursive: true });
  writeFileSync(flags.out, `${JSON.stringify(report, null, 2)}\n`);
  console.error(`wrote ${flags.out}`);
}

await run();
