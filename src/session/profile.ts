// Session.profile's work: every step of a plan timed on the calling thread.
import { check } from "../errors.js";
import { graphMacs, inferSpatial } from "../plan/shapes.js";
import { runSchedule } from "../runtime/executor.js";
import type { Engine } from "./engine.js";
import type { PlanCache } from "./plan_cache.js";

/** One step's timing from profile(). */
export interface StepProfile {
  readonly name: string;
  readonly shape: string;
  readonly macs: number;
  readonly ms: number;
}

/** Most runs profile() takes, and most multiply-adds it may do in all (about 5 s of kernel time at 40 GFLOP/s). */
export const MAX_PROFILE_RUNS = 1000;
export const MAX_PROFILE_MACS = 1e11;

/**
 * The best of `runs` timings of every step for one image of height x width (a fixed input),
 * in schedule order, yielding to the event loop between runs; refused before anything is
 * planned if it would take over MAX_PROFILE_MACS multiply-adds.
 */
export async function profileSteps(engine: Engine, plans: PlanCache, height: number, width: number, runs: number): Promise<StepProfile[]> {
  // The work is known from the shapes alone: refuse before planning allocates anything.
  const { graph } = engine;
  const macs = graphMacs(graph, inferSpatial(graph, height, width));
  check(
    macs * runs <= MAX_PROFILE_MACS,
    () =>
      `profiling ${runs} runs at ${height}x${width} would take ${((macs * runs) / 1e9).toFixed(0)} G multiply-adds, over the limit of ${MAX_PROFILE_MACS / 1e9} G: use fewer runs or a smaller size`,
  );
  const entry = plans.get(height, width);
  const { plan } = entry;
  return plans.using(entry, async () => {
    const arena = entry.arenas[0];
    const input = engine.mem.f32(arena + plan.inputOffset, plan.inputElements);
    for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.37);
    const best = plan.steps.map(() => Infinity);
    let t0 = 0;
    const timer = {
      before: () => {
        t0 = performance.now();
      },
      after: (s: number) => {
        best[s] = Math.min(best[s], performance.now() - t0);
      },
    };
    for (let r = 0; r < runs; r++) {
      runSchedule(engine.table, { table: plan.schedule, steps: plan.steps.length }, arena, engine.scratch[0], 0, 1, timer);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return plan.steps.map((step, i) => ({ name: step.name, shape: step.description, macs: step.macs, ms: best[i] }));
  });
}
