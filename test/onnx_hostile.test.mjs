// Hostile and unsupported ONNX input: every problem is a one-line DenseNetError at load time
// naming what is wrong (and the op type and node where there is one), never a hang or a crash.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { SeededRandom } from "../dist/model/random_weights.js";
import { fixturesDir } from "./helpers.mjs";
import { attr, decodeToObject, encodeModel, floatTensor, model, node, rejectsWith, valueInfo } from "./onnx_helpers.mjs";

const exportBytes = () => readFileSync(new URL("onnx/narrow_odd.opset13.onnx", fixturesDir));

/** x (1, 3, 8, 8) -> Conv with weights w -> y. */
function convModel(weightDims, attributes = [], opset = 13) {
  return model({
    opset,
    nodes: [node("Conv", ["x", "w"], ["y"], "conv_3", attributes)],
    inputs: [valueInfo("x", [1, 3, 8, 8])],
    outputs: [valueInfo("y", [1, weightDims[0], 6, 6])],
    initializers: [floatTensor("w", weightDims)],
  });
}

const Hostile = suite("ONNX hostile input");

Hostile("a truncated file is a one-line error at every cut point", async () => {
  const bytes = exportBytes();
  for (const fraction of [0.001, 0.1, 0.5, 0.9, 0.9999]) {
    await rejectsWith(
      Session.create(bytes.subarray(0, Math.floor(bytes.length * fraction))),
      /truncated or corrupt|no graph|not a graph input, an initializer or any node's output|not produced by any node|holds \d+ values|raw data holds/,
    );
  }
});

Hostile("garbage bytes and other formats are refused", async () => {
  const rng = new SeededRandom(5);
  for (let trial = 0; trial < 20; trial++) {
    const garbage = Uint8Array.from({ length: 64 + trial * 37 }, () => Math.floor(rng.uniform() * 256));
    await rejectsWith(Session.create(garbage), /model bytes: /);
  }
  // ZIP bytes are read as a torch.save checkpoint.
  await rejectsWith(Session.create(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0])), /not a complete ZIP archive/);
  await rejectsWith(Session.create(new TextEncoder().encode("<html>not a model</html>")), /not an ONNX model \(it looks like a text file/);
  await rejectsWith(Session.create(new Uint8Array(0)), /not an ONNX model \(it looks like an empty file\)/);
  await rejectsWith(Session.create(encodeModel({ irVersion: 8, producerName: "no graph" })), /holds no graph/);
});

Hostile("a graph with a cycle names the nodes on it", async () => {
  const bytes = model({
    nodes: [node("Relu", ["x", ""], ["a"], "first"), node("Add", ["a", "c"], ["b"], "second"), node("Relu", ["b"], ["c"], "third")],
    inputs: [valueInfo("x", [2])],
    outputs: [valueInfo("c", [2])],
  });
  await rejectsWith(
    Session.create(bytes),
    /the graph has a cycle: (Add "second" -> Relu "third" -> Add "second"|Relu "third" -> Add "second" -> Relu "third")/,
  );
});

Hostile("a missing initializer names the node and the value", async () => {
  const bytes = model({
    nodes: [node("Conv", ["x", "conv.weight"], ["y"], "conv_1")],
    inputs: [valueInfo("x", [1, 3, 8, 8])],
    outputs: [valueInfo("y", [1, 4, 6, 6])],
  });
  await rejectsWith(
    Session.create(bytes),
    /Conv "conv_1": input 'conv.weight' is not a graph input, an initializer or any node's output \(a missing initializer\?\)/,
  );
});

Hostile("a planned model with a NaN in its weights is refused at load time, naming the initializer", async () => {
  const m = decodeToObject(exportBytes());
  const weight = m.graph.initializer.find((t) => t.name.endsWith("conv0.weight") || t.dims.length === 4);
  const raw = Uint8Array.from(weight.rawData);
  new DataView(raw.buffer).setFloat32(4 * 5, NaN, true);
  weight.rawData = raw;
  await rejectsWith(
    Session.create(encodeModel(m)),
    new RegExp(`initializer '${weight.name.replace(/[.]/g, "\\.")}' holds a non-finite value \\(NaN\\) at index 5`),
  );
});

Hostile("a Conv whose weights disagree with its input is refused at load time", async () => {
  await rejectsWith(
    Session.create(convModel([4, 5, 3, 3])),
    /Conv "conv_3": weight shape \[4, 5, 3, 3\] needs 5 input channels \(5 x group 1\), input \[1, 3, 8, 8\] has 3/,
  );
  await rejectsWith(
    Session.create(convModel([4, 3, 3, 3], [attr.ints("kernel_shape", [5, 5])])),
    /Conv "conv_3": kernel_shape \[5, 5\] disagrees with weight shape \[4, 3, 3, 3\]/,
  );
  await rejectsWith(Session.create(convModel([4, 3, 9, 9])), /Conv "conv_3": input \[1, 3, 8, 8\] is too small for kernel \[9, 9\]/);
});

Hostile("a corrupt initializer in a real export names the tensor", async () => {
  const m = decodeToObject(exportBytes());
  const w = m.graph.initializer[3];
  w.dims = [...w.dims, 2];
  await rejectsWith(
    Session.create(encodeModel(m)),
    new RegExp(`initializer '${w.name.replace(/[.]/g, "\\.")}': raw data holds \\d+ bytes, shape \\[.*\\] of float32 needs \\d+`),
  );
});

Hostile("a graph asking for a huge tensor is refused before anything is allocated", async () => {
  const bytes = model({
    nodes: [node("Pad", ["x", "pads"], ["y"], "pad_9")],
    inputs: [valueInfo("x", [1, 64, 2048, 2048])],
    outputs: [valueInfo("y", [1, 64, 4048, 4048])],
    initializers: [{ name: "pads", dims: [8], dataType: 7, int64Data: [0, 0, 1000, 1000, 0, 0, 1000, 1000] }],
  });
  await rejectsWith(
    Session.create(bytes),
    /Pad "pad_9": output 0 of shape \[1, 64, 4048, 4048\] would hold 1048723456 elements, over the limit/,
  );
  await rejectsWith(
    Session.create(convModel([4, 3, 3, 3], [attr.ints("strides", [1e6, 1])])),
    /Conv "conv_3": window attribute value 1000000 exceeds the supported 1024/,
  );
});

const Unsupported = suite("ONNX unsupported ops and attributes");

Unsupported("an unknown op names the op type and node", async () => {
  const bytes = model({ nodes: [node("LeakyRelu", ["x"], ["y"], "act_7")], inputs: [valueInfo("x", [2])], outputs: [valueInfo("y", [2])] });
  await rejectsWith(Session.create(bytes), /LeakyRelu "act_7": operator 'LeakyRelu' is not supported \(supported: Conv, /);
  const unnamed = model({
    nodes: [node("Relu", ["x"], ["h"]), node("Tanh", ["h"], ["y"])],
    inputs: [valueInfo("x", [2])],
    outputs: [valueInfo("y", [2])],
  });
  await rejectsWith(Session.create(unnamed), /Tanh #1: operator 'Tanh' is not supported/);
  const custom = encodeModel({
    irVersion: 8,
    opsetImport: [
      { domain: "", version: 13 },
      { domain: "com.microsoft", version: 1 },
    ],
    graph: {
      node: [{ opType: "FusedConv", domain: "com.microsoft", input: ["x"], output: ["y"], name: "fc" }],
      input: [valueInfo("x", [2])],
      output: [valueInfo("y", [2])],
    },
  });
  await rejectsWith(Session.create(custom), /FusedConv "fc": operator 'com\.microsoft::FusedConv' is not supported/);
});

Unsupported("unsupported attribute values name the op, node and value", async () => {
  const pad = (mode) =>
    model({
      nodes: [node("Pad", ["x", "pads"], ["y"], "pad_2", [attr.string("mode", mode)])],
      inputs: [valueInfo("x", [1, 1, 4, 4])],
      outputs: [valueInfo("y", [1, 1, 6, 6])],
      initializers: [{ name: "pads", dims: [8], dataType: 7, int64Data: [0, 0, 1, 1, 0, 0, 1, 1] }],
    });
  await rejectsWith(Session.create(pad("reflect")), /Pad "pad_2": mode 'reflect' is not supported \(only 'constant' is\)/);
  await rejectsWith(
    Session.create(convModel([4, 3, 3, 3], [attr.string("auto_pad", "SAME_MIDDLE")])),
    /Conv "conv_3": auto_pad 'SAME_MIDDLE' is not supported/,
  );
  await rejectsWith(Session.create(convModel([4, 3, 3, 3], [attr.int("bogus", 1)])), /Conv "conv_3": attribute 'bogus' is not supported/);
  await rejectsWith(
    Session.create(convModel([4, 3, 3, 3], [attr.float("group", 1)])),
    /Conv "conv_3": attribute 'group' must be int, found float/,
  );
  const bn = model({
    opset: 15,
    nodes: [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], "bn_1", [attr.int("training_mode", 1)])],
    inputs: [valueInfo("x", [1, 2, 4, 4])],
    outputs: [valueInfo("y", [1, 2, 4, 4])],
    initializers: ["s", "b", "m", "v"].map((n) => floatTensor(n, [2])),
  });
  await rejectsWith(Session.create(bn), /BatchNormalization "bn_1": training_mode = 1 is not supported \(inference only\)/);
});

Unsupported("unsupported opsets, element types and value kinds are named", async () => {
  await rejectsWith(Session.create(convModel([4, 3, 3, 3], [], 6)), /ai\.onnx opset 6 is not supported \(opsets 7 to 25 are\)/);
  const uint8 = model({ nodes: [node("Relu", ["x"], ["y"])], inputs: [valueInfo("x", [2], 2)], outputs: [valueInfo("y", [2])] });
  await rejectsWith(Session.create(uint8), /graph input 'x' has element type uint8, which is not supported/);
  const sequence = model({
    nodes: [node("Relu", ["x"], ["y"])],
    inputs: [{ name: "x", type: { sequenceType: new Uint8Array([8, 1]) } }],
    outputs: [valueInfo("y", [2])],
  });
  await rejectsWith(Session.create(sequence), /graph input 'x': only tensors are supported/);
});

Unsupported("feeds are checked against the declared inputs at run time", async () => {
  const reshape = model({
    nodes: [node("Reshape", ["x", "shape"], ["y"], "r")],
    inputs: [valueInfo("x", ["n", 6]), valueInfo("shape", [2], 7)],
    outputs: [valueInfo("y", [3, 4])],
  });
  const s = await Session.create(reshape);
  const shape = { data: BigInt64Array.of(3n, 4n), dims: [2] };
  await rejectsWith(
    s.runNamed({ x: { data: new Float32Array(12), dims: [2, 6] }, shape: { data: new Float32Array(2), dims: [2] } }),
    /input 'shape' is float32, the model expects int64/,
  );
  await rejectsWith(
    s.runNamed({ x: { data: new Float32Array(12), dims: [3, 4] }, shape }),
    /input 'x' has shape \[3, 4\], the model expects \[n, 6\]/,
  );
  await rejectsWith(
    s.runNamed({ x: { data: new Float32Array(12), dims: [2, 6] }, shape: { data: BigInt64Array.of(5n, -1n), dims: [2] } }),
    /Reshape "r": cannot reshape \[2, 6\] to \[5, -1\]: 12 elements do not divide into 5/,
  );
  const y = await s.runNamed({ x: { data: Float32Array.from({ length: 12 }, (_, i) => i), dims: [2, 6] }, shape });
  assert.equal(y.y.dims, [3, 4]);
  await s.release();
});

Hostile.run();
Unsupported.run();
