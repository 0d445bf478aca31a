import { DenseNetError, check } from "./errors.js";
import type { DenseNetConfig } from "./model/config.js";
import { type InterpretedModel, type LoadedModel, type ModelSource, type PlannedModel, loadModel } from "./model/load.js";
import type { ModelMetadata } from "./model/metadata.js";
import type { ClassifyOptions, ClassifyResult, ImageInput } from "./classify.js";
import { MICRO_KERNELS, type MicroKernel, type PackedGraph, packGraph } from "./plan/pack_weights.js";
import { featuresView } from "./plan/features.js";
import { useWinograd } from "./plan/winograd.js";
import { type ExecutionPlan, planGraph } from "./plan/plan.js";
import { scratchBytes } from "./plan/scratch.js";
import { availableParallelism } from "node:os";
import { BARRIER_BYTES, barrierView, resetBarrier } from "./runtime/barrier.js";
import { runImage, runSchedule } from "./runtime/executor.js";
import { type KernelBuild, type KernelExports, compileKernels, instantiateKernels, kernelTable } from "./runtime/kernels.js";
import { LinearMemory } from "./kernels/memory.js";
import { WorkerPool } from "./runtime/pool.js";
import type { RunTask } from "./runtime/task.js";
import { type AnyTensor, type Tensor, elementCount } from "./tensor.js";

export interface SessionOptions {
  /**
   * Threads to run on. 1 runs on the calling thread with no pool (fastest start); more run
   * on a pool of that many workers while the calling thread stays free. Default: the
   * machine's available parallelism (os.availableParallelism()).
   */
  threads?: number;
  /** Seed of the random weights used when the model is an architecture name. Default 0. */
  seed?: number;
  /** The GEMM micro-kernel ("4x8", "4x8-shuffle", "6x8"); by default the fastest for the engine. */
  microKernel?: MicroKernel;
  /** Run 3x3 stride-1 pad-1 convs as Winograd F(2x2, 3x3) (default true); false: im2col GEMM. */
  winograd?: boolean;
}

/** Largest batch one run() accepts. */
export const MAX_BATCH = 4096;
/** Largest input side accepted. */
export const MAX_SIDE = 8192;
/** Most threads (pool workers) a session runs on. */
export const MAX_THREADS = 256;

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
  /** The kernel build in use ("relaxed-simd": fused multiply-add), or null for interpreted graphs. */
  readonly kernels: KernelBuild | null;
  /** For an interpreted graph, why it could not be lowered to the planned kernels; else null. */
  readonly notPlanned: string | null;
}

/** The planned model's kernels, memory, packed weights, and its pool where threads > 1. */
interface Engine {
  readonly model: EngineModel;
  readonly mem: LinearMemory;
  readonly kernels: KernelExports;
  /** The model's graph with its weights packed in `mem`. */
  readonly graph: PackedGraph;
  readonly weightBytes: number;
  /** One GEMM scratch area per thread. */
  readonly scratch: readonly number[];
  readonly pool: WorkerPool | null;
  /** Address of the run barrier. */
  readonly barrier: number;
  readonly build: KernelBuild;
}

/** What a run computes: the model's output, or the pooled features its classifier sees. */
type Head = "output" | "features";

/** A planned model without its unpacked graph (the engine holds the packed one). */
type EngineModel = Omit<PlannedModel, "graph">;

/** A plan for one input size, with one arena per thread that runs whole images. */
interface PlanEntry {
  readonly plan: ExecutionPlan;
  readonly arenas: number[];
}

/** The default thread count: every core the process may use. */
export function defaultThreads(): number {
  return Math.min(MAX_THREADS, Math.max(1, availableParallelism()));
}

/**
 * An inference session over one model, like onnxruntime's InferenceSession:
 * `const s = await Session.create("model.safetensors"); const y = await s.run(x); await s.release();`
 * Weights are packed once at creation; each input size is planned once, on first use.
 * Calls to run() on one session are queued and run one after another, in call order.
 */
export class Session {
  private readonly plans = new Map<string, PlanEntry>();
  private released = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Input and output staging for a batch: grows to the largest batch seen, never shrinks. */
  private stage = { input: 0, output: 0, inputBytes: 0, outputBytes: 0 };
  /** Test hook: the next run makes one worker fail (see RunTask.fault). */
  private nextFault: RunTask["fault"] & { worker: number } | null = null;

  /** `threads`: the threads runs use (1 for a graph on the interpreter, which runs on the calling thread). */
  private constructor(private readonly model: EngineModel | InterpretedModel, private readonly engine: Engine | null, readonly threads: number) {}

  /** Loads a model: a .safetensors or .onnx path or its bytes, or an architecture name (random weights). */
  static async create(model: ModelSource, options: SessionOptions = {}): Promise<Session> {
    const threads = options.threads ?? defaultThreads();
    check(Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS, `threads must be an integer from 1 to ${MAX_THREADS}, got ${threads}`);
    check(options.microKernel === undefined || Object.hasOwn(MICRO_KERNELS, options.microKernel),
      () => `microKernel must be one of ${Object.keys(MICRO_KERNELS).join(", ")}, got ${options.microKernel}`);
    const loaded = await loadModel(model, options.seed ?? 0);
    if (loaded.kind === "interpreted") return new Session(loaded, null, 1);
    const { module, build } = await compileKernels();
    const mem = new LinearMemory();
    const kernels = instantiateKernels(module, mem.memory);
    const before = mem.used;
    const graph = options.winograd === false ? loaded.graph : useWinograd(loaded.graph);
    const packed = packGraph(graph, mem, options.microKernel);
    const weightBytes = mem.used - before;
    const scratchSize = scratchBytes(packed, kernels);
    const scratch = Array.from({ length: threads }, () => mem.alloc(scratchSize));
    const barrier = mem.alloc(BARRIER_BYTES);
    const pool = threads > 1 ? new WorkerPool({ module, memory: mem.memory }, threads) : null;
    const { graph: _unpacked, ...planned } = loaded; // the unpacked weights can be garbage-collected
    return new Session(planned, { model: planned, mem, kernels, graph: packed, weightBytes, scratch, pool, barrier, build }, threads);
  }

  get info(): SessionInfo {
    const m = this.model;
    return {
      name: m.name, parameters: m.parameters, execution: m.kind, weightBytes: this.engine?.weightBytes ?? 0,
      kernels: this.engine?.build ?? null, notPlanned: m.kind === "interpreted" ? m.notPlanned : null,
      config: m.kind === "planned" ? m.config : null, randomWeights: m.kind === "planned" && m.randomWeights,
    };
  }

  /** Class labels and preprocessing stored in the model file (safetensors __metadata__, ONNX metadata_props). */
  get metadata(): ModelMetadata {
    return this.model.metadata;
  }

  /** The torchvision configuration; null for a general (ONNX) graph. */
  get config(): DenseNetConfig | null {
    return this.info.config;
  }

  /** Values per image of a planned model's output (its classes), or null for an interpreted graph. */
  get outputClasses(): number | null {
    if (!this.engine) return null;
    const graph = this.engine.graph;
    return graph.buffers[graph.output].channels;
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
    return engine.graph.buffers[engine.graph.input].channels;
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
    const output = outputs[this.model.outputNames[0]];
    check(output.data instanceof Float32Array, `output '${this.model.outputNames[0]}' is int64: use runNamed(feeds)`);
    return output as Tensor;
  }

  /**
   * The globally pooled features the classifier sees, (N, C) for input (N, C_in, H, W)
   * (DenseNet-121: C = 1024), computed on the planned kernels without the classifier: for
   * retrieval, clustering and new classifier heads. Queued with run() calls.
   */
  features(input: Tensor): Promise<Tensor> {
    const result = this.queue.then(() => this.executeImages(input, "features"));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Classifies images (paths, encoded bytes or decoded images): each is decoded and
   * preprocessed as the model's metadata says (else ImageNet's), run in batches, and answered
   * with its `top` classes (softmax probabilities, labels from the metadata, or ImageNet's for
   * a 1000-class model). An image that cannot be read or decoded gets `{ error }`; the others
   * are still answered. See classify.ts.
   */
  async classify(images: readonly ImageInput[], options?: ClassifyOptions): Promise<ClassifyResult[]> {
    // Loaded on first use: sessions that never see an image never load the decoders.
    const { classify } = await import("./classify.js");
    return classify(this, images, options);
  }

  /**
   * Runs the model on named inputs and returns every output by name, like onnxruntime's
   * run(feeds). Tensors are float32, or int64 (BigInt64Array) where an ONNX graph has them.
   */
  runNamed(feeds: Readonly<Record<string, AnyTensor>>): Promise<Record<string, AnyTensor>> {
    const result = this.queue.then(() => this.execute(feeds));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Times every step of the plan for one image of height x width on the calling thread
   * (random input; best of `runs`), in schedule order.
   */
  async profile(height: number, width: number, runs = 5): Promise<{ name: string; shape: string; macs: number; ms: number }[]> {
    const engine = this.planned();
    const { plan, arenas } = this.planEntry(engine, height, width);
    const input = engine.mem.f32(arenas[0] + plan.inputOffset, plan.inputElements);
    for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.37);
    const best = plan.steps.map(() => Infinity);
    const table = kernelTable(engine.mem.memory, engine.kernels);
    let t0 = 0;
    const timer = { before: () => { t0 = performance.now(); }, after: (s: number) => { best[s] = Math.min(best[s], performance.now() - t0); } };
    for (let r = 0; r < runs; r++) runSchedule(table, { table: plan.schedule, steps: plan.steps.length }, arenas[0], engine.scratch[0], 0, 1, timer);
    return plan.steps.map((step, i) => ({ name: step.name, shape: step.description, macs: step.macs, ms: best[i] }));
  }

  /** Frees the session and shuts its worker pool down (after queued runs). Further calls fail. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.queue;
    this.plans.clear();
    await this.engine?.pool?.destroy();
  }

  /** Test hook: in the next run, worker `worker` throws ("throw") or exits ("exit") at step `at`. */
  injectFaultForTesting(fault: { worker: number; at: number; mode: "throw" | "exit" }): void {
    this.nextFault = fault;
  }

  private async execute(feeds: Readonly<Record<string, AnyTensor>>): Promise<Record<string, AnyTensor>> {
    check(!this.released, "session has been released");
    check(typeof feeds === "object" && feeds !== null, "feeds must be an object of named tensors");
    for (const name of Object.keys(feeds)) {
      check(this.model.inputNames.includes(name), () => `unknown input '${name}': the model's inputs are [${this.model.inputNames.join(", ")}]`);
    }
    for (const name of this.model.inputNames) check(name in feeds, () => `missing input '${name}'`);
    if (this.model.kind === "interpreted") return this.model.run(feeds);
    return { [this.model.outputNames[0]]: await this.executeImages(feeds[this.model.inputNames[0]], "output") };
  }

  private async executeImages(input: AnyTensor, head: Head): Promise<Tensor> {
    check(!this.released, "session has been released");
    const engine = this.planned();
    const [batch, , height, width] = this.checkImages(input);
    engine.model.checkInput?.(input.dims);
    const images = input.data as Float32Array;
    const entry = this.planEntry(engine, height, width, head);
    const out = engine.pool
      ? await this.runOnPool(engine, engine.pool, entry, images, batch)
      : this.runOnCallingThread(engine, entry, images, batch);
    return { data: out, dims: head === "output" ? engine.model.outputDims(batch) : [batch, entry.plan.outputElements] };
  }

  private runOnCallingThread(engine: Engine, { plan, arenas }: PlanEntry, input: Float32Array, batch: number): Float32Array {
    const { mem } = engine;
    const stage = this.stageFor(mem, batch * plan.inputElements * 4, batch * plan.outputElements * 4);
    mem.f32(stage.input, input.length).set(input);
    const staging = {
      inputStage: stage.input, outputStage: stage.output, inputOffset: plan.inputOffset, outputOffset: plan.outputOffset,
      inputElements: plan.inputElements, outputElements: plan.outputElements,
    };
    const table = kernelTable(mem.memory, engine.kernels);
    for (let i = 0; i < batch; i++) runImage(table, { table: plan.schedule, steps: plan.steps.length }, staging, i, arenas[0], engine.scratch[0]);
    return mem.f32(stage.output, batch * plan.outputElements).slice();
  }

  /**
   * Whole images go to workers while there are at least as many images left as threads;
   * the remaining (batch mod threads) images are each split across all workers.
   */
  private async runOnPool(engine: Engine, pool: WorkerPool, entry: PlanEntry, input: Float32Array, batch: number): Promise<Float32Array> {
    const { plan } = entry;
    const nth = this.threads;
    const shared = batch % nth;
    const wholeWorkers = batch >= nth ? nth : 1;
    while (entry.arenas.length < wholeWorkers) entry.arenas.push(engine.mem.alloc(plan.arenaBytes));
    const stage = this.stageFor(engine.mem, batch * plan.inputElements * 4, batch * plan.outputElements * 4);
    engine.mem.f32(stage.input, input.length).set(input);
    const barrier = barrierView(engine.mem.memory.buffer, engine.barrier);
    resetBarrier(barrier);
    const fault = this.nextFault;
    this.nextFault = null;
    const tasks = Array.from({ length: nth }, (_, ith): RunTask => ({
      kind: "run", ith, nth, barrier: engine.barrier, schedule: plan.schedule, steps: plan.steps.length,
      arenas: entry.arenas, scratch: engine.scratch[ith], inputStage: stage.input, outputStage: stage.output,
      inputOffset: plan.inputOffset, outputOffset: plan.outputOffset, inputElements: plan.inputElements,
      outputElements: plan.outputElements, batch, shared, fault: fault?.worker === ith ? fault : undefined,
    }));
    await pool.run(tasks, barrier);
    return engine.mem.f32(stage.output, batch * plan.outputElements).slice();
  }

  private stageFor(mem: LinearMemory, inputBytes: number, outputBytes: number) {
    if (inputBytes > this.stage.inputBytes) this.stage = { ...this.stage, input: mem.alloc(inputBytes), inputBytes };
    if (outputBytes > this.stage.outputBytes) this.stage = { ...this.stage, output: mem.alloc(outputBytes), outputBytes };
    return this.stage;
  }

  private planned(): Engine {
    if (!this.engine) throw new DenseNetError(`'${this.model.name}' runs on the interpreter and has no execution plan`);
    return this.engine;
  }

  private planEntry(engine: Engine, height: number, width: number, head: Head = "output"): PlanEntry {
    const key = `${height}x${width}`;
    let entry = this.plans.get(key);
    if (!entry) {
      const plan = planGraph(engine.graph, engine.mem, height, width);
      entry = { plan, arenas: [engine.mem.alloc(plan.arenaBytes)] };
      this.plans.set(key, entry);
    }
    if (head === "output") return entry;
    // The same plan, read out where the pooled features lie instead of the logits.
    const view = featuresView(engine.graph, entry.plan);
    if (!view) throw new DenseNetError(`'${this.model.name}' has no global pool before its classifier whose output a run keeps: features() needs one`);
    return { ...entry, plan: { ...entry.plan, outputOffset: view.offset, outputElements: view.elements } };
  }


  /** Checks an image batch (N, C, H, W) and returns its shape. */
  private checkImages(input: AnyTensor): [number, number, number, number] {
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
