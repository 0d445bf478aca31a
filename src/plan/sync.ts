// Where the workers running one image together must wait for each other: before a step that
// touches arena bytes a step since the last such point writes, or writes bytes one of them
// touches (read after write, write after read, write after write). Ranges are whole buffers
// (an op reads and writes only its input and output buffers; weights and descriptors are
// read-only), so the test errs on the side of waiting.

/** A step's arena byte ranges [start, end): what it reads and what it writes. */
export interface StepAccess {
  readonly reads: readonly (readonly [number, number])[];
  readonly writes: readonly (readonly [number, number])[];
}

type Range = readonly [number, number];
const overlaps = (a: readonly Range[], b: readonly Range[]) => a.some(([s, e]) => b.some(([t, f]) => s < f && t < e));

/**
 * For each step, whether the workers must wait before it until every step since the previous
 * wait is complete (step 0: true, after the input is staged). A step that touches nothing an
 * unfinished step writes, and writes nothing one touches, runs without waiting.
 */
export function syncPoints(steps: readonly StepAccess[]): boolean[] {
  let reads: Range[] = [];
  let writes: Range[] = [];
  return steps.map((step, s) => {
    const wait = s === 0 || overlaps(step.reads, writes) || overlaps(step.writes, writes) || overlaps(step.writes, reads);
    if (wait) {
      reads = [];
      writes = [];
    }
    reads.push(...step.reads);
    writes.push(...step.writes);
    return wait;
  });
}
