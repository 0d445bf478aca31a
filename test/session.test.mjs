// The library API: model sources, configuration inference, planning, and clear errors for
// bad inputs and inconsistent weights.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session, architectureConfig } from "../dist/index.js";
import { nominalMacs } from "../dist/model/config.js";
import { parseSafetensors } from "../dist/io/safetensors.js";
import { parameterCount } from "../dist/model/weights.js";
import { fixture, randomArray, rejectsWith, writeSafetensors } from "./helpers.mjs";

const Api = suite("Session");

Api("densenet121 by name: torchvision's configuration and parameter count", async () => {
  const s = await Session.create("densenet121");
  assert.equal(s.config, architectureConfig("densenet121"));
  assert.is(s.info.parameters, 7978856);
  assert.ok(s.info.randomWeights);
  await s.release();
});

Api("the plan counts MACs as torchvision does (transitions at their pre-pool size)", async () => {
  for (const name of ["densenet121", "densenet161"]) {
    const s = await Session.create(name, { threads: 1 });
    const plan = s.plan(224, 224);
    assert.is(plan.nominalMacs, nominalMacs(s.config, 224, 224), name);
    assert.ok(plan.macs < plan.nominalMacs, "the executed plan pools before the transition convs");
    await s.release();
  }
  assert.ok(Math.abs(nominalMacs(architectureConfig("densenet121"), 224, 224) / 2.834e9 - 1) < 1e-3);
});

Api("parameter counts of the named architectures match torchvision", () => {
  const expected = { densenet121: 7978856, densenet169: 14149480, densenet201: 20013928, densenet161: 28681000 };
  for (const [name, count] of Object.entries(expected))
    assert.is(parameterCount(architectureConfig(/** @type {keyof expected} */ (name))), count, name);
});

Api("densenet121's plan keeps peak activation memory at batch 1, 224x224, within 5 MiB", async () => {
  const s = await Session.create("densenet121");
  const plan = s.plan(224, 224);
  // The stem's 64x112x112 output shares bytes with the first block's channels 64..255, which
  // no step uses before its second layer (plan.ts lateChannels): without that, 6.1 MiB.
  assert.ok(plan.arenaBytes <= 5 * 2 ** 20, `${plan.arenaBytes} bytes`);
  // Live together at the first block's last conv2: the block's 256x56x56 buffer and that
  // conv's zero-padded F(4x4) input, 128x58x60.
  assert.ok(plan.arenaBytes >= 4 * (256 * 56 * 56 + 128 * 58 * 60), `${plan.arenaBytes} bytes`);
  await s.release();
});

Api("an input too large for WebAssembly's 4 GiB is a clear error, and the session still works", async () => {
  const s = await Session.create("densenet121", { threads: 1 });
  assert.throws(() => s.plan(8192, 8192), /out of memory: the model and plan need \d+ MiB, more than WebAssembly's 4096 MiB/);
  assert.equal((await s.run({ data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] })).dims, [1, 1000]);
  await s.release();
});

Api("the same seed gives the same weights and outputs; another seed differs", async () => {
  const x = { data: randomArray(3 * 40 * 40, 9), dims: [1, 3, 40, 40] };
  const outputs = [];
  for (const seed of [7, 7, 8]) {
    const s = await Session.create("densenet121", { seed });
    outputs.push(Array.from((await s.run(x)).data));
    await s.release();
  }
  assert.equal(outputs[0], outputs[1]);
  assert.not.equal(outputs[0], outputs[2]);
});

Api("accepts model bytes, and several input sizes on one session", async () => {
  const s = await Session.create(readFileSync(fixture("narrow_odd.safetensors")));
  for (const [h, w] of [
    [32, 32],
    [45, 37],
    [64, 33],
  ]) {
    const y = await s.run({ data: randomArray(2 * 3 * h * w, h), dims: [2, 3, h, w] });
    assert.equal(y.dims, [2, 7]);
    assert.ok(y.data.every(Number.isFinite));
  }
  await s.release();
});

Api("bad inputs are one-line errors naming the problem", async () => {
  const s = await Session.create(fixture("legacy_keys.safetensors"));
  const t = (dims, data) => ({ dims, data: data ?? new Float32Array(dims.reduce((a, b) => a * b, 1)) });
  await rejectsWith(s.run(t([3, 32, 32])), /rank 4/);
  await rejectsWith(s.run(t([1, 1, 32, 32])), /has 1 channels, the model expects 3/);
  await rejectsWith(s.run(t([1, 3, 32, 32], new Float32Array(10))), /has 10 values/);
  await rejectsWith(s.run(t([1, 3, 2, 2])), /input 2x2 is too small: .features.transition1.pool. would produce a 0x0 output/);
  await rejectsWith(s.run(t([100000, 3, 1, 1], new Float32Array(0))), /exceeds the maximum/);
  await rejectsWith(s.run(t([0, 3, 32, 32])), /positive integers/);
  // @ts-expect-error: a Float64Array, which run() refuses at run time
  await rejectsWith(s.run({ dims: [1, 3, 32, 32], data: new Float64Array(3072) }), /must be a tensor/);
  const nan = new Float32Array(3 * 32 * 32);
  nan[77] = NaN;
  await rejectsWith(s.run(t([1, 3, 32, 32], nan)), /non-finite value \(NaN\) at index 77/);
  await s.release();
  await rejectsWith(s.run(t([1, 3, 32, 32])), /released/);
});

Api("inconsistent or missing weights are one-line errors naming the tensor", async () => {
  const tensors = parseSafetensors(readFileSync(fixture("bc_style.safetensors")));
  const without = new Map(tensors);
  without.delete("features.norm5.running_var");
  await rejectsWith(Session.create(writeSafetensors(without)), /missing tensor 'features.norm5.running_var'/);
  const reshaped = new Map(tensors);
  const w = tensors.get("features.denseblock2.denselayer3.conv2.weight");
  reshaped.set("features.denseblock2.denselayer3.conv2.weight", { ...w, shape: [w.shape[0], w.shape[1], 9, 1] });
  await rejectsWith(
    Session.create(writeSafetensors(reshaped)),
    /denselayer3.conv2.weight' has shape \[12, 48, 9, 1\].*needs \[12, 48, 3, 3\]/,
  );
  const poisoned = new Map(tensors);
  const bias = Float32Array.from(tensors.get("classifier.bias").data);
  bias[3] = Infinity;
  poisoned.set("classifier.bias", { dtype: "F32", shape: [bias.length], data: bias });
  await rejectsWith(Session.create(writeSafetensors(poisoned)), /'classifier.bias' holds a non-finite value/);
  // the classifier's weight is read straight into linear memory: checked there the same way
  const poisonedWeight = new Map(tensors);
  const cw = Float32Array.from(tensors.get("classifier.weight").data);
  cw[cw.length - 2] = Number.NaN;
  poisonedWeight.set("classifier.weight", { dtype: "F32", shape: tensors.get("classifier.weight").shape, data: cw });
  await rejectsWith(
    Session.create(writeSafetensors(poisonedWeight)),
    new RegExp(`'classifier.weight' holds a non-finite value \\(NaN\\) at index ${cw.length - 2}`),
  );
  await rejectsWith(Session.create("densenet122"), /unknown model 'densenet122'/);
  await rejectsWith(Session.create("/nonexistent/model.safetensors"), /cannot read model file.*ENOENT/);
  await rejectsWith(Session.create("densenet121", { threads: 0 }), /threads must be an integer/);
});

Api.run();
