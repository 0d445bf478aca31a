#!/usr/bin/env node
// `npm run bench`: densenet-wasm against onnxruntime-web, onnxruntime-node and tfjs
// (tfjs-backend-wasm) in one run, on the same seeded random weights and inputs.
//
//   npm run bench [-- --quick] [--models densenet121,densenet169] [--runtimes densenet-wasm,onnxruntime-node]
//                 [--batches 1,8] [--threads 1,all] [--rounds 2] [--tol 1e-4] [--out DIR] [--readme | --no-readme]
//
// 1. installs the peers (bench/peers, `npm ci` with ONNXRUNTIME_NODE_INSTALL=skip) and exports the
//    models (bench/export_models.py, Debian's PyTorch) into bench/.cache on first use;
// 2. rounds: the canary (2-thread/1-thread ratio of a compute loop; waits and retries while it
//    is low), then every (model, threads, runtime) in a fresh child process
//    (bench/lib/harness.mjs + the runtime's adapter, timed by Benchmark.js), batch 1 then batch 8
//    in that process; the order of the runtimes rotates from round to round;
// 3. per (runtime, model, batch, threads) the best round's median; cold start (spawn -> first
//    logits) and peak RSS of each process;
// 4. numerical agreement: every runtime's logits (first round) against densenet-wasm's on the
//    same input, max|diff| <= tol * max|ref| on every row, densenet-wasm against PyTorch at batch 1;
// 5. prints the table and writes suite.json, suite.txt and suite.svg to bench/results/, and
//    regenerates README.md's performance section (between <!-- bench:start/end -->).
// A partial run (--quick or any filter) writes to bench/.cache/results/ and leaves README.md
// alone unless --out / --readme say otherwise. Exit status: 0 all good, 3 outputs disagree,
// 4 a runtime missing or failed (its rows say why), 1 an error, 2 bad arguments.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import {
  REPO_ROOT,
  CACHE_DIR,
  RESULTS_DIR,
  PEERS_DIR,
  MODELS,
  ensurePeers,
  ensureModels,
  ensureInput,
  waitForCanary,
  canary,
  readNpy,
} from "./lib/peers.mjs";
import { RUNTIME_IDS, OURS, runtimeById } from "./lib/runtimes.mjs";
import { choices, commandLine, csv, integer, integers, parseOptions, positive } from "./lib/args.mjs";
import { compareLogits } from "./lib/compare.mjs";
import { minBy } from "./lib/stats.mjs";
import { textReport, svgChart, readmeSection, replaceReadmeSection, runtimeLabel } from "./lib/report.mjs";

const HARNESS = join(REPO_ROOT, "bench", "lib", "harness.mjs");
const CANARY_MIN = 1.7;
const CHILD_TIMEOUT_MS = 10 * 60 * 1000;

// Benchmark.js budget per case and round (batch 8 costs 8 images a run: fewer samples).
const PROFILES = {
  full: {
    models: MODELS,
    rounds: 2,
    timing: { 1: { min_samples: 3, max_time_s: 0.75, warmup: 1 }, 8: { min_samples: 2, max_time_s: 0.1, warmup: 0 } },
    canaryWaitS: 10,
  },
  quick: {
    models: ["densenet121"],
    rounds: 2,
    timing: { 1: { min_samples: 3, max_time_s: 0.5, warmup: 1 }, 8: { min_samples: 1, max_time_s: 0.1, warmup: 0 } },
    canaryWaitS: 5,
  },
};

const HELP = `usage: npm run bench [-- options]
  --quick                 DenseNet-121 only, fewer samples (under 2 minutes on 2 cores)
  --models a,b            subset of ${MODELS.join(",")}
  --runtimes a,b          subset of ${RUNTIME_IDS.join(",")}
  --batches 1,8           batch sizes (default 1,8)
  --threads 1,all         thread counts; "all" = os.availableParallelism() (default 1,all)
  --rounds N              timing rounds, best round per case (default ${PROFILES.full.rounds})
  --tol X                 agreement bound: max|diff| <= X * max|ref| (default 1e-4)
  --out DIR               where suite.json/.txt/.svg go (default bench/results for the full
                          default suite, bench/.cache/results for --quick or filtered runs)
  --readme / --no-readme  regenerate README.md's performance section (default: full default suite only)
  --canary-tries N, --canary-wait S   canary retries before a round and seconds between them (4, 15)`;

const say = (s = "") => process.stdout.write(`${s}\n`);
const note = (s) => process.stderr.write(`[bench] ${s}\n`);

const OPTIONS = {
  quick: { type: "boolean", default: false },
  models: { type: "string" },
  runtimes: { type: "string" },
  batches: { type: "string" },
  threads: { type: "string" },
  rounds: { type: "string" },
  tol: { type: "string", default: "1e-4" },
  out: { type: "string" },
  readme: { type: "boolean" },
  "no-readme": { type: "boolean" },
  "canary-tries": { type: "string", default: "4" },
  "canary-wait": { type: "string", default: "15" },
};

function readArgs(argv) {
  const v = parseOptions(argv, OPTIONS);
  const threads =
    v.threads === undefined
      ? undefined
      : [...new Set(csv(v.threads).map((s) => (s === "all" ? availableParallelism() : integer("threads", s))))];
  const a = {
    help: v.help,
    quick: v.quick,
    tol: positive("tol", v.tol),
    out: v.out === undefined ? null : resolve(v.out),
    readme: v.readme ? true : v["no-readme"] ? false : null,
    canaryTries: integer("canary-tries", v["canary-tries"]),
    canaryWaitS: positive("canary-wait", v["canary-wait"], { allowZero: true }),
    models: v.models === undefined ? undefined : choices("models", v.models, MODELS),
    runtimes: v.runtimes === undefined ? undefined : choices("runtimes", v.runtimes, RUNTIME_IDS),
    batches: v.batches === undefined ? undefined : integers("batches", v.batches),
    threads,
    rounds: v.rounds === undefined ? null : integer("rounds", v.rounds),
  };
  a.filtered = [v.models, v.runtimes, v.batches, v.threads, v.rounds].some((x) => x !== undefined);
  const profile = PROFILES[a.quick ? "quick" : "full"];
  a.models ??= profile.models;
  a.runtimes ??= RUNTIME_IDS;
  a.batches ??= [1, 8];
  a.threads ??= [...new Set([1, availableParallelism()])];
  a.rounds ??= profile.rounds;
  a.timing = profile.timing;
  a.roundCanaryWaitS = profile.canaryWaitS;
  a.runtimes = RUNTIME_IDS.filter((r) => a.runtimes.includes(r)); // table order
  a.threads.sort((x, y) => x - y);
  const partial = a.quick || a.filtered;
  a.out ??= partial ? join(CACHE_DIR, "results") : RESULTS_DIR;
  a.readme ??= !partial && a.out === RESULTS_DIR;
  return a;
}

const timingFor = (args, batch) => args.timing[batch] ?? args.timing[batch === 1 ? 1 : 8];

// ------------------------------------------------------------------ one child process

/** The last "[harness] ..." / "[..._runner] ..." message of a child's stderr, else its tail. */
function childReason(stderr, code, signal) {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const tagged = lines.filter((l) => /^\[(harness|[a-z_]+_runner)\] /.test(l)).pop();
  const msg = tagged ? tagged.replace(/^\[[^\]]+\] /, "").replace(/^Error: /, "") : lines.pop();
  return `${msg ?? "no message"} (${signal ? `signal ${signal}` : `exit ${code}`})`;
}

/**
 * Runs one runtime on one model at one thread count, every input in turn, in a fresh process.
 * Resolves { ok, cold_ms, result } or { ok: false, reason }; never rejects.
 */
function runCase(rt, model, threads, inputs, args, outDir) {
  const t = inputs.map((x) => timingFor(args, x.batch));
  const argv = [
    HARNESS,
    "--adapter",
    join(REPO_ROOT, rt.adapter),
    "--safetensors",
    model.safetensors,
    "--onnx",
    model.onnx,
    "--inputs",
    inputs.map((x) => x.path).join(","),
    "--threads",
    String(threads),
    "--min-samples",
    t.map((x) => x.min_samples).join(","),
    "--max-time",
    t.map((x) => x.max_time_s).join(","),
    "--warmup",
    t.map((x) => x.warmup).join(","),
    ...(outDir ? ["--out-dir", outDir] : []),
  ];
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, argv, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let buf = "";
    let stderr = "";
    let coldMs = null;
    let result = null;
    const onLine = (line) => {
      if (!line.startsWith('{"event"')) return; // a runtime's own chatter
      let ev;
      try {
        ev = JSON.parse(line);
      } catch {
        return;
      }
      if (ev.event === "first_result" && coldMs === null) coldMs = performance.now() - t0;
      else if (ev.event === "result") result = ev;
    };
    child.stdout.on("data", (d) => {
      buf += d;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      done({ ok: false, reason: e.message });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (buf) onLine(buf);
      const wallMs = performance.now() - t0;
      if (code === 0 && result) done({ ok: true, cold_ms: coldMs, wall_ms: wallMs, result });
      else done({ ok: false, wall_ms: wallMs, reason: code === 0 ? "printed no result" : childReason(stderr, code, signal) });
    });
  });
}

const isMissing = (reason) => /cannot import|Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(reason);

/** The commit the measured densenet-wasm was built from, and whether the tree had changes. */
function gitSource() {
  const git = (...a) => spawnSync("git", a, { cwd: REPO_ROOT, encoding: "utf8" });
  const head = git("rev-parse", "HEAD");
  if (head.status !== 0) return { commit: null, dirty: null };
  const st = git("status", "--porcelain", "--untracked-files=no", "--", "src", "assembly", "package.json", "asconfig.json");
  return { commit: head.stdout.trim(), dirty: st.status === 0 ? st.stdout.trim().length > 0 : null };
}

// ------------------------------------------------------------------ main

// ------------------------------------------------------------------ phases of a run

/** Which runtimes can run: dist/ built, peers installed. id -> { status: 'ok' | 'missing', reason }. */
function runtimeStatus(args) {
  const status = {}; // id -> { status, reason }
  for (const id of args.runtimes) status[id] = { status: "ok", reason: null };
  if (args.runtimes.includes(OURS) && !existsSync(join(REPO_ROOT, "dist", "index.js"))) {
    status[OURS] = { status: "missing", reason: "dist/ is not built (run: npm run build)" };
  }
  const peers = args.runtimes.filter((id) => runtimeById(id).peer);
  if (peers.length) {
    let installError = null;
    try {
      ensurePeers();
    } catch (e) {
      installError = e.message;
    }
    for (const id of peers) {
      const gone = runtimeById(id).packages.filter((p) => !existsSync(join(PEERS_DIR, "node_modules", p, "package.json")));
      if (gone.length) {
        status[id] = {
          status: "missing",
          reason: `${gone.join(", ")} not installed in bench/peers${installError ? ` (${installError.split(/\.( |$)/)[0]})` : ""}`,
        };
      }
    }
  }
  for (const [id, s] of Object.entries(status)) if (s.status !== "ok") note(`${id}: MISSING: ${s.reason}`);
  return status;
}

/**
 * The timing rounds: the canary, then every (model, threads, runtime) in a fresh process, the
 * runtimes' order rotating from round to round. Writes each case's outputs once (first good
 * round) under tmp. Returns { runs: key -> [round results], rounds: [per-round summary] }.
 */
async function timingRounds(args, status, models, inputs, start, tmp) {
  const multi = args.threads.some((t) => t > 1);
  const canaryTries = multi ? args.canaryTries : 1;
  const outputDir = (id, m, t) => join(tmp, `${id}.${m}.t${t}`);
  const runs = {}; // `${id}|${model}|${threads}` -> [{ round, ok, cold_ms, result | reason }]
  const haveOutput = new Set();
  const rounds = [];
  for (let r = 0; r < args.rounds; r++) {
    const c =
      r === 0 ? start : await waitForCanary({ min: CANARY_MIN, tries: Math.min(3, canaryTries), waitMs: args.roundCanaryWaitS * 1000 });
    const shift = r % args.runtimes.length;
    const order = [...args.runtimes.slice(shift), ...args.runtimes.slice(0, shift)];
    const t0 = performance.now();
    note(`round ${r + 1}/${args.rounds}: canary ${c.ratio.toFixed(2)}${multi && !c.ok ? " (LOW)" : ""}, order ${order.join(" > ")}`);
    for (const m of args.models) {
      for (const t of args.threads) {
        for (const id of order) {
          if (status[id].status !== "ok") continue;
          const key = `${id}|${m}|${t}`;
          const out = haveOutput.has(key) ? null : outputDir(id, m, t);
          const res = await runCase(runtimeById(id), models[m], t, inputs, args, out);
          runs[key] ??= [];
          runs[key].push({ round: r + 1, canary: c.ratio, ...res });
          if (!res.ok) {
            note(`  ${m} t${t} ${id}: FAILED: ${res.reason}`);
            if (isMissing(res.reason)) status[id] = { status: "missing", reason: res.reason };
            continue;
          }
          if (out) haveOutput.add(key);
          const per = res.result.batches.map((b) => `b${b.batch} ${(b.median_ms / b.batch).toFixed(1)} ms/img (${b.samples})`).join(", ");
          note(
            `  ${m} t${t} ${id}: ${per}, cold ${(res.cold_ms / 1000).toFixed(2)} s, rss ${res.result.batches.at(-1).peak_rss_mb.toFixed(0)} MB`,
          );
        }
      }
    }
    rounds.push({
      round: r + 1,
      canary: c.ratio,
      canary_tries: c.history,
      canary_ok: c.ok,
      order,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    });
  }
  return { runs, rounds };
}

/** One row per (model, batch, threads, runtime): its best round, or why it has none; ratios to densenet-wasm. */
function bestRows(args, status, models, runs) {
  const runtimesInfo = {};
  for (const id of args.runtimes) {
    const any = Object.entries(runs).find(([k, v]) => k.startsWith(`${id}|`) && v.some((x) => x.ok));
    const info = any ? any[1].find((x) => x.ok).result.info : {};
    runtimesInfo[id] = { ...status[id], ...info, runtime: id };
    if (status[id].status === "ok" && !any) runtimesInfo[id] = { ...runtimesInfo[id], status: "failed", reason: "no successful run" };
  }
  /** @type {any[]} the rows of suite.json: a best round's figures, or the status and reason of a case without one */
  const rows = [];
  for (const m of args.models) {
    const gflop = (2 * models[m].info.macs_per_image) / 1e9;
    for (const b of args.batches) {
      for (const t of args.threads) {
        for (const id of args.runtimes) {
          const base = { model: m, batch: b, threads: t, runtime: id };
          const all = runs[`${id}|${m}|${t}`] ?? [];
          const good = all
            .filter((x) => x.ok)
            .map((x) => ({ run: x, b: x.result.batches.find((y) => y.batch === b) }))
            .filter((x) => x.b);
          if (!good.length) {
            const st =
              runtimesInfo[id].status !== "ok"
                ? runtimesInfo[id]
                : { status: "failed", reason: all.map((x) => x.reason).filter(Boolean)[0] ?? "not run" };
            rows.push({ ...base, threads_label: String(t), status: st.status, reason: st.reason });
            continue;
          }
          const best = minBy(good, (x) => x.b.median_ms);
          const info = best.run.result.info;
          const eff = info.threads_effective ?? t;
          const threadsLabel = eff === t ? String(t) : `${eff} (${info.threads_note ?? `asked for ${t}`})`;
          const cold = good.map((x) => x.run.cold_ms).filter((x) => x != null);
          rows.push({
            ...base,
            threads_effective: eff,
            threads_label: threadsLabel,
            runtime_label: runtimeLabel({ runtimes: runtimesInfo }, id),
            version: info.version,
            backend: info.backend,
            status: "ok",
            median_ms: best.b.median_ms,
            p95_ms: best.b.p95_ms,
            ms_per_image: best.b.median_ms / b,
            p95_ms_per_image: best.b.p95_ms / b,
            min_ms_per_image: Math.min(...good.map((x) => x.b.min_ms)) / b,
            images_per_s: (1000 * b) / best.b.median_ms,
            gflop_per_s: (gflop * b) / (best.b.median_ms / 1000),
            ratio: null,
            peak_rss_mb: Math.max(...good.map((x) => x.b.peak_rss_mb)),
            cold_start_s: b === 1 && cold.length ? Math.min(...cold) / 1000 : null,
            samples: best.b.samples,
            rme: best.b.rme,
            cpu_util: best.b.cpu_util,
            best_round: best.run.round,
            rounds_ok: good.length,
            round_medians_ms: good.map((x) => x.b.median_ms),
            output: best.run.result.batches.find((y) => y.batch === b)?.output ?? good.map((x) => x.b.output).find(Boolean) ?? null,
          });
        }
      }
    }
  }
  for (const r of rows) {
    const ours = rows.find(
      (x) => x.status === "ok" && x.runtime === OURS && x.model === r.model && x.batch === r.batch && x.threads === r.threads,
    );
    if (r.status === "ok" && ours) r.ratio = r.median_ms / ours.median_ms;
  }

  return { rows, runtimesInfo };
}

/**
 * Numerical agreement: every row's logits against densenet-wasm's at the same model and
 * batch (first thread count), and densenet-wasm's against PyTorch at batch 1. Sets each
 * row's `agreement`.
 */
function checkAgreement(args, models, rows) {
  const failures = [];
  let worstPeer = null;
  let worstOursPt = 0;
  const refThreads = args.threads[0];
  for (const r of rows) {
    if (r.status !== "ok") continue;
    const ref = rows.find(
      (x) => x.status === "ok" && x.runtime === OURS && x.model === r.model && x.batch === r.batch && x.threads === refThreads,
    );
    /** @type {any} */
    let a;
    if (!r.output) a = { error: "no output written" };
    else if (r === ref) {
      const pt = models[r.model].ref_b1;
      a = r.batch === 1 && existsSync(pt) ? { vs: "PyTorch", ...compareLogits(readNpy(r.output), readNpy(pt)) } : { reference: true };
      if (a.rel_err != null) worstOursPt = Math.max(worstOursPt, a.rel_err);
    } else if (!ref?.output) a = { error: "no densenet-wasm output to compare with" };
    else a = { vs: OURS, ...compareLogits(readNpy(r.output), readNpy(ref.output)) };
    if (!a.reference) a.ok = !a.error && a.rel_err <= args.tol;
    else a.ok = true;
    r.agreement = a;
    if (!a.ok)
      failures.push(`${r.runtime} ${r.model} b${r.batch} t${r.threads}: ${a.error ?? `${a.rel_err.toExponential(2)} > ${args.tol}`}`);
    if (a.vs === OURS && r.runtime !== OURS && (!worstPeer || a.rel_err > worstPeer.rel_err)) {
      worstPeer = { rel_err: a.rel_err, runtime: r.runtime, model: r.model, batch: r.batch, threads: r.threads };
    }
  }
  return { tol: args.tol, ok: failures.length === 0, failures, worst_peer: worstPeer, worst_ours_vs_pytorch: worstOursPt };
}

/** suite.json's record of the run. */
function resultRecord({ args, models, start, rounds, endCanary, runtimesInfo, rows, agreement, runs, setupS, tRounds }) {
  const cpu = cpus();
  const result = {
    benchmark: "suite",
    date: new Date().toISOString(),
    machine: {
      cpu_model: (cpu[0]?.model ?? "unknown").trim(),
      cpu_count: cpu.length,
      available_parallelism: availableParallelism(),
      total_mem_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    source: gitSource(),
    canary: {
      threshold: CANARY_MIN,
      start: { ratio: start.ratio, tries: start.history, ok: start.ok },
      rounds: rounds.map((x) => ({ round: x.round, ratio: x.canary, tries: x.canary_tries, ok: x.canary_ok })),
      end: endCanary,
    },
    config: {
      models: args.models,
      runtimes: args.runtimes,
      batches: args.batches,
      threads: args.threads,
      rounds: args.rounds,
      size: 224,
      tol: args.tol,
      quick: args.quick,
      timing: Object.fromEntries(args.batches.map((b) => [b, timingFor(args, b)])),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    },
    models: Object.fromEntries(
      args.models.map((m) => [
        m,
        {
          gflop_per_image: (2 * models[m].info.macs_per_image) / 1e9,
          params: models[m].info.params,
          safetensors: relative(REPO_ROOT, models[m].safetensors),
          onnx: relative(REPO_ROOT, models[m].onnx),
        },
      ]),
    ),
    runtimes: runtimesInfo,
    rows,
    agreement,
    rounds,
    runs: Object.fromEntries(
      Object.entries(runs).map(([k, v]) => [
        k,
        v.map((x) =>
          x.ok
            ? {
                round: x.round,
                canary: x.canary,
                cold_ms: x.cold_ms,
                wall_ms: x.wall_ms,
                load_ms: x.result.load_ms,
                batches: x.result.batches.map(({ output, ...b }) => b),
              }
            : { round: x.round, canary: x.canary, error: x.reason },
        ),
      ]),
    ),
    setup_s: Math.round(setupS * 10) / 10,
    duration_s: Math.round((performance.now() - tRounds) / 100) / 10,
  };
  return result;
}

/** Prints the table and writes suite.json/.txt/.svg (and README.md's section when asked). */
function writeReport(args, result) {
  const text = textReport(result);
  say();
  process.stdout.write(text);
  mkdirSync(args.out, { recursive: true });
  const files = { json: join(args.out, "suite.json"), txt: join(args.out, "suite.txt"), svg: join(args.out, "suite.svg") };
  writeFileSync(files.json, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(files.txt, text);
  writeFileSync(files.svg, svgChart(result, { jsonPath: relative(REPO_ROOT, files.json).split("\\").join("/") }));
  say();
  say(
    `wrote ${Object.values(files)
      .map((f) => relative(process.cwd(), f) || f)
      .join(", ")}`,
  );
  if (args.readme) {
    const readmePath = join(REPO_ROOT, "README.md");
    const rel = (f) => relative(REPO_ROOT, f).split("\\").join("/");
    const section = readmeSection(result, { jsonPath: rel(files.json), svgPath: rel(files.svg) });
    writeFileSync(readmePath, replaceReadmeSection(readFileSync(readmePath, "utf8"), section));
    say(`regenerated README.md's performance section from ${rel(files.json)}`);
  }
  say(`suite took ${(result.duration_s / 60).toFixed(1)} min (+ ${result.setup_s.toFixed(0)} s setup)`);
}

/** The exit status: 0 all good, 3 outputs disagree, 4 a runtime missing or failed. */
function exitStatus(result) {
  if (!result.agreement.ok) {
    note(`NUMERICAL AGREEMENT FAILED: ${result.agreement.failures.join("; ")}`);
    return 3;
  }
  const bad = Object.entries(result.runtimes).filter(([, i]) => i.status !== "ok");
  if (bad.length || result.rows.some((r) => r.status !== "ok")) {
    note(`INCOMPLETE: ${bad.map(([id, i]) => `${id} ${i.status}: ${i.reason}`).join("; ") || "some rows failed (see the table)"}`);
    return 4;
  }
  return 0;
}

// ------------------------------------------------------------------ main

/**
 * Cold start and peak RSS of `densenet run` against onnxruntime-node's script on DenseNet-121
 * (bench/footprint.mjs, interleaved runs, medians): the issue's definition of those two rows,
 * which the harness processes above (Benchmark.js loaded, several batches) do not measure.
 * Null when the run does not include DenseNet-121 and onnxruntime-node, or when it fails.
 */
async function footprintStep(args, tmp) {
  if (!args.models.includes("densenet121") || !args.runtimes.includes("onnxruntime-node") || !args.runtimes.includes(OURS)) return null;
  const json = join(tmp, "footprint.json");
  const runsArg = String(args.quick ? 3 : 5);
  say(`footprint: densenet run vs onnxruntime-node, DenseNet-121, ${runsArg} interleaved runs (bench/footprint.mjs)`);
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "bench", "footprint.mjs"), "--runs", runsArg, "--json", json], {
    encoding: "utf8",
    timeout: 5 * 60 * 1000,
  });
  if (r.status !== 0 || !existsSync(json)) {
    note(`footprint step failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || "").trim().split("\n").at(-1)}`);
    return null;
  }
  const f = JSON.parse(readFileSync(json, "utf8"));
  return {
    runs: f.runs,
    cold_start_s: { ours: f.runtimes[OURS].cold_start_median_s, peer: f.runtimes["onnxruntime-node"].cold_start_median_s },
    peak_rss_mb: { ours: f.runtimes[OURS].peak_rss_median_mb, peer: f.runtimes["onnxruntime-node"].peak_rss_median_mb },
    cold_start_ratio: f.cold_start_ratio,
    peak_rss_ratio: f.peak_rss_ratio,
  };
}

async function main() {
  const { args, exit } = commandLine(readArgs, HELP, "bench");
  if (!args) return exit;
  const tStart = performance.now();
  const status = runtimeStatus(args);
  const { models } = ensureModels(args.models);
  const inputs = [];
  for (const b of args.batches) inputs.push({ batch: b, path: await ensureInput(b) });
  const setupS = (performance.now() - tStart) / 1000;

  const multi = args.threads.some((t) => t > 1);
  const start = await waitForCanary({ min: CANARY_MIN, tries: multi ? args.canaryTries : 1, waitMs: args.canaryWaitS * 1000 });
  say(
    `canary (2-thread/1-thread throughput, ~2.0 = two free cores): ${start.ratio.toFixed(2)}` +
      (start.history.length > 1 ? ` (tries ${start.history.map((x) => x.toFixed(2)).join(", ")})` : ""),
  );
  if (multi && !start.ok)
    note(
      `WARNING: canary ${start.ratio.toFixed(2)} < ${CANARY_MIN}: the host gives about one core; multi-thread timings may not be representative`,
    );

  const tmp = join(CACHE_DIR, `suite-outputs-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const tRounds = performance.now();
    const { runs, rounds } = await timingRounds(args, status, models, inputs, start, tmp);
    const endCanary = multi ? await canary() : null;
    const { rows, runtimesInfo } = bestRows(args, status, models, runs);
    const agreement = checkAgreement(args, models, rows);
    for (const r of rows) delete r.output; // temporary files
    const footprint = await footprintStep(args, tmp);
    const result = resultRecord({ args, models, start, rounds, endCanary, runtimesInfo, rows, agreement, runs, setupS, tRounds });
    result.footprint = footprint;
    writeReport(args, result);
    return exitStatus(result);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`[bench] error: ${process.env.DEBUG ? e.stack : e.message}\n`);
    process.exit(1);
  },
);
