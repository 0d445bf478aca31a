import { DenseNetError, check } from "./errors.js";
import type { DenseNetConfig } from "./model/config.js";
import { type LoadedModel, type ModelSource, type PlannedModel, loadModel } from "./model/load.js";
import { type MicroKernelRows, type PackedWeights, packGraphWeights } from "./plan/pack_weights.js";
import { type ExecutionPlan, GEMM_KC, planGraph } from "./plan/plan.js";
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

/** Summary of a session's model, for `densenet info` and logs. */
export interface SessionInfo {
  readonly name: string;
  /** The torchvision DenseNet configuration, or null for a general (ONNX) graph. */
  readonly config: DenseNetConfig | null;
  readonly parameters: number;
  readonly randomWeights: boolean;
  /** Bytes of packed weights in linear memory (0 for interpreted graphs). */
  readonly weightBytes: number;
  /** "planned": fused kernels on WebAssembly; "interpreted": the portable op-by-op interpreter. */
  readonly execution: LoadedModel["kind"];
}

/** The planned model's kernels, memory and packed weights. */
interface Engine {
  readonly model: PlannedModel;
  readonly mem: LinearMemory;
  readonly kernels: KernelExports;
  readonly weights: readonly PackedWeights[];
  readonly weightBytes: number;
  readonly scratch: number;
}

/**
 * An inference session over one model, like onnxruntime's InferenceSession:
 * `const s = await Session.create("model.safetensors"); const y = await s.run(x); await s.release();`
 * Weights are packed once at creation; each input size is planned once, on first use.
 * Calls to run() on one session are queued and run one after another, in call order.
 */
export class Session {
  private readonly plans = new Map<string, { plan: ExecutionPlan; arena: number }>();
  private released = false;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly model: LoadedModel, private readonly engine: Engine | null, readonly threads: number) {}

  /** Loads a model: a .safetensors or .onnx path or its bytes, or an architecture name (random weights). */
  static async create(model: ModelSource, options: SessionOptions = {}): Promise<Session> {
    const threads = options.threads ?? 1;
    check(Number.isInteger(threads) && threads >= 1 && threads <= 256, `threads must be an integer from 1 to 256, got ${threads}`);
    check(threads === 1, "threads > 1 is not available yet");
    const loaded = await loadModel(model, options.seed ?? 0);
    if (loaded.kind === "interpreted") return new Session(loaded, null, 1);
    const module = await compileKernels();
    const mem = new LinearMemory();
    const kernels = instantiateKernels(module, mem.memory);
    const before = mem.used;
    const weights = packGraphWeights(loaded.graph, mem, options.microKernelRows);
    const weightBytes = mem.used - before;
    const scratch = mem.alloc(kernels.conv2d_gemm_scratch_bytes(GEMM_KC));
    return new Session(loaded, { model: loaded, mem, kernels, weights, weightBytes, scratch }, threads);
  }

  get info(): SessionInfo {
    const m = this.model;
    return {
      name: m.name, parameters: m.parameters, execution: m.kind, weightBytes: this.engine?.weightBytes ?? 0,
      config: m.kind === "planned" ? m.config : null, randomWeights: m.kind === "planned" && m.randomWeights,
    };
  }

  /** The torchvision configuration; null for a general (ONNX) graph. */
  get config(): DenseNetConfig | null {
    return this.info.config;
  }

  get inputNames(): readonly string[] {
    return this.model.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.model.outputNames;
  }

  /** Channels of the image input of a planned model. */
  get inputChannels(): number {
    const engine = this.planned();
    return engine.model.graph.buffers[engine.model.graph.input].channels;
  }

  /** The plan for images of height x width (made and cached on first use); planned models only. */
  plan(height: number, width: number): ExecutionPlan {
    return this.planEntry(this.planned(), height, width).plan;
  }

  /**
   * Runs a single-input, single-output model: for a DenseNet, input (N, C, H, W) float32
   * gives logits (N, classes).
   */
  async run(input: Tensor): Promise<Tensor> {
    check(this.model.inputNames.length === 1 && this.model.outputNames.length === 1,
      () => `run(tensor) needs a model with one input and one output; this one has inputs [${this.model.inputNames.join(", ")}] and outputs [${this.model.outputNames.join(", ")}]: use runNamed(feeds)`);
    const outputs = await this.runNamed({ [this.model.inputNames[0]]: input });
    return outputs[this.model.outputNames[0]];
  }

  /** Runs the model on named inputs and returns every output by name, like onnxruntime's run(feeds). */
  runNamed(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>> {
    const result = this.queue.then(() => this.execute(feeds));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Frees the session. Further calls fail. */
  async release(): Promise<void> {
    this.released = true;
    this.plans.clear();
  }

  private execute(feeds: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
    check(!this.released, "session has been released");
    check(typeof feeds === "object" && feeds !== null, "feeds must be an object of named tensors");
    for (const name of Object.keys(feeds)) {
      check(this.model.inputNames.includes(name), () => `unknown input '${name}': the model's inputs are [${this.model.inputNames.join(", ")}]`);
    }
    for (const name of this.model.inputNames) check(name in feeds, () => `missing input '${name}'`);
    if (this.model.kind === "interpreted") return this.model.run(feeds);
    const engine = this.planned();
    const input = feeds[this.model.inputNames[0]];
    const [batch, , height, width] = this.checkImages(input);
    const { plan, arena } = this.planEntry(engine, height, width);
    const out = new Float32Array(batch * plan.outputElements);
    const { mem, kernels, scratch } = engine;
    for (let i = 0; i < batch; i++) {
      mem.f32(arena + plan.inputOffset, plan.inputElements)
        .set(input.data.subarray(i * plan.inputElements, (i + 1) * plan.inputElements));
      runSteps(kernels, plan.steps, arena, scratch);
      out.set(mem.f32(arena + plan.outputOffset, plan.outputElements), i * plan.outputElements);
    }
    return { [this.model.outputNames[0]]: { data: out, dims: engine.model.outputDims(batch) } };
  }

  private planned(): Engine {
    if (!this.engine) throw new DenseNetError(`'${this.model.name}' runs on the interpreter and has no execution plan`);
    return this.engine;
  }

  private planEntry(engine: Engine, height: number, width: number): { plan: ExecutionPlan; arena: number } {
    const key = `${height}x${width}`;
    let entry = this.plans.get(key);
    if (!entry) {
      const plan = planGraph(engine.model.graph, engine.weights, engine.mem, height, width, 4 * this.threads);
      entry = { plan, arena: engine.mem.alloc(plan.arenaBytes) };
      this.plans.set(key, entry);
    }
    return entry;
  }

  /** Checks an image batch (N, C, H, W) and returns its shape. */
  private checkImages(input: Tensor): [number, number, number, number] {
    check(typeof input === "object" && input !== null && input.data instanceof Float32Array && Array.isArray(input.dims),
      "input must be a tensor { data: Float32Array, dims: number[] }");
    const dims = input.dims;
    const c = this.inputChannels;
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
