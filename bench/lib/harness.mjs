#!/usr/bin/env node
// The child-process harness of `npm run bench` (bench/suite.mjs): one runtime, one model, one
// thread count, one fresh process; every runtime is timed by this same code with Benchmark.js.
//
//   node bench/lib/harness.mjs --adapter bench/peers/ort_node_runner.mjs
//        --safetensors m.safetensors --onnx m.onnx --inputs x_b1.npy,x_b8.npy --threads T
//        [--min-samples 3] [--max-time 2] [--warmup 1] [--out-dir dir]   (parsed by bench/lib/args.mjs)
//
// --min-samples, --max-time and --warmup take one value, or one per input (comma-separated).
//
// An adapter is a module exporting
//   load({ safetensors, onnx, threads }) -> { info, run({ data, dims }) -> Promise<{ data, dims }>, release() }
// where info = { runtime, version, backend, threads_effective, threads_note? }. run() is the whole
// inference call a user makes: wrap the NCHW float32 input in the runtime's tensor type, run, and
// read the logits back into a Float32Array.
//
// For each input, in order: a first run (its output is written to <out-dir>/b<N>.npy when
// --out-dir is given), `--warmup` more runs, then Benchmark.js (defer: true, minTime 1 ms so every
// sample is one run) collects at least --min-samples runs for at least --max-time seconds; peak RSS
// (VmHWM) is read after each input. Protocol on stdout, one JSON object per line:
//   {"event":"first_result", batch, ms_since_start}   right after the very first output exists
//                                                      (the parent times spawn -> this line: cold start)
//   {"event":"result", info, load_ms, batches: [{batch, median_ms, p95_ms, mean_ms, min_ms,
//     deviation_ms, rme, samples, times_ms, first_run_ms, cpu_util, peak_rss_mb, output}]}
// Anything else a runtime prints on stdout is ignored by the parent; logs go to stderr.

import { mkdirSync, readFileSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import Benchmark from "benchmark";
import { UsageError, csv, integer, parseOptions, positive } from "./args.mjs";
import { readNpy, writeNpy } from "./npy.mjs";
import { median, quantile, r3 } from "./stats.mjs";

/** Peak resident set size of this process so far, in MB (VmHWM; maxRSS where /proc is absent). */
export function peakRssMb() {
  try {
    const m = /VmHWM:\s*(\d+)\s*kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // no /proc (macOS, Windows): fall back to getrusage
  }
  return process.resourceUsage().maxRSS / 1024;
}

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

/** Benchmark.js over `run(input)`: resolves with the Benchmark's stats (seconds) or rejects. */
function benchmarkRuns(label, model, input, { minSamples, maxTime }) {
  return new Promise((resolveP, reject) => {
    let failure = null;
    const bench = new Benchmark(label, {
      defer: true,
      // One run per sample (the default minTime of 50 ms would batch fast runs into one sample).
      minTime: 1e-3,
      initCount: 1,
      delay: 0,
      minSamples,
      maxTime,
      fn(deferred) {
        model.run(input).then(
          () => deferred.resolve(),
          (e) => {
            failure = e;
            deferred.benchmark.abort();
            deferred.resolve();
          },
        );
      },
    });
    bench.on("error", (e) => (failure = failure ?? e.target?.error ?? new Error("Benchmark.js error")));
    bench.on("complete abort", () => {
      if (failure || bench.error) reject(failure ?? bench.error);
      else resolveP(bench.stats);
    });
    bench.run({ async: true });
  });
}

const OPTIONS = {
  adapter: { type: "string" },
  safetensors: { type: "string" },
  onnx: { type: "string" },
  inputs: { type: "string", default: "" },
  threads: { type: "string", default: "1" },
  "min-samples": { type: "string", default: "3" },
  "max-time": { type: "string", default: "2" },
  warmup: { type: "string", default: "1" },
  "out-dir": { type: "string" },
};

function readArgs(argv) {
  const v = parseOptions(argv, OPTIONS);
  const inputs = csv(v.inputs);
  if (!inputs.length) throw new UsageError("--inputs: at least one .npy file");
  /** One value for every input, or one per input. */
  const perInput = (name, parse) => {
    const values = csv(v[name]).map((s) => parse(name, s));
    if (values.length !== 1 && values.length !== inputs.length)
      throw new UsageError(`--${name}: one value, or one per input (${inputs.length})`);
    return inputs.map((_, i) => values[values.length === 1 ? 0 : i]);
  };
  return {
    adapter: v.adapter,
    safetensors: v.safetensors,
    onnx: v.onnx,
    inputs,
    threads: integer("threads", v.threads),
    minSamples: perInput("min-samples", (n, s) => integer(n, s)),
    maxTime: perInput("max-time", (n, s) => positive(n, s)),
    warmup: perInput("warmup", (n, s) => integer(n, s, 0)),
    outDir: v["out-dir"] ?? null,
  };
}

/** Runs the harness for `adapter` (a module namespace with load()) with the process's arguments. */
export async function runHarness(adapter, argv = process.argv.slice(2)) {
  const args = readArgs(argv);
  const t0 = performance.now();
  const model = await adapter.load({ safetensors: args.safetensors, onnx: args.onnx, threads: args.threads });
  const loadMs = performance.now() - t0;
  const batches = [];
  let first = true;
  if (args.outDir) mkdirSync(args.outDir, { recursive: true });
  for (const [k, path] of args.inputs.entries()) {
    const { shape, data } = readNpy(path);
    const input = { data, dims: shape };
    const batch = shape[0];
    const f0 = performance.now();
    const y = await model.run(input);
    const firstRunMs = performance.now() - f0;
    if (first) {
      // performance.now() counts from this process's start.
      emit({ event: "first_result", batch, ms_since_start: r3(performance.now()) });
      first = false;
    }
    let output = null;
    if (args.outDir) {
      output = join(args.outDir, `b${batch}.npy`);
      writeNpy(output, y.dims, y.data);
    }
    for (let i = 0; i < args.warmup[k]; i++) await model.run(input);
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    const stats = await benchmarkRuns(`${model.info.runtime} b${batch}`, model, input, {
      minSamples: args.minSamples[k],
      maxTime: args.maxTime[k],
    });
    const wall = performance.now() - w0;
    const cpu = process.cpuUsage(cpu0);
    const times = stats.sample.map((s) => s * 1000);
    const sorted = [...times].sort((p, q) => p - q);
    batches.push({
      batch,
      median_ms: r3(median(sorted)),
      p95_ms: r3(quantile(sorted, 0.95)),
      mean_ms: r3(stats.mean * 1000),
      min_ms: r3(sorted[0]),
      deviation_ms: r3(stats.deviation * 1000),
      rme: Math.round(stats.rme * 100) / 100,
      samples: times.length,
      times_ms: times.map(r3),
      first_run_ms: r3(firstRunMs),
      // process CPU time / wall time over the timed runs: ~threads when that many cores work
      // (spin-waiting pools count too, so it is an upper bound on useful work)
      cpu_util: Math.round(((cpu.user + cpu.system) / 1000 / wall) * 100) / 100,
      peak_rss_mb: Math.round(peakRssMb() * 10) / 10,
      output,
    });
  }
  emit({ event: "result", info: model.info, load_ms: r3(loadMs), batches });
  await model.release?.();
}

// As a script: node bench/lib/harness.mjs --adapter <module> ...
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const argv = process.argv.slice(2);
  const run = async () => {
    const { adapter } = readArgs(argv);
    if (!adapter) throw new UsageError("--adapter <module> is required");
    await runHarness(await import(pathToFileURL(resolve(adapter)).href), argv);
  };
  run().then(
    // worker pools (onnxruntime-web's pthreads) may keep the event loop alive
    () => process.exit(0),
    (e) => {
      process.stderr.write(`[harness] ${e.stack || e.message || e}\n`);
      process.exit(1);
    },
  );
}

/**
 * For an adapter module run as a script (node bench/peers/x_runner.mjs ...): runs the harness
 * with its load() when `moduleUrl` (the adapter's import.meta.url) is the script run.
 */
export function runAdapterScript(moduleUrl, load, tag) {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(realpathSync(process.argv[1])).href) return;
  runHarness({ load }).then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`[${tag}] ${e.stack || e.message || e}\n`);
      process.exit(1);
    },
  );
}
