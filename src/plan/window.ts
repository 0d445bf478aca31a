// The spatial size of per-image activations, and the output size of sliding-window ops.

export interface Spatial {
  readonly height: number;
  readonly width: number;
}

/** Output length of a sliding window (conv or pool) along one axis. */
export function windowOutput(
  size: number,
  kernel: number,
  stride: number,
  padBegin: number,
  padEnd: number,
  dilation: number,
  ceil = false,
): number {
  const span = size + padBegin + padEnd - dilation * (kernel - 1) - 1;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // PyTorch/ONNX ceil mode: the last window must start inside the image or its left padding.
  if (ceil && (out - 1) * stride >= size + padBegin) out--;
  return out;
}
