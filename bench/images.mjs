#!/usr/bin/env node
// Decode and preprocess time per image, one thread, in this process:
//
//   node bench/images.mjs [--runs 15] [--warmup 2] [--out bench/results/images.json]
//   node_modules/.bin/deno run --allow-read --allow-write --allow-env --allow-sys --allow-run bench/images.mjs
//        (writes bench/results/images-deno.json by default)
//
// Images: the real photographs of Debian's python3-skimage (public domain): hubble_deep_field.jpg
// (1000×872 baseline JPEG) and astronaut.png (512×512 RGB PNG); a 1000×872 CMYK JPEG is made
// and a lossy WebP are made from the first with /usr/bin/python3's Pillow when it is there
// (the CMYK row times our own decoder), else those rows are skipped. Each row: `--warmup` untimed calls, then the median, p90 and min of
// `--runs` timed calls. Preprocessing is torchvision's ImageNet eval transform (256 / 224).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { decodeImage, preprocess, toMode } from "../dist/index.js";
import { resizeImage, resizedSize } from "../dist/image/index.js";

const SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data";
/** @type {import("../dist/index.js").PreprocessSpec} */
const SPEC = { resize: 256, crop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], mode: "RGB" };
const runtime = globalThis.Deno ? `Deno ${globalThis.Deno.version.deno}` : `Node ${process.version}`;

function parseArgs(argv) {
  const a = { runs: 15, warmup: 2, out: null };
  for (let i = 0; i < argv.length; i++) {
    const v = () => argv[++i];
    if (argv[i] === "--runs") a.runs = Number(v());
    else if (argv[i] === "--warmup") a.warmup = Number(v());
    else if (argv[i] === "--out") a.out = v();
    else throw new Error(`unknown argument ${argv[i]} (--runs N, --warmup N, --out FILE)`);
  }
  if (!(Number.isInteger(a.runs) && a.runs >= 1) || !(Number.isInteger(a.warmup) && a.warmup >= 0)) {
    throw new Error("--runs must be an integer >= 1 and --warmup >= 0");
  }
  a.out ??= fileURLToPath(new URL(`./results/images${globalThis.Deno ? "-deno" : ""}.json`, import.meta.url));
  return a;
}

async function time(fn, { runs, warmup }) {
  for (let k = 0; k < warmup; k++) await fn();
  const ms = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((x, y) => x - y);
  const at = (q) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)];
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return {
    median_ms: r3(ms.length % 2 ? ms[(ms.length - 1) / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2),
    p90_ms: r3(at(0.9)),
    min_ms: r3(ms[0]),
    runs,
  };
}

/** The Hubble photo re-encoded by Pillow (`save` is a Python expression on `im`, saving to `out`), or null without Pillow. */
function withPillow(file, save) {
  try {
    const path = join(mkdtempSync(join(tmpdir(), "densenet-images-")), file);
    execFileSync(
      "/usr/bin/python3",
      [
        "-c",
        `import sys; from PIL import Image; im = Image.open(sys.argv[1]); out = sys.argv[2]; ${save}`,
        join(SKIMAGE, "hubble_deep_field.jpg"),
        path,
      ],
      { stdio: "ignore" },
    );
    return new Uint8Array(readFileSync(path));
  } catch {
    return null; // no Pillow here: that row is skipped and says so
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const jpegPath = join(SKIMAGE, "hubble_deep_field.jpg");
  const pngPath = join(SKIMAGE, "astronaut.png");
  if (!existsSync(jpegPath) || !existsSync(pngPath)) throw new Error(`needs Debian's python3-skimage photos under ${SKIMAGE}`);
  const jpeg = new Uint8Array(readFileSync(jpegPath));
  const png = new Uint8Array(readFileSync(pngPath));
  const cmyk = withPillow("hubble_cmyk.jpg", "im.convert('CMYK').save(out, quality=90)");
  const webp = withPillow("hubble.webp", "im.save(out, quality=80)");
  const jpegImg = await decodeImage(jpeg, "hubble_deep_field.jpg");
  const pngImg = await decodeImage(png, "astronaut.png");
  const rgb = toMode(jpegImg, "RGB");
  const [rw, rh] = resizedSize(rgb.width, rgb.height, SPEC.resize);
  const rows = [
    ["decode JPEG 1000×872", () => decodeImage(jpeg, "j")],
    ["decode PNG 512×512", () => decodeImage(png, "p")],
    ...(cmyk ? [["decode CMYK JPEG 1000×872", () => decodeImage(cmyk, "c")]] : []),
    ...(webp ? [["decode WebP 1000×872 (lossy)", () => decodeImage(webp, "w")]] : []),
    [`resize 1000×872 → ${rw}×${rh} (RGB)`, () => resizeImage(rgb, rw, rh)],
    ["preprocess JPEG's pixels (256/224)", () => preprocess([jpegImg], SPEC)],
    ["preprocess PNG's pixels (256/224)", () => preprocess([pngImg], SPEC)],
    ["decode + preprocess JPEG 1000×872", async () => preprocess([await decodeImage(jpeg, "j")], SPEC)],
    ["decode + preprocess PNG 512×512", async () => preprocess([await decodeImage(png, "p")], SPEC)],
  ];
  /** @type {any[]} */
  const results = [];
  for (const [what, fn] of rows) results.push({ what, ...(await time(fn, args)) });
  for (const [what, bytes] of [
    ["decode CMYK JPEG 1000×872", cmyk],
    ["decode WebP 1000×872 (lossy)", webp],
  ]) {
    if (!bytes) results.push({ what, skipped: "no /usr/bin/python3 with Pillow to make the file" });
  }
  console.log(`${runtime}, ${args.runs} runs after ${args.warmup} warm-up, one thread`);
  console.log("| step | median ms | p90 ms | min ms |\n|---|---|---|---|");
  for (const r of results)
    console.log(r.skipped ? `| ${r.what} | skipped: ${r.skipped} | | |` : `| ${r.what} | ${r.median_ms} | ${r.p90_ms} | ${r.min_ms} |`);
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify({ runtime, date: new Date().toISOString(), spec: SPEC, results }, null, 1) + "\n");
  console.log(`written to ${args.out}`);
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
