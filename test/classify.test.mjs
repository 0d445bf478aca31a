// Images in, classes out, on the embedded Fashion-MNIST model: classify() and the CLI against
// PyTorch's answers (test/fixtures/fashion/, made by scripts/train_fashion_mnist.py and
// scripts/make_fashion_fixtures.py), features(), model metadata, and bad images in a batch.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  DEFAULT_MODEL_PATH,
  DEFAULT_SAMPLES_DIR,
  DenseNetError,
  Session,
  classify,
  imagenetClassNames,
  labelsOf,
  parseNpy,
  preprocessingOf,
  topClasses,
} from "../dist/index.js";
import { parseModelMetadata } from "../dist/model/metadata.js";
import { idxImages, readIdx } from "../scripts/idx.mjs";
import { assertWithin, fixturesDir } from "./helpers.mjs";

const fashion = (name) => fileURLToPath(new URL(`fashion/${name}`, fixturesDir));
const reference = JSON.parse(readFileSync(fashion("samples.json"), "utf8"));
const cli = fileURLToPath(new URL("../dist/bin/cli.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "densenet-classify-"));
const env = { ...process.env };
delete env.FORCE_COLOR;
delete env.NO_COLOR;
const densenet = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 120_000, env });

// Tolerances. Probabilities: our logits differ from PyTorch's by float32 rounding of a
// different summation order (~1e-6 relative here); a softmax moves by at most half the
// largest logit change, so 1e-5 holds with room. Features: same argument, 1e-5 relative to the
// largest feature.
const P_TOL = 1e-5;

const Classify = suite("classify");

Classify("the embedded model carries its labels and preprocessing", async () => {
  const session = await Session.create(DEFAULT_MODEL_PATH, { threads: 1 });
  assert.equal(await labelsOf(session), [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
  ]);
  const pre = preprocessingOf(session);
  assert.is(pre.mode, "L");
  assert.is(pre.resize, 48);
  assert.is(pre.crop, 48);
  assert.is(session.inputChannels, 1);
  await session.release();
});

Classify("classify() on the bundled samples: top-5 and probabilities equal PyTorch's", async () => {
  const session = await Session.create(DEFAULT_MODEL_PATH, { threads: 2 });
  const files = reference.samples.map((s) => join(DEFAULT_SAMPLES_DIR, s.file));
  const results = await classify(session, files, { top: 5, batchSize: 5 });
  await session.release();
  results.forEach((r, i) => {
    const ref = reference.samples[i];
    assert.ok("top" in r, `${ref.file}: ${/** @type {{ error?: string }} */ (r).error}`);
    const order = ref.probabilities.map((_, j) => j).sort((a, b) => ref.probabilities[b] - ref.probabilities[a]);
    assert.equal(
      r.top.map((c) => c.index),
      order.slice(0, 5),
      `${ref.file}: top-5 classes`,
    );
    assert.is(r.top[0].label, ref.top1);
    assertWithin(
      r.top.map((c) => c.probability),
      order.slice(0, 5).map((j) => ref.probabilities[j]),
      () => P_TOL,
      `${ref.file}: probabilities`,
    );
  });
});

Classify("features() are the pooled features PyTorch's classifier sees", async () => {
  const session = await Session.create(DEFAULT_MODEL_PATH, { threads: 1 });
  const { imageTensor } = await import("../dist/index.js");
  for (const ref of reference.samples.slice(0, 4)) {
    const x = await imageTensor(session, join(DEFAULT_SAMPLES_DIR, ref.file));
    const f = await session.features(x);
    assert.equal(f.dims, [1, ref.features.length]);
    const scale = Math.max(...ref.features.map(Math.abs));
    assertWithin(f.data, ref.features, () => 1e-5 * scale, `${ref.file}: features`);
  }
  await session.release();
});

Classify("a 500-image slice of the test set: top-1 equal to PyTorch's on every image", async () => {
  const decoded = idxImages(readIdx(fashion("slice-images-idx3-ubyte.gz")));
  const torch = parseNpy(readFileSync(fashion("t10k-logits.npy")));
  const n = decoded.length;
  const session = await Session.create(DEFAULT_MODEL_PATH, { threads: 2 });
  const results = await classify(session, decoded, { top: 1, batchSize: 100 });
  await session.release();
  let equal = 0;
  results.forEach((r, i) => {
    const row = torch.data.subarray(i * 10, (i + 1) * 10);
    const best = row.indexOf(Math.max(...row));
    assert.ok("top" in r, `test image ${i}: ${/** @type {{ error?: string }} */ (r).error}`);
    if (r.top[0].index === best) equal++;
  });
  assert.is(equal, n, `top-1 equal to PyTorch's on ${equal} of ${n}`);
});

Classify("photographs through a 1000-class torchvision DenseNet: top-5 and probabilities equal PyTorch's", async () => {
  const dir = fileURLToPath(new URL("classify/", fixturesDir));
  const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
  const session = await Session.create(join(dir, "imagenet-small.safetensors"), { threads: 1 });
  // Bytes, as a server would pass them, in one batch (each is cropped to 224x224).
  const results = await session.classify(
    expected.map((e) => readFileSync(join(dir, e.file))),
    { top: 5 },
  );
  await session.release();
  results.forEach((r, i) => {
    const want = expected[i];
    assert.ok("top" in r, `${want.file}: ${/** @type {{ error?: string }} */ (r).error}`);
    assert.equal(
      r.top.map((c) => [c.index, c.label]),
      want.top.map((c) => [c.index, c.label]),
      `${want.file}: top-5`,
    );
    assertWithin(
      r.top.map((c) => c.probability),
      want.top.map((c) => c.probability),
      () => P_TOL,
      `${want.file}: probabilities`,
    );
  });
});

Classify("Deno: classify() on JPEG and PNG files gives exactly Node's answer", async () => {
  const dir = fileURLToPath(new URL("classify/", fixturesDir));
  const model = join(dir, "imagenet-small.safetensors");
  const files = ["chelsea.jpg", "camera-grey.png"].map((f) => join(dir, f));
  const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
  const r = spawnSync(
    deno,
    ["run", "--allow-read", "--allow-env", "--allow-sys", fileURLToPath(new URL("./deno/classify.mjs", import.meta.url)), model, ...files],
    {
      encoding: "utf8",
      timeout: 60_000,
      env,
      cwd: fileURLToPath(new URL("..", import.meta.url)),
    },
  );
  assert.is(r.status, 0, `deno exit ${r.status}: ${r.stderr}`);
  const session = await Session.create(model, { threads: 2 });
  const node = await session.classify(files, { top: 3 });
  await session.release();
  assert.equal(JSON.parse(r.stdout), node);
});

Classify("topClasses: softmax in float64, most probable first, ties by index", () => {
  const rows = topClasses({ data: Float32Array.of(1, 3, 3, 0, 0, 0), dims: [2, 3] }, 2, ["a", "b", "c"]);
  const e = [Math.exp(1), Math.exp(3), Math.exp(3)];
  const sum = e[0] + e[1] + e[2];
  assert.equal(
    rows[0].map((c) => c.index),
    [1, 2],
  );
  assert.ok(Math.abs(rows[0][0].probability - e[1] / sum) < 1e-15, String(rows[0][0].probability));
  assert.equal(
    rows[1].map((c) => [c.index, c.label, c.probability]),
    [
      [0, "a", 1 / 3],
      [1, "b", 1 / 3],
    ],
  );
  assert.throws(
    () => topClasses({ data: new Float32Array(3), dims: [1, 3] }, 0, null),
    (e) => e instanceof DenseNetError,
  );
});

Classify("a 1000-class model with no labels gets the ImageNet-1k names", async () => {
  const names = await imagenetClassNames();
  assert.is(names.length, 1000);
  assert.is(names[0], "tench");
  assert.is(names[999], "toilet tissue");
  const session = await Session.create("densenet121", { threads: 1 });
  assert.is((await labelsOf(session))[281], "tabby");
  await session.release();
});

Classify("model metadata: bad labels or preprocessing are one-line errors", () => {
  /** @type {[Record<string, string>, RegExp][]} */
  const bad = [
    [{ "densenet.labels": "not json" }, /not valid JSON/],
    [{ "densenet.labels": "[1, 2]" }, /non-empty array of strings/],
    [{ "densenet.preprocess": '{"resize": 0, "crop": 1, "mean": [0], "std": [1], "mode": "L"}' }, /resize must be an integer/],
    [{ "densenet.preprocess": '{"resize": 8, "crop": 8, "mean": [0, 0], "std": [1], "mode": "L"}' }, /mean must be 1 finite numbers/],
    [{ "densenet.preprocess": '{"resize": 8, "crop": 8, "mean": [0], "std": [0], "mode": "L"}' }, /std must be 1 finite positive/],
    [{ "densenet.preprocess": '{"resize": 8, "crop": 8, "mean": [0], "std": [1], "mode": "CMYK"}' }, /mode must be/],
  ];
  for (const [entries, pattern] of bad) {
    assert.throws(
      () => parseModelMetadata(entries, "m"),
      (e) => e instanceof DenseNetError && pattern.test(e.message) && !e.message.includes("\n"),
    );
  }
  const ok = parseModelMetadata({ "densenet.preprocess": '{"resize": 8, "crop": [6, 7], "mean": [0, 0, 0], "std": [1, 1, 1]}' }, "m");
  assert.equal(ok.preprocess, { resize: 8, crop: [6, 7], mean: [0, 0, 0], std: [1, 1, 1], mode: "RGB" });
});

Classify("CLI: `densenet classify` with no arguments classifies the bundled samples with truth beside prediction", () => {
  const r = densenet("classify", "--threads", "1");
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /fashion-mnist-densenet: top 5 of 12 image\(s\)/);
  assert.match(r.stdout, /truth: Ankle boot/);
  assert.match(r.stdout, /\d+ of 12 correct/);
});

Classify("CLI: --json gives one object; a bad image is its own error, the others are answered, exit 1", () => {
  const bad = join(tmp, "text.jpg");
  writeFileSync(bad, "this is not an image\n");
  const files = [join(DEFAULT_SAMPLES_DIR, reference.samples[0].file), bad, join(DEFAULT_SAMPLES_DIR, reference.samples[1].file)];
  const r = densenet("classify", "--json", "--top", "3", "--threads", "1", ...files);
  assert.is(r.status, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.is(out.model, "fashion-mnist-densenet");
  assert.equal(
    out.results.map((x) => x.file),
    files,
  );
  assert.is(out.results[0].top.length, 3);
  assert.is(out.results[0].top[0].label, reference.samples[0].top1);
  assert.ok(
    typeof out.results[1].error === "string" && out.results[1].error.includes(bad) && !out.results[1].error.includes("\n"),
    out.results[1].error,
  );
  assert.is(out.results[2].top[0].label, reference.samples[1].top1);
});

Classify("CLI: --labels overrides the model's names and must match its class count", () => {
  const labels = join(tmp, "labels.txt");
  writeFileSync(labels, `${Array.from({ length: 10 }, (_, i) => `class-${i}`).join("\n")}\n`);
  const r = densenet(
    "classify",
    "--json",
    "--top",
    "1",
    "--labels",
    labels,
    "--threads",
    "1",
    join(DEFAULT_SAMPLES_DIR, reference.samples[0].file),
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(JSON.parse(r.stdout).results[0].top[0].label, /^class-\d$/);
  writeFileSync(labels, '["a", "b"]');
  const bad = densenet("classify", "--labels", labels, "--threads", "1", join(DEFAULT_SAMPLES_DIR, reference.samples[0].file));
  assert.is(bad.status, 1);
  assert.match(bad.stderr.trim(), /^densenet: 2 labels given, the model has 10 classes$/);
});

Classify("CLI: preprocess writes the tensor classify feeds; embed and run take an image", () => {
  const image = join(DEFAULT_SAMPLES_DIR, reference.samples[2].file);
  const x = join(tmp, "x.npy"),
    f = join(tmp, "f.npy"),
    y = join(tmp, "y.npy");
  let r = densenet("preprocess", "--model", DEFAULT_MODEL_PATH, "--input", image, "--output", x);
  assert.is(r.status, 0, r.stderr);
  assert.equal(parseNpy(readFileSync(x)).dims, [1, 1, 48, 48]);
  r = densenet("embed", "--model", DEFAULT_MODEL_PATH, "--input", image, "--output", f, "--threads", "1");
  assert.is(r.status, 0, r.stderr);
  const ref = reference.samples[2];
  assertWithin(parseNpy(readFileSync(f)).data, ref.features, () => 1e-5 * Math.max(...ref.features.map(Math.abs)), "embed features");
  r = densenet("run", "--model", DEFAULT_MODEL_PATH, "--input", image, "--output", y, "--threads", "1");
  assert.is(r.status, 0, r.stderr);
  const logits = parseNpy(readFileSync(y)).data;
  assertWithin(logits, ref.logits, () => 1e-5 * Math.max(...ref.logits.map(Math.abs)), "run logits");
  // The same tensor from the .npy gives bitwise the same logits.
  r = densenet("run", "--model", DEFAULT_MODEL_PATH, "--input", x, "--output", y, "--threads", "1");
  assert.equal(Array.from(parseNpy(readFileSync(y)).data), Array.from(logits));
  r = densenet(
    "preprocess",
    "--input",
    image,
    "--output",
    x,
    "--resize",
    "32",
    "--crop",
    "28",
    "--mode",
    "L",
    "--mean",
    "0.5",
    "--std",
    "0.25",
  );
  assert.is(r.status, 0, r.stderr);
  assert.equal(parseNpy(readFileSync(x)).dims, [1, 1, 28, 28]);
  r = densenet("preprocess", "--input", image, "--output", x, "--std", "0,1,1");
  assert.is(r.status, 1);
  assert.match(r.stderr.trim(), /std must be 3 finite positive numbers/);
});

Classify.run();
