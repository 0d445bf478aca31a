#!/usr/bin/env node
// Load benchmark of `densenet serve` on loopback, bounded in time:
//
//   node bench/serve.mjs [--seconds 5] [--rounds 3] [--offline-seconds S] [--clients 1,4,16,64] [--models densenet121@224,default]
//                        [--threads T] [--max-batch 8] [--max-delay-ms 5] [--runtime node|deno]
//                        [--formats json,binary] [--client raw|node] [--out bench/results/serve.json]
//
// For each model (NAME@SIZE: an architecture name or a file, at SIZE²; `default` is the
// embedded model at its preprocessing's crop size) it measures, in this one run:
//   - the offline baseline: Session.run throughput at batch 1 and at --max-batch, in this
//     process, with the server not running;
//   - the server (a child process: dist/bin/cli.js serve --port 0 on 127.0.0.1) under C closed-loop
//     clients for each C and each request format: every client sends its own image as an infer
//     request (JSON, or the binary tensor data extension tritonclient uses: a JSON header and
//     raw float32 bytes, binary logits back), waits for the answer and sends again, over its own
//     keep-alive connection (--client raw: bench/lib/raw_client.mjs, a minimal HTTP/1.1 client,
//     so that the load generator takes as little as it can of the cores it shares with the
//     server; --client node: Node's http client). Throughput (images/s), latency p50/p95/p99, errors, the mean
//     batch the server ran (from /metrics), and the latency of /v2/health/live probed every
//     100 ms during the load. Each point is --rounds rounds of --seconds of load; before
//     each round and after the last the clients pause while this process measures the
//     offline rate at --max-batch (--offline-seconds), and a round's ratio is its throughput
//     over the mean of the offline rates just before and after it; the point's ratio is the
//     median round's (this host's speed drifts by 20-30 % within minutes).
// Writes the JSON and an SVG chart (same name, .svg) under bench/results/.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { availableParallelism, cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_MODEL_PATH, Session } from "../dist/index.js";
import { SeededRandom } from "../dist/model/random_weights.js";
import { choice, choices, commandLine, csv, integer, integers, parseOptions, positive } from "./lib/args.mjs";
import { RawConnection, postBytes } from "./lib/raw_client.mjs";
import { embeddedModelInput, inferBody, send, startServe } from "./lib/serve_client.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const USAGE = `usage: node bench/serve.mjs [--seconds 5] [--rounds 3] [--offline-seconds S] [--clients 1,4,16,64]
       [--models densenet121@224,default] [--threads T] [--max-batch 8] [--max-delay-ms 5] [--runtime node|deno]
       [--formats json,binary] [--client raw|node] [--out bench/results/serve.json]`;
const OPTIONS = {
  seconds: { type: "string", default: "5" },
  rounds: { type: "string", default: "3" },
  "offline-seconds": { type: "string" },
  clients: { type: "string", default: "1,4,16,64" },
  models: { type: "string", default: "densenet121@224,default" },
  threads: { type: "string", default: String(availableParallelism()) },
  "max-batch": { type: "string", default: "8" },
  "max-delay-ms": { type: "string", default: "5" },
  runtime: { type: "string", default: "node" },
  formats: { type: "string", default: "json,binary" },
  client: { type: "string", default: "raw" },
  out: { type: "string", default: join(ROOT, "bench", "results", "serve.json") },
};
const { args, exit } = commandLine(
  (argv) => {
    const v = parseOptions(argv, OPTIONS);
    const seconds = positive("seconds", v.seconds);
    return {
      help: v.help,
      seconds,
      rounds: integer("rounds", v.rounds),
      offlineSeconds: v["offline-seconds"] === undefined ? seconds : positive("offline-seconds", v["offline-seconds"]),
      clientCounts: integers("clients", v.clients),
      modelSpecs: csv(v.models),
      threads: integer("threads", v.threads),
      maxBatch: integer("max-batch", v["max-batch"]),
      maxDelayMs: positive("max-delay-ms", v["max-delay-ms"], { allowZero: true }),
      runtime: choice("runtime", v.runtime, ["node", "deno"]),
      formats: choices("formats", v.formats, ["json", "binary"]),
      client: choice("client", v.client, ["raw", "node"]),
      out: v.out,
    };
  },
  USAGE,
  "serve",
);
if (!args) process.exit(exit);
const { seconds, rounds, offlineSeconds, clientCounts, modelSpecs, threads, maxBatch, maxDelayMs, runtime, formats, client, out } = args;

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);

/** NAME@SIZE → { label, source, size }; `default` is the embedded model. */
async function resolveModel(spec) {
  if (spec === "default") {
    if (!existsSync(DEFAULT_MODEL_PATH)) throw new Error(`the embedded model ${DEFAULT_MODEL_PATH} is missing; pass --models NAME@SIZE`);
    const { height, width } = await embeddedModelInput();
    if (height !== width) throw new Error(`the embedded model's crop is ${height}x${width}; this benchmark runs square images`);
    return { label: "default", source: DEFAULT_MODEL_PATH, size: height };
  }
  const [source, size = "224"] = spec.split("@");
  return { label: spec, source, size: Number(size) };
}

/** Session.run throughput (images/s) at `batch` for about `seconds`, after one warm-up run. */
async function offline(session, channels, size, batch, seconds) {
  const rng = new SeededRandom(99);
  const input = { data: new Float32Array(batch * channels * size * size).map(() => rng.normal()), dims: [batch, channels, size, size] };
  await session.run(input);
  let runs = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || runs < 2) {
    await session.run(input);
    runs++;
  }
  return (runs * batch * 1000) / (performance.now() - t0);
}

/** The server for `model` on this run's settings, as a child process. */
function startServer(model) {
  const args = ["--model", `bench=${model.source}`, "--threads", String(threads), "--max-batch", String(maxBatch)];
  return startServe([...args, "--max-delay-ms", String(maxDelayMs), "--max-queue", "100000"], runtime);
}

const metric = (text, name) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);

/** The bench model's batch and run-time totals from /metrics. */
async function runTotals(agent, port) {
  const text = (await send(agent, port, "/metrics")).text;
  return {
    runs: metric(text, 'densenet_batch_size_count\\{model="bench"\\}'),
    images: metric(text, 'densenet_batch_size_sum\\{model="bench"\\}'),
    runSeconds: metric(text, 'densenet_run_duration_seconds_sum\\{model="bench"\\}'),
  };
}

/**
 * One infer sender per client: client c sends bodies[c % bodies.length], over a RawConnection
 * of its own (--client raw; the sender has a close()) or through the keep-alive agent.
 * @returns {Array<(() => Promise<{ status: number, ms: number, text: string }>) & { close?: () => void }>}
 */
function clientSenders(agent, port, path, bodies, clients) {
  return Array.from({ length: clients }, (_, c) => {
    const body = bodies[c % bodies.length];
    if (client === "node") return () => send(agent, port, path, body);
    const connection = new RawConnection(port);
    const bytes = postBytes(path, body);
    return Object.assign(() => connection.send(bytes), { close: () => connection.close() });
  });
}

/**
 * C closed-loop clients, after a warm-up, for `rounds` rounds of `seconds` each; between
 * rounds (and before the first and after the last) the clients pause and `offlineRate()`
 * measures the offline baseline, so each round is compared with the baseline measured just
 * before and just after it. Returns throughput, latency, liveness and the per-round ratios.
 */
async function load(port, bodies, clients, format, offlineRate) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients + 2 });
  const path = "/v2/models/bench/infer";
  const infer = clientSenders(agent, port, path, bodies, clients);
  await Promise.all(infer.map((sendOne) => sendOne()));
  const latencies = [],
    live = [],
    offline = [await offlineRate()],
    perRound = [];
  let errors = 0,
    firstError = null;
  for (let round = 0; round < rounds; round++) {
    const before = await runTotals(agent, port);
    let stop = false,
      requests = 0;
    const t0 = performance.now();
    const probe = (async () => {
      while (!stop) {
        live.push((await send(agent, port, "/v2/health/live")).ms);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        while (performance.now() - t0 < seconds * 1000) {
          const r = await infer[c]();
          if (r.status === 200) {
            latencies.push(r.ms);
            requests++;
          } else {
            errors++;
            firstError ??= `${r.status} ${r.text.slice(0, 200)}`;
          }
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    stop = true;
    await probe;
    const after = await runTotals(agent, port);
    offline.push(await offlineRate());
    const rate = requests / elapsed;
    perRound.push({
      seconds: elapsed,
      requests,
      images_per_s: rate,
      offline_images_per_s: (offline[round] + offline[round + 1]) / 2,
      vs_offline: rate / ((offline[round] + offline[round + 1]) / 2),
      runs: after.runs - before.runs,
      images: after.images - before.images,
      run_seconds: after.runSeconds - before.runSeconds,
    });
  }
  agent.destroy();
  for (const sendOne of infer) sendOne.close?.();
  latencies.sort((a, b) => a - b);
  live.sort((a, b) => a - b);
  const sum = (key) => perRound.reduce((t, r) => t + r[key], 0);
  const ratios = perRound.map((r) => r.vs_offline).sort((a, b) => a - b);
  return {
    format,
    clients,
    seconds: sum("seconds"),
    requests: sum("requests"),
    errors,
    first_error: firstError,
    images_per_s: sum("requests") / sum("seconds"),
    p50_ms: quantile(latencies, 0.5),
    p95_ms: quantile(latencies, 0.95),
    p99_ms: quantile(latencies, 0.99),
    mean_batch: sum("runs") ? sum("images") / sum("runs") : null,
    run_busy: sum("run_seconds") / sum("seconds"),
    live_p50_ms: quantile(live, 0.5),
    live_p99_ms: quantile(live, 0.99),
    live_max_ms: live.at(-1) ?? null,
    offline_max_batch_images_per_s: offline.reduce((t, v) => t + v, 0) / offline.length,
    vs_offline_max_batch: ratios[(ratios.length - 1) >> 1],
    rounds: perRound,
  };
}

async function benchModel(spec) {
  const model = await resolveModel(spec);
  const session = await Session.create(model.source, { threads });
  const channels = session.inputChannels;
  const baseline = {
    batch_1: await offline(session, channels, model.size, 1, seconds),
    [`batch_${maxBatch}`]: await offline(session, channels, model.size, maxBatch, seconds),
  };
  console.log(
    `${model.label}: offline ${baseline.batch_1.toFixed(1)} images/s at batch 1, ${baseline[`batch_${maxBatch}`].toFixed(1)} at batch ${maxBatch}`,
  );
  const rng = new SeededRandom(7);
  const dims = [1, channels, model.size, model.size];
  const images = Array.from({ length: Math.min(64, Math.max(...clientCounts)) }, () =>
    new Float32Array(channels * model.size * model.size).map(() => rng.normal()),
  );
  const server = await startServer(model);
  const points = [];
  try {
    for (const format of formats) {
      const bodies = images.map((image) => inferBody(format, image, dims));
      for (const clients of clientCounts) {
        // This host's speed drifts by 20-30 % within minutes: each round of load is compared
        // with the offline rate measured just before and just after it, in the same process;
        // the point's ratio is the median round's.
        const p = await load(server.port, bodies, clients, format, () => offline(session, channels, model.size, maxBatch, offlineSeconds));
        points.push(p);
        console.log(
          `  ${format}, ${clients} clients: ${p.images_per_s.toFixed(1)} images/s (${(100 * p.vs_offline_max_batch).toFixed(0)} % of offline at batch ${maxBatch}: ${p.offline_max_batch_images_per_s.toFixed(1)}), ` +
            `p50 ${p.p50_ms?.toFixed(0)} p95 ${p.p95_ms?.toFixed(0)} p99 ${p.p99_ms?.toFixed(0)} ms, mean batch ${p.mean_batch?.toFixed(2)}, pool busy ${(100 * p.run_busy).toFixed(0)} %, ` +
            `live p99 ${p.live_p99_ms?.toFixed(1)} ms, ${p.errors} errors${p.first_error ? ` (${p.first_error})` : ""}`,
        );
      }
    }
  } finally {
    server.child.kill("SIGTERM");
    await new Promise((r) => server.child.once("exit", r));
    await session.release();
  }
  return { model: model.label, size: model.size, offline_images_per_s: baseline, points };
}

function svg(result) {
  const W = 380,
    H = 250,
    pad = 44;
  const colours = { json: "#26a", binary: "#2a6" };
  const panels = result.models.map((m, k) => {
    const top = Math.max(...m.points.map((p) => p.images_per_s), ...Object.values(m.offline_images_per_s)) * 1.1 || 1;
    const counts = [...new Set(m.points.map((p) => p.clients))];
    const x = (c) => pad + (counts.indexOf(c) * (W - pad - 16)) / Math.max(1, counts.length - 1);
    const y = (v) => H - pad - (v / top) * (H - 2 * pad);
    const series = Object.entries(colours).map(([format, colour], f) => {
      const pts = m.points.filter((p) => p.format === format);
      if (pts.length === 0) return "";
      const line = pts.map((p, i) => `${i ? "L" : "M"}${x(p.clients).toFixed(1)},${y(p.images_per_s).toFixed(1)}`).join(" ");
      return (
        `<path d="${line}" fill="none" stroke="${colour}" stroke-width="2"/>` +
        pts.map((p) => `<circle cx="${x(p.clients).toFixed(1)}" cy="${y(p.images_per_s).toFixed(1)}" r="3" fill="${colour}"/>`).join("") +
        `<text x="${pad + 6}" y="${pad + 12 * f}" font-size="10" fill="${colour}">server, ${format} requests</text>`
      );
    });
    const refs = Object.entries(m.offline_images_per_s).map(
      ([name, v], j) =>
        `<line x1="${pad}" x2="${W - 16}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${j ? "#c44" : "#888"}" stroke-dasharray="4 3"/>` +
        `<text x="${W - 18}" y="${(y(v) - 3).toFixed(1)}" text-anchor="end" font-size="10" fill="${j ? "#c44" : "#888"}">offline ${name.replace("_", " ")}</text>`,
    );
    const ticks = counts.map((c) => `<text x="${x(c).toFixed(1)}" y="${H - pad + 14}" text-anchor="middle" font-size="10">${c}</text>`);
    return (
      `<g transform="translate(${k * W},0)"><text x="${W / 2}" y="16" text-anchor="middle" font-size="12">${m.model} at ${m.size}²: images/s by concurrent clients</text>` +
      `<line x1="${pad}" y1="${H - pad}" x2="${W - 16}" y2="${H - pad}" stroke="#000"/><line x1="${pad}" y1="${pad - 14}" x2="${pad}" y2="${H - pad}" stroke="#000"/>` +
      `<text x="${pad - 4}" y="${y(top / 1.1) + 4}" text-anchor="end" font-size="10">${(top / 1.1).toFixed(0)}</text><text x="${pad - 4}" y="${H - pad}" text-anchor="end" font-size="10">0</text>` +
      `<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="10">clients</text>${refs.join("")}${ticks.join("")}${series.join("")}</g>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H}" font-family="sans-serif">${panels.join("")}</svg>\n`;
}

const result = {
  date: new Date().toISOString(),
  runtime,
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: availableParallelism(),
  memory_gb: +(totalmem() / 2 ** 30).toFixed(1),
  threads,
  max_batch: maxBatch,
  max_delay_ms: maxDelayMs,
  seconds_per_round: seconds,
  rounds_per_point: rounds,
  offline_seconds: offlineSeconds,
  formats,
  client,
  models: [],
};
for (const spec of modelSpecs) result.models.push(await benchModel(spec));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(out.replace(/\.json$/, ".svg"), svg(result));
console.log(`wrote ${out} and its .svg`);
