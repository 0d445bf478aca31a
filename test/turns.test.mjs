// EventLoopTurns (src/serve/turns.ts): heavy synchronous pieces of work queued at once run in
// separate event-loop turns, in order, so a timer (like I/O) gets its turn between them; with
// them all in one turn the timer would come last.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { EventLoopTurns } from "../dist/serve/turns.js";

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

Turns.run();
