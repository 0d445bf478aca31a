// TensorProto (initializers, Constant values, attribute tensors) to interpreter tensors.
import { check } from "../errors.js";
import { type Int64, type TensorProto, present } from "./proto.js";
import type { DataType, OnnxTensor } from "./tensor.js";
import { elementCount } from "../tensor.js";

/** TensorProto.DataType names, for messages. */
const DATA_TYPE_NAMES: Record<number, string> = {
  0: "undefined",
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
  14: "complex64",
  15: "complex128",
  16: "bfloat16",
};
const FLOAT = 1,
  INT64 = 7;

export function dataTypeName(code: number): string {
  return DATA_TYPE_NAMES[code] ?? `type ${code}`;
}

/** The interpreter's type for an ONNX element type code, or null when it is not supported. */
export function toDataType(code: number): DataType | null {
  return code === FLOAT ? "float32" : code === INT64 ? "int64" : null;
}

/** An int64 field as a BigInt, exactly. */
export function int64ToBigInt(v: Int64): bigint {
  if (typeof v === "number") return BigInt(v);
  return BigInt.asIntN(64, (BigInt(v.high) << 32n) | BigInt(v.low >>> 0));
}

/** An int64 field as a number; `what` names it if it is not a safe integer. */
export function int64ToNumber(v: Int64, what: string): number {
  const n = typeof v === "number" ? v : v.high * 2 ** 32 + (v.low >>> 0);
  check(Number.isSafeInteger(n), () => `${what}: ${int64ToBigInt(v)} is out of range`);
  return n;
}

/** The tensor a TensorProto holds; `what` names it in errors ("initializer 'w'"). */
export function readTensorProto(t: TensorProto, what: string): OnnxTensor {
  const dims = t.dims.map((d) => int64ToNumber(d, `${what}: dimension`));
  check(
    dims.every((d) => d >= 0),
    () => `${what}: negative dimension in shape [${dims.join(", ")}]`,
  );
  const type = toDataType(t.dataType);
  check(type !== null, () => `${what}: element type ${dataTypeName(t.dataType)} is not supported (float32 and int64 are)`);
  check(t.dataLocation !== 1 && t.externalData.length === 0, () => `${what}: tensors stored in external data files are not supported`);
  check(!present(t, "segment"), () => `${what}: segmented tensors are not supported`);
  const count = elementCount(dims);
  check(Number.isSafeInteger(count), () => `${what}: shape [${dims.join(", ")}] is too large`);
  const size = type === "float32" ? 4 : 8;
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    check(
      raw.length === count * size,
      () => `${what}: raw data holds ${raw.length} bytes, shape [${dims.join(", ")}] of ${type} needs ${count * size}`,
    );
    const bytes = new Uint8Array(raw.length);
    bytes.set(raw); // copy: raw may sit at an offset not aligned for a typed-array view
    return type === "float32" ? { data: new Float32Array(bytes.buffer), dims } : { data: new BigInt64Array(bytes.buffer), dims };
  }
  const values = type === "float32" ? t.floatData : t.int64Data;
  check(values.length === count, () => `${what}: holds ${values.length} values, shape [${dims.join(", ")}] needs ${count}`);
  return type === "float32"
    ? { data: Float32Array.from(t.floatData), dims }
    : { data: BigInt64Array.from(t.int64Data, int64ToBigInt), dims };
}
