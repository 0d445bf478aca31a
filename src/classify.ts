// Images in, classes out: decode, preprocess as the model's metadata says (torchvision's eval
// transform), run in batches, softmax, top-k with labels.
import { exp as deterministicExp } from "./exp.js";
import { readFile } from "node:fs/promises";
import { DenseNetError, check } from "./errors.js";
import { type DecodedImage, decodeImage, preprocess } from "./image/index.js";
import { readRegularFile } from "./io/file.js";
import { type ModelMetadata, type ModelPreprocessing, checkLabels, imagenetPreprocessing } from "./model/metadata.js";
import type { Tensor } from "./tensor.js";
import { packageFile } from "./package_files.js";

/** What classifying needs of a model: a Session has it all. */
export interface ImageModel {
  /** Labels and preprocessing from the model file. */
  readonly metadata: ModelMetadata;
  /** Channels of the image input (1: greyscale, 3: RGB). */
  readonly inputChannels: number;
  /** Values per image of the output (its classes), or null where unknown. */
  readonly outputClasses: number | null;
  run(input: Tensor): Promise<Tensor>;
}

/** An image to classify: a file path, the file's bytes (JPEG, PNG, ...), or a decoded image. */
export type ImageInput = string | Uint8Array | DecodedImage;

export interface ClassScore {
  readonly index: number;
  /** The class name, or null where the model has no labels. */
  readonly label: string | null;
  /** Softmax of the logits. */
  readonly probability: number;
}

/** One image's answer: its top classes, or the one-line reason it could not be classified. */
export type ClassifyResult = { readonly top: readonly ClassScore[] } | { readonly error: string };

export interface ClassifyOptions {
  /** How many classes to return per image, most probable first (default 5, at most the class count). */
  readonly top?: number;
  /** Class names overriding the model's own. */
  readonly labels?: readonly string[];
  /** Images run together in one batch (default 32); results do not depend on it. */
  readonly batchSize?: number;
}

const IMAGENET_CLASSES = 1000;
let imagenetLabels: readonly string[] | null = null;

/** The ImageNet-1k class names, index order (data/imagenet-classes.json, from torchvision). */
export async function imagenetClassNames(): Promise<readonly string[]> {
  imagenetLabels ??= JSON.parse(await readFile(packageFile("data/imagenet-classes.json"), "utf8")) as string[];
  return imagenetLabels;
}

/** The model's class names: its metadata's, else ImageNet's for a 1000-class model, else null. */
export async function labelsOf(session: ImageModel): Promise<readonly string[] | null> {
  const own = session.metadata.labels;
  if (own) return own;
  return session.outputClasses === IMAGENET_CLASSES ? imagenetClassNames() : null;
}

/** The preprocessing the model's metadata gives, else ImageNet's (RGB, or greyscale for 1-channel models). */
export function preprocessingOf(session: ImageModel): ModelPreprocessing {
  return session.metadata.preprocess ?? imagenetPreprocessing(session.inputChannels === 1 ? "L" : "RGB");
}

/** Reads (a path) and decodes (bytes) an image; a decoded image is returned as it is. */
export async function loadImage(input: ImageInput, name?: string): Promise<DecodedImage> {
  if (typeof input === "string") return decodeImage(await readRegularFile(input, "image"), name ?? input);
  if (input instanceof Uint8Array) return decodeImage(input, name ?? "image bytes");
  check(
    typeof input === "object" && input !== null && (input.data instanceof Uint8Array || input.data instanceof Uint16Array),
    "an image must be a path, the file's bytes (Uint8Array) or a decoded image { width, height, mode, data }",
  );
  return input;
}

/** One image as the model's input tensor (1, C, H, W), preprocessed as its metadata says. */
export async function imageTensor(session: ImageModel, input: ImageInput, name?: string): Promise<Tensor> {
  return preprocess([await loadImage(input, name)], preprocessingOf(session));
}

/**
 * Softmax of each row of logits (N, K), in float64, and its k most probable classes. The
 * exponential is exp.ts's, so the probabilities are the same bits in Node and Deno.
 */
export function topClasses(logits: Tensor, k: number, labels: readonly string[] | null): ClassScore[][] {
  const [n, classes] = [logits.dims[0], logits.data.length / logits.dims[0]];
  check(Number.isInteger(k) && k >= 1, () => `top must be a positive integer, got ${k}`);
  const rows: ClassScore[][] = [];
  for (let i = 0; i < n; i++) {
    const row = logits.data.subarray(i * classes, (i + 1) * classes);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    const exp = Array.from(row, (v) => deterministicExp(v - max));
    const sum = exp.reduce((a, b) => a + b, 0);
    const order = exp
      .map((_, j) => j)
      .sort((a, b) => exp[b] - exp[a] || a - b)
      .slice(0, Math.min(k, classes));
    rows.push(order.map((j) => ({ index: j, label: labels?.[j] ?? null, probability: exp[j] / sum })));
  }
  return rows;
}

/**
 * Classifies images: each is decoded and preprocessed on its own (a failure is that image's
 * `{ error }`, the others are still answered), then they run in batches of the preprocessed
 * size. Results are in input order and do not depend on the batching.
 */
export async function classify(
  session: ImageModel,
  images: readonly ImageInput[],
  options: ClassifyOptions = {},
): Promise<ClassifyResult[]> {
  const { top = 5, batchSize = 32 } = options;
  check(Number.isInteger(top) && top >= 1, () => `top must be a positive integer, got ${top}`);
  check(Number.isInteger(batchSize) && batchSize >= 1, () => `batchSize must be a positive integer, got ${batchSize}`);
  const labels = options.labels ? checkLabelCount(options.labels, session) : await labelsOf(session);
  const spec = preprocessingOf(session);
  const results: ClassifyResult[] = new Array(images.length);
  let pending: { index: number; tensor: Tensor }[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const per = batch[0].tensor.data.length;
    const data = new Float32Array(per * batch.length);
    batch.forEach((p, i) => data.set(p.tensor.data, i * per));
    let logits: Tensor;
    try {
      logits = await session.run({ data, dims: [batch.length, ...batch[0].tensor.dims.slice(1)] });
    } catch (e) {
      // Every image of a batch has the same preprocessed size, so a refusal (e.g. a crop too
      // small for the network) is each one's answer.
      if (!(e instanceof DenseNetError)) throw e;
      for (const p of batch) results[p.index] = { error: e.message };
      return;
    }
    topClasses(logits, top, labels).forEach((row, i) => {
      results[batch[i].index] = { top: row };
    });
  };
  for (let i = 0; i < images.length; i++) {
    try {
      const tensor = preprocess([await loadImage(images[i], typeof images[i] === "string" ? (images[i] as string) : `image ${i}`)], spec);
      if (pending.length > 0 && !sameDims(pending[0].tensor, tensor)) await flush();
      pending.push({ index: i, tensor });
      if (pending.length >= batchSize) await flush();
    } catch (e) {
      if (!(e instanceof DenseNetError)) throw e;
      results[i] = { error: e.message };
    }
  }
  await flush();
  return results;
}

/** Labels given by the user must name every class of the model. */
export function checkLabelCount(labels: readonly string[], session: ImageModel): readonly string[] {
  checkLabels(labels, "labels");
  const classes = session.outputClasses;
  check(classes === null || labels.length === classes, () => `${labels.length} labels given, the model has ${classes} classes`);
  return labels;
}

function sameDims(a: Tensor, b: Tensor): boolean {
  return a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]);
}
