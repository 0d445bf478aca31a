// `densenet serve` as a process: flag errors, the ready line, SIGTERM during load answering
// every accepted request (then exit 0), and the same server under Deno. Children listen on
// 127.0.0.1 with --port 0 and are always killed by the test that started them.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { fixturesDir, randomArray } from "./helpers.mjs";
import { bits, inferBody, request, responseBits } from "./serve_helpers.mjs";
import { Agent } from "node:http";
import { createServer } from "node:net";

// A plain environment: with both NO_COLOR and the runner's FORCE_COLOR set, Node prints a
// warning on stderr, which would break the one-line checks.
const plainEnv = { ...process.env };
delete plainEnv.FORCE_COLOR;
delete plainEnv.NO_COLOR;

const cli = fileURLToPath(new URL("../dist/bin/cli.js", import.meta.url));
const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
const modelPath = new URL("narrow_odd.safetensors", fixturesDir).pathname;

/**
 * Starts the server (`command` + args) and resolves once it prints its ready line, with the
 * child, its port and a function collecting its exit; rejects if it exits or is silent for 20 s.
 */
function startChild(command, args) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: plainEnv });
  let stdout = "",
    stderr = "";
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal, stdout, stderr })));
  child.stderr.on("data", (c) => {
    stderr += c;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no ready line within 20 s: ${stderr}`));
    }, 20000);
    child.stdout.on("data", (c) => {
      stdout += c;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+); models: (.*)\n/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), models: m[2], exited, output: () => ({ stdout, stderr }) });
      }
    });
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before ready: ${stderr}`));
    });
  });
}

const Cli = suite("serve: command line");

Cli("flag errors exit 1 with one line", () => {
  /** @type {[string[], RegExp][]} */
  const cases = [
    [["--port", "80x"], /^densenet: --port must be an integer from 0 to 65535, got '80x'$/],
    [["--port", "1e3"], /--port must be an integer/],
    [["--max-batch", "0"], /^densenet: --max-batch must be an integer from 1 to 4096, got '0'$/],
    [["--max-delay-ms=-1"], /--max-delay-ms must be an integer from 0 to 60000, got .-1./],
    [["--threads", "2.5"], /--threads must be an integer from 1 to 256/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--model", "bad name.safetensors"], /model name 'bad name' .* must be letters, digits/],
    [["--model", "x.safetensors", "--model", "b/x.onnx"], /model name 'x' is given twice/],
    [["--model", "missing.safetensors", "--port", "0"], /cannot read model file 'missing.safetensors': ENOENT/],
  ];
  for (const [args, pattern] of cases) {
    const r = spawnSync(process.execPath, [cli, "serve", ...args], { encoding: "utf8", timeout: 20000, env: plainEnv });
    assert.is(r.status, 1, `${args.join(" ")}: status ${r.status}, ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.is(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(lines[0], pattern);
  }
  const help = spawnSync(process.execPath, [cli, "serve", "--help"], { encoding: "utf8", timeout: 20000, env: plainEnv });
  assert.is(help.status, 0);
  assert.match(help.stdout, /densenet serve \[--model \[NAME=\]PATH\]\.\.\. \[--host 127\.0\.0\.1\] \[--port 8080\]/);
});

Cli("a port already in use is one line, exit 1", async () => {
  const taken = createServer();
  await /** @type {Promise<void>} */ (new Promise((r) => taken.listen(0, "127.0.0.1", r)));
  const { port } = /** @type {import("node:net").AddressInfo} */ (taken.address());
  try {
    const r = spawnSync(process.execPath, [cli, "serve", "--model", modelPath, "--port", String(port), "--threads", "1"], {
      encoding: "utf8",
      timeout: 20000,
      env: plainEnv,
    });
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr.trim(), new RegExp(`^densenet: cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE$`));
  } finally {
    taken.close();
  }
});

Cli("two models of the same name are refused", async () => {
  const r = spawnSync(
    process.execPath,
    [cli, "serve", "--port", "0", "--threads", "1", "--model", `a=${modelPath}`, "--model", `a=${modelPath}`],
    { encoding: "utf8", timeout: 20000, env: plainEnv },
  );
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr.trim(), /^densenet: model name 'a' is given twice; name them with --model NAME=PATH$/);
});

Cli("SIGTERM during load: every accepted request is answered correctly, new connections are refused, exit 0", async () => {
  // A long batching delay keeps the accepted requests queued when SIGTERM arrives.
  const server = await startChild(process.execPath, [
    cli,
    "serve",
    "--model",
    `narrow=${modelPath}`,
    "--port",
    "0",
    "--threads",
    "2",
    "--max-batch",
    "64",
    "--max-delay-ms",
    "1500",
  ]);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    assert.match(server.models, /^narrow \(input \[-1, 3, -1, -1\] -> logits \[-1, 7\]\)/);
    const tensors = Array.from({ length: 40 }, (_, i) => ({ data: randomArray(3 * 35 * 35, 500 + i), dims: [1, 3, 35, 35] }));
    const pending = tensors.map((t) => request(server.port, "POST", "/v2/models/narrow/infer", inferBody(t), { useAgent: agent }));
    const deadline = Date.now() + 10000;
    for (;;) {
      const m = /densenet_queue_depth (\d+)/.exec((await request(server.port, "GET", "/metrics", undefined, { useAgent: agent })).text);
      if (Number(m[1]) === tensors.length) break;
      assert.ok(Date.now() < deadline, `only ${m[1]} requests queued`);
      await new Promise((r) => setTimeout(r, 20));
    }
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    await request(server.port, "GET", "/v2/health/live", undefined, { useAgent: false }).then(
      (res) => assert.unreachable(`a new connection was accepted after SIGTERM: ${res.status}`),
      (e) => assert.is(e.code, "ECONNREFUSED"),
    );
    const answers = await Promise.all(pending);
    const reference = await Session.create(modelPath, { threads: 1 });
    for (let i = 0; i < tensors.length; i++) {
      assert.is(answers[i].status, 200, answers[i].text);
      assert.equal(responseBits(answers[i].json), bits(await reference.run(tensors[i])), `request ${i}`);
    }
    await reference.release();
    const { code, stdout } = await server.exited;
    assert.is(code, 0, server.output().stderr);
    assert.match(stdout, /densenet serve: stopped\n$/);
  } finally {
    agent.destroy();
    server.child.kill("SIGKILL");
  }
});

Cli("Deno runs the same server: one infer, bitwise equal to Node's Session.run, SIGTERM exits 0", async () => {
  const server = await startChild(deno, [
    "run",
    "--allow-read",
    "--allow-env",
    "--allow-sys",
    "--allow-net=127.0.0.1",
    cli,
    "serve",
    "--model",
    `narrow=${modelPath}`,
    "--port",
    "0",
    "--threads",
    "2",
  ]);
  try {
    const tensor = { data: randomArray(2 * 3 * 41 * 39, 77), dims: [2, 3, 41, 39] };
    const res = await request(server.port, "POST", "/v2/models/narrow/infer", inferBody(tensor, { id: "deno" }), { useAgent: false });
    assert.is(res.status, 200, res.text);
    assert.is(res.json.id, "deno");
    const reference = await Session.create(modelPath, { threads: 1 });
    assert.equal(responseBits(res.json), bits(await reference.run(tensor)));
    await reference.release();
    const bad = await request(server.port, "POST", "/v2/models/narrow/infer", "{oops", { useAgent: false });
    assert.is(bad.status, 400);
    server.child.kill("SIGTERM");
    const { code } = await server.exited;
    assert.is(code, 0, server.output().stderr);
  } finally {
    server.child.kill("SIGKILL");
  }
});

Cli("Deno passes the in-process server suites (serve.test.mjs, serve_limits.test.mjs: every route, limit and failure)", () => {
  const suiteFile = fileURLToPath(new URL("./deno/serve_suites.mjs", import.meta.url));
  const r = spawnSync(deno, ["run", "--allow-read", "--allow-env", "--allow-sys", "--allow-net=127.0.0.1", suiteFile], {
    encoding: "utf8",
    timeout: 120000,
    env: plainEnv,
  });
  const total = /Total:\s+(\d+)/.exec(r.stdout)?.[1],
    passed = /Passed:\s+(\d+)/.exec(r.stdout)?.[1];
  assert.ok(
    Number(total) >= 15 && passed === total,
    `Deno: ${passed} of ${total} passed\n${r.stdout.slice(-2000)}${r.stderr.slice(-1000)}`,
  );
});

Cli.run();
