// Run under Deno by test/image_deno.test.mjs: decodes the images named on the command line
// (JPEG, PNG, CMYK JPEG, WebP), preprocesses each with the spec given as JSON, and prints the decoded
// pixels' and the tensor's bytes as hex SHA-256 so the test can compare them with Node's.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { decodeImage, preprocess } from "../../dist/index.js";

const [specJson, ...files] = Deno.args;
const spec = JSON.parse(specJson);
const sha = (a) =>
  createHash("sha256")
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest("hex");
const out = [];
for (const file of files) {
  const img = await decodeImage(readFileSync(file), file);
  const tensor = preprocess([img], spec);
  out.push({
    file,
    mode: img.mode,
    width: img.width,
    height: img.height,
    pixels: sha(img.data),
    dims: tensor.dims,
    tensor: sha(tensor.data),
  });
}
console.log(JSON.stringify(out));
