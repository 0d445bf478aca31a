#!/usr/bin/env node
// Whole-model fidelity of the 3x3 conv algorithms, side by side: for every PyTorch golden
// fixture (test/fixtures/manifest.json, and the full-size ones of `make_fixtures.py --full`
// where a directory is given), max|y - ref| / max|ref| and top-1 agreement with the 3x3
// convs as im2col GEMM, Winograd F(2x2, 3x3), F(4x4, 3x3) and "auto"; then the 500-image
// Fashion-MNIST slice against PyTorch's committed logits. One thread; prints a table.
//
//   node scripts/winograd_fidelity.mjs [FULL_FIXTURES_DIR]
import { readFileSync } from "node:fs";
import { Session, imageTensor } from "../dist/index.js";
import { parseNpy } from "../dist/io/npy.js";
import { idxImages, readIdx } from "./idx.mjs";

/** @type {[string, import("../dist/index.js").SessionOptions["winograd"]][]} */
const MODES = [
  ["im2col", false],
  ["F(2x2)", "f2x2"],
  ["F(4x4)", "f4x4"],
  ["auto", "auto"],
];

/** max|y - ref| / max|ref| over the whole output, and how many rows' argmax agree. */
function compare(y, ref, classes) {
  let err = 0,
    max = 0,
    agree = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(y[i] - ref[i]));
    max = Math.max(max, Math.abs(ref[i]));
  }
  const rows = ref.length / classes;
  const argmax = (a, r) => {
    let best = r * classes;
    for (let j = r * classes; j < (r + 1) * classes; j++) if (a[j] > a[best]) best = j;
    return best;
  };
  for (let r = 0; r < rows; r++) if (argmax(y, r) === argmax(ref, r)) agree++;
  return { rel: err / max, agree, rows };
}

async function fixtureRows(dir) {
  const manifest = JSON.parse(readFileSync(new URL("manifest.json", dir), "utf8"));
  for (const f of manifest) {
    const x = parseNpy(readFileSync(new URL(`${f.name}.input.npy`, dir)));
    const ref = parseNpy(readFileSync(new URL(`${f.name}.output.npy`, dir)));
    const cells = [];
    for (const [, winograd] of MODES) {
      const session = await Session.create(new URL(`${f.name}.safetensors`, dir).pathname, { threads: 1, winograd });
      const y = await session.run(x);
      await session.release();
      const c = compare(y.data, ref.data, ref.dims[1]);
      cells.push(`${c.rel.toExponential(2)} (${c.agree}/${c.rows})`);
    }
    console.log(`| ${f.name} [${f.input_shape.join(", ")}] | ${cells.join(" | ")} |`);
  }
}

async function fashionRow() {
  const fashion = (name) => new URL(`../test/fixtures/fashion/${name}`, import.meta.url);
  const images = idxImages(/** @type {any} */ (readIdx(fashion("slice-images-idx3-ubyte.gz"))));
  const torch = parseNpy(readFileSync(fashion("t10k-logits.npy")));
  const cells = [];
  for (const [, winograd] of MODES) {
    const session = await Session.create(new URL("../models/fashion-mnist-densenet.safetensors", import.meta.url).pathname, {
      threads: 1,
      winograd,
    });
    const tensors = [];
    for (const image of images) tensors.push(await imageTensor(session, /** @type {any} */ (image)));
    const per = tensors[0].data.length;
    const batch = new Float32Array(per * tensors.length);
    tensors.forEach((t, i) => batch.set(t.data, i * per));
    const y = await session.run({ data: batch, dims: [tensors.length, ...tensors[0].dims.slice(1)] });
    await session.release();
    const classes = torch.dims[1];
    const c = compare(y.data, torch.data.subarray(0, tensors.length * classes), classes);
    cells.push(`${c.rel.toExponential(2)} (${c.agree}/${c.rows})`);
  }
  console.log(`| fashion-mnist-densenet, ${images.length}-image slice | ${cells.join(" | ")} |`);
}

console.log(`| fixture | ${MODES.map(([m]) => `${m}: max err / max|ref| (top-1 equal)`).join(" | ")} |`);
console.log(`|---|${MODES.map(() => "---").join("|")}|`);
await fixtureRows(new URL("../test/fixtures/", import.meta.url));
if (process.argv[2]) await fixtureRows(new URL(`file://${process.argv[2].replace(/\/?$/, "/")}`));
await fashionRow();
