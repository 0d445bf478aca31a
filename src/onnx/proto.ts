// The subset of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) this
// runtime reads, as a protobufjs reflection schema built in code: no .proto file is read at
// run time and nothing is generated. Field numbers are ONNX's. Sub-messages we do not model
// (sparse tensors, sequence/map types, functions, training info) are declared as `bytes` so
// their presence is seen and refused with a clear message instead of silently skipped.
import protobuf from "protobufjs";
import { DenseNetError } from "../errors.js";

/** An int64 field as protobufjs decodes it: a Long (low/high 32-bit halves) or a number. */
export type Int64 = number | { readonly low: number; readonly high: number; readonly unsigned?: boolean };

export interface TensorProto {
  readonly dims: readonly Int64[];
  readonly dataType: number;
  readonly segment?: Uint8Array;
  readonly floatData: readonly number[];
  readonly int32Data: readonly number[];
  readonly stringData: readonly Uint8Array[];
  readonly int64Data: readonly Int64[];
  readonly name: string;
  readonly rawData?: Uint8Array;
  readonly doubleData: readonly number[];
  readonly uint64Data: readonly Int64[];
  readonly externalData: readonly Uint8Array[];
  readonly dataLocation: number;
}

export interface Dimension {
  readonly dimValue?: Int64;
  readonly dimParam?: string;
}

export interface TypeProto {
  readonly tensorType?: { readonly elemType: number; readonly shape?: { readonly dim: readonly Dimension[] } };
  readonly sequenceType?: Uint8Array;
  readonly mapType?: Uint8Array;
  readonly sparseTensorType?: Uint8Array;
  readonly optionalType?: Uint8Array;
}

export interface ValueInfoProto {
  readonly name: string;
  readonly type?: TypeProto;
}

export interface AttributeProto {
  readonly name: string;
  readonly refAttrName: string;
  readonly type: number;
  readonly f: number;
  readonly i: Int64;
  readonly s: Uint8Array;
  readonly t?: TensorProto;
  readonly g?: Uint8Array;
  readonly floats: readonly number[];
  readonly ints: readonly Int64[];
  readonly strings: readonly Uint8Array[];
  readonly tensors: readonly TensorProto[];
  readonly graphs: readonly Uint8Array[];
}

export interface NodeProto {
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly attribute: readonly AttributeProto[];
}

export interface GraphProto {
  readonly node: readonly NodeProto[];
  readonly name: string;
  readonly initializer: readonly TensorProto[];
  readonly sparseInitializer: readonly Uint8Array[];
  readonly input: readonly ValueInfoProto[];
  readonly output: readonly ValueInfoProto[];
}

export interface ModelProto {
  readonly irVersion: Int64;
  readonly opsetImport: readonly { readonly domain: string; readonly version: Int64 }[];
  readonly producerName: string;
  readonly graph?: GraphProto;
  readonly functions: readonly Uint8Array[];
  /** Free-form key/value pairs (ModelProto.metadata_props), e.g. class labels and preprocessing. */
  readonly metadataProps: readonly { readonly key: string; readonly value: string }[];
}

/** AttributeProto.AttributeType values. */
export const ATTRIBUTE_TYPES = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

type Label = "repeated" | undefined;
const field = (id: number, type: string, rule?: Label) => (rule ? { id, type, rule } : { id, type });

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: field(1, "int64"),
            opsetImport: field(8, "OperatorSetIdProto", "repeated"),
            producerName: field(2, "string"),
            producerVersion: field(3, "string"),
            graph: field(7, "GraphProto"),
            functions: field(25, "bytes", "repeated"),
            metadataProps: field(14, "StringStringEntryProto", "repeated"),
          },
        },
        StringStringEntryProto: { fields: { key: field(1, "string"), value: field(2, "string") } },
        OperatorSetIdProto: { fields: { domain: field(1, "string"), version: field(2, "int64") } },
        GraphProto: {
          fields: {
            node: field(1, "NodeProto", "repeated"),
            name: field(2, "string"),
            initializer: field(5, "TensorProto", "repeated"),
            sparseInitializer: field(15, "bytes", "repeated"),
            input: field(11, "ValueInfoProto", "repeated"),
            output: field(12, "ValueInfoProto", "repeated"),
          },
        },
        NodeProto: {
          fields: {
            input: field(1, "string", "repeated"),
            output: field(2, "string", "repeated"),
            name: field(3, "string"),
            opType: field(4, "string"),
            domain: field(7, "string"),
            attribute: field(5, "AttributeProto", "repeated"),
          },
        },
        AttributeProto: {
          fields: {
            name: field(1, "string"),
            refAttrName: field(21, "string"),
            type: field(20, "int32"),
            f: field(2, "float"),
            i: field(3, "int64"),
            s: field(4, "bytes"),
            t: field(5, "TensorProto"),
            g: field(6, "bytes"),
            floats: field(7, "float", "repeated"),
            ints: field(8, "int64", "repeated"),
            strings: field(9, "bytes", "repeated"),
            tensors: field(10, "TensorProto", "repeated"),
            graphs: field(11, "bytes", "repeated"),
          },
        },
        ValueInfoProto: { fields: { name: field(1, "string"), type: field(2, "TypeProto") } },
        TypeProto: {
          fields: {
            tensorType: field(1, "TensorTypeProto"),
            sequenceType: field(4, "bytes"),
            mapType: field(5, "bytes"),
            sparseTensorType: field(8, "bytes"),
            optionalType: field(9, "bytes"),
          },
        },
        TensorTypeProto: { fields: { elemType: field(1, "int32"), shape: field(2, "TensorShapeProto") } },
        TensorShapeProto: { fields: { dim: field(1, "Dimension", "repeated") } },
        Dimension: { fields: { dimValue: field(1, "int64"), dimParam: field(2, "string") } },
        TensorProto: {
          fields: {
            dims: field(1, "int64", "repeated"),
            dataType: field(2, "int32"),
            segment: field(3, "bytes"),
            floatData: field(4, "float", "repeated"),
            int32Data: field(5, "int32", "repeated"),
            stringData: field(6, "bytes", "repeated"),
            int64Data: field(7, "int64", "repeated"),
            name: field(8, "string"),
            rawData: field(9, "bytes"),
            doubleData: field(10, "double", "repeated"),
            uint64Data: field(11, "uint64", "repeated"),
            externalData: field(13, "bytes", "repeated"),
            dataLocation: field(14, "int32"),
          },
        },
      },
    },
  },
};

/**
 * Whether a decoded message carries `field` (protobufjs puts defaults of absent fields on the
 * prototype, so `msg.field` alone cannot tell an absent field from a default value).
 */
export function present<T extends object>(message: T | undefined, field: keyof T & string): boolean {
  return message !== undefined && message !== null && Object.hasOwn(message, field);
}

let modelType: protobuf.Type | undefined;

/** The ModelProto message type of the schema above (decoding here; tests also encode with it). */
export function modelProtoType(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(SCHEMA).lookupType("onnx.ModelProto");
  return modelType;
}

/**
 * Decodes ONNX ModelProto bytes. A truncated or corrupt message is a one-line error; a
 * message that decodes but has no graph (any other protobuf, or garbage that happens to
 * parse) is one too.
 */
export function decodeModel(bytes: Uint8Array, what: string): ModelProto {
  const kind = sniffOtherFormat(bytes);
  if (kind) throw new DenseNetError(`${what}: not an ONNX model (it looks like ${kind})`);
  let model: ModelProto;
  try {
    model = modelProtoType().decode(bytes) as unknown as ModelProto;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new DenseNetError(`${what}: not a valid ONNX model: the protobuf is truncated or corrupt (${reason})`);
  }
  if (!present(model, "graph") || !model.graph || (model.graph.node.length === 0 && model.graph.output.length === 0)) {
    throw new DenseNetError(`${what}: not a valid ONNX model: it holds no graph`);
  }
  return model;
}

/** Names a few formats users pass by mistake, from their first bytes. */
function sniffOtherFormat(bytes: Uint8Array): string | null {
  const starts = (...b: number[]) => bytes.length >= b.length && b.every((x, i) => bytes[i] === x);
  if (bytes.length === 0) return "an empty file";
  if (starts(0x50, 0x4b, 0x03, 0x04)) return "a zip archive, e.g. a PyTorch .pth";
  if (starts(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59)) return "a NumPy .npy array";
  if (starts(0x80) && bytes.length > 1 && bytes[1] >= 2 && bytes[1] <= 5) return "a Python pickle";
  if (starts(0x89, 0x50, 0x4e, 0x47) || starts(0xff, 0xd8, 0xff)) return "an image";
  if (starts(0x7b) || starts(0x3c)) return "a text file (JSON, HTML or XML)";
  return null;
}
