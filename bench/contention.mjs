#!/usr/bin/env node
// Static shares against dynamic claiming on a busy host, in one process and one run.
//
//   node bench/contention.mjs [--threads 2] [--batch 1] [--competitors 0,1] [--duty 1]
//                             [--runs 10] [--rounds 3] [--model densenet121] [--size 224] [--out FILE]
//
// Two sessions on the same seeded model and input, one with schedule "static" (fixed shares,
// a barrier between dependent steps) and one with "dynamic" (claimed chunks, waits for
// unfinished work only). For each competitor count, that many busy threads (worker threads
// spinning for `duty` of every 10 ms; 1 = always) compete with the session's workers for the
// cores. The two schedules take turns run by run (which goes first alternates), so both see
// the same host; each round's median per schedule is kept and the best round is reported,
// with the ratio static / dynamic (> 1: dynamic is faster). Outputs of the two are checked bitwise equal. Writes
// bench/results/contention.json by default.
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { Session } from "../dist/index.js";
import { commandLine, integer, integers, parseOptions, positive } from "./lib/args.mjs";
import { RESULTS_DIR } from "./lib/peers.mjs";

const OPTIONS = {
  threads: { type: "string", default: "2" },
  batch: { type: "string", default: "1" },
  competitors: { type: "string", default: "0,1" },
  duty: { type: "string", default: "1" },
  runs: { type: "string", default: "10" },
  rounds: { type: "string", default: "3" },
  model: { type: "string", default: "densenet121" },
  size: { type: "string", default: "224" },
  out: { type: "string" },
};
function readArgs(argv) {
  const v = parseOptions(argv, OPTIONS);
  const duty = positive("duty", v.duty);
  return {
    help: v.help,
    threads: integer("threads", v.threads, 2),
    batch: integer("batch", v.batch),
    competitors: integers("competitors", v.competitors, 0),
    duty: Math.min(1, duty),
    runs: integer("runs", v.runs),
    rounds: integer("rounds", v.rounds),
    model: v.model,
    size: integer("size", v.size, 32),
    out: v.out ?? join(RESULTS_DIR, "contention.json"),
  };
}
const USAGE =
  "usage: node bench/contention.mjs [--threads 2] [--batch 1] [--competitors 0,1] [--duty 1] [--runs 10] [--rounds 3] [--model densenet121] [--size 224] [--out FILE]";
const { args, exit } = commandLine(readArgs, USAGE, "contention");
if (!args) process.exit(exit);
const { threads, batch, competitors, duty, runs, rounds, model, size, out } = args;

/** A thread that spins for duty x 10 ms of every 10 ms until terminated. */
function competitor() {
  const source = `const { workerData: duty } = require("node:worker_threads");
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      const start = Date.now();
      while (Date.now() - start < 10 * duty) {}
      if (duty < 1) Atomics.wait(cell, 0, 0, 10 * (1 - duty));
    }`;
  return new Worker(source, { eval: true, workerData: duty });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const input = { data: new Float32Array(batch * 3 * size * size).map((_, i) => Math.sin(i * 0.37)), dims: [batch, 3, size, size] };
const schedules = /** @type {const} */ (["static", "dynamic"]);
const sessions = {};
for (const schedule of schedules) sessions[schedule] = await Session.create(model, { threads, schedule });
const plan = sessions.dynamic.plan(size, size);
const waits = plan.sync.filter(Boolean).length;

// Warm up (plans, pools) and check that both schedules give the same bits.
const [a, b] = [await sessions.static.run(input), await sessions.dynamic.run(input)];
const same = Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer));
if (!same) throw new Error("static and dynamic outputs differ");

const rows = [];
for (const count of competitors) {
  const busy = Array.from({ length: count }, competitor);
  try {
    const best = { static: Infinity, dynamic: Infinity };
    for (let round = 0; round < rounds; round++) {
      const times = { static: [], dynamic: [] };
      for (let r = 0; r < runs; r++) {
        for (const schedule of r % 2 ? [...schedules].reverse() : schedules) {
          const t0 = performance.now();
          await sessions[schedule].run(input);
          times[schedule].push(performance.now() - t0);
        }
      }
      for (const schedule of schedules) best[schedule] = Math.min(best[schedule], median(times[schedule]));
    }
    const row = { competitors: count, duty, static_ms: best.static, dynamic_ms: best.dynamic, ratio: best.static / best.dynamic };
    rows.push(row);
    console.log(
      `competitors ${count} (duty ${duty}): static ${row.static_ms.toFixed(1)} ms, dynamic ${row.dynamic_ms.toFixed(1)} ms, static/dynamic ${row.ratio.toFixed(2)}`,
    );
  } finally {
    await Promise.all(busy.map((w) => w.terminate()));
  }
}
for (const s of Object.values(sessions)) await s.release();

console.log(
  `\n${model} @ ${size}², batch ${batch}, ${threads} threads, ${cpus()[0]?.model} (${availableParallelism()} cores); ` +
    `${plan.steps.length} steps, per image shared by the workers: static ${waits + 1} barriers (all workers arrive), ` +
    `dynamic 0 barriers and ${waits + 1} waits for unfinished work only; best of ${rounds} rounds of ${runs} runs`,
);
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model,
      cores: availableParallelism(),
      model,
      size,
      batch,
      threads,
      steps: plan.steps.length,
      staticBarriersPerImage: waits + 1,
      dynamicWaitsPerImage: waits + 1,
      rows,
    },
    null,
    1,
  )}\n`,
);
console.log(`wrote ${out}`);
