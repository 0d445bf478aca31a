// The Batcher (src/serve/batcher.ts) on a stand-in session whose runs finish when the test says,
// so the order of hand-overs is observable: partial batches start only when the session is idle,
// and a full batch is handed to a busy session at once (it waits in the session's run queue),
// never a batch of another session and never more than one ahead.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Batcher } from "../dist/serve/batcher.js";

const Batching = suite("batcher: hand-over while a batch runs");

/**
 * A session stand-in: records each run's batch size; a run resolves when its finish() is called.
 * @returns {any}
 */
function fakeSession() {
  const runs = [];
  return {
    runs,
    plan() {},
    runParts(parts) {
      const images = parts.reduce((n, p) => n + p.dims[0], 0);
      return new Promise((resolve) => {
        runs.push({ images, finish: () => resolve({ data: new Float32Array(images * 2), dims: [images, 2] }) });
      });
    },
  };
}
const image = () => ({ data: new Float32Array(3 * 4 * 4), dims: [1, 3, 4, 4] });
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
/**
 * The batchers' maxDelayMs: long enough that a pause of the host between two synchronous
 * submits (a first-call compile, a GC, a descheduled vCPU: 1 ms once made a clean-clone CI run
 * start a partial batch of 2) does not let the first request's delay run out before the batch
 * is full; the waits below that must outlast it are PAST_DELAY_MS.
 */
const DELAY_MS = 15;
const PAST_DELAY_MS = 40;

Batching("a full batch is handed to the busy session; a partial one waits until the session is idle", async () => {
  const a = fakeSession();
  const batcher = new Batcher({ maxBatch: 4, maxDelayMs: DELAY_MS, maxQueue: 100, maxSizes: 4 });
  const model = { name: "a", session: a };
  const answers = [];
  const submit = (n) => {
    for (let i = 0; i < n; i++) answers.push(batcher.submit(model, image()));
  };
  submit(4); // full: runs at once
  await tick();
  assert.equal(
    a.runs.map((r) => r.images),
    [4],
  );
  submit(4); // full while the first runs: handed over now
  await tick();
  assert.equal(
    a.runs.map((r) => r.images),
    [4, 4],
  );
  submit(4); // full, but two are already with the session: waits
  submit(2); // partial: waits for an idle session even past maxDelayMs
  await tick(PAST_DELAY_MS);
  assert.equal(
    a.runs.map((r) => r.images),
    [4, 4],
  );
  a.runs[0].finish();
  await tick();
  assert.equal(
    a.runs.map((r) => r.images),
    [4, 4, 4],
    "the third full batch follows as soon as a slot frees",
  );
  a.runs[1].finish();
  a.runs[2].finish();
  await tick(PAST_DELAY_MS);
  assert.equal(
    a.runs.map((r) => r.images),
    [4, 4, 4, 2],
    "the partial batch runs once the session is idle",
  );
  a.runs[3].finish();
  assert.is((await Promise.all(answers)).length, 14);
  await batcher.drain();
});

Batching("a full batch of another session does not join the running session's queue", async () => {
  const a = fakeSession(),
    b = fakeSession();
  const batcher = new Batcher({ maxBatch: 2, maxDelayMs: DELAY_MS, maxQueue: 100, maxSizes: 4 });
  const answers = [batcher.submit({ name: "a", session: a }, image()), batcher.submit({ name: "a", session: a }, image())];
  await tick();
  answers.push(batcher.submit({ name: "b", session: b }, image()), batcher.submit({ name: "b", session: b }, image()));
  await tick(10);
  assert.is(b.runs.length, 0, "b waits while a runs");
  a.runs[0].finish();
  await tick();
  assert.is(b.runs.length, 1);
  b.runs[0].finish();
  await Promise.all(answers);
});

Batching.run();
