// The hostile corpus (scripts/make_hostile_corpus.mjs), generated into a temporary directory
// and run in a child process (test/hostile_runner.mjs) under a watchdog: every file either
// loads and gives bitwise its original's output, or fails with a one-line DenseNetError, as
// its manifest entry says; none takes over 10 s, and the whole child stays under 1 GB RSS.
// A sample also goes through the CLI, which must exit 1 with one line on stderr.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const generator = fileURLToPath(new URL("../scripts/make_hostile_corpus.mjs", import.meta.url));
const runner = fileURLToPath(new URL("./hostile_runner.mjs", import.meta.url));
const cli = fileURLToPath(new URL("../dist/bin/cli.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "densenet-hostile-"));
const env = { ...process.env };
delete env.FORCE_COLOR;
delete env.NO_COLOR;

const MAX_MS = 10_000,
  MAX_RSS = 2 ** 30;

/** Runs the runner, killing it if one file takes longer than MAX_MS; resolves with its records. */
function runCorpus() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runner, dir], { stdio: ["ignore", "pipe", "pipe"], env });
    const records = [];
    let buffer = "",
      stderr = "",
      current = "(loading the originals)",
      timer;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`${current} ran longer than ${MAX_MS} ms`));
      }, MAX_MS);
    };
    arm();
    child.stdout.on("data", (chunk) => {
      buffer += chunk;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const record = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (record.start) current = record.start;
        else records.push(record);
        arm();
      }
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(records);
      else reject(new Error(`runner exited ${code} at ${current}: ${stderr.slice(0, 2000)}`));
    });
  });
}

const Corpus = suite("hostile corpus");

Corpus("every hostile file is refused in one line or gives its original's output, in bounded time and memory", async () => {
  const gen = spawnSync(process.execPath, [generator, dir], { encoding: "utf8", env, timeout: 60_000 });
  assert.is(gen.status, 0, gen.stderr);
  const records = await runCorpus();
  const done = records.pop();
  assert.ok(done.done, "the runner finished");
  const counts = { refused: 0, same: 0 };
  for (const r of records) {
    assert.ok(r.outcome === "refused" || r.outcome === "same", `${r.name}: ${r.outcome} ${r.message ?? ""}`);
    if (r.expect !== "either") assert.is(r.outcome, r.expect === "refuse" ? "refused" : "same", `${r.name}: ${r.message ?? ""}`);
    assert.ok(r.ms <= MAX_MS, `${r.name} took ${r.ms} ms`);
    counts[r.outcome]++;
  }
  assert.ok(records.length >= 140, `only ${records.length} files ran`);
  assert.ok(done.maxRss < MAX_RSS, `peak RSS ${(done.maxRss / 2 ** 20).toFixed(0)} MiB`);
  const slowest = records.reduce((a, b) => (b.ms > a.ms ? b : a));
  console.log(
    `  hostile corpus: ${records.length} files, ${counts.refused} refused, ${counts.same} gave the original's output; ` +
      `slowest ${slowest.name} ${slowest.ms.toFixed(0)} ms; peak RSS ${(done.maxRss / 2 ** 20).toFixed(0)} MiB`,
  );
});

Corpus("through the CLI, hostile models and inputs exit 1 with one line on stderr", () => {
  const cases = [
    ["st_overlap.safetensors", "input.npy"],
    ["pth_billion_laughs.pth", "input.npy"],
    ["pth_stale_crc.pth", "input.npy"],
    ["onnx_conv_pads_4000.onnx", "input.npy"],
    ["st_weight_3e38.safetensors", "input.npy"],
    ["narrow_odd.safetensors", "npy_decoy_shape_in_string.npy"],
    ["narrow_odd.safetensors", "npy_shape_1e6_entries.npy"],
  ];
  for (const [model, input] of cases) {
    const r = spawnSync(
      process.execPath,
      [cli, "run", "--model", join(dir, model), "--input", join(dir, input), "--output", join(dir, "out.npy"), "--threads", "1"],
      { encoding: "utf8", env, timeout: 30_000 },
    );
    assert.is(r.status, 1, `${model} ${input}: exit ${r.status}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.is(lines.length, 1, `${model} ${input}: ${r.stderr}`);
    assert.match(lines[0], /^densenet: /);
  }
});

Corpus.after(() => rmSync(dir, { recursive: true, force: true }));

Corpus.run();
