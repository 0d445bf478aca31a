#!/usr/bin/env node
// GEMM kernel benchmark: the micro-kernels' peak (data in L1) and the conv GEMM replayed on
// DenseNet-121's real layer shapes (bench/densenet121_layers.tsv), for each kernel build and
// micro-kernel shape, in one run on one thread. Prints a table; --json writes
// bench/results/kernels.json. Each 3x3 stride-1 shape is also run as Winograd F(2x2, 3x3) and
// F(4x4, 3x3) (pad copy + conv, the steps the plan runs; GFLOP/s counted as the direct conv's),
// with the 4x8 and 4x8-shuffle micro-kernels; --winograd-only runs just those rows.
//
//   node bench/kernels.mjs [--runs 5] [--json] [--write-layers] [--winograd-only]
//
// --write-layers regenerates the layer list from the planned densenet121 graph (the
// executed shapes: transitions pool before their 1x1 conv).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { loadModel } from "../dist/model/load.js";
import { SeededRandom } from "../dist/model/random_weights.js";
import { inferSpatial } from "../dist/plan/shapes.js";
import { packGraph } from "../dist/plan/pack_weights.js";
import { planGraph } from "../dist/plan/plan.js";
import { scratchBytes } from "../dist/plan/scratch.js";
import { useWinograd } from "../dist/plan/winograd.js";
import { instantiateKernels } from "../dist/runtime/kernels.js";
import { LinearMemory } from "../dist/kernels/memory.js";
import { commandLine, integer, parseOptions } from "./lib/args.mjs";

const LAYERS = new URL("./densenet121_layers.tsv", import.meta.url);
const OPTIONS = {
  runs: { type: "string", default: "5" },
  json: { type: "boolean" },
  "write-layers": { type: "boolean" },
  "winograd-only": { type: "boolean" },
};
const { args, exit } = commandLine(
  (argv) => {
    const v = parseOptions(argv, OPTIONS);
    return { ...v, runs: integer("runs", v.runs) };
  },
  "usage: node bench/kernels.mjs [--runs 5] [--json] [--write-layers] [--winograd-only]",
  "kernels",
);
if (!args) process.exit(exit);
const runs = args.runs;

/** The conv shapes of the densenet121 graph at 224x224, before the Winograd pass (every conv as the GEMM runs it). */
async function writeLayers() {
  const model = await loadModel("densenet121");
  if (model.kind !== "planned") throw new Error("densenet121 did not load as a planned model");
  const graph = model.graph;
  const sizes = inferSpatial(graph, 224, 224);
  const rows = new Map();
  graph.ops.forEach((op) => {
    if (op.kind !== "conv") return;
    const out = sizes[op.output.buffer],
      inp = sizes[op.input.buffer];
    const key = [
      op.inChannels,
      op.outChannels,
      op.kernel[0],
      op.stride[0],
      op.pads[0],
      inp.height,
      inp.width,
      op.pre ? 1 : 0,
      op.relu ? 1 : 0,
    ].join("\t");
    const kind = op.name.replace(/\d+/g, "#");
    const row = rows.get(key) ?? { kind, count: 0, out };
    row.count++;
    rows.set(key, row);
  });
  const lines = ["# cin\tcout\tk\tstride\tpad\th\tw\tpre_bn_relu\trelu\tcount\tkind"];
  for (const [key, row] of rows) lines.push(`${key}\t${row.count}\t${row.kind}`);
  writeFileSync(LAYERS, `${lines.join("\n")}\n`);
  console.log(`wrote ${fileURLToPath(LAYERS)}: ${rows.size} shapes`);
}

function readLayers() {
  return readFileSync(LAYERS, "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const f = l.split("\t");
      const [cin, cout, k, stride, pad, h, w, pre, relu, count] = f.slice(0, 10).map(Number);
      return { cin, cout, k, stride, pad, h, w, pre: pre === 1, relu: relu === 1, count, kind: f[10] };
    });
}

async function compile(build) {
  const bytes = readFileSync(
    new URL(build === "relaxed-simd" ? "../build/kernels.relaxed.wasm" : "../build/kernels.wasm", import.meta.url),
  );
  if (build === "relaxed-simd" && !WebAssembly.validate(bytes))
    (await import("node:v8")).setFlagsFromString("--experimental-wasm-relaxed-simd");
  return WebAssembly.compile(bytes);
}

function timeBest(fn, reps) {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Micro-kernel peak: A, B, C resident in L1, kc = 256, GFLOP/s. */
function microPeak(kernels, mem, micro) {
  const mr = micro === "6x8" ? 6 : 4;
  const kc = 256;
  const a = mem.allocF32(new Float32Array(kc * mr).fill(0.5)),
    b = mem.allocF32(new Float32Array(kc * 8).fill(0.25));
  const c = mem.alloc(mr * 8 * 4),
    bias = mem.alloc(64);
  const kernel = { "4x8": kernels.gemm_f32_4x8, "4x8-shuffle": kernels.gemm_f32_4x8_shuffle, "6x8": kernels.gemm_f32_6x8 }[micro];
  const calls = 20000;
  const ms = timeBest(() => {
    for (let i = 0; i < calls; i++) kernel(a, b, c, 8, kc, bias, 1);
  }, runs);
  return (2 * mr * 8 * kc * calls) / (ms * 1e6);
}

/**
 * One conv of the list, planned alone with random weights (as Winograd with output tiles
 * `tile` if given: its pad copy and conv steps both timed); best-of-runs time and GFLOP/s.
 */
function layerRate(kernels, layer, micro, rng, tile) {
  const mem = new LinearMemory();
  const k = kernels.instantiate(mem.memory);
  const kk = layer.cin * layer.k * layer.k;
  const random = (n) => Float32Array.from({ length: n }, () => rng.normal());
  /** @type {import("../dist/plan/graph.js").ConvOp} */
  const op = {
    kind: "conv",
    name: "conv",
    input: { buffer: 0, channel: 0 },
    output: { buffer: 1, channel: 0 },
    inChannels: layer.cin,
    outChannels: layer.cout,
    kernel: [layer.k, layer.k],
    stride: [layer.stride, layer.stride],
    pads: [layer.pad, layer.pad, layer.pad, layer.pad],
    dilation: [1, 1],
    weight: random(layer.cout * kk),
    bias: random(layer.cout),
    pre: layer.pre ? { scale: random(layer.cin), shift: random(layer.cin), relu: true } : null,
    relu: layer.relu,
  };
  /** @type {import("../dist/plan/graph.js").Graph} */
  const graph = {
    buffers: [
      { name: "x", channels: layer.cin },
      { name: "y", channels: layer.cout },
    ],
    ops: [op],
    input: 0,
    output: 1,
  };
  const packed = packGraph(tile ? useWinograd(graph, tile) : graph, mem, micro);
  const plan = planGraph(packed, mem, layer.h, layer.w);
  const arena = mem.alloc(plan.arenaBytes),
    scratch = mem.alloc(scratchBytes(packed, k));
  mem.f32(arena + plan.inputOffset, plan.inputElements).set(random(plan.inputElements));
  const steps = plan.steps.map((step) => ({ run: k[step.kernel], desc: step.desc }));
  const reps = Math.max(1, Math.round(2e7 / (plan.macs + 1)));
  const ms =
    timeBest(() => {
      for (let i = 0; i < reps; i++) for (const step of steps) step.run(step.desc, arena, scratch, 0, 1);
    }, runs) / reps;
  return { ms, gflops: (2 * plan.macs) / (ms * 1e6), macs: plan.macs };
}

/** The 3x3 stride-1 pad-1 shapes as Winograd F(2x2) and F(4x4): ms per layer, and F(2x2) / F(4x4). */
function winogradRows(kernels, layers, micro, build) {
  const rows = layers
    .filter((l) => l.k === 3 && l.stride === 1 && l.pad === 1)
    .map((layer) => {
      const f2 = layerRate(kernels, layer, micro, new SeededRandom(11), "f2x2");
      const f4 = layerRate(kernels, layer, micro, new SeededRandom(11), "f4x4");
      return { ...layer, macs: f2.macs, f2x2_ms: f2.ms, f4x4_ms: f4.ms, f2x2_gflops: f2.gflops, f4x4_gflops: f4.gflops };
    });
  const total = (key) => rows.reduce((s, r) => s + r[key] * r.count, 0);
  console.log(
    `\n${build}, ${micro}: DenseNet-121's 3x3 convs as Winograd (pad + conv; direct-conv GFLOP/s): ` +
      `F(2x2) ${total("f2x2_ms").toFixed(1)} ms, F(4x4) ${total("f4x4_ms").toFixed(1)} ms per image (${(total("f2x2_ms") / total("f4x4_ms")).toFixed(2)}x)`,
  );
  console.log("  cin  cout    h x w   count  F(2x2) ms  GFLOP/s  F(4x4) ms  GFLOP/s  F2/F4");
  for (const r of rows) {
    console.log(
      `  ${String(r.cin).padStart(4)} ${String(r.cout).padStart(5)} ${String(r.h).padStart(4)}x${String(r.w).padEnd(4)} ${String(r.count).padStart(5)} ` +
        `${r.f2x2_ms.toFixed(3).padStart(10)} ${r.f2x2_gflops.toFixed(1).padStart(8)} ${r.f4x4_ms.toFixed(3).padStart(10)} ${r.f4x4_gflops.toFixed(1).padStart(8)}` +
        `  ${(r.f2x2_ms / r.f4x4_ms).toFixed(2).padStart(5)}`,
    );
  }
  return rows;
}

async function main() {
  if (args["write-layers"]) return writeLayers();
  const layers = readLayers();
  const results = { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, builds: [] };
  for (const build of ["simd", "relaxed-simd"]) {
    const module = await compile(build);
    const kernels = { instantiate: (memory) => instantiateKernels(module, memory) };
    const mem = new LinearMemory();
    const k = kernels.instantiate(mem.memory);
    for (const micro of ["4x8", "4x8-shuffle"])
      results.builds.push({ build, micro_kernel: micro, winograd: winogradRows(kernels, layers, micro, build) });
    if (args["winograd-only"]) continue;
    for (const micro of ["4x8", "4x8-shuffle", "6x8"]) {
      const peak = microPeak(k, mem, micro);
      const rng = new SeededRandom(7);
      const rows = layers.map((layer) => ({ ...layer, ...layerRate(kernels, layer, micro, rng) }));
      const totalMs = rows.reduce((s, r) => s + r.ms * r.count, 0);
      const totalMacs = rows.reduce((s, r) => s + r.macs * r.count, 0);
      const overall = (2 * totalMacs) / (totalMs * 1e6);
      results.builds.push({ build, micro_kernel: micro, peak_gflops: peak, overall_gflops: overall, conv_ms: totalMs, layers: rows });
      console.log(
        `\n${build}, ${micro} micro-kernel: peak ${peak.toFixed(1)} GFLOP/s (L1); DenseNet-121 convs ${overall.toFixed(1)} GFLOP/s ` +
          `(${((100 * overall) / peak).toFixed(0)}% of peak), ${totalMs.toFixed(1)} ms per image`,
      );
      console.log("  cin  cout  k s   h x w    count   ms/layer  GFLOP/s  kind");
      for (const r of rows) {
        console.log(
          `  ${String(r.cin).padStart(4)} ${String(r.cout).padStart(5)}  ${r.k} ${r.stride} ${String(r.h).padStart(4)}x${String(r.w).padEnd(4)} ` +
            `${String(r.count).padStart(5)} ${r.ms.toFixed(3).padStart(10)} ${r.gflops.toFixed(1).padStart(8)}  ${r.kind}`,
        );
      }
    }
  }
  if (args.json) {
    const dir = new URL("./results/", import.meta.url);
    mkdirSync(dir, { recursive: true });
    writeFileSync(new URL("kernels.json", dir), JSON.stringify(results, null, 1));
    console.log(`\nwrote bench/results/kernels.json`);
  }
}

await main();
