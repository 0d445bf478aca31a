// What a run takes and gives, checked: feeds by name, an image batch's shape and values, and
// outputs that must be finite. Inputs are copied when run() is called, so a caller may reuse
// its buffers as soon as run() returns its promise.
import { check } from "../errors.js";
import { type AnyTensor, type Tensor, elementCount, firstNonFinite, formatDims } from "../tensor.js";

/** Largest batch one run() accepts. */
export const MAX_BATCH = 4096;
/** Largest input side accepted. */
export const MAX_SIDE = 8192;

/**
 * The feeds checked against the model's input names (own properties only, so names such as
 * `__proto__` or `toString` work) and copied: a null-prototype record of fresh tensors.
 */
export function copyFeeds(feeds: unknown, inputNames: readonly string[]): Record<string, AnyTensor> {
  check(typeof feeds === "object" && feeds !== null && !Array.isArray(feeds), "feeds must be an object of named tensors");
  const list = () => `[${inputNames.slice(0, 16).join(", ")}${inputNames.length > 16 ? ", …" : ""}]`;
  const given = Object.keys(feeds);
  for (const name of given) check(inputNames.includes(name), () => `unknown input '${name}': the model's inputs are ${list()}`);
  const out: Record<string, AnyTensor> = Object.create(null);
  for (const name of inputNames) {
    check(Object.hasOwn(feeds, name), () => `missing input '${name}'`);
    out[name] = copyTensor((feeds as Record<string, unknown>)[name], name);
  }
  return out;
}

/** A copy of a float32 or int64 tensor; anything else is an error naming the input. */
function copyTensor(t: unknown, name: string): AnyTensor {
  const { data, dims } = asTensor(t, name);
  return { data: data.slice(), dims: [...dims] } as AnyTensor;
}

/** `t` checked to be a float32 or int64 tensor with a valid shape (not copied); else an error naming the input. */
function asTensor(t: unknown, name: string): AnyTensor {
  const data = typeof t === "object" && t !== null ? (t as { data?: unknown }).data : undefined;
  const dims = typeof t === "object" && t !== null ? (t as { dims?: unknown }).dims : undefined;
  check(
    (data instanceof Float32Array || data instanceof BigInt64Array) && Array.isArray(dims),
    () => `input '${name}' must be a tensor { data: Float32Array | BigInt64Array, dims: number[] }`,
  );
  check(
    dims.length <= 64 && dims.every((d) => Number.isSafeInteger(d) && d >= 0),
    () => `input '${name}' has invalid shape ${formatDims(dims)}: dims must be at most 64 non-negative integers`,
  );
  return { data, dims } as AnyTensor;
}

/** A non-empty array of tensors, each checked as asTensor does (not copied). */
export function tensorList(parts: unknown, name: string): AnyTensor[] {
  check(Array.isArray(parts) && parts.length > 0, () => `${name} must be a non-empty array of tensors`);
  return parts.map((p, i) => asTensor(p, `${name}[${i}]`));
}

/** An image batch (N, C, H, W) as the engine takes it: its values in parts, back to back. */
export interface ImageParts {
  readonly parts: readonly Float32Array[];
  readonly dims: readonly [number, number, number, number];
}

/** A checked image batch as one part. */
export function imageParts(input: AnyTensor): ImageParts {
  const [n, c, h, w] = input.dims;
  return { parts: [input.data as Float32Array], dims: [n, c, h, w] };
}

/**
 * The shape of image batches (N_i, C, H, W), each already checked by checkImages, put
 * together along N; an error unless they all have one C, H and W.
 */
export function concatDims(parts: readonly AnyTensor[]): [number, number, number, number] {
  const [, c, h, w] = parts[0].dims;
  let n = 0;
  for (const part of parts) {
    const d = part.dims;
    check(
      d[1] === c && d[2] === h && d[3] === w,
      () => `image batches run together must have one shape [N, ${c}, ${h}, ${w}], got ${formatDims(d)}`,
    );
    n += d[0];
  }
  check(n <= MAX_BATCH, () => `batch ${n} exceeds the maximum of ${MAX_BATCH} images per run`);
  return [n, c, h, w];
}

/** Image batches (N_i, C, H, W) of one C, H and W as one tensor, copied (run() checks the rest). */
export function concatImages(parts: readonly AnyTensor[]): Tensor {
  for (const part of parts) {
    check(
      part.data instanceof Float32Array && part.dims.length === 4,
      () => `image batches must be float32 tensors (N, C, H, W), got shape ${formatDims(part.dims)}`,
    );
  }
  const dims = concatDims(parts);
  const data = new Float32Array(elementCount(dims));
  let at = 0;
  for (const part of parts) {
    data.set(part.data as Float32Array, at);
    at += part.data.length;
  }
  return { data, dims };
}

/** Checks an image batch (N, C, H, W) for a model of `channels` input channels and returns its shape. */
export function checkImages(input: AnyTensor, channels: number): [number, number, number, number] {
  check(input.data instanceof Float32Array, "input must be a tensor { data: Float32Array, dims: number[] }");
  const dims = input.dims;
  const c = channels;
  check(dims.length === 4, () => `input must have rank 4 (N, ${c}, H, W), got shape ${formatDims(dims)}`);
  check(
    dims.every((d) => Number.isSafeInteger(d) && d >= 1),
    () => `input shape ${formatDims(dims)} must hold positive integers`,
  );
  const [n, ch, h, w] = dims;
  check(ch === c, () => `input has ${ch} channels, the model expects ${c} (shape [N, ${c}, H, W])`);
  check(n <= MAX_BATCH, () => `batch ${n} exceeds the maximum of ${MAX_BATCH} images per run`);
  check(h <= MAX_SIDE && w <= MAX_SIDE, () => `input ${h}x${w} exceeds the maximum side of ${MAX_SIDE}`);
  check(
    input.data.length === elementCount(dims),
    () => `input data has ${input.data.length} values, shape ${formatDims(dims)} needs ${elementCount(dims)}`,
  );
  checkFinite(input.data, "input");
  return [n, ch, h, w];
}

/** Throws unless every value is finite; `what` names the tensor. */
export function checkFinite(data: Float32Array, what: string): void {
  const bad = firstNonFinite(data);
  check(bad < 0, () => `${what} holds a non-finite value (${data[bad]}) at index ${bad}`);
}

/**
 * A run's float outputs must be finite: a NaN or infinity there means the weights or the
 * input overflowed float32 on the way, and is reported, never returned as an answer.
 */
export function checkOutputs(outputs: Readonly<Record<string, AnyTensor>>): void {
  for (const [name, t] of Object.entries(outputs)) {
    if (!(t.data instanceof Float32Array)) continue;
    const data = t.data;
    const bad = firstNonFinite(data);
    check(
      bad < 0,
      () =>
        `output '${name}' holds a non-finite value (${data[bad]}) at index ${bad}: ` +
        "the computation overflowed float32 (input or weights too large)",
    );
  }
}
