#!/usr/bin/env node
// Child-process runner for onnxruntime-web (WASM backend, SIMD, multi-threaded) under Node.
//
//   node bench/peers/ort_web_runner.mjs --model m.onnx --input x.npy --threads T --runs R --warmup W
//        [--output y.npy] [--verbose]
//
// Prints ONE JSON line on stdout:
//   {runtime:"onnxruntime-web", version, threads, threads_effective, batch, median_ms, min_ms, p95_ms,
//    mean_ms, runs, warmup, cpu_util, output_path, ...}
// cpu_util = process CPU time / wall time over the timed runs: ~T when the T threads run (ORT's pool
// spin-waits between ops, so this is an upper bound on useful work; the 1-vs-T timing is the proof).
// Everything else (ORT warnings, --verbose logs) goes to stderr.
// Run it with bench/peers/node_modules installed (see bench/lib/peers.mjs ensurePeers()).

import { readFileSync, realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { basename } from "node:path";
import { integer, parseOptions } from "../lib/args.mjs";
import { readNpy, writeNpy } from "../lib/npy.mjs";
import { ortModel } from "../lib/ort.mjs";
import { median, quantile, r3 } from "../lib/stats.mjs";

// ---------------------------------------------------------------- args
const OPTIONS = {
  model: { type: "string" },
  input: { type: "string" },
  output: { type: "string" },
  threads: { type: "string", default: "1" },
  runs: { type: "string", default: "10" },
  warmup: { type: "string", default: "2" },
  verbose: { type: "boolean", default: false },
};

function readArgs(argv) {
  const v = parseOptions(argv, OPTIONS);
  return {
    ...v,
    output: v.output ?? null,
    threads: integer("threads", v.threads),
    runs: integer("runs", v.runs),
    warmup: integer("warmup", v.warmup, 0),
  };
}

// ---------------------------------------------------------------- bench/lib/harness.mjs adapter
/**
 * onnxruntime-web for the benchmark suite (bench/suite.mjs runs it through bench/lib/harness.mjs):
 * WASM backend, SIMD, `threads` pthreads (set before the first session: onnxruntime-web would
 * otherwise pick min(4, ceil(cores / 2)), i.e. 1 on 2 cores).
 */
export async function load({ onnx, threads }) {
  if (!onnx) throw new Error("onnxruntime-web needs --onnx");
  let ort;
  try {
    ort = await import("onnxruntime-web");
  } catch (e) {
    throw new Error(`cannot import onnxruntime-web (run: npm ci --prefix bench/peers): ${e.message}`);
  }
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "warning";
  const session = await ort.InferenceSession.create(readFileSync(onnx), {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
    logSeverityLevel: 2,
  });
  // initializeWebAssembly() falls back to 1 thread without SharedArrayBuffer and writes back
  // the count it used.
  return ortModel(ort, session, {
    runtime: "onnxruntime-web",
    version: ort.env.versions?.web ?? "unknown",
    backend: "WASM SIMD",
    threads_effective: ort.env.wasm.numThreads,
  });
}

// ---------------------------------------------------------------- main
async function main() {
  const args = readArgs(process.argv.slice(2));
  if (args.help || !args.model || !args.input) {
    console.error(
      "usage: node ort_web_runner.mjs --model m.onnx --input x.npy --threads T --runs R --warmup W [--output y.npy] [--verbose]",
    );
    process.exit(args.help ? 0 : 2);
  }

  let ort;
  try {
    ort = await import("onnxruntime-web"); // resolves to dist/ort.node.min.mjs (its own .wasm files)
  } catch (e) {
    throw new Error(`cannot import onnxruntime-web (run: npm ci --prefix bench/peers): ${e.message}`);
  }
  // (package.json is not in onnxruntime-web's "exports")
  const version = ort.env.versions?.web ?? "unknown";

  // Must be set BEFORE the first InferenceSession.create(): the wasm module and its pthread
  // pool are initialised once per process from these flags.
  ort.env.wasm.numThreads = args.threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = args.verbose ? "verbose" : "warning";

  const { shape, data } = readNpy(args.input);
  if (shape.length !== 4) throw new Error(`${args.input}: expected NCHW input, got shape [${shape}]`);
  const batch = shape[0];

  const tLoad0 = performance.now();
  const session = await ort.InferenceSession.create(readFileSync(args.model), {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
    logSeverityLevel: args.verbose ? 0 : 2,
  });
  const loadMs = performance.now() - tLoad0;
  // initializeWebAssembly() silently falls back to 1 thread when SharedArrayBuffer/Atomics are
  // unavailable and writes the value it used back into env.wasm.numThreads.
  const threadsEffective = ort.env.wasm.numThreads;
  if (threadsEffective !== args.threads) {
    console.error(`[ort_web_runner] WARNING: asked for ${args.threads} threads, onnxruntime-web uses ${threadsEffective}`);
  }

  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  const feeds = { [inName]: new ort.Tensor("float32", data, shape) };

  for (let i = 0; i < args.warmup; i++) await session.run(feeds);

  const times = [];
  let last;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < args.runs; i++) {
    const t0 = performance.now();
    last = await session.run(feeds);
    times.push(performance.now() - t0);
  }
  const wall = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  const cpuUtil = (cpu.user + cpu.system) / 1000 / wall;

  let outputPath = null;
  if (args.output) {
    const out = last[outName];
    writeNpy(args.output, out.dims.map(Number), out.data);
    outputPath = args.output;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const result = {
    runtime: "onnxruntime-web",
    version,
    backend: "wasm-simd-threaded",
    model: basename(args.model),
    threads: args.threads,
    threads_effective: threadsEffective,
    batch,
    median_ms: r3(median(sorted)),
    min_ms: r3(sorted[0]),
    p95_ms: r3(quantile(sorted, 0.95)),
    mean_ms: r3(times.reduce((s, t) => s + t, 0) / times.length),
    runs: args.runs,
    warmup: args.warmup,
    cpu_util: Math.round(cpuUtil * 100) / 100,
    load_ms: r3(loadMs),
    times_ms: times.map(r3),
    output_path: outputPath,
  };
  await session.release?.();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // the pthread pool keeps the event loop alive
  process.exit(0);
}

// Run only as a script: bench/lib/harness.mjs imports load() from this file.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((e) => {
    console.error(`[ort_web_runner] ${e.stack || e.message || e}`);
    process.exit(1);
  });
}
