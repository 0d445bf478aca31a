#!/usr/bin/env node
// Runs the full Fashion-MNIST test set (10,000 images, Debian's dataset-fashion-mnist) through
// classify()'s code path on the embedded model and checks it against PyTorch's answers made by
// scripts/train_fashion_mnist.py (test/fixtures/fashion/t10k-logits.npy): accuracy >= 92 % and
// top-1 equal to PyTorch's on >= 9,990 images. Lists every disagreement with PyTorch's logit
// margin. Exit 0 when both hold, 1 otherwise.
//   node scripts/eval_fashion_mnist.mjs [--data /usr/share/datasets/fashion-mnist] [--threads N] [--json]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_PATH, Session, classify, parseNpy } from "../dist/index.js";
import { idxImages, readIdx } from "./idx.mjs";

const { values } = parseArgs({ options: { data: { type: "string" }, threads: { type: "string" }, json: { type: "boolean" } } });
const dir = values.data ?? "/usr/share/datasets/fashion-mnist";
const MIN_ACCURACY = 0.92,
  MIN_AGREEMENT = 9990;

const images = readIdx(join(dir, "t10k-images-idx3-ubyte.gz")),
  labels = readIdx(join(dir, "t10k-labels-idx1-ubyte.gz"));
const n = images.dims[0];
const reference = parseNpy(readFileSync(new URL("../test/fixtures/fashion/t10k-logits.npy", import.meta.url)));
const decoded = idxImages(images);
const session = await Session.create(DEFAULT_MODEL_PATH, values.threads ? { threads: Number(values.threads) } : {});
const t0 = performance.now();
const results = await classify(session, decoded, { top: 2, batchSize: 200 });
const seconds = (performance.now() - t0) / 1000;
await session.release();

const classes = reference.dims[1];
let correct = 0,
  torchCorrect = 0,
  agree = 0;
const disagreements = [];
results.forEach((r, i) => {
  if ("error" in r) throw new Error(`image ${i}: ${r.error}`);
  const row = reference.data.subarray(i * classes, (i + 1) * classes);
  const order = [...row.keys()].sort((a, b) => row[b] - row[a]);
  const ours = r.top[0].index;
  correct += ours === labels.data[i] ? 1 : 0;
  torchCorrect += order[0] === labels.data[i] ? 1 : 0;
  if (ours === order[0]) agree++;
  else disagreements.push({ image: i, ours, pytorch: order[0], pytorch_margin: row[order[0]] - row[order[1]] });
});
const report = {
  images: n,
  accuracy: correct / n,
  accuracy_pytorch: torchCorrect / n,
  top1_equal_pytorch: agree,
  disagreements,
  seconds,
  images_per_s: n / seconds,
  threads: session.threads,
};
if (values.json) console.log(JSON.stringify(report));
else {
  console.log(
    `Fashion-MNIST test set, ${n} images through classify() on ${DEFAULT_MODEL_PATH} (${session.threads} threads, ${seconds.toFixed(1)} s, ${(n / seconds).toFixed(0)} images/s):`,
  );
  console.log(
    `  accuracy ${(100 * report.accuracy).toFixed(2)} % (PyTorch: ${(100 * report.accuracy_pytorch).toFixed(2)} %); top-1 equal to PyTorch's on ${agree} of ${n}`,
  );
  for (const d of disagreements)
    console.log(`  image ${d.image}: ours ${d.ours}, PyTorch ${d.pytorch} (PyTorch's logit margin ${d.pytorch_margin.toExponential(2)})`);
}
const ok = report.accuracy >= MIN_ACCURACY && agree >= MIN_AGREEMENT;
if (!ok) console.error(`eval_fashion_mnist: FAILED (need accuracy >= ${MIN_ACCURACY} and top-1 agreement >= ${MIN_AGREEMENT})`);
process.exitCode = ok ? 0 : 1;
