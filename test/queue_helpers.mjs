// Helpers of the queue tests: a private redis-server on a free loopback port (stopped by the
// test that started it), `densenet worker` processes, and a BullMQ producer.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const cli = fileURLToPath(new URL("../dist/bin/cli.js", import.meta.url));

/** Fails with a clear message where redis-server is not installed (CI installs it: see .ci/run). */
export function requireRedisServer() {
  const r = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error("the queue tests need redis-server on PATH: apt-get install -y redis-server (.ci/run does this)");
  }
}

/** A free TCP port on 127.0.0.1 (Redis cannot listen on port 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves like `promise`, or with "timeout" after `ms` (the timer never outlives it). */
export async function within(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every 20 ms until it holds; throws `what` after `timeoutMs`. */
export async function waitFor(condition, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

/**
 * Starts redis-server on 127.0.0.1 and a free port, in a temp dir. `aof`: an append-only
 * file fsynced on every write, so a killed and restarted server keeps every queue entry.
 * Returns { url, port, kill(signal), restart(), stop() }; stop() also deletes the dir.
 */
export async function startRedis({ aof = false } = {}) {
  requireRedisServer();
  const dir = mkdtempSync(join(tmpdir(), "densenet-redis-"));
  const port = await freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--pidfile",
    join(dir, "redis.pid"),
    "--save",
    "",
    "--daemonize",
    "no",
    "--appendonly",
    aof ? "yes" : "no",
    "--appendfsync",
    "always",
    "--loglevel",
    "warning",
  ];
  let server = null;
  const launch = async () => {
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    server = { child, exited };
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited: ${output.trim()}`);
        return (await ping(port)) === "+PONG";
      },
      10_000,
      `redis-server on port ${port}`,
    );
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill(signal = "SIGKILL") {
      server.child.kill(signal);
      await server.exited;
    },
    restart: launch,
    async stop() {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill("SIGKILL");
        await server.exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends PING on a raw socket; resolves with the reply line or null. */
function ping(port) {
  return new Promise((resolve) => {
    import("node:net").then(({ connect }) => {
      const socket = connect(port, "127.0.0.1");
      let reply = "";
      const done = (value) => {
        socket.destroy();
        resolve(value);
      };
      socket.setTimeout(1000, () => done(null));
      socket.once("error", () => done(null));
      socket.on("data", (d) => {
        reply += d;
        if (reply.includes("\r\n")) done(reply.split("\r\n")[0]);
      });
      socket.write("PING\r\n");
    });
  });
}

const env = { ...process.env };
delete env.FORCE_COLOR;
delete env.NO_COLOR;

export const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));

/**
 * Spawns `densenet worker` with `args` (under Node, or Deno with `{ runtime: "deno" }`);
 * resolves once it logs that it is consuming.
 * Returns { child, name, log(), exited } (exited: a promise of { code, signal }).
 */
export async function startWorker(redisUrl, args, name, { runtime = "node" } = {}) {
  const command =
    runtime === "deno"
      ? [deno, "run", "--allow-read", "--allow-env", "--allow-sys", "--allow-net=127.0.0.1", cli]
      : [process.execPath, cli];
  const child = spawn(command[0], [...command.slice(1), "worker", "--redis", redisUrl, "--name", name, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env,
  });
  let log = "";
  child.stderr.on("data", (d) => {
    log += d;
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`worker ${name} exited with ${child.exitCode}: ${log.trim()}`);
      return log.includes("consuming queue");
    },
    30_000,
    `worker ${name} to start`,
  );
  return { child, name, exited, log: () => log };
}
