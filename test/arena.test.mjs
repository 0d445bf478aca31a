// The activation arena's placement (plan/arena.ts assignOffsets): no two buffers, or parts of
// buffers, live at the same step ever share a byte, over random lifetimes, sizes and late
// tails (a buffer whose bytes after tail.start are live only from tail.first, as a dense
// block's channels are); and a buffer that dies before another's tail is live can use its bytes.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom } from "../dist/model/random_weights.js";
import { assignOffsets } from "../dist/plan/arena.js";

const Arena = suite("arena placement");

/** The byte ranges [start, end) of buffer i live at `step`. */
function liveRanges(b, offset, step) {
  if (step < b.first || step > b.last) return [];
  if (!b.tail) return [[offset, offset + b.bytes]];
  return step >= b.tail.first ? [[offset, offset + b.bytes]] : [[offset, offset + b.tail.start]];
}

Arena("a buffer that dies before a block's late channels are written uses their bytes", () => {
  const stem = { bytes: 300, first: 0, last: 1 };
  const block = { bytes: 400, first: 1, last: 9, tail: { start: 100, first: 3 } };
  const padded = { bytes: 150, first: 2, last: 3 };
  const { offsets, bytes } = assignOffsets([stem, block, padded], 1);
  assert.is(bytes, 550, "stem inside the block's tail, the padded input after the block");
  assert.is(offsets[1], 0);
  assert.is(offsets[0], 100);
  assert.is(offsets[2], 400);
  // without the tail the stem needs bytes of its own
  assert.is(assignOffsets([stem, { ...block, tail: undefined }, padded], 1).bytes, 700);
});

Arena("no two live parts share a byte, at any step (random lifetimes, sizes, tails, alignments)", () => {
  const rng = new SeededRandom(21);
  const int = (n) => Math.floor(rng.uniform() * n);
  for (let trial = 0; trial < 300; trial++) {
    const steps = 2 + int(30);
    const buffers = Array.from({ length: 1 + int(25) }, () => {
      const first = int(steps),
        last = first + int(steps - first);
      const bytes = 4 * (1 + int(200));
      const tail = rng.uniform() < 0.4 && last > first ? { start: 4 * int(bytes / 4), first: first + 1 + int(last - first) } : undefined;
      return { bytes, first, last, ...(tail && { tail }) };
    });
    const align = [1, 4, 64][int(3)];
    const { offsets, bytes } = assignOffsets(buffers, align);
    for (const [i, b] of buffers.entries()) {
      assert.is(offsets[i] % align, 0, "aligned");
      assert.ok(offsets[i] + b.bytes <= bytes, "within the arena");
    }
    for (let step = 0; step < steps; step++) {
      const live = buffers.flatMap((b, i) => liveRanges(b, offsets[i], step).map((r) => [...r, i]));
      for (let x = 0; x < live.length; x++)
        for (let y = x + 1; y < live.length; y++) {
          const [s1, e1, i1] = live[x],
            [s2, e2, i2] = live[y];
          if (s1 < e2 && s2 < e1) assert.unreachable(`trial ${trial}, step ${step}: buffers ${i1} and ${i2} overlap`);
        }
    }
  }
});

Arena.run();
