#!/usr/bin/env node
// Event-loop cost of reading one JSON infer request body, as the server does it, against the
// JSON.parse route it replaced; both in this run, interleaved, median of --runs:
//   node bench/json_body.mjs [--size 224] [--runs 40]
// - json_parse: JSON.parse(body as UTF-8 text), then the data array into a Float32Array;
// - parse_json_bytes: parseJsonBytes (src/serve/json_bytes.ts), which gives the Float32Array,
//   reading the number runs in WebAssembly (assembly/json_f32.ts), as the server does;
// - parse_json_bytes_js: the same with every number read in JavaScript ({ wasm: false }).
// The body is a [1, 3, size, size] tensor of float32 values printed as clients print them
// (the double's shortest form: ~17 digits).
import { SeededRandom } from "../dist/model/random_weights.js";
import { parseJsonBytes } from "../dist/serve/json_bytes.js";
import { commandLine, integer, parseOptions } from "./lib/args.mjs";

const readArgs = (argv) => {
  const v = parseOptions(argv, { size: { type: "string", default: "224" }, runs: { type: "string", default: "40" } });
  return { help: v.help, size: integer("size", v.size), runs: integer("runs", v.runs) };
};
const { args, exit } = commandLine(readArgs, "usage: node bench/json_body.mjs [--size 224] [--runs 40]", "json_body");
if (!args) process.exit(exit);
const { size, runs } = args;
const rng = new SeededRandom(5);
const data = Array.from({ length: 3 * size * size }, () => Math.fround(rng.normal()));
const body = Buffer.from(JSON.stringify({ inputs: [{ name: "input", shape: [1, 3, size, size], datatype: "FP32", data }] }));
const keys = new Set(["data"]);
const ways = {
  json_parse: () => Float32Array.from(JSON.parse(body.toString("utf8")).inputs[0].data),
  parse_json_bytes: () => /** @type {any} */ (parseJsonBytes(body, keys)).inputs[0].data,
  parse_json_bytes_js: () => /** @type {any} */ (parseJsonBytes(body, keys, { wasm: false })).inputs[0].data,
};
const times = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
for (let r = 0; r < runs + 3; r++) {
  for (const [name, f] of Object.entries(ways)) {
    const t0 = performance.now();
    f();
    if (r >= 3) times[name].push(performance.now() - t0);
  }
}
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const a = median(times.json_parse),
  b = median(times.parse_json_bytes),
  c = median(times.parse_json_bytes_js);
console.log(
  JSON.stringify({
    size,
    bytes: body.length,
    numbers: data.length,
    json_parse_ms: a,
    parse_json_bytes_ms: b,
    parse_json_bytes_js_ms: c,
    ratio: b / a,
  }),
);
console.log(
  `${size}² body (${(body.length / 1e6).toFixed(1)} MB): JSON.parse ${a.toFixed(2)} ms, parseJsonBytes ${b.toFixed(2)} ms (${(b / a).toFixed(2)}x), ` +
    `with JavaScript number reading ${c.toFixed(2)} ms (${(c / a).toFixed(2)}x)`,
);
