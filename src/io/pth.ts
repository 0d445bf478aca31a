import { check } from "../errors.js";
import { formatDims } from "../tensor.js";
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
  check(
    isZip(bytes),
    `${what}: not a torch.save ZIP checkpoint (the legacy pre-1.6 format is not supported; re-save it with a current torch)`,
  );
  const members = readZip(bytes, what);
  const pkl = [...members.keys()].find((name) => name.endsWith("/data.pkl") || name === "data.pkl");
  check(pkl !== undefined, `${what}: no data.pkl in the archive: not a torch.save checkpoint`);
  const prefix = pkl.slice(0, pkl.length - "data.pkl".length);
  const root = stateDictOf(unpickle(members.get(pkl)!.data, what));
  check(root !== null, `${what}: the checkpoint holds no state_dict of tensors`);
  const tensors = new Map<string, StoredTensor>();
  const storageDtypes = new Map<string, string>();
  for (const [key, value] of root) {
    if (typeof key !== "string" || value === null || typeof value !== "object" || (value as TensorRef).kind !== "tensor") continue;
    const t = value as TensorRef;
    const storage = members.get(`${prefix}data/${t.storage.key}`);
    check(storage !== undefined, () => `${what}: tensor '${key}' refers to a missing storage 'data/${t.storage.key}'`);
    const dtype = storageDtypes.get(t.storage.key);
    check(
      dtype === undefined || dtype === t.storage.dtype,
      () => `${what}: storage 'data/${t.storage.key}' is read both as ${dtype} and as ${t.storage.dtype}`,
    );
    storageDtypes.set(t.storage.key, t.storage.dtype);
    tensors.set(key, materialise(t, storage.data, `${what}: tensor '${key}'`));
  }
  return tensors;
}

/** The dict of tensors: the top level, or its "state_dict" / "model" entry. */
function stateDictOf(value: PyValue): Map<PyValue, PyValue> | null {
  if (!(value instanceof Map)) return null;
  const hasTensors = (m: Map<PyValue, PyValue>) =>
    [...m.values()].some((v) => v !== null && typeof v === "object" && (v as TensorRef).kind === "tensor");
  if (hasTensors(value)) return value;
  for (const key of ["state_dict", "model"]) {
    const inner = value.get(key);
    if (inner instanceof Map && hasTensors(inner)) return inner;
  }
  return null;
}

const MAX_ELEMENTS = MAX_TENSOR_ELEMENTS;

/**
 * The tensor's elements in C order (gathered through its strides), converted to float32 where
 * it is a float. The record must agree with its storage: the member holds whole elements
 * (as many as the persistent id says), the view lies inside it, and it holds no more elements
 * than the storage (a stride-0 view cannot inflate a small storage into a huge tensor).
 */
function materialise(t: TensorRef, storage: Uint8Array, what: string): StoredTensor {
  const item = ITEM_BYTES[t.storage.dtype];
  check(
    storage.length % item === 0,
    () => `${what}: storage of ${storage.length} bytes is not a whole number of ${t.storage.dtype} elements`,
  );
  const stored = storage.length / item;
  check(
    t.storage.numel === undefined || t.storage.numel === stored,
    () => `${what}: its storage should hold ${t.storage.numel} elements but the archive member holds ${stored}`,
  );
  let count = 1;
  for (const n of t.size) count *= n;
  check(count <= MAX_ELEMENTS, () => `${what} has ${count} elements, over the limit of ${MAX_ELEMENTS}`);
  check(count <= stored, () => `${what} has ${count} elements but its storage holds only ${stored}`);
  let last = t.offset;
  t.size.forEach((n, i) => {
    if (n > 0) last += (n - 1) * t.stride[i];
  });
  check(
    count === 0 || last < stored,
    () =>
      `${what} (offset ${t.offset}, size ${formatDims(t.size)}, stride ${formatDims(t.stride)}) reaches element ${last} of a ${stored}-element storage`,
  );
  const rank = t.size.length;
  let contiguous = true;
  for (let i = 0, expected = 1; i < rank; i++) {
    const d = rank - 1 - i;
    if (t.size[d] !== 1 && t.stride[d] !== expected) contiguous = false;
    expected *= t.size[d];
  }
  let raw: Uint8Array;
  if (contiguous) {
    raw = storage.subarray(t.offset * item, (t.offset + count) * item);
  } else {
    raw = new Uint8Array(count * item);
    const index = new Array<number>(rank).fill(0);
    let at = t.offset;
    for (let n = 0; n < count; n++) {
      raw.set(storage.subarray(at * item, (at + 1) * item), n * item);
      for (let i = rank - 1; i >= 0; i--) {
        at += t.stride[i];
        if (++index[i] < t.size[i]) break;
        at -= index[i] * t.stride[i];
        index[i] = 0;
      }
    }
  }
  return { dtype: t.storage.dtype, shape: t.size, data: decodeFloats(raw, t.storage.dtype, count) };
}
