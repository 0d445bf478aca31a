import { DenseNetError, check } from "./errors.js";
import type { DenseNetConfig } from "./model/config.js";
import { type LoadedModel, type ModelSource, loadModel } from "./model/load.js";
import { type MicroKernelRows, type PackedWeights, packGraphWeights } from "./plan/pack_weights.js";
import { type ExecutionPlan, planGraph } from "./plan/plan.js";
import { runSteps } from "./runtime/executor.js";
import { type KernelExports, compileKernels, instantiateKernels } from "./runtime/kernels.js";
import { LinearMemory } from "./runtime/memory.js";
import { type Tensor, elementCount } from "./tensor.js";

export interface SessionOptions {
  /** Threads to run on. 1 (the default for now) runs on the calling thread, with no pool. */
  threads?: number;
  /** Seed of the random weights used when the model is an architecture name. Default 0. */
  seed?: number;
  /** Force the GEMM micro-kernel's row count (4 or 6) for every conv; by default chosen per conv. */
  microKernelRows?: MicroKernelRows;
}

/** Largest batch one run() accepts. */
export const MAX_BATCH = 4096;
/** Largest input side accepted. */
export const MAX_SIDE = 8192;

/** Summary of a session's model and plan, for `densenet info` and logs. */
export interface SessionInfo {
  readonly name: string;
  readonly config: DenseNetConfig;
  readonly parameters: number;
  readonly randomWeights: boolean;
  /** Bytes of packed weights in linear memory. */
  readonly weightBytes: number;
}

/**
 * An inference session over one DenseNet, like onnxruntime's InferenceSession:
 * `const s = await Session.create("model.safetensors"); const y = await s.run(x); await s.release();`
 * Weights are packed once at creation; each input size is planned once, on first use.
 */
export class Session {
  private readonly plans = new Map<string, { plan: ExecutionPlan; arena: number }>();
  private released = false;
  private scratch = 0;

  private constructor(
    private readonly model: LoadedModel,
    private readonly mem: LinearMemory,
    private readonly kernels: KernelExports,
    private readonly weights: readonly PackedWeights[],
    private readonly weightBytes: number,
    readonly threads: number,
  ) {}

  /** Loads a model: a .safetensors path or its bytes, or an architecture name (random weights). */
  static async create(model: ModelSource, options: SessionOptions = {}): Promise<Session> {
    const threads = options.threads ?? 1;
    check(Number.isInteger(threads) && threads >= 1 && threads <= 256, `threads must be an integer from 1 to 256, got ${threads}`);
    check(threads === 1, "threads > 1 is not available yet");
    const loaded = await loadModel(model, options.seed ?? 0);
    const module = await compileKernels();
    const mem = new LinearMemory();
    const kernels = instantiateKernels(module, mem.memory);
    const before = mem.used;
    const weights = packGraphWeights(loaded.graph, mem, options.microKernelRows);
    const session = new Session(loaded, mem, kernels, weights, mem.used - before, threads);
    session.scratch = mem.alloc(kernels.conv2d_gemm_scratch_bytes(256));
    return session;
  }

  get info(): SessionInfo {
    const { name, config, parameters, randomWeights } = this.model;
    return { name, config, parameters, randomWeights, weightBytes: this.weightBytes };
  }

  get config(): DenseNetConfig {
    return this.model.config;
  }

  /** The plan for images of height x width (made and cached on first use). */
  plan(height: number, width: number): ExecutionPlan {
    return this.planEntry(height, width).plan;
  }

  /**
   * Classifies a batch: input (N, C, H, W) float32, returns logits (N, classes).
   * Calls on one session run one after another, in the order they were made.
   */
  async run(input: Tensor): Promise<Tensor> {
    return this.runSync(input);
  }

  /** Frees the session. Further calls fail. */
  async release(): Promise<void> {
    this.released = true;
    this.plans.clear();
  }

  private runSync(input: Tensor): Tensor {
    check(!this.released, "session has been released");
    const [batch, , height, width] = this.checkInput(input);
    const { plan, arena } = this.planEntry(height, width);
    const out = new Float32Array(batch * plan.outputElements);
    for (let i = 0; i < batch; i++) {
      this.mem.f32(arena + plan.inputOffset, plan.inputElements)
        .set(input.data.subarray(i * plan.inputElements, (i + 1) * plan.inputElements));
      runSteps(this.kernels, plan.steps, arena, this.scratch);
      out.set(this.mem.f32(arena + plan.outputOffset, plan.outputElements), i * plan.outputElements);
    }
    return { data: out, dims: [batch, plan.outputElements] };
  }

  private planEntry(height: number, width: number): { plan: ExecutionPlan; arena: number } {
    const key = `${height}x${width}`;
    let entry = this.plans.get(key);
    if (!entry) {
      const plan = planGraph(this.model.graph, this.weights, this.mem, height, width, 4 * this.threads);
      entry = { plan, arena: this.mem.alloc(plan.arenaBytes) };
      this.plans.set(key, entry);
    }
    return entry;
  }

  private checkInput(input: Tensor): [number, number, number, number] {
    check(typeof input === "object" && input !== null && input.data instanceof Float32Array && Array.isArray(input.dims),
      "input must be a tensor { data: Float32Array, dims: number[] }");
    const dims = input.dims;
    const c = this.model.config.inChannels;
    check(dims.length === 4, () => `input must have rank 4 (N, ${c}, H, W), got shape [${dims.join(", ")}]`);
    check(dims.every((d) => Number.isSafeInteger(d) && d >= 1), () => `input shape [${dims.join(", ")}] must hold positive integers`);
    const [n, channels, h, w] = dims;
    check(channels === c, () => `input has ${channels} channels, the model expects ${c} (shape [N, ${c}, H, W])`);
    check(n <= MAX_BATCH, () => `batch ${n} exceeds the maximum of ${MAX_BATCH} images per run`);
    check(h <= MAX_SIDE && w <= MAX_SIDE, () => `input ${h}x${w} exceeds the maximum side of ${MAX_SIDE}`);
    check(input.data.length === elementCount(dims),
      () => `input data has ${input.data.length} values, shape [${dims.join(", ")}] needs ${elementCount(dims)}`);
    const data = input.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new DenseNetError(`input holds a non-finite value (${data[i]}) at index ${i}`);
    }
    return [n, channels, h, w];
  }
}
