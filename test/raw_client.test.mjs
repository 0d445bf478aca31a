// The load benchmark's minimal HTTP/1.1 client (bench/lib/raw_client.mjs), against servers on
// an ephemeral loopback port that this test starts and stops: the request arrives as Node's
// http server parses it, responses are read whole whether they arrive in one chunk or byte by
// byte, back to back on one connection, a non-200 answer's body is kept, and a closed
// connection or a malformed response gives status 0 (and the next send reconnects).
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { RawConnection, postBytes } from "../bench/lib/raw_client.mjs";

const Raw = suite("raw load client");

/** Starts `server` on 127.0.0.1, an ephemeral port; resolves with the port. */
const listen = (server) => new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
const close = (server) => new Promise((resolve) => server.close(() => resolve()));

Raw("requests arrive as sent and answers come back whole, back to back on one connection", async () => {
  const seen = [];
  const server = createHttpServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method, url: req.url, type: req.headers["content-type"], body: body.toString() });
      const status = body.toString() === "bad" ? 400 : 200;
      const text = status === 200 ? `ok ${body.length} ${"y".repeat(100000)}` : '{"error": "bad request"}';
      res.writeHead(status, { "Content-Length": Buffer.byteLength(text) });
      res.end(text);
    });
  });
  const port = await listen(server);
  const connection = new RawConnection(port);
  try {
    const good = postBytes("/v2/models/m/infer", { data: Buffer.from("hello"), headers: { "Content-Type": "application/json" } });
    const bad = postBytes("/v2/models/m/infer", { data: Buffer.from("bad"), headers: {} });
    for (let i = 0; i < 5; i++) {
      const r = await connection.send(good);
      assert.is(r.status, 200);
      assert.is(r.text, "", "a 200's body is not decoded");
      assert.ok(r.ms >= 0);
    }
    const r = await connection.send(bad);
    assert.is(r.status, 400);
    assert.is(r.text, '{"error": "bad request"}');
    assert.is((await connection.send(good)).status, 200, "the connection is still good after a 400");
    assert.is(seen.length, 7);
    assert.equal(seen[0], { method: "POST", url: "/v2/models/m/infer", type: "application/json", body: "hello" });
  } finally {
    connection.close();
    await close(server);
  }
});

Raw("a response that arrives byte by byte is read whole", async () => {
  const body = '{"error": "slow"}';
  const response = Buffer.from(`HTTP/1.1 503 Service Unavailable\r\nContent-Length: ${body.length}\r\nRetry-After: 1\r\n\r\n${body}`);
  const server = createTcpServer((socket) => {
    socket.once("data", async () => {
      for (const byte of response) {
        socket.write(Buffer.of(byte));
        await new Promise((r) => setImmediate(r));
      }
    });
  });
  const port = await listen(server);
  const connection = new RawConnection(port);
  try {
    const r = await connection.send(postBytes("/x", { data: Buffer.from("1"), headers: {} }));
    assert.is(r.status, 503);
    assert.is(r.text, body);
  } finally {
    connection.close();
    await close(server);
  }
});

Raw("a closed connection and a malformed response give status 0; the next send reconnects", async () => {
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections++;
    socket.once("data", () => {
      if (connections === 1)
        socket.destroy(); // closes without an answer
      else if (connections === 2)
        socket.write("HTTP/1.1 200 OK\r\n\r\nno length"); // no Content-Length
      else socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
  });
  const port = await listen(server);
  const connection = new RawConnection(port);
  const request = postBytes("/x", { data: Buffer.from("1"), headers: {} });
  try {
    const closed = await connection.send(request);
    assert.is(closed.status, 0);
    assert.match(closed.text, /closed|reset/);
    const malformed = await connection.send(request);
    assert.is(malformed.status, 0);
    assert.match(malformed.text, /^malformed response head/);
    assert.is((await connection.send(request)).status, 200);
    assert.is(connections, 3);
  } finally {
    connection.close();
    await close(server);
  }
});

Raw.run();
