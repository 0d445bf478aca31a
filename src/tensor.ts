/** A dense float32 tensor in C (row-major) order, like onnxruntime's `Tensor` for 'float32'. */
export interface Tensor {
  /** The elements, row-major; its length is the product of `dims`. */
  readonly data: Float32Array;
  /** The shape, outermost first; for images (N, C, H, W). */
  readonly dims: readonly number[];
}

/**
 * A dense int64 tensor in C order, like onnxruntime's `Tensor` for 'int64' (ONNX graphs:
 * Reshape's shape input, MaxPool's Indices output). BigInt64Array keeps every value exact.
 */
export interface Int64Tensor {
  readonly data: BigInt64Array;
  readonly dims: readonly number[];
}

/** A float32 or an int64 tensor, told apart by the class of `data`. */
export type AnyTensor = Tensor | Int64Tensor;

/** Most elements one tensor may hold, read from a file or computed (2^28: 1 GiB of float32, far beyond any DenseNet weight). */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** The number of elements a shape holds. */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * A shape for messages, "[1, 3, 224, 224]"; a long one is elided after its first eight
 * entries ("[1, 1, 1, 1, 1, 1, 1, 1, … (1000000 dims)]") so that errors stay one short line.
 * Entries that are not numbers (a hostile tensor's dims) are shown by type.
 */
export function formatDims(dims: readonly unknown[]): string {
  const show = (d: unknown) =>
    typeof d === "number" ? String(d) : d === null ? "?" : typeof d === "string" ? JSON.stringify(d.slice(0, 20)) : typeof d;
  const head = Array.from(dims.slice(0, 8), show).join(", ");
  return dims.length > 8 ? `[${head}, … (${dims.length} dims)]` : `[${head}]`;
}

/** Index of the first value of `data` that is NaN or infinite, or -1 if every one is finite. */
export function firstNonFinite(data: ArrayLike<number>): number {
  if (data instanceof Float32Array) {
    // On the bits: a float32 is NaN or infinite when its exponent is all ones. Four at a time
    // with one branch, then the exact index from there (~2x faster than one branch each).
    const bits = new Int32Array(data.buffer, data.byteOffset, data.length);
    const E = 0x7f800000;
    let i = 0;
    for (const n = bits.length & ~3; i < n; i += 4) {
      if ((bits[i] & E) === E || (bits[i + 1] & E) === E || (bits[i + 2] & E) === E || (bits[i + 3] & E) === E) break;
    }
    for (; i < bits.length; i++) if ((bits[i] & E) === E) return i;
    return -1;
  }
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}
