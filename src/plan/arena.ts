/**
 * A buffer to place: its size and the steps [first, last] during which it is live. Where
 * `tail` is set, only the bytes before tail.start are live from `first`; the rest from
 * tail.first on (a dense block's buffer: its first channels come from the op before the
 * block, the others one layer at a time), so another buffer may use them until then.
 */
export interface Lifetime {
  readonly bytes: number;
  readonly first: number;
  readonly last: number;
  readonly tail?: { readonly start: number; readonly first: number };
}

/**
 * Assigns arena offsets so that buffers (or the parts of them) whose lifetimes overlap never
 * share bytes, reusing space between buffers that are never live together. Greedy placement
 * (each buffer at the lowest aligned offset free of every already placed, overlapping buffer)
 * in two orders — largest first, and longest-lived first — keeping the smaller arena.
 */
export function assignOffsets(buffers: readonly Lifetime[], align = 64): { offsets: number[]; bytes: number } {
  const ids = buffers.map((_, i) => i);
  const bySize = [...ids].sort((a, b) => buffers[b].bytes - buffers[a].bytes || a - b);
  const span = (b: Lifetime) => b.last - b.first;
  const byLifetime = [...ids].sort((a, b) => span(buffers[b]) - span(buffers[a]) || buffers[b].bytes - buffers[a].bytes || a - b);
  const [first, second] = [place(buffers, bySize, align), place(buffers, byLifetime, align)];
  return second.bytes < first.bytes ? second : first;
}

/** A byte range of a buffer (relative to its offset) and the steps it is live. */
interface Part {
  readonly start: number;
  readonly end: number;
  readonly first: number;
  readonly last: number;
}

function parts(b: Lifetime, size: number): Part[] {
  const { first, last, tail } = b;
  if (!tail || tail.start <= 0 || tail.start >= b.bytes || tail.first <= first) return [{ start: 0, end: size, first, last }];
  return [
    { start: 0, end: tail.start, first, last },
    { start: tail.start, end: size, first: tail.first, last },
  ];
}

function place(buffers: readonly Lifetime[], order: readonly number[], align: number): { offsets: number[]; bytes: number } {
  const offsets = new Array<number>(buffers.length).fill(0);
  const placed: { at: number; part: Part }[] = [];
  let total = 0;
  for (const i of order) {
    const size = Math.ceil(buffers[i].bytes / align) * align;
    const own = parts(buffers[i], size);
    // Offsets o at which one of this buffer's parts would overlap a placed part live at the
    // same time: lo < o < hi for each such pair.
    const forbidden: [number, number][] = [];
    for (const mine of own) {
      for (const { at, part } of placed) {
        if (part.first <= mine.last && mine.first <= part.last) forbidden.push([at + part.start - mine.end, at + part.end - mine.start]);
      }
    }
    forbidden.sort((x, y) => x[0] - y[0]);
    let offset = 0;
    for (const [lo, hi] of forbidden) {
      if (offset <= lo) break; // every later range starts at lo or after: offset is free
      if (offset < hi) offset = Math.ceil(hi / align) * align;
    }
    offsets[i] = offset;
    for (const part of own) placed.push({ at: offset, part });
    total = Math.max(total, offset + size);
  }
  return { offsets, bytes: total };
}
