import { readFile } from "node:fs/promises";
import { DenseNetError } from "../errors.js";
import { parsePth } from "../io/pth.js";
import { parseSafetensors, safetensorsMetadata } from "../io/safetensors.js";
import { isZip } from "../io/zip.js";
import { importOnnx } from "../onnx/import.js";
import { architectureConfig, isArchitectureName, unknownArchitecture } from "./config.js";
import { buildDenseNetGraph } from "./densenet_graph.js";
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
    let bytes: Uint8Array;
    try {
      bytes = await readFile(source);
    } catch (e) {
      throw new DenseNetError(`cannot read model file '${source}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    return fromBytes(bytes, source);
  }
  return fromBytes(source instanceof Uint8Array ? source : new Uint8Array(source), "model bytes");
}

function fromBytes(bytes: Uint8Array, name: string): LoadedModel {
  if (isSafetensors(bytes)) {
    const weights = normalizeKeys(parseSafetensors(bytes, name));
    return fromWeights(name, weights, false, parseModelMetadata(safetensorsMetadata(bytes, name), name));
  }
  if (isZip(bytes) || /\.(pth|pt)$/.test(name)) return fromWeights(name, normalizeKeys(parsePth(bytes, name)), false, NO_METADATA);
  if (name.endsWith(".safetensors")) parseSafetensors(bytes, name); // throws the precise reason
  return importOnnx(bytes, name);
}

/** A safetensors file begins with a little-endian u64 header length and then '{'. */
function isSafetensors(bytes: Uint8Array): boolean {
  return bytes.length >= 9 && bytes[8] === 0x7b && bytes[6] === 0 && bytes[7] === 0;
}

function fromWeights(name: string, weights: ReturnType<typeof normalizeKeys>, random: boolean, metadata: ModelMetadata): PlannedModel {
  const reader = new WeightReader(weights, name);
  const config = inferConfig(reader);
  return {
    kind: "planned", name, config, graph: buildDenseNetGraph(config, reader), parameters: parameterCount(config), randomWeights: random,
    inputNames: ["input"], outputNames: ["logits"], outputDims: (n) => [n, config.numClasses], metadata,
  };
}
