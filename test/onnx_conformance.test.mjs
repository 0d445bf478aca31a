// ONNX operator conformance: the 128 one-operator cases of the ONNX project's backend node
// tests vendored in test/conformance/ (see VENDORED.md), each run through the public API
// (Session.create on model.onnx, runNamed on the case's inputs). Comparison as the data's
// README states: float32 |actual - expected| <= 1e-4 + 1e-4 * |expected|, int64 exact, and
// the exact expected shape. Every case in MANIFEST.json must run: a case that is skipped or
// missing fails the count check.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { assertWithin } from "./helpers.mjs";
import { readNpy } from "./onnx_helpers.mjs";

const root = new URL("./conformance/onnx-node/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("MANIFEST.json", root), "utf8"));
const EXPECTED_CASES = 128;
let ran = 0;

const Conformance = suite("ONNX conformance: backend node tests");

Conformance("the manifest lists all 128 cases", () => {
  assert.is(manifest.cases.length, EXPECTED_CASES);
  assert.is(manifest.case_count, EXPECTED_CASES);
});

for (const c of manifest.cases) {
  Conformance(`${c.name} (${c.operator}, opset ${c.opset_version})`, async () => {
    const dir = new URL(`${c.name}/`, root);
    const session = await Session.create(new URL("model.onnx", dir).pathname);
    try {
      const feeds = Object.fromEntries(c.inputs.map((i) => [i.name, readNpy(readFileSync(new URL(i.npy, dir)))]));
      const outputs = await session.runNamed(feeds);
      assert.equal(Object.keys(outputs).sort(), c.outputs.map((o) => o.name).sort(), "output names");
      for (const o of c.outputs) {
        const expected = readNpy(readFileSync(new URL(o.npy, dir)));
        const actual = outputs[o.name];
        assert.equal(actual.dims, expected.dims, `${o.name}: shape`);
        if (o.dtype === "int64") {
          assert.instance(actual.data, BigInt64Array, `${o.name}: int64 output`);
          assert.equal(Array.from(actual.data, String), Array.from(expected.data, String), `${o.name}: int64 values`);
        } else {
          assert.instance(actual.data, Float32Array, `${o.name}: float32 output`);
          const want = /** @type {Float32Array} */ (expected.data);
          assertWithin(actual.data, want, (i) => 1e-4 + 1e-4 * Math.abs(want[i]), o.name);
        }
      }
      ran++;
    } finally {
      await session.release();
    }
  });
}

Conformance("every case ran", () => {
  assert.is(ran, EXPECTED_CASES, `${ran} of ${EXPECTED_CASES} conformance cases passed`);
});

Conformance.run();
