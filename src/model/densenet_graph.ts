import {
  type Affine,
  type BufferSpec,
  type Graph,
  type Op,
  type View,
  type WeightData,
  batchNormAffine,
  foldAffineIntoBias,
} from "../plan/graph.js";
import { type DenseNetConfig, blockChannels } from "./config.js";
import type { WeightReader } from "./weights.js";

/** torchvision's BatchNorm2d default. */
export const BN_EPS = 1e-5;

/**
 * Lowers a torchvision DenseNet to the graph IR:
 *  - norm0 and each layer's norm2 (BN after a conv) are folded into that conv, their ReLU
 *    becomes the conv's epilogue;
 *  - each layer's norm1-relu1, each transition's norm-relu and norm5-relu are per-channel
 *    affines applied by the op that reads them (GEMM packing, pooling);
 *  - every dense block is one buffer of its final width: the block input and each layer's
 *    k new channels are written at their own channel offsets, so concatenation is free.
 * Conv and classifier weights are left to be read when they are packed (WeightData
 * functions): their names, shapes and dtypes are checked here, their values then.
 */
export function buildDenseNetGraph(config: DenseNetConfig, reader: WeightReader): Graph {
  const buffers: BufferSpec[] = [];
  const ops: Op[] = [];
  const buffer = (name: string, channels: number): number => buffers.push({ name, channels }) - 1;
  const at = (b: number, channel = 0): View => ({ buffer: b, channel });
  const bn = (prefix: string, channels: number, relu: boolean): Affine =>
    batchNormAffine(
      reader.get(`${prefix}.weight`, [channels]),
      reader.get(`${prefix}.bias`, [channels]),
      reader.get(`${prefix}.running_mean`, [channels]),
      reader.get(`${prefix}.running_var`, [channels]),
      BN_EPS,
      relu,
    );
  const convWeight = (name: string, cout: number, cin: number, k: number) => reader.later(name, [cout, cin, k, k]);
  /** A conv whose output goes through `affine` (a BN folded in): its weights scaled where they are packed, its bias now. */
  const folded = (
    weight: WeightData,
    affine: Affine,
    cout: number,
  ): { weight: WeightData; weightScale: Float32Array; bias: Float32Array } => ({
    weight,
    weightScale: affine.scale,
    bias: foldAffineIntoBias(null, affine, cout),
  });

  const input = buffer("input", config.inChannels);
  const blocks = blockChannels(config);

  // Stem: conv0 with norm0 folded, relu0 as epilogue, then pool0 into block 1's first channels.
  const f0 = config.numInitFeatures;
  const stem = buffer("stem", f0);
  const conv0 = folded(convWeight("features.conv0.weight", f0, config.inChannels, 7), bn("features.norm0", f0, true), f0);
  ops.push({
    kind: "conv",
    name: "features.conv0",
    input: at(input),
    output: at(stem),
    inChannels: config.inChannels,
    outChannels: f0,
    kernel: [7, 7],
    stride: [2, 2],
    pads: [3, 3, 3, 3],
    dilation: [1, 1],
    weight: conv0.weight,
    weightScale: conv0.weightScale,
    bias: conv0.bias,
    pre: null,
    relu: true,
  });
  let blockBuffer = buffer("denseblock1", blocks[0].output);
  ops.push({
    kind: "pool",
    name: "features.pool0",
    mode: "max",
    input: at(stem),
    output: at(blockBuffer),
    channels: f0,
    kernel: [3, 3],
    stride: [2, 2],
    pads: [1, 1, 1, 1],
    dilation: [1, 1],
    ceilMode: false,
    countIncludePad: false,
    pre: null,
  });

  const k = config.growthRate,
    bottleneck = config.bnSize * k;
  blocks.forEach(({ input: blockInput, output: blockOutput }, b) => {
    for (let l = 0; l < config.blockConfig[b]; l++) {
      const layer = `features.denseblock${b + 1}.denselayer${l + 1}`;
      const cin = blockInput + l * k;
      const mid = buffer(`${layer}.bottleneck`, bottleneck);
      const conv1 = folded(convWeight(`${layer}.conv1.weight`, bottleneck, cin, 1), bn(`${layer}.norm2`, bottleneck, true), bottleneck);
      ops.push({
        kind: "conv",
        name: `${layer}.conv1`,
        input: at(blockBuffer),
        output: at(mid),
        inChannels: cin,
        outChannels: bottleneck,
        kernel: [1, 1],
        stride: [1, 1],
        pads: [0, 0, 0, 0],
        dilation: [1, 1],
        weight: conv1.weight,
        weightScale: conv1.weightScale,
        bias: conv1.bias,
        pre: bn(`${layer}.norm1`, cin, true),
        relu: true,
      });
      ops.push({
        kind: "conv",
        name: `${layer}.conv2`,
        input: at(mid),
        output: at(blockBuffer, cin),
        inChannels: bottleneck,
        outChannels: k,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        dilation: [1, 1],
        weight: convWeight(`${layer}.conv2.weight`, k, bottleneck, 3),
        bias: null,
        pre: null,
        relu: false,
      });
    }
    if (b === blocks.length - 1) return;
    // Transition: BN-ReLU, then the 2x2 average pool BEFORE the 1x1 conv. Both are linear
    // and the conv acts on each pixel alone, so they commute exactly (floor rounding of odd
    // sizes included); pooling first gives the conv 4x fewer pixels.
    const transition = `features.transition${b + 1}`;
    const pooled = buffer(`${transition}.pool`, blockOutput);
    ops.push({
      kind: "pool",
      name: `${transition}.pool`,
      mode: "avg",
      input: at(blockBuffer),
      output: at(pooled),
      channels: blockOutput,
      kernel: [2, 2],
      stride: [2, 2],
      pads: [0, 0, 0, 0],
      dilation: [1, 1],
      ceilMode: false,
      countIncludePad: false,
      pre: bn(`${transition}.norm`, blockOutput, true),
    });
    const next = buffer(`denseblock${b + 2}`, blocks[b + 1].output);
    const tc = config.transitionChannels[b];
    ops.push({
      kind: "conv",
      name: `${transition}.conv`,
      input: at(pooled),
      output: at(next),
      inChannels: blockOutput,
      outChannels: tc,
      kernel: [1, 1],
      stride: [1, 1],
      pads: [0, 0, 0, 0],
      dilation: [1, 1],
      weight: convWeight(`${transition}.conv.weight`, tc, blockOutput, 1),
      bias: null,
      pre: null,
      relu: false,
      nominalInput: at(blockBuffer),
    });
    blockBuffer = next;
  });

  const features = blocks[blocks.length - 1].output;
  const pooled = buffer("features.pooled", features);
  ops.push({
    kind: "globalPool",
    name: "features.norm5+avgpool",
    mode: "avg",
    input: at(blockBuffer),
    output: at(pooled),
    channels: features,
    pre: bn("features.norm5", features, true),
  });
  const logits = buffer("logits", config.numClasses);
  ops.push({
    kind: "linear",
    name: "classifier",
    input: at(pooled),
    output: at(logits),
    inFeatures: features,
    outFeatures: config.numClasses,
    weight: reader.later("classifier.weight", [config.numClasses, features], { direct: true }),
    bias: reader.get("classifier.bias", [config.numClasses]),
  });
  return { buffers, ops, input, output: logits };
}
