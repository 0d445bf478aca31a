// Helpers for the server tests: loopback HTTP requests with a bounded time, infer bodies, and
// float32 bit patterns of a response.
import { request as httpRequest, Agent } from "node:http";
import { deflateSync } from "node:zlib";
import { Session } from "../dist/index.js";
import { InferenceServer } from "../dist/serve/server.js";
import { fixturesDir } from "./helpers.mjs";

export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One request to 127.0.0.1:port; resolves with { status, headers, text, json } or rejects on a
 * connection error or after timeoutMs.
 * @param {number} port
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body] a string or bytes as they are, anything else as JSON; undefined for none
 * @param {{ headers?: Record<string, string>, timeoutMs?: number, useAgent?: Agent | false, chunked?: boolean }} [options]
 *   (useAgent false: a connection of its own for this one request, as Node's `agent: false`)
 */
export function request(port, method, path, body, { headers = {}, timeoutMs = 20000, useAgent = agent, chunked = false } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent: useAgent,
        headers: {
          ...(data === undefined ? {} : { "Content-Type": "application/json" }),
          ...(data === undefined || chunked ? {} : { "Content-Length": Buffer.byteLength(data) }),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          clearTimeout(timer);
          const raw = Buffer.concat(chunks);
          const text = raw.toString("utf8");
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json, raw });
        });
        res.on("error", reject);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (chunked && data !== undefined) {
      const half = Math.floor(data.length / 2);
      req.write(data.slice(0, half));
      req.end(data.slice(half));
    } else {
      req.end(data);
    }
  });
}

/**
 * A body under the binary tensor data extension: the JSON header (inputs carrying
 * binary_data_size), then each tensor's float32 bytes; with the header to send.
 */
export function binaryBody(header, tensors) {
  const json = Buffer.from(JSON.stringify(header));
  const parts = tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return { body: new Uint8Array(Buffer.concat([json, ...parts])), headers: { "Inference-Header-Content-Length": String(json.length) } };
}

/** An infer body for a float32 tensor { data, dims }. */
export function inferBody(tensor, extra = {}) {
  return { ...extra, inputs: [{ name: "input", shape: tensor.dims, datatype: "FP32", data: Array.from(tensor.data) }] };
}

/** The output data of a response as float32 bits. */
export function responseBits(json, index = 0) {
  return Array.from(new Uint32Array(Float32Array.from(json.outputs[index].data).buffer));
}

export function bits(tensor) {
  return Array.from(new Uint32Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.length));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A minimal 8-bit RGB PNG (filter 0 on every row) of width x height from `pixel(x, y) -> [r, g, b]`. */
export function encodePng(width, height, pixel) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), y * (width * 3 + 1) + 1 + x * 3);
  }
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk("IHDR", ihdr),
      chunk("IDAT", deflateSync(raw)),
      chunk("IEND", Buffer.alloc(0)),
    ]),
  );
}

export const modelPath = new URL("narrow_odd.safetensors", fixturesDir).pathname;
/** Server options for the tests; each test overrides what it checks. */
export const OPTIONS = {
  host: "127.0.0.1",
  port: 0,
  maxBatch: 8,
  maxDelayMs: 5,
  maxQueue: 1024,
  timeoutMs: 20000,
  maxBodyBytes: 8 * 2 ** 20,
  maxSizes: 8,
  maxMemoryBytes: 2 ** 30,
};

/** A server on an ephemeral loopback port serving narrow_odd as "narrow" (2 threads). */
export async function startServer(overrides = {}) {
  const server = new InferenceServer({ ...OPTIONS, ...overrides });
  const { port } = await server.listen();
  server.addModel("narrow", await Session.create(modelPath, { threads: 2 }));
  server.setReady();
  return { server, port };
}

/** The value of the metric line `line` (name and labels) in Prometheus text, or undefined. */
export function metricValue(text, line) {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}
