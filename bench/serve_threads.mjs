#!/usr/bin/env node
// Where the CPU goes while C closed-loop clients load `densenet serve` (Linux: /proc):
//
//   node bench/serve_threads.mjs [--format json|binary] [--clients 16] [--seconds 8] [--threads 2] [--model densenet121|default]
//
// A server child process (DenseNet-121 seeded weights at 224², or the embedded model at its
// crop size; loopback, ephemeral port)
// under C clients in this process, each sending its own image; prints the throughput and, for
// each thread of the server (the event loop, the pool's workers, libuv's), and for this
// client process, the share of one core it used (utime + stime over the wall time).
import { readFileSync, readdirSync } from "node:fs";
import { Agent } from "node:http";
import { DEFAULT_MODEL_PATH } from "../dist/index.js";
import { SeededRandom } from "../dist/model/random_weights.js";
import { choice, commandLine, integer, parseOptions, positive } from "./lib/args.mjs";
import { embeddedModelInput, inferBody, send, startServe } from "./lib/serve_client.mjs";

const OPTIONS = {
  format: { type: "string", default: "binary" },
  clients: { type: "string", default: "16" },
  seconds: { type: "string", default: "8" },
  threads: { type: "string", default: "2" },
  model: { type: "string", default: "densenet121" },
};
const readArgs = (argv) => {
  const v = parseOptions(argv, OPTIONS);
  return {
    help: v.help,
    format: choice("format", v.format, ["json", "binary"]),
    clients: integer("clients", v.clients),
    seconds: positive("seconds", v.seconds),
    threads: integer("threads", v.threads),
    model: choice("model", v.model, ["densenet121", "default"]),
  };
};
const USAGE =
  "usage: node bench/serve_threads.mjs [--format json|binary] [--clients 16] [--seconds 8] [--threads 2] [--model densenet121|default]";
const { args, exit } = commandLine(readArgs, USAGE, "serve_threads");
if (!args) process.exit(exit);
const { format, clients, seconds } = args;
const source = args.model === "default" ? DEFAULT_MODEL_PATH : "densenet121";
const { child, port } = await startServe(["--model", `bench=${source}`, "--threads", String(args.threads), "--max-queue", "100000"]);

/** CPU ticks (1/100 s) of every thread of the server, by "tid:name". */
function ticks() {
  const out = {};
  for (const tid of readdirSync(`/proc/${child.pid}/task`)) {
    const stat = readFileSync(`/proc/${child.pid}/task/${tid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out[`${tid}:${/\((.*)\)/.exec(stat)?.[1]}`] = Number(fields[11]) + Number(fields[12]);
  }
  return out;
}

const rng = new SeededRandom(1);
const embedded = args.model === "default" ? await embeddedModelInput() : null;
const dims = embedded ? [1, embedded.channels, embedded.height, embedded.width] : [1, 3, 224, 224];
const image = () => new Float32Array(dims[1] * dims[2] * dims[3]).map(() => rng.normal());
const bodies = Array.from({ length: clients }, () => inferBody(format, image(), dims));
const agent = new Agent({ keepAlive: true, maxSockets: clients + 2 });
const path = "/v2/models/bench/infer";

try {
  await Promise.all(bodies.map((body) => send(agent, port, path, body))); // warm-up
  const t0 = ticks(),
    c0 = process.cpuUsage(),
    w0 = performance.now();
  let answered = 0;
  await Promise.all(
    bodies.map(async (body) => {
      while (performance.now() - w0 < seconds * 1000) if ((await send(agent, port, path, body)).status === 200) answered++;
    }),
  );
  const t1 = ticks(),
    c1 = process.cpuUsage(),
    wall = (performance.now() - w0) / 1000;
  console.log(`${format}, ${clients} clients: ${(answered / wall).toFixed(1)} images/s over ${wall.toFixed(1)} s`);
  for (const [thread, t] of Object.entries(t1)) {
    const share = (t - (t0[thread] ?? 0)) / 100 / wall;
    if (share > 0.005) console.log(`  server thread ${thread}: ${(100 * share).toFixed(1)} % of a core`);
  }
  console.log(`  client process: ${(((c1.user + c1.system - c0.user - c0.system) / 1e6 / wall) * 100).toFixed(1)} % of a core`);
} finally {
  agent.destroy();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}
