// The Open Inference Protocol v2 (KServe, Triton, Seldon, OpenVINO Model Server) as plain
// data: model metadata, infer-request validation and infer-response building. No transport:
// the HTTP server and the queue worker both call these, so a request body gives the same
// tensors, and the same answer, whichever way it came.
import { DenseNetError, check } from "../errors.js";
import { MAX_BATCH, MAX_SIDE, type Session } from "../session.js";
import { type AnyTensor, type Tensor, elementCount, firstNonFinite } from "../tensor.js";

/** The protocol's name for a tensor's element type; the planned models take and give FP32. */
export type Datatype = "FP32" | "INT64";

/** A tensor as metadata describes it: `-1` marks a dimension that varies per request. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

/** What a served model takes and gives. */
export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** Body of `GET /v2/models/{name}`. */
export interface ModelMetadata extends ModelSignature {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
}

/** A validated infer request. */
export interface InferRequest {
  /** The request's `id`, echoed in the response. */
  readonly id?: string;
  /** Input tensors by name: every input of the model, each checked against its spec. */
  readonly inputs: Readonly<Record<string, AnyTensor>>;
  /** Names of the outputs to return, in order: the request's `outputs`, or every output of the model. */
  readonly outputs: readonly string[];
  /** Those of `outputs` asked for as raw bytes (the binary tensor data extension). */
  readonly binaryOutputs: readonly string[];
}

/** One output of an infer response. */
export interface OutputTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: Datatype;
  readonly data: number[];
}

/** An output sent as raw bytes after the JSON (the binary tensor data extension): no `data`. */
export interface BinaryOutputTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: Datatype;
  readonly parameters: { readonly binary_data_size: number };
}

/** Body of a successful `POST /v2/models/{name}/infer`. */
export interface InferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  readonly outputs: readonly (OutputTensor | BinaryOutputTensor)[];
}

/** The only model version a served file has. */
export const MODEL_VERSION = "1";
export const PLATFORM = "densenet-wasm";

/**
 * A planned model's signature: one image input (N, C, H, W) FP32 and one output (N, classes)
 * FP32 — or (N, classes, 1, 1), as some ONNX exports give — with -1 for the dimensions that
 * vary per request: N, H and W unless an ONNX graph fixes them (a request that does not match
 * a fixed one gets a 400; batching adapts to a fixed N: see Batcher). Models on the
 * interpreter are not servable (one line says why).
 */
export function modelSignature(session: Session): ModelSignature {
  let signature = signatures.get(session);
  if (!signature) {
    signature = computeSignature(session);
    signatures.set(session, signature);
  }
  return signature;
}

const signatures = new WeakMap<Session, ModelSignature>();

function computeSignature(session: Session): ModelSignature {
  const info = session.info;
  check(
    info.execution === "planned" && session.inputNames.length === 1 && session.outputNames.length === 1,
    () =>
      `model '${info.name}' cannot be served: it runs on the op-by-op interpreter (${info.notPlanned}); serve takes image models on the planned kernels`,
  );
  const shapes = session.declaredShapes;
  return {
    inputs: [{ name: session.inputNames[0], datatype: "FP32", shape: shapes.input }],
    outputs: [{ name: session.outputNames[0], datatype: "FP32", shape: shapes.output }],
  };
}

/** Metadata of a model served under `name` (`GET /v2/models/{name}`). */
export function modelMetadata(name: string, session: Session): ModelMetadata {
  return { name, versions: [MODEL_VERSION], platform: PLATFORM, ...modelSignature(session) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Validates an infer request body (parsed JSON) for `session` and returns its tensors. Every
 * problem is a one-line DenseNetError naming the field and the rule, so a transport can map
 * DenseNetError to "the client's fault" (HTTP 400). The request's images are checked exactly
 * as `session.run` checks them (shape, channels, finite values), so a request that passes
 * cannot make a batch it joins fail. Unknown top-level fields (e.g. a queue job's "model")
 * are ignored.
 *
 * `binary` is the part of the body after the JSON under the binary tensor data extension
 * (Triton's, which tritonclient uses by default: HTTP header Inference-Header-Content-Length
 * gives the JSON's length): an input with `"parameters": {"binary_data_size": B}` and no `data`
 * takes its next B bytes, little-endian float32 in row-major order. Where those bytes lie
 * 4-byte aligned, the tensor is a view of them, not a copy: keep `binary` unchanged while
 * the request is in use.
 */
export function parseInferRequest(body: unknown, session: Session, binary?: Uint8Array): InferRequest {
  const signature = modelSignature(session);
  check(isObject(body), "request body must be a JSON object with an 'inputs' array");
  const id = body.id;
  check(id === undefined || typeof id === "string", () => `'id' must be a string, got ${describe(id)}`);
  check(Array.isArray(body.inputs) && body.inputs.length > 0, "'inputs' must be a non-empty array of tensors");
  const inputs: Record<string, AnyTensor> = {};
  const bytes = { data: binary ?? new Uint8Array(0), used: 0 };
  body.inputs.forEach((entry: unknown, i: number) => {
    check(isObject(entry), () => `inputs[${i}] must be an object with name, shape, datatype and data`);
    const name = entry.name;
    check(typeof name === "string", () => `inputs[${i}].name must be a string, got ${describe(name)}`);
    const spec = signature.inputs.find((s) => s.name === name);
    check(spec, () => `unknown input '${name}': the model's inputs are [${signature.inputs.map((s) => s.name).join(", ")}]`);
    check(!Object.hasOwn(inputs, name), () => `input '${name}' is given twice`);
    inputs[name] = parseTensor(entry, spec, bytes);
  });
  for (const spec of signature.inputs) check(Object.hasOwn(inputs, spec.name), () => `missing input '${spec.name}'`);
  check(
    bytes.used === bytes.data.length,
    () => `the request has ${bytes.data.length} bytes of binary data, its inputs' binary_data_size take ${bytes.used}`,
  );
  const params = body.parameters;
  check(params === undefined || isObject(params), () => `'parameters' must be an object, got ${describe(params)}`);
  const allBinary = params?.binary_data_output;
  check(
    allBinary === undefined || typeof allBinary === "boolean",
    () => `parameters.binary_data_output must be a boolean, got ${describe(allBinary)}`,
  );
  return { ...(id === undefined ? {} : { id }), inputs, ...parseOutputs(body.outputs, signature, allBinary === true) };
}

/** The outputs chosen, and which of them go as binary (per output `parameters.binary_data`, else the request's default). */
function parseOutputs(outputs: unknown, signature: ModelSignature, allBinary: boolean): { outputs: string[]; binaryOutputs: string[] } {
  const names = signature.outputs.map((s) => s.name);
  if (outputs === undefined) return { outputs: names, binaryOutputs: allBinary ? names : [] };
  check(Array.isArray(outputs), () => `'outputs' must be an array of {"name": ...}, got ${describe(outputs)}`);
  const chosen: string[] = [],
    binary: string[] = [];
  outputs.forEach((entry: unknown, i: number) => {
    check(isObject(entry) && typeof entry.name === "string", () => `outputs[${i}] must be an object with a string 'name'`);
    const name = entry.name;
    check(names.includes(name), () => `unknown output '${name}': the model's outputs are [${names.join(", ")}]`);
    check(!chosen.includes(name), () => `output '${name}' is requested twice`);
    const p = entry.parameters;
    check(p === undefined || isObject(p), () => `outputs[${i}].parameters must be an object`);
    const flag = p?.binary_data;
    check(
      flag === undefined || typeof flag === "boolean",
      () => `outputs[${i}].parameters.binary_data must be a boolean, got ${describe(flag)}`,
    );
    chosen.push(name);
    if (flag ?? allBinary) binary.push(name);
  });
  return chosen.length > 0 ? { outputs: chosen, binaryOutputs: binary } : { outputs: names, binaryOutputs: allBinary ? names : [] };
}

/** An image input: shape [N, C, H, W] as the spec fixes it, FP32, data flat or nested, finite. */
function parseTensor(entry: Record<string, unknown>, spec: TensorSpec, binary: { data: Uint8Array; used: number }): Tensor {
  const what = `input '${spec.name}'`;
  const { shape, datatype } = entry;
  check(datatype === "FP32", () => `${what}: datatype must be "FP32", got ${describe(datatype)}`);
  check(
    Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d)),
    () => `${what}: 'shape' must be an array of integers, got ${describe(shape)}`,
  );
  const dims = shape as number[];
  check(
    dims.length === spec.shape.length,
    () => `${what}: shape [${dims.join(", ")}] must have rank ${spec.shape.length} ([${formatSpec(spec.shape)}])`,
  );
  check(
    dims.every((d) => d >= 1),
    () => `${what}: shape [${dims.join(", ")}] must hold positive integers`,
  );
  check(
    spec.shape.every((d, i) => d === -1 || d === dims[i]),
    () => `${what}: shape [${dims.join(", ")}] does not match the model's [${formatSpec(spec.shape)}]`,
  );
  check(dims[0] <= MAX_BATCH, () => `${what}: batch ${dims[0]} exceeds the maximum of ${MAX_BATCH} images`);
  check(
    dims.slice(2).every((d) => d <= MAX_SIDE),
    () => `${what}: image ${dims.slice(2).join("x")} exceeds the maximum side of ${MAX_SIDE}`,
  );
  const count = elementCount(dims);
  const params = entry.parameters;
  check(params === undefined || isObject(params), () => `${what}: 'parameters' must be an object, got ${describe(params)}`);
  const size = params?.binary_data_size;
  if (size === undefined) return { data: flattenData(entry.data, count, dims, what), dims };
  check(entry.data === undefined, () => `${what}: give either 'data' or parameters.binary_data_size, not both`);
  check(
    size === count * 4,
    () => `${what}: binary_data_size must be ${count * 4} (${count} float32 of shape [${dims.join(", ")}]), got ${describe(size)}`,
  );
  const end = binary.used + count * 4;
  check(
    end <= binary.data.length,
    () => `${what}: binary data ends at byte ${binary.data.length}, the input needs bytes ${binary.used} to ${end}`,
  );
  const data = readFloat32(binary.data.subarray(binary.used, end));
  binary.used = end;
  const bad = firstNonFinite(data);
  check(bad < 0, () => `${what}: binary value ${data[bad]} at index ${bad} is not finite`);
  return { data, dims };
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Little-endian float32 bytes as a Float32Array: a view of them where they lie 4-byte
 * aligned (the server reads binary bodies so), else a copy. The caller owns the bytes.
 */
function readFloat32(bytes: Uint8Array): Float32Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  if (LITTLE_ENDIAN) return new Float32Array(bytes.slice().buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

/** A tensor's elements as little-endian bytes. */
function tensorBytes(tensor: AnyTensor): Uint8Array {
  const data = tensor.data;
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  else data.forEach((v, i) => view.setBigInt64(8 * i, v, true));
  return out;
}

/**
 * The values of `data` (a flat array, or arrays nested as deep as the shape's rank) as float32,
 * in row-major order; exactly `count` finite numbers. Arrays of numbers may come as
 * Float32Arrays (parseJsonBytes packs a request's `data` so); a flat one of the right length
 * is returned as it is, so the caller must own it.
 */
function flattenData(data: unknown, count: number, dims: readonly number[], what: string): Float32Array {
  check(isList(data), () => `${what}: 'data' must be an array of numbers, got ${describe(data)}`);
  if (data instanceof Float32Array && data.length === count) {
    // flat, as parseJsonBytes gives it (a fresh array nothing else holds): checked, not copied
    const bad = firstNonFinite(data);
    check(bad < 0, () => `${what}: data[${bad}] = ${data[bad]} is not a finite float32`);
    return data;
  }
  const out = new Float32Array(count);
  let n = 0;
  const tooMany = () => `${what}: 'data' has more than ${count} values; shape [${dims.join(", ")}] needs ${count}`;
  const put = (v: unknown): void => {
    check(n < count, tooMany);
    if (typeof v !== "number") throw new DenseNetError(`${what}: data[${n}] must be a number, got ${describe(v)}`);
    out[n] = v;
    if (!Number.isFinite(out[n])) throw new DenseNetError(`${what}: data[${n}] = ${v} is not a finite float32`);
    n++;
  };
  const walk = (node: ArrayLike<unknown>, depth: number): void => {
    for (let i = 0; i < node.length; i++) {
      const item = node[i];
      if (isList(item)) {
        check(depth + 1 < dims.length, () => `${what}: 'data' is nested deeper than the shape's rank ${dims.length}`);
        walk(item, depth + 1);
      } else put(item);
    }
  };
  walk(data, 0);
  check(n === count, () => `${what}: 'data' has ${n} values; shape [${dims.join(", ")}] needs ${count}`);
  return out;
}

const isList = (v: unknown): v is ArrayLike<unknown> => Array.isArray(v) || v instanceof Float32Array;

/**
 * The response body for `request`'s chosen outputs, all as JSON (binaryOutputs is ignored).
 * FP32 values are printed as the shortest decimal of their float64 value, which parses back to the same float32. A non-finite output
 * (the input overflowed the network) cannot be written as JSON and is a DenseNetError.
 */
export function inferResponse(modelName: string, request: InferRequest, outputs: Readonly<Record<string, AnyTensor>>): InferResponse {
  return binaryInferResponse(modelName, { ...request, binaryOutputs: [] }, outputs).json;
}

function outputData(name: string, tensor: AnyTensor): { datatype: Datatype; data: number[] } {
  if (tensor.data instanceof Float32Array) {
    const data = Array.from(tensor.data);
    const bad = firstNonFinite(data);
    check(
      bad < 0,
      () => `output '${name}' holds a non-finite value (${data[bad]}) at index ${bad}: the input overflowed float32 in the network`,
    );
    return { datatype: "FP32", data };
  }
  const data = Array.from(tensor.data, Number);
  const bad = data.findIndex((v) => !Number.isSafeInteger(v));
  check(bad < 0, () => `output '${name}': int64 value ${tensor.data[bad]} at index ${bad} does not fit a JSON number exactly`);
  return { datatype: "INT64", data };
}

/**
 * The response for a request with binary outputs (binary tensor data extension): the JSON,
 * whose binary outputs carry `parameters.binary_data_size` instead of `data`, and the bytes to
 * send after it, in output order. For a request with none, `binary` is empty and the JSON is
 * inferResponse's.
 */
export function binaryInferResponse(
  modelName: string,
  request: InferRequest,
  outputs: Readonly<Record<string, AnyTensor>>,
): { json: InferResponse; binary: Uint8Array[] } {
  const binary: Uint8Array[] = [];
  const json: InferResponse = {
    model_name: modelName,
    model_version: MODEL_VERSION,
    ...(request.id === undefined ? {} : { id: request.id }),
    outputs: request.outputs.map((name) => {
      const tensor = outputs[name];
      check(tensor, () => `the model gave no output '${name}'`);
      if (!request.binaryOutputs.includes(name)) return { name, shape: [...tensor.dims], ...outputData(name, tensor) };
      const bytes = tensorBytes(tensor);
      binary.push(bytes);
      const datatype: Datatype = tensor.data instanceof Float32Array ? "FP32" : "INT64";
      return { name, shape: [...tensor.dims], datatype, parameters: { binary_data_size: bytes.length } };
    }),
  };
  return { json, binary };
}

/** Runs a validated request on its own (no batching) and returns the response body; for the queue worker. */
export async function runInferRequest(modelName: string, request: InferRequest, session: Session): Promise<InferResponse> {
  return inferResponse(modelName, request, await session.runNamed(request.inputs));
}

function formatSpec(shape: readonly number[]): string {
  return shape.map((d) => (d === -1 ? "-1" : String(d))).join(", ");
}

/** A short description of a JSON value for messages: its type, and the value if it is short. */
function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object") return "an object";
  const text = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`;
}
