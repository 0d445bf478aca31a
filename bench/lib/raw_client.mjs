// A minimal HTTP/1.1 keep-alive client for the load benchmarks, one request at a time per
// connection (as a closed-loop client sends): a request's bytes are built once and written
// as they are, and a response is read as its status line, its Content-Length and that many
// body bytes (the server always sends a Content-Length). Like wrk, it exists so that the
// load generator, which shares this host's cores with the server under test, takes as
// little of them as it can: Node's http client spends ~90 µs of CPU per request here (13 %
// of a core at 1,400 requests/s), this one ~30 µs.
import { connect } from "node:net";

const HEADER_END = Buffer.from("\r\n\r\n");

/**
 * The bytes of one POST of `body` ({ data, headers }, as inferBody gives it) to `path`.
 * @param {string} path
 * @param {{ data: Buffer, headers: Record<string, string> }} body
 */
export function postBytes(path, body) {
  const headers = Object.entries(body.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.data.length}\r\n${headers}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body.data]);
}

/** One keep-alive connection to 127.0.0.1:port; it reconnects on the next send after the server closes it. */
export class RawConnection {
  /** @param {number} port */
  constructor(port) {
    this.port = port;
    this.socket = null;
    /** @type {Buffer[]} */
    this.chunks = [];
    /** @type {null | ((r: { status: number, ms: number, text: string }) => void)} */
    this.pending = null;
    this.t0 = 0;
  }

  /**
   * Sends request bytes (postBytes) and resolves with { status, ms, text } (text only when
   * the status is not 200; status 0 on a connection error or a malformed response). Never rejects.
   * @param {Buffer} bytes
   * @returns {Promise<{ status: number, ms: number, text: string }>}
   */
  send(bytes) {
    return new Promise((resolve) => {
      this.pending = resolve;
      this.t0 = performance.now();
      this.chunks = [];
      (this.socket ?? this.open()).write(bytes);
    });
  }

  close() {
    this.socket?.destroy();
    this.socket = null;
  }

  /** @private */
  open() {
    const socket = connect(this.port, "127.0.0.1");
    socket.setNoDelay(true);
    // events of a socket this connection has since let go of (closed, replaced) are ignored
    socket.on("data", (chunk) => {
      if (this.socket === socket) this.onData(chunk);
    });
    const fail = (/** @type {string} */ why) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.finish(0, why);
    };
    socket.on("error", (e) => fail(e.message));
    socket.on("close", () => fail("connection closed"));
    this.socket = socket;
    return socket;
  }

  /** @private */
  onData(chunk) {
    this.chunks.push(chunk);
    const data = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks);
    this.chunks = [data];
    const end = data.indexOf(HEADER_END);
    if (end < 0) return;
    const head = data.toString("latin1", 0, end);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    const status = Number(head.slice(9, 12));
    if (!head.startsWith("HTTP/1.1 ") || !length || !Number.isInteger(status)) {
      this.finish(0, `malformed response head: ${head.slice(0, 200)}`);
      this.close();
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (data.length < total) return;
    this.finish(status, status === 200 ? "" : data.toString("utf8", end + 4, total));
    this.chunks = [];
  }

  /** @private */
  finish(status, text) {
    const resolve = this.pending;
    this.pending = null;
    resolve?.({ status, ms: performance.now() - this.t0, text });
  }
}
