/** Longest message a DenseNetError carries; longer ones keep their start and end around an ellipsis. */
export const MAX_MESSAGE_CHARS = 300;

/**
 * The one error type the runtime throws for anything a user can cause: a bad model file,
 * a bad tensor, an unsupported configuration. Its message is one line that names the
 * subject and the rule it broke (line breaks become spaces, and a message over
 * MAX_MESSAGE_CHARS is cut in its middle); the CLI prints it as it is, without a stack trace.
 */
export class DenseNetError extends Error {
  override name = "DenseNetError";

  constructor(message: string) {
    super(oneLine(message));
  }
}

/** `message` on one line of at most MAX_MESSAGE_CHARS characters. */
export function oneLine(message: string): string {
  const flat = message.replace(/\s*[\r\n]+\s*/g, " ");
  if (flat.length <= MAX_MESSAGE_CHARS) return flat;
  const tail = 80;
  return `${flat.slice(0, MAX_MESSAGE_CHARS - tail - 3)} … ${flat.slice(flat.length - tail)}`;
}

/** Throws a DenseNetError with `message` unless `condition` holds. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new DenseNetError(typeof message === "string" ? message : message());
}
