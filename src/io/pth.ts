import { check } from "../errors.js";
import { type PyValue, type TensorRef, unpickle } from "./pickle.js";
import { ITEM_BYTES, type StoredTensor, decodeFloats } from "./safetensors.js";
import { MAX_TENSOR_ELEMENTS } from "../tensor.js";
import { isZip, readZip } from "./zip.js";

/**
 * Reads a PyTorch checkpoint written by torch.save (the ZIP format of torch >= 1.6): the
 * tensors of its state_dict by name, float dtypes converted to float32. A checkpoint whose
 * top level is a dict holding the state_dict under "state_dict" or "model" is accepted too.
 * The pickle is read by a restricted unpickler that executes nothing (io/pickle.ts).
 */
export function parsePth(bytes: Uint8Array, what: string): Map<string, StoredTensor> {
  check(isZip(bytes), `${what}: not a torch.save ZIP checkpoint (the legacy pre-1.6 format is not supported; re-save it with a current torch)`);
  const members = readZip(bytes, what);
  const pkl = [...members.keys()].find((name) => name.endsWith("/data.pkl") || name === "data.pkl");
  check(pkl !== undefined, `${what}: no data.pkl in the archive: not a torch.save checkpoint`);
  const prefix = pkl.slice(0, pkl.length - "data.pkl".length);
  const root = stateDictOf(unpickle(members.get(pkl)!.data, what));
  check(root !== null, `${what}: the checkpoint holds no state_dict of tensors`);
  const tensors = new Map<string, StoredTensor>();
  for (const [key, value] of root) {
    if (typeof key !== "string" || value === null || typeof value !== "object" || (value as TensorRef).kind !== "tensor") continue;
    const t = value as TensorRef;
    const storage = members.get(`${prefix}data/${t.storage.key}`);
    check(storage !== undefined, `${what}: tensor '${key}' refers to a missing storage 'data/${t.storage.key}'`);
    tensors.set(key, materialise(t, storage.data, `${what}: tensor '${key}'`));
  }
  return tensors;
}

/** The dict of tensors: the top level, or its "state_dict" / "model" entry. */
function stateDictOf(value: PyValue): Map<PyValue, PyValue> | null {
  if (!(value instanceof Map)) return null;
  const hasTensors = (m: Map<PyValue, PyValue>) => [...m.values()].some((v) => v !== null && typeof v === "object" && (v as TensorRef).kind === "tensor");
  if (hasTensors(value)) return value;
  for (const key of ["state_dict", "model"]) {
    const inner = value.get(key);
    if (inner instanceof Map && hasTensors(inner)) return inner;
  }
  return null;
}

const MAX_ELEMENTS = MAX_TENSOR_ELEMENTS;

/** The tensor's elements in C order (gathered through its strides), converted to float32 where it is a float. */
function materialise(t: TensorRef, storage: Uint8Array, what: string): StoredTensor {
  const item = ITEM_BYTES[t.storage.dtype];
  const count = t.size.reduce((a, b) => a * b, 1);
  check(count <= MAX_ELEMENTS, `${what} has ${count} elements, over the limit of ${MAX_ELEMENTS}`);
  let last = t.offset;
  t.size.forEach((n, i) => { if (n > 0) last += (n - 1) * t.stride[i]; });
  check(count === 0 || (last + 1) * item <= storage.length, `${what} reaches past the end of its storage`);
  const contiguous = t.size.every((_, i) => t.size.slice(i + 1).reduce((a, b) => a * b, 1) === t.stride[i] || t.size[i] === 1);
  let raw: Uint8Array;
  if (contiguous) {
    raw = storage.subarray(t.offset * item, (t.offset + count) * item);
  } else {
    raw = new Uint8Array(count * item);
    const index = new Array<number>(t.size.length).fill(0);
    for (let n = 0; n < count; n++) {
      let at = t.offset;
      index.forEach((k, i) => { at += k * t.stride[i]; });
      raw.set(storage.subarray(at * item, (at + 1) * item), n * item);
      for (let i = index.length - 1; i >= 0 && ++index[i] === t.size[i]; i--) index[i] = 0;
    }
  }
  return { dtype: t.storage.dtype, shape: t.size, data: decodeFloats(raw, t.storage.dtype, count) };
}
