// What loading a model gives a session, whichever format it came from (model/load.ts for
// torchvision weights, onnx/import.ts for ONNX graphs).
import type { Graph } from "../plan/graph.js";
import type { AnyTensor } from "../tensor.js";
import type { DenseNetConfig } from "./config.js";
import type { ModelMetadata } from "./metadata.js";

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
  /** The input's (N, C, H, W) as the file declares it: a size where it is fixed, null where it varies (absent: only C is fixed). */
  readonly declaredInput?: readonly (number | null)[];
  /**
   * Where the graph's weights are read on demand from an open file (a streamed safetensors
   * file): closes it. Called once the weights are packed, or when packing fails.
   */
  close?(): void;
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

/**
 * A model: the path of a `.safetensors`, torch.save `.pth`/`.pt` or `.onnx` file, the bytes
 * of one (Uint8Array or ArrayBuffer; the format is told by its first bytes), or an
 * architecture name such as 'densenet121' (seeded random weights).
 */
export type ModelSource = string | Uint8Array | ArrayBuffer;
