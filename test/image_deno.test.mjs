// The image API under Deno 2: a JPEG, a PNG, a CMYK JPEG and a WebP decoded and preprocessed there give
// bitwise the same pixels and tensor as under Node (compared by SHA-256 of their bytes).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { imageDigests } from "./deno/image_digests.mjs";

const UnderDeno = suite("images under Deno");
UnderDeno("decodeImage + preprocess give Node's bytes", async () => {
  const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
  const script = fileURLToPath(new URL("./deno/image.mjs", import.meta.url));
  const files = ["jpeg_photo_400x300.jpg", "png_photo_340x226.png", "jpeg_cmyk.jpg", "webp_alpha.webp"].map((f) =>
    fileURLToPath(new URL(`./fixtures/images/${f}`, import.meta.url)),
  );
  /** @type {import("../dist/index.js").PreprocessSpec} */
  const spec = { resize: 256, crop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], mode: "RGB" };
  const r = spawnSync(deno, ["run", "--allow-read", "--allow-env", "--allow-sys", script, JSON.stringify(spec), ...files], {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.is(r.status, 0, `deno exit ${r.status}: ${r.stderr}`);
  const fromDeno = JSON.parse(r.stdout);
  assert.is(fromDeno.length, files.length);
  const fromNode = await imageDigests(files, spec);
  files.forEach((file, k) => assert.equal(fromDeno[k], fromNode[k], `${file}: Deno and Node differ`));
});
UnderDeno.run();
