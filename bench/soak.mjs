#!/usr/bin/env node
// Soak: a long-lived session must run at flat memory. Two phases on a small model
// (test/fixtures/narrow_odd.safetensors by default, so it takes minutes, not hours):
//   same-size: --runs runs (default 10,000) of one input size at each of --threads (1,2);
//   many-sizes: --size-runs runs (default 1,000) cycling over --sizes distinct input sizes
//               (default 200), with a plan cache of --cache-mib MiB (default 4) so that
//               sizes are evicted and re-planned all the time.
// Each phase first runs --warmup runs (default 3,000, the same pattern) that are not judged:
// V8 grows its young generation in steps (to 3 x 16 MB) as the allocation rate rises, and
// worker isolates collect lazily; that is RSS growth that is no leak. RSS and WebAssembly
// memory are then sampled (after a GC of the main isolate) every --every runs: RSS must stay
// within +-5 MB of the median of the samples, and WebAssembly memory must not grow. Every output of a repeated input must be
// bitwise the first one. Writes JSON to --out (default bench/results/soak.json).
// Usage: node bench/soak.mjs [--runs N] [--size-runs N] [--sizes N] [--threads 1,2] [--quick]
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Session } from "../dist/index.js";
import { SeededRandom } from "../dist/model/random_weights.js";

// Re-run with a GC we can call before sampling (V8's other settings stay the defaults a server has).
if (typeof globalThis.gc !== "function") {
  const r = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

const { values: flags } = parseArgs({
  options: {
    model: { type: "string", default: fileURLToPath(new URL("../test/fixtures/narrow_odd.safetensors", import.meta.url)) },
    runs: { type: "string", default: "10000" },
    "size-runs": { type: "string", default: "1000" },
    sizes: { type: "string", default: "200" },
    threads: { type: "string", default: "1,2" },
    every: { type: "string", default: "" },
    "cache-mib": { type: "string", default: "4" },
    warmup: { type: "string", default: "3000" },
    out: { type: "string", default: fileURLToPath(new URL("./results/soak.json", import.meta.url)) },
    quick: { type: "boolean", default: false },
  },
});
const int = (name) => {
  if (!/^[0-9]+$/.test(flags[name])) throw new Error(`--${name} must be a positive integer, got '${flags[name]}'`);
  return Number(flags[name]);
};
const runs = flags.quick ? 300 : int("runs"),
  sizeRuns = flags.quick ? 120 : int("size-runs"),
  sizeCount = flags.quick ? 40 : int("sizes");
const warmup = flags.quick ? 100 : int("warmup");
const threadCounts = flags.threads.split(",").map(Number);
const TOLERANCE_MB = 5;

function image(h, w, seed) {
  const rng = new SeededRandom(seed);
  return { data: Float32Array.from({ length: 3 * h * w }, () => rng.normal()), dims: [1, 3, h, w] };
}

const sameBits = (a, b) => a.length === b.length && new Uint32Array(a.buffer).every((v, i) => v === new Uint32Array(b.buffer)[i]);

function sample(session, run) {
  globalThis.gc();
  return { run, rssMB: process.memoryUsage().rss / 2 ** 20, wasmMB: session.info.memoryBytes / 2 ** 20, plans: session.info.cachedPlans };
}

/**
 * How far RSS strays from the samples' median, and whether WebAssembly memory grew. Samples
 * in the first 10% of the measured runs are kept in the record but not judged: V8 returns the
 * warm-up's freed pages to the OS only some time after its last collections.
 */
function flatness(samples) {
  const settle = samples.at(-1).run / 10;
  const after = samples.filter((s) => s.run > settle);
  const sorted = after.map((s) => s.rssMB).sort((a, b) => a - b);
  const base = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  const drift = Math.max(...after.map((s) => Math.abs(s.rssMB - base)));
  const wasmGrowth = after.at(-1).wasmMB - after[0].wasmMB;
  return { baseRssMB: base, maxDriftMB: drift, wasmGrowthMB: wasmGrowth, flat: drift <= TOLERANCE_MB && wasmGrowth === 0 };
}

async function sameSize(threads) {
  const session = await Session.create(flags.model, { threads });
  const x = image(45, 37, 1);
  const every = Number(flags.every) || Math.max(1, Math.floor(runs / 50));
  const first = (await session.run(x)).data;
  let mismatches = 0;
  for (let i = 0; i < warmup; i++) if (!sameBits((await session.run(x)).data, first)) mismatches++;
  const samples = [sample(session, 0)];
  const t0 = performance.now();
  for (let i = 1; i <= runs; i++) {
    if (!sameBits((await session.run(x)).data, first)) mismatches++;
    if (i % every === 0) samples.push(sample(session, i));
  }
  const seconds = (performance.now() - t0) / 1000;
  await session.release();
  return { phase: "same-size", threads, warmup, runs, seconds, mismatches, ...flatness(samples), samples };
}

async function manySizes(threads) {
  const session = await Session.create(flags.model, { threads, planCacheBytes: int("cache-mib") * 2 ** 20 });
  const cols = Math.ceil(Math.sqrt(sizeCount));
  const sizes = Array.from({ length: sizeCount }, (_, i) => [32 + (i % cols) * 3, 32 + Math.floor(i / cols) * 2]);
  const firsts = new Map();
  const every = Number(flags.every) || Math.max(1, Math.floor(sizeRuns / 50));
  let mismatches = 0,
    samples = [],
    t0 = 0;
  for (let i = -warmup; i < sizeRuns; i++) {
    if (i === 0) {
      samples = [sample(session, 0)];
      t0 = performance.now();
    }
    const [h, w] = sizes[(i + warmup) % sizes.length];
    const y = (await session.run(image(h, w, h * 1000 + w))).data;
    const key = `${h}x${w}`;
    if (!firsts.has(key)) firsts.set(key, y);
    else if (!sameBits(y, firsts.get(key))) mismatches++;
    if (i >= 0 && (i + 1) % every === 0) samples.push(sample(session, i + 1));
  }
  const seconds = (performance.now() - t0) / 1000;
  await session.release();
  return {
    phase: "many-sizes",
    threads,
    warmup,
    runs: sizeRuns,
    sizes: sizes.length,
    cacheMiB: int("cache-mib"),
    seconds,
    mismatches,
    ...flatness(samples),
    samples,
  };
}

const results = [];
for (const threads of threadCounts) {
  for (const phase of [sameSize, manySizes]) {
    const r = await phase(threads);
    results.push(r);
    console.log(
      `${r.phase.padEnd(10)} threads ${threads}: ${r.runs} runs in ${r.seconds.toFixed(1)} s; median RSS ${r.baseRssMB.toFixed(1)} MB after ${r.warmup} warm-up runs, ` +
        `max drift ${r.maxDriftMB.toFixed(2)} MB, wasm growth ${r.wasmGrowthMB} MB, ${r.mismatches} output mismatches: ${r.flat && !r.mismatches ? "flat" : "NOT FLAT"}`,
    );
  }
}
const report = {
  date: new Date().toISOString(),
  node: process.version,
  model: flags.model,
  toleranceMB: TOLERANCE_MB,
  quick: flags.quick,
  ok: results.every((r) => r.flat && r.mismatches === 0),
  results,
};
mkdirSync(dirname(flags.out), { recursive: true });
writeFileSync(flags.out, JSON.stringify(report, null, 1));
console.log(`${report.ok ? "flat" : "NOT flat"}; wrote ${flags.out}`);
process.exitCode = report.ok ? 0 : 1;
