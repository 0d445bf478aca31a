import { readFile } from "node:fs/promises";
import { DenseNetError } from "../errors.js";
import { parsePth } from "../io/pth.js";
import { parseSafetensors, safetensorsMetadata } from "../io/safetensors.js";
import { isZip } from "../io/zip.js";
import { importOnnx } from "../onnx/import.js";
import type { Graph } from "../plan/graph.js";
import type { AnyTensor } from "../tensor.js";
import { type DenseNetConfig, architectureConfig, isArchitectureName, unknownArchitecture } from "./config.js";
import { buildDenseNetGraph } from "./densenet_graph.js";
import { type ModelMetadata, NO_METADATA, parseModelMetadata } from "./metadata.js";
import { randomWeights } from "./random_weights.js";
import { WeightReader, inferConfig, normalizeKeys, parameterCount } from "./weights.js";

interface ModelBase {
  /** A name for messages: the file name or architecture. */
  readonly name: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Learnable parameters (weights) in the model. */
  readonly parameters: number;
  /** Class labels and preprocessing the file carries (see metadata.ts). */
  readonly metadata: ModelMetadata;
}

/** A model lowered to the graph IR and run on the planned, fused kernels: one image input, one output. */
export interface PlannedModel extends ModelBase {
  readonly kind: "planned";
  readonly graph: Graph;
  /** The torchvision configuration, where the model is one (null for ONNX graphs). */
  readonly config: DenseNetConfig | null;
  /** True when the weights are seeded random ones (a bare architecture name). */
  readonly randomWeights: boolean;
  /** The output's shape for a batch of n images: [n, classes], or [n, classes, 1, 1] for some ONNX exports. */
  outputDims(n: number): number[];
  /** Checks an input batch's shape against dimensions the model fixes (ONNX inputs), before planning. */
  checkInput?(dims: readonly number[]): void;
}

/**
 * A graph that does not lower to the planned kernels (e.g. a single ONNX operator of any
 * rank), run op by op by a portable interpreter. Inputs are validated by `run`.
 */
export interface InterpretedModel extends ModelBase {
  readonly kind: "interpreted";
  /** Why the graph could not be lowered to the planned kernels. */
  readonly notPlanned: string;
  run(feeds: Readonly<Record<string, AnyTensor>>): Record<string, AnyTensor>;
}

/** What a session runs. */
export type LoadedModel = PlannedModel | InterpretedModel;

/** A model file's path or bytes (safetensors, torch.save .pth, or ONNX), or an architecture name such as 'densenet121'. */
export type ModelSource = string | Uint8Array | ArrayBuffer;

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
