/**
 * ONNX files as plain objects, through protobufjs (isomorphic: bytes in,
 * bytes out). The schema below is the part of ONNX's `onnx.proto` that a
 * model of layers uses (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto, TypeProto, TensorShapeProto,
 * OperatorSetIdProto, StringStringEntryProto), with the spec's field numbers;
 * fields outside it (training info, functions, sparse tensors, quantization
 * annotations) are skipped when decoding, as protobuf readers do with fields
 * they do not know.
 *
 * Decoding checks what the wire format cannot: every tensor's element count
 * is what its dims say, and fits in the bytes the file holds before anything
 * is allocated for it; dims are whole numbers; names are present where the
 * spec requires them. Any violation, and any malformed protobuf, is a
 * DataError naming the source and, where there is one, the node or tensor.
 * The format has no checksum: a changed byte inside a weight's data goes
 * unnoticed, as in every ONNX reader.
 */
import type * as Protobuf from 'protobufjs/light.js';

import { DataError } from '../../errors.js';
import { halfToFloat } from '../safetensors.js';

/** TensorProto.DataType values Stride reads (others are refused by name). */
export const ONNX_DTYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;
const DTYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE',
  12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16', 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ',
  21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1',
};

/** The name of a TensorProto.DataType value (for messages). */
export function onnxDtypeName(dataType: number): string {
  return DTYPE_NAMES[dataType] ?? `data type ${dataType}`;
}

/**
 * A tensor of an ONNX file: floating-point values (FLOAT, FLOAT16 and DOUBLE)
 * as `floats`, integer and boolean ones (INT64, INT32, INT8, UINT8, BOOL) as
 * `ints` (exact within 2^53; INT64 values beyond are clamped to +-(2^53 - 1), see clampInt).
 */
export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  floats?: Float32Array | Float64Array;
  ints?: number[];
}

export type OnnxAttribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: OnnxTensor }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] };

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

/** A graph input or output: its element type and shape (a dim is a number, a symbolic name, or null when unknown). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  shape: (number | string | null)[] | null;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  /** Operator sets by domain ('' is the default ONNX domain). */
  opsetImport: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  docString: string;
  graph: OnnxGraph;
  metadata: Record<string, string>;
}

const ATTRIBUTE_TYPES = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
  SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
};

const f = (type: string, id: number, rule?: 'repeated') => (rule ? { type, id, rule } : { type, id });

/** The schema: ONNX's messages with their field numbers (onnx.proto, IR version 10). */
const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
        OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
        TensorShapeProto: {
          fields: { dim: f('Dimension', 1, 'repeated') },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: f('int64', 1), dimParam: f('string', 2), denotation: f('string', 3) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType'] } },
          fields: {
            tensorType: f('Tensor', 1), sequenceType: f('Opaque', 4), mapType: f('Opaque', 5), optionalType: f('Opaque', 9), sparseTensorType: f('Opaque', 8), denotation: f('string', 6),
          },
          nested: {
            Tensor: { fields: { elemType: f('int32', 1), shape: f('TensorShapeProto', 2) } },
            // sequence, map and optional types are not read: only their presence is
            Opaque: { fields: {} },
          },
        },
        ValueInfoProto: { fields: { name: f('string', 1), type: f('TypeProto', 2), docString: f('string', 3) } },
        TensorProto: {
          fields: {
            dims: f('int64', 1, 'repeated'), dataType: f('int32', 2), floatData: f('float', 4, 'repeated'), int32Data: f('int32', 5, 'repeated'),
            stringData: f('bytes', 6, 'repeated'), int64Data: f('int64', 7, 'repeated'), name: f('string', 8), docString: f('string', 12), rawData: f('bytes', 9),
            externalData: f('StringStringEntryProto', 13, 'repeated'), dataLocation: f('int32', 14), doubleData: f('double', 10, 'repeated'), uint64Data: f('uint64', 11, 'repeated'),
          },
        },
        AttributeProto: {
          fields: {
            name: f('string', 1), refAttrName: f('string', 21), docString: f('string', 13), type: f('int32', 20), f: f('float', 2), i: f('int64', 3), s: f('bytes', 4),
            t: f('TensorProto', 5), g: f('GraphProto', 6), floats: f('float', 7, 'repeated'), ints: f('int64', 8, 'repeated'), strings: f('bytes', 9, 'repeated'),
            tensors: f('TensorProto', 10, 'repeated'), graphs: f('GraphProto', 11, 'repeated'),
          },
        },
        NodeProto: {
          fields: {
            input: f('string', 1, 'repeated'), output: f('string', 2, 'repeated'), name: f('string', 3), opType: f('string', 4), domain: f('string', 7),
            attribute: f('AttributeProto', 5, 'repeated'), docString: f('string', 6),
          },
        },
        GraphProto: {
          fields: {
            node: f('NodeProto', 1, 'repeated'), name: f('string', 2), initializer: f('TensorProto', 5, 'repeated'), docString: f('string', 10),
            input: f('ValueInfoProto', 11, 'repeated'), output: f('ValueInfoProto', 12, 'repeated'), valueInfo: f('ValueInfoProto', 13, 'repeated'),
          },
        },
        ModelProto: {
          fields: {
            irVersion: f('int64', 1), opsetImport: f('OperatorSetIdProto', 8, 'repeated'), producerName: f('string', 2), producerVersion: f('string', 3),
            domain: f('string', 4), modelVersion: f('int64', 5), docString: f('string', 6), graph: f('GraphProto', 7), metadataProps: f('StringStringEntryProto', 14, 'repeated'),
          },
        },
      },
    },
  },
};

type ProtobufLight = typeof Protobuf;

/**
 * protobufjs's light build. In Node it is required synchronously when this
 * module loads (through process.getBuiltinModule, so no Node module is
 * imported here); elsewhere it is imported dynamically, which a bundler (Vite,
 * esbuild, webpack) turns into a chunk loaded at once, and which fails in a
 * browser loading the compiled modules without a bundler (the rest of Stride
 * still works there). A dynamic import rather than a top-level await: a
 * module worker that imports Stride must not miss the messages posted to it
 * while a top-level await is pending.
 */
let protobuf: ProtobufLight | null = null;
let loadFailure: string | null = null;
const asLight = (m: unknown) => ((m as { default?: ProtobufLight }).default ?? m) as ProtobufLight;
const nodeModule = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:module') as
  | { createRequire(url: string): (id: string) => unknown }
  | undefined;
if (nodeModule !== undefined) {
  try {
    protobuf = asLight(nodeModule.createRequire(import.meta.url)('protobufjs/light.js'));
  } catch (err) {
    loadFailure = (err as Error).message;
  }
}
const loading: Promise<void> = protobuf !== null
  ? Promise.resolve()
  : import('protobufjs/light.js').then(
    (m) => {
      protobuf = asLight(m);
    },
    (err: Error) => {
      loadFailure = err.message;
    },
  );

/**
 * Resolves once the ONNX codec (protobufjs) has loaded, or could not: await
 * it before the first exportOnnx, importOnnx, encodeOnnx or decodeOnnx in a
 * browser (in Node it is loaded when Stride is).
 */
export function onnxReady(): Promise<void> {
  return loading;
}

let modelType: Protobuf.Type | null = null;

/** The ModelProto type, built from the schema the first time it is needed. */
function modelProto(): Protobuf.Type {
  if (protobuf === null) {
    throw new DataError(
      loadFailure === null
        ? 'ONNX files need the protobufjs package, which is still loading: await onnxReady() before the first ONNX call'
        : `ONNX files need the protobufjs package, which could not be loaded here (${loadFailure}); in a browser, load Stride through a bundler (Vite, esbuild, webpack), which includes it`,
    );
  }
  modelType ??= protobuf.Root.fromJSON(SCHEMA as Protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelType;
}

// ---------------------------------------------------------------------------
// Decoding

/* eslint-disable @typescript-eslint/no-explicit-any -- protobufjs's toObject output is untyped; every field is checked below */
type Raw = Record<string, any>;

/**
 * Reads an ONNX model from its bytes. `source` names the bytes in error
 * messages (a file's path). Every malformation is a DataError.
 */
export function decodeOnnx(bytes: Uint8Array, source = 'ONNX bytes'): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new DataError(`decodeOnnx: expected the file's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  const fail = (what: string): never => {
    throw new DataError(`${source}: ${what}`);
  };
  if (bytes.length === 0) fail('the file is empty; an ONNX model is a protobuf ModelProto');
  let raw: Raw;
  try {
    const type = modelProto();
    raw = type.toObject(type.decode(bytes), { longs: String, bytes: Uint8Array as unknown as typeof String, defaults: false, arrays: true, oneofs: false });
  } catch (err) {
    return fail(`not an ONNX model (the protobuf does not decode: ${(err as Error).message}); the file is truncated or not ONNX`);
  }
  if (raw.graph === undefined) fail('the model has no graph (ModelProto.graph is missing); the file is truncated or not ONNX');
  const irVersion = int64(raw.irVersion ?? '0', 'ModelProto.ir_version', fail);
  const opsetImport = (raw.opsetImport as Raw[]).map((o) => ({ domain: o.domain ?? '', version: int64(o.version ?? '0', 'an opset_import version', fail) }));
  const metadata: Record<string, string> = {};
  for (const e of raw.metadataProps as Raw[]) Object.defineProperty(metadata, e.key ?? '', { value: e.value ?? '', enumerable: true, writable: true, configurable: true });
  return {
    irVersion, opsetImport, producerName: raw.producerName ?? '', producerVersion: raw.producerVersion ?? '', docString: raw.docString ?? '',
    graph: readGraph(raw.graph, bytes.length, fail), metadata,
  };
}

function readGraph(g: Raw, fileBytes: number, fail: (what: string) => never): OnnxGraph {
  const nodes = (g.node as Raw[]).map((n, k): OnnxNode => {
    const opType: string = n.opType ?? '';
    const name: string = n.name ?? '';
    const where = `node ${k}${name ? ` '${name}'` : ''}${opType ? ` (${opType})` : ''}`;
    if (opType === '') fail(`${where} has no op_type`);
    const attributes: Record<string, OnnxAttribute> = {};
    for (const a of n.attribute as Raw[]) {
      const attrName: string = a.name ?? '';
      if (attrName === '') fail(`${where} has an attribute without a name`);
      if (Object.hasOwn(attributes, attrName)) fail(`${where} gives attribute '${attrName}' twice`);
      Object.defineProperty(attributes, attrName, { value: readAttribute(a, `${where}, attribute '${attrName}'`, fileBytes, fail), enumerable: true, writable: true, configurable: true });
    }
    return { name, opType, domain: n.domain ?? '', inputs: n.input as string[], outputs: n.output as string[], attributes };
  });
  const initializers = (g.initializer as Raw[]).map((t, k) => {
    const tensor = readTensor(t, `initializer ${k}${t.name ? ` '${t.name}'` : ''}`, fileBytes, fail);
    if (tensor.name === '') fail(`initializer ${k} has no name`);
    return tensor;
  });
  const valueInfo = (v: Raw, what: string): OnnxValueInfo => {
    const name: string = v.name ?? '';
    if (name === '') fail(`a graph ${what} has no name`);
    const tensorType = v.type?.tensorType as Raw | undefined;
    const shape = tensorType?.shape === undefined ? null : (tensorType.shape.dim as Raw[]).map((d) => (d.dimValue !== undefined ? int64(d.dimValue, `the shape of graph ${what} '${name}'`, fail) : d.dimParam !== undefined ? String(d.dimParam) : null));
    return { name, elemType: tensorType?.elemType ?? 0, shape };
  };
  return {
    name: g.name ?? '', nodes, initializers,
    inputs: (g.input as Raw[]).map((v) => valueInfo(v, 'input')), outputs: (g.output as Raw[]).map((v) => valueInfo(v, 'output')),
  };
}

const BYTES_PER: Record<number, number> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8 };

function readTensor(t: Raw, where: string, fileBytes: number, fail: (what: string) => never): OnnxTensor {
  const name: string = t.name ?? '';
  const dataType: number = t.dataType ?? 0;
  const dims = (t.dims as string[]).map((d) => int64(d, `${where}: a dim`, fail));
  if (dims.some((d) => d < 0)) fail(`${where}: dims [${dims.join(', ')}] must be >= 0`);
  if ((t.dataLocation ?? 0) === 1 || (t.externalData as Raw[]).length > 0) {
    fail(`${where}: its data is in an external file (data_location EXTERNAL); Stride reads models whose weights are inside the .onnx file`);
  }
  const size = BYTES_PER[dataType];
  if (size === undefined) fail(`${where}: data type ${onnxDtypeName(dataType)} is not read (FLOAT, FLOAT16, DOUBLE, INT64, INT32, INT8, UINT8 and BOOL are)`);
  // the element count, checked against what the file can hold before anything is allocated
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count * size > fileBytes && count > 0) fail(`${where}: dims [${dims.join(', ')}] claim ${count}+ elements, more than the ${fileBytes}-byte file can hold`);
  }
  const raw: Uint8Array | undefined = t.rawData;
  const fromField = (values: unknown[] | undefined, field: string): unknown[] => {
    const v = values ?? [];
    if (v.length !== count) fail(`${where}: dims [${dims.join(', ')}] make ${count} elements, but ${field} holds ${v.length}`);
    return v;
  };
  if (raw !== undefined && raw.length > 0) {
    if (raw.length !== count * size) fail(`${where}: dims [${dims.join(', ')}] of ${onnxDtypeName(dataType)} take ${count * size} bytes, but raw_data holds ${raw.length}`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (dataType) {
      case ONNX_DTYPE.FLOAT: {
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
        return { name, dataType, dims, floats: out };
      }
      case ONNX_DTYPE.DOUBLE: {
        const out = new Float64Array(count);
        for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
        return { name, dataType, dims, floats: out };
      }
      case ONNX_DTYPE.FLOAT16: {
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
        return { name, dataType, dims, floats: out };
      }
      case ONNX_DTYPE.INT64: {
        const ints = new Array<number>(count);
        for (let i = 0; i < count; i++) ints[i] = clampInt(view.getBigInt64(8 * i, true));
        return { name, dataType, dims, ints };
      }
      case ONNX_DTYPE.INT32: {
        const ints = new Array<number>(count);
        for (let i = 0; i < count; i++) ints[i] = view.getInt32(4 * i, true);
        return { name, dataType, dims, ints };
      }
      case ONNX_DTYPE.INT8:
        return { name, dataType, dims, ints: Array.from(new Int8Array(raw.buffer, raw.byteOffset, count)) };
      default: // UINT8, BOOL
        return { name, dataType, dims, ints: Array.from(raw.subarray(0, count)) };
    }
  }
  switch (dataType) {
    case ONNX_DTYPE.FLOAT:
      return { name, dataType, dims, floats: Float32Array.from(fromField(t.floatData, 'float_data') as number[]) };
    case ONNX_DTYPE.DOUBLE:
      return { name, dataType, dims, floats: Float64Array.from(fromField(t.doubleData, 'double_data') as number[]) };
    case ONNX_DTYPE.FLOAT16:
      // float16 values travel as their bit patterns in int32_data
      return { name, dataType, dims, floats: Float32Array.from(fromField(t.int32Data, 'int32_data') as number[], (h) => halfToFloat(h & 0xffff)) };
    case ONNX_DTYPE.INT64:
      return { name, dataType, dims, ints: (fromField(t.int64Data, 'int64_data') as string[]).map((v) => clampInt(BigInt(v))) };
    default: // INT32, INT8, UINT8, BOOL travel in int32_data
      return { name, dataType, dims, ints: [...(fromField(t.int32Data, 'int32_data') as number[])] };
  }
}

function readAttribute(a: Raw, where: string, fileBytes: number, fail: (what: string) => never): OnnxAttribute {
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  // IR version 1 files have no type: infer it from the one field present, as readers of those files do
  const type: number = a.type ?? (a.f !== undefined ? 1 : a.i !== undefined ? 2 : a.s !== undefined ? 3 : a.t !== undefined ? 4 : a.floats?.length ? 6 : a.ints?.length ? 7 : a.strings?.length ? 8 : 0);
  switch (type) {
    case ATTRIBUTE_TYPES.FLOAT: return { type: 'float', value: a.f ?? 0 };
    case ATTRIBUTE_TYPES.INT: return { type: 'int', value: int64(a.i ?? '0', where, fail) };
    case ATTRIBUTE_TYPES.STRING: return { type: 'string', value: text(a.s ?? new Uint8Array(0)) };
    case ATTRIBUTE_TYPES.TENSOR:
      if (a.t === undefined) fail(`${where}: a TENSOR attribute without its tensor`);
      return { type: 'tensor', value: readTensor(a.t, where, fileBytes, fail) };
    case ATTRIBUTE_TYPES.FLOATS: return { type: 'floats', value: [...(a.floats as number[])] };
    case ATTRIBUTE_TYPES.INTS: return { type: 'ints', value: (a.ints as string[]).map((v) => int64(v, where, fail)) };
    case ATTRIBUTE_TYPES.STRINGS: return { type: 'strings', value: (a.strings as Uint8Array[]).map(text) };
    default: {
      const name = Object.entries(ATTRIBUTE_TYPES).find(([, v]) => v === type)?.[0] ?? `type ${type}`;
      return fail(`${where}: attributes of type ${name} are not read (graphs, sparse tensors and type protos are not used by the layers Stride imports)`);
    }
  }
}

/** An int64 field (as protobufjs's decimal string) as a number, refused beyond 2^53. */
function int64(value: string | number, where: string, fail: (what: string) => never): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) fail(`${where}: ${value} is not an integer within +-2^53`);
  return n;
}

/**
 * An INT64 element: exact within +-2^53, else clamped to +-(2^53 - 1). Values
 * that large are the "to the end" and "from the start" of open slices
 * (PyTorch writes INT64_MAX), which mean the same clamped; no shape, axis or
 * index is that large.
 */
function clampInt(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (value < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(value);
}

// ---------------------------------------------------------------------------
// Encoding

/** The bytes of an ONNX model. Float tensors are written as raw_data (little-endian), integer ones as INT64 raw_data. */
export function encodeOnnx(model: OnnxModel): Uint8Array {
  const type = modelProto();
  const message = type.fromObject({
    irVersion: String(model.irVersion),
    opsetImport: model.opsetImport.map((o) => ({ domain: o.domain, version: String(o.version) })),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    docString: model.docString,
    graph: {
      name: model.graph.name,
      node: model.graph.nodes.map((n) => ({
        input: n.inputs, output: n.outputs, name: n.name, opType: n.opType, domain: n.domain,
        attribute: Object.entries(n.attributes).map(([name, a]) => writeAttribute(name, a)),
      })),
      initializer: model.graph.initializers.map(writeTensor),
      input: model.graph.inputs.map(writeValueInfo),
      output: model.graph.outputs.map(writeValueInfo),
    },
    metadataProps: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
  });
  return type.encode(message).finish();
}

function writeAttribute(name: string, a: OnnxAttribute): Raw {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  switch (a.type) {
    case 'float': return { name, type: ATTRIBUTE_TYPES.FLOAT, f: a.value };
    case 'int': return { name, type: ATTRIBUTE_TYPES.INT, i: String(a.value) };
    case 'string': return { name, type: ATTRIBUTE_TYPES.STRING, s: utf8(a.value) };
    case 'tensor': return { name, type: ATTRIBUTE_TYPES.TENSOR, t: writeTensor(a.value) };
    case 'floats': return { name, type: ATTRIBUTE_TYPES.FLOATS, floats: a.value };
    case 'ints': return { name, type: ATTRIBUTE_TYPES.INTS, ints: a.value.map(String) };
    case 'strings': return { name, type: ATTRIBUTE_TYPES.STRINGS, strings: a.value.map(utf8) };
  }
}

function writeTensor(t: OnnxTensor): Raw {
  const count = t.dims.reduce((p, d) => p * d, 1);
  let raw: Uint8Array;
  if (t.floats !== undefined) {
    if (t.floats.length !== count) throw new DataError(`encodeOnnx: tensor '${t.name}' has dims [${t.dims.join(', ')}] (${count} elements) but ${t.floats.length} values`);
    const double = t.dataType === ONNX_DTYPE.DOUBLE;
    raw = new Uint8Array(count * (double ? 8 : 4));
    const view = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) {
      if (double) view.setFloat64(8 * i, t.floats[i], true);
      else view.setFloat32(4 * i, t.floats[i], true);
    }
    return { name: t.name, dims: t.dims.map(String), dataType: double ? ONNX_DTYPE.DOUBLE : ONNX_DTYPE.FLOAT, rawData: raw };
  }
  const ints = t.ints ?? [];
  if (ints.length !== count) throw new DataError(`encodeOnnx: tensor '${t.name}' has dims [${t.dims.join(', ')}] (${count} elements) but ${ints.length} values`);
  raw = new Uint8Array(count * 8);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < count; i++) view.setBigInt64(8 * i, BigInt(ints[i]), true);
  return { name: t.name, dims: t.dims.map(String), dataType: ONNX_DTYPE.INT64, rawData: raw };
}

function writeValueInfo(v: OnnxValueInfo): Raw {
  const shape = v.shape === null ? undefined : { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: String(d) } : typeof d === 'string' ? { dimParam: d } : {})) };
  return { name: v.name, type: { tensorType: { elemType: v.elemType, ...(shape !== undefined ? { shape } : {}) } } };
}
