// `densenet worker` against a real Redis (a private redis-server on a loopback port, started
// and stopped by each test): jobs across worker processes, a worker SIGKILLed mid-job and
// replaced, a Redis restart mid-run, and SIGTERM. Short BullMQ lock settings (--lock-duration
// 2000 --stalled-interval 500) make a dead worker's jobs come back within a few seconds.
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { checkOutcomes, IMAGE_MODEL_PATH, makeImageJobs, makeJobs, MODEL_PATH, queueEvents } from "./queue_jobs.mjs";
import { delay, requireRedisServer, startRedis, startWorker, waitFor, within } from "./queue_helpers.mjs";

const WORKER_ARGS = ["--model", MODEL_PATH, "--lock-duration", "2000", "--stalled-interval", "500"];

/** Starts Redis, a producer queue and a plain client; runs `body`; stops every worker and Redis. */
async function withRedis(name, options, body) {
  const redis = await startRedis(options);
  const queue = new Queue(name, { connection: { url: redis.url } });
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  const clientErrors = [];
  client.on("error", (/** @type {NodeJS.ErrnoException} */ e) => clientErrors.push(e.code)); // while Redis restarts; ioredis reconnects
  const workers = [];
  try {
    await body({ redis, queue, client, workers });
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    await queue.close();
    client.disconnect();
    await redis.stop();
  }
}

async function finished(queue) {
  const counts = await queue.getJobCounts("completed", "failed");
  return counts.completed + counts.failed;
}

function add(queue, jobs) {
  return queue.addBulk(jobs.map((j) => ({ name: j.name, data: j.data, opts: { attempts: 3 } })));
}

const OnRedis = suite("densenet worker on Redis");

OnRedis.before(() => requireRedisServer());

OnRedis(
  "200 jobs across 2 workers, one SIGKILLed holding jobs and replaced: valid jobs complete once, bitwise equal to Session.run; invalid ones fail once",
  async () => {
    const jobs = await makeJobs(200);
    assert.is(jobs.filter((j) => !j.valid).length, 50);
    await withRedis("jobs200", {}, async ({ redis, queue, client, workers }) => {
      const args = [...WORKER_ARGS, "--threads", "1", "--concurrency", "2", "--queue", "jobs200"];
      workers.push(...(await Promise.all([startWorker(redis.url, args, "A"), startWorker(redis.url, args, "B")])));
      const [a] = workers;
      // Half the jobs first; the other half once the replacement is up, so that it gets work.
      const added = await add(queue, jobs.slice(0, 100));
      await waitFor(async () => (await finished(queue)) >= 30, 20_000, "30 jobs done");
      // Freeze A, and kill it if it holds jobs (nothing it holds can finish while it is stopped).
      // A command A sent just before the stop (a job's completion) may still be on its way to
      // Redis: the active jobs are read only after a pause that lets it land.
      let inHand = [];
      await waitFor(
        async () => {
          a.child.kill("SIGSTOP");
          await delay(300);
          inHand = (await queue.getActive()).filter((j) => j.processedBy === "A").map((j) => j.id);
          if (inHand.length === 0) a.child.kill("SIGCONT");
          return inHand.length > 0;
        },
        10_000,
        "worker A holding a job",
      );
      a.child.kill("SIGKILL");
      assert.is((await a.exited).signal, "SIGKILL");
      workers.push(await startWorker(redis.url, args, "C"));
      added.push(...(await add(queue, jobs.slice(100))));
      await waitFor(async () => (await finished(queue)) === 200, 30_000, "all 200 jobs done");
      const events = await checkOutcomes(queue, client, jobs, added);
      for (const id of inHand) {
        assert.ok(
          events.some((e) => e.event === "stalled" && e.jobId === id),
          `job ${id}, held by the killed worker, was found stalled`,
        );
        const by = (await queue.getJob(id)).processedBy;
        assert.ok(by === "B" || by === "C", `job ${id}, held by the killed worker, was finished by B or C, not ${by}`);
      }
      const doneBy = await Promise.all(added.slice(100).map(async (j) => (await queue.getJob(j.id)).processedBy));
      assert.ok(doneBy.includes("B") && doneBy.includes("C"), `the survivor and the replacement both took jobs: ${[...new Set(doneBy)]}`);
    });
  },
);

OnRedis("a Redis killed and restarted mid-run (append-only file) loses no job; jobs added after the restart run too", async () => {
  const before = await makeJobs(40, { seed: 2 });
  const after = await makeJobs(20, { seed: 3, offset: 40 });
  await withRedis("restart", { aof: true }, async ({ redis, queue, client, workers }) => {
    const args = [...WORKER_ARGS, "--threads", "2", "--concurrency", "2", "--queue", "restart"];
    workers.push(...(await Promise.all([startWorker(redis.url, args, "A"), startWorker(redis.url, args, "B")])));
    const added = await add(queue, before);
    await waitFor(async () => (await finished(queue)) >= 10, 20_000, "10 jobs done");
    await redis.kill("SIGKILL");
    await delay(500);
    await redis.restart();
    added.push(...(await add(queue, after)));
    await waitFor(async () => (await finished(queue)) === 60, 30_000, "all 60 jobs done");
    await checkOutcomes(queue, client, [...before, ...after], added);
    for (const w of workers) assert.is(w.child.exitCode, null, `worker ${w.name} survived the restart: ${w.log()}`);
  });
});

OnRedis("SIGTERM: the worker finishes the job in hand, takes no other, exits 0", async () => {
  // Enough jobs that one is in hand at some probe below: a handful of small jobs could all
  // finish between two probes (20 ms apart) on a fast run.
  const jobs = await makeJobs(40, { seed: 4, invalidEvery: 1000 });
  await withRedis("sigterm", {}, async ({ redis, queue, client, workers }) => {
    // The worker is frozen while it holds a job and SIGTERM is queued for it, so the signal
    // provably arrives mid-job.
    const w = await startWorker(redis.url, [...WORKER_ARGS, "--threads", "1", "--concurrency", "1", "--queue", "sigterm"], "T");
    workers.push(w);
    const added = await add(queue, jobs);
    let inHand = [];
    await waitFor(
      async () => {
        w.child.kill("SIGSTOP");
        inHand = (await queue.getActive()).map((j) => j.id);
        if (inHand.length === 0) w.child.kill("SIGCONT");
        return inHand.length > 0;
      },
      20_000,
      "the worker holding a job",
    );
    w.child.kill("SIGTERM");
    w.child.kill("SIGCONT");
    const exit = await within(w.exited, 15_000);
    assert.equal(exit, { code: 0, signal: null }, `exit after SIGTERM: ${w.log()}`);
    assert.is(inHand.length, 1);
    const job = await queue.getJob(inHand[0]);
    assert.is(await job.getState(), "completed", `the job in hand was finished: ${w.log()}`);
    const states = await Promise.all(added.map(async (j) => (await queue.getJob(j.id)).getState()));
    // Finished: the jobs before the one in hand, that one, and at most one more, fetched with
    // its completion before the signal handler ran (BullMQ fetches the next job atomically).
    const held = added.findIndex((j) => j.id === inHand[0]);
    const completed = states.filter((s) => s === "completed").length;
    assert.ok(completed === held + 1 || completed === held + 2, `job ${held} in hand at SIGTERM; states ${states}`);
    assert.ok(
      states.every((s) => s === "completed" || s === "waiting"),
      `no job left active or failed: ${states}`,
    );
    const events = await queueEvents(client, "sigterm");
    assert.ok(!events.some((e) => e.event === "stalled"), "no job stalled");
    assert.match(w.log(), /SIGTERM: finishing the jobs in hand/);
  });
});

OnRedis(
  "image jobs {model, image: base64, top} answer as serve's /classify; a worker serves several models; bad images fail once",
  async () => {
    const jobs = await makeImageJobs();
    const pytorch = JSON.parse(readFileSync(new URL("./fixtures/classify/expected.json", import.meta.url), "utf8"));
    await withRedis("images", {}, async ({ redis, queue, workers }) => {
      const args = ["--model", MODEL_PATH, "--model", IMAGE_MODEL_PATH, "--threads", "2", "--queue", "images"];
      workers.push(await startWorker(redis.url, args, "I"));
      const added = await add(queue, jobs);
      await waitFor(async () => (await finished(queue)) === jobs.length, 30_000, `all ${jobs.length} image jobs done`);
      for (const [i, expected] of jobs.entries()) {
        const job = await queue.getJob(added[i].id);
        if (expected.valid) {
          assert.is(await job.getState(), "completed", `${expected.name}: ${job.failedReason}`);
          assert.equal(job.returnvalue, expected.expected, expected.name);
          const reference = pytorch.find((p) => p.file === expected.file).top.slice(0, expected.expected.top.length);
          assert.equal(
            job.returnvalue.top.map((t) => t.index),
            reference.map((t) => t.index),
            `${expected.name}: PyTorch's top classes`,
          );
        } else {
          assert.is(await job.getState(), "failed", expected.name);
          assert.is(job.failedReason, expected.error, expected.name);
          assert.is(job.attemptsMade, 1, expected.name);
        }
      }
    });
  },
);

OnRedis(
  "--threads 1: a job running 2x longer than the lock is not stalled (inference never runs on the lock-renewing thread)",
  async () => {
    // DenseNet-161 (seeded random weights), 6 images at 224x224: ~1.6 s on one thread here, over
    // twice the 700 ms lock. Were inference on the main thread, renewals would stop for that long, the
    // lock would expire and the stalled-job check (every 100 ms) would re-queue the job.
    const values = 6 * 3 * 224 * 224;
    const data = {
      model: "densenet161",
      inputs: [
        {
          name: "input",
          shape: [6, 3, 224, 224],
          datatype: "FP32",
          data: Array.from({ length: values }, (_, i) => ((i * 7919) % 17) / 8 - 1),
        },
      ],
    };
    await withRedis("longjob", {}, async ({ redis, queue, client, workers }) => {
      workers.push(
        await startWorker(
          redis.url,
          [
            "--model",
            "densenet161",
            "--threads",
            "1",
            "--concurrency",
            "1",
            "--lock-duration",
            "700",
            "--stalled-interval",
            "100",
            "--queue",
            "longjob",
          ],
          "L",
        ),
      );
      const job = await queue.add("long", data);
      await waitFor(async () => (await finished(queue)) === 1, 60_000, "the long job done");
      const done = await queue.getJob(job.id);
      assert.is(await done.getState(), "completed", done.failedReason);
      assert.ok(
        done.finishedOn - done.processedOn > 1400,
        `the job ran ${done.finishedOn - done.processedOn} ms, more than twice the lock`,
      );
      const events = await queueEvents(client, "longjob");
      assert.equal(
        events.filter((e) => e.event === "stalled"),
        [],
        "no stalled event",
      );
      assert.is(events.filter((e) => e.event === "completed").length, 1);
    });
  },
);

OnRedis("a worker under Deno: mixed jobs answered as under Node, SIGTERM exits 0", async () => {
  const jobs = await makeJobs(24, { seed: 5 });
  await withRedis("deno", {}, async ({ redis, queue, client, workers }) => {
    const w = await startWorker(redis.url, [...WORKER_ARGS, "--threads", "2", "--queue", "deno"], "D", { runtime: "deno" });
    workers.push(w);
    const added = await add(queue, jobs);
    await waitFor(async () => (await finished(queue)) === jobs.length, 30_000, `all ${jobs.length} jobs done`);
    await checkOutcomes(queue, client, jobs, added);
    w.child.kill("SIGTERM");
    assert.equal(await within(w.exited, 15_000), { code: 0, signal: null }, w.log());
  });
});

OnRedis.run();
