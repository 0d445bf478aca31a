// TEMPORARY stand-in for src/serve/protocol.ts (branch `serve`), with the same two functions,
// so the queue plumbing can be built and tested before that module lands. Replaced by it.
import { DenseNetError, check } from "../errors.js";
import type { Session } from "../session.js";
import type { AnyTensor, Tensor } from "../tensor.js";

export interface InferRequest {
  readonly id?: string;
  readonly feeds: Record<string, Tensor>;
}

const MAX_ELEMENTS = 2 ** 28;

/** Parses `{"id"?, "inputs": [{"name", "shape", "datatype": "FP32", "data"}]}` (Open Inference Protocol v2). */
export function parseInferRequest(body: unknown, session: Session): InferRequest {
  check(typeof body === "object" && body !== null && !Array.isArray(body), "request must be a JSON object");
  const { id, inputs } = body as { id?: unknown; inputs?: unknown };
  check(id === undefined || typeof id === "string", "'id' must be a string");
  check(Array.isArray(inputs) && inputs.length > 0, "'inputs' must be a non-empty array");
  const feeds: Record<string, Tensor> = {};
  for (const [i, input] of inputs.entries()) {
    check(typeof input === "object" && input !== null, `inputs[${i}] must be an object`);
    const { name, shape, datatype, data } = input as Record<string, unknown>;
    check(typeof name === "string" && session.inputNames.includes(name),
      () => `inputs[${i}].name must be one of [${session.inputNames.join(", ")}], got ${JSON.stringify(name)}`);
    check(datatype === "FP32", () => `inputs[${i}].datatype must be "FP32", got ${JSON.stringify(datatype)}`);
    check(Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 1),
      `inputs[${i}].shape must be an array of positive integers`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    check(count <= MAX_ELEMENTS, () => `inputs[${i}].shape [${shape.join(", ")}] holds more than ${MAX_ELEMENTS} values`);
    check(Array.isArray(data) && data.length === count, () => `inputs[${i}].data must hold ${count} numbers`);
    const values = new Float32Array(count);
    for (let k = 0; k < count; k++) {
      const v = data[k];
      if (typeof v !== "number" || !Number.isFinite(v)) throw new DenseNetError(`inputs[${i}].data[${k}] is not a finite number`);
      values[k] = v;
    }
    feeds[name] = { data: values, dims: shape as number[] };
  }
  return { id, feeds };
}

/** The v2 response body: `{"model_name", "id"?, "outputs": [{"name", "shape", "datatype", "data"}]}`. */
export function inferResponse(modelName: string, request: InferRequest, outputs: Record<string, AnyTensor>): object {
  return {
    model_name: modelName,
    ...(request.id === undefined ? {} : { id: request.id }),
    outputs: Object.entries(outputs).map(([name, t]) => ({
      name, shape: [...t.dims], datatype: t.data instanceof Float32Array ? "FP32" : "INT64",
      data: t.data instanceof Float32Array ? Array.from(t.data) : Array.from(t.data, Number),
    })),
  };
}
