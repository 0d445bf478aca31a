// The public Session: options checked, then three parts that live in src/session/ — the
// engine (kernels, memory, weights, pool: engine.ts), the plans by input size (a byte-bounded
// LRU cache: plan_cache.ts) and the run queue (run_queue.ts) — with inputs checked and copied
// at call time and outputs checked for overflow (inputs.ts).
import { DenseNetError, check } from "./errors.js";
import { denoPermission } from "./io/file.js";
import type { ClassifyOptions, ClassifyResult, ImageInput } from "./classify.js";
import type { DenseNetConfig } from "./model/config.js";
import { type InterpretedModel, type LoadedModel, type ModelSource, loadModel } from "./model/load.js";
import type { ModelMetadata } from "./model/metadata.js";
import { featuresView } from "./plan/features.js";
import type { ExecutionPlan } from "./plan/plan.js";
import { availableParallelism } from "node:os";
import type { KernelBuild } from "./runtime/kernels.js";
import { type Engine, type EngineModel, Staging, createEngine, runOnCallingThread, runOnPool } from "./session/engine.js";
import { takeFault } from "./session/fault.js";
import {
  type ImageParts,
  checkImages,
  checkOutputs,
  concatDims,
  concatImages,
  copyFeeds,
  imageParts,
  tensorList,
} from "./session/inputs.js";
import { PlanCache } from "./session/plan_cache.js";
import { MAX_PROFILE_RUNS, type StepProfile, profileSteps } from "./session/profile.js";
import { type SessionOptions, checkOptions, checkSize } from "./session/options.js";
import { RunQueue } from "./session/run_queue.js";
import type { AnyTensor, Tensor } from "./tensor.js";

export { MAX_BATCH, MAX_SIDE } from "./session/inputs.js";
export { MAX_PROFILE_MACS, MAX_PROFILE_RUNS, type StepProfile } from "./session/profile.js";
export { DEFAULT_PLAN_CACHE_BYTES } from "./session/plan_cache.js";
export type { SessionOptions } from "./session/options.js";

/** Most threads a session may use. */
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
  /** Bytes of WebAssembly linear memory the session holds now (it never shrinks; 0 for interpreted graphs). */
  readonly memoryBytes: number;
  /** Input sizes planned and cached now, and the bytes their plans hold (see planCacheBytes). */
  readonly cachedPlans: number;
  readonly cachedPlanBytes: number;
}

/** The default thread count: every core the process may use. */
export function defaultThreads(): number {
  return Math.min(MAX_THREADS, Math.max(1, availableParallelism()));
}

/** What a run computes: the model's output, or the pooled features its classifier sees. */
type Head = "output" | "features";

/** The planned parts of a session: engine, plan cache and batch staging. */
interface Planned {
  readonly engine: Engine;
  readonly plans: PlanCache;
  readonly staging: Staging;
}

/**
 * An inference session over one model, like onnxruntime's InferenceSession:
 * `const s = await Session.create("model.safetensors"); const y = await s.run(x); await s.release();`
 * Weights are packed once at creation; each input size is planned on first use and kept in
 * a byte-bounded cache. Calls to run() on one session are queued and run one after another,
 * in call order; each copies its input when called.
 */
export class Session {
  private readonly queue = new RunQueue();

  /** `threads`: the threads runs use (1 for a graph on the interpreter, which runs on the calling thread). */
  private constructor(
    private readonly model: EngineModel | InterpretedModel,
    private readonly planned: Planned | null,
    readonly threads: number,
  ) {}

  /**
   * Loads a model and prepares it to run. `model` is one of:
   *  - a path to a `.safetensors` file (torchvision state_dict names; F32, F16, BF16 or F64),
   *  - a path to a torch.save `.pth`/`.pt` checkpoint (ZIP format, torch >= 1.6; read by a
   *    restricted unpickler that executes nothing),
   *  - a path to an `.onnx` model (opsets 7 to 25),
   *  - the bytes of any of these (Uint8Array or ArrayBuffer; the format is told by its content),
   *  - an architecture name, `densenet121`, `densenet169`, `densenet201` or `densenet161`
   *    (seeded random weights, for benchmarks).
   * `options` may be omitted or null. Every problem is a one-line DenseNetError.
   */
  static async create(model: ModelSource, options?: SessionOptions | null): Promise<Session> {
    try {
      return await Session.open(model, checkOptions(options, defaultThreads, MAX_THREADS));
    } catch (e) {
      const denied = denoPermission(e);
      if (denied) throw new DenseNetError(denied);
      throw e;
    }
  }

  private static async open(model: ModelSource, options: ReturnType<typeof checkOptions>): Promise<Session> {
    const loaded = await loadModel(model, options.seed);
    if (loaded.kind === "interpreted") return new Session(loaded, null, 1);
    const engine = await createEngine(loaded, {
      threads: options.threads,
      microKernel: options.microKernel,
      winograd: options.winograd,
      schedule: options.schedule,
      splitImages: options.splitImages,
    });
    const plans = new PlanCache(engine.graph, engine.mem, options.planCacheBytes);
    return new Session(engine.model, { engine, plans, staging: new Staging(engine.mem) }, options.threads);
  }

  get info(): SessionInfo {
    const m = this.model;
    const engine = this.planned?.engine;
    return {
      name: m.name,
      parameters: m.parameters,
      execution: m.kind,
      weightBytes: engine?.weightBytes ?? 0,
      kernels: engine?.build ?? null,
      notPlanned: m.kind === "interpreted" ? m.notPlanned : null,
      config: m.kind === "planned" ? m.config : null,
      randomWeights: m.kind === "planned" && m.randomWeights,
      memoryBytes: engine?.mem.memory.buffer.byteLength ?? 0,
      cachedPlans: this.planned?.plans.size ?? 0,
      cachedPlanBytes: this.planned?.plans.bytes ?? 0,
    };
  }

  /** Class labels and preprocessing stored in the model file (safetensors __metadata__, ONNX metadata_props). */
  get metadata(): ModelMetadata {
    return this.model.metadata;
  }

  /** Values per image of a planned model's output (its classes), or null for an interpreted graph. */
  get outputClasses(): number | null {
    if (!this.planned) return null;
    const { graph } = this.planned.engine;
    return graph.buffers[graph.output].channels;
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

  /**
   * A planned model's input and output shapes for metadata: input (N, C, H, W) and output
   * (N, classes) or (N, classes, 1, 1), with -1 for each dimension that varies per run (N, H
   * and W unless the file fixes them, as an ONNX graph may).
   */
  get declaredShapes(): { input: number[]; output: number[] } {
    const model = this.requirePlanned().engine.model;
    const declared = model.declaredInput ?? [];
    const input = [0, 1, 2, 3].map((i) => (i === 1 ? this.inputChannels : (declared[i] ?? -1)));
    const output = model.outputDims(input[0]);
    return { input, output };
  }

  /** Channels of the image input of a planned model. */
  get inputChannels(): number {
    const { graph } = this.requirePlanned().engine;
    return graph.buffers[graph.input].channels;
  }

  /** The plan for images of height x width (made and cached on first use); planned models only. */
  plan(height: number, width: number): ExecutionPlan {
    checkSize(height, width);
    return this.requirePlanned().plans.get(height, width).plan;
  }

  /**
   * Runs a single-input, single-output model: for a DenseNet, input (N, C, H, W) float32
   * gives logits (N, classes). The input is copied before this returns.
   */
  async run(input: Tensor): Promise<Tensor> {
    const { inputNames, outputNames } = this.model;
    this.checkOneInOneOut("run(tensor)");
    const outputs = await this.runNamed({ [inputNames[0]]: input });
    const output = outputs[outputNames[0]];
    check(output.data instanceof Float32Array, `output '${outputNames[0]}' is int64: use runNamed(feeds)`);
    return output as Tensor;
  }

  /**
   * Runs image batches as one, as run() runs their concatenation along N: each part is
   * (n_i, C, H, W), all of one C, H and W, and the answer is the one (N, classes) tensor of
   * logits, rows in the parts' order, bitwise what run() gives for each part alone. Unlike
   * run(), the parts are not copied: the caller must leave their data unchanged until the
   * promise settles. For callers that own their buffers, such as the server's dynamic batcher
   * (serve/batcher.ts), which would otherwise copy every request twice on the event loop.
   */
  runParts(parts: readonly Tensor[]): Promise<Tensor> {
    if (this.queue.isClosed) return Promise.reject(new DenseNetError("session has been released"));
    const planned = this.planned;
    let input: ImageParts;
    try {
      this.checkOneInOneOut("runParts(tensors)");
      const tensors = tensorList(parts, "parts");
      if (!planned) return this.run(concatImages(tensors));
      for (const [i, part] of tensors.entries()) {
        try {
          this.checkImageFeed(part);
        } catch (e) {
          throw e instanceof DenseNetError ? new DenseNetError(`parts[${i}]: ${e.message}`) : e;
        }
      }
      input = { parts: tensors.map((p) => p.data as Float32Array), dims: concatDims(tensors) };
      planned.engine.model.checkInput?.(input.dims);
    } catch (e) {
      return Promise.reject(e);
    }
    const fault = takeFault(this);
    return this.queue.push(async () => {
      const out = await this.runImages(planned, input, "output", fault);
      checkOutputs({ [this.model.outputNames[0]]: out });
      return out;
    });
  }

  /**
   * The globally pooled features the classifier sees, (N, C) for input (N, C_in, H, W)
   * (DenseNet-121: C = 1024), computed on the planned kernels without the classifier: for
   * retrieval, clustering and new classifier heads. Queued with run() calls; the input is
   * copied before this returns.
   */
  features(input: Tensor): Promise<Tensor> {
    if (this.queue.isClosed) return Promise.reject(new DenseNetError("session has been released"));
    let copied: Record<string, AnyTensor>;
    try {
      const planned = this.requirePlanned();
      copied = copyFeeds({ input }, ["input"]);
      this.checkImageFeed(copied.input);
      return this.queue.push(async () => {
        const out = await this.runImages(planned, imageParts(copied.input), "features", null);
        checkOutputs({ features: out });
        return out;
      });
    } catch (e) {
      return Promise.reject(e);
    }
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
   * The feeds are checked and copied before this returns; an output holding NaN or an
   * infinity is an error, not an answer.
   */
  runNamed(feeds: Readonly<Record<string, AnyTensor>>): Promise<Record<string, AnyTensor>> {
    if (this.queue.isClosed) return Promise.reject(new DenseNetError("session has been released"));
    let copied: Record<string, AnyTensor>;
    try {
      copied = copyFeeds(feeds, this.model.inputNames);
      if (this.planned) this.checkImageFeed(copied[this.model.inputNames[0]]);
    } catch (e) {
      return Promise.reject(e);
    }
    const fault = takeFault(this);
    return this.queue.push(async () => {
      const outputs = this.planned ? await this.runPlanned(this.planned, copied, fault) : this.runInterpreted(copied);
      checkOutputs(outputs);
      return outputs;
    });
  }

  /**
   * Times every step of the plan for one image of height x width on the calling thread
   * (random input; best of `runs`, a positive integer up to MAX_PROFILE_RUNS), in schedule
   * order. Queued like a run; it yields to the event loop between runs, and refuses a size
   * and run count that would take over MAX_PROFILE_MACS multiply-adds.
   */
  profile(height: number, width: number, runs = 5): Promise<StepProfile[]> {
    try {
      checkSize(height, width);
      check(
        Number.isInteger(runs) && runs >= 1 && runs <= MAX_PROFILE_RUNS,
        () => `runs must be an integer from 1 to ${MAX_PROFILE_RUNS}, got ${runs}`,
      );
      this.requirePlanned();
    } catch (e) {
      return Promise.reject(e);
    }
    const { engine, plans } = this.planned!;
    return this.queue.push(() => profileSteps(engine, plans, height, width, runs));
  }

  /** Waits for every queued run, then frees the session and shuts its worker pool down. Later runs are refused. */
  async release(): Promise<void> {
    if (this.queue.isClosed) return this.queue.close();
    await this.queue.close();
    this.planned?.plans.clear();
    await this.planned?.engine.pool?.destroy();
  }

  private async runPlanned(
    planned: Planned,
    feeds: Record<string, AnyTensor>,
    fault: ReturnType<typeof takeFault>,
  ): Promise<Record<string, AnyTensor>> {
    const result: Record<string, AnyTensor> = Object.create(null);
    const input = imageParts(feeds[this.model.inputNames[0]]);
    result[this.model.outputNames[0]] = await this.runImages(planned, input, "output", fault);
    return result;
  }

  /** Runs a checked image batch on the planned kernels, reading out the logits or the pooled features. */
  private async runImages(
    { engine, plans, staging }: Planned,
    input: ImageParts,
    head: Head,
    fault: ReturnType<typeof takeFault>,
  ): Promise<Tensor> {
    const [batch, , height, width] = input.dims;
    const images = input.parts;
    const entry = plans.get(height, width);
    return plans.using(entry, async () => {
      const plan = head === "output" ? entry.plan : this.featuresPlan(engine, entry.plan);
      const out = engine.pool
        ? await runOnPool(engine, engine.pool, plans, staging, entry, plan, images, batch, fault)
        : runOnCallingThread(engine, staging, entry, plan, images, batch);
      return { data: out, dims: head === "output" ? engine.model.outputDims(batch) : [batch, plan.outputElements] };
    });
  }

  /** The same plan, read out where the pooled features lie instead of the logits. */
  private featuresPlan(engine: Engine, plan: ExecutionPlan): ExecutionPlan {
    const view = featuresView(engine.graph, plan);
    if (!view)
      throw new DenseNetError(
        `'${this.model.name}' has no global pool before its classifier whose output a run keeps: features() needs one`,
      );
    return { ...plan, outputOffset: view.offset, outputElements: view.elements };
  }

  private runInterpreted(feeds: Record<string, AnyTensor>): Record<string, AnyTensor> {
    if (this.model.kind !== "interpreted") throw new DenseNetError("internal: not an interpreted model");
    return this.model.run(feeds);
  }

  private checkOneInOneOut(what: string): void {
    const { inputNames, outputNames } = this.model;
    check(
      inputNames.length === 1 && outputNames.length === 1,
      () =>
        `${what} needs a model with one input and one output; this one has ${inputNames.length} inputs and ${outputNames.length} outputs: use runNamed(feeds)`,
    );
  }

  private checkImageFeed(input: AnyTensor): void {
    const { model } = this.requirePlanned().engine;
    checkImages(input, this.inputChannels);
    model.checkInput?.(input.dims);
  }

  private requirePlanned(): Planned {
    if (!this.planned) throw new DenseNetError(`'${this.model.name}' runs on the interpreter and has no execution plan`);
    return this.planned;
  }
}
