// Dynamic work claiming and the plan's sync points. Kernel level: each op kernel, handed a
// claim record, computes exactly the chunks it claims — resuming at chunk k (as if other
// workers had taken chunks 0..k-1) it writes a suffix of the output that shrinks with k and
// leaves the rest untouched, the chunks together cover every output once, each value bitwise
// the static one, and the record counts them all done. Session level:
// "static" and "dynamic" schedules give the same bits at 1..4 threads and any batch
// composition. Plan level: sync points from arena ranges.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { LinearMemory } from "../dist/kernels/memory.js";
import { CLAIM_COUNT, CLAIM_DONE, CLAIM_MAX_RANGES, CLAIM_NEXT } from "../dist/kernels/layout.js";
import { OP_KERNELS } from "../dist/kernels/op_kernels.js";
import { packGraph } from "../dist/plan/pack_weights.js";
import { planGraph } from "../dist/plan/plan.js";
import { scratchBytes } from "../dist/plan/scratch.js";
import { syncPoints } from "../dist/plan/sync.js";
import { useWinograd } from "../dist/plan/winograd.js";
import { claimRecordBytes } from "../dist/runtime/claim.js";
import { compileKernels, instantiateKernels, kernelTable } from "../dist/runtime/kernels.js";
import { densenet, failsWith } from "./cli_helpers.mjs";
import { assertBitwiseEqual, fixture, randomArray, rejectsWith, singleOpGraph } from "./helpers.mjs";

const CHUNKS_PER_WORKER = 16; // assembly/desc.ts
const POISON = 0x7fc0beef; // a NaN no kernel writes

const conv = (cin, cout, k, seed) => ({
  kind: "conv",
  name: "conv",
  inChannels: cin,
  outChannels: cout,
  kernel: [k, k],
  stride: [1, 1],
  pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0],
  dilation: [1, 1],
  weight: randomArray(cout * cin * k * k, seed, 0.3),
  bias: randomArray(cout, seed + 1, 0.3),
  pre: { scale: randomArray(cin, seed + 2).map((v) => 0.5 + Math.abs(v)), shift: randomArray(cin, seed + 3, 0.5), relu: true },
  relu: true,
});

/**
 * The record's range counters as if chunks 0..k-1 of `count` had been claimed: the chunks are
 * split into min(nth, CLAIM_MAX_RANGES) home ranges as shareStart splits them (assembly/desc.ts).
 */
function claimedBefore(k, count, nth) {
  const ranges = Math.min(nth, CLAIM_MAX_RANGES);
  const start = (r) => Math.floor((count * r) / ranges);
  return Array.from({ length: ranges }, (_, r) => Math.min(Math.max(k - start(r), 0), start(r + 1) - start(r)));
}

/**
 * Plans `graph`, runs every step with static shares on one worker, then reruns its last step
 * with a claim record: first by worker 0 then the nth - 1 others (who find nothing left),
 * then for each k from chunk k on (as if chunks 0..k-1 were taken), by worker nth - 1.
 * Returns what each rerun wrote and the record's [done, count].
 */
async function claimRuns(graph, input, h, w, nth) {
  const mem = new LinearMemory();
  const kernels = instantiateKernels((await compileKernels()).module, mem.memory);
  const table = kernelTable(mem.memory, kernels);
  const plan = planGraph(packGraph(graph, mem), mem, h, w);
  const arena = mem.alloc(plan.arenaBytes);
  const scratch = mem.alloc(scratchBytes(graph, kernels));
  const record = mem.alloc(claimRecordBytes(nth));
  const words = () => mem.u32(record, claimRecordBytes(nth) / 4);
  const state = () => [words()[CLAIM_DONE], words()[CLAIM_COUNT]];
  mem.f32(arena + plan.inputOffset, plan.inputElements).set(input);
  const last = plan.steps.length - 1;
  const call = (s, ith, claim, n = nth) =>
    table.kernels[OP_KERNELS.indexOf(plan.steps[s].kernel)](plan.steps[s].desc, arena, scratch, ith, n, claim);
  for (let s = 0; s <= last; s++) call(s, 0, 0, 1);
  const out = graph.buffers[graph.output];
  const size = plan.sizes[graph.output];
  const view = () => mem.u32(arena + plan.bufferOffsets[graph.output], out.channels * size.height * size.width);
  const reference = view().slice();
  const rerun = (k, count, ith) => {
    view().fill(POISON);
    words().fill(0);
    words().set(claimedBefore(k, count, nth), CLAIM_NEXT);
    call(last, ith, record);
    return { written: view().slice(), record: state() };
  };
  const first = rerun(0, 1, 0);
  for (let ith = 1; ith < nth; ith++) call(last, ith, record); // the others find no chunk left
  const count = first.record[1];
  const afterAll = state();
  const resumed = [];
  for (let k = 0; k <= count; k++) resumed.push(rerun(k, count, nth - 1));
  return { reference, count, afterAll, resumed };
}

/** Checks the chunks of a claimed step (see the file's comment); `total`: its work units. */
function checkChunks({ reference, count, afterAll, resumed }, total, nth, what) {
  assert.is(count, Math.min(total, CHUNKS_PER_WORKER * nth), `${what}: chunk count`);
  assert.equal(afterAll, [count, count], `${what}: record after ${nth} claimers`);
  assertBitwiseEqual(new Float32Array(resumed[0].written.buffer), new Float32Array(reference.buffer), `${what}: all chunks`);
  const owner = new Int32Array(reference.length).fill(-1);
  for (let k = 0; k <= count; k++) {
    const { written, record } = resumed[k];
    assert.equal(record, [count - k, count], `${what}: record resuming at chunk ${k}`);
    for (let i = 0; i < written.length; i++) {
      if (written[i] === POISON) continue;
      if (written[i] !== reference[i]) assert.unreachable(`${what}: value ${i} from chunk ${k} on differs from the static one`);
      if (owner[i] === -1 || owner[i] === k - 1)
        owner[i] = k; // the last k whose suffix still writes it
      else assert.unreachable(`${what}: value ${i} written from chunk ${k} on, but not from chunk ${k - 1} on`);
    }
  }
  assert.ok(!resumed[count].written.some((v) => v !== POISON), `${what}: resuming past the last chunk writes nothing`);
  for (let k = 0; k < count; k++) assert.ok(owner.includes(k), `${what}: chunk ${k} computes something`);
  return owner;
}

const Kernels = suite("claimed chunks, kernel by kernel");

for (const nth of [3, 4, 20]) {
  Kernels(
    `conv 1x1 (GEMM) at ${nth} claimers (${Math.min(nth, CLAIM_MAX_RANGES)} home ranges): chunks are whole pixel panels where there are enough`,
    async () => {
      const [cin, cout, h, w] = [20, 10, 24, 23]; // 69 panels of 8 pixels x 3 blocks of 4 channels
      const runs = await claimRuns(singleOpGraph(conv(cin, cout, 1, 40), cin, cout), randomArray(cin * h * w, 41), h, w, nth);
      const owner = checkChunks(runs, 69 * 3, nth, "conv 1x1");
      if (69 >= runs.count) {
        // Each pixel's channels all belong to one chunk (a chunk packs each of its panels once).
        for (let p = 0; p < h * w; p++) for (let c = 1; c < cout; c++) assert.is(owner[c * h * w + p], owner[p], `pixel ${p}`);
      }
    },
  );
}

for (const nth of [2, 3]) {
  Kernels(`conv 1x1 whose pixel panels all fit one group (7 panels x 40 blocks, block-major) at ${nth} claimers`, async () => {
    const [cin, cout, h, w] = [24, 160, 7, 8];
    const runs = await claimRuns(singleOpGraph(conv(cin, cout, 1, 42), cin, cout), randomArray(cin * h * w, 43), h, w, nth);
    const owner = checkChunks(runs, 7 * 40, nth, "conv 1x1, block-major");
    if (40 >= runs.count) {
      // Each block of 4 channels belongs to one chunk, over all its pixels.
      for (let c = 0; c < cout; c++)
        for (let p = 0; p < h * w; p++) assert.is(owner[c * h * w + p], owner[(c & ~3) * h * w], `channel ${c}, pixel ${p}`);
    }
  });
}

Kernels("conv 1x1 over two K blocks (K = 1200) at 4 claimers, chunks of one tile", async () => {
  const [cin, cout, h, w] = [1200, 12, 3, 5]; // 2 panels x 3 blocks: 6 chunks of one unit each
  const runs = await claimRuns(singleOpGraph(conv(cin, cout, 1, 45), cin, cout), randomArray(cin * h * w, 46), h, w, 4);
  checkChunks(runs, 2 * 3, 4, "conv 1x1, K = 1200");
});

Kernels("conv 7x7 im2col GEMM and Winograd 3x3 at 2 claimers", async () => {
  const im2col = singleOpGraph(
    { ...conv(3, 8, 3, 50), kernel: [7, 7], pads: [3, 3, 3, 3], weight: randomArray(8 * 3 * 49, 50, 0.1) },
    3,
    8,
  );
  checkChunks(await claimRuns(im2col, randomArray(3 * 40 * 30, 51), 40, 30, 2), 150 * 2, 2, "conv 7x7");
  // tiles: 20 rows of 23: 5 runs of 4 each (100 groups), then 60 left (15 groups): 58 panels; 3 blocks
  const [cin, cout, h, w] = [6, 9, 40, 45];
  const wino = useWinograd(singleOpGraph(conv(cin, cout, 3, 60), cin, cout));
  checkChunks(await claimRuns(wino, randomArray(cin * h * w, 61), h, w, 2), 58 * 3, 2, "winograd");
});

Kernels("pad, pool, global pool, linear and softmax split channels or rows; softmax is one chunk", async () => {
  const pre = { scale: randomArray(11, 70).map((v) => 1 + Math.abs(v)), shift: randomArray(11, 71), relu: true };
  const pad = singleOpGraph({ kind: "winogradInput", name: "pad", channels: 11, pre }, 11, 11);
  checkChunks(await claimRuns(pad, randomArray(11 * 6 * 5, 73), 6, 5, 2), 11, 2, "pad");
  const pool = { kind: "pool", name: "pool", channels: 11, mode: "avg", kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0] };
  const poolOp = { ...pool, dilation: [1, 1], ceilMode: false, countIncludePad: false, pre };
  checkChunks(await claimRuns(singleOpGraph(poolOp, 11, 11), randomArray(11 * 8 * 6, 74), 8, 6, 3), 11, 3, "avg pool");
  const gp = { kind: "globalPool", name: "gp", mode: "avg", channels: 11, pre };
  checkChunks(await claimRuns(singleOpGraph(gp, 11, 11), randomArray(11 * 5 * 5, 75), 5, 5, 2), 11, 2, "global pool");
  const fc = { kind: "linear", name: "fc", inFeatures: 37, outFeatures: 5, weight: randomArray(5 * 37, 76), bias: randomArray(5, 77) };
  checkChunks(await claimRuns(singleOpGraph(fc, 37, 5), randomArray(37, 78), 1, 1, 2), 5, 2, "linear");
  const sm = { kind: "softmax", name: "softmax", channels: 9 };
  checkChunks(await claimRuns(singleOpGraph(sm, 9, 9), randomArray(9, 79, 3), 1, 1, 3), 1, 3, "softmax");
});

Kernels.run();

const Schedules = suite("schedules: static and dynamic");

async function outputs(model, options, input) {
  const session = await Session.create(model, options);
  try {
    return (await session.run(input)).data;
  } finally {
    await session.release();
  }
}

Schedules("narrow_odd: static and dynamic at 2, 3, 4 threads, batches 1 to 5, bitwise equal to 1 thread", async () => {
  const [h, w] = [45, 37];
  const model = fixture("narrow_odd.safetensors");
  const images = randomArray(5 * 3 * h * w, 90);
  const one = await outputs(model, { threads: 1 }, { data: images, dims: [5, 3, h, w] });
  const classes = one.length / 5;
  for (const schedule of /** @type {const} */ (["static", "dynamic"])) {
    for (const threads of [2, 3, 4]) {
      // Batch b: b images, of which (b mod threads) are shared by all workers.
      for (const batch of threads === 3 ? [1, 2, 4, 5] : [1, 5]) {
        const y = await outputs(model, { threads, schedule }, { data: images.subarray(0, batch * 3 * h * w), dims: [batch, 3, h, w] });
        assertBitwiseEqual(y, one.subarray(0, batch * classes), `${schedule}, ${threads} threads, batch ${batch}`);
      }
    }
  }
});

Schedules(
  "tiny121 (DenseNet-121 blocks) at 224x224: dynamic at 3 threads and static at 2, batch 1, bitwise equal to 1 thread",
  async () => {
    const model = fixture("tiny121.safetensors");
    const x = { data: randomArray(3 * 224 * 224, 91), dims: [1, 3, 224, 224] };
    const one = await outputs(model, { threads: 1 }, x);
    const split = /** @type {const} */ ("always"); // a model this small would otherwise run the image whole on one worker
    assertBitwiseEqual(await outputs(model, { threads: 3, schedule: "dynamic", splitImages: split }, x), one, "dynamic, 3 threads");
    assertBitwiseEqual(await outputs(model, { threads: 2, schedule: "static", splitImages: split }, x), one, "static, 2 threads");
  },
);

Schedules("a worker that throws mid-run under either schedule rejects that run; the next succeeds", async () => {
  const { injectFaultForTesting } = await import("../dist/session/fault.js");
  for (const schedule of /** @type {const} */ (["static", "dynamic"])) {
    const session = await Session.create(fixture("narrow_odd.safetensors"), { threads: 3, schedule, splitImages: "always" });
    const x = { data: randomArray(2 * 3 * 45 * 37, 92), dims: [2, 3, 45, 37] };
    const expected = (await session.run(x)).data;
    injectFaultForTesting(session, { worker: 2, at: 3, mode: "throw" });
    await rejectsWith(session.run(x), /a worker failed during the run: injected fault at step 3/);
    assertBitwiseEqual((await session.run(x)).data, expected, `${schedule}: the run after the failure`);
    await session.release();
  }
});

Schedules("schedule option: anything but 'static' or 'dynamic' is refused", async () => {
  for (const bad of ["fast", 1, "", false]) {
    // @ts-expect-error: a wrong value, on purpose
    await rejectsWith(Session.create(fixture("narrow_odd.safetensors"), { schedule: bad }), /schedule must be "static" or "dynamic"/);
  }
});

Schedules("densenet bench --schedule static|dynamic runs; another value is a one-line error", () => {
  const model = fixture("narrow_odd.safetensors");
  for (const schedule of ["static", "dynamic"]) {
    const r = densenet(
      "bench",
      "--model",
      model,
      "--size",
      "40",
      "--runs",
      "1",
      "--warmup",
      "0",
      "--threads",
      "2",
      "--schedule",
      schedule,
      "--json",
    );
    assert.is(r.code, 0, r.stderr);
    assert.is(JSON.parse(r.stdout).threads, 2);
  }
  failsWith(["bench", "--model", model, "--threads", "2", "--schedule", "fastest"], /schedule must be "static" or "dynamic", got fastest/);
});

Schedules.run();

const Sync = suite("sync points");

Sync("a step waits after a write it reads or overwrites, or before overwriting what is read; else it runs on", () => {
  const step = (reads, writes) => ({ reads, writes });
  const points = syncPoints([
    step([[0, 100]], [[100, 200]]), // 0: reads the input
    step([[0, 100]], [[200, 300]]), // 1: reads the input too: independent of 0
    step([[150, 250]], [[300, 400]]), // 2: reads what 0 and 1 wrote
    step([[0, 50]], [[400, 500]]), // 3: independent of 2 (0 and 1 are done)
    step([[450, 460]], [[600, 700]]), // 4: reads 3's output
    step([[0, 10]], [[500, 600]]), // 5: writes next to 4's output, touching nothing of 4's
    step([[0, 10]], [[455, 456]]), // 6: writes bytes 4 reads (write after read)
    step([[900, 901]], [[455, 456]]), // 7: writes what 6 wrote (write after write)
  ]);
  assert.equal(points, [true, false, true, false, true, false, true, true]);
});

Sync("DenseNet-121's plan is a chain: every step reads its predecessor's output, so every step waits", async () => {
  const session = await Session.create("densenet121", { threads: 1 });
  const plan = session.plan(64, 64);
  // conv0, pool0, 58 layers' conv1 and conv2, 3 transitions' pool and conv, norm5 + avgpool and
  // the classifier: no pad step (each conv2's input is written padded by its conv1)
  assert.is(plan.steps.length, 126);
  assert.ok(plan.steps.every((s) => !s.name.endsWith(".pad")));
  assert.ok(plan.sync.every((w) => w));
  await session.release();
});

Sync.run();
