// The HTTP server: Open Inference Protocol v2 routes over node:http (Node, and Deno's
// node:http), dynamic batching of infer requests, Prometheus metrics, graceful shutdown.
// It holds no state beyond its models, so copies behind a load balancer need no coordination.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { imageTensor, labelsOf, topClasses } from "../classify.js";
import { DenseNetError } from "../errors.js";
import type { Session } from "../session.js";
import type { Tensor } from "../tensor.js";
import { Batcher, type BatcherOptions, QueueFullError, RunFailure } from "./batcher.js";
import { HttpError, oneLine, parseJson, readBody, send } from "./http.js";
import { Metrics } from "./metrics.js";
import { MODEL_VERSION, PLATFORM, binaryInferResponse, modelMetadata, modelSignature, parseInferRequest } from "./protocol.js";
import { EventLoopTurns, ReadBudget } from "./turns.js";
import { packageFile } from "../package_files.js";

export interface ServerOptions extends BatcherOptions {
  readonly host: string;
  /** 0: an ephemeral port (see `address`). */
  readonly port: number;
  /** A request not answered this long after it arrived gets 504 (and leaves the queue). */
  readonly timeoutMs: number;
  /** Largest request body; larger ones get 413. */
  readonly maxBodyBytes: number;
  /**
   * Most bytes all requests together may hold (bodies being read, then their tensors until
   * answered); past it a request gets 503 + Retry-After, so many clients cannot exhaust memory.
   */
  readonly maxMemoryBytes: number;
}

/** Endpoint labels of the metrics: a fixed set, whatever the client sends. */
type Endpoint =
  | "server_metadata"
  | "health_live"
  | "health_ready"
  | "model_metadata"
  | "model_ready"
  | "infer"
  | "classify"
  | "metrics"
  | "other";

interface Route {
  readonly endpoint: Endpoint;
  readonly method: "GET" | "POST";
  /** The model named in the path, if any. */
  readonly model?: string;
}

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer|classify))?$/;

/** Maps a request path to its route; null for paths the server does not have. */
function route(pathname: string): Route | null {
  switch (pathname) {
    case "/v2":
      return { endpoint: "server_metadata", method: "GET" };
    case "/v2/health/live":
      return { endpoint: "health_live", method: "GET" };
    case "/v2/health/ready":
      return { endpoint: "health_ready", method: "GET" };
    case "/metrics":
      return { endpoint: "metrics", method: "GET" };
  }
  const m = MODEL_PATH.exec(pathname);
  if (!m) return null;
  let model: string;
  try {
    model = decodeURIComponent(m[1]);
  } catch {
    throw new HttpError(400, `model name in the path is not valid percent-encoding: '${oneLine(m[1], 80)}'`);
  }
  if (m[2] !== undefined && m[2] !== MODEL_VERSION)
    throw new HttpError(404, `model '${model}' has no version '${oneLine(m[2], 40)}'; its only version is ${MODEL_VERSION}`);
  const action = m[3];
  if (action === "infer") return { endpoint: "infer", method: "POST", model };
  if (action === "classify") return { endpoint: "classify", method: "POST", model };
  return { endpoint: action === "ready" ? "model_ready" : "model_metadata", method: "GET", model };
}

export class InferenceServer {
  readonly metrics: Metrics;
  private readonly batcher: Batcher;
  /** One event-loop turn per large JSON parse or image decode (turns.ts). */
  private readonly turns = new EventLoopTurns();
  /** Body bytes all requests together read per event-loop turn (turns.ts). */
  private readonly readBudget = new ReadBudget(READ_BYTES_PER_TURN);
  private readonly models = new Map<string, Session>();
  private readonly http: Server;
  private ready = false;
  private closing: Promise<void> | null = null;
  private inFlight = 0;
  /** Bytes held by requests in flight (see ServerOptions.maxMemoryBytes). */
  private held = 0;

  constructor(private readonly options: ServerOptions) {
    this.metrics = new Metrics(
      () => this.batcher.depth,
      () => this.inFlight,
    );
    this.batcher = new Batcher(options, (model, images, seconds) => this.metrics.batch(model, images, seconds));
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        console.error(`densenet serve: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        res.destroy();
      });
    });
    this.http.requestTimeout = Math.max(options.timeoutMs, 1000) + 5000;
    // Longer than load balancers' usual idle timeout (60 s), so none reuses a connection the
    // server is closing; close() still closes idle connections at once.
    this.http.keepAliveTimeout = 65_000;
  }

  /** Starts listening (live at once; ready only after setReady). Resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.off("error", reject);
        const address = this.http.address() as AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** Serves `session` as `name`; throws a DenseNetError if the model cannot be served. */
  addModel(name: string, session: Session): void {
    if (this.models.has(name)) throw new DenseNetError(`model name '${name}' is given twice`);
    modelSignature(session);
    this.models.set(name, session);
  }

  /** Every model is loaded: /v2/health/ready answers 200 from now on. */
  setReady(): void {
    this.ready = true;
  }

  get modelNames(): string[] {
    return [...this.models.keys()];
  }

  /**
   * Graceful shutdown: stop accepting connections, answer every request already received
   * (responses then carry `Connection: close`), release the sessions. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.ready = false;
      const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
      this.http.closeIdleConnections?.();
      await closed;
      await this.batcher.drain();
      for (const session of this.models.values()) await session.release();
    })();
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    this.inFlight++;
    let endpoint: Endpoint = "other",
      model = "";
    const abort = new AbortController();
    let held = 0;
    const reserve = (bytes: number) => {
      if (this.held + bytes > this.options.maxMemoryBytes) {
        throw new HttpError(
          503,
          `the server holds ${mib(this.held)} MiB of requests, its limit is ${mib(this.options.maxMemoryBytes)} MiB (--max-memory-mb); retry later`,
          { "Retry-After": "1" },
        );
      }
      this.held += bytes;
      held += bytes;
    };
    const timer = setTimeout(
      () => abort.abort(new HttpError(504, `no answer within ${this.options.timeoutMs} ms (--timeout-ms)`)),
      this.options.timeoutMs,
    );
    res.once("close", () => {
      clearTimeout(timer);
      this.inFlight--;
      this.held -= held;
      if (res.writableFinished) return;
      abort.abort(new HttpError(499, "the client closed the connection"));
      if (!res.headersSent) this.metrics.request(endpoint, model, 499, (performance.now() - started) / 1000);
    });
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}, type?: string) => {
      if (res.headersSent || res.destroyed) return;
      send(res, status, body, this.closing ? { ...headers, Connection: "close" } : headers, type);
      this.metrics.request(endpoint, model, status, (performance.now() - started) / 1000);
    };
    try {
      const url = requestUrl(req.url);
      const r = route(url.pathname);
      if (!r) throw new HttpError(404, `no route for ${oneLine(url.pathname, 100)}; see /v2/models/{name}/infer`);
      endpoint = r.endpoint;
      if (req.method !== r.method)
        throw new HttpError(405, `${endpoint} takes ${r.method}, not ${oneLine(req.method ?? "", 20)}`, { Allow: r.method });
      let session: Session | undefined;
      if (r.model !== undefined) {
        session = this.models.get(r.model);
        if (!session) throw new HttpError(404, `unknown model '${oneLine(r.model, 80)}'; this server has [${this.modelNames.join(", ")}]`);
        model = r.model;
      }
      const result = await Promise.race([this.answer(r, req, url, session, abort.signal, reserve), aborted(abort.signal)]);
      reply(result.status ?? 200, result.body, result.headers, result.type);
    } catch (e) {
      const { status, message, headers } = errorResponse(e);
      reply(status, { error: message }, headers);
    }
  }

  /** The body of a routed request. */
  private async answer(
    r: Route,
    req: IncomingMessage,
    url: URL,
    session: Session | undefined,
    signal: AbortSignal,
    reserve: Reserve,
  ): Promise<Answer> {
    switch (r.endpoint) {
      case "server_metadata":
        return { body: { name: PLATFORM, version: packageVersion(), extensions: ["binary_tensor_data"] } };
      case "health_live":
        return { body: { live: true } };
      case "health_ready":
        return { status: this.ready ? 200 : 503, body: { ready: this.ready } };
      case "metrics":
        return { body: this.metrics.render(), type: "text/plain; version=0.0.4; charset=utf-8" };
      case "model_metadata":
        return { body: modelMetadata(r.model!, session!) };
      case "model_ready":
        return { status: this.ready ? 200 : 503, body: { name: r.model, ready: this.ready } };
      case "infer":
        return this.infer(r.model!, session!, req, signal, reserve);
      case "classify":
        return { body: await this.classify(r.model!, session!, req, url, signal, reserve) };
      case "other":
        throw new HttpError(404, `no route for ${url.pathname}`);
    }
  }

  /**
   * A JSON infer request, or one under the binary tensor data extension: the header
   * Inference-Header-Content-Length gives the JSON's length, raw tensor bytes follow it, and a
   * response with binary outputs is sent the same way (application/octet-stream).
   */
  private async infer(name: string, session: Session, req: IncomingMessage, signal: AbortSignal, reserve: Reserve): Promise<Answer> {
    // the binary data (after the JSON header) read 4-byte aligned, so its float32s are viewed, not copied
    const declared = declaredHeaderLength(req.headers[BINARY_HEADER]); // checked against the body once it is read
    const alignAt = declared !== null && declared > 0 ? declared : 0; // NaN > 0 is false
    const body = await readBody(req, this.options.maxBodyBytes, reserve, this.readBudget, alignAt);
    const jsonLength = headerLength(req.headers[BINARY_HEADER], body.length);
    if ((jsonLength ?? body.length) > OWN_TURN_BYTES) await this.turns.next();
    const binary = jsonLength === null ? undefined : new Uint8Array(body.buffer, body.byteOffset + jsonLength, body.length - jsonLength);
    const request = parseInferRequest(parseJson(jsonLength === null ? body : body.subarray(0, jsonLength)), session, binary);
    const images = request.inputs[session.inputNames[0]] as Tensor;
    reserve(images.data.byteLength);
    signal.throwIfAborted();
    const logits = await this.batcher.submit({ name, session }, images, signal);
    const response = binaryInferResponse(name, request, { [session.outputNames[0]]: logits });
    if (response.binary.length === 0) return { body: response.json };
    const json = Buffer.from(JSON.stringify(response.json));
    return {
      body: Buffer.concat([json, ...response.binary]),
      headers: { [BINARY_HEADER]: String(json.length) },
      type: "application/octet-stream",
    };
  }

  /**
   * An image body (JPEG, PNG: the format is read from the bytes) decoded and preprocessed as
   * the model's metadata says, as `densenet classify` does, then batched like infer requests.
   */
  private async classify(
    name: string,
    session: Session,
    req: IncomingMessage,
    url: URL,
    signal: AbortSignal,
    reserve: Reserve,
  ): Promise<unknown> {
    const classes = modelSignature(session).outputs[0].shape[1];
    const top = topParameter(url, classes);
    const bytes = await readBody(req, this.options.maxBodyBytes, reserve, this.readBudget);
    if (bytes.length === 0) throw new HttpError(400, "classify needs an image (JPEG or PNG) as the request body");
    await this.turns.next();
    const images = await imageTensor(session, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), "request body");
    reserve(images.data.byteLength);
    signal.throwIfAborted();
    const logits = await this.batcher.submit({ name, session }, images, signal);
    const [row] = topClasses(logits, top, await labelsOf(session));
    return { model_name: name, model_version: MODEL_VERSION, top: row };
  }
}

type Reserve = (bytes: number) => void;

/** A JSON body longer than this (about 1 ms to parse) is parsed in an event-loop turn of its own. */
const OWN_TURN_BYTES = 256 * 1024;
/** About 2 ms of copying per event-loop turn, plus one socket read (64 KB) per upload. */
const READ_BYTES_PER_TURN = 4 * 2 ** 20;

let version: string | null = null;

/** The package's version, for the server metadata (read once, on first use). */
function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as { version: string }).version;
  return version;
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

interface Answer {
  readonly status?: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  readonly type?: string;
}

const BINARY_HEADER = "inference-header-content-length";

/** The binary extension header's integer (NaN where it is not one; null without the header), unchecked against the body. */
function declaredHeaderLength(value: string | string[] | undefined): number | null {
  if (value === undefined) return null;
  return typeof value === "string" && /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
}

/** The JSON length the binary extension's header gives (null without the header). */
function headerLength(value: string | string[] | undefined, bodyLength: number): number | null {
  const n = declaredHeaderLength(value);
  if (n === null) return null;
  if (!(n <= bodyLength))
    throw new HttpError(
      400,
      `${BINARY_HEADER} must be an integer from 0 to the body's ${bodyLength} bytes, got '${oneLine(String(value), 20)}'`,
    );
  return n;
}

/** `?top=K` of a classify request: 1 to the class count, default 5 (or every class, if fewer). */
function topParameter(url: URL, classes: number): number {
  if (classes < 1) classes = 1_000_000; // an ONNX graph whose class count no plan revealed
  const text = url.searchParams.get("top");
  if (text === null) return Math.min(5, classes);
  const k = /^[0-9]{1,6}$/.test(text) ? Number(text) : NaN;
  if (!(k >= 1 && k <= classes))
    throw new HttpError(400, `top must be an integer from 1 to ${classes} (the model's classes), got '${oneLine(text, 20)}'`);
  return k;
}

/** The request target as a URL; one it cannot be is a 400. */
function requestUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? "/", "http://localhost");
  } catch {
    throw new HttpError(400, `request target '${oneLine(String(target), 80)}' is not a valid path`);
  }
}

/** Never resolves; rejects with the signal's reason when it aborts. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
}

function errorResponse(e: unknown): { status: number; message: string; headers: Record<string, string> } {
  if (e instanceof HttpError) return { status: e.status, message: e.message, headers: { ...e.headers } };
  if (e instanceof DenseNetError) return { status: 400, message: oneLine(e.message), headers: {} };
  if (e instanceof QueueFullError) return { status: 503, message: e.message, headers: { "Retry-After": "1" } };
  if (e instanceof RunFailure) {
    console.error(`densenet serve: a run failed: ${e.message}`);
    return { status: 500, message: e.message, headers: {} };
  }
  console.error(`densenet serve: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return { status: 500, message: `internal error: ${oneLine(e instanceof Error ? e.message : String(e))}`, headers: {} };
}
