#!/usr/bin/env node
// Thread scaling of densenet-wasm: latency and throughput at 1..T threads, in one run.
//
//   node bench/scaling.mjs [--threads 1,2] [--batches 1,8] [--runs 8] [--rounds 2]
//                          [--model densenet121] [--runtime node|deno] [--schedule dynamic|static] [--out FILE]
//
// Each (threads, batch) point runs `dist/bin/cli.js bench --json` in a fresh child process under
// Node or Deno (the deno binary from node_modules). Rounds alternate over all points and
// each point keeps its best median; the canary (2-thread/1-thread throughput of this
// machine) is printed before every round. Speed-ups are against 1 thread at the same batch,
// measured in the same run. Writes bench/results/scaling-<runtime>.json by default.
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { choice, commandLine, integer, integers, parseOptions } from "./lib/args.mjs";
import { REPO_ROOT, RESULTS_DIR, canary, runChildJson } from "./lib/peers.mjs";

const cores = availableParallelism();
const OPTIONS = {
  threads: { type: "string", default: [...new Set([1, 2, 4, 8, 16, cores].filter((t) => t <= cores))].join(",") },
  batches: { type: "string", default: `1,${Math.max(8, cores)}` },
  runs: { type: "string", default: "8" },
  rounds: { type: "string", default: "2" },
  model: { type: "string", default: "densenet121" },
  runtime: { type: "string", default: "node" },
  schedule: { type: "string", default: "dynamic" },
  out: { type: "string" },
};
function readArgs(argv) {
  const v = parseOptions(argv, OPTIONS);
  const runtime = choice("runtime", v.runtime, ["node", "deno"]);
  return {
    help: v.help,
    threads: integers("threads", v.threads),
    batches: integers("batches", v.batches),
    runs: integer("runs", v.runs),
    rounds: integer("rounds", v.rounds),
    model: v.model,
    runtime,
    schedule: choice("schedule", v.schedule, ["dynamic", "static"]),
    out: v.out ?? join(RESULTS_DIR, `scaling-${runtime}.json`),
  };
}
const USAGE =
  "usage: node bench/scaling.mjs [--threads 1,2] [--batches 1,8] [--runs 8] [--rounds 2] [--model densenet121] [--runtime node|deno] [--schedule dynamic|static] [--out FILE]";
const { args, exit } = commandLine(readArgs, USAGE, "scaling");
if (!args) process.exit(exit);
const { threads, batches, runs, rounds, model, runtime, schedule, out } = args;
const cli = join(REPO_ROOT, "dist", "bin", "cli.js");
const command =
  runtime === "deno"
    ? [join(REPO_ROOT, "node_modules", ".bin", "deno"), ["run", "--allow-read", "--allow-env", "--allow-sys", cli]]
    : [process.execPath, [cli]];

const best = new Map();
const canaries = [];
for (let round = 0; round < rounds; round++) {
  canaries.push(await canary());
  console.log(`round ${round + 1}/${rounds}: canary ${canaries.at(-1)}`);
  for (const batch of batches) {
    for (const t of threads) {
      const args = [
        ...command[1],
        "bench",
        "--model",
        model,
        "--batch",
        String(batch),
        "--threads",
        String(t),
        "--runs",
        String(batch > 1 ? Math.max(2, Math.ceil(runs / 2)) : runs),
        "--warmup",
        "2",
        "--json",
        "--schedule",
        schedule,
      ];
      const r = await runChildJson(command[0], args, { label: `${runtime} threads ${t} batch ${batch}` });
      const key = `${t}/${batch}`;
      if (!best.has(key) || r.median_ms < best.get(key).median_ms) best.set(key, r);
      console.log(`  threads ${String(t).padStart(2)} batch ${String(batch).padStart(2)}: ${r.median_ms.toFixed(1)} ms/batch`);
    }
  }
}

const rows = [];
for (const batch of batches) {
  const base = best.get(`1/${batch}`);
  for (const t of threads) {
    const r = best.get(`${t}/${batch}`);
    rows.push({
      threads: t,
      batch,
      median_ms: r.median_ms,
      ms_per_image: r.median_ms / batch,
      images_per_s: (1000 * batch) / r.median_ms,
      speedup: base ? base.median_ms / r.median_ms : null,
      kernels: r.kernels,
    });
  }
}
console.log(
  `\n${model} @ 224², ${runtime} ${runtime === "deno" ? "" : process.version}, ${cpus()[0]?.model} (${cores} cores); best of ${rounds} rounds; canary ${canaries.join(" ")}`,
);
console.log("threads  batch  ms/batch  ms/image  images/s  speed-up vs 1 thread");
for (const r of rows) {
  console.log(
    `${String(r.threads).padStart(7)} ${String(r.batch).padStart(6)} ${r.median_ms.toFixed(1).padStart(9)} ${r.ms_per_image.toFixed(1).padStart(9)} ` +
      `${r.images_per_s.toFixed(2).padStart(9)}  ${r.speedup ? `${r.speedup.toFixed(2)}x` : "-"}`,
  );
}
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      runtime,
      schedule,
      node: process.version,
      cpu: cpus()[0]?.model,
      cores,
      model,
      canary: canaries,
      rows,
    },
    null,
    1,
  )}\n`,
);
console.log(`wrote ${out}`);
