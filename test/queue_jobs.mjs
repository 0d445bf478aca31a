// Jobs for the queue tests: valid requests (with their references from an in-process
// Session.run) and invalid ones of every kind (with the error the protocol gives them), and
// the checks that a queue's final state matches them.
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { SeededRandom } from "../dist/model/random_weights.js";
import { processJob } from "../dist/queue/job.js";
import { assertBitwiseEqual, fixturesDir } from "./helpers.mjs";

export const MODEL = "narrow_odd";
export const MODEL_PATH = new URL("narrow_odd.safetensors", fixturesDir).pathname;

/** Values on a 1/8 grid: exact in float32 and short in JSON. */
function image(rng, n) {
  return Array.from({ length: n }, () => Math.round(rng.normal() * 8) / 8);
}

/** A valid job's data: the v2 infer body plus "model"; `nested`: data as nested arrays. */
function validJob(rng, index) {
  const batch = index % 7 === 0 ? 2 : 1;
  const h = 16 + (index % 5) * 4,
    w = 16 + (index % 3) * 8;
  const flat = image(rng, batch * 3 * h * w);
  const data = index % 11 === 0 ? nest(flat, [batch, 3, h, w]) : flat;
  return {
    data: {
      model: MODEL,
      ...(index % 2 ? { id: `request-${index}` } : {}),
      inputs: [{ name: "input", shape: [batch, 3, h, w], datatype: "FP32", data }],
    },
    input: { data: Float32Array.from(flat), dims: [batch, 3, h, w] },
  };
}

function nest(flat, dims) {
  if (dims.length === 1) return flat;
  const size = flat.length / dims[0];
  return Array.from({ length: dims[0] }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), dims.slice(1)));
}

const tensor = (shape, data) => ({ name: "input", shape, datatype: "FP32", data });

/** Invalid job data, one of each kind, cycled. */
const INVALID = [
  (rng) => ({ model: "no-such-model", inputs: [tensor([1, 3, 16, 16], image(rng, 768))] }),
  (rng) => ({ inputs: [tensor([1, 3, 16, 16], image(rng, 768))] }),
  (rng) => ({ model: MODEL, inputs: [tensor([1, 1, 16, 16], image(rng, 256))] }),
  (rng) => ({ model: MODEL, inputs: [tensor([1, 3, 16, 16], image(rng, 700))] }),
  (rng) => ({ model: MODEL, inputs: [tensor([1, 3, 16, 16], [...image(rng, 767), "x"])] }),
  (rng) => ({ model: MODEL, inputs: [tensor([1, 3, 16, 16], [...image(rng, 767), 1e39])] }),
  (rng) => ({ model: MODEL, inputs: [tensor([1, 3, 8, 8], image(rng, 192))] }),
  () => ({ model: MODEL, inputs: [] }),
  (rng) => ({ model: MODEL, inputs: [{ ...tensor([1, 3, 16, 16], image(rng, 768)), datatype: "INT64" }] }),
  () => ({ model: MODEL, inputs: [tensor([5000, 3, 16, 16], [1, 2, 3])] }),
  () => ({ model: 7 }),
  () => [1, 2, 3],
];

/**
 * `count` jobs, every `invalidEvery`-th one invalid. Each has its expected outcome: for a
 * valid one, the logits of Session.run on its input (computed here, in this process); for an
 * invalid one, the one-line error of the same data run here.
 */
export async function makeJobs(count, { seed = 1, invalidEvery = 4, offset = 0 } = {}) {
  const rng = new SeededRandom(seed);
  const session = await Session.create(MODEL_PATH, { threads: 1 });
  const jobs = [];
  try {
    for (let i = offset; i < offset + count; i++) {
      const name = `job-${i}`;
      if (i % invalidEvery === invalidEvery - 1) {
        const data = INVALID[Math.floor(i / invalidEvery) % INVALID.length](rng);
        const error = await processJob(new Map([[MODEL, session]]), data).then(
          () => null,
          (e) => e,
        );
        assert.ok(error instanceof Error && error.name === "DenseNetError", `invalid job ${i} must be refused: ${error}`);
        jobs.push({ name, data, valid: false, error: error.message });
      } else {
        const { data, input } = validJob(rng, i);
        const logits = await session.run(input);
        jobs.push({ name, data, valid: true, logits });
      }
    }
  } finally {
    await session.release();
  }
  return jobs;
}

/** Every event of the queue's event stream (BullMQ's `bull:<queue>:events`), as objects. */
export async function queueEvents(redis, queue) {
  const entries = await redis.xrange(`bull:${queue}:events`, "-", "+");
  return entries.map(([, fields]) => {
    const event = {};
    for (let i = 0; i < fields.length; i += 2) event[fields[i]] = fields[i + 1];
    return event;
  });
}

/**
 * Checks the final state of every job: a valid one completed exactly once (one "completed"
 * event, no "failed"), its value the HTTP response body with logits bitwise equal to the
 * reference; an invalid one failed exactly once with its error, after one attempt.
 */
export async function checkOutcomes(queue, redis, jobs, added) {
  const events = await queueEvents(redis, queue.name);
  const count = (jobId, kind) => events.filter((e) => e.jobId === jobId && e.event === kind).length;
  for (const [i, expected] of jobs.entries()) {
    const job = await queue.getJob(added[i].id);
    const state = await job.getState();
    const what = `${expected.name} (id ${job.id})`;
    if (expected.valid) {
      assert.is(state, "completed", `${what}: state (failed: ${job.failedReason})`);
      assert.is(count(job.id, "completed"), 1, `${what}: completed events`);
      assert.is(count(job.id, "failed"), 0, `${what}: failed events`);
      const body = job.returnvalue;
      assert.equal(
        Object.keys(body).sort(),
        expected.data.id ? ["id", "model_name", "model_version", "outputs"] : ["model_name", "model_version", "outputs"],
        what,
      );
      assert.is(body.model_name, MODEL, what);
      assert.is(body.id, expected.data.id, what);
      assert.is(body.outputs.length, 1, what);
      assert.equal(body.outputs[0].shape, [...expected.logits.dims], what);
      assert.is(body.outputs[0].datatype, "FP32", what);
      assertBitwiseEqual(Float32Array.from(body.outputs[0].data), expected.logits.data, `${what} logits`);
    } else {
      assert.is(state, "failed", `${what}: state`);
      assert.is(job.failedReason, expected.error, `${what}: error`);
      assert.is(job.attemptsMade, 1, `${what}: attempts (its options allow 3)`);
      assert.is(count(job.id, "failed"), 1, `${what}: failed events`);
      assert.is(count(job.id, "completed"), 0, `${what}: completed events`);
    }
  }
  return events;
}

export const IMAGE_MODEL = "imagenet-small";
export const IMAGE_MODEL_PATH = new URL("classify/imagenet-small.safetensors", fixturesDir).pathname;
const IMAGES = ["chelsea.jpg", "coffee-444.jpg", "astronaut-progressive.jpg", "camera-grey.png"];

/**
 * Image-form jobs `{"model", "image": base64, "top"}` with their expected answers: the body
 * of serve's /classify (model_name, model_version, top) with `top` from classify() run here;
 * and invalid ones with the error the same data gets here.
 */
export async function makeImageJobs() {
  const { readFileSync } = await import("node:fs");
  const { classify } = await import("../dist/classify.js");
  const session = await Session.create(IMAGE_MODEL_PATH, { threads: 1 });
  const sessions = new Map([
    [MODEL, session],
    [IMAGE_MODEL, session],
  ]);
  const jobs = [];
  try {
    for (const [i, file] of IMAGES.entries()) {
      const bytes = readFileSync(new URL(`classify/${file}`, fixturesDir));
      const top = i % 2 ? 3 : undefined;
      const [result] = await classify(session, [bytes], { top: top ?? 5 });
      if (!("top" in result)) throw new Error(`${file}: ${result.error}`);
      jobs.push({
        name: file,
        file,
        valid: true,
        data: { model: IMAGE_MODEL, image: bytes.toString("base64"), ...(top ? { top } : {}) },
        expected: { model_name: IMAGE_MODEL, model_version: "1", top: result.top },
      });
    }
    const png = readFileSync(new URL("classify/camera-grey.png", fixturesDir));
    const invalid = [
      { model: IMAGE_MODEL, image: "not base64!" },
      { model: IMAGE_MODEL, image: png.subarray(0, 200).toString("base64") },
      { model: IMAGE_MODEL, image: Buffer.from("GIF89a not a supported image").toString("base64") },
      { model: IMAGE_MODEL, image: png.toString("base64"), top: 0 },
      { model: IMAGE_MODEL, image: png.toString("base64"), top: 1001 },
      { model: IMAGE_MODEL, image: 12 },
      { model: IMAGE_MODEL, image: png.toString("base64"), inputs: [] },
    ];
    for (const [i, data] of invalid.entries()) {
      const error = await processJob(sessions, data).then(
        () => null,
        (e) => e,
      );
      assert.ok(error instanceof Error && error.name === "DenseNetError", `invalid image job ${i} must be refused: ${error}`);
      jobs.push({ name: `bad-image-${i}`, valid: false, data, error: error.message });
    }
  } finally {
    await session.release();
  }
  return jobs;
}
