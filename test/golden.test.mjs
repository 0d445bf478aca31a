// Whole networks against PyTorch: fixtures made by scripts/make_fixtures.py (torchvision
// DenseNets, seeded random weights, randomised BatchNorm statistics, float64 reference).
// Bound: max|err| <= 1e-4 * max|ref| over each output, and the same top-1 class for every
// image. float32 inference measures ~3e-7 relative here, so the bound has ample room while
// a wrong op (a missing BN, a misplaced channel) is off by far more.
// Set DENSENET_FULL_FIXTURES=/tmp/densenet-full-fixtures (made by make_fixtures.py --full)
// to also check full-size densenet121/169/201/161.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { parseNpy } from "../dist/io/npy.js";
import { assertMatchesReference, fixturesDir } from "./helpers.mjs";

function goldenCase(test, dir, fixture) {
  test(`${fixture.name}: [${fixture.input_shape.join(", ")}] matches PyTorch`, async () => {
    const session = await Session.create(new URL(`${fixture.name}.safetensors`, dir).pathname);
    try {
      const c = session.config;
      assert.equal(
        [c.growthRate, c.blockConfig, c.numInitFeatures, c.bnSize, c.numClasses],
        [fixture.growth_rate, fixture.block_config, fixture.num_init_features, fixture.bn_size, fixture.num_classes],
        "inferred configuration",
      );
      const x = parseNpy(readFileSync(new URL(`${fixture.name}.input.npy`, dir)));
      const ref = parseNpy(readFileSync(new URL(`${fixture.name}.output.npy`, dir)));
      const y = await session.run(x);
      assert.equal(y.dims, ref.dims, "output shape");
      assertMatchesReference(y, ref);
    } finally {
      await session.release();
    }
  });
}

const Golden = suite("golden: torchvision DenseNets vs PyTorch");
const manifest = JSON.parse(readFileSync(new URL("manifest.json", fixturesDir), "utf8"));
assert.ok(manifest.length >= 4, "fixture manifest lists the committed fixtures");
for (const fixture of manifest) goldenCase(Golden, fixturesDir, fixture);
Golden.run();

if (process.env.DENSENET_FULL_FIXTURES) {
  const dir = new URL(`file://${process.env.DENSENET_FULL_FIXTURES.replace(/\/?$/, "/")}`);
  const Full = suite("golden: full-size torchvision DenseNets vs PyTorch");
  for (const fixture of JSON.parse(readFileSync(new URL("manifest.json", dir), "utf8"))) goldenCase(Full, dir, fixture);
  Full.run();
}
