#!/usr/bin/env node
// A/B of engine settings on a whole model, in one run: each round runs `densenet bench` once
// per variant in a fresh child process, in rotating order, and the best round's median per
// variant is kept (this host's speed drifts within minutes; rotation spreads the drift).
//
//   node bench/variants.mjs [--model densenet121] [--threads 1] [--batch 1] [--rounds 5] [--runs 10]
//        [--variant NAME=ENV=VALUE[,ENV=VALUE]]... [--variant NAME=--flag=value]...
//        [--json bench/results/variants.json]
//
// A variant sets environment variables (e.g. DENSENET_WINOGRAD=auto), `densenet bench` flags
// (e.g. --schedule=static) and/or another build's CLI (cli:/path/to/dist/bin/cli.js, e.g. an older
// commit's). Default variants: DENSENET_WINOGRAD f2x2, auto and f4x4.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { commandLine, integer, parseOptions } from "./lib/args.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const USAGE = `usage: node bench/variants.mjs [--model densenet121] [--threads 1] [--batch 1] [--rounds 5] [--runs 10]
       [--variant NAME=ENV=VALUE[,ENV=VALUE]]... [--variant NAME=--flag=value]... [--json bench/results/variants.json]`;
const { args: o, exit } = commandLine(
  (argv) => {
    const v = parseOptions(argv, {
      model: { type: "string", default: "densenet121" },
      threads: { type: "string", default: "1" },
      batch: { type: "string", default: "1" },
      rounds: { type: "string", default: "5" },
      runs: { type: "string", default: "10" },
      variant: { type: "string", multiple: true, default: [] },
      json: { type: "string" },
    });
    for (const name of ["threads", "batch", "rounds", "runs"]) integer(name, v[name]);
    return v;
  },
  USAGE,
  "variants",
);
if (!o) process.exit(exit);
const specs = o.variant.length ? o.variant : ["f2x2=DENSENET_WINOGRAD=f2x2", "auto=DENSENET_WINOGRAD=auto", "f4x4=DENSENET_WINOGRAD=f4x4"];
const variants = specs.map((spec) => {
  const [name, ...rest] = spec.split("=");
  const settings = rest.join("=").split(",").filter(Boolean);
  const env = {},
    flags = [];
  let cli = join(ROOT, "dist", "bin", "cli.js");
  for (const s of settings) {
    if (s.startsWith("--")) flags.push(...s.split("="));
    else if (s.startsWith("cli:")) cli = s.slice(4);
    else {
      const [k, ...v] = s.split("=");
      env[k] = v.join("=");
    }
  }
  return { name, env, flags, cli, medians: [] };
});
const rounds = Number(o.rounds);
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < variants.length; k++) {
    const v = variants[(k + r) % variants.length];
    const args = [
      join(ROOT, "dist", "bin", "cli.js"),
      "bench",
      "--model",
      o.model,
      "--threads",
      o.threads,
      "--batch",
      o.batch,
      "--runs",
      o.runs,
      "--json",
      ...v.flags,
    ];
    const p = spawnSync(process.execPath, args, { env: { ...process.env, ...v.env }, encoding: "utf8" });
    if (p.status !== 0) throw new Error(`${v.name}: ${p.stderr.trim().split("\n").at(-1)}`);
    v.medians.push(JSON.parse(p.stdout.trim().split("\n").at(-1)).ms_per_image);
  }
}
const base = Math.min(...variants[0].medians);
const result = {
  date: new Date().toISOString(),
  model: o.model,
  threads: Number(o.threads),
  batch: Number(o.batch),
  rounds,
  runs_per_round: Number(o.runs),
  variants: variants.map((v) => ({
    name: v.name,
    env: v.env,
    flags: v.flags,
    best_ms_per_image: Math.min(...v.medians),
    round_medians_ms: v.medians,
    vs_first: Math.min(...v.medians) / base,
  })),
};
for (const v of result.variants)
  console.log(
    `${v.name.padEnd(12)} ${v.best_ms_per_image.toFixed(1)} ms/image (best of ${rounds} rounds' medians), ${v.vs_first.toFixed(3)}x ${variants[0].name}`,
  );
if (o.json) {
  mkdirSync(dirname(o.json), { recursive: true });
  writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
}
