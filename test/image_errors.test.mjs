// Bad input to the image API: hostile and broken files (test/fixtures/images/bad/, made with
// what Pillow does with each in manifest.json), seeded corruptions of good files, invalid specs.
// Every failure must be a one-line DenseNetError naming the file (or the field); never a crash,
// a hang or an allocation the header did not justify.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DenseNetError, decodeImage, preprocess, toMode } from "../dist/index.js";
import { MAX_IMAGE_PIXELS, centerCrop, resizeImage } from "../dist/image/index.js";
import { SeededRandom } from "../dist/model/random_weights.js";

const dir = new URL("./fixtures/images/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("manifest.json", dir), "utf8"));
const read = (name) => new Uint8Array(readFileSync(new URL(name, dir)));

/** Awaits `promise` and checks it rejects with a one-line DenseNetError matching `pattern`. */
async function rejects(promise, pattern, what) {
  let error = null;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error, `${what}: did not throw`);
  assert.instance(error, DenseNetError, `${what}: ${error?.name}: ${error?.message}`);
  assert.not.match(error.message, /\n/, `${what}: message has several lines`);
  assert.match(error.message, pattern, `${what}: ${error.message}`);
  return error.message;
}

const Bad = suite("hostile and broken files");
const EXPECTED = {
  "truncated.jpg": /^truncated\.jpg: truncated JPEG/,
  "truncated_before_eoi.jpg": /^truncated_before_eoi\.jpg: truncated JPEG \(no end-of-image marker/,
  "truncated.png": /^truncated\.png: truncated PNG/,
  "bad_crc.png": /^bad_crc\.png: corrupt PNG \(bad CRC in chunk/,
  "short_image_data.png": /^short_image_data\.png: truncated PNG image data \(\d+ of 3630 bytes\)/,
  "text.jpg": /^text\.jpg: not a JPEG, PNG or WebP file/,
  "empty.png": /^empty\.png: empty file/,
  "zero_size.png": /^zero_size\.png: image is 0×0, it has no pixels/,
  "zero_size.jpg": /^zero_size\.jpg: image is 0×0, it has no pixels/,
  "bomb_50000x50000.png": /^bomb_50000x50000\.png: image is 50000×50000 = 2500000000 pixels, more than the limit of 89478485/,
  "bomb_60000x60000.jpg": /^bomb_60000x60000\.jpg: image is 60000×60000 = 3600000000 pixels, more than the limit of 89478485/,
  "zlib_bomb.png": /^zlib_bomb\.png: corrupt PNG \(image data inflates to more than the 784 bytes its header implies\)/,
  "image.gif": /^image\.gif: unsupported image format GIF \(JPEG, PNG and WebP are supported\)/,
  "image.bmp": /^image\.bmp: unsupported image format BMP/,
  "truncated.webp": /^truncated\.webp: truncated WebP \(RIFF size \d+ bytes, file \d+\)/,
  "animated.webp": /^animated\.webp: unsupported WebP \(animated; still images are supported\)/,
  "arithmetic.jpg": /^arithmetic\.jpg: unsupported JPEG \(SOF9: arithmetic coding/,
};
Bad("every bad file of the manifest has an expected error here", () => {
  assert.equal(Object.keys(manifest.bad).sort(), Object.keys(EXPECTED).sort());
});
for (const [name, pattern] of Object.entries(EXPECTED)) {
  Bad(`${name} (Pillow: ${manifest.bad[name]?.pillow.slice(0, 60)})`, async () => {
    await rejects(decodeImage(read(`bad/${name}`), name), pattern, name);
  });
}
Bad("the default name is 'image'", async () => {
  await rejects(decodeImage(read("bad/text.jpg")), /^image: not a JPEG, PNG or WebP/, "no name");
});
Bad("not bytes", async () => {
  // @ts-expect-error a path where the bytes belong, on purpose: decodeImage must refuse it
  await rejects(decodeImage("photo.jpg", "x.jpg"), /^x\.jpg: image bytes must be a Uint8Array/, "a string");
});
/**
 * Peak RSS (MB) of a fresh Node process that decodes `file` (expecting `pattern` to match its
 * error, or no error for a null pattern), and how long the decode took.
 */
function decodeInChild(file, pattern) {
  const script = `
    import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
    import { decodeImage } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
    const bytes = readFileSync(${JSON.stringify(fileURLToPath(new URL(file, dir)))});
    const t0 = performance.now();
    let message = null;
    try { await decodeImage(bytes, "f"); } catch (e) { message = e.message; }
    console.log(JSON.stringify({ message, ms: performance.now() - t0, peakMb: process.resourceUsage().maxRSS / 1024 }));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  if (pattern) assert.match(out.message ?? "", pattern, file);
  else assert.is(out.message, null, file);
  return out;
}

Bad("bombs are refused without allocating what they claim (peak RSS of a fresh process)", () => {
  const baseline = decodeInChild("png_rgb.png", null).peakMb;
  for (const [name, pattern] of [
    ["bomb_50000x50000.png", /decompression bomb/], // 7.5 GB of RGB if allocated
    ["bomb_60000x60000.jpg", /decompression bomb/], // 10.8 GB
    ["zlib_bomb.png", /inflates to more than/], // 100 MB if inflated; we stop within one 4 KB slice
  ]) {
    const { peakMb, ms } = decodeInChild(`bad/${name}`, pattern);
    assert.ok(peakMb < baseline + 32, `${name}: peak RSS ${peakMb.toFixed(0)} MB, a good PNG's ${baseline.toFixed(0)} MB`);
    assert.ok(ms < 1000, `${name}: took ${ms.toFixed(0)} ms`);
  }
});
Bad("exactly MAX_IMAGE_PIXELS passes the guard, one more does not", async () => {
  // A PNG header of w×h with no image data: the size check passes or fails before the data is read.
  const png = (w, h) => {
    const u32 = (v) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
    const body = [..."IHDR"].map((c) => c.charCodeAt(0)).concat(u32(w), u32(h), [8, 0, 0, 0, 0]);
    let c = 0xffffffff;
    for (const b of body) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    return new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, ...u32(13), ...body, ...u32((c ^ 0xffffffff) >>> 0)]);
  };
  assert.is(MAX_IMAGE_PIXELS, 89478485);
  await rejects(decodeImage(png(89478485, 1), "max.png"), /^max\.png: truncated PNG \(no image data\)/, "at the limit");
  await rejects(
    decodeImage(png(89478486, 1), "over.png"),
    /^over\.png: image is 89478486×1 = 89478486 pixels, more than the limit/,
    "over the limit",
  );
});
Bad("a libjpeg error (undefined Huffman table) is an error, and the decoder still works after it", async () => {
  const good = read("jpeg_420.jpg");
  const bad = good.slice();
  const sos = bad.findIndex((b, i) => b === 0xff && bad[i + 1] === 0xda);
  bad[sos + 6] = 0x33; // first scan component: DC and AC tables 3, never defined
  await rejects(
    decodeImage(bad, "bad_table.jpg"),
    /^bad_table\.jpg: cannot decode JPEG \(Huffman table 0x03 was not defined\)/,
    "bad table",
  );
  const img = await decodeImage(good, "jpeg_420.jpg");
  const again = await decodeImage(good, "jpeg_420.jpg");
  assert.is(img.width, 120);
  assert.equal(Array.from(img.data), Array.from(again.data));
});
Bad.run();

const Fuzz = suite("seeded corruptions of good files");
const FUZZED = [
  "jpeg_420.jpg",
  "jpeg_progressive.jpg",
  "jpeg_restart.jpg",
  "jpeg_cmyk.jpg",
  "jpeg_cmyk_progressive.jpg",
  "jpeg_cmyk_subsampled.jpg",
  "png_rgb.png",
  "png_grey_2bit_interlaced.png",
  "png_palette_4bit_trns_interlaced.png",
  "png_rgba_16bit.png",
  "png_grey_16bit.png",
  "webp_lossy.webp",
  "webp_lossless_alpha.webp",
];
for (const name of FUZZED) {
  Fuzz(`${name}: 24 truncations and 24 byte changes decode or fail cleanly`, async () => {
    const good = read(name);
    const rng = new SeededRandom(name.length * 7919);
    const want = manifest.images[name];
    const cases = [];
    for (let k = 0; k < 24; k++) cases.push(good.subarray(0, Math.floor(rng.uniform() * good.length)));
    for (let k = 0; k < 24; k++) {
      const bytes = good.slice();
      const at = 2 + Math.floor(rng.uniform() * (good.length - 2));
      bytes[at] = Math.floor(rng.uniform() * 256);
      cases.push(bytes);
    }
    for (const [k, bytes] of cases.entries()) {
      const t0 = performance.now();
      try {
        const img = await decodeImage(bytes, name);
        // A change the format cannot detect (inside JPEG entropy data): still a full image.
        assert.is(img.data.length, img.width * img.height * { L: 1, LA: 2, RGB: 3, RGBA: 4, CMYK: 4, "I;16": 1 }[img.mode], `case ${k}`);
        assert.ok(img.width * img.height <= 4 * want.width * want.height, `case ${k}: ${img.width}×${img.height}`);
      } catch (e) {
        assert.instance(e, DenseNetError, `case ${k}: ${e?.name}: ${e?.message}`);
        assert.ok(e.message.startsWith(`${name}: `) && !e.message.includes("\n"), `case ${k}: ${e.message}`);
      }
      assert.ok(performance.now() - t0 < 2000, `case ${k} took ${performance.now() - t0} ms`);
    }
  });
}
Fuzz.run();

const Spec = suite("preprocess specs and stage arguments");
/** @type {import("../dist/image/index.js").DecodedImage8} */
const img = { width: 9, height: 7, mode: "RGB", data: new Uint8Array(9 * 7 * 3) };
/** @type {import("../dist/index.js").PreprocessSpec} */
const good = { resize: 8, crop: 6, mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2], mode: "RGB" };
/** @type {[Partial<Record<keyof import("../dist/index.js").PreprocessSpec, unknown>>, RegExp][]} */
const BAD_SPECS = [
  [{ resize: 0 }, /^preprocess spec: resize must be an integer from 1 to 8192, got 0/],
  [{ resize: 1.5 }, /resize must be an integer/],
  [{ resize: NaN }, /resize must be an integer .* got null/],
  [{ resize: 100000 }, /resize must be an integer from 1 to 8192, got 100000/],
  [{ crop: -3 }, /^preprocess spec: crop must be an integer/],
  [{ crop: [6] }, /crop must be a number or \[height, width\], got 1 numbers/],
  [{ crop: [6, 0] }, /crop width must be an integer/],
  [{ mean: [0.5, 0.5] }, /^preprocess spec: mean must have 3 number\(s\) for mode RGB, got \[0.5,0.5\]/],
  [{ mean: [0.5, NaN, 0.5] }, /mean must be finite numbers/],
  [{ std: [0.2, 0, 0.2] }, /^preprocess spec: std must be finite numbers > 0/],
  [{ std: [0.2, -1, 0.2] }, /std must be finite numbers > 0/],
  [{ std: [0.2, Infinity, 0.2] }, /std must be finite numbers > 0/],
  [{ mode: "RGBA" }, /^preprocess spec: mode must be "RGB" or "L", got "RGBA"/],
  [{ mode: "L" }, /mean must have 1 number\(s\) for mode L/],
];
for (const [change, pattern] of BAD_SPECS) {
  Spec(`refuses ${JSON.stringify(change, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))}`, async () => {
    // @ts-expect-error the changes are bad values on purpose (a mode "RGBA", a crop [6], ...): not a PreprocessSpec
    await rejects((async () => preprocess([img], { ...good, ...change }))(), pattern, JSON.stringify(change));
  });
}
Spec("refuses an empty batch and a non-object spec", async () => {
  await rejects((async () => preprocess([], good))(), /^preprocess: no images given/, "empty");
  await rejects((async () => preprocess([img], null))(), /^preprocess spec: must be an object/, "null");
});
Spec("stage functions check their sizes and modes", async () => {
  const rgb = toMode(img, "RGB");
  await rejects((async () => resizeImage(rgb, 0, 5))(), /^resizeImage: size must be positive integers, got 0×5/, "resize 0");
  await rejects(
    (async () => resizeImage(rgb, 100000, 100000))(),
    /^resizeImage: 100000×100000 is more than 89478485 pixels/,
    "resize huge",
  );
  await rejects((async () => centerCrop(rgb, 3.5, 2))(), /^centerCrop: size must be positive integers, got 3.5×2/, "crop");
  // @ts-expect-error "CMYK" is not a TargetMode, on purpose: toMode must refuse it
  await rejects((async () => toMode(img, "CMYK"))(), /^toMode: mode must be "RGB" or "L", not "CMYK"/, "mode");
});
Spec("a good spec gives (N, C, crop, crop) and leaves the input untouched", () => {
  const data = Uint8Array.from({ length: 9 * 7 * 3 }, (_, i) => (i * 37) % 256);
  const input = { ...img, data };
  const copy = data.slice();
  const t = preprocess([input, input], { ...good, crop: [6, 4] });
  assert.equal(t.dims, [2, 3, 6, 4]);
  assert.equal(Array.from(data), Array.from(copy));
});
Spec.run();
