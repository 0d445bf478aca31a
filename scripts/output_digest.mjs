#!/usr/bin/env node
// Prints one SHA-256 per (model, configuration) of the outputs on every committed model
// fixture: safetensors, .pth and planned ONNX, at 1, 2 and 3 threads, batch 1 and 3, with and
// without Winograd and with each micro-kernel, plus DenseNet-121 (seeded random weights) at
// 64x64. Run it before and after a refactor that must not change results and diff the two:
//   node scripts/output_digest.mjs > before.txt; ...; node scripts/output_digest.mjs | diff before.txt -
// Not a test: the values are this engine's own outputs, pinned only against itself.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { DenseNetError, Session } from "../dist/index.js";
import { parseNpy } from "../dist/io/npy.js";

const fixtures = new URL("../test/fixtures/", import.meta.url);
const path = (name) => new URL(name, fixtures).pathname;
const manifest = JSON.parse(readFileSync(new URL("manifest.json", fixtures), "utf8"));

/** The fixture's images repeated to a batch of n (image i = input image i mod N). */
function batchOf(x, n) {
  const per = x.data.length / x.dims[0];
  const data = new Float32Array(n * per);
  for (let i = 0; i < n; i++) data.set(x.data.subarray((i % x.dims[0]) * per, ((i % x.dims[0]) + 1) * per), i * per);
  return { data, dims: [n, ...x.dims.slice(1)] };
}

const digest = (t) =>
  createHash("sha256")
    .update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
    .digest("hex")
    .slice(0, 16);

/** @type {import("../dist/index.js").SessionOptions[]} */
const CONFIGS = [
  { threads: 1 },
  { threads: 2 },
  { threads: 3 },
  { threads: 1, winograd: false },
  { threads: 2, winograd: false },
  { threads: 1, microKernel: "6x8" },
  { threads: 2, microKernel: "4x8-shuffle" },
];

async function report(label, source, input) {
  for (const options of CONFIGS) {
    const session = await Session.create(source, options);
    try {
      for (const n of [1, 3]) {
        let result;
        try {
          result = digest(await session.run(batchOf(input, n)));
        } catch (e) {
          if (!(e instanceof DenseNetError)) throw e;
          result = `rejected: ${e.message}`; // an ONNX export with a fixed batch size
        }
        console.log(`${label} ${JSON.stringify(options)} batch ${n}: ${result}`);
      }
    } finally {
      await session.release();
    }
  }
}

for (const f of manifest) {
  const x = parseNpy(readFileSync(path(`${f.name}.input.npy`)));
  await report(`${f.name}.safetensors`, path(`${f.name}.safetensors`), x);
}
const narrow = parseNpy(readFileSync(path("narrow_odd.input.npy")));
await report("pth/narrow_odd.pth", path("pth/narrow_odd.pth"), narrow);
for (const name of ["narrow_odd.opset13", "narrow_odd.opset7", "narrow_odd.folded"])
  await report(`onnx/${name}.onnx`, path(`onnx/${name}.onnx`), narrow);
await report("onnx/tiny121.opset13.onnx", path("onnx/tiny121.opset13.onnx"), parseNpy(readFileSync(path("tiny121.input.npy"))));
const bc = parseNpy(readFileSync(path("bc_style.input.npy")));
for (const name of ["bc_style.opset13", "bc_style.caffe2"]) await report(`onnx/${name}.onnx`, path(`onnx/${name}.onnx`), bc);
const x121 = { data: Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.37)), dims: [1, 3, 64, 64] };
await report("densenet121 (random) 64x64", "densenet121", x121);
