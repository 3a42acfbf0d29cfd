/**
 * The Stride checkpoint format (isomorphic: bytes in, bytes out; the file
 * system side is in `node-fs.ts`). One file, `model.stride`:
 *
 * ```
 * offset 0    8 bytes        magic "STRIDE01" (ASCII)
 * offset 8    uint32 LE      H, the header length in bytes
 * offset 12   H bytes        UTF-8 JSON header (padded with spaces so the data starts on a 4-byte boundary)
 * offset 12+H                data: float32 little-endian values, each tensor row-major
 * ```
 *
 * The header:
 *
 * ```json
 * { "format": "stride-checkpoint-v1",
 *   "model": "lenet5", "modelOptions": { "numClasses": 10 },
 *   "tensors": [{ "name": "conv1.weight", "shape": [6, 1, 5, 5], "offset": 0, "length": 600 }, ...],
 *   "meta": { "dataset": "mnist", "epochs": 1, "testAccuracy": 0.9871, "createdAt": "2025-...", ... } }
 * ```
 *
 * `offset` and `length` are in bytes, relative to the start of the data
 * section; `length` is always `4 * prod(shape)`. Ranges may not overlap and
 * nothing may follow the last one (the encoder writes them back to back).
 *
 * `decodeCheckpoint` checks every part (magic, header length, JSON, each
 * field's type, every tensor's range and size, the total length) and throws a
 * `DataError` naming the source and what was expected: a damaged file is never
 * read into a silently wrong model (docs/design.md, "Errors state the rule").
 */
import { DataError, ValueError, fmtShape } from '../errors.js';
import { Tensor, shapeSize } from '../tensor/tensor.js';

/** The 8 bytes every checkpoint starts with. */
export const CHECKPOINT_MAGIC = 'STRIDE01';
/** The value of the header's `format` field. */
export const CHECKPOINT_FORMAT = 'stride-checkpoint-v1';
/** The file name `saveCheckpoint` writes inside its folder. */
export const CHECKPOINT_FILE = 'model.stride';

const PREFIX_BYTES = 12; // magic + header length
/** Header lengths above this are taken as corruption (a real header is a few kB). */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/** JSON values, as they may appear in `modelOptions` and `meta`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Where one tensor's values are in the data section. */
export interface CheckpointTensorEntry {
  /** State-dict name, e.g. "conv1.weight". */
  name: string;
  shape: number[];
  /** Byte offset from the start of the data section (a multiple of 4). */
  offset: number;
  /** Byte length, `4 * prod(shape)`. */
  length: number;
}

/** What a training run records about itself; free-form beyond the named fields. */
export interface CheckpointMeta {
  dataset?: string;
  epochs?: number;
  testAccuracy?: number;
  /** ISO 8601 time of saving. */
  createdAt?: string;
  [key: string]: JsonValue | undefined;
}

export interface CheckpointHeader {
  format: typeof CHECKPOINT_FORMAT;
  /** A name in the model registry (`models`), used to rebuild the model. */
  model: string;
  /** The options `createModel(model, modelOptions)` rebuilds it with (JSON only: no generator). */
  modelOptions: Record<string, JsonValue>;
  tensors: CheckpointTensorEntry[];
  meta: CheckpointMeta;
}

export interface EncodeCheckpointInput {
  model: string;
  modelOptions?: Record<string, JsonValue>;
  /** Tensors by name, e.g. `module.stateDict()`. float64 tensors are stored as float32. */
  state: Record<string, Tensor>;
  meta?: CheckpointMeta;
}

export interface DecodedCheckpoint {
  header: CheckpointHeader;
  /** Fresh float32 tensors (they do not share memory with the bytes), in header order. */
  state: Record<string, Tensor>;
}

/** Serializes a model's state and description into the bytes of one `.stride` file. */
export function encodeCheckpoint(input: EncodeCheckpointInput): Uint8Array {
  if (input === null || typeof input !== 'object') throw new ValueError('encodeCheckpoint: expected { model, state, modelOptions?, meta? }');
  const { model, state } = input;
  if (typeof model !== 'string' || model === '') throw new ValueError(`encodeCheckpoint: model must be a non-empty model name, got ${JSON.stringify(model)}`);
  if (state === null || typeof state !== 'object') throw new ValueError('encodeCheckpoint: state must be an object mapping names to tensors (module.stateDict())');
  const modelOptions = input.modelOptions ?? {};
  const meta = input.meta ?? {};
  checkJsonObject('encodeCheckpoint', 'modelOptions', modelOptions);
  checkJsonObject('encodeCheckpoint', 'meta', meta);

  const tensors: CheckpointTensorEntry[] = [];
  const values: Tensor[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(state)) {
    if (!(t instanceof Tensor)) throw new ValueError(`encodeCheckpoint: state['${name}'] is not a Tensor`);
    const length = 4 * t.size;
    tensors.push({ name, shape: [...t.shape], offset, length });
    values.push(t);
    offset += length;
  }
  const header: CheckpointHeader = { format: CHECKPOINT_FORMAT, model, modelOptions, tensors, meta };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (4 - ((PREFIX_BYTES + json.length) % 4)) % 4;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20); // JSON allows trailing whitespace
    padded.set(json);
    json = padded;
  }
  const dataStart = PREFIX_BYTES + json.length;
  const out = new Uint8Array(dataStart + offset);
  for (let i = 0; i < 8; i++) out[i] = CHECKPOINT_MAGIC.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(8, json.length, true);
  out.set(json, PREFIX_BYTES);
  tensors.forEach((entry, k) => {
    const data = values[k].data;
    const base = dataStart + entry.offset;
    for (let i = 0; i < data.length; i++) view.setFloat32(base + 4 * i, data[i], true);
  });
  return out;
}

/**
 * Parses the bytes of a `.stride` file. `source` (a path or URL) names the file
 * in error messages. Every malformation is a DataError.
 */
export function decodeCheckpoint(bytes: Uint8Array, source: string): DecodedCheckpoint {
  if (!(bytes instanceof Uint8Array)) {
    throw new ValueError(`decodeCheckpoint: bytes must be a Uint8Array (a Node Buffer is one), got ${bytes === null ? 'null' : typeof bytes}`);
  }
  const where = `checkpoint ${source}`;
  const fail = (what: string): never => {
    throw new DataError(`${where}: ${what}`);
  };
  if (bytes.length < PREFIX_BYTES) {
    fail(`file is ${bytes.length} bytes long, but a Stride checkpoint starts with the 8-byte magic "${CHECKPOINT_MAGIC}" and a 4-byte header length; the file is empty or truncated`);
  }
  let magic = '';
  for (let i = 0; i < 8; i++) magic += String.fromCharCode(bytes[i]);
  if (magic !== CHECKPOINT_MAGIC) {
    const shown = JSON.stringify(magic).replace(/[\u0000-\u001f\u007f-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    let hint = 'this is not a Stride checkpoint';
    if (magic.startsWith('STRIDE')) hint = `it is a Stride checkpoint of another version (${shown}); this version reads ${CHECKPOINT_MAGIC}`;
    else if (bytes[0] === 0x50 && bytes[1] === 0x4b) hint = 'it is a zip archive (a PyTorch .pt file?), not a Stride checkpoint';
    fail(`wrong magic ${shown}; expected "${CHECKPOINT_MAGIC}": ${hint}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(8, true);
  if (headerBytes === 0 || headerBytes > MAX_HEADER_BYTES) {
    fail(`header length ${headerBytes} is out of range; expected 1 to ${MAX_HEADER_BYTES} bytes of JSON`);
  }
  const dataStart = PREFIX_BYTES + headerBytes;
  if (bytes.length < dataStart) {
    fail(`header declares ${headerBytes} bytes of JSON, which needs ${dataStart} bytes with the 12-byte prefix, but the file has only ${bytes.length}; the file is truncated`);
  }
  const { value: parsed } = parseJsonHeader(bytes.subarray(PREFIX_BYTES, dataStart), fail);
  const header = checkHeader(parsed, fail);

  const dataBytes = bytes.length - dataStart;
  const ranges = header.tensors.map((t, i) => ({ start: t.offset, end: t.offset + t.length, i }));
  let end = 0;
  header.tensors.forEach((t) => {
    const expected = 4 * shapeSize(t.shape);
    if (t.length !== expected) {
      fail(`tensor '${t.name}' has shape ${fmtShape(t.shape)} (${shapeSize(t.shape)} float32 values = ${expected} bytes) but its length is ${t.length} bytes`);
    }
    if (t.offset % 4 !== 0) fail(`tensor '${t.name}' has offset ${t.offset}; expected a multiple of 4 (float32 values)`);
    if (t.offset + t.length > dataBytes) {
      fail(`tensor '${t.name}' needs data bytes ${t.offset} to ${t.offset + t.length}, but the data section has only ${dataBytes} bytes; the file is truncated`);
    }
    end = Math.max(end, t.offset + t.length);
  });
  // Sorted by start, a range overlaps an earlier one exactly when it starts before the furthest end so far.
  const nonEmpty = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  let furthest: (typeof ranges)[number] | null = null;
  for (const cur of nonEmpty) {
    if (furthest !== null && cur.start < furthest.end) {
      fail(`tensors '${header.tensors[furthest.i].name}' (bytes ${furthest.start}-${furthest.end}) and '${header.tensors[cur.i].name}' (bytes ${cur.start}-${cur.end}) overlap`);
    }
    if (furthest === null || cur.end > furthest.end) furthest = cur;
  }
  if (dataBytes !== end) {
    fail(`the data section is ${dataBytes} bytes but the tensors in the header account for ${end}; ${dataBytes - end} extra bytes follow the data (the header and the data do not match)`);
  }

  const state: Record<string, Tensor> = {};
  for (const t of header.tensors) {
    const n = t.length / 4;
    const data = new Float32Array(n);
    const base = dataStart + t.offset;
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(base + 4 * i, true);
    state[t.name] = new Tensor(data, t.shape);
  }
  return { header, state };
}

/** Decodes a file's JSON header (its text and value); invalid UTF-8 or JSON goes to `fail`. */
export function parseJsonHeader(bytes: Uint8Array, fail: (what: string) => never): { text: string; value: unknown } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('the header is not valid UTF-8; the file is corrupt');
  }
  try {
    return { text, value: JSON.parse(text) };
  } catch (err) {
    return fail(`the header is not valid JSON (${(err as Error).message}); the file is corrupt`);
  }
}

/** Checks the parsed JSON header field by field. */
function checkHeader(value: unknown, fail: (what: string) => never): CheckpointHeader {
  if (!isPlainObject(value)) fail(`the header must be a JSON object, got ${jsonKind(value)}`);
  const h = value as Record<string, unknown>;
  if (h.format !== CHECKPOINT_FORMAT) fail(`header format is ${JSON.stringify(h.format)}; expected "${CHECKPOINT_FORMAT}"`);
  if (typeof h.model !== 'string' || h.model === '') fail(`header field 'model' must be a non-empty model name, got ${JSON.stringify(h.model)}`);
  if (!isPlainObject(h.modelOptions)) fail(`header field 'modelOptions' must be an object, got ${jsonKind(h.modelOptions)}`);
  if (!isPlainObject(h.meta)) fail(`header field 'meta' must be an object, got ${jsonKind(h.meta)}`);
  if (!Array.isArray(h.tensors)) fail(`header field 'tensors' must be an array of { name, shape, offset, length }, got ${jsonKind(h.tensors)}`);
  const names = new Set<string>();
  const tensors = (h.tensors as unknown[]).map((entry, i): CheckpointTensorEntry => {
    if (!isPlainObject(entry)) fail(`header tensors[${i}] must be an object { name, shape, offset, length }, got ${jsonKind(entry)}`);
    const e = entry as Record<string, unknown>;
    if (typeof e.name !== 'string' || e.name === '') fail(`header tensors[${i}].name must be a non-empty string, got ${JSON.stringify(e.name)}`);
    const name = e.name as string;
    if (names.has(name)) fail(`header names tensor '${name}' twice`);
    names.add(name);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      fail(`tensor '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(e.shape)}`);
    }
    for (const key of ['offset', 'length'] as const) {
      if (!Number.isSafeInteger(e[key]) || (e[key] as number) < 0) fail(`tensor '${name}': ${key} must be a non-negative integer (bytes), got ${JSON.stringify(e[key])}`);
    }
    return { name, shape: [...(e.shape as number[])], offset: e.offset as number, length: e.length as number };
  });
  return {
    format: CHECKPOINT_FORMAT,
    model: h.model as string,
    modelOptions: h.modelOptions as Record<string, JsonValue>,
    tensors,
    meta: h.meta as CheckpointMeta,
  };
}

/** A JSON object (not null, not an array). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** What a JSON value is, for messages: 'an array', 'null', 'number 3', or that the field is missing. */
export function jsonKind(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** Rejects what JSON cannot hold faithfully (functions, generators, NaN...), so a checkpoint reloads as it was saved. */
function checkJsonObject(where: string, name: string, value: unknown): void {
  if (!isPlainObject(value)) throw new ValueError(`${where}: ${name} must be a plain object of JSON values`);
  const visit = (v: unknown, path: string): void => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new ValueError(`${where}: ${path} is ${v}, which JSON cannot hold; use null or a finite number`);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, `${path}[${i}]`));
      return;
    }
    if (isPlainObject(v) && Object.getPrototypeOf(v) === Object.prototype) {
      for (const [k, x] of Object.entries(v)) if (x !== undefined) visit(x, `${path}.${k}`);
      return;
    }
    throw new ValueError(`${where}: ${path} is ${typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'non-plain object'}` : `a ${typeof v}`}, which JSON cannot hold; store plain numbers, strings, booleans, arrays and objects`);
  };
  visit(value, name);
}
