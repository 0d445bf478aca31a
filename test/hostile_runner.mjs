// Child process of test/hostile_corpus.test.mjs (and usable alone): runs every file of a
// hostile corpus directory (scripts/make_hostile_corpus.mjs) through the library and prints
// one JSON line per file — its outcome, its time and the process's RSS — so the parent can
// act as a watchdog (a file that takes too long is killed and named) and check RSS.
// Usage: node test/hostile_runner.mjs CORPUS_DIR
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DenseNetError, Session, parseNpy } from "../dist/index.js";

const dir = process.argv[2];
const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
const input = parseNpy(readFileSync(join(dir, manifest.input)));

const sameBits = (a, b) =>
  a.length === b.length &&
  new Uint32Array(a.buffer, a.byteOffset, a.length).every((v, i) => v === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);

/** The model's float outputs, concatenated (one Float32Array). */
async function outputs(bytes, x) {
  const session = await Session.create(bytes, { threads: 1 });
  try {
    const feeds = { [session.inputNames[0]]: x };
    const out = await session.runNamed(feeds);
    const floats = Object.values(out).flatMap((t) => (t.data instanceof Float32Array ? Array.from(t.data) : []));
    return Float32Array.from(floats);
  } finally {
    await session.release();
  }
}

const reference = new Map();
for (const name of manifest.models) reference.set(name, await outputs(readFileSync(join(dir, name)), input));
reference.set(manifest.input, input.data);

for (const c of manifest.cases) {
  const bytes = readFileSync(join(dir, c.name));
  process.stdout.write(`${JSON.stringify({ start: c.name })}\n`);
  const t0 = performance.now();
  let outcome,
    message = null;
  try {
    const got = c.name.endsWith(".npy")
      ? parseNpy(bytes).data
      : await outputs(bytes, c.input ? { data: new Float32Array(c.input.reduce((a, b) => a * b, 1)).fill(1), dims: c.input } : input);
    outcome = c.original && sameBits(got, reference.get(c.original)) ? "same" : "different";
  } catch (e) {
    outcome = e instanceof DenseNetError && !e.message.includes("\n") && e.message.length <= 300 ? "refused" : "crash";
    message = e instanceof Error ? `${e.name}: ${e.message.slice(0, 400)}` : String(e);
  }
  const ms = performance.now() - t0;
  const rss = process.memoryUsage().rss;
  process.stdout.write(`${JSON.stringify({ name: c.name, expect: c.expect, outcome, message, ms, rss })}\n`);
}
process.stdout.write(`${JSON.stringify({ done: true, maxRss: process.resourceUsage().maxRSS * 1024 })}\n`);
