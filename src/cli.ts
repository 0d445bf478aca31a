#!/usr/bin/env node
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DenseNetError } from "./errors.js";
import { denoPermission, describeFsError } from "./io/file.js";
import { formatNpy } from "./io/npy.js";
import { describeConfig } from "./model/config.js";
import { SeededRandom } from "./model/random_weights.js";
import { MAX_BATCH, MAX_SIDE, MAX_THREADS, Session, defaultThreads } from "./session.js";
import type { AnyTensor } from "./tensor.js";
import { type FlagValues, integerOf, readTensorOrImage, writeOutputFile } from "./cli/common.js";

/** Commands with flags of their own, loaded only when run (their dependencies cost the others nothing). */
const OWN_COMMANDS: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
  classify: async () => (await import("./cli/images.js")).classifyCommand,
  preprocess: async () => (await import("./cli/images.js")).preprocessCommand,
  embed: async () => (await import("./cli/images.js")).embedCommand,
  serve: async () => (await import("./cli/serve.js")).serveMain,
  worker: async () => (await import("./cli/worker.js")).workerCommand,
};

const USAGE = `densenet: DenseNet inference on WebAssembly SIMD

usage:
  densenet classify [--model M] [--top K] [--labels FILE] [--threads N] [--json] [IMAGE...]
                 (no --model: the embedded Fashion-MNIST DenseNet; no images: its bundled samples)
  densenet preprocess --input IMAGE --output x.npy [--model M] [--resize 256] [--crop 224]
                 [--mean a,b,c] [--std a,b,c] [--mode RGB|L]
  densenet embed --model M --input IMAGE|x.npy --output f.npy [--threads N]
  densenet run   --model <file.safetensors|file.onnx|densenet121> --input <x.npy> --output <y.npy> [--threads N]
  densenet run   --model <file.onnx> --input NAME=<x.npy> [--input NAME=<x.npy> ...] --outdir <dir>
  densenet serve [--model [NAME=]PATH]... [--host 127.0.0.1] [--port 8080] [--threads N] [--max-batch 8]
                 [--max-delay-ms 5] [--max-queue 1024] [--timeout-ms 30000] [--max-body-mb 64] [--max-sizes 16]
                 [--max-memory-mb 2048] (Open Inference Protocol v2 over HTTP: /v2/models/NAME/infer, /classify, /metrics)
  densenet worker --redis redis://HOST:PORT [--queue densenet] [--model [NAME=]PATH]... [--concurrency 2]
                 [--threads N] [--lock-duration 30000] [--stalled-interval 30000] [--name NAME]
                 (BullMQ jobs: data = the /v2/models/NAME/infer body plus "model": NAME; value = the response)
  densenet info  --model <file.safetensors|file.onnx|densenet121> [--size S] [--json]
  densenet bench --model <file.safetensors|file.onnx|densenet121> [--batch B] [--threads T] [--size S]
                 [--runs R] [--warmup W] [--json] [--profile] [--schedule dynamic|static]

  --model    a torchvision-named .safetensors or torch.save .pth file (architecture inferred
             from the tensor shapes), an .onnx file, or densenet121/169/201/161 with seeded
             random weights
  --input    float32 C-order .npy of shape (N, C, H, W), or an image (JPEG, PNG) preprocessed as
             the model's metadata says (else ImageNet's); --output gets (N, classes).
             NAME=file.npy feeds a named graph input (repeatable)
  --outdir   writes DIR/<output name>.npy for every output
  --profile  (bench) times every step of the plan on one thread: shape, ms, GFLOP/s
  --threads  threads (default: all available cores; 1 runs on the calling thread, no pool)
  --seed     seed of the random weights of an architecture name (default 0)
  --schedule how pool workers split each step: dynamic (claimed chunks, the default) or static`;

const OPTIONS = {
  model: { type: "string" },
  input: { type: "string", multiple: true },
  output: { type: "string" },
  outdir: { type: "string" },
  threads: { type: "string" },
  batch: { type: "string" },
  size: { type: "string" },
  runs: { type: "string" },
  warmup: { type: "string" },
  seed: { type: "string" },
  schedule: { type: "string" },
  json: { type: "boolean" },
  profile: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type Flags = FlagValues<typeof OPTIONS>;

const integer = integerOf<Flags>;

/**
 * parseArgs takes "--seed -1" for a flag missing its value; for a flag that takes a value,
 * a following token that looks like a negative number is joined to it ("--seed=-1"), so the
 * range check can say what is wrong with it.
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([a-z]+)$/.exec(argv[i])?.[1];
    const option = name !== undefined && Object.hasOwn(OPTIONS, name) ? OPTIONS[name as keyof typeof OPTIONS] : undefined;
    if (option?.type === "string" && /^-[0-9.]/.test(argv[i + 1] ?? "")) {
      out.push(`${argv[i]}=${argv[i + 1]}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

function required(flags: Flags, name: "model"): string {
  const value = flags[name];
  if (!value) throw new DenseNetError(`--${name} is required (see densenet --help)`);
  return value;
}

async function openSession(flags: Flags): Promise<Session> {
  return Session.create(required(flags, "model"), {
    threads: integer(flags, "threads", defaultThreads(), 1, MAX_THREADS),
    seed: integer(flags, "seed", 0, 0, 2 ** 31 - 1),
    schedule: flags.schedule as "static" | "dynamic" | undefined, // checked by Session.create
  });
}

/** --input x.npy (the model's only input) or --input NAME=x.npy, repeatable. */
async function readFeeds(flags: Flags, session: Session): Promise<Record<string, AnyTensor>> {
  const specs = flags.input ?? [];
  if (specs.length === 0) throw new DenseNetError("--input is required (see densenet --help)");
  const feeds: Record<string, AnyTensor> = Object.create(null); // names such as __proto__ are plain keys
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    const named = eq > 0 && session.inputNames.includes(spec.slice(0, eq));
    if (!named && specs.length > 1)
      throw new DenseNetError(
        `--input '${spec}' must be NAME=file.npy when several inputs are given; the model's inputs are [${session.inputNames.join(", ")}]`,
      );
    if (!named && session.inputNames.length !== 1)
      throw new DenseNetError(`the model has inputs [${session.inputNames.join(", ")}]: give each as --input NAME=file.npy`);
    const name = named ? spec.slice(0, eq) : session.inputNames[0];
    if (name in feeds) throw new DenseNetError(`input '${name}' is given twice`);
    feeds[name] = await readTensorOrImage(named ? spec.slice(eq + 1) : spec, session);
  }
  return feeds;
}

/** A file name for an output name: anything but letters, digits, '.', '_' and '-' becomes '_'. */
function outputFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]/g, "_") || "output"}.npy`;
}

async function runCommand(flags: Flags): Promise<void> {
  if (!flags.output && !flags.outdir)
    throw new DenseNetError("--output (one output) or --outdir (every output) is required (see densenet --help)");
  const session = await openSession(flags);
  const feeds = await readFeeds(flags, session);
  const t0 = performance.now();
  const outputs = await session.runNamed(feeds);
  const ms = performance.now() - t0;
  await session.release();
  const written: string[] = [];
  if (flags.outdir) {
    try {
      await mkdir(flags.outdir, { recursive: true });
    } catch (e) {
      throw new DenseNetError(`cannot create output directory '${flags.outdir}': ${describeFsError(e)}`);
    }
    for (const [name, tensor] of Object.entries(outputs)) {
      const path = join(flags.outdir, outputFileName(name));
      await writeOutputFile(path, formatNpy(tensor));
      written.push(`${path} [${tensor.dims.join(", ")}]`);
    }
  }
  if (flags.output) {
    const names = Object.keys(outputs);
    if (names.length !== 1) throw new DenseNetError(`the model has outputs [${names.join(", ")}]: use --outdir to write them all`);
    await writeOutputFile(flags.output, formatNpy(outputs[names[0]]));
    written.push(`${flags.output} [${outputs[names[0]].dims.join(", ")}]`);
  }
  console.error(`ran in ${ms.toFixed(1)} ms; wrote ${written.join(", ")}`);
}

async function infoCommand(flags: Flags): Promise<void> {
  const size = integer(flags, "size", 224, 1, MAX_SIDE);
  const session = await openSession(flags);
  const { name, config, parameters, randomWeights, weightBytes, execution, kernels, notPlanned } = session.info;
  const plan = execution === "planned" ? session.plan(size, size) : null;
  const report = {
    model: name,
    execution,
    not_planned: notPlanned,
    kernels,
    random_weights: randomWeights,
    config: config ? describeConfig(config) : null,
    growth_rate: config?.growthRate,
    block_config: config?.blockConfig,
    num_init_features: config?.numInitFeatures,
    bn_size: config?.bnSize,
    num_classes: config?.numClasses,
    in_channels: config?.inChannels,
    inputs: session.inputNames,
    outputs: session.outputNames,
    parameters,
    size,
    macs: plan?.nominalMacs,
    executed_macs: plan?.macs,
    peak_activation_bytes: plan?.arenaBytes,
    packed_weight_bytes: weightBytes,
  };
  await session.release();
  if (flags.json) {
    console.log(JSON.stringify(report));
    return;
  }
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  const lines = [
    `model:        ${name}${randomWeights ? " (seeded random weights)" : ""}`,
    `config:       ${report.config ?? `a general graph, ${execution}`}`,
    `kernels:      ${kernels ?? `none: interpreted, since ${notPlanned}`}`,
    `inputs:       ${session.inputNames.join(", ")}; outputs: ${session.outputNames.join(", ")}`,
    `parameters:   ${parameters.toLocaleString("en-US")}`,
  ];
  if (plan) {
    lines.push(
      `MACs @ ${size}²:  ${(plan.nominalMacs / 1e9).toFixed(3)} G as the model defines them; ` +
        `${(plan.macs / 1e9).toFixed(3)} G in the plan (transitions pool before their conv; Winograd convs counted as direct)`,
      `peak activation memory, batch 1 @ ${size}²: ${mib(plan.arenaBytes)} (${plan.arenaBytes.toLocaleString("en-US")} bytes)`,
      `packed weights: ${mib(weightBytes)}`,
    );
  }
  console.log(lines.join("\n"));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function benchCommand(flags: Flags): Promise<void> {
  const batch = integer(flags, "batch", 1, 1, MAX_BATCH),
    size = integer(flags, "size", 224, 1, MAX_SIDE);
  const runs = integer(flags, "runs", 10, 1, 100000),
    warmup = integer(flags, "warmup", 2, 0, 100000);
  const session = await openSession(flags);
  if (session.info.execution !== "planned")
    throw new DenseNetError(`bench needs an image model that runs on the planned kernels; '${session.info.name}' is interpreted`);
  if (flags.profile) return profileCommand(session, size, runs, flags.json ?? false);
  const c = session.inputChannels;
  const rng = new SeededRandom(1234);
  const data = new Float32Array(batch * c * size * size).map(() => rng.normal());
  const input = { data, dims: [batch, c, size, size] };
  for (let i = 0; i < warmup; i++) await session.run(input);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(input);
    times.push(performance.now() - t0);
  }
  const macs = session.plan(size, size).nominalMacs;
  const med = median(times),
    min = Math.min(...times);
  const result = {
    model: session.info.name,
    kernels: session.info.kernels,
    batch,
    threads: session.threads,
    size,
    runs,
    warmup,
    median_ms: med,
    min_ms: min,
    ms_per_image: med / batch,
    images_per_s: (1000 * batch) / med,
    gflops: (2 * macs * batch) / (med * 1e6),
  };
  await session.release();
  if (flags.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(
    `${result.model} batch ${batch} @ ${size}², ${session.threads} thread(s), ${result.kernels} kernels, ${runs} runs after ${warmup} warm-up:`,
  );
  console.log(
    `  median ${med.toFixed(2)} ms/batch, min ${min.toFixed(2)} ms; ${result.images_per_s.toFixed(2)} images/s, ` +
      `${result.gflops.toFixed(1)} GFLOP/s (the model's ${((2 * macs) / 1e9).toFixed(2)} GFLOP per image)`,
  );
}

async function profileCommand(session: Session, size: number, runs: number, json: boolean): Promise<void> {
  const steps = await session.profile(size, size, runs);
  await session.release();
  const total = steps.reduce((s, x) => s + x.ms, 0);
  if (json) {
    console.log(JSON.stringify({ model: session.info.name, kernels: session.info.kernels, size, total_ms: total, steps }));
    return;
  }
  console.log(`${session.info.name} @ ${size}², 1 thread, ${session.info.kernels} kernels, best of ${runs} runs per step:`);
  console.log(`${"step".padEnd(44)} ${"op".padEnd(58)} ${"ms".padStart(8)} ${"GFLOP/s".padStart(8)}`);
  for (const s of steps) {
    const rate = s.macs > 0 ? ((2 * s.macs) / (s.ms * 1e6)).toFixed(1) : "";
    console.log(`${s.name.padEnd(44)} ${s.shape.padEnd(58)} ${s.ms.toFixed(3).padStart(8)} ${rate.padStart(8)}`);
  }
  console.log(`total ${total.toFixed(2)} ms over ${steps.length} steps`);
}

const COMMANDS: Record<string, (flags: Flags) => Promise<void>> = { run: runCommand, info: infoCommand, bench: benchCommand };

async function main(argv: string[]): Promise<number> {
  const own = OWN_COMMANDS[argv[0]];
  if (own && !argv.slice(1).some((a) => a === "--help" || a === "-h")) return (await own())(argv.slice(1));
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new DenseNetError(`${(e as Error).message.split("\n")[0]} (see densenet --help)`);
  }
  const [command, ...extra] = parsed.positionals;
  const flags = parsed.values as Flags;
  if (flags.help || command === undefined || command === "help") {
    console.log(USAGE);
    return command === undefined && !flags.help ? 1 : 0;
  }
  const handler = COMMANDS[command];
  if (!handler)
    throw new DenseNetError(
      `unknown command '${command}': expected ${[...Object.keys(OWN_COMMANDS), ...Object.keys(COMMANDS)].join(", ")}`,
    );
  if (extra.length > 0) throw new DenseNetError(`unexpected argument '${extra[0]}'`);
  await handler(flags);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const denied = denoPermission(e);
    if (e instanceof DenseNetError || denied) {
      console.error(`densenet: ${denied ?? (e as DenseNetError).message}`);
      process.exitCode = 1;
    } else {
      console.error(`densenet: internal error: ${e instanceof Error ? e.message : String(e)}`);
      if (process.env.DENSENET_DEBUG) console.error(e);
      process.exitCode = 2;
    }
  },
);
