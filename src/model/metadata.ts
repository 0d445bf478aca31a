// What a model file says about itself beyond its weights: class labels and the image
// preprocessing it was trained with. Stored as string key/values: a safetensors file's
// `__metadata__` object, an ONNX model's `metadata_props`. Keys:
//   "densenet.labels"      a JSON array of class names, index order
//   "densenet.preprocess"  a JSON object {"resize": 256, "crop": 224 | [h, w], "mean": [..],
//                          "std": [..], "mode": "RGB" | "L"} (torchvision's eval transform)
//   "densenet.description" free text
import { DenseNetError, check } from "../errors.js";

/** torchvision's eval transform: Resize(resize) (shorter side), CenterCrop(crop), ToTensor, Normalize(mean, std). */
export interface ModelPreprocessing {
  readonly resize: number;
  readonly crop: number | readonly [number, number];
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Pillow mode the image is converted to first: "RGB" (3 channels) or "L" (greyscale, 1 channel). */
  readonly mode: "RGB" | "L";
}

export interface ModelMetadata {
  /** Class names, index order, or null where the file has none. */
  readonly labels: readonly string[] | null;
  /** The preprocessing the model was trained with, or null where the file does not say. */
  readonly preprocess: ModelPreprocessing | null;
  readonly description: string | null;
}

export const NO_METADATA: ModelMetadata = { labels: null, preprocess: null, description: null };

/** Longest side a preprocessing spec may ask for (as the runtime's MAX_SIDE). */
const MAX_PREPROCESS_SIDE = 8192;

/** ImageNet's preprocessing as torchvision's classification models document it. */
export function imagenetPreprocessing(mode: "RGB" | "L"): ModelPreprocessing {
  return mode === "RGB"
    ? { resize: 256, crop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], mode }
    : { resize: 256, crop: 224, mean: [0.449], std: [0.226], mode };
}

/** Reads the densenet.* entries of a model's string metadata; other keys are ignored. */
export function parseModelMetadata(entries: Readonly<Record<string, string>>, what: string): ModelMetadata {
  const json = (key: string): unknown => {
    try {
      return JSON.parse(entries[key]);
    } catch {
      throw new DenseNetError(`${what}: metadata '${key}' is not valid JSON`);
    }
  };
  const labels = Object.hasOwn(entries, "densenet.labels")
    ? checkLabels(json("densenet.labels"), `${what}: metadata 'densenet.labels'`)
    : null;
  const preprocess = Object.hasOwn(entries, "densenet.preprocess")
    ? checkPreprocessing(json("densenet.preprocess"), `${what}: metadata 'densenet.preprocess'`)
    : null;
  const description = typeof entries["densenet.description"] === "string" ? entries["densenet.description"] : null;
  return { labels, preprocess, description };
}

/** A list of class names: an array of strings. */
export function checkLabels(value: unknown, what: string): string[] {
  check(
    Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string"),
    `${what} must be a non-empty array of strings`,
  );
  return value as string[];
}

export function checkPreprocessing(value: unknown, what: string): ModelPreprocessing {
  check(typeof value === "object" && value !== null && !Array.isArray(value), `${what} must be a JSON object`);
  const v = value as Record<string, unknown>;
  const side = (x: unknown) => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= MAX_PREPROCESS_SIDE;
  check(side(v.resize), () => `${what}: resize must be an integer from 1 to ${MAX_PREPROCESS_SIDE}, got ${JSON.stringify(v.resize)}`);
  const crop = v.crop;
  check(
    side(crop) || (Array.isArray(crop) && crop.length === 2 && crop.every(side)),
    () => `${what}: crop must be an integer or [height, width] from 1 to ${MAX_PREPROCESS_SIDE}, got ${JSON.stringify(crop)}`,
  );
  const mode = v.mode ?? "RGB";
  check(mode === "RGB" || mode === "L", () => `${what}: mode must be "RGB" or "L", got ${JSON.stringify(mode)}`);
  const channels = mode === "RGB" ? 3 : 1;
  const numbers = (x: unknown, name: string, positive: boolean) => {
    check(
      Array.isArray(x) && x.length === channels && x.every((n) => typeof n === "number" && Number.isFinite(n) && (!positive || n > 0)),
      () => `${what}: ${name} must be ${channels} finite${positive ? " positive" : ""} numbers for mode ${mode}, got ${JSON.stringify(x)}`,
    );
    return x as number[];
  };
  return {
    resize: v.resize as number,
    crop: Array.isArray(crop) ? [crop[0], crop[1]] : (crop as number),
    mean: numbers(v.mean, "mean", false),
    std: numbers(v.std, "std", true),
    mode,
  };
}
