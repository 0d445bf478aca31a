import type { Step } from "../plan/plan.js";
import type { KernelExports } from "./kernels.js";

/** Runs worker ith's share of every step of a schedule, in order, on one arena. */
export function runSteps(kernels: KernelExports, steps: readonly Step[], base: number, scratch: number, ith = 0, nth = 1): void {
  for (const step of steps) kernels[step.kernel](step.desc, base, scratch, ith, nth);
}
