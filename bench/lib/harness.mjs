#!/usr/bin/env node
// The child-process harness of `npm run bench` (bench/suite.mjs): one runtime, one model, one
// thread count, one fresh process; every runtime is timed by this same code with Benchmark.js.
//
//   node bench/lib/harness.mjs --adapter bench/peers/ort_node_runner.mjs
//        --safetensors m.safetensors --onnx m.onnx --inputs x_b1.npy,x_b8.npy --threads T
//        [--min-samples 3] [--max-time 2] [--warmup 1] [--out-dir dir]
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

import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import Benchmark from 'benchmark';
import { readNpy, writeNpy } from '../peers/ort_web_runner.mjs';

/** Peak resident set size of this process so far, in MB (VmHWM; maxRSS where /proc is absent). */
export function peakRssMb() {
  try {
    const m = /VmHWM:\s*(\d+)\s*kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // no /proc (macOS, Windows): fall back to getrusage
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Nearest-rank quantile of an ascending array. */
export function quantile(sorted, q) {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

const r3 = (x) => Math.round(x * 1000) / 1000;
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
    bench.on('error', (e) => (failure = failure ?? e.target?.error ?? new Error('Benchmark.js error')));
    bench.on('complete abort', () => {
      if (failure || bench.error) reject(failure ?? bench.error);
      else resolveP(bench.stats);
    });
    bench.run({ async: true });
  });
}

const list = (v) => v.split(',').map(Number);

function parseArgs(argv) {
  const a = { threads: 1, minSamples: [3], maxTime: [2], warmup: [1], outDir: null, inputs: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${k}`);
      return argv[++i];
    };
    if (k === '--adapter') a.adapter = v();
    else if (k === '--safetensors') a.safetensors = v();
    else if (k === '--onnx') a.onnx = v();
    else if (k === '--inputs') a.inputs = v().split(',').filter(Boolean);
    else if (k === '--threads') a.threads = Number(v());
    else if (k === '--min-samples') a.minSamples = list(v());
    else if (k === '--max-time') a.maxTime = list(v());
    else if (k === '--warmup') a.warmup = list(v());
    else if (k === '--out-dir') a.outDir = v();
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.inputs.length) throw new Error('--inputs: at least one .npy file');
  if (!(Number.isInteger(a.threads) && a.threads >= 1)) throw new Error('--threads must be an integer >= 1');
  const perInput = (name, values, ok, rule) => {
    if (values.length !== 1 && values.length !== a.inputs.length) throw new Error(`${name}: one value, or one per input (${a.inputs.length})`);
    if (!values.every(ok)) throw new Error(`${name} must be ${rule}`);
    return a.inputs.map((_, i) => values[values.length === 1 ? 0 : i]);
  };
  a.minSamples = perInput('--min-samples', a.minSamples, (x) => Number.isInteger(x) && x >= 1, 'integers >= 1');
  a.maxTime = perInput('--max-time', a.maxTime, (x) => x > 0, '> 0 seconds');
  a.warmup = perInput('--warmup', a.warmup, (x) => Number.isInteger(x) && x >= 0, 'integers >= 0');
  return a;
}

/** Runs the harness for `adapter` (a module namespace with load()) with the process's arguments. */
export async function runHarness(adapter, argv = process.argv.slice(2)) {
  const args = parseArgs(argv);
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
      emit({ event: 'first_result', batch, ms_since_start: r3(performance.now()) });
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
    const stats = await benchmarkRuns(`${model.info.runtime} b${batch}`, model, input, { minSamples: args.minSamples[k], maxTime: args.maxTime[k] });
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
  emit({ event: 'result', info: model.info, load_ms: r3(loadMs), batches });
  await model.release?.();
}

// As a script: node bench/lib/harness.mjs --adapter <module> ...
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--adapter');
  const run = async () => {
    if (i < 0 || i + 1 >= argv.length) throw new Error('--adapter <module> is required');
    const adapter = await import(pathToFileURL(resolve(argv[i + 1])).href);
    await runHarness(adapter, [...argv.slice(0, i), ...argv.slice(i + 2)]);
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
