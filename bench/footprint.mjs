#!/usr/bin/env node
// Peak RSS and cold start of one `densenet run` (spawn -> exit, logits written), against
// onnxruntime-node doing the same (bench/peers/ort_node_cli.mjs) on the same model and input.
//
//   node bench/footprint.mjs [--model densenet121] [--runs 10] [--threads 1] [--no-peer]
//                            [--cli dist/bin/cli.js] [--variant NAME=path/to/cli.js]...
//                            [--json bench/results/footprint.json]
//
// --variant adds another build of densenet-wasm to each round (e.g. an older commit's dist/,
// to measure one change against the next on the same loaded machine).
//
// Each round spawns both runtimes once, in alternating order (the machine may be loaded by
// others: RSS is robust to that, wall time is not, so medians and the ratio of medians are
// reported, and each run is kept). Peak RSS is the process's maximum resident set, from
// `/usr/bin/time -f %M` (the kernel's ru_maxrss) where installed, else VmHWM read by a
// preloaded exit hook (bench/lib/hwm_at_exit.cjs). Both outputs are checked against each
// other and against PyTorch's logits (bench/.cache/<model>.ref_b1.npy).
// Models come from bench/export_models.py (Debian PyTorch) into bench/.cache; the peer from
// bench/peers (npm ci there, on first use).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commandLine, integer, parseOptions } from "./lib/args.mjs";
import { BENCH_DIR, CACHE_DIR, REPO_ROOT, RESULTS_DIR, ensureModels, ensurePeers, readNpy } from "./lib/peers.mjs";

const USAGE = `usage: node bench/footprint.mjs [--model densenet121] [--runs 10] [--threads 1] [--cli dist/bin/cli.js] [--no-peer]
       [--variant NAME=/path/to/dist/bin/cli.js]... [--json bench/results/footprint.json]`;
const { args: opts, exit } = commandLine(
  (argv) => {
    const v = parseOptions(argv, {
      model: { type: "string", default: "densenet121" },
      runs: { type: "string", default: "10" },
      threads: { type: "string", default: "1" },
      cli: { type: "string", default: join(REPO_ROOT, "dist", "bin", "cli.js") },
      "no-peer": { type: "boolean", default: false },
      variant: { type: "string", multiple: true, default: [] },
      json: { type: "string", default: join(RESULTS_DIR, "footprint.json") },
    });
    return { ...v, runs: integer("runs", v.runs), threads: integer("threads", v.threads) };
  },
  USAGE,
  "footprint",
);
if (!opts) process.exit(exit);
const { runs, threads } = opts;

const { models, inputs } = ensureModels([opts.model]);
const model = models[opts.model];
const withPeer = !opts["no-peer"];
if (withPeer) ensurePeers();
const TIME = "/usr/bin/time";
const useTime = existsSync(TIME);
const work = join(CACHE_DIR, `footprint-${process.pid}`);
mkdirSync(work, { recursive: true });

const ours = (cli) => (out) => [
  cli,
  "run",
  "--model",
  model.safetensors,
  "--input",
  inputs[1],
  "--output",
  out,
  "--threads",
  String(threads),
];
const variants = opts.variant.map((v) => {
  const eq = v.indexOf("=");
  if (eq < 1) throw new Error(`--variant must be NAME=path/to/cli.js, got '${v}'`);
  return [`densenet-wasm[${v.slice(0, eq)}]`, ours(v.slice(eq + 1))];
});
const runtimes = {
  "densenet-wasm": ours(opts.cli),
  ...Object.fromEntries(variants),
  ...(withPeer
    ? {
        "onnxruntime-node": (out) => [
          join(BENCH_DIR, "peers", "ort_node_cli.mjs"),
          "--model",
          model.onnx,
          "--input",
          inputs[1],
          "--output",
          out,
          "--threads",
          String(threads),
        ],
      }
    : {}),
};

/** Spawns `node args`, resolves { wall_ms, peak_rss_mb } once it exits 0; rejects otherwise. */
function measure(args) {
  const hwmFile = join(work, "hwm.txt");
  rmSync(hwmFile, { force: true });
  const [cmd, argv] = useTime
    ? [TIME, ["-f", "@@maxrss %M", process.execPath, ...args]]
    : [process.execPath, ["--require", join(BENCH_DIR, "lib", "hwm_at_exit.cjs"), ...args]];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, HWM_AT_EXIT_FILE: hwmFile } });
    let stderr = "";
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("close", (code) => {
      const wall = performance.now() - t0;
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${args[0]} exited ${code}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`));
      const kb = useTime ? Number(/@@maxrss (\d+)/.exec(stderr)?.[1]) : Number(readFileSync(hwmFile, "utf8"));
      if (!Number.isFinite(kb) || kb <= 0) return reject(new Error(`no peak RSS for ${args[0]}: ${stderr}`));
      resolve({ wall_ms: Math.round(wall * 10) / 10, peak_rss_mb: Math.round(kb / 102.4) / 10 });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

const names = Object.keys(runtimes);
const samples = Object.fromEntries(names.map((n) => [n, []]));
const outputs = {};
for (let r = 0; r < runs; r++) {
  const order = r % 2 === 0 ? names : [...names].reverse();
  for (const name of order) {
    const out = join(work, `${name}.npy`);
    const s = await measure(runtimes[name](out));
    samples[name].push(s);
    outputs[name] = readNpy(out).data;
    process.stderr.write(
      `[footprint] round ${r + 1}/${runs} ${name}: ${(s.wall_ms / 1000).toFixed(2)} s, ${s.peak_rss_mb.toFixed(0)} MB\n`,
    );
  }
}
rmSync(work, { recursive: true, force: true });

const ref = readNpy(model.ref_b1).data;
const refMax = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const summary = Object.fromEntries(
  names.map((n) => [
    n,
    {
      cold_start_median_s: Math.round(median(samples[n].map((s) => s.wall_ms))) / 1000,
      peak_rss_median_mb: median(samples[n].map((s) => s.peak_rss_mb)),
      peak_rss_max_mb: Math.max(...samples[n].map((s) => s.peak_rss_mb)),
      max_abs_diff_vs_pytorch: maxAbsDiff(outputs[n], ref),
      runs: samples[n],
    },
  ]),
);
const mine = summary["densenet-wasm"],
  peer = summary["onnxruntime-node"];
const result = {
  date: new Date().toISOString(),
  node: process.version,
  model: opts.model,
  threads,
  runs,
  cli: opts.cli,
  rss_source: useTime ? "/usr/bin/time %M (ru_maxrss)" : "VmHWM at exit",
  pytorch_max_abs_logit: refMax,
  ...(peer
    ? {
        cold_start_ratio: Math.round((mine.cold_start_median_s / peer.cold_start_median_s) * 100) / 100,
        peak_rss_ratio: Math.round((mine.peak_rss_median_mb / peer.peak_rss_median_mb) * 100) / 100,
        max_abs_diff_between: maxAbsDiff(outputs["densenet-wasm"], outputs["onnxruntime-node"]),
      }
    : {}),
  runtimes: summary,
};
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
for (const n of names) {
  const s = summary[n];
  console.log(
    `${n.padEnd(24)} cold start ${s.cold_start_median_s.toFixed(2)} s, peak RSS ${s.peak_rss_median_mb.toFixed(0)} MB ` +
      `(max ${s.peak_rss_max_mb.toFixed(0)}), max|diff| vs PyTorch ${s.max_abs_diff_vs_pytorch.toExponential(1)} (logits up to ${refMax.toFixed(2)})`,
  );
}
if (peer)
  console.log(
    `densenet-wasm / onnxruntime-node: cold start ${result.cold_start_ratio}x, peak RSS ${result.peak_rss_ratio}x (medians of ${runs} interleaved runs)`,
  );
console.log(`wrote ${opts.json}`);
