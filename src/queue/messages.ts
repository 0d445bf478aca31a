// The boundary between the worker's main thread (BullMQ, Redis, lock renewal) and its
// inference thread (sessions, parsing, inference): a typed message union; errors are data.
import type { ModelSpec } from "./model_specs.js";

/** workerData of the inference thread. */
export interface InferenceThreadInit {
  readonly specs: readonly ModelSpec[];
  /** Threads of each session (1: inference runs on the inference thread itself). */
  readonly threads: number;
}

/** A loaded model, as the worker logs it. */
export interface ModelSummary {
  readonly name: string;
  readonly source: string;
  readonly description: string;
}

export type ToInferenceThread = { readonly kind: "job"; readonly id: number; readonly data: unknown } | { readonly kind: "close" };

export type FromInferenceThread =
  | { readonly kind: "ready"; readonly models: readonly ModelSummary[] }
  | { readonly kind: "load-failed"; readonly message: string; readonly invalidInput: boolean }
  | { readonly kind: "done"; readonly id: number; readonly value: object }
  /** invalidInput: the job's data was refused (DenseNetError), so retrying cannot help. */
  | { readonly kind: "failed"; readonly id: number; readonly message: string; readonly invalidInput: boolean }
  | { readonly kind: "closed" };
