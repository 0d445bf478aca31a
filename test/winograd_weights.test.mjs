// The Winograd weight transforms in WebAssembly (assembly/winograd_weights.ts, what sessions
// use) against the TypeScript ones (src/plan/winograd.ts packWinogradWeights,
// src/plan/winograd_f4x4.ts packWinograd4Weights), byte for byte: the same f64 arithmetic
// in the same order, so any difference is a bug. Weights include signed zeros, subnormals and
// the extremes of float32; shapes have partial 4-row panels.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { LinearMemory } from "../dist/kernels/memory.js";
import { SeededRandom } from "../dist/model/random_weights.js";
import { panelsLength } from "../dist/plan/panels.js";
import { packWinogradWeights } from "../dist/plan/winograd.js";
import { G4, packWinograd4Weights } from "../dist/plan/winograd_f4x4.js";
import { compileKernels, instantiateKernels } from "../dist/runtime/kernels.js";
import { specialWeights } from "./helpers.mjs";

const Transforms = suite("Winograd weight transforms: WebAssembly = TypeScript, bitwise");
const rng = new SeededRandom(11);
const weights = (n) => specialWeights(n, rng);

Transforms("F(2x2) and F(4x4), shapes with partial panels", async () => {
  const { module } = await compileKernels();
  const mem = new LinearMemory();
  const kernels = instantiateKernels(module, mem.memory);
  for (const [cout, cin] of [
    [4, 1],
    [5, 3],
    [32, 128],
    [7, 9],
    [48, 17],
  ]) {
    const mr = 4;
    const w = weights(cout * cin * 9);
    const length = panelsLength(cout, cin, mr);
    /** @type {{ tile: "f2x2" | "f4x4", positions: number, reference: typeof packWinogradWeights }[]} */
    const tiles = [
      { tile: "f2x2", positions: 16, reference: packWinogradWeights },
      { tile: "f4x4", positions: 36, reference: packWinograd4Weights },
    ];
    for (const { tile, positions, reference } of tiles) {
      const expected = new Float32Array(positions * length);
      reference(expected, length, w, cout, cin, mr);
      const g = mem.alloc(G4.byteLength + w.byteLength);
      new Float64Array(mem.memory.buffer, g, G4.length).set(G4);
      mem.f32(g + G4.byteLength, w.length).set(w);
      const out = mem.alloc(positions * length * 4);
      if (tile === "f4x4") kernels.winograd_f4x4_weights(out, length, g + G4.byteLength, cout, cin, mr, g);
      else kernels.winograd_f2x2_weights(out, length, g + G4.byteLength, cout, cin, mr);
      const got = new Uint32Array(mem.memory.buffer, out, positions * length);
      const want = new Uint32Array(expected.buffer);
      for (let k = 0; k < want.length; k++)
        if (got[k] !== want[k])
          assert.unreachable(`${tile} ${cout}x${cin}: float ${k} is ${got[k].toString(16)}, TypeScript gives ${want[k].toString(16)}`);
    }
  }
});

Transforms.run();
