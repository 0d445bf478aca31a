// The one numerical comparison of two runtimes' logits (N, classes): the relative max
// difference max|out - ref| / max|ref|, non-finite values, and top-1 agreement per image.

/**
 * Compares `out` with `ref` ({ shape, data } as readNpy gives). Returns { error } when the
 * shapes differ, else { rel_err (Infinity with any non-finite output), max_abs_diff,
 * max_abs_ref, non_finite, top1_equal, images, top1: [[out class, ref class] per image] }.
 */
export function compareLogits(out, ref) {
  if (out.shape.join() !== ref.shape.join()) return { error: `shape [${out.shape}] vs reference [${ref.shape}]` };
  let maxDiff = 0;
  let maxRef = 0;
  let nonFinite = 0;
  for (let i = 0; i < ref.data.length; i++) {
    if (!Number.isFinite(out.data[i])) nonFinite++;
    maxDiff = Math.max(maxDiff, Math.abs(out.data[i] - ref.data[i]));
    maxRef = Math.max(maxRef, Math.abs(ref.data[i]));
  }
  const n = ref.shape[0];
  const classes = ref.data.length / n;
  const argmax = (d, b) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (d[b * classes + c] > d[b * classes + best]) best = c;
    return best;
  };
  const top1 = Array.from({ length: n }, (_, b) => [argmax(out.data, b), argmax(ref.data, b)]);
  return {
    rel_err: nonFinite ? Infinity : maxDiff / (maxRef || 1),
    max_abs_diff: maxDiff,
    max_abs_ref: maxRef,
    non_finite: nonFinite,
    top1_equal: top1.filter(([x, y]) => x === y).length,
    images: n,
    top1,
  };
}
