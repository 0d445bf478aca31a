/** A dense float32 tensor in C (row-major) order, like onnxruntime's `Tensor` for 'float32'. */
export interface Tensor {
  /** The elements, row-major; its length is the product of `dims`. */
  readonly data: Float32Array;
  /** The shape, outermost first; for images (N, C, H, W). */
  readonly dims: readonly number[];
}

/** The number of elements a shape holds. */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
