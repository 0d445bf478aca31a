// The command line under hostile use: integer flags strictly decimal, negative values reach
// the range check, non-regular input files, and output paths that cannot be written — each
// one line on stderr and exit 1, never "internal error" (exit 2) or a hang.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import { formatNpy } from "../dist/index.js";
import { failsWith } from "./cli_helpers.mjs";
import { fixturesDir, randomArray } from "./helpers.mjs";

const model = fileURLToPath(new URL("legacy_keys.safetensors", fixturesDir));
const tmp = mkdtempSync(join(tmpdir(), "densenet-hostile-cli-"));
const input = join(tmp, "x.npy");
writeFileSync(input, formatNpy({ data: randomArray(3 * 32 * 32, 3), dims: [1, 3, 32, 32] }));
const Cli = suite("CLI under hostile use");

Cli("integer flags take plain decimal digits only", () => {
  for (const value of ["1e1", "0x2", " 2 ", "2.0", "+2", "", "2abc"]) {
    failsWith(["info", "--model", "densenet121", "--threads", value], /^densenet: --threads must be an integer from 1 to 256, got '.*'$/);
  }
  failsWith(["info", "--model", "densenet121", "--seed", "-1"], /^densenet: --seed must be an integer from 0 to 2147483647, got '-1'$/);
  failsWith(["bench", "--model", "densenet121", "--runs", "-5"], /--runs must be an integer from 1 to 100000, got '-5'/);
});

Cli("inputs that are not regular files are refused at once", () => {
  const fifo = join(tmp, "in.fifo");
  execFileSync("mkfifo", [fifo]);
  failsWith(
    ["run", "--model", model, "--input", fifo, "--output", join(tmp, "y.npy"), "--threads", "1"],
    /cannot read input '.*in\.fifo': not a regular file \(a FIFO\)/,
  );
  failsWith(
    ["run", "--model", model, "--input", "/dev/zero", "--output", join(tmp, "y.npy"), "--threads", "1"],
    /cannot read input '\/dev\/zero': not a regular file \(a device\)/,
  );
  failsWith(
    ["run", "--model", "/dev/zero", "--input", input, "--output", join(tmp, "y.npy")],
    /cannot read model file '\/dev\/zero': not a regular file/,
  );
});

Cli("an output that cannot be written is one line and exit 1", () => {
  const run = (output) => ["run", "--model", model, "--input", input, "--output", output, "--threads", "1"];
  failsWith(run(join(tmp, "missing", "y.npy")), /cannot write output '.*y\.npy': ENOENT$/);
  failsWith(run(tmp), /cannot write output '.*': EISDIR$/);
  if (existsSync("/dev/full")) failsWith(run("/dev/full"), /cannot write output '\/dev\/full': ENOSPC$/);
  if (process.getuid?.() !== 0) {
    const locked = join(tmp, "locked");
    execFileSync("mkdir", ["-m", "500", locked]);
    failsWith(run(join(locked, "y.npy")), /EACCES$/);
  }
  const file = join(tmp, "a-file");
  writeFileSync(file, "");
  failsWith(
    ["run", "--model", model, "--input", input, "--outdir", join(file, "sub")],
    /cannot create output directory '.*': (ENOTDIR|EEXIST)/,
  );
});

Cli.after(() => rmSync(tmp, { recursive: true, force: true }));

Cli.run();
