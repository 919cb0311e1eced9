/**
 * The part of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto, IR version 8) that a loss graph
 * needs, as a protobufjs JSON descriptor, and the encoder of a ModelProto. Field numbers follow
 * onnx.proto; fields this package never writes are left out (protobuf readers skip what is absent).
 */

/** TensorProto.DataType values used here. */
export const OnnxDataType = { FLOAT: 1, INT64: 7, BOOL: 9 } as const;

/** AttributeProto.AttributeType values used here. */
export const OnnxAttributeType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** Little-endian bytes of the values. */
  readonly rawData: Uint8Array;
}

export interface OnnxAttribute {
  readonly name: string;
  readonly type: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: Uint8Array;
  readonly ints?: readonly number[];
}

export interface OnnxNode {
  readonly opType: string;
  readonly name: string;
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly attribute: readonly OnnxAttribute[];
}

export interface OnnxValueInfo {
  readonly name: string;
  readonly type: { readonly tensorType: { readonly elemType: number; readonly shape: { readonly dim: readonly { readonly dimValue: number }[] } } };
}

export interface OnnxModel {
  readonly irVersion: number;
  readonly producerName: string;
  readonly opsetImport: readonly { readonly domain: string; readonly version: number }[];
  readonly graph: {
    readonly name: string;
    readonly node: readonly OnnxNode[];
    readonly initializer: readonly OnnxTensor[];
    readonly input: readonly OnnxValueInfo[];
    readonly output: readonly OnnxValueInfo[];
    /** Shapes of intermediate values that onnxruntime's shape inference cannot derive. */
    readonly valueInfo?: readonly OnnxValueInfo[];
  };
}

/** protobufjs JSON descriptor of the subset (package onnx). */
export const ONNX_PROTO_SUBSET = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: {
                dimValue: { type: 'int64', id: 1 },
                dimParam: { type: 'string', id: 2 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: { type: 'Tensor', id: 1 } },
          nested: {
            Tensor: {
              fields: {
                elemType: { type: 'int32', id: 1 },
                shape: { type: 'TensorShapeProto', id: 2 },
              },
            },
          },
        },
        OperatorSetIdProto: {
          fields: {
            domain: { type: 'string', id: 1 },
            version: { type: 'int64', id: 2 },
          },
        },
      },
    },
  },
} as const;

/** The slice of protobufjs this package uses (so that protobufjs stays an optional peer). */
export interface ProtobufLike {
  Root: { fromJSON(json: unknown): { lookupType(name: string): { encode(message: unknown): { finish(): Uint8Array } } } };
}

const roots = new WeakMap<ProtobufLike, ReturnType<ProtobufLike['Root']['fromJSON']>>();

/** A length-delimited field's key and length (wire type 2). */
function fieldHeader(field: number, length: number): Uint8Array {
  const bytes: number[] = [];
  for (let v of [(field << 3) | 2, length]) {
    while (v > 0x7f) {
      bytes.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
  }
  return Uint8Array.from(bytes);
}

/**
 * Serialises a model to the ONNX binary format with the given protobufjs module.
 *
 * protobufjs writes every message except the tensors' raw bytes, which are spliced in as
 * length-delimited fields: protobufjs copies a large bytes field at ~50 MB/s (1.7 s for VGG19's
 * 80 MB of kernels), a typed-array copy is ~100× faster. Protobuf parsers accept fields in any
 * order and merge repeated fields, so the result is the same message.
 */
export function encodeOnnxModel(protobuf: ProtobufLike, model: OnnxModel): Uint8Array {
  let root = roots.get(protobuf);
  if (!root) {
    root = protobuf.Root.fromJSON(ONNX_PROTO_SUBSET);
    roots.set(protobuf, root);
  }
  const type = (name: string) => root!.lookupType(`onnx.${name}`);
  const parts: Uint8Array[] = [];
  const { graph, ...head } = model;
  const { initializer, ...graphHead } = graph;
  const graphParts: Uint8Array[] = [type('GraphProto').encode(graphHead).finish()];
  for (const t of initializer) {
    const tensorHead = type('TensorProto').encode({ name: t.name, dims: t.dims, dataType: t.dataType }).finish();
    const rawHeader = fieldHeader(9, t.rawData.byteLength);
    graphParts.push(fieldHeader(5, tensorHead.byteLength + rawHeader.byteLength + t.rawData.byteLength), tensorHead, rawHeader, t.rawData);
  }
  const graphLength = graphParts.reduce((n, b) => n + b.byteLength, 0);
  parts.push(type('ModelProto').encode(head).finish(), fieldHeader(7, graphLength), ...graphParts);
  const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of parts) {
    out.set(b, offset);
    offset += b.byteLength;
  }
  return out;
}
