// Session.create's options, checked one by one with the defaults filled in, and the size
// check shared by plan() and profile().
import { check } from "../errors.js";
import type { WinogradTile } from "../plan/graph.js";
import { type MicroKernel, MICRO_KERNELS } from "../plan/pack_weights.js";
import { DEFAULT_PLAN_CACHE_BYTES } from "./plan_cache.js";

export interface SessionOptions {
  /**
   * Threads to run on. 1 runs on the calling thread with no pool (fastest start); more run
   * on a pool of that many workers while the calling thread stays free. Default: the
   * machine's available parallelism (os.availableParallelism()).
   */
  threads?: number;
  /** Seed of the random weights used when the model is an architecture name: an integer from 0 to 2^31 - 1. Default 0. */
  seed?: number;
  /** The GEMM micro-kernel ("4x8", "4x8-shuffle", "6x8"); by default the fastest for the engine. */
  microKernel?: MicroKernel;
  /**
   * How 3x3 stride-1 pad-1 convs run: `"f2x2"` (or `true`) Winograd F(2x2, 3x3); `"f4x4"`
   * Winograd F(4x4, 3x3), 1.78x fewer multiplies where its 4x4 tiles fit the image, but 2.25x
   * F(2x2)'s transformed-weight memory and a few times its float32 rounding (still far inside
   * 1e-4 of the logits); `"auto"` F(4x4) for the convs whose output is at least 56x56 at the
   * model's nominal input size (its preprocessing crop, else 224x224) and F(2x2) for the
   * smaller ones (see plan/winograd_auto.ts); `false` im2col GEMM. Default: the environment
   * variable DENSENET_WINOGRAD (`f2x2`, `f4x4`, `auto` or `off`) where it is set, else `"auto"`.
   */
  winograd?: boolean | WinogradTile | "auto";
  /**
   * Bytes of linear memory the plans of different input sizes may keep (default 256 MiB). Past
   * it the least recently used size is evicted and its memory reused; the plan in use is always kept.
   */
  planCacheBytes?: number;
  /**
   * How the workers of a pool split an image's steps between them: "dynamic" (default) —
   * each step's work is cut into chunks (about 16 per worker) that workers claim from a shared
   * counter, and a worker waits only for unfinished work of the steps it depends on; "static"
   * — each worker computes a fixed share of every step, with a barrier between dependent
   * steps (a descheduled worker stalls the others at each). Outputs are bitwise the same.
   */
  schedule?: "static" | "dynamic";
  /**
   * Whether an image that is not run whole by one worker (batch 1, and a batch's images past
   * the last multiple of `threads`) is split between all the workers: "auto" (default) — only
   * where its steps are large enough to gain (session/split.ts: a tiny model's image, such as
   * the embedded 48x48 one, runs faster whole on one worker); "always". Outputs are bitwise
   * the same either way.
   */
  splitImages?: "auto" | "always";
}

/** The schedule of a session that sets none (bench/contention.mjs measures both). */
export const DEFAULT_SCHEDULE = "dynamic";

export function checkSize(height: number, width: number): void {
  check(
    Number.isSafeInteger(height) && Number.isSafeInteger(width) && height >= 1 && width >= 1,
    () => `height and width must be positive integers, got ${String(height).slice(0, 20)} and ${String(width).slice(0, 20)}`,
  );
}

/** The options with defaults filled in, each checked; `defaultThreads` gives the thread count when none is set. */
export function checkOptions(options: SessionOptions | null | undefined, defaultThreads: () => number, maxThreads: number) {
  check(
    options === undefined || options === null || (typeof options === "object" && !Array.isArray(options)),
    "options must be an object (or omitted)",
  );
  const o = options ?? {};
  const threads = o.threads ?? defaultThreads();
  check(
    Number.isInteger(threads) && threads >= 1 && threads <= maxThreads,
    () => `threads must be an integer from 1 to ${maxThreads}, got ${String(threads).slice(0, 40)}`,
  );
  const seed = o.seed ?? 0;
  check(
    Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 31 - 1,
    () => `seed must be an integer from 0 to ${2 ** 31 - 1}, got ${String(seed).slice(0, 40)}`,
  );
  check(
    o.microKernel === undefined || (typeof o.microKernel === "string" && Object.hasOwn(MICRO_KERNELS, o.microKernel)),
    () => `microKernel must be one of ${Object.keys(MICRO_KERNELS).join(", ")}, got ${String(o.microKernel).slice(0, 40)}`,
  );
  const winograd = o.winograd ?? winogradFromEnvironment();
  check(
    typeof winograd === "boolean" || winograd === "f2x2" || winograd === "f4x4" || winograd === "auto",
    () => `winograd must be true, false, "f2x2", "f4x4" or "auto", got ${String(winograd).slice(0, 40)}`,
  );
  const planCacheBytes = o.planCacheBytes ?? DEFAULT_PLAN_CACHE_BYTES;
  check(
    Number.isSafeInteger(planCacheBytes) && planCacheBytes >= 0,
    () => `planCacheBytes must be a non-negative integer, got ${String(planCacheBytes).slice(0, 40)}`,
  );
  const schedule = o.schedule ?? DEFAULT_SCHEDULE;
  check(
    schedule === "static" || schedule === "dynamic",
    () => `schedule must be "static" or "dynamic", got ${String(schedule).slice(0, 40)}`,
  );
  const splitImages = o.splitImages ?? "auto";
  check(
    splitImages === "auto" || splitImages === "always",
    () => `splitImages must be "auto" or "always", got ${String(splitImages).slice(0, 40)}`,
  );
  return { ...o, threads, seed, winograd: winograd === true ? "f2x2" : winograd, planCacheBytes, schedule, splitImages };
}

/** DENSENET_WINOGRAD's choice (`f2x2`, `f4x4`, `auto`, `off`), "auto" where it is unset or unreadable (Deno without --allow-env). */
function winogradFromEnvironment(): WinogradTile | "auto" | false {
  let value: string | undefined;
  try {
    value = globalThis.process?.env?.DENSENET_WINOGRAD;
  } catch {
    return "auto";
  }
  if (value === undefined || value === "") return "auto";
  check(
    value === "f2x2" || value === "f4x4" || value === "auto" || value === "off",
    () => `DENSENET_WINOGRAD must be f2x2, f4x4, auto or off, got ${value.slice(0, 40)}`,
  );
  return value === "off" ? false : value;
}
