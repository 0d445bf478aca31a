import { DenseNetError, check } from "../errors.js";
import { readRegularFile } from "../io/file.js";
import { openSafetensorsFile } from "../io/safetensors_file.js";
import { parseSafetensors, safetensorsMetadata } from "../io/safetensors.js";
import { isZip } from "../io/zip.js";
import { type DenseNetConfig, architectureConfig, isArchitectureName, unknownArchitecture } from "./config.js";
import { BN_EPS, buildDenseNetGraph } from "./densenet_graph.js";
import { type ModelMetadata, NO_METADATA, parseModelMetadata } from "./metadata.js";
import { randomWeights } from "./random_weights.js";
import type { InterpretedModel, LoadedModel, ModelSource, PlannedModel } from "./types.js";
import { WeightReader, inferConfig, normalizeKeys, parameterCount } from "./weights.js";

export type { InterpretedModel, LoadedModel, ModelSource, PlannedModel };

export async function loadModel(source: ModelSource, seed = 0): Promise<LoadedModel> {
  if (typeof source === "string") {
    if (isArchitectureName(source)) {
      const config = architectureConfig(source);
      return fromWeights(source, normalizeKeys(randomWeights(config, seed)), true, NO_METADATA);
    }
    if (!/[./\\]/.test(source)) throw unknownArchitecture(source);
    // A safetensors file is read in place, one tensor at a time as its weights are packed;
    // other formats are read whole.
    const file = openSafetensorsFile(source, source);
    if (file)
      return withClose(file.close, () =>
        fromWeights(source, normalizeKeys(file.tensors), false, parseModelMetadata(file.metadata, source)),
      );
    return fromBytes(await readRegularFile(source, "model file"), source);
  }
  return fromBytes(modelBytes(source), "model bytes");
}

/** The model `build` makes, which closes the weights' file when it is done with it (or now, if `build` fails). */
function withClose(close: () => void, build: () => PlannedModel): PlannedModel {
  try {
    return { ...build(), close };
  } catch (e) {
    close();
    throw e;
  }
}

/** The bytes of a non-path model source, or a message naming what was passed instead. */
function modelBytes(source: unknown): Uint8Array {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  const kind =
    source === null
      ? "null"
      : ArrayBuffer.isView(source)
        ? `a ${source.constructor.name}`
        : typeof source === "object"
          ? `an object (${Object.prototype.toString.call(source)})`
          : `a ${typeof source}`;
  const hint = ArrayBuffer.isView(source) ? "; wrap its bytes: new Uint8Array(view.buffer, view.byteOffset, view.byteLength)" : "";
  throw new DenseNetError(`the model must be a file path, an architecture name, a Uint8Array or an ArrayBuffer; got ${kind}${hint}`);
}

/** The model in `bytes`, told by its first bytes. The .pth and ONNX readers (protobufjs) are loaded only for such a file. */
async function fromBytes(bytes: Uint8Array, name: string): Promise<LoadedModel> {
  if (isSafetensors(bytes)) {
    const weights = normalizeKeys(parseSafetensors(bytes, name));
    return fromWeights(name, weights, false, parseModelMetadata(safetensorsMetadata(bytes, name), name));
  }
  if (isZip(bytes) || /\.(pth|pt)$/.test(name)) {
    const { parsePth } = await import("../io/pth.js");
    return fromWeights(name, normalizeKeys(parsePth(bytes, name)), false, NO_METADATA);
  }
  if (name.endsWith(".safetensors")) parseSafetensors(bytes, name); // throws the precise reason
  return (await import("../onnx/import.js")).importOnnx(bytes, name);
}

/** A safetensors file begins with a little-endian u64 header length and then '{'. */
function isSafetensors(bytes: Uint8Array): boolean {
  return bytes.length >= 9 && bytes[8] === 0x7b && bytes[6] === 0 && bytes[7] === 0;
}

function fromWeights(name: string, weights: ReturnType<typeof normalizeKeys>, random: boolean, metadata: ModelMetadata): PlannedModel {
  const reader = new WeightReader(weights, name);
  const config = inferConfig(reader);
  checkWidths(config, name);
  checkVariances(weights, name);
  return {
    kind: "planned",
    name,
    config,
    graph: buildDenseNetGraph(config, reader),
    parameters: parameterCount(config),
    randomWeights: random,
    inputNames: ["input"],
    outputNames: ["logits"],
    outputDims: (n) => [n, config.numClasses],
    metadata,
  };
}

/**
 * Every width must hold a channel: a transition whose width rounds to 0 (a legal but
 * degenerate torchvision configuration) would feed an empty block, which the planned kernels
 * do not compute as PyTorch does; it is refused rather than answered wrongly.
 */
function checkWidths(config: DenseNetConfig, name: string): void {
  const widths: [string, number][] = [
    ["the stem (num_init_features)", config.numInitFeatures],
    ["the input channels", config.inChannels],
    ["the growth rate", config.growthRate],
    ["the bottleneck (bn_size)", config.bnSize],
    ["the classifier (num_classes)", config.numClasses],
    ...config.transitionChannels.map((c, i): [string, number] => [`transition${i + 1}`, c]),
    ...config.blockConfig.map((c, i): [string, number] => [`denseblock${i + 1} (layers)`, c]),
  ];
  for (const [what, width] of widths) {
    check(width >= 1, () => `${name}: ${what} has width ${width}: every layer of a DenseNet needs at least one channel`);
  }
}

/** A BatchNorm's running_var + eps must be positive, or its 1/sqrt would be NaN or infinite. */
function checkVariances(weights: ReturnType<typeof normalizeKeys>, name: string): void {
  for (const [key, t] of weights) {
    const data = key.endsWith(".running_var") ? t.read() : null;
    if (data === null) continue;
    const i = data.findIndex((v) => !(v + BN_EPS > 0));
    check(i < 0, () => `${name}: tensor '${key}' holds ${data[i]} at index ${i}: a BatchNorm variance must satisfy running_var + eps > 0`);
  }
}
