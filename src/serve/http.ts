// node:http plumbing for the server: a bounded body reader, JSON responses, and the error
// type that carries an HTTP status. Runs on Node and on Deno's node:http.
import type { IncomingMessage, ServerResponse } from "node:http";
import { JsonLimitError, parseJsonBytes } from "./json_bytes.js";
import type { ReadBudget } from "./turns.js";

/** An error with the HTTP status (and headers) its response gets. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The chunks, `bytes` in all, copied into a new buffer where byte `alignAt` lies at a multiple of 4 of its ArrayBuffer. */
function joinChunks(chunks: readonly Buffer[], bytes: number, alignAt: number): Buffer {
  const space = Buffer.allocUnsafe(bytes + 3); // every byte is written below; not zeroed first
  const pad = (4 - ((space.byteOffset + alignAt) % 4)) % 4;
  const body = space.subarray(pad, pad + bytes);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body;
}

/**
 * Reads the request body, at most `limit` bytes. Past the limit it stops collecting and rejects
 * with 413 at once; node:http then reads and discards the rest, so the connection stays usable
 * and the client sees the answer. `reserve(bytes)` is called for every chunk before it is kept;
 * if it throws, the read rejects with that error the same way. With a `budget`, the read
 * pauses until a later event-loop turn whenever this turn's budget is spent. The body comes
 * back in a buffer of its own, placed so that its byte `alignAt` (if given and inside the
 * body) lies at a multiple of 4 in its ArrayBuffer: float32 data from there can be viewed.
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  reserve: (bytes: number) => void = () => {},
  budget: ReadBudget | null = null,
  alignAt = 0,
): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `request body exceeds the limit of ${limit} bytes (--max-body-mb)`);
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      try {
        if (bytes > limit) throw tooLarge();
        reserve(chunk.length);
      } catch (e) {
        req.off("data", onData);
        chunks.length = 0;
        reject(e);
        return;
      }
      chunks.push(chunk);
      if (budget && !budget.take(chunk.length)) {
        req.pause();
        budget.later(() => req.resume());
      }
    };
    req.on("data", onData);
    req.once("end", () => resolve(joinChunks(chunks, bytes, alignAt)));
    req.once("error", (e) => reject(new HttpError(400, `request body could not be read: ${e.message}`)));
    req.once("aborted", () => reject(new HttpError(400, "the client aborted the request body")));
  });
}

const PACKED_KEYS: ReadonlySet<string> = new Set(["data"]);

/**
 * Parses a JSON body; bad JSON is a 400 naming the parser's complaint. Number arrays under
 * "data" (infer requests' tensors) come back as Float32Arrays, read straight from the bytes.
 */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return parseJsonBytes(bytes, PACKED_KEYS);
  } catch (e) {
    if (e instanceof JsonLimitError) throw new HttpError(400, e.message);
    throw new HttpError(400, `request body is not valid JSON: ${oneLine((e as Error).message, 160)}`);
  }
}

export function oneLine(text: string, max = 300): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max)}...` : line;
}

/** Writes a complete response: bytes as they are, a string, or anything else as JSON. */
export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
  contentType = "application/json",
): void {
  const bytes = body instanceof Uint8Array ? body : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": String(bytes.length), ...headers });
  res.end(bytes);
}
