/** A buffer to place: its size and the steps [first, last] during which it is live. */
export interface Lifetime {
  readonly bytes: number;
  readonly first: number;
  readonly last: number;
}

/**
 * Assigns arena offsets so that buffers whose lifetimes overlap never share bytes, reusing
 * space between buffers that are never live together. Greedy placement (each buffer at the
 * lowest aligned offset free of every already placed, overlapping buffer) in two orders —
 * largest first, and longest-lived first — keeping the smaller arena.
 */
export function assignOffsets(buffers: readonly Lifetime[], align = 64): { offsets: number[]; bytes: number } {
  const ids = buffers.map((_, i) => i);
  const bySize = [...ids].sort((a, b) => buffers[b].bytes - buffers[a].bytes || a - b);
  const span = (b: Lifetime) => b.last - b.first;
  const byLifetime = [...ids].sort((a, b) => span(buffers[b]) - span(buffers[a]) || buffers[b].bytes - buffers[a].bytes || a - b);
  const [first, second] = [place(buffers, bySize, align), place(buffers, byLifetime, align)];
  return second.bytes < first.bytes ? second : first;
}

function place(buffers: readonly Lifetime[], order: readonly number[], align: number): { offsets: number[]; bytes: number } {
  const offsets = new Array<number>(buffers.length).fill(0);
  const placed: number[] = [];
  let total = 0;
  for (const i of order) {
    const b = buffers[i];
    const size = Math.ceil(b.bytes / align) * align;
    const busy = placed
      .filter((j) => buffers[j].first <= b.last && b.first <= buffers[j].last)
      .map((j) => [offsets[j], offsets[j] + Math.ceil(buffers[j].bytes / align) * align] as const)
      .sort((x, y) => x[0] - y[0]);
    let offset = 0;
    for (const [start, end] of busy) {
      if (offset + size <= start) break;
      offset = Math.max(offset, end);
    }
    offsets[i] = offset;
    placed.push(i);
    total = Math.max(total, offset + size);
  }
  return { offsets, bytes: total };
}
