// Decoding and preprocessing against Pillow 9.4 and torchvision (scripts/make_image_fixtures.py,
// committed fixtures under test/fixtures/images/): decoded pixels, convert(mode), Resize and
// CenterCrop uint8 bit for bit; the float tensor bit for bit too (checked by SHA-256 of its
// float32 bytes, and by max|diff| ≤ 1e-6 where the expected array is stored), since ToTensor
// and Normalize are three correctly rounded float32 operations per value that we repeat.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Assertion } from "uvu/assert";
import { decodeImage, preprocess, toMode } from "../dist/index.js";
import { centerCrop, resizeImage, resizedSize } from "../dist/image/index.js";

// DENSENET_IMAGE_FIXTURES: a folder made with `--inline-limit 100000000`, to diff every array.
const dir = process.env.DENSENET_IMAGE_FIXTURES
  ? new URL(`file://${process.env.DENSENET_IMAGE_FIXTURES.replace(/\/?$/, "/")}`)
  : new URL("./fixtures/images/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("manifest.json", dir), "utf8"));
const names = Object.keys(manifest.images);

const TYPED = { uint8: Uint8Array, uint16: Uint16Array, float32: Float32Array };

/** Compares `actual` (a typed array) with a manifest entry: shape, SHA-256, and the stored values. */
function assertMatches(actual, entry, what, tolerance = 0) {
  const size = entry.shape.reduce((a, b) => a * b, 1);
  assert.is(actual.length, size, `${what}: ${actual.length} values, expected shape ${entry.shape}`);
  assert.ok(actual instanceof TYPED[entry.dtype], `${what}: ${actual.constructor.name}, expected ${entry.dtype}`);
  const bytes = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength);
  if (entry.file) {
    const raw = readFileSync(new URL(entry.file, dir));
    const expected = new TYPED[entry.dtype](raw.buffer, raw.byteOffset, raw.byteLength / TYPED[entry.dtype].BYTES_PER_ELEMENT);
    let worst = 0;
    let at = -1;
    let differ = 0;
    for (let i = 0; i < size; i++) {
      const d = Math.abs(actual[i] - expected[i]);
      if (d !== 0) differ++;
      if (d > worst) [worst, at] = [d, i];
    }
    if (worst > tolerance) {
      throw new Assertion({
        message: `${what}: ${differ} of ${size} values differ, worst at ${at} (shape ${entry.shape}): expected ${expected[at]}, got ${actual[at]}`,
        operator: "equal",
        actual: actual[at],
        expects: expected[at],
      });
    }
  }
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (digest !== entry.sha256 && tolerance === 0) {
    throw new Assertion(
      /** @type {ConstructorParameters<typeof Assertion>[0]} */ ({
        message: `${what}: bytes differ from Pillow's (SHA-256 ${digest.slice(0, 12)} != ${entry.sha256.slice(0, 12)})`,
        operator: "equal",
      }),
    );
  }
  return digest === entry.sha256;
}

const decoded = new Map();
async function decodeFixture(name) {
  if (!decoded.has(name)) decoded.set(name, await decodeImage(readFileSync(new URL(name, dir)), name));
  return decoded.get(name);
}

const Decode = suite("decodeImage vs Pillow 9.4");
for (const name of names) {
  Decode(`${name}: ${manifest.images[name].pillow_mode} ${manifest.images[name].width}×${manifest.images[name].height}`, async () => {
    const want = manifest.images[name];
    const img = await decodeFixture(name);
    assert.is(img.mode, want.mode);
    assert.is(img.width, want.width);
    assert.is(img.height, want.height);
    assertMatches(img.data, want.decoded, `${name} decoded`);
  });
}
for (const name of names.filter((n) => manifest.images[n].exif_transposed)) {
  Decode(`${name}: exifOrientation applies tag ${manifest.images[name].exif_orientation} as ImageOps.exif_transpose`, async () => {
    const want = manifest.images[name];
    const img = await decodeImage(readFileSync(new URL(name, dir)), name, { exifOrientation: true });
    const swapped = want.exif_orientation >= 5;
    assert.equal([img.width, img.height], swapped ? [want.height, want.width] : [want.width, want.height]);
    assertMatches(img.data, want.exif_transposed, `${name} transposed`);
  });
}
Decode.run();

const Stages = suite("convert, Resize, CenterCrop, ToTensor+Normalize vs torchvision");
for (const name of names) {
  manifest.images[name].specs.forEach((want, k) => {
    const { spec } = want;
    Stages(`${name} spec ${k} (${spec.mode}, resize ${spec.resize}, crop ${spec.crop})`, async () => {
      const img = await decodeFixture(name);
      const converted = toMode(img, spec.mode);
      assertMatches(converted.data, want.converted, `${name} convert(${spec.mode})`);
      const [w, h] = resizedSize(converted.width, converted.height, spec.resize);
      assert.equal([h, w], want.resized.shape.slice(0, 2), `${name} Resize(${spec.resize}) size`);
      const resized = resizeImage(converted, w, h);
      assertMatches(resized.data, want.resized, `${name} Resize(${spec.resize})`);
      const [ch, cw] = typeof spec.crop === "number" ? [spec.crop, spec.crop] : spec.crop;
      const cropped = centerCrop(resized, ch, cw);
      assertMatches(cropped.data, want.cropped, `${name} CenterCrop(${spec.crop})`);
      const tensor = preprocess([img], spec);
      assert.equal(tensor.dims, [1, ...want.tensor.shape]);
      assertMatches(tensor.data, want.tensor, `${name} tensor`, 1e-6);
      assert.ok(assertMatches(tensor.data, want.tensor, `${name} tensor`, 1e-6), `${name} tensor: not bitwise torch's`);
    });
  });
}
Stages.run();

const Batch = suite("preprocess batches");
Batch("a batch is each image preprocessed alone, in order, whatever the batch holds", async () => {
  const spec = manifest.images["jpeg_420.jpg"].specs[0].spec;
  const batchNames = ["png_tiny_5x7.png", "jpeg_420.jpg", "png_grey_16bit.png", "jpeg_cmyk.jpg", "png_panorama_480x72.png"];
  const images = await Promise.all(batchNames.map(decodeFixture));
  const batch = preprocess(images, spec);
  const plane = batch.data.length / batchNames.length;
  assert.equal(batch.dims, [batchNames.length, 3, 56, 56]);
  batchNames.forEach((name, n) => {
    const alone = preprocess([images[n]], spec);
    assert.equal(Array.from(batch.data.subarray(n * plane, (n + 1) * plane)), Array.from(alone.data), `${name} at ${n}`);
  });
});
Batch.run();
