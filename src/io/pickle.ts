import { DenseNetError, check } from "../errors.js";

// A restricted unpickler for torch.save's data.pkl: it builds plain values and never calls
// anything. The only globals it accepts are the few a state_dict needs (OrderedDict, torch's
// tensor rebuild functions and storage types); any other global, and any opcode outside the
// subset torch writes, is an error. So a hostile file cannot run code.

/** A torch storage: the member `data/<key>` of the archive, of elements of `dtype`. */
export interface StorageRef {
  readonly kind: "storage";
  readonly key: string;
  readonly dtype: string;
  /** Elements the persistent id says the storage holds (checked against the archive member). */
  readonly numel?: number;
}

/** A tensor as torch._utils._rebuild_tensor_v2 describes it: a strided view of a storage. */
export interface TensorRef {
  readonly kind: "tensor";
  readonly storage: StorageRef;
  readonly offset: number;
  readonly size: readonly number[];
  readonly stride: readonly number[];
}

interface GlobalRef {
  readonly kind: "global";
  readonly name: string;
}

export type PyValue = null | boolean | number | string | PyValue[] | Map<PyValue, PyValue> | StorageRef | TensorRef | GlobalRef;

/** Storage classes torch writes, by the safetensors dtype name of their elements. */
const STORAGE_DTYPES: Record<string, string> = {
  "torch.FloatStorage": "F32",
  "torch.HalfStorage": "F16",
  "torch.BFloat16Storage": "BF16",
  "torch.DoubleStorage": "F64",
  "torch.LongStorage": "I64",
  "torch.IntStorage": "I32",
  "torch.ShortStorage": "I16",
  "torch.CharStorage": "I8",
  "torch.ByteStorage": "U8",
  "torch.BoolStorage": "BOOL",
};
const CALLABLES = new Set(["collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter"]);

const MARK = Symbol("mark");
/**
 * Most values all containers of one pickle may hold together (items appended to lists and
 * tuples, dict entries), and the deepest stack: a DenseNet state_dict needs a few thousand.
 * Both keep a hostile pickle's memory bounded; its work is linear in its length.
 */
export const MAX_PICKLE_ITEMS = 1 << 22;
/** Largest data.pkl read (DenseNet-161's is about 100 KB). */
export const MAX_PICKLE_BYTES = 64 << 20;
type StackItem = PyValue | typeof MARK;

/** Unpickles torch.save's data.pkl (protocols 2 to 5) into plain values. */
export function unpickle(data: Uint8Array, what: string): PyValue {
  check(data.length <= MAX_PICKLE_BYTES, `${what}: data.pkl has ${data.length} bytes, over the limit of ${MAX_PICKLE_BYTES}`);
  let items = 0;
  /** Counts `n` more container items against MAX_PICKLE_ITEMS. */
  const grow = (n: number) => {
    items += n;
    check(
      items <= MAX_PICKLE_ITEMS && stack.length <= MAX_PICKLE_ITEMS,
      `${what}: the pickle holds more than ${MAX_PICKLE_ITEMS} items: not a state_dict`,
    );
  };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  let at = 0;
  const need = (n: number) => check(at + n <= data.length, `${what}: pickle is truncated at byte ${at}`);
  const u8 = () => {
    need(1);
    return data[at++];
  };
  const u16 = () => {
    need(2);
    const v = view.getUint16(at, true);
    at += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  const text = (n: number) => {
    need(n);
    const s = new TextDecoder("utf-8", { fatal: false }).decode(data.subarray(at, at + n));
    at += n;
    return s;
  };
  const line = () => {
    const end = data.indexOf(0x0a, at);
    check(end >= 0, `${what}: pickle is truncated at byte ${at}`);
    const s = new TextDecoder().decode(data.subarray(at, end));
    at = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    check(v !== undefined && v !== MARK, `${what}: malformed pickle (stack underflow at byte ${at})`);
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    check(i >= 0, `${what}: malformed pickle (no mark at byte ${at})`);
    return stack.splice(i).slice(1) as PyValue[];
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    check(v !== undefined && v !== MARK, `${what}: malformed pickle (empty stack at byte ${at})`);
    return v as PyValue;
  };
  const global = (module: string, name: string): PyValue => {
    const full = `${module}.${name}`;
    if (full in STORAGE_DTYPES) return { kind: "global", name: full };
    if (CALLABLES.has(full)) return { kind: "global", name: full };
    throw new DenseNetError(`${what}: refusing to load global '${full}': a checkpoint may only hold tensors and dicts`);
  };
  const dictOf = (v: PyValue): Map<PyValue, PyValue> => {
    check(v instanceof Map, `${what}: malformed pickle (item assignment to a non-dict at byte ${at})`);
    return v as Map<PyValue, PyValue>;
  };

  for (;;) {
    if (stack.length > MAX_PICKLE_ITEMS) grow(0);
    const op = u8();
    switch (op) {
      case 0x80:
        u8();
        break; // PROTO
      case 0x95:
        need(8);
        at += 8;
        break; // FRAME
      case 0x2e:
        return pop(); // STOP
      case 0x28:
        stack.push(MARK);
        break; // MARK
      case 0x63: {
        const module = line();
        stack.push(global(module, line()));
        break;
      } // GLOBAL
      case 0x93: {
        const name = pop(),
          module = pop();
        check(typeof name === "string" && typeof module === "string", `${what}: malformed STACK_GLOBAL`);
        stack.push(global(module, name));
        break;
      }
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
      case 0x6a: {
        // BINGET, LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        check(memo.has(key), `${what}: malformed pickle (memo ${key} unset)`);
        stack.push(memo.get(key)!);
        break;
      }
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x74: {
        const t = popMark();
        grow(t.length);
        stack.push(t);
        break;
      } // TUPLE
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = pop(),
          a = pop();
        stack.push([a, b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop(),
          b = pop(),
          a = pop();
        stack.push([a, b, c]);
        break;
      } // TUPLE3
      case 0x58:
        stack.push(text(u32()));
        break; // BINUNICODE
      case 0x8c:
        stack.push(text(u8()));
        break; // SHORT_BINUNICODE
      case 0x4a: {
        need(4);
        stack.push(view.getInt32(at, true));
        at += 4;
        break;
      } // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x8a: {
        // LONG1
        const n = u8();
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i]);
        if (n > 0 && data[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        at += n;
        check(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER), `${what}: integer ${v} is out of range`);
        stack.push(Number(v));
        break;
      }
      case 0x47: {
        need(8);
        stack.push(view.getFloat64(at, false));
        at += 8;
        break;
      } // BINFLOAT
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x51:
        stack.push(persistent(pop(), what));
        break; // BINPERSID
      case 0x52: {
        const args = pop(),
          fn = pop();
        stack.push(reduce(fn, args, what));
        break;
      } // REDUCE
      case 0x62:
        pop();
        dictOf(top());
        break; // BUILD: an OrderedDict's attributes (_metadata), ignored
      case 0x73: {
        const v = pop(),
          k = pop();
        grow(1);
        dictOf(top()).set(k, v);
        break;
      } // SETITEM
      case 0x75: {
        // SETITEMS
        const items = popMark(),
          dict = dictOf(top());
        check(items.length % 2 === 0, `${what}: malformed SETITEMS`);
        grow(items.length / 2);
        for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
        break;
      }
      case 0x61: {
        const v = pop();
        const list = top();
        check(Array.isArray(list), `${what}: malformed APPEND`);
        grow(1);
        (list as PyValue[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const values = popMark(),
          list = top();
        check(Array.isArray(list), `${what}: malformed APPENDS`);
        grow(values.length);
        for (const v of values) (list as PyValue[]).push(v);
        break;
      }
      default:
        throw new DenseNetError(`${what}: unsupported pickle opcode 0x${op.toString(16)} at byte ${at - 1}`);
    }
  }
}

/** torch's persistent id: ('storage', storage class, key, location, numel). */
function persistent(pid: PyValue, what: string): StorageRef {
  check(Array.isArray(pid) && pid.length >= 3 && pid[0] === "storage", () => `${what}: unsupported persistent id ${describe(pid)}`);
  const type = pid[1] as GlobalRef;
  check(
    type !== null &&
      typeof type === "object" &&
      (type as GlobalRef).kind === "global" &&
      Object.hasOwn(STORAGE_DTYPES, type.name) &&
      typeof pid[2] === "string",
    () => `${what}: unsupported storage in persistent id ${describe(pid)}`,
  );
  const numel = pid[4];
  check(
    numel === undefined || (Number.isSafeInteger(numel) && (numel as number) >= 0),
    () => `${what}: storage '${pid[2] as string}' has an invalid element count ${describe(numel ?? null)}`,
  );
  return { kind: "storage", key: pid[2] as string, dtype: STORAGE_DTYPES[type.name], numel: numel as number | undefined };
}

/**
 * A short description of an unpickled value for messages: bounded in depth and breadth, so
 * a self-referencing or exponentially shared structure costs nothing to describe.
 */
export function describe(v: PyValue, depth = 0): string {
  if (v === null) return "None";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v !== "object") return String(v);
  if (depth >= 2) return Array.isArray(v) ? "(…)" : v instanceof Map ? "{…}" : v.kind;
  if (Array.isArray(v)) {
    const head = v.slice(0, 4).map((x) => describe(x, depth + 1));
    return `(${head.join(", ")}${v.length > 4 ? `, … ${v.length} items` : ""})`;
  }
  if (v instanceof Map) return `{dict of ${v.size}}`;
  return v.kind === "global" ? v.name : v.kind;
}

function isIntList(v: PyValue): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0);
}

/** Calls one of the whitelisted callables, building a value; nothing is executed. */
function reduce(fn: PyValue, args: PyValue, what: string): PyValue {
  check(fn !== null && typeof fn === "object" && (fn as GlobalRef).kind === "global" && Array.isArray(args), `${what}: malformed REDUCE`);
  const name = (fn as GlobalRef).name;
  const a = args as PyValue[];
  switch (name) {
    case "collections.OrderedDict":
      return new Map();
    case "torch._utils._rebuild_tensor_v2": {
      const [storage, offset, size, stride] = a;
      check(!(typeof offset === "number" && offset < 0), () => `${what}: a tensor record has a negative storage offset (${offset})`);
      check(
        storage !== null &&
          typeof storage === "object" &&
          (storage as StorageRef).kind === "storage" &&
          Number.isSafeInteger(offset) &&
          isIntList(size) &&
          isIntList(stride) &&
          size.length === stride.length,
        () => `${what}: malformed tensor record (storage offset, size, stride) ${describe(a)}`,
      );
      return { kind: "tensor", storage: storage as StorageRef, offset: offset as number, size, stride };
    }
    case "torch._utils._rebuild_parameter": {
      const tensor = a[0];
      check(
        tensor !== null && typeof tensor === "object" && (tensor as TensorRef).kind === "tensor",
        `${what}: malformed parameter record`,
      );
      return tensor;
    }
    default:
      throw new DenseNetError(`${what}: '${name}' cannot be called`);
  }
}
