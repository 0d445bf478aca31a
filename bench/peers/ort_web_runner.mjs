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

import { readFileSync, writeFileSync, renameSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { basename } from 'node:path';

// ---------------------------------------------------------------- args
function parseArgs(argv) {
  const a = { threads: 1, runs: 10, warmup: 2, output: null, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${k}`);
      return argv[++i];
    };
    if (k === '--model') a.model = v();
    else if (k === '--input') a.input = v();
    else if (k === '--output') a.output = v();
    else if (k === '--threads') a.threads = Number(v());
    else if (k === '--runs') a.runs = Number(v());
    else if (k === '--warmup') a.warmup = Number(v());
    else if (k === '--verbose') a.verbose = true;
    else if (k === '-h' || k === '--help') a.help = true;
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

// ---------------------------------------------------------------- .npy (float32, C order)
export function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') {
    throw new Error(`${path}: not a .npy file`);
  }
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString(major >= 3 ? 'utf8' : 'latin1', hstart, hstart + hlen);
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeStr === undefined) {
    throw new Error(`${path}: cannot parse .npy header ${header}`);
  }
  if (fortran === 'True') throw new Error(`${path}: fortran_order arrays are not supported`);
  const shape = shapeStr.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((p, d) => p * d, 1);
  const off = hstart + hlen;
  let data;
  if (descr === '<f4' || descr === '|f4') {
    // copy into a fresh, aligned buffer
    data = new Float32Array(count);
    new Uint8Array(data.buffer).set(buf.subarray(off, off + count * 4));
  } else if (descr === '<f8') {
    const d64 = new Float64Array(count);
    new Uint8Array(d64.buffer).set(buf.subarray(off, off + count * 8));
    data = Float32Array.from(d64);
  } else {
    throw new Error(`${path}: dtype ${descr} not supported (float32 little-endian expected)`);
  }
  if (buf.length - off < data.byteLength) throw new Error(`${path}: truncated`);
  return { shape, data };
}

export function writeNpy(path, shape, data) {
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shp}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += `${' '.repeat(pad % 64)}\n`;
  const pre = Buffer.alloc(10);
  pre[0] = 0x93;
  pre.write('NUMPY', 1, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([pre, Buffer.from(header, 'latin1'),
    Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength)]));
  renameSync(tmp, path);
}

// ---------------------------------------------------------------- stats
function quantile(sorted, q) {
  // nearest-rank
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}
const r3 = (x) => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------- bench/lib/harness.mjs adapter
/**
 * onnxruntime-web for the benchmark suite (bench/suite.mjs runs it through bench/lib/harness.mjs):
 * WASM backend, SIMD, `threads` pthreads (set before the first session: onnxruntime-web would
 * otherwise pick min(4, ceil(cores / 2)), i.e. 1 on 2 cores).
 */
export async function load({ onnx, threads }) {
  if (!onnx) throw new Error('onnxruntime-web needs --onnx');
  let ort;
  try {
    ort = await import('onnxruntime-web');
  } catch (e) {
    throw new Error(`cannot import onnxruntime-web (run: npm ci --prefix bench/peers): ${e.message}`);
  }
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'warning';
  const session = await ort.InferenceSession.create(readFileSync(onnx), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 2,
  });
  const [inName] = session.inputNames;
  const [outName] = session.outputNames;
  // initializeWebAssembly() falls back to 1 thread without SharedArrayBuffer and writes back
  // the count it used.
  const threadsEffective = ort.env.wasm.numThreads;
  return {
    info: {
      runtime: 'onnxruntime-web',
      version: ort.env.versions?.web ?? 'unknown',
      backend: 'WASM SIMD',
      threads_effective: threadsEffective,
    },
    async run({ data, dims }) {
      const out = (await session.run({ [inName]: new ort.Tensor('float32', data, dims) }))[outName];
      return { data: out.data, dims: out.dims.map(Number) };
    },
    release: () => session.release?.(),
  };
}

// ---------------------------------------------------------------- main
async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help || !args.model || !args.input) {
    console.error('usage: node ort_web_runner.mjs --model m.onnx --input x.npy --threads T --runs R --warmup W [--output y.npy] [--verbose]');
    process.exit(args.help ? 0 : 2);
  }
  if (!(Number.isInteger(args.threads) && args.threads >= 1)) throw new Error('--threads must be an integer >= 1');
  if (!(Number.isInteger(args.runs) && args.runs >= 1)) throw new Error('--runs must be an integer >= 1');
  if (!(Number.isInteger(args.warmup) && args.warmup >= 0)) throw new Error('--warmup must be an integer >= 0');

  let ort;
  try {
    ort = await import('onnxruntime-web'); // resolves to dist/ort.node.min.mjs (its own .wasm files)
  } catch (e) {
    throw new Error(`cannot import onnxruntime-web (run: npm ci --prefix bench/peers): ${e.message}`);
  }
  // (package.json is not in onnxruntime-web's "exports")
  const version = ort.env.versions?.web ?? 'unknown';

  // Must be set BEFORE the first InferenceSession.create(): the wasm module and its pthread
  // pool are initialised once per process from these flags.
  ort.env.wasm.numThreads = args.threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = args.verbose ? 'verbose' : 'warning';

  const { shape, data } = readNpy(args.input);
  if (shape.length !== 4) throw new Error(`${args.input}: expected NCHW input, got shape [${shape}]`);
  const batch = shape[0];

  const tLoad0 = performance.now();
  const session = await ort.InferenceSession.create(readFileSync(args.model), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
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
  const feeds = { [inName]: new ort.Tensor('float32', data, shape) };

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
    runtime: 'onnxruntime-web',
    version,
    backend: 'wasm-simd-threaded',
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

// Run only as a script: bench/lib/peers.mjs imports readNpy/writeNpy from this file.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((e) => {
    console.error(`[ort_web_runner] ${e.stack || e.message || e}`);
    process.exit(1);
  });
}
