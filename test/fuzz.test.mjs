// Mutated model files (seeded: overwritten header bytes, flipped bits, truncations, shifted
// starts) either load and run or fail with a one-line DenseNetError; never another exception,
// a crash or a hang.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DenseNetError, Session } from "../dist/index.js";
import { SeededRandom } from "../dist/model/random_weights.js";
import { fixturesDir } from "./helpers.mjs";

const MUTATIONS = 60;

function mutate(original, rng, kind) {
  const b = Uint8Array.from(original);
  const at = (limit) => Math.floor(rng.uniform() * Math.min(b.length, limit));
  switch (kind) {
    case 0:
      for (let i = 0; i < 1 + at(8); i++) b[at(4096)] = Math.floor(rng.uniform() * 256);
      return b;
    case 1:
      for (let i = 0; i < 4; i++) b[at(b.length)] ^= 1 << Math.floor(rng.uniform() * 8);
      return b;
    case 2:
      return b.subarray(0, at(b.length));
    default:
      return b.subarray(at(64));
  }
}

const Fuzz = suite("mutated model files");

for (const file of ["legacy_keys.safetensors", "pth/legacy_keys.ckpt.pth", "onnx/narrow_odd.opset13.onnx", "onnx/bc_style.caffe2.onnx"]) {
  Fuzz(`${file}: ${MUTATIONS} mutations load, or fail with a one-line DenseNetError`, async () => {
    const original = readFileSync(new URL(file, fixturesDir));
    const rng = new SeededRandom(file.length);
    for (let trial = 0; trial < MUTATIONS; trial++) {
      const bytes = mutate(original, rng, trial % 4);
      let session;
      try {
        session = await Session.create(bytes, { threads: 1 });
      } catch (e) {
        assert.instance(e, DenseNetError, `mutation ${trial}: ${e?.stack ?? e}`);
        assert.not.ok(e.message.includes("\n"), `mutation ${trial}: message is one line`);
        continue;
      }
      const c = session.info.execution === "planned" ? session.inputChannels : 3;
      try {
        await session.run({ data: new Float32Array(2 * c * 64 * 64), dims: [2, c, 64, 64] });
      } catch (e) {
        assert.instance(e, DenseNetError, `mutation ${trial} (run): ${e?.stack ?? e}`);
      }
      await session.release();
    }
  });
}

Fuzz.run();
