#!/usr/bin/env node
// densenet-wasm vs onnxruntime-web (WASM, SIMD, threaded), same model, same machine, same Node.
//
//   node bench/vs_ort_web.mjs [--threads 1] [--batch 1] [--rounds 3] [--runs 10] [--warmup 2]
//                             [--model densenet121] [--tol 1e-4] [--out bench/results/vs_ort_web.json]
//                             [--peer-only] [--cli path/to/cli.js]
//
// 1. installs the peers (bench/peers, npm ci) and exports the seeded model (bench/export_models.py)
//    on first use;
// 2. runs the canary (2-thread/1-thread ratio of this VM); with --threads > 1 and a ratio below
//    1.7 it waits and retries, then goes on with a loud warning;
// 3. for each round runs our CLI (`node dist/bin/cli.js bench ... --json`) and
//    bench/peers/ort_web_runner.mjs, each in a fresh child process, alternating which goes first;
//    each runtime's result is its best-of-rounds median;
// 4. checks numerical agreement: `node dist/bin/cli.js run` on the same input vs onnxruntime-web's
//    logits (max|diff| / max|ref| and top-1), and both against PyTorch's at batch 1;
// 5. prints a table and writes bench/results/vs_ort_web.json.
// --peer-only skips our runtime (to check the peer setup before dist/ is built); --cli points at
// another build of our CLI (default dist/bin/cli.js).

import { existsSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";
import {
  REPO_ROOT,
  CACHE_DIR,
  RESULTS_DIR,
  PEERS_DIR,
  MODELS,
  ensurePeers,
  ensureModels,
  ensureInput,
  canary,
  waitForCanary,
  runChildJson,
  readNpy,
} from "./lib/peers.mjs";
import { choice, commandLine, integer, parseOptions, positive } from "./lib/args.mjs";
import { compareLogits } from "./lib/compare.mjs";
import { minBy } from "./lib/stats.mjs";

const CANARY_MIN = 1.7;

const OPTIONS = {
  threads: { type: "string", default: "1" },
  batch: { type: "string", default: "1" },
  rounds: { type: "string", default: "3" },
  runs: { type: "string", default: "10" },
  warmup: { type: "string", default: "2" },
  model: { type: "string", default: "densenet121" },
  tol: { type: "string", default: "1e-4" },
  out: { type: "string", default: join(RESULTS_DIR, "vs_ort_web.json") },
  "peer-only": { type: "boolean", default: false },
  cli: { type: "string" },
  "canary-tries": { type: "string", default: "5" },
  "canary-wait": { type: "string", default: "15" },
};

function readArgs(argv) {
  const v = parseOptions(argv, OPTIONS);
  return {
    help: v.help,
    threads: integer("threads", v.threads),
    batch: integer("batch", v.batch),
    rounds: integer("rounds", v.rounds),
    runs: integer("runs", v.runs),
    warmup: integer("warmup", v.warmup, 0),
    model: choice("model", v.model, MODELS),
    tol: positive("tol", v.tol),
    out: v.out,
    peerOnly: v["peer-only"],
    cli: v.cli,
    canaryTries: integer("canary-tries", v["canary-tries"]),
    canaryWaitS: positive("canary-wait", v["canary-wait"], { allowZero: true }),
  };
}

const HELP = `usage: node bench/vs_ort_web.mjs [--threads 1] [--batch 1] [--rounds 3] [--runs 10] [--warmup 2]
       [--model ${MODELS.join("|")}] [--tol 1e-3] [--out bench/results/vs_ort_web.json] [--peer-only]
       [--cli dist/bin/cli.js] [--canary-tries 5] [--canary-wait 15]
Compares densenet-wasm (node dist/bin/cli.js) with onnxruntime-web ${"(WASM SIMD, threaded)"} on the same
seeded model and input; see the header of this file.`;

const say = (s = "") => process.stdout.write(`${s}\n`);
const note = (s) => process.stderr.write(`[vs_ort_web] ${s}\n`);
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "-");

// ------------------------------------------------------------------ main

async function main() {
  const { args, exit } = commandLine(readArgs, HELP, "vs_ort_web");
  if (!args) return exit;
  const cli = args.cli ? resolve(args.cli) : join(REPO_ROOT, "dist", "bin", "cli.js");
  if (!args.peerOnly && !existsSync(cli)) {
    note(`our CLI is not built: ${relative(process.cwd(), cli) || cli} is missing.`);
    note("build it first (npm run build), or pass --peer-only to time onnxruntime-web alone.");
    return 2;
  }

  ensurePeers();
  const { models } = ensureModels([args.model]);
  const m = models[args.model];
  const input = await ensureInput(args.batch);
  const macs = m.info.macs_per_image;
  const gflopPerImage = (2 * macs) / 1e9;

  // ---- canary
  let start;
  if (args.threads > 1) {
    start = await waitForCanary({ min: CANARY_MIN, tries: args.canaryTries, waitMs: args.canaryWaitS * 1000 });
  } else {
    const r = await canary();
    start = { ratio: r, ok: r >= CANARY_MIN, history: [r] };
  }
  say(
    `canary (2-thread/1-thread throughput, ~2.0 = two free cores): ${start.ratio.toFixed(2)}` +
      (start.history.length > 1 ? `  (tries: ${start.history.map((x) => x.toFixed(2)).join(", ")})` : ""),
  );
  if (args.threads > 1 && !start.ok) {
    const bar = "!".repeat(78);
    say(bar);
    say(`!! WARNING: canary ${start.ratio.toFixed(2)} < ${CANARY_MIN} after ${start.history.length} tries: the host gives the`);
    say("!! vCPUs about one core right now. Multi-threaded timings below are NOT representative.");
    say(bar);
  }

  const tmp = join(CACHE_DIR, `tmp-vs-ort-web-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  const ortOut = join(tmp, "ort_out.npy");
  const oursOut = join(tmp, "ours_out.npy");

  const node = process.execPath;
  const runOurs = () =>
    runChildJson(
      node,
      [
        cli,
        "bench",
        "--model",
        m.safetensors,
        "--batch",
        String(args.batch),
        "--threads",
        String(args.threads),
        "--size",
        "224",
        "--runs",
        String(args.runs),
        "--json",
      ],
      { label: "densenet-wasm (dist/bin/cli.js bench)" },
    );
  const runOrt = (withOutput) =>
    runChildJson(
      node,
      [
        join(PEERS_DIR, "ort_web_runner.mjs"),
        "--model",
        m.onnx,
        "--input",
        input,
        "--threads",
        String(args.threads),
        "--runs",
        String(args.runs),
        "--warmup",
        String(args.warmup),
        ...(withOutput ? ["--output", ortOut] : []),
      ],
      { label: "onnxruntime-web (bench/peers/ort_web_runner.mjs)" },
    );

  say(
    `model ${args.model} (${(macs / 1e9).toFixed(3)} GMAC/image, conv+linear), batch ${args.batch}, ` +
      `threads ${args.threads}, ${args.rounds} round(s) x ${args.runs} runs, node ${process.version}`,
  );

  // ---- timing rounds, alternating order
  const rounds = [];
  try {
    for (let r = 0; r < args.rounds; r++) {
      const c = await canary();
      const order = args.peerOnly ? ["ort"] : r % 2 === 0 ? ["ours", "ort"] : ["ort", "ours"];
      const round = { round: r + 1, canary: c, order };
      for (const who of order) {
        if (who === "ours") {
          const o = await runOurs();
          if (!Number.isFinite(o.median_ms)) throw new Error(`dist/bin/cli.js bench printed no numeric median_ms: ${JSON.stringify(o)}`);
          round.ours = o;
        } else {
          const o = await runOrt(r === 0);
          if (o.threads_effective !== args.threads) {
            note(`WARNING: onnxruntime-web ran with ${o.threads_effective} thread(s), not ${args.threads}`);
          }
          round.ort = o;
        }
      }
      rounds.push(round);
      say(
        `round ${r + 1}/${args.rounds}: canary ${c.toFixed(2)}` +
          (round.ours ? `  ours ${fmt(round.ours.median_ms)} ms (min ${fmt(round.ours.min_ms)})` : "") +
          `  onnxruntime-web ${fmt(round.ort.median_ms)} ms (min ${fmt(round.ort.min_ms)}, cpu ${fmt(round.ort.cpu_util, 2)})` +
          (args.threads > 1 && c < CANARY_MIN ? "  <- low canary" : ""),
      );
    }

    const best = (key) => {
      const rs = rounds.filter((x) => x[key]);
      if (!rs.length) return null;
      const b = minBy(rs, (x) => x[key].median_ms);
      return { ...b[key], best_round: b.round, min_ms: Math.min(...rs.map((x) => x[key].min_ms ?? Infinity)) };
    };
    const ours = best("ours");
    const ort = best("ort");

    // ---- numerical agreement
    const accuracy = {};
    const ortY = readNpy(ortOut);
    let refY = null;
    if (args.batch === 1 && existsSync(m.ref_b1)) {
      refY = readNpy(m.ref_b1);
      accuracy.ort_vs_pytorch = compareLogits(ortY, refY);
    }
    if (!args.peerOnly) {
      await runChildJson(
        node,
        [cli, "run", "--model", m.safetensors, "--input", input, "--output", oursOut, "--threads", String(args.threads)],
        { label: "densenet-wasm (dist/bin/cli.js run)", expectJson: false },
      );
      if (!existsSync(oursOut)) throw new Error(`dist/bin/cli.js run exited 0 but wrote no ${oursOut}`);
      const oursY = readNpy(oursOut);
      accuracy.ours_vs_ort = compareLogits(oursY, ortY);
      if (refY) accuracy.ours_vs_pytorch = compareLogits(oursY, refY);
    }

    // ---- table
    const row = (name, t, ratio) => {
      const ms = t.median_ms;
      return {
        runtime: name,
        threads: args.threads,
        batch: args.batch,
        median_ms: ms,
        ms_per_image: ms / args.batch,
        images_per_s: (1000 * args.batch) / ms,
        gflop_per_s: (gflopPerImage * args.batch) / (ms / 1000),
        ratio,
      };
    };
    const rows = [];
    if (ours) rows.push(row("densenet-wasm", ours, 1));
    rows.push(row(`onnxruntime-web ${ort.version}`, ort, ours ? ort.median_ms / ours.median_ms : null));
    /** @type {[string, number, (row: any) => string][]} */
    const cols = [
      ["runtime", 24, (r) => r.runtime],
      ["threads", 7, (r) => String(r.threads)],
      ["batch", 5, (r) => String(r.batch)],
      ["ms/batch", 9, (r) => fmt(r.median_ms)],
      ["ms/image", 9, (r) => fmt(r.ms_per_image)],
      ["images/s", 9, (r) => fmt(r.images_per_s, 2)],
      ["GFLOP/s", 8, (r) => fmt(r.gflop_per_s)],
      ["ratio", 6, (r) => (r.ratio == null ? "-" : fmt(r.ratio, 2))],
    ];
    const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(cols[i][1]) : c.padStart(cols[i][1]))).join("  ");
    say();
    say(
      `${args.model} @224, best-of-${args.rounds} medians; GFLOP/s at ${gflopPerImage.toFixed(2)} GFLOP/image; ` +
        "ratio = peer ms / our ms (>1: densenet-wasm faster)",
    );
    say(line(cols.map((c) => c[0])));
    say(line(cols.map((c) => "-".repeat(c[1]))));
    for (const r of rows) say(line(cols.map((c) => c[2](r))));
    const canaries = [start.ratio, ...rounds.map((x) => x.canary)];
    say(`canary: start ${start.ratio.toFixed(2)}, per round ${rounds.map((x) => x.canary.toFixed(2)).join(" ")}`);

    let accOk = true;
    const describe = (label, c) => {
      if (c.error) {
        accOk = false;
        return `${label}: ${c.error}`;
      }
      const ok = c.rel_err <= args.tol && c.top1_equal === c.images;
      if (!ok) accOk = false;
      return (
        `${label}: max|diff|/max|ref| = ${c.rel_err.toExponential(2)}, top-1 equal ${c.top1_equal}/${c.images}` +
        (c.non_finite ? `, ${c.non_finite} non-finite values` : "") +
        (ok ? "  OK" : `  MISMATCH (tol ${args.tol})`)
      );
    };
    say();
    if (accuracy.ours_vs_ort) say(describe("densenet-wasm vs onnxruntime-web", accuracy.ours_vs_ort));
    if (accuracy.ours_vs_pytorch) say(describe("densenet-wasm vs PyTorch        ", accuracy.ours_vs_pytorch));
    if (accuracy.ort_vs_pytorch) say(describe("onnxruntime-web vs PyTorch      ", accuracy.ort_vs_pytorch));

    // ---- JSON
    const cpu = cpus();
    const result = {
      benchmark: "vs_ort_web",
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpu_model: cpu[0]?.model ?? "unknown",
      cpu_count: cpu.length,
      total_mem_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      canary: {
        start: start.ratio,
        start_tries: start.history,
        rounds: rounds.map((x) => x.canary),
        min: Math.min(...canaries),
        threshold: CANARY_MIN,
        ok: start.ok,
      },
      config: {
        model: args.model,
        size: 224,
        batch: args.batch,
        threads: args.threads,
        rounds: args.rounds,
        runs: args.runs,
        ort_warmup: args.warmup,
        peer_only: args.peerOnly,
      },
      model: {
        name: args.model,
        macs_per_image: macs,
        gflop_per_image: gflopPerImage,
        params: m.info.params,
        safetensors: relative(REPO_ROOT, m.safetensors),
        onnx: relative(REPO_ROOT, m.onnx),
      },
      results: rows.map((r) => ({ ...r })),
      best: { ours, onnxruntime_web: ort },
      ratio_peer_over_ours: ours ? ort.median_ms / ours.median_ms : null,
      accuracy: { tol: args.tol, ok: accOk, ...accuracy },
      rounds,
    };
    mkdirSync(join(args.out, ".."), { recursive: true });
    writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
    say();
    say(`wrote ${relative(process.cwd(), args.out) || args.out}`);
    if (!accOk) {
      note("numerical check FAILED: the timings compare different computations (see above)");
      return 3;
    }
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`[vs_ort_web] error: ${e.message}\n`);
    process.exit(1);
  },
);
