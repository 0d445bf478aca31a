// Session.runParts: image batches run as one, without copying them (the server's batcher hands
// it the requests' own arrays). Checked against run() on each part alone (the runtime promises
// bitwise the same rows whatever the batch composition) and on the parts concatenated, on the
// planned kernels (1 and 2 threads) and on the interpreter, with the errors named as run()'s.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { assertBitwiseEqual, fixture, randomArray, rejectsWith } from "./helpers.mjs";
import { model, node, valueInfo } from "./onnx_helpers.mjs";

const Parts = suite("Session.runParts");

const images = (n, seed, side = 32) => ({ data: randomArray(n * 3 * side * side, seed), dims: [n, 3, side, side] });

/** The parts put together along N, computed here (not by the library's own concatenation). */
function concatenated(parts) {
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { data, dims: [parts.reduce((n, p) => n + p.dims[0], 0), ...parts[0].dims.slice(1)] };
}

for (const threads of [1, 2]) {
  Parts(`planned, ${threads} thread(s): each part's rows are bitwise run() on that part alone`, async () => {
    const s = await Session.create(fixture("legacy_keys.safetensors"), { threads });
    const parts = [images(1, 1), images(2, 2), images(1, 3), images(3, 4)];
    const kept = parts.map((p) => p.data.slice());
    const y = await s.runParts(parts);
    assert.equal(y.dims, [7, y.dims[1]]);
    const classes = y.dims[1];
    let row = 0;
    for (const [i, part] of parts.entries()) {
      const alone = await s.run(part);
      assertBitwiseEqual(y.data.subarray(row * classes, (row + part.dims[0]) * classes), alone.data, `part ${i}`);
      row += part.dims[0];
    }
    assertBitwiseEqual(y.data, (await s.run(concatenated(parts))).data, "run() on the concatenation");
    parts.forEach((p, i) => assertBitwiseEqual(p.data, kept[i], `part ${i} left as it was`));
    await s.release();
  });
}

Parts("planned: bad parts are one-line errors naming the problem, and the session still works", async () => {
  const s = await Session.create(fixture("legacy_keys.safetensors"));
  // @ts-expect-error: not an array
  await rejectsWith(s.runParts(images(1, 1)), /parts must be a non-empty array of tensors/);
  await rejectsWith(s.runParts([]), /parts must be a non-empty array of tensors/);
  await rejectsWith(s.runParts([images(1, 1), /** @type {any} */ (null)]), /input 'parts\[1\]' must be a tensor/);
  await rejectsWith(s.runParts([images(1, 1), images(1, 2, 40)]), /must have one shape \[N, 3, 32, 32\], got \[1, 3, 40, 40\]/);
  await rejectsWith(
    s.runParts([images(1, 1), { data: new Float32Array(32 * 32), dims: [1, 1, 32, 32] }]),
    /parts\[1\]: input has 1 channels/,
  );
  const nan = images(1, 5);
  nan.data[9] = NaN;
  await rejectsWith(s.runParts([images(1, 1), nan]), /parts\[1\]: input holds a non-finite value \(NaN\) at index 9/);
  await rejectsWith(s.runParts([images(4000, 1, 1), images(200, 1, 1)]), /batch 4200 exceeds the maximum of 4096/);
  const y = await s.runParts([images(1, 6)]);
  assertBitwiseEqual(y.data, (await s.run(images(1, 6))).data, "after the errors");
  await s.release();
  await rejectsWith(s.runParts([images(1, 1)]), /released/);
});

Parts("interpreted graph: runParts is run() on the concatenation", async () => {
  const bytes = model({
    nodes: [node("Sigmoid", ["input"], ["y"]), node("GlobalAveragePool", ["y"], ["pooled"]), node("Flatten", ["pooled"], ["logits"])],
    inputs: [valueInfo("input", ["N", 3, "H", "W"])],
    outputs: [valueInfo("logits", ["N", 3])],
  });
  const s = await Session.create(bytes);
  assert.is(s.info.execution, "interpreted");
  const parts = [images(2, 7, 8), images(1, 8, 8)];
  const y = await s.runParts(parts);
  assert.equal(y.dims, [3, 3]);
  assertBitwiseEqual(y.data, (await s.run(concatenated(parts))).data, "run() on the concatenation");
  await rejectsWith(s.runParts([images(1, 1, 8), images(1, 2, 9)]), /must have one shape \[N, 3, 8, 8\]/);
  await s.release();
});

Parts.run();
