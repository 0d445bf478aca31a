// EventLoopTurns (src/serve/turns.ts): heavy synchronous pieces of work queued at once run in
// separate event-loop turns, in order, so a timer (like I/O) gets its turn between them; with
// them all in one turn the timer would come last. ReadBudget: readers past a turn's budget
// resume in a later turn with a fresh one, and a body read under a tiny budget arrives whole.
import { createServer, request } from "node:http";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readBody } from "../dist/serve/http.js";
import { EventLoopTurns, ReadBudget } from "../dist/serve/turns.js";

const Turns = suite("EventLoopTurns");

const busy = (ms) => {
  const t = performance.now();
  while (performance.now() - t < ms);
};

Turns("work queued at once runs in order, with the event loop turning between pieces", async () => {
  const turns = new EventLoopTurns();
  const events = [];
  const pieces = ["a", "b", "c", "d"].map(async (name) => {
    await turns.next();
    events.push(name);
    busy(15);
  });
  setTimeout(() => events.push("timer"), 1);
  await Promise.all(pieces);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(
    events.filter((e) => e !== "timer"),
    ["a", "b", "c", "d"],
  );
  assert.ok(events.indexOf("timer") > 0 && events.indexOf("timer") < 3, `the timer ran at ${events.join(", ")}`);
});

Turns("a later caller waits for the earlier one's piece, even when that piece throws", async () => {
  const turns = new EventLoopTurns();
  const events = [];
  const first = (async () => {
    await turns.next();
    events.push("first");
    throw new Error("bad body");
  })();
  const second = (async () => {
    await turns.next();
    events.push("second");
  })();
  const error = await first.catch((e) => e);
  assert.is(error?.message, "bad body");
  await second;
  assert.equal(events, ["first", "second"]);
});

Turns("a read budget is spent within a turn and fresh in the next", async () => {
  const budget = new ReadBudget(100);
  assert.ok(budget.take(60));
  assert.ok(budget.take(40));
  assert.not.ok(budget.take(1));
  const events = [];
  budget.later(() => events.push(`resumed, fresh: ${budget.take(100)}`));
  events.push("same turn");
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(events, ["same turn", "resumed, fresh: true"]);
});

Turns("a body read under a budget far smaller than it arrives whole, over many turns", async () => {
  const budget = new ReadBudget(1024);
  let pauses = 0;
  const server = createServer(async (req, res) => {
    const pause = req.pause.bind(req);
    req.pause = () => {
      pauses++;
      return pause();
    };
    const body = await readBody(req, 1 << 24, () => {}, budget);
    res.end(String(body.reduce((a, b) => (a * 31 + b) % 1000003, 0)));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", () => r(undefined)));
  try {
    const body = Buffer.alloc(3 << 20, 0).map((_, i) => (i * 7) % 251);
    const expected = String(body.reduce((a, b) => (a * 31 + b) % 1000003, 0));
    const port = /** @type {import("node:net").AddressInfo} */ (server.address()).port;
    const answer = await new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, method: "POST", path: "/" }, (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end(body);
    });
    assert.is(answer, expected);
    assert.ok(pauses > 10, `the read paused ${pauses} times`);
  } finally {
    server.close();
  }
});

Turns.run();
