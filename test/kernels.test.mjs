// Every kernel against a naive float64 reference (test/reference.mjs) over a shape sweep:
// one tile, several tiles, tails only, tiles plus tails, odd sizes, and reduction lengths K
// of 1, 7, one K block exactly (GEMM_KC = 1152), one more (1153), and over two, three and
// four K blocks (accumulating across blocks);
// run with every micro-kernel and with 1, 3 and 7 simulated workers (whose shares of the
// (panel, channel block) tiles start and end mid-panel); worker counts must agree bit for
// bit, and so must the two 4x8 variants.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { assertBitwiseEqual, assertWithin, randomArray, runGraph, singleOpGraph, U32 } from "./helpers.mjs";
import { GEMM_KC } from "../dist/plan/plan.js";
import { useWinograd } from "../dist/plan/winograd.js";
import { convReference, globalPoolReference, linearReference, poolReference, winogradBound } from "./reference.mjs";

function affine(channels, seed, relu = true) {
  return {
    scale: randomArray(channels, seed).map((v) => 0.5 + Math.abs(v)),
    shift: randomArray(channels, seed + 1, 0.5),
    relu,
  };
}

function conv({
  cin,
  cout,
  kernel,
  stride = [1, 1],
  pads = [0, 0, 0, 0],
  dilation = [1, 1],
  bias = true,
  pre = false,
  relu = false,
  seed,
}) {
  const k = cin * kernel[0] * kernel[1];
  return {
    kind: "conv",
    name: "conv",
    inChannels: cin,
    outChannels: cout,
    kernel,
    stride,
    pads,
    dilation,
    weight: randomArray(cout * k, seed, Math.sqrt(2 / k)),
    bias: bias ? randomArray(cout, seed + 7, 0.3) : null,
    pre: pre ? affine(cin, seed + 11) : null,
    relu,
  };
}

const Conv = suite("conv2d_gemm_f32");

const CONV_CASES = [
  { name: "1x1, one 4x8 tile, pre BN-ReLU", h: 2, w: 4, op: { cin: 5, cout: 4, kernel: [1, 1], pre: true } },
  { name: "1x1, K = 1 (one input channel)", h: 3, w: 5, op: { cin: 1, cout: 6, kernel: [1, 1] } },
  { name: "1x1, tiles + tails in M and N, ReLU", h: 3, w: 7, op: { cin: 300, cout: 13, kernel: [1, 1], relu: true, pre: true } },
  { name: "1x1, tails only, K = 7", h: 1, w: 5, op: { cin: 7, cout: 3, kernel: [1, 1] } },
  {
    name: "1x1, more pixel panels than one group holds (13, the last partial), pre BN-ReLU, ReLU",
    h: 9,
    w: 11,
    op: { cin: 40, cout: 10, kernel: [1, 1], pre: true, relu: true },
  },
  {
    name: "1x1, DenseNet bottleneck shape (odd channels)",
    h: 7,
    w: 7,
    op: { cin: 1023, cout: 128, kernel: [1, 1], pre: true, relu: true },
  },
  {
    name: "1x1, K = 1153: one block and one channel, pre BN-ReLU, ReLU",
    h: 3,
    w: 5,
    op: { cin: 1153, cout: 9, kernel: [1, 1], pre: true, relu: true },
  },
  { name: "1x1, K = 2500, tails in M and N", h: 2, w: 5, op: { cin: 2500, cout: 7, kernel: [1, 1], pre: true } },
  { name: "1x1, K = 3 x 1152 + 5, ReLU", h: 3, w: 3, op: { cin: 3 * 1152 + 5, cout: 5, kernel: [1, 1], relu: true } },
  {
    name: "3x3 pad 1, rows of 11 (vector and gathered panels)",
    h: 9,
    w: 11,
    op: { cin: 7, cout: 32, kernel: [3, 3], pads: [1, 1, 1, 1], bias: false },
  },
  {
    name: "3x3 pad 1, 7x7 image, K = 1152 (exactly one block)",
    h: 7,
    w: 7,
    op: { cin: 128, cout: 32, kernel: [3, 3], pads: [1, 1, 1, 1], bias: false },
  },
  {
    name: "3x3 pad 1, K = 9 x 129 (a block boundary at a channel's first tap), pre BN-ReLU",
    h: 5,
    w: 9,
    op: { cin: 129, cout: 6, kernel: [3, 3], pads: [1, 1, 1, 1], pre: true },
  },
  {
    name: "5x5 pad 2, K = 25 x 47 (a block boundary inside a row of a channel's taps: channel 46, tap 2), pre BN-ReLU",
    h: 5,
    w: 11,
    op: { cin: 47, cout: 6, kernel: [5, 5], pads: [2, 2, 2, 2], pre: true },
  },
  { name: "3x3 pad 1, 16 wide (aligned panels)", h: 5, w: 16, op: { cin: 9, cout: 6, kernel: [3, 3], pads: [1, 1, 1, 1] } },
  {
    name: "7x7 stride 2 pad 3 stem, odd input, ReLU",
    h: 23,
    w: 19,
    op: { cin: 3, cout: 10, kernel: [7, 7], stride: [2, 2], pads: [3, 3, 3, 3], relu: true },
  },
  {
    name: "7x7 stride 2 pad 3, K = 49 x 52 (over three blocks, the first boundary inside a row of taps), 11 wide output, ReLU",
    h: 9,
    w: 21,
    op: { cin: 52, cout: 5, kernel: [7, 7], stride: [2, 2], pads: [3, 3, 3, 3], relu: true },
  },
  {
    name: "3x3 stride 2 pad 1, 45 wide (stride-2 vector panels), pre-activation",
    h: 6,
    w: 45,
    op: { cin: 3, cout: 5, kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], pre: true },
  },
  {
    name: "3x2 kernel, stride (2,1), asymmetric pads, dilation (2,1), pre-activation on in-bounds taps",
    h: 10,
    w: 12,
    op: { cin: 4, cout: 5, kernel: [3, 2], stride: [2, 1], pads: [1, 0, 2, 1], dilation: [2, 1], pre: true },
  },
];

/** The test name with the reduction length it runs and how many K blocks that is. */
function withKBlocks(name, op) {
  const k = op.cin * op.kernel[0] * op.kernel[1];
  const blocks = Math.ceil(k / GEMM_KC);
  return `${name} [K = ${k}: ${blocks} K block${blocks > 1 ? "s" : ""}]`;
}

const sweptK = CONV_CASES.map(({ op }) => op.cin * op.kernel[0] * op.kernel[1]);
for (const k of [1, 7, GEMM_KC, GEMM_KC + 1, 2500, 3 * GEMM_KC + 5]) assert.ok(sweptK.includes(k), `the conv sweep covers K = ${k}`);

CONV_CASES.forEach(({ name: base, h, w, op: params }, i) => {
  const name = withKBlocks(base, params);
  Conv(name, async () => {
    const op = conv({ ...params, seed: 100 * i + 1 });
    const x = randomArray(params.cin * h * w, 100 * i + 50);
    const ref = convReference(op, x, h, w);
    const graph = singleOpGraph(op, params.cin, params.cout);
    const firstByKernel = {};
    for (const microKernel of /** @type {const} */ (["4x8", "4x8-shuffle", "6x8"])) {
      const outputs = [];
      for (const nth of [1, 3, 7]) {
        const [, y] = await runGraph(graph, x, h, w, { nth, microKernel });
        assert.equal([y.height, y.width], [ref.oh, ref.ow], "output size");
        assertWithin(y.data, ref.data, (j) => ref.bound[j], `${name} (${microKernel}, ${nth} workers)`);
        outputs.push(y.data);
      }
      outputs.slice(1).forEach((other) => assertBitwiseEqual(other, outputs[0], `${name} (${microKernel}): 1 vs 3 or 7 workers`));
      firstByKernel[microKernel] = outputs[0];
    }
    assertBitwiseEqual(firstByKernel["4x8-shuffle"], firstByKernel["4x8"], `${name}: 4x8-shuffle vs 4x8`);
  });
});

Conv.run();

const Winograd = suite("conv2d_winograd_f32 (with pad2d_nchw_f32)");

const WINOGRAD_CASES = [
  { name: "7 -> 32 channels, 9x11 (odd sizes: clipped tiles)", h: 9, w: 11, op: { cin: 7, cout: 32 } },
  { name: "DenseNet shape 128 -> 32 at 7x7", h: 7, w: 7, op: { cin: 128, cout: 32 } },
  {
    name: "5 -> 13 channels (row-block tail), bias, pre BN-ReLU, ReLU, 14x14",
    h: 14,
    w: 14,
    op: { cin: 5, cout: 13, pre: true, relu: true },
  },
  { name: "a 1x1 image", h: 1, w: 1, op: { cin: 3, cout: 4 } },
  { name: "wide rows, 3x40 (several 4-tile groups per row)", h: 3, w: 40, op: { cin: 6, cout: 8 } },
  { name: "tall, 17x2", h: 17, w: 2, op: { cin: 4, cout: 6, pre: true } },
  {
    name: "rows of 4k + 1 tiles, 11x25: the tile left in each row (1 column wide) shares groups across rows, the last one partial",
    h: 11,
    w: 25,
    op: { cin: 9, cout: 12, relu: true },
  },
];

WINOGRAD_CASES.forEach(({ name, h, w, op: params }, i) => {
  Winograd(name, async () => {
    const op = conv({ kernel: [3, 3], pads: [1, 1, 1, 1], bias: params.pre ?? false, ...params, seed: 700 + 10 * i });
    const x = randomArray(params.cin * h * w, 800 + i);
    const ref = convReference(op, x, h, w);
    const bound = winogradBound(op, x, h, w);
    const graph = useWinograd(singleOpGraph(op, params.cin, params.cout));
    assert.is(graph.ops.length, 2, "the conv became a pad and a Winograd conv");
    const outputs = [];
    for (const microKernel of /** @type {const} */ (["4x8", "4x8-shuffle"])) {
      for (const nth of [1, 3, 7]) {
        const buffers = await runGraph(graph, x, h, w, { nth, microKernel });
        assert.equal([buffers[1].height, buffers[1].width], [h, w], "output size");
        assertWithin(buffers[1].data, ref.data, (j) => bound[j], `${name} (${microKernel}, ${nth} workers)`);
        outputs.push(buffers[1].data);
      }
    }
    outputs.slice(1).forEach((other, j) => assertBitwiseEqual(other, outputs[0], `${name}: run ${j + 1} vs run 0`));
  });
});

Winograd.run();

const Fused = suite("conv2d_gemm_f32 writing a Winograd input padded (ConvOp.paddedOutput)");

// DenseNet's conv1 -> conv2: the 1x1 conv writes the 3x3 Winograd conv's zero-padded input
// itself, and no pad step runs. Against the two convs run apart (the 1x1 alone, then the 3x3
// with its pad step): the padded buffer's pixels bitwise the 1x1's, its margins exactly 0 (the
// arena starts as NaN), the output bitwise the same. Widths a multiple of 8 (every pixel panel
// within a row) and not (panels across rows, through the tile), an image narrower than a panel,
// both tile sizes, the 6-row micro-kernel (row-block tails), 1 and 3 workers, and K over one
// block (accumulating through the tile).
const FUSED_CASES = [
  { name: "8x16, rows of whole panels", h: 8, w: 16, cin: 12, mid: 8, cout: 5 },
  { name: "9x11, panels across rows", h: 9, w: 11, cin: 7, mid: 13, cout: 6 },
  { name: "7x7 (DenseNet's last block)", h: 7, w: 7, cin: 20, mid: 16, cout: 4 },
  { name: "3x2, narrower than a panel", h: 3, w: 2, cin: 5, mid: 4, cout: 3 },
  { name: "3x5, K over one block", h: 3, w: 5, cin: GEMM_KC + 9, mid: 4, cout: 2 },
];

function twoConvGraph(first, second) {
  return {
    buffers: [
      { name: "x", channels: first.inChannels },
      { name: "mid", channels: first.outChannels },
      { name: "y", channels: second.outChannels },
    ],
    ops: [
      { ...first, name: "conv1", input: { buffer: 0, channel: 0 }, output: { buffer: 1, channel: 0 } },
      { ...second, name: "conv2", input: { buffer: 1, channel: 0 }, output: { buffer: 2, channel: 0 } },
    ],
    input: 0,
    output: 2,
  };
}

FUSED_CASES.forEach(({ name, h, w, cin, mid, cout }, i) => {
  Fused(name, async () => {
    const first = conv({ cin, cout: mid, kernel: [1, 1], pre: true, relu: true, seed: 900 + 10 * i });
    const second = conv({ cin: mid, cout, kernel: [3, 3], pads: [1, 1, 1, 1], relu: true, seed: 905 + 10 * i });
    const x = randomArray(cin * h * w, 950 + i);
    for (const tile of /** @type {const} */ (["f2x2", "f4x4"])) {
      const graph = useWinograd(twoConvGraph(first, second), tile);
      assert.equal(
        graph.ops.map((op) => op.kind),
        ["conv", "winogradConv"],
        "no pad step",
      );
      const producer = graph.ops[0];
      assert.is(producer.kind === "conv" ? producer.paddedOutput : undefined, tile);
      for (const microKernel of /** @type {const} */ (["4x8", "6x8"])) {
        const [, alone] = await runGraph(singleOpGraph(first, cin, mid), x, h, w, { microKernel });
        const [, ref] = await runGraph(useWinograd(singleOpGraph(second, mid, cout), tile), alone.data, h, w, { microKernel });
        for (const nth of [1, 3]) {
          const [, padded, y] = await runGraph(graph, x, h, w, { nth, microKernel });
          const what = `${name}, ${tile}, ${microKernel}, ${nth} workers`;
          const { height: ph, width: pw } = padded;
          for (let c = 0; c < mid; c++)
            for (let r = 0; r < ph; r++)
              for (let q = 0; q < pw; q++) {
                const inside = r >= 1 && r <= h && q >= 1 && q <= w;
                const got = padded.data[(c * ph + r) * pw + q];
                const want = inside ? alone.data[(c * h + r - 1) * w + q - 1] : 0;
                if (!Object.is(got, want)) assert.unreachable(`${what}: padded channel ${c} (${r}, ${q}) is ${got}, not ${want}`);
              }
          assert.equal([y.height, y.width], [h, w], "output size");
          assertBitwiseEqual(y.data, ref.data, what);
        }
      }
    }
  });
});

Fused("not fused: the 1x1 output read by another op too, or a pre-activation on the 3x3", () => {
  const first = conv({ cin: 4, cout: 4, kernel: [1, 1], seed: 990 });
  const second = conv({ cin: 4, cout: 2, kernel: [3, 3], pads: [1, 1, 1, 1], seed: 991 });
  const shared = twoConvGraph(first, second);
  shared.ops.push({
    kind: "pool",
    name: "also",
    mode: "max",
    input: { buffer: 1, channel: 0 },
    output: { buffer: 3, channel: 0 },
    channels: 4,
    kernel: [1, 1],
    stride: [1, 1],
    pads: [0, 0, 0, 0],
    dilation: [1, 1],
    ceilMode: false,
    countIncludePad: false,
    pre: null,
  });
  shared.buffers.push({ name: "z", channels: 4 });
  assert.equal(
    useWinograd(shared).ops.map((op) => op.kind),
    ["conv", "winogradInput", "winogradConv", "pool"],
  );
  const pre = twoConvGraph(first, { ...second, pre: affine(4, 992) });
  assert.equal(
    useWinograd(pre).ops.map((op) => op.kind),
    ["conv", "winogradInput", "winogradConv"],
  );
});

Fused.run();

const Pool = suite("pool2d_nchw_f32");

const POOL_CASES = [
  {
    name: "max 3x3/2 pad 1 (DenseNet stem), odd sizes",
    h: 13,
    w: 10,
    op: { mode: "max", kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    name: "max 3x3/2 pad 1, wide rows (SIMD interior + scalar edges)",
    h: 11,
    w: 40,
    op: { mode: "max", kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    name: "max 3x3/2 pad 1, even height (the last output row has a row below), wide rows",
    h: 12,
    w: 41,
    op: { mode: "max", kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    name: "max 3x3/2 pad 1 with a pre-activation, odd width",
    h: 9,
    w: 37,
    op: { mode: "max", kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], pre: true },
  },
  {
    name: "avg 2x2/2 with BN-ReLU, 21 wide (SIMD + tail)",
    h: 12,
    w: 21,
    op: { mode: "avg", kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0], pre: true },
  },
  {
    name: "avg 2x2/2 with BN-ReLU (transition), odd sizes floor",
    h: 7,
    w: 9,
    op: { mode: "avg", kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0], pre: true },
  },
  {
    name: "avg 3x3/2, count_include_pad, asymmetric pads",
    h: 8,
    w: 6,
    op: { mode: "avg", kernel: [3, 3], stride: [2, 2], pads: [1, 0, 1, 2], countIncludePad: true },
  },
  {
    name: "avg 3x3/2 ceil mode, pads excluded",
    h: 8,
    w: 8,
    op: { mode: "avg", kernel: [3, 3], stride: [2, 2], pads: [0, 0, 0, 0], ceilMode: true },
  },
  {
    name: "max 2x2 dilation 2, ceil mode",
    h: 9,
    w: 7,
    op: { mode: "max", kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0], dilation: [2, 2], ceilMode: true },
  },
];

POOL_CASES.forEach(({ name, h, w, op: p }, i) => {
  Pool(name, async () => {
    const channels = 5;
    const op = {
      kind: "pool",
      name: "pool",
      channels,
      dilation: [1, 1],
      ceilMode: false,
      countIncludePad: false,
      ...p,
      pre: p.pre ? affine(channels, 900 + i) : null,
    };
    const x = randomArray(channels * h * w, 300 + i);
    const ref = poolReference(op, x, h, w);
    const graph = singleOpGraph(op, channels, channels);
    const [, one] = await runGraph(graph, x, h, w);
    assert.equal([one.height, one.width], [ref.oh, ref.ow], "output size");
    assertWithin(one.data, ref.data, (j) => ref.bound[j], name);
    const [, three] = await runGraph(graph, x, h, w, { nth: 3 });
    assertBitwiseEqual(three.data, one.data, `${name}: 1 vs 3 workers`);
  });
});

Pool.run();

const Global = suite("global_pool_f32 and linear_f32");

for (const mode of ["avg", "max"]) {
  Global(`global ${mode} pool with BN-ReLU over 7x7`, async () => {
    const channels = 37,
      h = 7,
      w = 7;
    const op = { kind: "globalPool", name: "gp", mode, channels, pre: affine(channels, 5) };
    const x = randomArray(channels * h * w, 6);
    const ref = globalPoolReference(op, x, h * w);
    const [, y] = await runGraph(singleOpGraph(op, channels, channels), x, h, w, { nth: 2 });
    assertWithin(y.data, ref.data, (j) => ref.bound[j], `global ${mode}`);
  });
}

for (const [k, m] of [
  [37, 11],
  [1024, 1000],
  [16, 1],
]) {
  Global(`linear ${k} -> ${m}`, async () => {
    const op = { kind: "linear", name: "fc", inFeatures: k, outFeatures: m, weight: randomArray(m * k, k), bias: randomArray(m, m) };
    const x = randomArray(k, 3);
    const ref = linearReference(op, x);
    const graph = singleOpGraph(op, k, m);
    const [, y] = await runGraph(graph, x, 1, 1);
    assertWithin(y.data, ref.data, (j) => ref.bound[j], `linear ${k}->${m}`);
    const [, y3] = await runGraph(graph, x, 1, 1, { nth: 3 });
    assertBitwiseEqual(y3.data, y.data, "linear: 1 vs 3 workers");
  });
}

for (const [channels, scale] of [
  [1000, 10],
  [3, 1],
  [7, 200],
]) {
  Global(`softmax over ${channels} channels (logits x${scale})`, async () => {
    const op = { kind: "softmax", name: "softmax", channels };
    const x = randomArray(channels, channels + scale, scale);
    const max = Math.max(...x),
      sum = x.reduce((s, v) => s + Math.exp(v - max), 0);
    const ref = Float64Array.from(x, (v) => Math.exp(v - max) / sum);
    const [, y] = await runGraph(singleOpGraph(op, channels, channels), x, 1, 1);
    // Computed in f64 and rounded once to f32: within 2u of each probability.
    assertWithin(y.data, ref, (j) => 2 * U32 * ref[j] + 1e-30, `softmax ${channels}`);
    const [, y3] = await runGraph(singleOpGraph(op, channels, channels), x, 1, 1, { nth: 3 });
    assertBitwiseEqual(y3.data, y.data, "softmax: 1 vs 3 workers");
  });
}

Global.run();
