// Dynamic batching: image requests for the same model and image size that arrive within
// maxDelayMs of each other run as one Session.run of up to maxBatch images, and each caller
// gets back its own rows. The runtime's outputs do not depend on batch composition, so every
// answer is bitwise the one Session.run gives for that request alone.
import { DenseNetError, check } from "../errors.js";
import type { Session } from "../session.js";
import type { Tensor } from "../tensor.js";

export interface BatcherOptions {
  /** Most images in one run (a request with more runs alone). */
  readonly maxBatch: number;
  /** How long the first request of a batch waits for others. 0: run what is there at once. */
  readonly maxDelayMs: number;
  /** Most requests waiting (not yet running); more are refused with QueueFullError. */
  readonly maxQueue: number;
  /** Most distinct image sizes planned per model (each plan keeps an arena in the model's memory). */
  readonly maxSizes: number;
}

/** A model as the batcher runs it. */
export interface BatchedModel {
  readonly name: string;
  readonly session: Session;
}

/** The queue is full: the caller should retry later (HTTP 503 + Retry-After). */
export class QueueFullError extends Error {
  override name = "QueueFullError";
}

/**
 * A run failed for the server's reasons (a worker died, memory ran out), not the request's:
 * HTTP 500. The message is the runtime's one line.
 */
export class RunFailure extends Error {
  override name = "RunFailure";
}

/** Errors of a run of validated inputs that are the server's, not the request's. */
function serverFailure(e: unknown): boolean {
  return !(e instanceof DenseNetError) || /^(a worker failed|out of memory)/.test(e.message);
}

function asRequestError(e: unknown): unknown {
  return serverFailure(e) ? new RunFailure(e instanceof Error ? e.message : String(e)) : e;
}

/** Called after every run: images in it, and how long Session.run took. */
export type BatchObserver = (model: string, images: number, seconds: number) => void;

interface Pending {
  readonly images: Tensor;
  readonly count: number;
  readonly arrived: number;
  readonly resolve: (logits: Tensor) => void;
  readonly reject: (e: unknown) => void;
}

/** Requests waiting for one (model, C, H, W). */
interface Group {
  readonly key: string;
  readonly model: BatchedModel;
  readonly items: Pending[];
  images: number;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Runs one batch at a time, across all models: a run already uses every thread of its
 * session, so running two at once would only make both slower. Ready groups (full, or whose
 * oldest request has waited maxDelayMs) run oldest first. While a batch runs, one more batch
 * of the same session may be handed to it if it is full (it waits in the session's run
 * queue): the session starts it the moment the first ends, without waiting for the event
 * loop, which may be busy reading request bodies, so under load the pool never idles between
 * batches, and batches still only start partial when the pool is idle.
 */
export class Batcher {
  private readonly groups = new Map<string, Group>();
  /** Models whose batched run failed where every request alone succeeded (e.g. an ONNX graph fixing N = 1). */
  private readonly unbatchable = new Set<Session>();
  private readonly sizes = new Map<Session, Set<string>>();
  private waiting = 0;
  /** Batches handed to a session, oldest first (at most 2, both of one session). */
  private readonly inFlight: { readonly session: Session; done: Promise<void> | null }[] = [];
  /** When the last run ended: a queued run's time starts there, not when it was handed over. */
  private lastRunEnd = 0;

  constructor(
    private readonly options: BatcherOptions,
    private readonly observe: BatchObserver = () => {},
  ) {}

  /** Requests waiting to run. */
  get depth(): number {
    return this.waiting;
  }

  /** True while a batch runs. */
  get busy(): boolean {
    return this.inFlight.length > 0;
  }

  /**
   * Queues `images` (N, C, H, W), already validated for the model, and resolves with its logits.
   * Throws QueueFullError when the queue is full, and a DenseNetError when the image size
   * cannot be planned (too small for the network, or past maxSizes). An abort of `signal`
   * before the request runs takes it out of the queue and rejects with the signal's reason.
   */
  submit(model: BatchedModel, images: Tensor, signal?: AbortSignal): Promise<Tensor> {
    if (this.waiting >= this.options.maxQueue) throw new QueueFullError(`the queue is full (${this.options.maxQueue} requests waiting)`);
    const [count, c, h, w] = images.dims;
    this.planFor(model.session, h, w);
    const key = `${model.name}\u0000${c}x${h}x${w}`;
    let group = this.groups.get(key);
    if (!group) {
      group = { key, model, items: [], images: 0, timer: null };
      this.groups.set(key, group);
    }
    const target = group;
    return new Promise<Tensor>((resolve, reject) => {
      const item: Pending = { images, count, arrived: performance.now(), resolve, reject };
      target.items.push(item);
      target.images += count;
      this.waiting++;
      signal?.addEventListener("abort", () => this.withdraw(target, item, signal.reason), { once: true });
      this.kick();
    });
  }

  /** Resolves once nothing waits or runs. */
  async drain(): Promise<void> {
    while (this.inFlight.length > 0 || this.waiting > 0) {
      await (this.inFlight[0]?.done ?? new Promise((r) => setTimeout(r, 5)));
    }
  }

  /** Plans (and so checks) an image size once per model; refuses sizes past maxSizes. */
  private planFor(session: Session, h: number, w: number): void {
    let sizes = this.sizes.get(session);
    if (!sizes) {
      sizes = new Set();
      this.sizes.set(session, sizes);
    }
    const size = `${h}x${w}`;
    if (sizes.has(size)) return;
    check(
      sizes.size < this.options.maxSizes,
      () =>
        `the model already serves ${sizes.size} image sizes (${[...sizes].join(", ")}), the most it plans (--max-sizes); send one of those`,
    );
    session.plan(h, w);
    sizes.add(size);
  }

  private withdraw(group: Group, item: Pending, reason: unknown): void {
    const i = group.items.indexOf(item);
    if (i < 0) return; // already running or answered
    group.items.splice(i, 1);
    group.images -= item.count;
    this.waiting--;
    if (group.items.length === 0) this.dropGroup(group);
    item.reject(reason);
  }

  private dropGroup(group: Group): void {
    if (group.timer !== null) clearTimeout(group.timer);
    this.groups.delete(group.key);
  }

  /**
   * Starts the oldest ready batch if none is running, or hands the running session its next
   * batch if that one is full (see the class comment); a group not ready yet gets a timer for
   * when its oldest request will have waited maxDelayMs.
   */
  private kick(): void {
    while (this.inFlight.length < 2) {
      const running = this.inFlight[0]?.session ?? null;
      const now = performance.now();
      let next: Group | null = null;
      for (const group of this.groups.values()) {
        const wait = group.items[0].arrived + this.options.maxDelayMs - now;
        const full = group.images >= this.options.maxBatch;
        const ready = running === null ? full || wait <= 0 : full && group.model.session === running;
        if (ready && (!next || group.items[0].arrived < next.items[0].arrived)) next = group;
        if (!full && wait > 0 && group.timer === null) {
          group.timer = setTimeout(() => {
            group.timer = null;
            this.kick();
          }, Math.ceil(wait));
        }
      }
      if (!next) return;
      const batch = this.take(next);
      const entry: (typeof this.inFlight)[number] = { session: next.model.session, done: null };
      this.inFlight.push(entry);
      entry.done = this.run(next.model, batch).finally(() => {
        this.inFlight.splice(this.inFlight.indexOf(entry), 1);
        this.kick();
      });
    }
  }

  /** Takes the oldest requests of `group` up to maxBatch images (at least one request). */
  private take(group: Group): Pending[] {
    const limit = this.unbatchable.has(group.model.session) ? 1 : this.options.maxBatch;
    let images = 0,
      n = 0;
    while (n < group.items.length && (n === 0 || images + group.items[n].count <= limit)) images += group.items[n++].count;
    const batch = group.items.splice(0, n);
    group.images -= images;
    this.waiting -= n;
    if (group.items.length === 0) this.dropGroup(group);
    return batch;
  }

  private async run(model: BatchedModel, batch: Pending[]): Promise<void> {
    try {
      const outputs = await this.runBatch(model, batch);
      batch.forEach((item, i) => item.resolve(outputs[i]));
    } catch (e) {
      if (batch.length === 1) {
        batch[0].reject(asRequestError(e));
        return;
      }
      // The batch failed though each request passed validation alone: run them one by one,
      // so a request only ever gets its own error. If the batch was refused by the model
      // (e.g. an ONNX graph that fixes N = 1) and every request alone ran, stop batching it.
      let anyFailed = false;
      for (const item of batch) {
        try {
          item.resolve((await this.runBatch(model, [item]))[0]);
        } catch (single) {
          anyFailed = true;
          item.reject(asRequestError(single));
        }
      }
      if (!anyFailed && !serverFailure(e)) this.unbatchable.add(model.session);
    }
  }

  /**
   * One Session.runParts over the batch's images (the requests' own arrays, which nothing
   * else holds or changes: not copied); returns each request's rows.
   */
  private async runBatch(model: BatchedModel, batch: Pending[]): Promise<Tensor[]> {
    const total = batch.reduce((n, item) => n + item.count, 0);
    const t0 = performance.now();
    const logits = await model.session.runParts(batch.map((item) => item.images));
    const end = performance.now();
    this.observe(model.name, total, (end - Math.max(t0, this.lastRunEnd)) / 1000);
    this.lastRunEnd = end;
    if (batch.length === 1) return [logits];
    const perImage = logits.data.length / total;
    let row = 0;
    return batch.map((item) => {
      const data = logits.data.slice(row * perImage, (row + item.count) * perImage);
      row += item.count;
      return { data, dims: [item.count, ...logits.dims.slice(1)] };
    });
  }
}
