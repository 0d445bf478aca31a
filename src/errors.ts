/**
 * The one error type the runtime throws for anything a user can cause: a bad model file,
 * a bad tensor, an unsupported configuration. Its message is one line that names the
 * subject and the rule it broke; the CLI prints it as it is, without a stack trace.
 */
export class DenseNetError extends Error {
  override name = "DenseNetError";
}

/** Throws a DenseNetError with `message` unless `condition` holds. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new DenseNetError(typeof message === "string" ? message : message());
}
