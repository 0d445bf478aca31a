// The planned model's engine: kernels instantiated on one shared linear memory, the weights
// packed into it once, per-thread GEMM scratch, a run barrier and, for threads > 1, a worker
// pool; and the two ways a batch runs on a plan (on the calling thread, or on the pool).
import type { PlannedModel } from "../model/load.js";
import type { WinogradTile } from "../plan/graph.js";
import { type MicroKernel, type PackedGraph, packGraph } from "../plan/pack_weights.js";
import type { ExecutionPlan } from "../plan/plan.js";
import { scratchBytes } from "../plan/scratch.js";
import { useWinograd } from "../plan/winograd.js";
import { autoWinogradTiles, nominalInputSize } from "../plan/winograd_auto.js";
import { BARRIER_BYTES, barrierView, resetBarrier } from "../runtime/barrier.js";
import { claimAreaBytes } from "../runtime/claim.js";
import { type KernelTable, runImage } from "../runtime/executor.js";
import { type KernelBuild, type KernelExports, compileKernels, instantiateKernels, kernelTable } from "../runtime/kernels.js";
import type { WorkerPool } from "../runtime/pool.js";
import type { RunTask } from "../runtime/task.js";
import type { Fault } from "./fault.js";
import type { PlanCache, PlanEntry } from "./plan_cache.js";
import { type Range, RecyclingMemory } from "./recycling_memory.js";
import { splitPays } from "./split.js";

export interface EngineOptions {
  readonly threads: number;
  readonly microKernel?: MicroKernel;
  /** The Winograd tile of the 3x3 stride-1 convs ("auto": by their size, plan/winograd_auto.ts), or false: im2col GEMM. */
  readonly winograd: WinogradTile | "auto" | false;
  /** How pool workers split the work: fixed shares, or claimed (see WorkSchedule). */
  readonly schedule: WorkSchedule;
  /** Whether images run alone are split between the workers only where it pays (session/split.ts). */
  readonly splitImages: "auto" | "always";
}

/**
 * "static": each worker runs a fixed share of a batch's whole images, and a fixed share of
 * every step of the images all run together, with a barrier between dependent steps;
 * "dynamic": workers claim whole images one by one, and chunks of each step's work from a
 * shared counter, waiting only for unfinished work.
 */
export type WorkSchedule = "static" | "dynamic";

/** A planned model without its unpacked graph (the engine holds the packed one). */
export type EngineModel = Omit<PlannedModel, "graph">;

export interface Engine {
  readonly model: EngineModel;
  readonly mem: RecyclingMemory;
  readonly kernels: KernelExports;
  /** The op kernels by id, for the executor. */
  readonly table: KernelTable;
  /** The model's graph with its weights packed in `mem`. */
  readonly graph: PackedGraph;
  readonly weightBytes: number;
  /** One GEMM scratch area per thread. */
  readonly scratch: readonly number[];
  readonly pool: WorkerPool | null;
  /** Address of the run barrier. */
  readonly barrier: number;
  readonly build: KernelBuild;
  readonly threads: number;
  readonly schedule: WorkSchedule;
  readonly splitImages: "auto" | "always";
}

/** Packs the model's weights (reading them from its file where they are read on demand, then closing it) and starts its pool. */
export async function createEngine(loaded: PlannedModel, options: EngineOptions): Promise<Engine> {
  try {
    return await startEngine(loaded, options);
  } finally {
    loaded.close?.();
  }
}

async function startEngine(loaded: PlannedModel, options: EngineOptions): Promise<Engine> {
  const { module, build } = await compileKernels();
  const mem = new RecyclingMemory();
  const kernels = instantiateKernels(module, mem.memory);
  // The pool's workers start (their threads boot and instantiate the kernels on the shared
  // memory, which holds no static data) while this thread packs the weights. Piscina is
  // loaded only for a pool: one thread runs on the calling thread.
  const pool =
    options.threads > 1 ? new (await import("../runtime/pool.js")).WorkerPool({ module, memory: mem.memory }, options.threads) : null;
  try {
    const before = mem.used;
    const packed = packGraph(withWinograd(loaded, options.winograd), mem, options.microKernel, kernels);
    const weightBytes = mem.used - before;
    const scratchSize = scratchBytes(packed, kernels);
    const scratch = Array.from({ length: options.threads }, () => mem.alloc(scratchSize));
    const barrier = mem.alloc(BARRIER_BYTES);
    const { graph: _unpacked, close: _close, ...model } = loaded; // the unpacked weights can be garbage-collected
    return {
      model,
      mem,
      kernels,
      table: kernelTable(mem.memory, kernels),
      graph: packed,
      weightBytes,
      scratch,
      pool,
      barrier,
      build,
      threads: options.threads,
      schedule: options.schedule,
      splitImages: options.splitImages,
    };
  } catch (e) {
    await pool?.destroy();
    throw e;
  }
}

/** The model's graph with its 3x3 stride-1 convs as Engine.winograd says. */
function withWinograd(loaded: PlannedModel, winograd: EngineOptions["winograd"]) {
  if (winograd === false) return loaded.graph;
  const tiles = winograd === "auto" ? autoWinogradTiles(loaded.graph, nominalInputSize(loaded.metadata)) : winograd;
  return useWinograd(loaded.graph, tiles);
}

/** Input and output staging of a batch for the pool: grows to the largest batch seen (the old range is reused). */
export class Staging {
  private input: Range = { start: 0, end: 0 };
  private output: Range = { start: 0, end: 0 };
  private claims: Range = { start: 0, end: 0 };

  constructor(private readonly mem: RecyclingMemory) {}

  /** Addresses for `inputBytes` and `outputBytes` of staging. */
  reserve(inputBytes: number, outputBytes: number): { input: number; output: number } {
    this.input = this.fit(this.input, inputBytes);
    this.output = this.fit(this.output, outputBytes);
    return { input: this.input.start, output: this.output.start };
  }

  /** Address of `bytes` of zeroed claim area (runtime/claim.ts). */
  claimArea(bytes: number): number {
    this.claims = this.fit(this.claims, bytes);
    this.mem.u32(this.claims.start, bytes / 4).fill(0);
    return this.claims.start;
  }

  private fit(range: Range, bytes: number): Range {
    if (range.end - range.start >= bytes) return range;
    this.mem.release([range]);
    const start = this.mem.alloc(bytes);
    return { start, end: start + bytes };
  }
}

/** Where a batch's images are staged for `plan` (which may read its output at the features instead of the logits). */
function stagingFor(staging: Staging, plan: ExecutionPlan, batch: number) {
  const stage = staging.reserve(batch * plan.inputElements * 4, batch * plan.outputElements * 4);
  return {
    inputStage: stage.input,
    outputStage: stage.output,
    inputOffset: plan.inputOffset,
    outputOffset: plan.outputOffset,
    inputElements: plan.inputElements,
    outputElements: plan.outputElements,
  };
}

/** Copies a batch's images, the parts back to back (C, H, W each), into the input staging. */
function stageImages(engine: Engine, at: number, parts: readonly Float32Array[]): void {
  for (const part of parts) {
    engine.mem.f32(at, part.length).set(part);
    at += part.length * 4;
  }
}

/**
 * Runs a batch of `batch` images (C, H, W each, back to back in the parts of `input`) on the
 * calling thread, with `plan` (entry's plan, or a view of it) on the entry's first arena.
 */
export function runOnCallingThread(
  engine: Engine,
  staging: Staging,
  entry: PlanEntry,
  plan: ExecutionPlan,
  input: readonly Float32Array[],
  batch: number,
): Float32Array {
  const stage = stagingFor(staging, plan, batch);
  stageImages(engine, stage.inputStage, input);
  const schedule = { table: plan.schedule, steps: plan.steps.length };
  for (let i = 0; i < batch; i++) runImage(engine.table, schedule, stage, i, entry.arenas[0], engine.scratch[0]);
  return engine.mem.f32(stage.outputStage, batch * plan.outputElements).slice();
}

/**
 * Runs a batch (the parts of `input`, back to back) on the pool: whole images go to workers
 * while there are at least as many images left as threads; the remaining (batch mod threads)
 * images are each split across all workers. The entry must be pinned by the caller.
 */
export async function runOnPool(
  engine: Engine,
  pool: WorkerPool,
  cache: PlanCache,
  staging: Staging,
  entry: PlanEntry,
  plan: ExecutionPlan,
  input: readonly Float32Array[],
  batch: number,
  fault: Fault | null,
): Promise<Float32Array> {
  const nth = engine.threads;
  // images past the last multiple of nth are split between the workers, where that pays
  const shared = engine.splitImages === "always" || splitPays(plan.macs, plan.steps.length, nth) ? batch % nth : 0;
  cache.ensureArenas(entry, batch > shared ? nth : 1);
  const stage = stagingFor(staging, plan, batch);
  stageImages(engine, stage.inputStage, input);
  const barrier = barrierView(engine.mem.memory.buffer, engine.barrier);
  resetBarrier(barrier);
  const claims = engine.schedule === "dynamic" ? staging.claimArea(claimAreaBytes(plan.steps.length, nth, shared)) : 0;
  const tasks = Array.from(
    { length: nth },
    (_, ith): RunTask => ({
      memoryBytes: engine.mem.memory.buffer.byteLength,
      ith,
      nth,
      barrier: engine.barrier,
      schedule: plan.schedule,
      steps: plan.steps.length,
      sync: plan.syncTable,
      claims,
      ownArena: entry.arenas[ith] ?? 0,
      sharedArena: entry.arenas[0],
      scratch: engine.scratch[ith],
      ...stage,
      batch,
      shared,
      fault: fault?.worker === ith ? fault : undefined,
    }),
  );
  await pool.run(tasks, barrier);
  return engine.mem.f32(stage.outputStage, batch * plan.outputElements).slice();
}
