// Running the `densenet` command in tests: a plain environment (with both NO_COLOR and the
// runner's FORCE_COLOR set, Node prints a warning on stderr that would break one-line checks),
// the result of a run, and the check that a run fails as bad input must: exit 1 and one
// line on stderr, "densenet: ..." matching a pattern.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";

export const cli = fileURLToPath(new URL("../dist/bin/cli.js", import.meta.url));

export const plainEnv = { ...process.env };
delete plainEnv.FORCE_COLOR;
delete plainEnv.NO_COLOR;

/** Runs `densenet ...args` to its end (at most two minutes). */
export function densenet(...args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 120_000, env: plainEnv });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `densenet ...args` exits 1 with one line on stderr, starting "densenet: " and matching `pattern`. */
export function failsWith(args, pattern) {
  const r = densenet(...args);
  assert.is(r.code, 1, `exit code for ${args.join(" ")}; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.is(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.ok(lines[0].startsWith("densenet: "), lines[0]);
  assert.match(lines[0], pattern);
}
