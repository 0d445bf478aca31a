// One queue job, start to finish, on loaded sessions: the job data is the HTTP request body
// of POST /v2/models/{model}/infer plus "model" (or the image form, see image_job.ts), and
// the value returned is the HTTP response body, so a producer can move between the queue and
// the server without changing a byte.
import { DenseNetError, check } from "../errors.js";
import type { Session } from "../session.js";
import { parseInferRequest, runInferRequest } from "../serve/protocol.js";
import { runImageJob } from "./image_job.js";

/** The sessions a worker serves, by model name. */
export type ModelSessions = ReadonlyMap<string, Session>;

/**
 * Runs one job's data and returns the response body. Anything wrong with the data (not an
 * object, no or an unknown model, a request the protocol refuses, a tensor the model
 * refuses) throws a one-line DenseNetError; a job that fails so must not be retried.
 */
export async function processJob(sessions: ModelSessions, data: unknown): Promise<object> {
  check(typeof data === "object" && data !== null && !Array.isArray(data), "job data must be a JSON object with a 'model' field");
  const { model } = data as Record<string, unknown>;
  check(
    typeof model === "string",
    () =>
      `job data must name its model in a string field 'model', got ${model === undefined ? "none" : JSON.stringify(model).slice(0, 60)}`,
  );
  const session = sessions.get(model);
  if (!session) {
    throw new DenseNetError(`unknown model '${model.slice(0, 128)}': this worker serves [${[...sessions.keys()].join(", ")}]`);
  }
  if ("image" in data) return runImageJob(model, session, data);
  // The protocol ignores unknown top-level fields such as "model".
  return runInferRequest(model, parseInferRequest(data, session), session);
}

/**
 * Whether a job's error comes from its data (so a retry fails the same way): every
 * DenseNetError but a thread-pool failure, which the session reports as a DenseNetError
 * "a worker failed during the run: ..." (src/runtime/pool.ts) and which a retry can survive.
 */
export function refusesInput(error: unknown): boolean {
  return error instanceof DenseNetError && !error.message.startsWith("a worker failed during the run");
}
