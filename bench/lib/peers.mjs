// Shared helpers for the peer benchmarks (bench/vs_*.mjs).
//
//   ensurePeers()         install bench/peers/node_modules (npm ci) on first use
//   ensureModels(names)   export the seeded DenseNets (bench/export_models.py) if files are missing
//   canary()              2-thread/1-thread throughput ratio of this machine right now (~2 good)
//   waitForCanary(...)    retry the canary while the ratio is low
//   runChildJson(...)     run a child process, return the JSON object it printed
//   readNpy / writeNpy    float32 .npy I/O (bench/lib/npy.mjs)
//
// Progress messages go to stderr so that stdout stays clean for results.

import { spawnSync, spawn } from "node:child_process";
import { existsSync, readFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

import { readNpy, writeNpy } from "./npy.mjs";

export { readNpy, writeNpy };

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, "..", "..");
export const BENCH_DIR = join(REPO_ROOT, "bench");
export const PEERS_DIR = join(BENCH_DIR, "peers");
export const CACHE_DIR = join(BENCH_DIR, ".cache");
export const RESULTS_DIR = join(BENCH_DIR, "results");
export const PYTHON = process.env.PYTHON || "/usr/bin/python3";
export const MODELS = ["densenet121", "densenet169", "densenet201", "densenet161"];

const log = (msg) => process.stderr.write(`[peers] ${msg}\n`);

// ------------------------------------------------------------------ peers (npm)

/** Names of the packages bench/peers/package.json depends on that are not installed. */
function missingPeerPackages() {
  const pkg = JSON.parse(readFileSync(join(PEERS_DIR, "package.json"), "utf8"));
  const deps = Object.keys({ ...(pkg.dependencies || {}), ...(pkg.optionalDependencies || {}) });
  return deps.filter((d) => !existsSync(join(PEERS_DIR, "node_modules", d, "package.json")));
}

/**
 * Install the peer runtimes into bench/peers/node_modules, once: `npm ci` from the committed
 * lock file (or `npm install` when there is no lock). A no-op when everything is installed.
 */
export function ensurePeers() {
  const missing = missingPeerPackages();
  if (missing.length === 0) return PEERS_DIR;
  const hasLock = existsSync(join(PEERS_DIR, "package-lock.json"));
  const args = [hasLock ? "ci" : "install", "--prefix", PEERS_DIR, "--no-audit", "--no-fund"];
  log(`peer runtimes not installed (${missing.join(", ")}): running npm ${args.join(" ")}`);
  log("first run only; ~750 MB on disk (bench/peers/node_modules, git-ignored)");
  const t0 = Date.now();
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  // onnxruntime-node's postinstall would download CUDA libraries from a host we cannot reach;
  // its CPU binaries are inside the npm package.
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" };
  const r = spawnSync(npm, args, { cwd: REPO_ROOT, stdio: ["ignore", 2, 2], env });
  if (r.error || r.status !== 0) {
    throw new Error(
      `npm ${args[0]} in bench/peers failed (${r.error ? r.error.message : `exit ${r.status}`}).` +
        (hasLock
          ? " If bench/peers/package.json changed, refresh the lock: ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix bench/peers"
          : ""),
    );
  }
  const still = missingPeerPackages();
  if (still.length) throw new Error(`npm finished but ${still.join(", ")} is still missing from bench/peers/node_modules`);
  log(`peer runtimes installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return PEERS_DIR;
}

// ------------------------------------------------------------------ models (python export)

/** Paths of the exported files for one model (they may not exist yet). */
export function modelPaths(name, dir = CACHE_DIR) {
  return {
    name,
    safetensors: join(dir, `${name}.safetensors`),
    onnx: join(dir, `${name}.onnx`),
    ref_b1: join(dir, `${name}.ref_b1.npy`),
    meta: join(dir, `${name}.meta.json`),
  };
}

export function inputPath(batch, dir = CACHE_DIR) {
  return join(dir, `input_b${batch}.npy`);
}

function checkPython() {
  const hint = "install them with: apt-get install python3-torch python3-torchvision python3-onnx";
  if (!existsSync(PYTHON)) {
    throw new Error(`${PYTHON} not found: exporting the benchmark models needs Python with PyTorch; ${hint}`);
  }
  const r = spawnSync(PYTHON, ["-c", "import torch, torchvision, numpy"], { encoding: "utf8" });
  if (r.status !== 0) {
    const why = (r.stderr || "").trim().split("\n").pop() || `exit ${r.status}`;
    throw new Error(`${PYTHON} cannot import torch/torchvision/numpy (${why}); ${hint}`);
  }
  const o = spawnSync(PYTHON, ["-c", "import onnx"], { encoding: "utf8" });
  if (o.status !== 0) log(`warning: python3-onnx missing, the exported .onnx files will not be checked (${hint})`);
}

/**
 * Make sure bench/.cache holds <name>.{safetensors,onnx,ref_b1.npy,meta.json} for every name and
 * input_b1.npy / input_b8.npy; runs bench/export_models.py for whatever is missing.
 * Returns { dir, inputs: {1: path, 8: path}, models: {name: modelPaths(name) + meta} }.
 */
export function ensureModels(names = ["densenet121"], { dir = CACHE_DIR } = {}) {
  const bad = names.filter((n) => !MODELS.includes(n));
  if (bad.length) throw new Error(`unknown model(s) ${bad.join(", ")}; choose from ${MODELS.join(", ")}`);
  const want = (n) => {
    const { name: _name, ...files } = modelPaths(n, dir);
    return Object.values(files);
  };
  const missing = [inputPath(1, dir), inputPath(8, dir), ...names.flatMap(want)].filter((p) => !existsSync(p));
  if (missing.length) {
    checkPython();
    log(`exporting ${names.join(", ")} (missing ${missing.length} file(s) in ${dir})`);
    mkdirSync(dir, { recursive: true });
    const r = spawnSync(PYTHON, [join(BENCH_DIR, "export_models.py"), "--models", names.join(","), "--out", dir], {
      stdio: ["ignore", 2, 2],
      env: { ...process.env, PYTHONWARNINGS: process.env.PYTHONWARNINGS ?? "ignore" },
    });
    if (r.error || r.status !== 0) {
      throw new Error(`bench/export_models.py failed (${r.error ? r.error.message : `exit ${r.status}`})`);
    }
    const still = missing.filter((p) => !existsSync(p));
    if (still.length) throw new Error(`bench/export_models.py did not produce ${still.join(", ")}`);
  }
  const models = {};
  for (const n of names) {
    const p = modelPaths(n, dir);
    models[n] = { ...p, info: JSON.parse(readFileSync(p.meta, "utf8")) };
  }
  return { dir, inputs: { 1: inputPath(1, dir), 8: inputPath(8, dir) }, models };
}

// ------------------------------------------------------------------ canary

export const CANARY_PATH = resolve(REPO_ROOT, "..", "shared", "tools", "canary.mjs");

// Same logic as ../shared/tools/canary.mjs: throughput of a pure compute loop in 2 workers vs 1.
const CANARY_SRC = `const { parentPort } = require('worker_threads'); let x = 0, t0 = Date.now(), n = 0;
while (Date.now() - t0 < 400) { for (let i = 0; i < 1e5; i++) x = (x * 1.0000001 + i) % 1e9; n++; }
parentPort.postMessage(n);`;

async function inlineCanary() {
  const run = (k) =>
    Promise.all(
      Array.from(
        { length: k },
        () =>
          new Promise((res, rej) => {
            const w = new Worker(CANARY_SRC, { eval: true });
            w.on("message", (n) => {
              res(n);
              w.terminate();
            });
            w.on("error", rej);
          }),
      ),
    );
  const one = (await run(1))[0];
  const two = (await run(2)).reduce((a, b) => a + b, 0);
  return two / one;
}

/**
 * 2-thread / 1-thread throughput ratio (about 2.0 on two free cores; about 1.0 when the host gives
 * both vCPUs only one core's worth of time). Uses ../shared/tools/canary.mjs next to the repo when
 * present, else an inline copy of the same logic.
 */
export async function canary() {
  if (existsSync(CANARY_PATH)) {
    const r = spawnSync(process.execPath, [CANARY_PATH], { encoding: "utf8" });
    const v = Number.parseFloat((r.stdout || "").trim());
    if (r.status === 0 && Number.isFinite(v)) return v;
    log(`canary ${CANARY_PATH} failed (${(r.stderr || "").trim() || `exit ${r.status}`}); using the inline copy`);
  }
  return Math.round((await inlineCanary()) * 100) / 100;
}

/**
 * Run the canary until ratio >= min (at most `tries` times, `waitMs` apart).
 * Returns { ratio, ok, history }.
 */
export async function waitForCanary({ min = 1.7, tries = 5, waitMs = 15000, quiet = false } = {}) {
  const history = [];
  for (let i = 0; i < tries; i++) {
    const ratio = await canary();
    history.push(ratio);
    if (ratio >= min) return { ratio, ok: true, history };
    if (i + 1 < tries) {
      if (!quiet)
        log(`canary ${ratio.toFixed(2)} < ${min}: the 2 vCPUs give ~1 core right now; waiting ${waitMs / 1000} s (${i + 1}/${tries - 1})`);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
  return { ratio: history[history.length - 1], ok: false, history };
}

// ------------------------------------------------------------------ child processes

/** Parse the JSON object a child printed: the whole stdout, else the last line that parses. */
export function parseJsonOutput(stdout) {
  const s = stdout.trim();
  try {
    return JSON.parse(s);
  } catch {
    /* fall through */
  }
  const lines = s.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i].trim();
    if (!l.startsWith("{")) continue;
    try {
      return JSON.parse(l);
    } catch {
      /* keep looking */
    }
  }
  // a pretty-printed object followed or preceded by other text
  const a = s.lastIndexOf("\n{");
  const start = s.startsWith("{") ? 0 : a >= 0 ? a + 1 : -1;
  if (start >= 0) {
    try {
      return JSON.parse(s.slice(start));
    } catch {
      /* give up */
    }
  }
  return null;
}

/**
 * Run `cmd args` (stderr passed through when `echoStderr`), resolve with the JSON object it
 * printed on stdout. Rejects with the exit status and the tail of stderr on failure.
 */
export function runChildJson(
  cmd,
  args,
  { cwd = REPO_ROOT, timeoutMs = 15 * 60 * 1000, label = cmd, echoStderr = false, expectJson = true } = {},
) {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      err += d;
      if (echoStderr) process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${label}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const tail = err.trim().split("\n").slice(-15).join("\n");
      if (code !== 0) {
        reject(new Error(`${label} failed (${signal ? `signal ${signal}` : `exit ${code}`}):\n  $ ${[cmd, ...args].join(" ")}\n${tail}`));
        return;
      }
      if (!expectJson) return resolveP({ stdout: out, stderr: err });
      const obj = parseJsonOutput(out);
      if (!obj) {
        reject(new Error(`${label} printed no JSON object:\n  $ ${[cmd, ...args].join(" ")}\nstdout: ${out.trim().slice(-500)}\n${tail}`));
        return;
      }
      resolveP(obj);
    });
  });
}

// ------------------------------------------------------------------ inputs of any batch size

/**
 * Path of a (batch, 3, 224, 224) float32 input in the cache. input_b1 / input_b8 come from
 * export_models.py; any other batch is built (once) by cycling the images of input_b8.
 */
export async function ensureInput(batch, dir = CACHE_DIR) {
  const p = inputPath(batch, dir);
  if (existsSync(p)) return p;
  const src = readNpy(inputPath(8, dir));
  const per = src.data.length / src.shape[0];
  const data = new Float32Array(per * batch);
  for (let b = 0; b < batch; b++) data.set(src.data.subarray((b % src.shape[0]) * per, ((b % src.shape[0]) + 1) * per), b * per);
  writeNpy(p, [batch, ...src.shape.slice(1)], data);
  log(`wrote ${p} (images of input_b8.npy, cycled)`);
  return p;
}
