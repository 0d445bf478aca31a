import { DenseNetError, check } from "../errors.js";
import type { LazyTensor, StoredTensor } from "../io/safetensors.js";
import type { FiniteScan, LazyWeight } from "../plan/graph.js";

export type { LazyTensor };
import { type DenseNetConfig, blockChannels, describeConfig, featureChannels } from "./config.js";
import { elementCount, firstNonFinite } from "../tensor.js";

/** Tensors by torchvision state_dict name, in memory or read on demand. */
export type WeightMap = ReadonlyMap<string, StoredTensor | LazyTensor>;

function lazy(t: StoredTensor | LazyTensor): LazyTensor {
  return "read" in t ? t : { dtype: t.dtype, shape: t.shape, read: () => t.data, readInto: (out) => out.set(t.data!) };
}

// torchvision's own rule for checkpoints from before 0.3: "denselayer1.norm.1.weight" -> "norm1.weight".
const LEGACY_KEY = /^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$/;

/**
 * Maps state_dict names to torchvision's current ones: the legacy "norm.1" style inside
 * dense layers, and the "module." prefix nn.DataParallel adds.
 */
export function normalizeKeys(weights: WeightMap): Map<string, LazyTensor> {
  const out = new Map<string, LazyTensor>();
  for (const [key, tensor] of weights) {
    let name = key.startsWith("module.") ? key.slice("module.".length) : key;
    const legacy = LEGACY_KEY.exec(name);
    if (legacy) name = legacy[1] + legacy[2];
    check(!out.has(name), () => `weights: tensor '${key}' duplicates '${name}'`);
    out.set(name, lazy(tensor));
  }
  return out;
}

/** Reads float tensors by name, checking each one's shape. */
export class WeightReader {
  /** What later()'s functions read into: as long as the largest float tensor not read directly, made on first use. */
  private scratch: Float32Array | null = null;
  /** Tensors later() reads straight into their destination (`direct`). */
  private readonly direct = new Set<string>();

  constructor(
    private readonly weights: ReadonlyMap<string, LazyTensor>,
    private readonly what = "weights",
  ) {}

  has(name: string): boolean {
    return this.weights.has(name);
  }

  /** The tensor's shape; an error naming it when it is missing. */
  shape(name: string): readonly number[] {
    return this.entry(name).shape;
  }

  /** The tensor as float32 (an array of its own), which must have exactly `shape` and finite values. */
  get(name: string, shape: readonly number[]): Float32Array {
    const t = this.checked(name, shape);
    const data = t.read()!;
    this.checkFinite(name, data);
    return data;
  }

  /**
   * The tensor's name, shape and dtype checked now; a function that reads its values (checked
   * finite) on each call, for weights read only when they are packed. What it returns is this
   * reader's scratch, reused by every such function: valid until the next call of one, and
   * the caller's to modify (so packing a model's weights makes no garbage). Its `into(dest,
   * scan)` reads the values straight into `dest` instead, checked with `scan` where given. A `direct` tensor is one the packer reads
   * only through `into`: the scratch is not sized for it (a plain call reads it into a new array).
   */
  later(name: string, shape: readonly number[], { direct = false } = {}): LazyWeight {
    const t = this.checked(name, shape);
    const count = shape.reduce((a, b) => a * b, 1);
    if (direct) this.direct.add(name);
    const into = (dest: Float32Array, scan: FiniteScan = firstNonFinite) => {
      t.readInto(dest);
      this.checkFinite(name, dest, scan);
    };
    const read = () => {
      if (direct) {
        const data = new Float32Array(count);
        into(data);
        return data;
      }
      this.scratch ??= new Float32Array(this.largestFloatTensor());
      const data = this.scratch.subarray(0, count);
      into(data);
      return data;
    };
    return Object.assign(read, { into });
  }

  private checked(name: string, shape: readonly number[]): LazyTensor {
    const t = this.entry(name);
    check(
      sameShape(t.shape, shape),
      () => `${this.what}: tensor '${name}' has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`,
    );
    check(
      FLOAT_DTYPES.has(t.dtype),
      () => `${this.what}: tensor '${name}' has dtype ${t.dtype}; expected a float type (F32, F16, BF16 or F64)`,
    );
    return t;
  }

  private checkFinite(name: string, data: Float32Array, scan: FiniteScan = firstNonFinite): void {
    const bad = scan(data);
    check(bad < 0, () => `${this.what}: tensor '${name}' holds a non-finite value (${data[bad]}) at index ${bad}`);
  }

  private largestFloatTensor(): number {
    let most = 0;
    for (const [name, t] of this.weights)
      if (FLOAT_DTYPES.has(t.dtype) && !this.direct.has(name))
        most = Math.max(
          most,
          t.shape.reduce((a, b) => a * b, 1),
        );
    return most;
  }

  private entry(name: string): LazyTensor {
    const t = this.weights.get(name);
    if (!t) throw new DenseNetError(`${this.what}: missing tensor '${name}'`);
    return t;
  }
}

const FLOAT_DTYPES = new Set(["F32", "F16", "BF16", "F64"]);

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Infers the whole DenseNet configuration from the tensor shapes of a torchvision-named
 * state_dict: stem width and input channels from conv0, layers per block by counting,
 * growth rate and bottleneck from each layer's convs, transitions and classes from theirs.
 * Every shape is then checked against the inferred configuration.
 */
export function inferConfig(reader: WeightReader): DenseNetConfig {
  const stem = reader.shape("features.conv0.weight");
  check(
    stem.length === 4 && stem[2] === 7 && stem[3] === 7,
    () => `weights: 'features.conv0.weight' has shape [${stem.join(", ")}]; a torchvision DenseNet stem is [C, in_channels, 7, 7]`,
  );
  const [numInitFeatures, inChannels] = stem;
  const blockConfig: number[] = [];
  for (let b = 1; reader.has(`features.denseblock${b}.denselayer1.conv1.weight`); b++) {
    let layers = 0;
    while (reader.has(`features.denseblock${b}.denselayer${layers + 1}.conv1.weight`)) layers++;
    blockConfig.push(layers);
  }
  check(
    blockConfig.length > 0,
    "weights: no dense layers found (expected tensors named 'features.denseblock1.denselayer1.conv1.weight', ...)",
  );
  const firstLayer = "features.denseblock1.denselayer1";
  const bottleneck = reader.shape(`${firstLayer}.conv1.weight`)[0];
  const growthRate = reader.shape(`${firstLayer}.conv2.weight`)[0];
  check(
    growthRate > 0 && bottleneck % growthRate === 0,
    () => `weights: bottleneck width ${bottleneck} of '${firstLayer}' is not a multiple of its growth rate ${growthRate}`,
  );
  const transitionChannels: number[] = [];
  for (let b = 1; b < blockConfig.length; b++) {
    transitionChannels.push(reader.shape(`features.transition${b}.conv.weight`)[0]);
  }
  const classifier = reader.shape("classifier.weight");
  check(classifier.length === 2, () => `weights: 'classifier.weight' has shape [${classifier.join(", ")}], expected [classes, features]`);
  const config: DenseNetConfig = {
    inChannels,
    numInitFeatures,
    growthRate,
    bnSize: bottleneck / growthRate,
    blockConfig,
    transitionChannels,
    numClasses: classifier[0],
  };
  checkAllShapes(reader, config);
  return config;
}

/** Every tensor the runtime reads, with the shape the configuration implies. */
export function expectedShapes(config: DenseNetConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const bn = (prefix: string, c: number) => {
    for (const p of ["weight", "bias", "running_mean", "running_var"]) shapes.set(`${prefix}.${p}`, [c]);
  };
  const k = config.growthRate,
    bottleneck = config.bnSize * k;
  shapes.set("features.conv0.weight", [config.numInitFeatures, config.inChannels, 7, 7]);
  bn("features.norm0", config.numInitFeatures);
  blockChannels(config).forEach(({ input }, b) => {
    for (let l = 0; l < config.blockConfig[b]; l++) {
      const layer = `features.denseblock${b + 1}.denselayer${l + 1}`;
      const cin = input + l * k;
      bn(`${layer}.norm1`, cin);
      shapes.set(`${layer}.conv1.weight`, [bottleneck, cin, 1, 1]);
      bn(`${layer}.norm2`, bottleneck);
      shapes.set(`${layer}.conv2.weight`, [k, bottleneck, 3, 3]);
    }
    if (b < config.blockConfig.length - 1) {
      const cin = input + config.blockConfig[b] * k;
      bn(`features.transition${b + 1}.norm`, cin);
      shapes.set(`features.transition${b + 1}.conv.weight`, [config.transitionChannels[b], cin, 1, 1]);
    }
  });
  const features = featureChannels(config);
  bn("features.norm5", features);
  shapes.set("classifier.weight", [config.numClasses, features]);
  shapes.set("classifier.bias", [config.numClasses]);
  return shapes;
}

function checkAllShapes(reader: WeightReader, config: DenseNetConfig): void {
  for (const [name, shape] of expectedShapes(config)) {
    const found = reader.shape(name);
    check(
      sameShape(found, shape),
      () => `weights: tensor '${name}' has shape [${found.join(", ")}], but ${describeConfig(config)} needs [${shape.join(", ")}]`,
    );
  }
}

/** Learnable parameters, counted as torchvision's model.parameters() does. */
export function parameterCount(config: DenseNetConfig): number {
  let total = 0;
  for (const [name, shape] of expectedShapes(config)) {
    if (name.endsWith("running_mean") || name.endsWith("running_var")) continue;
    total += elementCount(shape);
  }
  return total;
}
