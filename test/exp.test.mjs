// exp.ts: the engine-independent e^x behind class probabilities, against Math.exp (the
// independent reference: within 2 ulps; they differ by at most 1 here) and at its edges.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { exp } from "../dist/exp.js";
import { SeededRandom } from "../dist/model/random_weights.js";

const Exp = suite("exp: e^x from basic arithmetic");

Exp("within 2 ulps of Math.exp on 200,000 arguments from 1e-6 to 745 in magnitude", () => {
  const rng = new SeededRandom(3);
  for (let i = 0; i < 200000; i++) {
    const x = (rng.uniform() - 0.7) * 10 ** (rng.uniform() * 9 - 6) * (i % 10 === 0 ? 745 / 3000 : 1);
    const want = Math.exp(x),
      got = exp(x);
    const ulp = Math.max(want * 2 ** -52, Number.MIN_VALUE);
    assert.ok(Math.abs(got - want) <= 2 * ulp, `exp(${x}) = ${got}, Math.exp ${want}`);
  }
});

Exp("edges: 0, overflow, underflow, subnormal results, NaN, infinities", () => {
  assert.is(exp(0), 1);
  assert.is(exp(-0), 1);
  assert.is(exp(710), Number.POSITIVE_INFINITY);
  assert.is(exp(Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY);
  assert.is(exp(-746), 0);
  assert.is(exp(Number.NEGATIVE_INFINITY), 0);
  assert.ok(Number.isNaN(exp(Number.NaN)));
  for (const x of [-708.5, -720, -740, -745, 709.7]) {
    const want = Math.exp(x);
    assert.ok(Math.abs(exp(x) - want) <= Math.max(2 * want * 2 ** -52, Number.MIN_VALUE), `exp(${x}) = ${exp(x)}, Math.exp ${want}`);
  }
});

Exp.run();
