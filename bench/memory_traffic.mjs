#!/usr/bin/env node
// What the time of one DenseNet-121 image at 224² on one thread loses to data that is not in
// the core's caches when a step starts, measured step by step (best of --rounds, the modes
// alternating within each round):
// - as run: the steps in schedule order, as a run executes them;
// - weights touched first: before each conv and the classifier, one float of every 64-byte
//   line of its packed weights is read (not timed), so the step finds them in cache;
// - step repeated: each step run twice back to back, the second timed (weights, input and
//   output all in cache; a step that writes over its own input computes other values the
//   second time, in the same time).
// And for the whole image: two images on two arenas, one after the other against each step
// run for both in turn (the weights read once per step for two images; the activations of
// both then compete for the cache). Outputs of the two orders are checked to be bitwise equal.
//
//   node bench/memory_traffic.mjs [--rounds 10] [--json bench/results/memory_traffic.json]
import { writeFileSync } from "node:fs";
import * as L from "../dist/kernels/layout.js";
import { loadModel } from "../dist/model/load.js";
import { createEngine } from "../dist/session/engine.js";
import { PlanCache } from "../dist/session/plan_cache.js";
import { commandLine, integer, parseOptions } from "./lib/args.mjs";

const USAGE = "usage: node bench/memory_traffic.mjs [--rounds 10] [--json bench/results/memory_traffic.json]";
const { args, exit } = commandLine(
  (argv) => {
    const v = parseOptions(argv, { rounds: { type: "string", default: "10" }, json: { type: "string" } });
    return { help: v.help, rounds: integer("rounds", v.rounds), json: v.json };
  },
  USAGE,
  "memory_traffic",
);
if (!args) process.exit(exit);

const loaded = await loadModel("densenet121", 0);
if (loaded.kind !== "planned") throw new Error("densenet121 did not plan");
const engine = await createEngine(loaded, { threads: 1, winograd: "auto", schedule: "dynamic", splitImages: "auto" });
const plans = new PlanCache(engine.graph, engine.mem);
const entry = plans.get(224, 224);
const { plan } = entry;
plans.ensureArenas(entry, 2);
const { table, mem } = engine;
const scratch = engine.scratch[0];
const steps = plan.steps.length;
// the schedule's [kernel id, descriptor] pairs (the memory grows no more from here on)
const pairs = new Uint32Array(mem.memory.buffer, plan.schedule, 2 * steps);
const image = Float32Array.from({ length: plan.inputElements }, (_, i) => Math.sin(i * 0.37));
// a run reuses its arena's bytes, the input's among them: each pass starts from a fresh copy
const stage = (...arenas) => {
  for (const arena of arenas) mem.f32(arena + plan.inputOffset, image.length).set(image);
};

/** [address, bytes] of step i's packed weights, or null for a step without any. */
function weightRange(i) {
  const f = new Int32Array(mem.memory.buffer, pairs[2 * i + 1], L.CONV_FIELDS);
  const what = plan.steps[i].description;
  if (what.startsWith("linear")) return [f[L.LINEAR_W], 4 * f[L.LINEAR_M] * f[L.LINEAR_K]];
  if (!what.startsWith("conv")) return null;
  const rows = f[L.CONV_UKERNEL] === L.UKERNEL_6X8 ? L.GEMM_MR_6X8 : L.GEMM_MR_4X8;
  const cout = Math.ceil(f[L.CONV_COUT] / rows) * rows;
  const positions = /Winograd F\(4x4/.test(what) ? L.WINO4_XI : /Winograd F\(2x2/.test(what) ? L.WINO_XI : f[L.CONV_KH] * f[L.CONV_KW];
  return [f[L.CONV_A], 4 * positions * cout * f[L.CONV_CIN]];
}
const ranges = plan.steps.map((_, i) => weightRange(i));

/** Reads one float of every 64-byte line of a weight range; their sum is checked (packed weights are finite), so no read is dropped. */
function touch(range) {
  if (!range) return;
  const f = mem.f32(range[0], range[1] >> 2);
  let s = 0;
  for (let j = 0; j < f.length; j += 16) s += f[j];
  if (!Number.isFinite(s)) throw new Error(`the weights at ${range[0]} are not finite`);
}

const run = (i, arena) => table.kernels[pairs[2 * i]](pairs[2 * i + 1], arena, scratch, 0, 1, 0);
/** Step i on `arena`, timed (ms). */
const timed = (i, arena) => {
  const t = performance.now();
  run(i, arena);
  return performance.now() - t;
};
const MODES = ["as run", "weights touched first", "step repeated"];
const best = MODES.map(() => new Array(steps).fill(Infinity));
/** Each mode's way of running step i, giving the time it counts. */
const oneImage = {
  "as run": (i, a) => timed(i, a),
  "weights touched first": (i, a) => {
    touch(ranges[i]);
    return timed(i, a);
  },
  "step repeated": (i, a) => {
    run(i, a);
    return timed(i, a);
  },
};
const [arena0, arena1] = entry.arenas;
const pairTimes = { "one after the other": [], "each step for both": [] };
const pairWays = {
  "one after the other": () => {
    for (const a of [arena0, arena1]) for (let i = 0; i < steps; i++) run(i, a);
  },
  "each step for both": () => {
    for (let i = 0; i < steps; i++) for (const a of [arena0, arena1]) run(i, a);
  },
};
const output = (arena) => mem.f32(arena + plan.outputOffset, plan.outputElements).slice();
await plans.using(entry, async () => {
  for (let r = 0; r < args.rounds + 1; r++) {
    MODES.forEach((mode, m) => {
      stage(arena0);
      for (let i = 0; i < steps; i++) {
        const ms = oneImage[mode](i, arena0);
        if (r > 0) best[m][i] = Math.min(best[m][i], ms);
      }
    });
    for (const [way, f] of r % 2 ? Object.entries(pairWays) : Object.entries(pairWays).reverse()) {
      stage(arena0, arena1);
      const t = performance.now();
      f();
      if (r > 0) pairTimes[way].push((performance.now() - t) / 2);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const [a, b] = [output(arena0), output(arena1)];
  if (!a.every((v, j) => Object.is(v, b[j]))) throw new Error("the two arenas' outputs differ");
});

// steps by kind and output size, in order of their time as run
const groups = new Map();
plan.steps.forEach((step, i) => {
  const m = /^(conv \S+|\S+ pool|linear)\D*?.*-> (\d+)x(\d+)/.exec(step.description);
  const key = m ? `${m[1]} @${m[2]}` : step.description.split(" ").slice(0, 2).join(" ");
  const g = groups.get(key) ?? { key, ms: MODES.map(() => 0), weightBytes: 0 };
  MODES.forEach((_, k) => {
    g.ms[k] += best[k][i];
  });
  g.weightBytes += ranges[i]?.[1] ?? 0;
  groups.set(key, g);
});
const rows = [...groups.values()].sort((p, q) => q.ms[0] - p.ms[0]);
const totals = MODES.map((_, k) => rows.reduce((s, g) => s + g.ms[k], 0));
const weightBytes = rows.reduce((s, g) => s + g.weightBytes, 0);
const median = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];

console.log(`DenseNet-121 224², 1 thread, ${args.rounds} rounds; ms per image, sums of each step's best`);
console.log(`| steps | weights MB | ${MODES.join(" | ")} |`);
console.log(`|---|---|${MODES.map(() => "---|").join("")}`);
for (const g of [...rows, { key: "all", ms: totals, weightBytes }]) {
  console.log(`| ${g.key} | ${(g.weightBytes / 1e6).toFixed(2)} | ${g.ms.map((v) => v.toFixed(2)).join(" | ")} |`);
}
const pair = Object.fromEntries(Object.entries(pairTimes).map(([k, v]) => [k, median(v)]));
console.log(
  `two images, ms per image (median of rounds): one after the other ${pair["one after the other"].toFixed(2)}, ` +
    `each step for both ${pair["each step for both"].toFixed(2)} (${(pair["each step for both"] / pair["one after the other"]).toFixed(3)}x)`,
);
if (args.json) {
  const result = {
    date: new Date().toISOString(),
    rounds: args.rounds,
    modes: MODES,
    steps: rows.map((g) => ({ steps: g.key, weightBytes: g.weightBytes, ms: Object.fromEntries(MODES.map((m, k) => [m, g.ms[k]])) })),
    total: Object.fromEntries(MODES.map((m, k) => [m, totals[k]])),
    weightBytes,
    twoImages: pair,
  };
  writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
}
