// Operator semantics that changed across ai.onnx opsets 7-25 and that the backend node tests
// (which use each op's newest opset) do not cover: Softmax's 2-D coercion before opset 13,
// Clip and Pad bounds as attributes before opset 11, Pad's axes input from opset 18.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { assertWithin } from "./helpers.mjs";
import { attr, model, node, rejectsWith, valueInfo } from "./onnx_helpers.mjs";

/** The first output of a one-output model on `feeds` (float32). @returns {Promise<import("../dist/index.js").Tensor>} */
async function run(bytes, feeds) {
  const session = await Session.create(bytes);
  const outputs = await session.runNamed(feeds);
  await session.release();
  return /** @type {import("../dist/index.js").Tensor} */ (Object.values(outputs)[0]);
}

const iota = (dims) => ({ data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => (i % 7) - 3), dims });

const Opsets = suite("ONNX operators across opsets");

Opsets("Softmax before opset 13 normalises over all dimensions from axis on", async () => {
  const x = iota([2, 3, 4]);
  const y = await run(
    model({
      opset: 11,
      nodes: [node("Softmax", ["x"], ["y"], "s", [attr.int("axis", 1)])],
      inputs: [valueInfo("x", [2, 3, 4])],
      outputs: [valueInfo("y", [2, 3, 4])],
    }),
    { x },
  );
  const expected = new Float32Array(24);
  for (let n = 0; n < 2; n++) {
    const row = x.data.subarray(n * 12, n * 12 + 12);
    const sum = row.reduce((s, v) => s + Math.exp(v), 0);
    row.forEach((v, i) => {
      expected[n * 12 + i] = Math.exp(v) / sum;
    });
  }
  assertWithin(y.data, expected, () => 1e-6, "softmax opset 11");
});

Opsets("Clip before opset 11 takes min and max attributes", async () => {
  const x = iota([7]);
  const y = await run(
    model({
      opset: 9,
      nodes: [node("Clip", ["x"], ["y"], "c", [attr.float("min", -1.5), attr.float("max", 2)])],
      inputs: [valueInfo("x", [7])],
      outputs: [valueInfo("y", [7])],
    }),
    { x },
  );
  assert.equal(Array.from(y.data), [-1.5, -1.5, -1, 0, 1, 2, 2]);
});

Opsets("Pad before opset 11 takes pads and value attributes; from 18 an axes input", async () => {
  const x = { data: Float32Array.of(1, 2, 3, 4), dims: [2, 2] };
  const old = await run(
    model({
      opset: 9,
      nodes: [node("Pad", ["x"], ["y"], "p", [attr.ints("pads", [1, 0, 0, 1]), attr.float("value", 9)])],
      inputs: [valueInfo("x", [2, 2])],
      outputs: [valueInfo("y", [3, 3])],
    }),
    { x },
  );
  assert.equal(old.dims, [3, 3]);
  assert.equal(Array.from(old.data), [9, 9, 9, 1, 2, 9, 3, 4, 9]);
  const withAxes = await run(
    model({
      opset: 18,
      nodes: [node("Pad", ["x", "pads", "value", "axes"], ["y"], "p")],
      inputs: [valueInfo("x", [2, 2])],
      outputs: [valueInfo("y", [2, 3])],
      initializers: [
        { name: "pads", dims: [2], dataType: 7, int64Data: [0, 1] },
        { name: "value", dims: [], dataType: 1, floatData: [5] },
        { name: "axes", dims: [1], dataType: 7, int64Data: [-1] },
      ],
    }),
    { x },
  );
  assert.equal(Array.from(withAxes.data), [1, 2, 5, 3, 4, 5]);
});

Opsets("BatchNormalization at opset 7 accepts spatial = 1 and refuses spatial = 0", async () => {
  const params = ["s", "b", "m", "v"].map((name) => ({ name, dims: [2], dataType: 1, floatData: [1, 1] }));
  const bn = (spatial) =>
    model({
      opset: 7,
      nodes: [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], "bn", [attr.int("spatial", spatial)])],
      inputs: [valueInfo("x", [1, 2, 2])],
      outputs: [valueInfo("y", [1, 2, 2])],
      initializers: params,
    });
  const y = await run(bn(1), { x: { data: Float32Array.of(1, 2, 3, 4), dims: [1, 2, 2] } });
  assertWithin(
    y.data,
    Float32Array.of(1, 2, 3, 4).map((v) => (v - 1) / Math.sqrt(1 + 1e-5) + 1),
    () => 1e-6,
    "bn",
  );
  await rejectsWith(Session.create(bn(0)), /BatchNormalization "bn": spatial = 0 \(per-element statistics\) is not supported/);
});

Opsets.run();
