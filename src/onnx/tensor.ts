// Tensors of the ONNX interpreter. The public `Tensor` (src/tensor.ts) is float32; ONNX graphs
// also carry int64 tensors (Reshape's shape, Pad's pads, MaxPool's Indices output), held as
// BigInt64Array so every value is exact.
import { check } from "../errors.js";
import { type AnyTensor, type Int64Tensor, elementCount } from "../tensor.js";

export type { Int64Tensor };

/** A float32 or int64 tensor (the public AnyTensor); told apart by the class of `data`. */
export type OnnxTensor = AnyTensor;

/** The element types the interpreter computes with. */
export type DataType = "float32" | "int64";

export function dataType(t: OnnxTensor): DataType {
  return t.data instanceof BigInt64Array ? "int64" : "float32";
}

/** A new tensor of `type` and `dims`, zero-filled. */
export function emptyTensor(type: DataType, dims: readonly number[]): OnnxTensor {
  const n = elementCount(dims);
  return type === "int64" ? { data: new BigInt64Array(n), dims } : { data: new Float32Array(n), dims };
}

/** The same data under another shape (no copy). */
export function reshaped(t: OnnxTensor, dims: readonly number[]): OnnxTensor {
  return { data: t.data, dims } as OnnxTensor;
}

/** An int64 tensor's values as numbers, each required to be a safe integer (`what` names the tensor in the error). */
export function int64Values(t: Int64Tensor, what = "int64 tensor"): number[] {
  return Array.from(t.data, (v) => {
    check(v >= -MAX_SAFE && v <= MAX_SAFE, () => `${what}: value ${v} is beyond the safe integer range (±2^53 - 1)`);
    return Number(v);
  });
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
