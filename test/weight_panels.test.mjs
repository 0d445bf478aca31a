// Packing GEMM weights in place in WebAssembly (assembly/weight_panels.ts, what sessions use) against
// the TypeScript references (src/plan/panels.ts packPanels, src/plan/graph.ts scaleRows,
// src/tensor.ts firstNonFinite), byte for byte: a copy, or one f32 product per weight, so any
// difference is a bug. Weights include signed zeros, subnormals and the extremes of float32
// (whose products with a scale overflow or underflow); shapes have partial panels and column
// counts that are not a multiple of 4. And a non-finite value in any packed weight of a model
// (stem, 1x1, 3x3, classifier) is refused with the tensor's name and the value's index.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session, parseSafetensors } from "../dist/index.js";
import { LinearMemory } from "../dist/kernels/memory.js";
import { SeededRandom } from "../dist/model/random_weights.js";
import { scaleRows } from "../dist/plan/graph.js";
import { packPanels, panelsLength } from "../dist/plan/panels.js";
import { compileKernels, instantiateKernels } from "../dist/runtime/kernels.js";
import { firstNonFinite } from "../dist/tensor.js";
import { fixture, rejectsWith, specialWeights, writeSafetensors } from "./helpers.mjs";

const Panels = suite("weight panels: WebAssembly = TypeScript, bitwise");
const rng = new SeededRandom(13);
const values = (n) => specialWeights(n, rng);

async function kernelsOn() {
  const { module } = await compileKernels();
  const mem = new LinearMemory();
  return { mem, kernels: instantiateKernels(module, mem.memory) };
}

Panels("pack_panels_in_place_f32 = packPanels (after scaleRows where scaled), mr 4 and 6, partial panels, k mod 4 = 0..3", async () => {
  const { mem, kernels } = await kernelsOn();
  for (const [m, k] of [
    [4, 4],
    [128, 96],
    [5, 3],
    [7, 147],
    [64, 147],
    [13, 6],
    [1, 1],
  ]) {
    for (const mr of [4, 6]) {
      for (const scaled of [false, true]) {
        const w = values(m * k);
        const scale = scaled ? values(m) : null;
        const expected = new Float32Array(panelsLength(m, k, mr));
        packPanels(expected, scale ? scaleRows(w, scale, m, new Float32Array(w.length)) : w, m, k, mr);
        // as a session does it: W read into its (zeroed) packed area, the scale and a scratch elsewhere
        const buf = mem.alloc(expected.byteLength);
        mem.f32(buf, w.length).set(w);
        const stage = mem.alloc(4 * (m + mr * k));
        if (scale) mem.f32(stage, m).set(scale);
        mem.f32(stage + 4 * m, mr * k).fill(Number.NaN); // the scratch's old contents must not leak
        kernels.pack_panels_in_place_f32(buf, m, k, mr, scale ? stage : 0, stage + 4 * m);
        const got = new Uint32Array(mem.memory.buffer, buf, expected.length);
        const want = new Uint32Array(expected.buffer);
        for (let i = 0; i < want.length; i++)
          if (got[i] !== want[i])
            assert.unreachable(
              `${m}x${k} mr ${mr}${scaled ? " scaled" : ""}: float ${i} is ${got[i].toString(16)}, TypeScript gives ${want[i].toString(16)}`,
            );
      }
    }
  }
});

Panels("first_non_finite_f32 = firstNonFinite: NaN, +-Infinity at every position of short and long arrays, none", async () => {
  const { mem, kernels } = await kernelsOn();
  for (const n of [0, 1, 15, 16, 17, 33, 100]) {
    const at = mem.alloc(4 * n + 4);
    const view = mem.f32(at, n);
    view.set(values(n));
    assert.is(kernels.first_non_finite_f32(at, n), -1, `${n} finite values`);
    assert.is(firstNonFinite(view), -1);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (let i = 0; i < n; i++) {
        const keep = view[i];
        view[i] = bad;
        if (i + 1 < n) view[n - 1] = bad; // a later one too: the first is reported
        assert.is(kernels.first_non_finite_f32(at, n), i, `${bad} at ${i} of ${n}`);
        assert.is(firstNonFinite(view), i);
        view.set(values(n));
        view[i] = keep;
      }
    }
  }
});

Panels("a non-finite weight in the stem, a 1x1 conv, a 3x3 conv or the classifier: refused, naming the tensor and index", async () => {
  const good = parseSafetensors(readFileSync(fixture("narrow_odd.safetensors")));
  const names = [...good.keys()];
  const targets = [
    "features.conv0.weight",
    names.find((n) => n.endsWith("denselayer1.conv1.weight")),
    names.find((n) => n.endsWith("denselayer2.conv2.weight")),
    names.find((n) => n.startsWith("features.transition") && n.endsWith(".conv.weight")),
    "classifier.weight",
  ];
  for (const [t, name] of targets.entries()) {
    assert.ok(good.has(name), name);
    const bad = new Map(good);
    const data = Float32Array.from(good.get(name).data);
    const index = 1 + t * 3;
    data[index] = t % 2 === 0 ? Number.NaN : Number.NEGATIVE_INFINITY;
    bad.set(name, { ...good.get(name), data });
    const message = new RegExp(`tensor '${name.replace(/\./g, "\\.")}' holds a non-finite value \\((NaN|-Infinity)\\) at index ${index}$`);
    await rejectsWith(Session.create(writeSafetensors(bad), { threads: 1 }), message);
  }
  // and the untouched file loads
  await (await Session.create(writeSafetensors(good), { threads: 1 })).release();
});

Panels.run();
