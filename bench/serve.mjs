#!/usr/bin/env node
// Load benchmark of `densenet serve` on loopback, bounded in time:
//
//   node bench/serve.mjs [--seconds 10] [--clients 1,4,16,64] [--models densenet121@224,default]
//                        [--threads T] [--max-batch 8] [--max-delay-ms 5] [--runtime node|deno]
//                        [--out bench/results/serve.json]
//
// For each model (NAME@SIZE: an architecture name or a file, at SIZE²; `default` is the
// embedded model at its preprocessing's crop size) it measures, in this one run:
//   - the offline baseline: Session.run throughput at batch 1 and at --max-batch, in this
//     process, with the server not running;
//   - the server (a child process: dist/cli.js serve --port 0 on 127.0.0.1) under C closed-loop
//     clients for each C: every client sends its own image as a JSON infer request, waits for
//     the answer and sends again. Throughput (images/s), latency p50/p95/p99, errors, the mean
//     batch the server ran (from /metrics), and the latency of /v2/health/live probed every
//     100 ms during the load.
// Writes the JSON and an SVG chart (same name, .svg) under bench/results/.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { availableParallelism, cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_MODEL_PATH, Session, preprocessingOf } from "../dist/index.js";
import { SeededRandom } from "../dist/model/random_weights.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const option = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const seconds = Number(option("seconds", "10"));
const clientCounts = option("clients", "1,4,16,64").split(",").map(Number);
const modelSpecs = option("models", "densenet121@224,default").split(",");
const threads = Number(option("threads", String(availableParallelism())));
const maxBatch = Number(option("max-batch", "8"));
const maxDelayMs = Number(option("max-delay-ms", "5"));
const runtime = option("runtime", "node");
const out = option("out", join(ROOT, "bench", "results", "serve.json"));
for (const [name, v] of Object.entries({ seconds, threads, maxBatch, maxDelayMs })) {
  if (!(Number.isFinite(v) && v >= 0)) throw new Error(`bad --${name}`);
}

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);

/** NAME@SIZE → { label, source, size }; `default` is the embedded model. */
async function resolveModel(spec) {
  if (spec === "default") {
    if (!existsSync(DEFAULT_MODEL_PATH)) throw new Error(`the embedded model ${DEFAULT_MODEL_PATH} is missing; pass --models NAME@SIZE`);
    const s = await Session.create(DEFAULT_MODEL_PATH, { threads: 1 });
    const size = preprocessingOf(s).crop;
    await s.release();
    return { label: "default", source: DEFAULT_MODEL_PATH, size };
  }
  const [source, size = "224"] = spec.split("@");
  return { label: spec, source, size: Number(size) };
}

/** Session.run throughput (images/s) at `batch` for about `seconds`, after one warm-up run. */
async function offline(session, channels, size, batch) {
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

function post(agent, port, path, body) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = request({ host: "127.0.0.1", port, path, method: body ? "POST" : "GET", agent,
      headers: body ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } : {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, ms: performance.now() - t0, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", (e) => resolve({ status: 0, ms: performance.now() - t0, text: e.message }));
    req.end(body);
  });
}

function startServer(model) {
  const cli = join(ROOT, "dist", "cli.js");
  const [cmd, pre] = runtime === "deno"
    ? [join(ROOT, "node_modules", ".bin", "deno"), ["run", "--allow-read", "--allow-env", "--allow-sys", "--allow-net=127.0.0.1", cli]]
    : [process.execPath, [cli]];
  const child = spawn(cmd, [...pre, "serve", "--model", `bench=${model.source}`, "--port", "0", "--threads", String(threads),
    "--max-batch", String(maxBatch), "--max-delay-ms", String(maxDelayMs), "--max-queue", "100000"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error("server not ready in 60 s")); }, 60000);
    child.stdout.on("data", (c) => {
      text += c;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
    });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}`)); });
  });
}

const metric = (text, name) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);

/** C closed-loop clients for `seconds` after a warm-up; returns throughput, latency and liveness. */
async function load(port, bodies, clients) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients + 2 });
  const path = "/v2/models/bench/infer";
  await Promise.all(Array.from({ length: clients }, (_, c) => post(agent, port, path, bodies[c % bodies.length])));
  const before = await post(agent, port, "/metrics");
  const latencies = [], live = [];
  let errors = 0, firstError = null, stop = false;
  const t0 = performance.now();
  const probe = (async () => {
    while (!stop) {
      live.push((await post(agent, port, "/v2/health/live")).ms);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    while (performance.now() - t0 < seconds * 1000) {
      const r = await post(agent, port, path, bodies[c % bodies.length]);
      if (r.status === 200) latencies.push(r.ms);
      else { errors++; firstError ??= `${r.status} ${r.text.slice(0, 200)}`; }
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  stop = true;
  await probe;
  const after = await post(agent, port, "/metrics");
  agent.destroy();
  const runs = metric(after.text, 'densenet_batch_size_count\\{model="bench"\\}') - metric(before.text, 'densenet_batch_size_count\\{model="bench"\\}');
  const images = metric(after.text, 'densenet_batch_size_sum\\{model="bench"\\}') - metric(before.text, 'densenet_batch_size_sum\\{model="bench"\\}');
  latencies.sort((a, b) => a - b);
  live.sort((a, b) => a - b);
  return {
    clients, seconds: elapsed, requests: latencies.length, errors, first_error: firstError,
    images_per_s: latencies.length / elapsed, p50_ms: quantile(latencies, 0.5), p95_ms: quantile(latencies, 0.95), p99_ms: quantile(latencies, 0.99),
    mean_batch: runs ? images / runs : null, live_p50_ms: quantile(live, 0.5), live_p99_ms: quantile(live, 0.99), live_max_ms: live.at(-1) ?? null,
  };
}

async function benchModel(spec) {
  const model = await resolveModel(spec);
  const session = await Session.create(model.source, { threads });
  const channels = session.inputChannels;
  const baseline = { batch_1: await offline(session, channels, model.size, 1), [`batch_${maxBatch}`]: await offline(session, channels, model.size, maxBatch) };
  await session.release();
  console.log(`${model.label}: offline ${baseline.batch_1.toFixed(1)} images/s at batch 1, ${baseline[`batch_${maxBatch}`].toFixed(1)} at batch ${maxBatch}`);
  const rng = new SeededRandom(7);
  const bodies = Array.from({ length: Math.min(64, Math.max(...clientCounts)) }, () => JSON.stringify({ inputs: [{
    name: "input", shape: [1, channels, model.size, model.size], datatype: "FP32",
    data: Array.from({ length: channels * model.size * model.size }, () => Math.fround(rng.normal())),
  }] }));
  const server = await startServer(model);
  const points = [];
  try {
    for (const clients of clientCounts) {
      const p = await load(server.port, bodies, clients);
      p.vs_offline_max_batch = p.images_per_s / baseline[`batch_${maxBatch}`];
      points.push(p);
      console.log(`  ${clients} clients: ${p.images_per_s.toFixed(1)} images/s (${(100 * p.vs_offline_max_batch).toFixed(0)} % of offline at batch ${maxBatch}), ` +
        `p50 ${p.p50_ms?.toFixed(0)} p95 ${p.p95_ms?.toFixed(0)} p99 ${p.p99_ms?.toFixed(0)} ms, mean batch ${p.mean_batch?.toFixed(2)}, ` +
        `live p99 ${p.live_p99_ms?.toFixed(1)} ms, ${p.errors} errors${p.first_error ? ` (${p.first_error})` : ""}`);
    }
  } finally {
    server.child.kill("SIGTERM");
    await new Promise((r) => server.child.once("exit", r));
  }
  return { model: model.label, size: model.size, offline_images_per_s: baseline, points };
}

function svg(result) {
  const W = 360, H = 240, pad = 44;
  const panels = result.models.map((m, k) => {
    const top = Math.max(...m.points.map((p) => p.images_per_s), ...Object.values(m.offline_images_per_s)) * 1.1 || 1;
    const x = (i) => pad + (i * (W - pad - 16)) / Math.max(1, m.points.length - 1);
    const y = (v) => H - pad - (v / top) * (H - 2 * pad);
    const line = m.points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.images_per_s).toFixed(1)}`).join(" ");
    const refs = Object.entries(m.offline_images_per_s).map(([name, v], j) => `<line x1="${pad}" x2="${W - 16}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${j ? "#c44" : "#888"}" stroke-dasharray="4 3"/>` +
      `<text x="${W - 18}" y="${(y(v) - 3).toFixed(1)}" text-anchor="end" font-size="10" fill="${j ? "#c44" : "#888"}">offline ${name.replace("_", " ")}</text>`);
    const ticks = m.points.map((p, i) => `<text x="${x(i).toFixed(1)}" y="${H - pad + 14}" text-anchor="middle" font-size="10">${p.clients}</text>`);
    return `<g transform="translate(${k * W},0)"><text x="${W / 2}" y="16" text-anchor="middle" font-size="12">${m.model} at ${m.size}², images/s vs clients</text>` +
      `<line x1="${pad}" y1="${H - pad}" x2="${W - 16}" y2="${H - pad}" stroke="#000"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#000"/>` +
      `<text x="${pad - 4}" y="${pad + 4}" text-anchor="end" font-size="10">${top.toFixed(0)}</text><text x="${pad - 4}" y="${H - pad}" text-anchor="end" font-size="10">0</text>` +
      `${refs.join("")}${ticks.join("")}<path d="${line}" fill="none" stroke="#26a" stroke-width="2"/>` +
      m.points.map((p, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(p.images_per_s).toFixed(1)}" r="3" fill="#26a"/>`).join("") + "</g>";
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H}" font-family="sans-serif">${panels.join("")}</svg>\n`;
}

const result = {
  date: new Date().toISOString(), runtime, node: process.version, cpu: cpus()[0]?.model, cores: availableParallelism(),
  memory_gb: +(totalmem() / 2 ** 30).toFixed(1), threads, max_batch: maxBatch, max_delay_ms: maxDelayMs, seconds_per_point: seconds,
  models: [],
};
for (const spec of modelSpecs) result.models.push(await benchModel(spec));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(out.replace(/\.json$/, ".svg"), svg(result));
console.log(`wrote ${out} and its .svg`);
