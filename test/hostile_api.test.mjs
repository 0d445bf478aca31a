// The library's contract under hostile use: queued runs and release(), inputs copied at call
// time, option and source checks, non-regular files, profile bounds, a bounded plan cache at
// flat memory, outputs that overflow, short messages, odd input names, Deno permissions.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { MAX_SIDE, Session, formatNpy } from "../dist/index.js";
import { assertBitwiseEqual, fixturesDir, randomArray, rejectsWith } from "./helpers.mjs";
import { model, node, valueInfo } from "./onnx_helpers.mjs";

const fixture = (name) => fileURLToPath(new URL(name, fixturesDir));
const narrow = fixture("narrow_odd.safetensors");
const image = (seed, h = 45, w = 37, n = 1) => ({ data: randomArray(n * 3 * h * w, seed), dims: [n, 3, h, w] });
const tmp = mkdtempSync(join(tmpdir(), "densenet-hostile-api-"));

async function outputOf(x, options = { threads: 1 }) {
  const s = await Session.create(narrow, options);
  const y = await s.run(x);
  await s.release();
  return y.data;
}

const Contract = suite("API contract");

for (const threads of [1, 2]) {
  Contract(`release() at ${threads} thread(s) waits for every queued run, which all succeed; later runs are refused`, async () => {
    const inputs = [1, 2, 3].map((seed) => image(seed, 45, 37, seed));
    const expected = [];
    for (const x of inputs) expected.push(await outputOf(x));
    const s = await Session.create(narrow, { threads });
    const runs = inputs.map((x) => s.run(x));
    await s.release();
    const outputs = await Promise.all(runs);
    outputs.forEach((y, i) => assertBitwiseEqual(y.data, expected[i], `queued run ${i}`));
    await rejectsWith(s.run(inputs[0]), /session has been released/);
    await s.release(); // a second release is harmless
  });

  Contract(`at ${threads} thread(s) the input is copied when run() is called: mutating it afterwards changes nothing`, async () => {
    const x = image(5, 45, 37, 2);
    const expected = await outputOf({ data: x.data.slice(), dims: x.dims });
    const s = await Session.create(narrow, { threads });
    const blocker = s.run(image(6, 64, 64, 3)); // keeps the queue busy so the run below waits
    const pending = s.run(x);
    x.data.fill(0);
    x.dims[0] = 1;
    await blocker;
    assertBitwiseEqual((await pending).data, expected, "output of the mutated input");
    await s.release();
  });
}

Contract("options: null means none; seed, threads and the others are checked", async () => {
  const s = await Session.create(narrow, null);
  assert.ok(s.threads >= 1);
  await s.release();
  for (const seed of [-1, 1.5, "abc", 2 ** 31, NaN]) {
    // @ts-expect-error: seeds that are not integers, on purpose
    await rejectsWith(Session.create("densenet121", { seed, threads: 1 }), /seed must be an integer from 0 to 2147483647/);
  }
  // @ts-expect-error: a wrong type, on purpose
  await rejectsWith(Session.create(narrow, { threads: "2" }), /threads must be an integer from 1 to 256/);
  // @ts-expect-error: a wrong type, on purpose
  await rejectsWith(Session.create(narrow, 5), /options must be an object/);
  // @ts-expect-error: a wrong type, on purpose
  await rejectsWith(Session.create(narrow, { winograd: "no" }), /winograd must be true, false, "f2x2", "f4x4" or "auto", got no/);
  // @ts-expect-error: a wrong type, on purpose
  await rejectsWith(Session.create(narrow, { microKernel: {} }), /microKernel must be one of/);
  await rejectsWith(Session.create(narrow, { planCacheBytes: -1 }), /planCacheBytes must be a non-negative integer/);
});

Contract("model sources that are not a path, bytes or a name are named precisely", async () => {
  const bytes = readFileSync(narrow);
  await rejectsWith(
    // @ts-expect-error: a wrong type, on purpose
    Session.create(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
    /got a DataView; wrap its bytes: new Uint8Array/,
  );
  await rejectsWith(Session.create(null), /must be a file path, an architecture name, a Uint8Array or an ArrayBuffer; got null/);
  // @ts-expect-error: a wrong type, on purpose
  await rejectsWith(Session.create({}), /got an object \(\[object Object\]\)/);
  // @ts-expect-error: a wrong type, on purpose
  await rejectsWith(Session.create(42), /got a number/);
  await rejectsWith(Session.create(new Uint8Array(0)), /empty file/);
  await rejectsWith(Session.create("x".repeat(1e6)), /^unknown model 'x+ … .*densenet201, densenet161$/);
});

Contract("FIFOs, devices and directories are refused without reading them", async () => {
  const fifo = join(tmp, "model.fifo");
  execFileSync("mkfifo", [fifo]);
  const t0 = performance.now();
  await rejectsWith(Session.create(fifo), /cannot read model file '.*model\.fifo': not a regular file \(a FIFO\)/);
  await rejectsWith(Session.create("/dev/zero"), /cannot read model file '\/dev\/zero': not a regular file \(a device\)/);
  await rejectsWith(Session.create(`${tmp}/`), /not a regular file \(a directory\)/);
  assert.ok(performance.now() - t0 < 2000, "refused at once");
});

Contract("profile(): runs a positive integer, sizes and total work bounded, queued with runs", async () => {
  const s = await Session.create(narrow, { threads: 1 });
  for (const runs of [-1, 0, 1.5, 1e6, NaN]) await rejectsWith(s.profile(32, 32, runs), /runs must be an integer from 1 to 1000/);
  await rejectsWith(s.profile(-5, 32), /height and width must be positive integers/);
  const t0 = performance.now(),
    before = s.info.memoryBytes;
  await rejectsWith(s.profile(MAX_SIDE, MAX_SIDE, 1000), /would take \d+ G multiply-adds, over the limit of 100 G/);
  assert.ok(performance.now() - t0 < 1000, `refused in ${performance.now() - t0} ms`);
  assert.is(s.info.memoryBytes, before, "refused before planning allocated anything");
  const steps = await s.profile(45, 37, 2);
  assert.ok(steps.length > 5 && steps.every((p) => Number.isFinite(p.ms) && p.ms >= 0));
  await s.release();
});

Contract("the plan cache is bounded by bytes: many input sizes run at flat memory, evicted sizes re-plan to the same outputs", async () => {
  const s = await Session.create(narrow, { threads: 1, planCacheBytes: 1 << 20 });
  const sizes = Array.from({ length: 24 }, (_, i) => [24 + i * 3, 40 - (i % 7)]);
  const first = [];
  for (const [h, w] of sizes) first.push((await s.run(image(h, h, w))).data);
  const warm = s.info.memoryBytes;
  for (let round = 0; round < 2; round++) {
    for (const [i, [h, w]] of sizes.entries()) assertBitwiseEqual((await s.run(image(h, h, w))).data, first[i], `${h}x${w} after eviction`);
  }
  assert.is(s.info.memoryBytes, warm, "linear memory did not grow after the first round");
  assert.ok(s.info.cachedPlans < sizes.length, `${s.info.cachedPlans} plans kept`);
  assert.ok(s.info.cachedPlanBytes <= (1 << 20) + 2 * s.plan(24 + 23 * 3, 40).arenaBytes, `${s.info.cachedPlanBytes} bytes cached`);
  await s.release();
});

Contract("a finite input that overflows float32 inside the network is an error, not an answer", async () => {
  const s = await Session.create(narrow, { threads: 1 });
  const x = image(1);
  x.data.fill(3.4e38);
  await rejectsWith(
    s.run(x),
    /output 'logits' holds a non-finite value \((-?Infinity|NaN)\) at index \d+: the computation overflowed float32/,
  );
  assert.ok((await s.run(image(1))).data.every(Number.isFinite), "the session still works");
  await s.release();
});

Contract("messages stay one short line: a million-entry shape is elided", async () => {
  const s = await Session.create(narrow, { threads: 1 });
  const message = await rejectsWith(
    s.run({ data: new Float32Array(1), dims: new Array(1e6).fill(1) }),
    /invalid shape \[1, 1, 1, 1, 1, 1, 1, 1, … \(1000000 dims\)\]/,
  );
  assert.ok(message.length <= 300, `${message.length} chars`);
  await s.release();
});

Contract("graph inputs named __proto__ or toString are plain names, in the library and the CLI", async () => {
  const bytes = model({
    nodes: [node("Relu", ["__proto__"], ["toString"], "relu")],
    inputs: [valueInfo("__proto__", [1, 2])],
    outputs: [valueInfo("toString", [1, 2])],
  });
  const s = await Session.create(bytes);
  const y = await s.runNamed({ ["__proto__"]: { data: Float32Array.of(-1, 2), dims: [1, 2] } });
  const outputName = "toString";
  assert.equal(Array.from(/** @type {Float32Array} */ (y[outputName].data)), [0, 2]);
  await rejectsWith(s.runNamed({}), /missing input '__proto__'/);
  await s.release();
  const path = join(tmp, "proto.onnx"),
    input = join(tmp, "proto_in.npy"),
    out = join(tmp, "proto_out");
  writeFileSync(path, bytes);
  writeFileSync(input, formatNpy({ data: Float32Array.of(-1, 2), dims: [1, 2] }));
  const cli = fileURLToPath(new URL("../dist/bin/cli.js", import.meta.url));
  const r = spawnSync(process.execPath, [cli, "run", "--model", path, "--input", `__proto__=${input}`, "--outdir", out], {
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /toString\.npy \[1, 2\]/);
});

Contract("under Deno, a missing permission is a DenseNetError naming the flag", () => {
  const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
  const script = fileURLToPath(new URL("./deno/permissions.mjs", import.meta.url));
  const run = (flags, model) => spawnSync(deno, ["run", ...flags, script, model], { encoding: "utf8", timeout: 60_000 }).stdout.trim();
  assert.match(
    run([], narrow),
    /^DenseNetError: cannot read model file '.*': Deno denied access \(Requires read access to .*\): run deno with --allow-read$/,
  );
  assert.match(
    run(["--allow-read"], narrow),
    /^DenseNetError: Deno denied access \(Requires env access to .*\): run deno with --allow-env$/,
  );
  assert.is(run(["--allow-read", "--allow-env"], narrow), `loaded ${narrow}`);
});

Contract.after(() => rmSync(tmp, { recursive: true, force: true }));

Contract.run();
