// Linear memory whose ranges can be given back and handed out again. WebAssembly memory
// cannot shrink, so a long-lived session that plans many input sizes must reuse the bytes of
// plans it evicts, or its memory would grow with every new size.
import { LinearMemory } from "../kernels/memory.js";

/** A byte range [start, end) of linear memory. */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/**
 * A LinearMemory that reuses freed ranges (first fit, neighbours merged) before growing.
 * Allocations made inside `record(fn)` are returned with fn's result, so a plan's
 * descriptors, schedule and arenas can be freed together when it is evicted. When no free
 * range fits, `reclaim` (if set) is asked to free something (e.g. evict a cached plan) and
 * the search is retried; only when it declines does the memory grow.
 */
export class RecyclingMemory extends LinearMemory {
  /** Free ranges, sorted by start, never touching each other. */
  private readonly free: Range[] = [];
  private readonly recordings: Range[][] = [];
  /** Asked before growing for `bytes`: frees something and returns true, or returns false to let the memory grow. */
  reclaim: ((bytes: number) => boolean) | null = null;
  /**
   * The memory's buffer, kept until the memory grows: each read of a shared memory's
   * `.buffer` makes a new SharedArrayBuffer object with native bookkeeping, and planning
   * makes a view per descriptor.
   */
  private buffer: ArrayBufferLike | null = null;

  private current(): ArrayBufferLike {
    this.buffer ??= this.memory.buffer;
    return this.buffer;
  }

  override f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.current(), ptr, length);
  }

  override u32(ptr: number, length: number): Uint32Array {
    return new Uint32Array(this.current(), ptr, length);
  }

  /** Bytes currently free for reuse. */
  get freeBytes(): number {
    return this.free.reduce((n, r) => n + r.end - r.start, 0);
  }

  override alloc(bytes: number, align = 64): number {
    let start = this.takeFree(bytes, align);
    while (start < 0 && this.reclaim?.(bytes)) start = this.takeFree(bytes, align);
    if (start < 0) {
      start = this.growInto(bytes, align);
      this.buffer = null; // the memory may have grown
    }
    this.recordings.at(-1)?.push({ start, end: start + bytes });
    return start;
  }

  /** Bytes allocated so far by the innermost record() in progress (0 outside one). */
  get recordingBytes(): number {
    return (this.recordings.at(-1) ?? []).reduce((n, r) => n + r.end - r.start, 0);
  }

  /** Runs fn and returns its result with every range allocated while it ran. */
  record<T>(fn: () => T): { value: T; ranges: Range[] } {
    const ranges: Range[] = [];
    this.recordings.push(ranges);
    try {
      return { value: fn(), ranges };
    } finally {
      this.recordings.pop();
    }
  }

  /** Gives ranges back for reuse. */
  release(ranges: readonly Range[]): void {
    for (const r of ranges) this.insertFree(r);
  }

  /** First fit: the lowest free range that holds `bytes` at `align`; -1 if none. */
  private takeFree(bytes: number, align: number): number {
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i];
      const start = Math.ceil(r.start / align) * align;
      if (start + bytes > r.end) continue;
      const parts: Range[] = [];
      if (start > r.start) parts.push({ start: r.start, end: start });
      if (start + bytes < r.end) parts.push({ start: start + bytes, end: r.end });
      this.free.splice(i, 1, ...parts);
      return start;
    }
    return -1;
  }

  /** Grows at the top; a free range that ends at the top is extended rather than left behind. */
  private growInto(bytes: number, align: number): number {
    const last = this.free.at(-1);
    if (last && last.end === this.used) {
      const start = Math.ceil(last.start / align) * align;
      const missing = start + bytes - last.end;
      if (missing > 0) super.alloc(missing, 1);
      this.free.pop();
      if (start > last.start) this.free.push({ start: last.start, end: start });
      if (start + bytes < this.used) this.free.push({ start: start + bytes, end: this.used });
      return start;
    }
    return super.alloc(bytes, align);
  }

  private insertFree(range: Range): void {
    if (range.end <= range.start) return;
    let lo = 0,
      hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid].start < range.start) lo = mid + 1;
      else hi = mid;
    }
    let { start, end } = range;
    const before = this.free[lo - 1],
      after = this.free[lo];
    let from = lo,
      count = 0;
    if (before && before.end >= start) {
      start = before.start;
      end = Math.max(end, before.end);
      from = lo - 1;
      count++;
    }
    if (after && after.start <= end) {
      end = Math.max(end, after.end);
      count++;
    }
    this.free.splice(from, count, { start, end });
  }
}
