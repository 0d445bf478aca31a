// Winograd F(4x4, 3x3) (assembly/conv2d_winograd_f4x4_f32.ts): the kernel against a float64
// direct conv (test/reference.mjs) over odd shapes, with the error bound of winograd4Bound and
// the measured error stated; 1, 2, 3 and 7 simulated workers and both 4x8 micro-kernels
// bitwise equal; and through Session (winograd: "f4x4"): thread counts and batch composition
// bitwise equal, the PyTorch golden fixtures within 1e-4 of max|logit| with the same top-1.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Session } from "../dist/index.js";
import { parseNpy } from "../dist/io/npy.js";
import { useWinograd, winogradInputSize } from "../dist/plan/winograd.js";
import {
  assertBitwiseEqual,
  assertMatchesReference,
  assertWithin,
  fixture,
  fixturesDir,
  randomArray,
  rejectsWith,
  runGraph,
} from "./helpers.mjs";
import { convReference, winograd4Bound } from "./reference.mjs";

/** A graph of one 3x3 pad-1 conv from buffer 0 (the input) to buffer 1, DenseNet-like magnitudes (He-scaled weights). */
function convGraph({ cin, cout, pre = false, relu = false, bias = true, seed }) {
  const k = cin * 9;
  /** @type {import("../dist/plan/graph.js").ConvOp} */
  const op = {
    kind: "conv",
    name: "conv",
    input: { buffer: 0, channel: 0 },
    output: { buffer: 1, channel: 0 },
    inChannels: cin,
    outChannels: cout,
    kernel: [3, 3],
    stride: [1, 1],
    pads: [1, 1, 1, 1],
    dilation: [1, 1],
    weight: randomArray(cout * k, seed, Math.sqrt(2 / k)),
    bias: bias ? randomArray(cout, seed + 7, 0.3) : null,
    pre: pre
      ? { scale: randomArray(cin, seed + 11).map((v) => 0.5 + Math.abs(v)), shift: randomArray(cin, seed + 12, 0.5), relu: true }
      : null,
    relu,
  };
  /** @type {import("../dist/plan/graph.js").Graph} */
  const graph = {
    buffers: [
      { name: "x", channels: cin },
      { name: "y", channels: cout },
    ],
    ops: [op],
    input: 0,
    output: 1,
  };
  return { op, graph };
}

const Kernel = suite("conv2d_winograd_f4x4_f32 (with pad2d_nchw_f32)");

// Measured max|err| / max|ref| on these cases (4x8, one worker): 8.9e-8 (1x1 image) to 8.5e-6
// (258 -> 3 channels), 2.6e-6 and 3.1e-6 on DenseNet's 128 -> 32 at 7x7 and 14x14 (F(2x2)
// measures 3e-7 to 4e-7 on those shapes). RELATIVE_LIMIT leaves 3.5x room and still fails a
// weight transform off by 1e-4 in one entry of G (tried); the bound alone allows ~1000x the
// measured error (it is a worst case).
const RELATIVE_LIMIT = 3e-5;

const CASES = [
  { name: "7 -> 32 channels, 9x11 (odd sizes: clipped tiles)", h: 9, w: 11, op: { cin: 7, cout: 32 } },
  { name: "DenseNet shape 128 -> 32 at 7x7 (one tile panel)", h: 7, w: 7, op: { cin: 128, cout: 32, pre: true, relu: true } },
  { name: "DenseNet shape 128 -> 32 at 14x14, pre BN-ReLU, ReLU", h: 14, w: 14, op: { cin: 128, cout: 32, pre: true, relu: true } },
  { name: "5 -> 13 channels (neither a multiple of 4), 13x9, pre BN-ReLU", h: 13, w: 9, op: { cin: 5, cout: 13, pre: true } },
  { name: "a 1x1 image, no bias", h: 1, w: 1, op: { cin: 3, cout: 4, bias: false } },
  { name: "wide rows, 3x40 (several 4-tile groups per row)", h: 3, w: 40, op: { cin: 6, cout: 8 } },
  { name: "tall, 17x2", h: 17, w: 2, op: { cin: 4, cout: 6, pre: true } },
  {
    name: "rows of 4k + 2 tiles, 9x22: the 2 tiles left in each row share groups across rows, the last one partial",
    h: 9,
    w: 22,
    op: { cin: 9, cout: 12, relu: true },
  },
  { name: "258 -> 3 channels (long reduction, one short row block), 5x6, ReLU", h: 5, w: 6, op: { cin: 258, cout: 3, relu: true } },
];

CASES.forEach(({ name, h, w, op: params }, i) => {
  Kernel(name, async () => {
    const { op, graph: direct } = convGraph({ ...params, seed: 900 + 10 * i });
    const x = randomArray(params.cin * h * w, 950 + i);
    const ref = convReference(op, x, h, w);
    const bound = winograd4Bound(op, x, h, w);
    const maxRef = ref.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const graph = useWinograd(direct, "f4x4");
    assert.equal(
      graph.ops.map((o) => [o.kind, "tile" in o ? o.tile : null]),
      [
        ["winogradInput", "f4x4"],
        ["winogradConv", "f4x4"],
      ],
      "the conv became a pad and an F(4x4) Winograd conv",
    );
    const outputs = [];
    for (const microKernel of /** @type {const} */ (["4x8", "4x8-shuffle"])) {
      for (const nth of [1, 2, 3, 7]) {
        const buffers = await runGraph(graph, x, h, w, { nth, microKernel });
        assert.equal([buffers[1].height, buffers[1].width], [h, w], "output size");
        const padded = winogradInputSize({ height: h, width: w }, "f4x4");
        assert.equal([buffers[2].height, buffers[2].width], [padded.height, padded.width], "padded input size");
        const what = `${name} (${microKernel}, ${nth} workers)`;
        assertWithin(buffers[1].data, ref.data, (j) => bound[j], `${what}: error bound`);
        assertWithin(buffers[1].data, ref.data, () => RELATIVE_LIMIT * maxRef, `${what}: ${RELATIVE_LIMIT} * max|ref|`);
        outputs.push(buffers[1].data);
      }
    }
    outputs.slice(1).forEach((other, j) => assertBitwiseEqual(other, outputs[0], `${name}: run ${j + 1} vs run 0`));
  });
});

Kernel.run();

const Sessions = suite('Session { winograd: "f4x4" }');

Sessions("narrow_odd 45x37: bitwise identical at 1, 2 and 3 threads, and in a batch of 3 as alone", async () => {
  const [h, w] = [45, 37];
  const batch = { data: randomArray(3 * 3 * h * w, 77), dims: [3, 3, h, w] };
  const image = (i) => ({ data: batch.data.slice(i * 3 * h * w, (i + 1) * 3 * h * w), dims: [1, 3, h, w] });
  const outputs = [];
  for (const threads of [1, 2, 3]) {
    const session = await Session.create(fixture("narrow_odd.safetensors"), { threads, winograd: "f4x4" });
    try {
      const all = (await session.run(batch)).data;
      const classes = all.length / 3;
      for (let i = 0; i < 3; i++) {
        assertBitwiseEqual(
          (await session.run(image(i))).data,
          all.slice(i * classes, (i + 1) * classes),
          `${threads} threads: image ${i} alone vs in the batch`,
        );
      }
      outputs.push(all);
    } finally {
      await session.release();
    }
  }
  outputs.slice(1).forEach((out, i) => assertBitwiseEqual(out, outputs[0], `${i + 2} threads vs 1`));
});

/** Runs fn with DENSENET_WINOGRAD set to value (unset for undefined), then restores it. */
async function withWinogradEnv(value, fn) {
  const saved = process.env.DENSENET_WINOGRAD;
  if (value === undefined) delete process.env.DENSENET_WINOGRAD;
  else process.env.DENSENET_WINOGRAD = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.DENSENET_WINOGRAD;
    else process.env.DENSENET_WINOGRAD = saved;
  }
}

/** The Winograd tiles of the 3x3 convs in narrow_odd's plan for these options. */
async function planTiles(options) {
  const session = await Session.create(fixture("narrow_odd.safetensors"), { threads: 1, ...options });
  try {
    const convs = session.plan(45, 37).steps.filter((s) => s.description.startsWith("conv 3x3/1"));
    assert.ok(convs.length > 0, "narrow_odd has 3x3 stride-1 convs");
    return [...new Set(convs.map((s) => /Winograd (F\(\dx\d,3x3\))/.exec(s.description)?.[1] ?? "im2col"))];
  } finally {
    await session.release();
  }
}

Sessions('the option picks the tile; DENSENET_WINOGRAD is the default; "auto" without either', async () => {
  await withWinogradEnv(undefined, async () => {
    // narrow_odd's three blocks are 56, 28 and 14 pixels wide at the nominal 224x224 (whatever size is planned).
    assert.equal(await planTiles({}), ["F(4x4,3x3)", "F(2x2,3x3)"], "default");
    assert.equal(await planTiles({ winograd: true }), ["F(2x2,3x3)"], "true");
    assert.equal(await planTiles({ winograd: "f2x2" }), ["F(2x2,3x3)"], "f2x2");
    assert.equal(await planTiles({ winograd: "f4x4" }), ["F(4x4,3x3)"], "f4x4");
    assert.equal(await planTiles({ winograd: false }), ["im2col"], "false");
  });
  await withWinogradEnv("f4x4", async () => {
    assert.equal(await planTiles({}), ["F(4x4,3x3)"], "DENSENET_WINOGRAD=f4x4");
    assert.equal(await planTiles({ winograd: "f2x2" }), ["F(2x2,3x3)"], "the option over DENSENET_WINOGRAD");
  });
  await withWinogradEnv("off", async () => assert.equal(await planTiles({}), ["im2col"], "DENSENET_WINOGRAD=off"));
  await withWinogradEnv("f2x2", async () => assert.equal(await planTiles({}), ["F(2x2,3x3)"], "DENSENET_WINOGRAD=f2x2"));
  await withWinogradEnv("auto", async () => assert.equal(await planTiles({}), ["F(4x4,3x3)", "F(2x2,3x3)"], "DENSENET_WINOGRAD=auto"));
});

Sessions('"auto": F(4x4) for the convs at 28x28 and larger at the nominal 224x224, F(2x2) below, whatever size is run', async () => {
  const session = await Session.create(fixture("tiny121.safetensors"), { threads: 1, winograd: "auto" });
  try {
    for (const side of [224, 96]) {
      const convs = session.plan(side, side).steps.filter((s) => s.description.startsWith("conv 3x3/1"));
      const byBlock = new Map();
      for (const s of convs) {
        const block = /denseblock(\d)/.exec(s.name)[1];
        byBlock.set(block, [...new Set([...(byBlock.get(block) ?? []), /Winograd (F\(\dx\d,3x3\))/.exec(s.description)?.[1]])]);
      }
      // Blocks 1-4 of a 224x224 input are 56, 28, 14 and 7 pixels wide.
      assert.equal(
        Object.fromEntries(byBlock),
        { 1: ["F(4x4,3x3)"], 2: ["F(4x4,3x3)"], 3: ["F(2x2,3x3)"], 4: ["F(2x2,3x3)"] },
        `planned at ${side}x${side}`,
      );
    }
    const x = parseNpy(readFileSync(new URL("tiny121.input.npy", fixturesDir)));
    assertMatchesReference(await session.run(x), parseNpy(readFileSync(new URL("tiny121.output.npy", fixturesDir))));
  } finally {
    await session.release();
  }
});

Sessions("a winograd option or DENSENET_WINOGRAD that names no tile is refused in one line", async () => {
  await rejectsWith(
    Session.create(fixture("narrow_odd.safetensors"), { winograd: /** @type {any} */ ("f6x6") }),
    /^winograd must be true, false, "f2x2", "f4x4" or "auto", got f6x6$/,
  );
  await withWinogradEnv("F4", () =>
    rejectsWith(Session.create(fixture("narrow_odd.safetensors")), /^DENSENET_WINOGRAD must be f2x2, f4x4, auto or off, got F4$/),
  );
});

Sessions.run();

const Golden = suite('golden with winograd: "f4x4": torchvision DenseNets vs PyTorch');
const manifest = JSON.parse(readFileSync(new URL("manifest.json", fixturesDir), "utf8"));
assert.ok(manifest.length >= 4, "fixture manifest lists the committed fixtures");
for (const f of manifest) {
  Golden(`${f.name}: [${f.input_shape.join(", ")}] matches PyTorch within 1e-4 * max|logit|, same top-1`, async () => {
    const session = await Session.create(fixture(`${f.name}.safetensors`), { threads: 1, winograd: "f4x4" });
    try {
      const y = await session.run(parseNpy(readFileSync(new URL(`${f.name}.input.npy`, fixturesDir))));
      assertMatchesReference(y, parseNpy(readFileSync(new URL(`${f.name}.output.npy`, fixturesDir))));
    } finally {
      await session.release();
    }
  });
}
Golden.run();
