// Entry of the inference thread: loads every model once, then runs jobs as the main thread
// sends them, so the main thread's event loop never runs inference and BullMQ's lock
// renewal and stalled-job checks keep their timing whatever a job costs.
import { parentPort, workerData } from "node:worker_threads";
import { DenseNetError } from "../errors.js";
import { modelMetadata } from "../serve/protocol.js";
import { Session } from "../session.js";
import { processJob, refusesInput } from "./job.js";
import type { FromInferenceThread, InferenceThreadInit, ModelSummary, ToInferenceThread } from "./messages.js";

const port = parentPort!;
const { specs, threads } = workerData as InferenceThreadInit;
const post = (message: FromInferenceThread) => port.postMessage(message);
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

const sessions = new Map<string, Session>();
const models: ModelSummary[] = [];
/** Jobs in hand: closing waits for them. */
const running = new Set<Promise<void>>();

async function load(): Promise<boolean> {
  for (const spec of specs) {
    try {
      const session = await Session.create(spec.source, { threads });
      sessions.set(spec.name, session);
      // Refuses, at start-up, a model the protocol cannot serve (one on the interpreter).
      const { inputs, outputs } = modelMetadata(spec.name, session);
      const description =
        `${session.info.parameters.toLocaleString("en-US")} parameters, ` +
        `input [${inputs[0].shape.join(", ")}], output [${outputs[0].shape.join(", ")}]`;
      models.push({ name: spec.name, source: spec.source, description });
    } catch (e) {
      await Promise.all([...sessions.values()].map((s) => s.release()));
      post({
        kind: "load-failed",
        message: `model '${spec.name}' (${spec.source}): ${errorText(e)}`,
        invalidInput: e instanceof DenseNetError,
      });
      return false;
    }
  }
  return true;
}

async function runJob(id: number, data: unknown): Promise<void> {
  try {
    post({ kind: "done", id, value: await processJob(sessions, data) });
  } catch (e) {
    post({ kind: "failed", id, message: errorText(e), invalidInput: refusesInput(e) });
  }
}

if (await load()) {
  port.on("message", (message: ToInferenceThread) => {
    if (message.kind === "job") {
      const job = runJob(message.id, message.data).finally(() => running.delete(job));
      running.add(job);
    } else {
      // The main thread terminates this thread on "closed" (Deno's parentPort has no close()).
      void Promise.all(running)
        .then(() => Promise.all([...sessions.values()].map((s) => s.release())))
        .then(() => post({ kind: "closed" }));
    }
  });
  post({ kind: "ready", models });
}
