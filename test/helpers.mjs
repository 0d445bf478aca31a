// Shared test helpers: a seeded generator, closeness assertions, and a harness that plans and
// runs a small graph IR directly on the kernels (simulating nth workers step by step).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";
import { Assertion } from "uvu/assert";
import { DenseNetError, parseNpy } from "../dist/index.js";
import { SeededRandom } from "../dist/model/random_weights.js";
import { packGraph } from "../dist/plan/pack_weights.js";
import { planGraph } from "../dist/plan/plan.js";
import { scratchBytes } from "../dist/plan/scratch.js";
import { runSchedule } from "../dist/runtime/executor.js";
import { compileKernels, instantiateKernels, kernelTable } from "../dist/runtime/kernels.js";
import { LinearMemory } from "../dist/kernels/memory.js";

export const fixturesDir = new URL("./fixtures/", import.meta.url);

/** The file-system path of test/fixtures/<name>. */
export const fixture = (name) => fileURLToPath(new URL(name, fixturesDir));

/** test/fixtures/<name>, a float32 .npy, parsed. */
export const fixtureNpy = (name) => parseNpy(readFileSync(fixture(name)));

/** safetensors bytes: the 8-byte header length, the JSON `header`, then `data`. */
export function encodeSafetensors(header, data = new Uint8Array(0)) {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** A safetensors file of F32 tensors (name -> { shape, data: Float32Array }; entries without data are left out). */
export function writeSafetensors(tensors) {
  const header = {};
  const parts = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (!t.data) continue;
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    offset += t.data.byteLength;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return encodeSafetensors(header, data);
}

/** Float32 values that test exact arithmetic: signed zeros, subnormals and float32's extremes. */
export const SPECIAL_FLOATS = [
  0, -0, 1.401298464324817e-45, -1.401298464324817e-45, 3.4028234663852886e38, -3.4028234663852886e38, 1e-38, 0.5, -2,
];

/** n float32 weights from `rng` (a SeededRandom): one in ten from SPECIAL_FLOATS, the rest normal at scales 1e-4..1e3. */
export function specialWeights(n, rng) {
  return new Float32Array(n).map(() =>
    rng.uniform() < 0.1
      ? SPECIAL_FLOATS[Math.floor(rng.uniform() * SPECIAL_FLOATS.length)]
      : rng.normal() * 10 ** (Math.floor(rng.uniform() * 8) - 4),
  );
}

/** Unit roundoff of float32. */
export const U32 = 2 ** -24;

export function randomArray(n, seed, scale = 1) {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

/** Throws uvu's Assertion naming the first element where |actual - expected| > bound(i). */
export function assertWithin(actual, expected, bound, what) {
  if (actual.length !== expected.length) {
    throw new Assertion({
      message: `${what}: length ${actual.length} != ${expected.length}`,
      operator: "within",
      actual: actual.length,
      expects: expected.length,
    });
  }
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= bound(i))) {
      throw new Assertion({
        message: `${what}: index ${i}: expected ${expected[i]}, got ${actual[i]} (|err| ${err.toExponential(2)} > ${bound(i).toExponential(2)})`,
        operator: "within",
        actual: actual[i],
        expects: expected[i],
        generated: true,
      });
    }
  }
}

export function assertBitwiseEqual(actual, expected, what) {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  assertWithin(a, e, () => 0, `${what} (bit patterns)`);
}

/** Bytes after each scratch area that the harness fills with a pattern and checks afterwards. */
const GUARD_BYTES = 4096;
const GUARD_WORD = 0x7fc0dead; // a NaN no kernel writes
/** A quiet NaN (0x7fc0...) that the arena and the scratch start as in runGraph. */
const NAN_WORD = 0x7fc0f00d;

/**
 * Plans `graph` for an input of (C, height, width), runs it with nth simulated workers on the
 * session's executor (after worker 0's share of each step, the other workers' shares of it
 * run one after another, as if separated by barriers) and returns every
 * buffer's contents by index. Each worker's scratch is sized as the session sizes it
 * (scratchBytes) and followed by a guard area: a kernel that writes past its scratch fails.
 * @param {{ nth?: number, microKernel?: import("../dist/plan/panels.js").MicroKernel }} [options]
 */
export async function runGraph(graph, input, height, width, options = {}) {
  const { nth = 1, microKernel } = options;
  const mem = new LinearMemory();
  const kernels = instantiateKernels((await compileKernels()).module, mem.memory);
  const packed = packGraph(graph, mem, microKernel);
  const plan = planGraph(packed, mem, height, width);
  const arena = mem.alloc(plan.arenaBytes);
  const scratchSize = scratchBytes(packed, kernels);
  const scratch = Array.from({ length: nth }, () => {
    const at = mem.alloc(scratchSize + GUARD_BYTES);
    mem.u32(at + scratchSize, GUARD_BYTES / 4).fill(GUARD_WORD);
    return at;
  });
  // Every activation and scratch byte starts as NaN, not as fresh memory's zeros, so that a
  // kernel relying on memory it did not write (a padding margin, say) fails here as it would
  // on a reused arena; the input is written over it.
  mem.u32(arena, plan.arenaBytes / 4).fill(NAN_WORD);
  for (const at of scratch) mem.u32(at, scratchSize / 4).fill(NAN_WORD);
  mem.f32(arena + plan.inputOffset, plan.inputElements).set(input);
  const table = kernelTable(mem.memory, kernels);
  const schedule = { table: plan.schedule, steps: plan.steps.length };
  /** Step s alone: a one-entry slice of the schedule table. */
  const step = (s) => ({ table: plan.schedule + 8 * s, steps: 1 });
  runSchedule(table, schedule, arena, scratch[0], 0, nth, {
    after: (s) => {
      for (let ith = 1; ith < nth; ith++) runSchedule(table, step(s), arena, scratch[ith], ith, nth);
    },
  });
  for (const at of scratch) {
    const guard = mem.u32(at + scratchSize, GUARD_BYTES / 4);
    const i = guard.findIndex((word) => word !== GUARD_WORD);
    assert.ok(i < 0, `a kernel wrote past its ${scratchSize}-byte scratch (byte ${4 * i} after it)`);
  }
  return graph.buffers.map((b, i) => {
    const s = plan.sizes[i];
    return { height: s.height, width: s.width, data: mem.f32(arena + plan.bufferOffsets[i], b.channels * s.height * s.width).slice() };
  });
}

/**
 * The golden bound against PyTorch: max|y - ref| <= 1e-4 * max|ref| over the output, and the
 * same top-1 class in every row of ref's (N, classes, ...) layout.
 */
export function assertMatchesReference(y, ref) {
  let maxErr = 0,
    maxRef = 0;
  for (let i = 0; i < ref.data.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(y.data[i] - ref.data[i]));
    maxRef = Math.max(maxRef, Math.abs(ref.data[i]));
  }
  assert.ok(maxErr <= 1e-4 * maxRef, `max|err| ${maxErr.toExponential(3)} > 1e-4 * max|ref| ${maxRef.toExponential(3)}`);
  const [n] = ref.dims;
  const classes = ref.data.length / n;
  const argmax = (data, offset) => {
    let best = 0;
    for (let i = 1; i < classes; i++) if (data[offset + i] > data[offset + best]) best = i;
    return best;
  };
  for (let i = 0; i < n; i++) assert.is(argmax(y.data, i * classes), argmax(ref.data, i * classes), `top-1 of image ${i}`);
}

/** Asserts that `promise` rejects with a DenseNetError whose message is one line matching `pattern`. */
export async function rejectsWith(promise, pattern) {
  try {
    await promise;
  } catch (e) {
    assert.instance(e, DenseNetError, `expected a DenseNetError, got ${e?.stack ?? e}`);
    assert.ok(!e.message.includes("\n"), `message is not one line: ${JSON.stringify(e.message)}`);
    assert.ok(pattern.test(e.message), `message '${e.message}' does not match ${pattern}`);
    return e.message;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

/** A graph of one op from buffer 0 (the input) to buffer 1. */
export function singleOpGraph(op, inChannels, outChannels) {
  return {
    buffers: [
      { name: "x", channels: inChannels },
      { name: "y", channels: outChannels },
    ],
    ops: [{ ...op, input: { buffer: 0, channel: 0 }, output: { buffer: 1, channel: 0 } }],
    input: 0,
    output: 1,
  };
}
