// Decodes image files and preprocesses each with `spec`, returning per file its mode, size and
// the SHA-256 of the decoded pixels' and the tensor's bytes. Imported by the Node test and by
// the Deno script it runs (test/deno/image.mjs), so both runtimes compute the same record.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { decodeImage, preprocess } from "../../dist/index.js";

const sha = (a) =>
  createHash("sha256")
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest("hex");

export async function imageDigests(files, spec) {
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
  return out;
}
