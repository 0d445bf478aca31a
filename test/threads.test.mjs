// The worker pool: outputs bitwise identical at every thread count (batch 1, and batch 5 where
// whole images and split leftovers mix), concurrent runs, failures that reject one run and
// leave a healthy pool, idle pools that do not keep the process alive, and Deno.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { injectFaultForTesting } from "../dist/session/fault.js";
import { splitPays } from "../dist/session/split.js";
import { assertBitwiseEqual, fixture, randomArray } from "./helpers.mjs";

const env = { ...process.env };
delete env.FORCE_COLOR;
delete env.NO_COLOR;

/** Outputs at each thread count, with images split between the workers ("always") and as "auto" chooses (for these small fixtures: whole). */
async function outputsAt(model, threadCounts, input) {
  const outputs = [];
  for (const threads of threadCounts) {
    for (const splitImages of threads > 1 ? /** @type {const} */ (["always", "auto"]) : /** @type {const} */ (["auto"])) {
      const session = await Session.create(model, { threads, splitImages });
      outputs.push((await session.run(input)).data);
      await session.release();
    }
  }
  return outputs;
}

const Threads = suite("threads");

for (const [name, h, w] of /** @type {[string, number, number][]} */ ([
  ["narrow_odd", 45, 37],
  ["tiny121", 224, 224],
])) {
  for (const batch of [1, 5]) {
    Threads(`${name}: batch ${batch} gives bitwise identical outputs at 1, 2, 3 and 4 threads, split or not`, async () => {
      const input = { data: randomArray(batch * 3 * h * w, batch * 31 + h), dims: [batch, 3, h, w] };
      const [one, ...rest] = await outputsAt(fixture(`${name}.safetensors`), [1, 2, 3, 4], input);
      rest.forEach((out, i) =>
        assertBitwiseEqual(out, one, `${name} batch ${batch}: ${(i >> 1) + 2} threads (${i % 2 ? "auto" : "split"}) vs 1`),
      );
    });
  }
}

Threads("concurrent run() calls on one session are each answered with their own result", async () => {
  const session = await Session.create(fixture("narrow_odd.safetensors"), { threads: 2 });
  const inputs = [1, 2, 3].map((b) => ({ data: randomArray(b * 3 * 45 * 37, 70 + b), dims: [b, 3, 45, 37] }));
  const sequential = [];
  for (const x of inputs) sequential.push((await session.run(x)).data);
  const concurrent = await Promise.all(inputs.map((x) => session.run(x)));
  concurrent.forEach((y, i) => assertBitwiseEqual(y.data, sequential[i], `run ${i}`));
  await session.release();
});

for (const mode of /** @type {const} */ (["throw", "exit"])) {
  Threads(`a worker that ${mode === "throw" ? "throws" : "dies"} mid-run rejects that run; the next run succeeds`, async () => {
    const session = await Session.create(fixture("narrow_odd.safetensors"), { threads: 3, splitImages: "always" });
    const x = { data: randomArray(3 * 45 * 37, 5), dims: [1, 3, 45, 37] };
    const expected = (await session.run(x)).data;
    injectFaultForTesting(session, { worker: 1, at: 4, mode });
    try {
      await session.run(x);
      assert.unreachable("the faulty run should reject");
    } catch (e) {
      assert.match(e.message, /a worker failed during the run/);
    }
    assertBitwiseEqual((await session.run(x)).data, expected, "run after the failure");
    await session.release();
  });
}

Threads("splitImages: a tiny model's image runs whole on one worker unless asked to split; a large one is split", async () => {
  // static shares make it observable: a lone whole image goes to the last worker, so a fault
  // armed on worker 0 fires only where the image is split between the workers
  const x = { data: randomArray(3 * 45 * 37, 8), dims: [1, 3, 45, 37] };
  const expected = (await outputsAt(fixture("narrow_odd.safetensors"), [1], x))[0];
  for (const splitImages of /** @type {const} */ (["auto", "always"])) {
    const session = await Session.create(fixture("narrow_odd.safetensors"), { threads: 2, schedule: "static", splitImages });
    injectFaultForTesting(session, { worker: 0, at: 1, mode: "throw" });
    const run = session.run(x).then(
      (y) => y.data,
      (e) => e,
    );
    const result = await run;
    if (splitImages === "auto") assertBitwiseEqual(result, expected, "auto: worker 0 has no part in the run");
    else assert.match(String(result?.message), /injected fault at step 1/, "always: worker 0 runs its share of every step");
    await session.release();
  }
  assert.not.ok(splitPays(0.21e6 * 68, 68, 2), "the embedded model at 48x48");
  assert.ok(splitPays(0.37e6 * 68, 68, 2), "the embedded model at 64x64");
  assert.not.ok(splitPays(0.37e6 * 68, 68, 4), "the same on 4 threads");
  assert.ok(splitPays(23e6 * 126, 126, 16), "DenseNet-121 at 224x224 on 16 threads");
  try {
    await Session.create(fixture("narrow_odd.safetensors"), { threads: 2, splitImages: /** @type {any} */ ("never") });
    assert.unreachable("splitImages: never is refused");
  } catch (e) {
    assert.match(e.message, /^splitImages must be "auto" or "always", got never$/);
  }
});

Threads("an idle pool does not keep the process alive, even without release()", () => {
  const script = `import { Session } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
    const s = await Session.create(${JSON.stringify(fixture("legacy_keys.safetensors"))}, { threads: 2 });
    await s.run({ data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] });
    console.log("done");`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000, env });
  assert.is(r.status, 0, `exit status ${r.status} (signal ${r.signal}); stderr: ${r.stderr}`);
  assert.is(r.stdout.trim(), "done");
});

Threads("Deno runs the package with 2 threads, bitwise identical to Node", async () => {
  const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
  const script = fileURLToPath(new URL("./deno/infer.mjs", import.meta.url));
  const model = fixture("narrow_odd.safetensors");
  const r = spawnSync(deno, ["run", "--allow-read", "--allow-env", "--allow-sys", script, model, "2", "3"], {
    encoding: "utf8",
    timeout: 60_000,
    env,
    cwd: fileURLToPath(new URL("..", import.meta.url)),
  });
  assert.is(r.status, 0, `deno exit ${r.status}: ${r.stderr}`);
  const fromDeno = JSON.parse(r.stdout);
  const data = new Float32Array(2 * 3 * 45 * 37).map((_, i) => Math.sin(i * 3));
  const session = await Session.create(model, { threads: 2 });
  const y = await session.run({ data, dims: [2, 3, 45, 37] });
  await session.release();
  assert.equal(fromDeno.dims, y.dims);
  assert.equal(fromDeno.bits, Array.from(new Uint32Array(y.data.buffer)), "Deno's output bits equal Node's");
});

Threads.run();
