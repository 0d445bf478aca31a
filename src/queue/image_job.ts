// The image form of a job: `{"model": NAME, "image": "<base64 JPEG or PNG>", "top": K}`,
// answered with the body of serve's `POST /v2/models/{NAME}/classify?top=K`:
// `{"model_name", "model_version", "top": [{"index", "label", "probability"}, ...]}`.
import { check } from "../errors.js";
import { imageTensor, labelsOf, topClasses } from "../classify.js";
import { MODEL_VERSION, modelSignature } from "../serve/protocol.js";
import type { Session } from "../session.js";

/** Largest image accepted, in base64 characters (64 MiB of file bytes, serve's default body limit). */
const MAX_BASE64_CHARS = Math.ceil((64 * 2 ** 20) / 3) * 4;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** `top`: 1 to the model's class count; by default 5 (or every class, if fewer), as serve's ?top=K. */
function topOf(top: unknown, classes: number): number {
  const most = classes >= 1 ? classes : 1_000_000; // an ONNX graph whose class count no plan revealed
  if (top === undefined) return Math.min(5, most);
  check(
    Number.isInteger(top) && (top as number) >= 1 && (top as number) <= most,
    () => `'top' must be an integer from 1 to ${most} (the model's classes), got ${JSON.stringify(top)?.slice(0, 20)}`,
  );
  return top as number;
}

/** Decodes, preprocesses (as the model's metadata says) and classifies one image job. */
export async function runImageJob(modelName: string, session: Session, data: Record<string, unknown>): Promise<object> {
  const { image, top } = data;
  check(!("inputs" in data), "job data has both 'image' and 'inputs': give one (an image to classify, or tensors to infer)");
  check(typeof image === "string" && image.length > 0, "'image' must be the base64 text of a JPEG or PNG file");
  check(
    image.length <= MAX_BASE64_CHARS,
    () => `'image' has ${image.length} base64 characters, more than the ${MAX_BASE64_CHARS} of a 64 MiB file`,
  );
  check(
    image.length % 4 === 0 && BASE64.test(image),
    "'image' is not base64 (A-Z, a-z, 0-9, '+', '/', '=' padding to a multiple of 4; no line breaks)",
  );
  const k = topOf(top, modelSignature(session).outputs[0].shape[1]);
  const bytes = Buffer.from(image, "base64");
  const tensor = await imageTensor(session, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), "job image");
  const [row] = topClasses(await session.run(tensor), k, await labelsOf(session));
  return { model_name: modelName, model_version: MODEL_VERSION, top: row };
}
