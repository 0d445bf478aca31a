// The pool's mailboxes (runtime/mailbox.ts) and its resident worker loops (runtime/pool.ts,
// runtime/worker.ts): a run's task survives the trip through a slot field for field, each
// slot is counted once per run whoever counts it, a lingering slot is handed over and an idle
// one is not, a loop that lingers past its time goes idle; and through a session, back-to-back
// runs reach the lingering workers without new loop tasks, while runs after the workers have
// gone to sleep or returned, and after a worker died, still give the same bits.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { Mailboxes, SlotState } from "../dist/runtime/mailbox.js";
import { injectFaultForTesting } from "../dist/session/fault.js";
import { assertBitwiseEqual, fixture, randomArray } from "./helpers.mjs";

const Mail = suite("mailbox");

const task = (ith, over = {}) => ({
  memoryBytes: 3 * 2 ** 31 + 65536, // above 2^32: the fields are f64s
  ith,
  nth: 3,
  barrier: 1040,
  schedule: 2000016,
  steps: 126,
  sync: 2001024,
  claims: 0,
  ownArena: 4194304 + ith,
  sharedArena: 4194304,
  scratch: 9000000 + ith,
  inputStage: 12000000,
  outputStage: 13000000,
  inputOffset: 64,
  outputOffset: 128,
  inputElements: 150528,
  outputElements: 1000,
  batch: 5,
  shared: 2,
  ...over,
});

/** Starts a run on every slot of `boxes`, as the session does. */
function startRun(boxes) {
  boxes.beginRun();
  for (let ith = 0; ith < boxes.slots; ith++) boxes.write(task(ith));
}

Mail("a task is read back from its slot field for field, with or without a fault", () => {
  const boxes = Mailboxes.create(3);
  const plain = task(1),
    faulty = task(2, { fault: { at: 7, mode: "exit" } }),
    throwing = task(0, { fault: { at: 0, mode: "throw" } });
  for (const t of [plain, faulty, throwing]) boxes.write(t);
  // another view of the same buffer, as a worker has it
  const worker = new Mailboxes(boxes.buffer, 3);
  assert.equal(worker.read(1), plain);
  assert.equal(worker.read(2), faulty);
  assert.equal(worker.read(0), throwing);
});

Mail("each slot is counted once per run, whether it reports or is reported for, in either order", async () => {
  const boxes = Mailboxes.create(2);
  startRun(boxes);
  boxes.report(0, null);
  assert.not.ok(boxes.reportForDead(0), "a slot that reported is not counted again");
  assert.is(boxes.finished, 1);
  assert.ok(boxes.reportForDead(1));
  boxes.report(1, "too late"); // cannot happen for a dead worker; still counted once
  assert.is(boxes.finished, 2);
  await boxes.allReported(2); // resolves at once
  assert.is(boxes.failure(0), null);
  // the next run starts uncounted and without the last run's failures
  startRun(boxes);
  assert.is(boxes.finished, 0);
  assert.is(boxes.failure(1), null);
});

Mail("a worker's error message comes back whole, or cut at the area's size", () => {
  const boxes = Mailboxes.create(2);
  startRun(boxes);
  boxes.report(0, "injected fault at step 4 — ünïcödé");
  boxes.report(1, "x".repeat(5000));
  assert.is(boxes.failure(0), "injected fault at step 4 — ünïcödé");
  assert.is(boxes.failure(1), "x".repeat(1024));
});

Mail("allReported waits for the last report", async () => {
  const boxes = Mailboxes.create(2);
  startRun(boxes);
  boxes.report(0, null);
  let done = false;
  const wait = boxes.allReported(2, 5).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 30));
  assert.not.ok(done, "one of two reports is not all");
  boxes.report(1, null);
  await wait;
  assert.ok(done);
});

Mail("hand-over: a lingering slot is taken by compare-and-swap, an idle one is not", () => {
  const boxes = Mailboxes.create(1);
  assert.is(boxes.state(0), SlotState.IDLE);
  assert.not.ok(boxes.handOver(0), "no loop runs for a fresh slot");
  assert.is(boxes.state(0), SlotState.GO);
  boxes.beginRun();
  boxes.report(0, null);
  assert.is(boxes.state(0), SlotState.LINGER, "a report leaves the slot lingering");
  assert.ok(boxes.handOver(0));
  assert.is(boxes.state(0), SlotState.GO);
  assert.ok(boxes.linger(0, 0, 0), "a slot handed over before the linger ends runs");
  boxes.report(0, null);
  assert.ok(boxes.stop(0));
  assert.not.ok(boxes.linger(0, 0, 50), "a stopped slot's loop ends");
  assert.not.ok(boxes.stop(0), "only a lingering slot can be stopped");
});

Mail("a slot that lingers past its time goes idle (and is then started anew)", () => {
  const boxes = Mailboxes.create(1);
  boxes.beginRun();
  boxes.report(0, null);
  const t0 = performance.now();
  assert.not.ok(boxes.linger(0, 1, 15));
  const waited = performance.now() - t0;
  assert.ok(waited >= 14 && waited < 1000, `lingered ${waited.toFixed(1)} ms for 15`);
  assert.is(boxes.state(0), SlotState.IDLE);
  assert.not.ok(boxes.handOver(0));
});

const Loops = suite("pool loops");

const model = fixture("narrow_odd.safetensors");
const input = { data: randomArray(2 * 3 * 45 * 37, 17), dims: [2, 3, 45, 37] };
const poolOf = (session) => session.planned.engine.pool;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

Loops("back-to-back runs are handed to the lingering workers: no new loop tasks", async () => {
  const session = await Session.create(model, { threads: 2 });
  const first = (await session.run(input)).data;
  const starts = poolOf(session).loopStarts;
  assert.is(starts, 2, "the first run starts one loop per worker");
  for (let i = 0; i < 20; i++) assertBitwiseEqual((await session.run(input)).data, first, `run ${i}`);
  // a loaded host may let a linger run out now and then; most runs must be handed over
  assert.ok(poolOf(session).loopStarts - starts <= 4, `${poolOf(session).loopStarts - starts} loops started for 20 back-to-back runs`);
  await session.release();
});

Loops("runs after the workers sleep, and after their loops return, give the same bits", async () => {
  const session = await Session.create(model, { threads: 3 });
  const first = (await session.run(input)).data;
  await sleep(5); // past the spin: the workers sleep in their linger and must be woken
  assertBitwiseEqual((await session.run(input)).data, first, "after a sleep in the linger");
  const starts = poolOf(session).loopStarts;
  await sleep(80); // past the linger: the loops have returned
  assertBitwiseEqual((await session.run(input)).data, first, "after the loops returned");
  assert.is(poolOf(session).loopStarts, starts + 3, "each index got a new loop");
  await session.release();
});

Loops("a worker that dies while the others linger fails only its run; the next starts a new loop", async () => {
  const session = await Session.create(model, { threads: 2, splitImages: "always" });
  // batch 1, split: both workers run every step of the image (at batch 2 each claims whole
  // images, and the faulty worker may find none left)
  const one = { data: input.data.subarray(0, 3 * 45 * 37), dims: [1, 3, 45, 37] };
  const first = (await session.run(one)).data;
  injectFaultForTesting(session, { worker: 0, at: 2, mode: "exit" });
  try {
    await session.run(one);
    assert.unreachable("the run whose worker died should reject");
  } catch (e) {
    assert.match(e.message, /^a worker failed during the run: /, e.message);
  }
  for (let i = 0; i < 3; i++) assertBitwiseEqual((await session.run(one)).data, first, `run ${i} after the death`);
  await session.release();
});

Loops("release() right after a run returns promptly, lingering loops and all", async () => {
  const session = await Session.create(model, { threads: 2 });
  await session.run(input);
  const t0 = performance.now();
  await session.release();
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `release took ${ms.toFixed(0)} ms`);
});

Mail.run();
Loops.run();
