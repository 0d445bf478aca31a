import { readFile } from "node:fs/promises";
import { DenseNetError } from "../errors.js";
import { parseSafetensors } from "../io/safetensors.js";
import type { Graph } from "../plan/graph.js";
import { type DenseNetConfig, architectureConfig, isArchitectureName, unknownArchitecture } from "./config.js";
import { buildDenseNetGraph } from "./densenet_graph.js";
import { randomWeights } from "./random_weights.js";
import { WeightReader, inferConfig, normalizeKeys, parameterCount } from "./weights.js";

/** What a session runs: the configuration and its lowered graph. */
export interface LoadedModel {
  /** A name for messages: the file name or architecture. */
  readonly name: string;
  readonly config: DenseNetConfig;
  readonly graph: Graph;
  readonly parameters: number;
  /** True when the weights are seeded random ones (a bare architecture name). */
  readonly randomWeights: boolean;
}

/** A model file's path or bytes (safetensors), or an architecture name such as 'densenet121'. */
export type ModelSource = string | Uint8Array | ArrayBuffer;

export async function loadModel(source: ModelSource, seed = 0): Promise<LoadedModel> {
  if (typeof source === "string") {
    if (isArchitectureName(source)) {
      const config = architectureConfig(source);
      return fromWeights(source, normalizeKeys(randomWeights(config, seed)), true);
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
  return fromWeights(name, normalizeKeys(parseSafetensors(bytes, name)), false);
}

function fromWeights(name: string, weights: ReturnType<typeof normalizeKeys>, random: boolean): LoadedModel {
  const reader = new WeightReader(weights, name);
  const config = inferConfig(reader);
  return { name, config, graph: buildDenseNetGraph(config, reader), parameters: parameterCount(config), randomWeights: random };
}
