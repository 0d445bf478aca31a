// `densenet worker` flags and start-up failures (no Redis needed): one line on stderr and
// exit code 1 before anything connects; BullMQ is loaded by this command only.
import { spawn, spawnSync } from "node:child_process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseModelSpecs } from "../dist/queue/model_specs.js";
import { MODEL_PATH } from "./queue_jobs.mjs";
import { densenet, failsWith, plainEnv as env } from "./cli_helpers.mjs";
import { cli, waitFor, within } from "./queue_helpers.mjs";

// Port 9 on loopback (discard) has no Redis; every failure below happens before connecting.
const NOWHERE = "redis://127.0.0.1:9";

const Flags = suite("densenet worker: flags");

Flags("--redis is required and must be a redis:// or rediss:// URL", () => {
  failsWith(["worker", "--model", MODEL_PATH], /^densenet: --redis is required, e\.g\. --redis redis:\/\/127\.0\.0\.1:6379/);
  failsWith(
    ["worker", "--redis", "http://127.0.0.1:6379"],
    /^densenet: --redis must be a redis:\/\/ or rediss:\/\/ URL with a host, got 'http:\/\/127\.0\.0\.1:6379'$/,
  );
  failsWith(["worker", "--redis", "not a url"], /^densenet: --redis must be a redis:\/\/ or rediss:\/\/ URL, got 'not a url'$/);
});

Flags("numbers, queue names and unknown options are checked", () => {
  failsWith(["worker", "--redis", NOWHERE, "--concurrency", "0"], /^densenet: --concurrency must be an integer from 1 to 1024, got '0'$/);
  failsWith(["worker", "--redis", NOWHERE, "--threads", "2.5"], /^densenet: --threads must be an integer from 1 to 256, got '2\.5'$/);
  failsWith(
    ["worker", "--redis", NOWHERE, "--lock-duration", "10"],
    /^densenet: --lock-duration must be an integer from 500 to 3600000, got '10'$/,
  );
  failsWith(["worker", "--redis", NOWHERE, "--queue", "a:b"], /^densenet: --queue must be 1 to 128 letters, digits/);
  failsWith(["worker", "--redis", NOWHERE, "--frobnicate"], /^densenet: Unknown option '--frobnicate' \(see densenet --help\)$/);
});

Flags("a model that cannot be loaded or served stops the worker before it takes a job", () => {
  failsWith(
    ["worker", "--redis", NOWHERE, "--model", "missing.safetensors"],
    /^densenet: model 'missing' \(missing\.safetensors\): cannot read model file 'missing\.safetensors': ENOENT$/,
  );
  failsWith(
    ["worker", "--redis", NOWHERE, "--model", MODEL_PATH, "--model", `narrow_odd=${MODEL_PATH}`],
    /^densenet: --model: two models are named 'narrow_odd' \(give one another name as NAME=PATH\)$/,
  );
});

Flags("densenet worker --help prints the usage, with the worker line, and exits 0", () => {
  const r = densenet("worker", "--help");
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /densenet worker --redis redis:\/\/HOST:PORT/);
});

Flags("SIGTERM while Redis is unreachable and no job is in hand: exits 0 within seconds, saying so", async () => {
  const child = spawn(process.execPath, [cli, "worker", "--redis", NOWHERE, "--model", MODEL_PATH, "--threads", "1"], {
    stdio: ["ignore", "ignore", "pipe"],
    env,
  });
  let log = "";
  child.stderr.on("data", (d) => {
    log += d;
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  try {
    await waitFor(() => log.includes("ECONNREFUSED"), 20_000, `the worker trying Redis: ${log}`);
    assert.ok(!log.includes("consuming queue"), "not consuming before Redis is reached");
    const t0 = Date.now();
    child.kill("SIGTERM");
    assert.equal(await within(exited, 10_000), { code: 0, signal: null }, log);
    assert.ok(Date.now() - t0 < 8000, `exited ${Date.now() - t0} ms after SIGTERM (1 s grace when nothing is in hand)`);
    assert.match(log, /densenet worker: Redis is unreachable; no job was left undone\n$/);
  } finally {
    child.kill("SIGKILL");
  }
});

const Specs = suite("densenet worker: --model [NAME=]PATH");

Specs("the name is NAME or the file stem; architecture names are their own stem", () => {
  const fallback = { name: "default", source: "/x/default.safetensors" };
  assert.equal(parseModelSpecs([], fallback), [fallback]);
  assert.equal(parseModelSpecs(["dir/chest.v2.safetensors", "xr=dir/a.onnx", "densenet121", "b=./a=b.onnx"], fallback), [
    { name: "chest.v2", source: "dir/chest.v2.safetensors" },
    { name: "xr", source: "dir/a.onnx" },
    { name: "densenet121", source: "densenet121" },
    { name: "b", source: "./a=b.onnx" },
  ]);
  assert.throws(() => parseModelSpecs(["./a=b.onnx"], fallback), /model name 'a=b' must be 1 to 128 letters, .* \(give one as NAME=PATH\)/);
  assert.throws(() => parseModelSpecs(["x="], fallback), /--model 'x=' names no file/);
  assert.throws(() => parseModelSpecs(["/m/.hidden"], fallback), /model name '\.hidden' must be 1 to 128 letters/);
});

const Lazy = suite("densenet worker: BullMQ is loaded by the worker command only");

/** Runs the CLI in-process with `args` and prints whether a bullmq module was loaded. */
function loadsBullMQ(args) {
  const script = `process.argv = [process.argv[0], ${JSON.stringify(cli)}, ...${JSON.stringify(args)}];
    process.on("beforeExit", () => { console.log("BULLMQ=" + Object.keys(require.cache).some((k) => k.includes("/node_modules/bullmq/"))); process.exitCode = 0; });
    import(${JSON.stringify(cli)});`;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000, env });
  const flag = /BULLMQ=(true|false)/.exec(r.stdout)?.[1];
  assert.ok(flag, `no report: ${r.stdout} ${r.stderr}`);
  return flag === "true";
}

Lazy("info does not load it; worker does", () => {
  assert.is(loadsBullMQ(["info", "--model", MODEL_PATH]), false);
  assert.is(loadsBullMQ(["worker", "--redis", NOWHERE, "--model", "missing.safetensors"]), true);
});

Flags.run();
Specs.run();
Lazy.run();
