// The main thread's handle on the inference thread (see inference_thread_main.ts).
import { Worker } from "node:worker_threads";
import { DenseNetError } from "../errors.js";
import type { FromInferenceThread, InferenceThreadInit, ModelSummary, ToInferenceThread } from "./messages.js";
import type { ModelSpec } from "./model_specs.js";

/** Why a job failed; `invalidInput`: its data was refused, so a retry would fail the same way. */
export class JobFailure extends Error {
  constructor(
    message: string,
    readonly invalidInput: boolean,
  ) {
    super(message);
  }
}

interface Pending {
  resolve(value: object): void;
  reject(error: JobFailure): void;
}

const ENTRY = new URL("./inference_thread_main.js", import.meta.url);

/**
 * One thread holding a session per model. Jobs sent to it run concurrently there (each
 * session runs its jobs one after another, on its own pool when threads > 1). If the thread
 * dies, the jobs in it fail as retryable and the next job starts a fresh thread.
 */
export class InferenceThread {
  private thread: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closing: Promise<void> | null = null;
  /** A restart after the thread died, shared by the jobs that wait for it. */
  private restarting: Promise<void> | null = null;

  private constructor(
    private readonly init: InferenceThreadInit,
    readonly models: readonly ModelSummary[],
  ) {}

  /** Starts the thread and loads every model; a model that cannot be loaded rejects with its DenseNetError. */
  static async start(specs: readonly ModelSpec[], threads: number): Promise<InferenceThread> {
    const init = { specs, threads };
    const { thread, models } = await InferenceThread.spawn(init);
    const handle = new InferenceThread(init, models);
    handle.adopt(thread);
    return handle;
  }

  private static spawn(init: InferenceThreadInit): Promise<{ thread: Worker; models: readonly ModelSummary[] }> {
    return new Promise((resolve, reject) => {
      const thread = new Worker(ENTRY, { workerData: init });
      const onExit = (code: number) => reject(new Error(`the inference thread exited with code ${code} while loading the models`));
      thread.once("error", reject);
      thread.once("exit", onExit);
      thread.once("message", (message: FromInferenceThread) => {
        thread.off("error", reject);
        thread.off("exit", onExit);
        if (message.kind === "ready") return resolve({ thread, models: message.models });
        void thread.terminate();
        if (message.kind === "load-failed") {
          reject(message.invalidInput ? new DenseNetError(message.message) : new Error(message.message));
        } else reject(new Error(`the inference thread sent '${message.kind}' before loading the models`));
      });
    });
  }

  private adopt(thread: Worker): void {
    this.thread = thread;
    thread.on("message", (message: FromInferenceThread) => {
      if (message.kind === "closed") void thread.terminate();
      if (message.kind !== "done" && message.kind !== "failed") return;
      const job = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.kind === "done") job?.resolve(message.value);
      else job?.reject(new JobFailure(message.message, message.invalidInput));
    });
    const died = (why: string) => {
      if (this.thread !== thread) return;
      this.thread = null;
      for (const job of this.pending.values())
        job.reject(new JobFailure(`the inference thread stopped (${why}) while running this job`, false));
      this.pending.clear();
    };
    thread.on("error", (e) => died(e.message.split("\n")[0]));
    thread.on("exit", (code) => died(`exit code ${code}`));
  }

  /** Runs one job's data; resolves with the response body or rejects with a JobFailure. */
  async process(data: unknown): Promise<object> {
    if (this.closing) throw new JobFailure("the worker is closing", false);
    while (!this.thread) {
      this.restarting ??= InferenceThread.spawn(this.init)
        .then(({ thread }) => this.adopt(thread))
        .finally(() => {
          this.restarting = null;
        });
      await this.restarting;
    }
    const thread = this.thread;
    const id = this.nextId++;
    return new Promise<object>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      thread.postMessage({ kind: "job", id, data } satisfies ToInferenceThread);
    });
  }

  /** Lets the jobs in hand finish, releases the sessions and ends the thread. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const thread = this.thread;
      if (!thread) return resolve();
      thread.once("exit", () => resolve());
      thread.postMessage({ kind: "close" } satisfies ToInferenceThread);
    });
    return this.closing;
  }
}
