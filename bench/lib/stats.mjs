// Summary statistics of timing samples, shared by every benchmark in bench/.

/** Nearest-rank quantile of an ascending array. */
export function quantile(sorted, q) {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/** The median of an ascending array (mean of the middle two for an even count). */
export function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** x rounded to 3 decimals (milliseconds to the microsecond). */
export const r3 = (x) => Math.round(x * 1000) / 1000;

/** The item with the smallest key(item) (the first of equals); undefined for none. */
export function minBy(items, key) {
  let best;
  for (const x of items) if (best === undefined || key(x) < key(best)) best = x;
  return best;
}
