// The plans of one session by input size, bounded by bytes and evicted least recently used
// first. A plan's descriptors, schedule and arenas live in the session's linear memory; an
// evicted plan's ranges go back to it for reuse (RecyclingMemory), so a server fed arbitrary
// image sizes runs at flat memory.
import { check } from "../errors.js";
import type { PackedGraph } from "../plan/pack_weights.js";
import { type ExecutionPlan, planGraph } from "../plan/plan.js";
import type { Range, RecyclingMemory } from "./recycling_memory.js";

/** Default bound on the bytes of cached plans (their arenas, mostly): 256 MiB. */
export const DEFAULT_PLAN_CACHE_BYTES = 256 * 2 ** 20;

/** A plan for one input size with one arena per thread that runs whole images. */
export interface PlanEntry {
  readonly plan: ExecutionPlan;
  readonly arenas: number[];
  /** Every range of linear memory the entry holds (descriptors, schedule, arenas). */
  readonly ranges: Range[];
  /** Bytes of those ranges. */
  bytes: number;
  /** Runs using the entry now; a pinned entry is never evicted. */
  pins: number;
}

export class PlanCache {
  /** In order of last use, oldest first. */
  private readonly entries = new Map<string, PlanEntry>();
  private total = 0;
  /** Whether the cache has reached its bound (and evicted) at least once. */
  private filled = false;

  constructor(
    private readonly graph: PackedGraph,
    private readonly mem: RecyclingMemory,
    readonly maxBytes = DEFAULT_PLAN_CACHE_BYTES,
  ) {
    // Before the memory grows, evict old plans if the new bytes would overflow the bound — and,
    // once the cache has been full, always: from then on its memory is enough for its bound,
    // so fragmentation is met by eviction, never by growth (the memory stays flat).
    mem.reclaim = (bytes) => {
      if (!this.filled && this.total + mem.recordingBytes + bytes <= this.maxBytes) return false;
      this.filled = true;
      return this.evictOldest();
    };
  }

  /** Cached plans' bytes. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry for height x width, planned on first use (or after eviction), now the most recently used. */
  get(height: number, width: number): PlanEntry {
    const key = `${height}x${width}`;
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
    } else {
      const { value: plan, ranges } = this.mem.record(() => {
        const p = planGraph(this.graph, this.mem, height, width);
        return { plan: p, arena: this.mem.alloc(p.arenaBytes) };
      });
      entry = { plan: plan.plan, arenas: [plan.arena], ranges, bytes: byteCount(ranges), pins: 0 };
      this.total += entry.bytes;
    }
    this.entries.set(key, entry);
    this.trim();
    return entry;
  }

  /** Gives the entry `count` arenas in all (for that many workers running whole images). */
  ensureArenas(entry: PlanEntry, count: number): void {
    while (entry.arenas.length < count) {
      const { value: arena, ranges } = this.mem.record(() => this.mem.alloc(entry.plan.arenaBytes));
      entry.arenas.push(arena);
      entry.ranges.push(...ranges);
      entry.bytes += byteCount(ranges);
      this.total += byteCount(ranges);
    }
    this.trim();
  }

  /** Runs fn with the entry pinned (not evictable while fn's promise is pending). */
  async using<T>(entry: PlanEntry, fn: () => Promise<T> | T): Promise<T> {
    entry.pins++;
    try {
      return await fn();
    } finally {
      entry.pins--;
      this.trim();
    }
  }

  clear(): void {
    for (const entry of this.entries.values()) check(entry.pins === 0, "internal: clearing a plan cache in use");
    for (const entry of this.entries.values()) this.mem.release(entry.ranges);
    this.entries.clear();
    this.total = 0;
  }

  /** Evicts least recently used, unpinned entries while over the byte bound (the newest is kept). */
  private trim(): void {
    while (this.total > this.maxBytes && this.entries.size > 1 && this.evictOldest(true)) this.filled = true;
  }

  /** Evicts the least recently used unpinned entry; false if there is none (the newest is kept when `keepNewest`). */
  private evictOldest(keepNewest = false): boolean {
    const keys = [...this.entries.keys()];
    const last = keepNewest ? keys.length - 1 : keys.length;
    for (let i = 0; i < last; i++) {
      const entry = this.entries.get(keys[i])!;
      if (entry.pins > 0) continue;
      this.entries.delete(keys[i]);
      this.total -= entry.bytes;
      this.mem.release(entry.ranges);
      return true;
    }
    return false;
  }
}

function byteCount(ranges: readonly Range[]): number {
  return ranges.reduce((n, r) => n + r.end - r.start, 0);
}
