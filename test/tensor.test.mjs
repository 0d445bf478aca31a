// Two small helpers on hot paths, against their definitions computed independently:
// firstNonFinite (every request tensor and weight passes through it; its Float32Array path
// reads the bits) and packPanels (the GEMM weight layout; its whole 4-row panels are written
// in one pass).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom } from "../dist/model/random_weights.js";
import { packPanels, panelsLength } from "../dist/plan/panels.js";
import { firstNonFinite } from "../dist/tensor.js";

const Helpers = suite("tensor and packing helpers");
const rng = new SeededRandom(7);

/** The definition: the first index whose value Number.isFinite rejects. */
const reference = (data) => Array.prototype.findIndex.call(data, (x) => !Number.isFinite(x));

Helpers("firstNonFinite finds the first NaN or infinity, whatever its bits", () => {
  const specials = [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    3.4028234663852886e38,
    -3.4028234663852886e38,
    1.4e-45,
    -0,
    0,
  ];
  const nanBits = [0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff]; // quiet, negative, signalling, payloads
  for (let trial = 0; trial < 300; trial++) {
    const data = new Float32Array(1 + Math.floor(rng.uniform() * 50)).map(() => rng.normal());
    for (let k = Math.floor(rng.uniform() * 3); k > 0; k--)
      data[Math.floor(rng.uniform() * data.length)] = specials[Math.floor(rng.uniform() * specials.length)];
    if (rng.uniform() < 0.3)
      new Uint32Array(data.buffer)[Math.floor(rng.uniform() * data.length)] = nanBits[Math.floor(rng.uniform() * nanBits.length)];
    const view = rng.uniform() < 0.5 ? data : data.subarray(1); // an offset view too
    assert.is(firstNonFinite(view), reference(view), `in [${Array.from(view)}]`);
    assert.is(firstNonFinite(Array.from(view)), reference(view), "a plain array");
  }
  assert.is(firstNonFinite(new Float32Array(0)), -1);
});

Helpers("packPanels lays W (M, K) out as ceil(M/mr) panels of [K][mr], zeros past the last row", () => {
  for (const [m, k, mr] of [
    [8, 5, 4],
    [13, 7, 4],
    [3, 9, 4],
    [14, 6, 6],
    [128, 64, 4],
  ]) {
    const w = new Float32Array(m * k).map(() => rng.normal());
    const out = new Float32Array(panelsLength(m, k, mr));
    packPanels(out, w, m, k, mr);
    const expected = new Float32Array(out.length);
    for (let row = 0; row < m; row++)
      for (let i = 0; i < k; i++) expected[Math.floor(row / mr) * k * mr + i * mr + (row % mr)] = w[row * k + i];
    assert.equal(Array.from(out), Array.from(expected), `${m}x${k}, mr ${mr}`);
  }
});

Helpers.run();
