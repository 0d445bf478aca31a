import { DenseNetError } from "../errors.js";

/**
 * A DenseNet in torchvision's sense (`torchvision.models.DenseNet`): a 7x7/2 stem conv with
 * BN-ReLU and a 3x3/2 max pool, dense blocks of BN-ReLU-Conv1x1-BN-ReLU-Conv3x3 layers,
 * BN-ReLU-Conv1x1-AvgPool2x2 transitions, a final BN-ReLU, global average pool and a
 * linear classifier.
 */
export interface DenseNetConfig {
  /** Channels of the input image (3 for RGB). */
  readonly inChannels: number;
  /** Channels of the stem conv (torchvision's num_init_features). */
  readonly numInitFeatures: number;
  /** Channels each dense layer adds (k). */
  readonly growthRate: number;
  /** Bottleneck width as a multiple of k (torchvision's bn_size). */
  readonly bnSize: number;
  /** Dense layers per block. */
  readonly blockConfig: readonly number[];
  /** Output channels of each transition (torchvision halves: floor(C / 2)). */
  readonly transitionChannels: readonly number[];
  readonly numClasses: number;
}

export const ARCHITECTURES = {
  densenet121: { growthRate: 32, blockConfig: [6, 12, 24, 16], numInitFeatures: 64 },
  densenet169: { growthRate: 32, blockConfig: [6, 12, 32, 32], numInitFeatures: 64 },
  densenet201: { growthRate: 32, blockConfig: [6, 12, 48, 32], numInitFeatures: 64 },
  densenet161: { growthRate: 48, blockConfig: [6, 12, 36, 24], numInitFeatures: 96 },
} as const;

export type ArchitectureName = keyof typeof ARCHITECTURES;

export function isArchitectureName(name: string): name is ArchitectureName {
  return Object.hasOwn(ARCHITECTURES, name);
}

/** torchvision's DenseNet(growth_rate, block_config, num_init_features, bn_size, ...) */
export function densenetConfig(options: {
  growthRate: number;
  blockConfig: readonly number[];
  numInitFeatures: number;
  bnSize?: number;
  numClasses?: number;
  inChannels?: number;
}): DenseNetConfig {
  const { growthRate, blockConfig, numInitFeatures, bnSize = 4, numClasses = 1000, inChannels = 3 } = options;
  const transitionChannels: number[] = [];
  let channels = numInitFeatures;
  blockConfig.forEach((layers, b) => {
    channels += layers * growthRate;
    if (b < blockConfig.length - 1) {
      channels = Math.floor(channels / 2);
      transitionChannels.push(channels);
    }
  });
  return { inChannels, numInitFeatures, growthRate, bnSize, blockConfig: [...blockConfig], transitionChannels, numClasses };
}

export function architectureConfig(name: ArchitectureName): DenseNetConfig {
  return densenetConfig(ARCHITECTURES[name]);
}

/** Channels entering each dense block and the final channel count of each block. */
export function blockChannels(config: DenseNetConfig): { input: number; output: number }[] {
  let input = config.numInitFeatures;
  return config.blockConfig.map((layers, b) => {
    const output = input + layers * config.growthRate;
    const entry = { input, output };
    input = config.transitionChannels[b];
    return entry;
  });
}

/** The channel count the classifier sees. */
export function featureChannels(config: DenseNetConfig): number {
  const blocks = blockChannels(config);
  return blocks[blocks.length - 1].output;
}

export function describeConfig(config: DenseNetConfig): string {
  return (
    `DenseNet(growth_rate=${config.growthRate}, block_config=(${config.blockConfig.join(", ")}), ` +
    `num_init_features=${config.numInitFeatures}, bn_size=${config.bnSize}, num_classes=${config.numClasses}` +
    (config.inChannels !== 3 ? `, in_channels=${config.inChannels}` : "") +
    ")"
  );
}

export function unknownArchitecture(name: string): DenseNetError {
  return new DenseNetError(
    `unknown model '${name}': expected a .safetensors, .pth or .onnx file, or one of ${Object.keys(ARCHITECTURES).join(", ")}`,
  );
}

/**
 * Multiply-accumulates of one height x width image through the network as torchvision
 * computes it (transition conv before its pool). The planned schedule does fewer: it pools
 * before the transition conv (see densenet_graph.ts).
 */
export function nominalMacs(config: DenseNetConfig, height: number, width: number): number {
  const down = (s: number, k: number, st: number, p: number) => Math.floor((s + 2 * p - k) / st) + 1;
  let h = down(height, 7, 2, 3),
    w = down(width, 7, 2, 3);
  let macs = config.numInitFeatures * config.inChannels * 49 * h * w;
  h = down(h, 3, 2, 1);
  w = down(w, 3, 2, 1);
  const k = config.growthRate,
    bottleneck = config.bnSize * k;
  blockChannels(config).forEach(({ input, output }, b) => {
    for (let l = 0; l < config.blockConfig[b]; l++) macs += (bottleneck * (input + l * k) + k * bottleneck * 9) * h * w;
    if (b < config.blockConfig.length - 1) {
      macs += config.transitionChannels[b] * output * h * w;
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    }
  });
  return macs + featureChannels(config) * config.numClasses;
}
