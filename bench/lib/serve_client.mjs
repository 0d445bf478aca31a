// What the serving benchmarks (bench/serve.mjs, bench/serve_threads.mjs) share: a `densenet
// serve` child process on an ephemeral loopback port, infer request bodies in both formats,
// and one HTTP request that never rejects.
import { spawn } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_MODEL_PATH, Session, preprocessingOf } from "../../dist/index.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Starts `densenet serve --port 0 ...serveArgs` under Node (or Deno, with the permissions the
 * README gives) and resolves with { child, port } once it prints its listening line; rejects
 * if it exits first or is not ready in 60 s.
 * @param {string[]} serveArgs
 * @param {"node" | "deno"} [runtime]
 * @returns {Promise<{ child: import("node:child_process").ChildProcess, port: number }>}
 */
export function startServe(serveArgs, runtime = "node") {
  const cli = join(REPO_ROOT, "dist", "bin", "cli.js");
  const [cmd, pre] =
    runtime === "deno"
      ? [
          join(REPO_ROOT, "node_modules", ".bin", "deno"),
          ["run", "--allow-read", "--allow-env", "--allow-sys", "--allow-net=127.0.0.1", cli],
        ]
      : [process.execPath, [cli]];
  const child = spawn(cmd, [...pre, "serve", "--port", "0", ...serveArgs], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("server not ready in 60 s"));
    }, 60000);
    child.stdout?.on("data", (c) => {
      text += c;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}`));
    });
  });
}

/**
 * The embedded model's input as its preprocessing makes it: channels and the crop's height
 * and width (read from a 1-thread session, released again).
 * @returns {Promise<{ channels: number, height: number, width: number }>}
 */
export async function embeddedModelInput() {
  const session = await Session.create(DEFAULT_MODEL_PATH, { threads: 1 });
  try {
    const crop = preprocessingOf(session).crop;
    const [height, width] = typeof crop === "number" ? [crop, crop] : crop;
    return { channels: session.inputChannels, height, width };
  } finally {
    await session.release();
  }
}

/**
 * An infer request body for one image tensor (input "input") in `format`: JSON, or the
 * binary tensor data extension tritonclient uses (a JSON header and raw float32 bytes,
 * binary logits back).
 * @param {"json" | "binary"} format
 * @param {Float32Array} image
 * @param {number[]} dims
 */
export function inferBody(format, image, dims) {
  if (format === "json") {
    return {
      data: Buffer.from(JSON.stringify({ inputs: [{ name: "input", shape: dims, datatype: "FP32", data: Array.from(image) }] })),
      headers: { "Content-Type": "application/json" },
    };
  }
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: "input", shape: dims, datatype: "FP32", parameters: { binary_data_size: image.byteLength } }],
      outputs: [{ name: "logits", parameters: { binary_data: true } }],
    }),
  );
  return {
    data: Buffer.concat([header, Buffer.from(image.buffer, image.byteOffset, image.byteLength)]),
    headers: { "Content-Type": "application/octet-stream", "Inference-Header-Content-Length": String(header.length) },
  };
}

/**
 * One request on 127.0.0.1:port; `body` is { data, headers } (POST) or undefined (GET).
 * Resolves with { status, ms, text } (status 0 on a connection error); never rejects.
 * @param {import("node:http").Agent} agent
 * @param {number} port
 * @param {string} path
 * @param {{ data: Buffer, headers: Record<string, string> }} [body]
 * @returns {Promise<{ status: number, ms: number, text: string }>}
 */
export function send(agent, port, path, body) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: body ? "POST" : "GET",
        agent,
        headers: body ? { "Content-Length": body.data.length, ...body.headers } : {},
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", (e) => resolve({ status: 0, ms: performance.now() - t0, text: e.message }));
    req.end(body?.data);
  });
}
