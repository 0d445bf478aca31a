// The benchmarks' one command-line parser: node:util parseArgs (as src/cli.ts uses), strict,
// with value checks that fail as a UsageError naming the option. Every entry point in bench/
// declares its options as parseArgs options and converts values with the helpers below.
import { parseArgs } from "node:util";

/** Bad command-line arguments: the entry point prints the message (and its usage) and exits 2. */
export class UsageError extends Error {}

/**
 * The values of `argv` for `options` (parseArgs option specs; -h/--help is always accepted as
 * `help`). Unknown options, missing values and positionals are UsageErrors.
 * @returns {Record<string, any>}
 */
export function parseOptions(argv, options) {
  try {
    return parseArgs({ args: argv, options: { help: { type: "boolean", short: "h" }, ...options }, strict: true, allowPositionals: false })
      .values;
  } catch (e) {
    throw new UsageError(e.message);
  }
}

/** "a, b,,c" -> ["a", "b", "c"]. */
export const csv = (text) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** An integer option value >= min. */
export function integer(name, text, min = 1) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: "${text}" is not an integer >= ${min}`);
  return n;
}

/** A comma-separated list of integers >= min. */
export const integers = (name, text, min = 1) => csv(text).map((s) => integer(name, s, min));

/** A number option value > 0 (or >= 0 with allowZero). */
export function positive(name, text, { allowZero = false } = {}) {
  const x = Number(text);
  if (!(allowZero ? x >= 0 : x > 0)) throw new UsageError(`--${name}: "${text}" is not a number ${allowZero ? ">= 0" : "> 0"}`);
  return x;
}

/** One value from `allowed` (not a list). */
export function choice(name, text, allowed) {
  if (!allowed.includes(text)) throw new UsageError(`--${name}: "${text}" is not one of ${allowed.join(", ")}`);
  return text;
}

/** Values from `allowed` only (a comma-separated list), in the order given. */
export function choices(name, text, allowed) {
  const values = csv(text);
  const bad = values.filter((v) => !allowed.includes(v));
  if (bad.length) throw new UsageError(`--${name}: unknown ${bad.join(", ")}; choose from ${allowed.join(", ")}`);
  return values;
}

/**
 * The command line of an entry point: { args } from readArgs(argv), or { exit } after
 * printing the usage (--help: exit 0) or a UsageError as "[tag] message" (exit 2).
 */
export function commandLine(readArgs, usage, tag, argv = process.argv.slice(2)) {
  let args;
  try {
    args = readArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`[${tag}] ${e.message}\n`);
    return { exit: 2 };
  }
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    return { exit: 0 };
  }
  return { args };
}
