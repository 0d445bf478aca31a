// Test-only fault injection, kept off the public API: the tests import this module from
// dist/session/fault.js (it is not exported by the package's index). The next run of the
// session makes one pool worker throw or exit at a given step.

/** Worker `worker` throws ("throw") or exits ("exit") at step `at` of the next run. */
export interface Fault {
  readonly worker: number;
  readonly at: number;
  readonly mode: "throw" | "exit";
}

const pending = new WeakMap<object, Fault>();

/** Arms a fault for the next run of `session` (a Session with threads > 1). */
export function injectFaultForTesting(session: object, fault: Fault): void {
  pending.set(session, fault);
}

/** The fault armed for `session`, disarming it; null when none is. */
export function takeFault(session: object): Fault | null {
  const fault = pending.get(session) ?? null;
  pending.delete(session);
  return fault;
}
