// ONNX exports of the reduced torchvision DenseNet fixtures (scripts/make_onnx_fixtures.py)
// against PyTorch, with the bound of the safetensors golden tests: max|err| <= 1e-4 *
// max|ref| and the same top-1 class per image. Exports that keep BatchNormalization nodes
// must lower to the very graph the safetensors path builds, so their outputs are compared
// bit for bit with the safetensors file's.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { assertBitwiseEqual, fixtureNpy, fixturesDir, randomArray } from "./helpers.mjs";
import { assertMatchesReference, decodeToObject, encodeModel, rejectsWith } from "./onnx_helpers.mjs";

const onnxDir = new URL("onnx/", fixturesDir);
const manifest = JSON.parse(readFileSync(new URL("manifest.json", onnxDir), "utf8"));
const onnxPath = (file) => new URL(file, onnxDir).pathname;
const npy = fixtureNpy;

const Golden = suite("ONNX golden: torchvision DenseNet exports vs PyTorch");

assert.ok(manifest.length >= 6, "the ONNX fixture manifest lists the committed exports");
for (const f of manifest) {
  Golden(`${f.file} (${f.style}, opset ${f.opset}) runs planned and matches PyTorch`, async () => {
    const session = await Session.create(onnxPath(f.file));
    try {
      assert.is(session.info.execution, "planned");
      const y = await session.run(npy(`${f.fixture}.input.npy`));
      assert.equal(y.dims, f.output_shape, "output shape");
      assertMatchesReference(y, npy(`${f.fixture}.output.npy`));
    } finally {
      await session.release();
    }
  });
}

const Bitwise = suite("ONNX golden: same graph as the safetensors path");

for (const f of manifest.filter((m) => m.style === "torchvision")) {
  Bitwise(`${f.file} gives bit-identical outputs to ${f.fixture}.safetensors`, async () => {
    const fromOnnx = await Session.create(onnxPath(f.file));
    const fromSafetensors = await Session.create(new URL(`${f.fixture}.safetensors`, fixturesDir).pathname);
    const x = npy(`${f.fixture}.input.npy`);
    assertBitwiseEqual((await fromOnnx.run(x)).data, (await fromSafetensors.run(x)).data, f.file);
    const [, , h, w] = x.dims;
    assert.is(fromOnnx.plan(h, w).arenaBytes, fromSafetensors.plan(h, w).arenaBytes, "peak activation memory");
    assert.is(fromOnnx.plan(h, w).steps.length, fromSafetensors.plan(h, w).steps.length, "kernel calls");
    await fromOnnx.release();
    await fromSafetensors.release();
  });
}

Bitwise("a dynamic-batch export runs any batch, still bit-identical; its fixed image size is enforced", async () => {
  const fromOnnx = await Session.create(onnxPath("narrow_odd.opset13.onnx"));
  const fromSafetensors = await Session.create(new URL("narrow_odd.safetensors", fixturesDir).pathname);
  await rejectsWith(
    fromOnnx.run({ data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] }),
    /input 'input' has shape \[1, 3, 32, 32\], the model expects \[batch, 3, 45, 37\]/,
  );
  for (const [n, h, w] of [
    [1, 45, 37],
    [4, 45, 37],
  ]) {
    const x = { data: randomArray(n * 3 * h * w, h + w), dims: [n, 3, h, w] };
    const y = await fromOnnx.run(x);
    assert.equal(y.dims, [n, 7]);
    assertBitwiseEqual(y.data, (await fromSafetensors.run(x)).data, `${n}x3x${h}x${w}`);
  }
  await fromOnnx.release();
  await fromSafetensors.release();
});

const Caffe2 = suite("ONNX golden: Caffe2-zoo-style graph");

Caffe2("inputs exclude initializers listed as graph inputs; output is [N, classes, 1, 1]", async () => {
  const session = await Session.create(onnxPath("bc_style.caffe2.onnx"));
  assert.equal(session.inputNames, ["data_0"]);
  assert.equal(session.outputNames, ["fc6_1"]);
  const outputs = await session.runNamed({ data_0: npy("bc_style.input.npy") });
  assert.equal(outputs.fc6_1.dims, [2, 10, 1, 1]);
  await session.release();
});

Caffe2("the graph input's fixed shape is checked against the fed one", async () => {
  const session = await Session.create(onnxPath("bc_style.caffe2.onnx"));
  assert.is(session.info.execution, "planned");
  await rejectsWith(
    session.run({ data: new Float32Array(2 * 3 * 96 * 96), dims: [2, 3, 96, 96] }),
    /input 'data_0' has shape \[2, 3, 96, 96\], the model expects \[2, 3, 64, 64\]/,
  );
  await session.release();
});

const Fallback = suite("ONNX golden: graphs outside the planned op set");

/** narrow_odd's opset-13 export with `edit` applied to its decoded ModelProto. */
function editedExport(edit) {
  const m = decodeToObject(readFileSync(onnxPath("narrow_odd.opset13.onnx")));
  edit(m.graph);
  return encodeModel(m);
}

/** softmax over each row of PyTorch's (N, classes) logits, in float64. */
function referenceProbabilities(ref) {
  const [n, classes] = ref.dims;
  const probs = new Float32Array(ref.data.length);
  for (let i = 0; i < n; i++) {
    const row = Array.from(ref.data.subarray(i * classes, (i + 1) * classes), Number);
    const max = Math.max(...row),
      sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
    row.forEach((v, j) => {
      probs[i * classes + j] = Math.exp(v - max) / sum;
    });
  }
  return { data: probs, dims: ref.dims };
}

for (const axis of [1, -1]) {
  Golden(`a DenseNet ending in Softmax(axis ${axis}) stays planned and matches softmax(PyTorch)`, async () => {
    const bytes = editedExport((g) => {
      g.node.push({
        opType: "Softmax",
        name: "probabilities",
        input: ["logits"],
        output: ["probs"],
        attribute: [{ name: "axis", type: 2, i: axis }],
      });
      g.output[0].name = "probs";
    });
    const session = await Session.create(bytes, { threads: 2 });
    assert.is(session.info.execution, "planned");
    assertMatchesReference(await session.run(npy("narrow_odd.input.npy")), referenceProbabilities(npy("narrow_odd.output.npy")));
    await session.release();
  });
}

Fallback("a Softmax over a size-1 axis of an (N, C, 1, 1) output runs on the interpreter, as ONNX defines it", async () => {
  const bytes = editedExport((g) => {
    g.node.push({ opType: "Reshape", name: "to_map", input: ["logits", "map_shape"], output: ["logits_map"] });
    g.initializer.push({ name: "map_shape", dataType: 7, dims: [4], int64Data: [0, -1, 1, 1] });
    g.node.push({
      opType: "Softmax",
      name: "probabilities",
      input: ["logits_map"],
      output: ["probs"],
      attribute: [{ name: "axis", type: 2, i: 3 }],
    });
    g.output[0].name = "probs";
    g.output[0].type.tensorType.shape.dim.push({ dimValue: 1 }, { dimValue: 1 });
  });
  const session = await Session.create(bytes);
  assert.is(session.info.execution, "interpreted");
  assert.match(session.info.notPlanned, /axis 3 is not the channel axis/);
  const y = await session.run(npy("narrow_odd.input.npy"));
  assert.ok(
    y.data.every((v) => v === 1),
    "softmax over a single element is 1",
  );
  await session.release();
});

Fallback("a grouped conv (no planned kernel) runs on the interpreter", async () => {
  const bytes = editedExport((g) => {
    const conv = g.node.find((n) => n.opType === "Conv" && n.name.endsWith("conv2/Conv"));
    const weight = g.initializer.find((t) => t.name === conv.input[1]);
    // Keep the weights' bytes but view them as 2 groups: (6, 12, 3, 3) -> (6, 6, 3, 3) needs 12 input channels.
    conv.attribute.find((a) => a.name === "group").i = 2;
    weight.dims = [weight.dims[0], Number(weight.dims[1]) / 2, 3, 3];
    weight.rawData = weight.rawData.subarray(0, weight.rawData.length / 2);
  });
  const session = await Session.create(bytes);
  assert.is(session.info.execution, "interpreted");
  const y = await session.run(npy("narrow_odd.input.npy"));
  assert.equal(y.dims, [3, 7]);
  assert.ok(y.data.every(Number.isFinite));
  await session.release();
});

Fallback("a run-time input of the wrong shape is a one-line error naming the input", async () => {
  const session = await Session.create(readFileSync(onnxPath("narrow_odd.opset13.onnx")));
  await rejectsWith(session.run({ data: new Float32Array(2 * 32 * 32), dims: [1, 2, 32, 32] }), /has 2 channels, the model expects 3/);
  await session.release();
});

Golden.run();
Bitwise.run();
Caffe2.run();
Fallback.run();
