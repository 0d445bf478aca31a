// Helpers for the server tests: loopback HTTP requests with a bounded time, infer bodies, and
// float32 bit patterns of a response.
import { request as httpRequest, Agent } from "node:http";

export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One request to 127.0.0.1:port; resolves with { status, headers, text, json } or rejects on a
 * connection error or after timeoutMs.
 */
export function request(port, method, path, body, { headers = {}, timeoutMs = 20000, useAgent = agent, chunked = false } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
    const req = httpRequest({ host: "127.0.0.1", port, method, path, agent: useAgent, headers: {
      ...(data === undefined ? {} : { "Content-Type": "application/json" }),
      ...(data === undefined || chunked ? {} : { "Content-Length": Buffer.byteLength(data) }), ...headers,
    } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    const timer = setTimeout(() => { req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)); }, timeoutMs);
    req.on("error", (e) => { clearTimeout(timer); reject(e); });
    if (chunked && data !== undefined) {
      const half = Math.floor(data.length / 2);
      req.write(data.slice(0, half));
      req.end(data.slice(half));
    } else {
      req.end(data);
    }
  });
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
