/**
 * The Stride checkpoint format (isomorphic: bytes in, bytes out; the file
 * system side is in `node-fs.ts`). One file, `model.stride`:
 *
 * ```
 * offset 0    8 bytes        magic "STRIDE02" (ASCII)
 * offset 8    uint32 LE      the header's CRC-32: of bytes 12 to 16+H (the header length and the JSON, padding included)
 * offset 12   uint32 LE      H, the header length in bytes
 * offset 16   H bytes        UTF-8 JSON header (padded with spaces so the data starts on a 4-byte boundary)
 * offset 16+H                data: float32 little-endian values, each tensor row-major, back to back
 * ```
 *
 * The header:
 *
 * ```json
 * { "format": "stride-checkpoint-v1",
 *   "model": "lenet5", "modelOptions": { "numClasses": 10 },
 *   "tensors": [{ "name": "conv1.weight", "shape": [6, 1, 5, 5], "offset": 0, "length": 600, "crc32": 2863311530 }, ...],
 *   "meta": { "dataset": "mnist", "epochs": 1, "testAccuracy": 0.9871, "createdAt": "2025-...", ... } }
 * ```
 *
 * `offset` and `length` are in bytes, relative to the start of the data
 * section; `length` is always `4 * prod(shape)`. The ranges cover the data
 * section exactly: no overlap, no gap, nothing after the last one (the
 * encoder writes them back to back). `crc32` is the CRC-32 (IEEE, as zip and
 * PyTorch's archives use; `crc32.ts`) of the tensor's `length` bytes.
 *
 * Every byte is checked: the magic by value, the header length and the
 * header by the header's CRC-32 (which covers the tensors' CRC-32s), each
 * tensor's bytes by its own. `decodeCheckpoint` verifies them all before it
 * returns a tensor, so a file changed or damaged after it was written (one
 * flipped bit anywhere) is refused with a DataError naming the header or the
 * tensor, with the stored and the computed CRC-32.
 *
 * Files written before the checksums (magic "STRIDE01") are read too: the
 * same header without `crc32` fields, at offset 12, its length at offset 8
 * (no header CRC). They are checked for structure only and a
 * STRIDE_CHECKPOINT_UNVERIFIED warning (src/warnings.ts) says they cannot be
 * verified; saving them again writes STRIDE02.
 *
 * A checkpoint that can resume training is format "stride-checkpoint-v2": the
 * same layout and fields, plus a `training` field in the header and the
 * optimizer's buffers among the tensors, named `optimizer.state.<i>.<key>`
 * (parameter i, counted over the parameter groups in order, as
 * `optimizer.stateDict()` numbers them; e.g. `optimizer.state.3.momentumBuffer`,
 * `optimizer.state.0.expAvgSq`). The numbers go in the header:
 *
 * ```json
 * "training": { "epoch": 1, "epochs": 2,
 *   "optimizer": { "name": "Adam", "stepCount": 16, "paramGroups": [{ "lr": 0.001, "betas": [0.9, 0.999], ..., "params": [0, 1, ...] }],
 *                  "state": { "0": { "step": 16 }, ... } },
 *   "scheduler": { ... },                                    (optional: a scheduler's stateDict(), or a schedule's description)
 *   "generators": { "generator": { "state": [4 uint32], "spareNormal": null }, ... } }
 * ```
 *
 * `epoch` counts the epochs completed, `epochs` those the run was planned
 * for. A weights-only checkpoint is still written as v1 (no `training`), so
 * readers of v1 keep reading it; a v2 file is refused by them with its format
 * named, instead of being read with unknown tensors. (The header's `format`
 * says what the file holds; the magic says how its bytes are laid out.)
 *
 * `decodeCheckpoint` checks every part (magic, header length, checksums, JSON,
 * each field's type, every tensor's range and size, the total length) and
 * throws a `DataError` naming the source and what was expected: a damaged
 * file is never read into a silently wrong model (docs/design.md, "Errors
 * state the rule"). Nothing is allocated for a tensor before its range has
 * been checked against the file's length.
 */
import { DataError, StrideError, ValueError, fmtShape } from '../errors.js';
import { createModel, isModelPattern, models, type ModelOptions } from '../models/index.js';
import type { Module } from '../nn/module.js';
import type { GeneratorState } from '../tensor/random.js';
import { Tensor, shapeSize, withAllocationLimit } from '../tensor/tensor.js';
import { warn } from '../warnings.js';
import { crc32, formatCrc32 } from './crc32.js';
import { checkOptions } from '../validate.js';

/** The 8 bytes a checkpoint starts with: the layout with CRC-32s, which encodeCheckpoint writes. */
export const CHECKPOINT_MAGIC = 'STRIDE02';
/** The magic of the layout before the checksums, still read (structure only, with a warning). */
export const UNCHECKED_CHECKPOINT_MAGIC = 'STRIDE01';
/** The value of the header's `format` field of a weights-only checkpoint. */
export const CHECKPOINT_FORMAT = 'stride-checkpoint-v1';
/** The `format` of a checkpoint holding training state (the `training` field and the optimizer's tensors). */
export const TRAINING_CHECKPOINT_FORMAT = 'stride-checkpoint-v2';
/** The names of the optimizer's tensors in a v2 checkpoint start with this, then `<parameter index>.<key>`. */
export const OPTIMIZER_TENSOR_PREFIX = 'optimizer.state.';
/** The file name `saveCheckpoint` writes inside its folder. */
export const CHECKPOINT_FILE = 'model.stride';

const PREFIX_BYTES = 16; // magic, header CRC-32, header length
const UNCHECKED_PREFIX_BYTES = 12; // magic, header length
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
  /** The CRC-32 of the tensor's bytes (absent from files of the layout before the checksums, STRIDE01). */
  crc32?: number;
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

/**
 * An optimizer's state as a checkpoint holds it: its class name and its
 * stateDict() (`{ state, paramGroups, stepCount }`), which its loadStateDict()
 * takes back as it is.
 */
export interface CheckpointOptimizerState {
  /** The optimizer's class: 'SGD', 'Adam', 'AdamW'. */
  name: string;
  /** Per parameter (by position over the groups): buffers as tensors, counters as numbers. */
  state: Record<number, Record<string, Tensor | number>>;
  /** Each group's hyper-parameters (JSON values) and the positions of its parameters. */
  paramGroups: (Record<string, unknown> & { params: number[] })[];
  stepCount: number;
}

/** What a run needs to continue exactly where it stopped (the `training` field of a v2 checkpoint). */
export interface CheckpointTraining {
  /** Epochs completed. */
  epoch: number;
  /** Epochs the run is planned for (epoch <= epochs). */
  epochs: number;
  optimizer: CheckpointOptimizerState;
  /** A learning-rate scheduler's stateDict(), or the description of a schedule (JSON values). */
  scheduler?: Record<string, JsonValue>;
  /** The state of every random generator the run draws from, by a name of the caller's choosing (Generator.getState()). */
  generators: Record<string, GeneratorState>;
}

export interface CheckpointHeader {
  format: typeof CHECKPOINT_FORMAT | typeof TRAINING_CHECKPOINT_FORMAT;
  /** A name in the model registry (`models`), used to rebuild the model. */
  model: string;
  /** The options `createModel(model, modelOptions)` rebuilds it with (JSON only: no generator). */
  modelOptions: Record<string, JsonValue>;
  tensors: CheckpointTensorEntry[];
  meta: CheckpointMeta;
  /** v2 only: the training state without the optimizer's tensors (those are in `tensors`; decodeCheckpoint puts them together). */
  training?: Record<string, JsonValue>;
}

export interface EncodeCheckpointInput {
  model: string;
  modelOptions?: Record<string, JsonValue>;
  /** Tensors by name, e.g. `module.stateDict()`. float64 tensors are stored as float32. */
  state: Record<string, Tensor>;
  meta?: CheckpointMeta;
  /** Training state to resume from; the checkpoint is then written as v2. */
  training?: CheckpointTraining;
}

export interface DecodedCheckpoint {
  header: CheckpointHeader;
  /** The model's tensors: fresh float32 tensors (they do not share memory with the bytes), in header order. */
  state: Record<string, Tensor>;
  /** The training state, with the optimizer's tensors in it (v2 checkpoints; absent from v1). */
  training?: CheckpointTraining;
  /**
   * true: the file carried CRC-32s and every one matched. false: it was
   * written before the checksums (STRIDE01) and was checked for structure
   * only (a STRIDE_CHECKPOINT_UNVERIFIED warning said so).
   */
  verified: boolean;
}

/** Serializes a model's state and description into the bytes of one `.stride` file. */
export function encodeCheckpoint(input: EncodeCheckpointInput): Uint8Array {
  if (input === null || typeof input !== 'object') throw new ValueError('encodeCheckpoint: expected { model, state, modelOptions?, meta? }');
  checkOptions('encodeCheckpoint', input, ['model', 'modelOptions', 'state', 'meta', 'training']);
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
  const add = (name: string, t: Tensor) => {
    const length = 4 * t.size;
    tensors.push({ name, shape: [...t.shape], offset, length });
    values.push(t);
    offset += length;
  };
  for (const [name, t] of Object.entries(state)) {
    if (!(t instanceof Tensor)) throw new ValueError(`encodeCheckpoint: state['${name}'] is not a Tensor`);
    if (input.training !== undefined && name.startsWith(OPTIMIZER_TENSOR_PREFIX)) {
      throw new ValueError(`encodeCheckpoint: model tensor '${name}' starts with '${OPTIMIZER_TENSOR_PREFIX}', which names the optimizer's tensors in a checkpoint with training state; rename the submodule`);
    }
    add(name, t);
  }
  const header: CheckpointHeader = { format: CHECKPOINT_FORMAT, model, modelOptions, tensors, meta };
  if (input.training !== undefined) {
    header.format = TRAINING_CHECKPOINT_FORMAT;
    header.training = encodeTraining(input.training, add);
  }
  // The values first: each tensor's CRC-32 goes in the header.
  const data = new Uint8Array(offset);
  const dataView = new DataView(data.buffer);
  tensors.forEach((entry, k) => {
    const src = values[k].data;
    for (let i = 0; i < src.length; i++) dataView.setFloat32(entry.offset + 4 * i, src[i], true);
    entry.crc32 = crc32(data.subarray(entry.offset, entry.offset + entry.length));
  });
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
  view.setUint32(12, json.length, true);
  out.set(json, PREFIX_BYTES);
  view.setUint32(8, crc32(out.subarray(12, dataStart)), true);
  out.set(data, dataStart);
  return out;
}

/**
 * Parses the bytes of a `.stride` file. `source` (a path or URL) names the file
 * in error messages. Every malformation, and every CRC-32 that does not match,
 * is a DataError. A file of the layout before the checksums (STRIDE01) is
 * checked for structure only, with a STRIDE_CHECKPOINT_UNVERIFIED warning.
 */
export function decodeCheckpoint(bytes: Uint8Array, source: string): DecodedCheckpoint {
  if (!(bytes instanceof Uint8Array)) {
    throw new ValueError(`decodeCheckpoint: bytes must be a Uint8Array (a Node Buffer is one), got ${bytes === null ? 'null' : typeof bytes}`);
  }
  const where = `checkpoint ${source}`;
  const fail = (what: string): never => {
    throw new DataError(`${where}: ${what}`);
  };
  if (bytes.length < 8) {
    fail(`file is ${bytes.length} bytes long, but a Stride checkpoint starts with the 8-byte magic "${CHECKPOINT_MAGIC}"; the file is empty or truncated`);
  }
  let magic = '';
  for (let i = 0; i < 8; i++) magic += String.fromCharCode(bytes[i]);
  if (magic !== CHECKPOINT_MAGIC && magic !== UNCHECKED_CHECKPOINT_MAGIC) {
    const shown = JSON.stringify(magic).replace(/[\u0000-\u001f\u007f-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    let hint = 'this is not a Stride checkpoint';
    if (magic.startsWith('STRIDE')) hint = `it is a Stride checkpoint of another version (${shown}); this version reads ${CHECKPOINT_MAGIC} and ${UNCHECKED_CHECKPOINT_MAGIC}`;
    else if (bytes[0] === 0x50 && bytes[1] === 0x4b) hint = 'it is a zip archive (a PyTorch .pt file?), not a Stride checkpoint';
    fail(`wrong magic ${shown}; expected "${CHECKPOINT_MAGIC}": ${hint}`);
  }
  const checked = magic === CHECKPOINT_MAGIC;
  const prefix = checked ? PREFIX_BYTES : UNCHECKED_PREFIX_BYTES;
  if (bytes.length < prefix) {
    fail(`file is ${bytes.length} bytes long, but a ${magic} checkpoint starts with ${checked ? 'the 8-byte magic, the header\'s 4-byte CRC-32 and its 4-byte length' : 'the 8-byte magic and a 4-byte header length'}; the file is truncated`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(prefix - 4, true);
  if (headerBytes === 0 || headerBytes > MAX_HEADER_BYTES) {
    fail(`header length ${headerBytes} is out of range; expected 1 to ${MAX_HEADER_BYTES} bytes of JSON`);
  }
  const dataStart = prefix + headerBytes;
  if (bytes.length < dataStart) {
    fail(`header declares ${headerBytes} bytes of JSON, which needs ${dataStart} bytes with the ${prefix}-byte prefix, but the file has only ${bytes.length}; the file is truncated`);
  }
  if (checked) {
    const stored = view.getUint32(8, true);
    const computed = crc32(bytes.subarray(12, dataStart));
    if (stored !== computed) fail(`the header fails its CRC-32 check (stored ${formatCrc32(stored)}, computed ${formatCrc32(computed)}): ${CHANGED}`);
  }
  const { value: parsed } = parseJsonHeader(bytes.subarray(prefix, dataStart), fail);
  const header = checkHeader(parsed, checked, fail);

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
  // Sorted by start, a range overlaps an earlier one exactly when it starts before the furthest end so far, and leaves a gap when it starts after it.
  const nonEmpty = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  let furthest: (typeof ranges)[number] | null = null;
  for (const cur of nonEmpty) {
    if (furthest !== null && cur.start < furthest.end) {
      fail(`tensors '${header.tensors[furthest.i].name}' (bytes ${furthest.start}-${furthest.end}) and '${header.tensors[cur.i].name}' (bytes ${cur.start}-${cur.end}) overlap`);
    }
    const gapStart = furthest === null ? 0 : furthest.end;
    if (cur.start > gapStart) fail(`bytes ${gapStart} to ${cur.start} of the data section belong to no tensor (the next is '${header.tensors[cur.i].name}'); the tensors must cover the data back to back`);
    if (furthest === null || cur.end > furthest.end) furthest = cur;
  }
  if (dataBytes !== end) {
    fail(`the data section is ${dataBytes} bytes but the tensors in the header account for ${end}; ${dataBytes - end} extra bytes follow the data (the header and the data do not match)`);
  }
  if (checked) {
    for (const t of header.tensors) {
      const computed = crc32(bytes.subarray(dataStart + t.offset, dataStart + t.offset + t.length));
      if (computed !== t.crc32) fail(`tensor '${t.name}' fails its CRC-32 check (stored ${formatCrc32(t.crc32!)}, computed ${formatCrc32(computed)}): ${CHANGED}`);
    }
  }

  const state: Record<string, Tensor> = {};
  for (const t of header.tensors) {
    const n = t.length / 4;
    const data = new Float32Array(n);
    const base = dataStart + t.offset;
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(base + 4 * i, true);
    state[t.name] = new Tensor(data, t.shape);
  }
  const decoded: DecodedCheckpoint = header.training === undefined ? { header, state, verified: checked } : { header, ...decodeTraining(header.training, state, fail), verified: checked };
  if (!checked) {
    warn(
      'STRIDE_CHECKPOINT_UNVERIFIED',
      `${where} was written before Stride checkpoints carried checksums (layout ${UNCHECKED_CHECKPOINT_MAGIC}), so it cannot be verified: its structure was checked, but a changed value would go unnoticed; save it again (loadCheckpoint, then saveCheckpoint) to write it with CRC-32s`,
    );
  }
  return decoded;
}

/** What a checksum that does not match means. */
const CHANGED = 'the file was changed or damaged after it was written';

/**
 * The model a decoded checkpoint describes, with its tensors loaded, in eval
 * mode. The header is checked before anything is built: the model must be a
 * name in the registry (an own entry of `models`, so '__proto__' or
 * 'toString' are not) or a layer pattern, and its options are bounded by the
 * tensors stored (see `buildModelFromFile`). Every problem is a DataError
 * naming `source`.
 */
export function modelFromCheckpoint(decoded: Pick<DecodedCheckpoint, 'header' | 'state'>, source: string): Module {
  if (decoded === null || typeof decoded !== 'object' || !isPlainObject(decoded.header) || !isPlainObject(decoded.state)) {
    throw new ValueError('modelFromCheckpoint: expected what decodeCheckpoint returns, { header, state }');
  }
  const { header, state } = decoded;
  const where = `checkpoint ${source}`;
  const stored = Object.values(state).reduce((sum, t) => sum + t.size, 0);
  const model = buildModelFromFile(header.model, header.modelOptions, stored, where, { model: "header field 'model'", options: 'modelOptions', mismatch: 'the header does not describe its tensors' });
  try {
    model.loadStateDict(state);
  } catch (err) {
    if (err instanceof StrideError) throw new DataError(`${where}: ${err.message}`);
    throw err;
  }
  model.eval();
  return model;
}

/**
 * Values a model may allocate while it is built beyond the values its file
 * stores: what a constructor computes and does not keep (LeNet-5 as published
 * computes its RBF centres, 840 values for 10 classes).
 */
const BUILD_ALLOWANCE_VALUES = 1 << 16;

/**
 * Builds the model a file names (`createModel(name, options)`), refusing a
 * description the file's tensors cannot belong to, before its memory is taken:
 * - `name` must be an own entry of the registry or a layer pattern;
 * - `options` are JSON (no generator), and numClasses and inChannels (every
 *   class and every input channel has at least one weight) are whole numbers
 *   from 1 to the `stored` values;
 * - the model is built under an allocation limit of `stored` values (plus
 *   BUILD_ALLOWANCE_VALUES): one whose parameters and buffers would exceed
 *   what the file stores stops at the first tensor past it, before that
 *   tensor is allocated.
 * Problems are DataErrors starting with `where`; `labels` name the fields in
 * the file and say what a model too large for the file means.
 */
export function buildModelFromFile(
  name: unknown, options: unknown, stored: number, where: string, labels: { model: string; options: string; mismatch: string },
): Module {
  if (typeof name !== 'string' || name === '') throw new DataError(`${where}: ${labels.model} must be a model name, got ${JSON.stringify(name)}`);
  if (!Object.hasOwn(models, name) && !isModelPattern(name)) {
    throw new DataError(`${where}: ${labels.model} is ${JSON.stringify(name)}, which is neither a model in the registry (${Object.keys(models).join(', ')}) nor a layer pattern`);
  }
  if (options !== undefined && !isPlainObject(options)) throw new DataError(`${where}: ${labels.options} must be an object, got ${jsonKind(options)}`);
  const given = (options ?? {}) as Record<string, unknown>;
  if (Object.hasOwn(given, 'generator')) throw new DataError(`${where}: ${labels.options} has a 'generator', which a file cannot hold (the weights are stored; nothing is drawn)`);
  for (const key of ['numClasses', 'inChannels'] as const) {
    if (!Object.hasOwn(given, key)) continue;
    const v = given[key];
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > stored) {
      throw new DataError(
        `${where}: ${labels.options}.${key} is ${JSON.stringify(v)}, but it must be a whole number from 1 to ${stored}, the values the file stores ` +
          `(each ${key === 'numClasses' ? 'class' : 'input channel'} has at least one weight): ${labels.mismatch}`,
      );
    }
  }
  const limit = stored + BUILD_ALLOWANCE_VALUES;
  try {
    return withAllocationLimit(limit, () => createModel(name, given as ModelOptions), (needed) => new DataError(
      `${where}: model '${name}' with ${labels.options} ${JSON.stringify(given)} needs at least ${needed} values, more than the ${stored} the file stores; ` +
        `it was refused before they were allocated: ${labels.mismatch}`,
    ));
  } catch (err) {
    if (err instanceof DataError) throw err;
    if (err instanceof StrideError) throw new DataError(`${where}: ${err.message}`);
    throw err;
  }
}

/** The header's `training` field of `training`, its optimizer tensors passed to `add` under their checkpoint names. */
function encodeTraining(training: CheckpointTraining, add: (name: string, t: Tensor) => void): Record<string, JsonValue> {
  const where = 'encodeCheckpoint: training';
  if (training === null || typeof training !== 'object') throw new ValueError(`${where} must be an object { epoch, epochs, optimizer, generators, scheduler? }`);
  const { epoch, epochs, optimizer, scheduler, generators } = training;
  if (!Number.isInteger(epochs) || epochs < 1) throw new ValueError(`${where}.epochs must be an integer >= 1, got ${epochs}`);
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > epochs) throw new ValueError(`${where}.epoch (epochs completed) must be an integer in [0, ${epochs}], got ${epoch}`);
  if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.name !== 'string' || optimizer.name === '' || optimizer.state === null || typeof optimizer.state !== 'object') {
    throw new ValueError(`${where}.optimizer must be { name, ...optimizer.stateDict() }`);
  }
  const scalars: Record<string, Record<string, number>> = {};
  for (const [index, entry] of Object.entries(optimizer.state)) {
    for (const [key, value] of Object.entries(entry)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new ValueError(`${where}.optimizer.state[${index}] has key '${key}'; state keys must be identifiers (letters, digits, _)`);
      if (value instanceof Tensor) add(`${OPTIMIZER_TENSOR_PREFIX}${index}.${key}`, value);
      else (scalars[index] ??= {})[key] = value;
    }
  }
  const out: Record<string, unknown> = {
    epoch, epochs,
    optimizer: { name: optimizer.name, stepCount: optimizer.stepCount, paramGroups: optimizer.paramGroups, state: scalars },
    generators,
  };
  if (scheduler !== undefined) out.scheduler = scheduler;
  checkJsonObject('encodeCheckpoint', 'training', out);
  return out as Record<string, JsonValue>;
}

/** Checks a v2 header's `training` field and gives the optimizer its tensors back, which leaves the model's in `state`. */
function decodeTraining(
  value: Record<string, JsonValue>, all: Record<string, Tensor>, fail: (what: string) => never,
): { state: Record<string, Tensor>; training: CheckpointTraining } {
  const t = value as Record<string, unknown>;
  const { epoch, epochs, optimizer, scheduler, generators } = t;
  if (!Number.isInteger(epochs) || (epochs as number) < 1) fail(`training.epochs must be an integer >= 1, got ${JSON.stringify(epochs)}`);
  if (!Number.isInteger(epoch) || (epoch as number) < 0 || (epoch as number) > (epochs as number)) fail(`training.epoch must be an integer in [0, ${epochs}], got ${JSON.stringify(epoch)}`);
  if (!isPlainObject(optimizer)) fail(`training.optimizer must be an object { name, stepCount, paramGroups, state }, got ${jsonKind(optimizer)}`);
  const o = optimizer as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name === '') fail(`training.optimizer.name must name the optimizer class, got ${JSON.stringify(o.name)}`);
  if (!Number.isInteger(o.stepCount) || (o.stepCount as number) < 0) fail(`training.optimizer.stepCount must be an integer >= 0, got ${JSON.stringify(o.stepCount)}`);
  if (!Array.isArray(o.paramGroups) || o.paramGroups.length === 0) fail(`training.optimizer.paramGroups must be a non-empty array, got ${jsonKind(o.paramGroups)}`);
  let numParams = 0;
  (o.paramGroups as unknown[]).forEach((g, i) => {
    const params = isPlainObject(g) ? g.params : undefined;
    if (!Array.isArray(params) || !params.every((p) => Number.isInteger(p) && p >= 0)) fail(`training.optimizer.paramGroups[${i}].params must be an array of parameter positions`);
    numParams += (params as number[]).length;
  });
  if (!isPlainObject(o.state)) fail(`training.optimizer.state must be an object, got ${jsonKind(o.state)}`);
  const optState: Record<number, Record<string, Tensor | number>> = {};
  const entryOf = (index: string, what: string): Record<string, Tensor | number> => {
    const i = Number(index);
    if (!/^\d+$/.test(index) || i >= numParams) fail(`${what} is for parameter ${JSON.stringify(index)}, but the optimizer's groups hold parameters 0 to ${numParams - 1}`);
    return (optState[i] ??= {});
  };
  for (const [index, entry] of Object.entries(o.state as Record<string, unknown>)) {
    if (!isPlainObject(entry)) fail(`training.optimizer.state[${index}] must be an object of numbers`);
    const target = entryOf(index, `training.optimizer.state[${index}]`);
    for (const [key, v] of Object.entries(entry as Record<string, unknown>)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(`training.optimizer.state[${index}].${key} must be a finite number, got ${JSON.stringify(v)}`);
      target[key] = v as number;
    }
  }
  const state: Record<string, Tensor> = {};
  for (const [name, tensor] of Object.entries(all)) {
    if (!name.startsWith(OPTIMIZER_TENSOR_PREFIX)) {
      state[name] = tensor;
      continue;
    }
    const rest = name.slice(OPTIMIZER_TENSOR_PREFIX.length);
    const dot = rest.indexOf('.');
    if (dot < 0) fail(`tensor '${name}' is not named ${OPTIMIZER_TENSOR_PREFIX}<parameter>.<key>`);
    const key = rest.slice(dot + 1);
    const target = entryOf(rest.slice(0, dot), `tensor '${name}'`);
    if (key in target) fail(`optimizer state '${key}' of parameter ${rest.slice(0, dot)} is both a tensor and a number`);
    target[key] = tensor;
  }
  if (!isPlainObject(generators)) fail(`training.generators must be an object of generator states, got ${jsonKind(generators)}`);
  for (const [name, g] of Object.entries(generators as Record<string, unknown>)) {
    const words = isPlainObject(g) ? g.state : undefined;
    const spare = isPlainObject(g) ? g.spareNormal : undefined;
    if (!Array.isArray(words) || words.length !== 4 || !words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) || !(spare === null || typeof spare === 'number')) {
      fail(`training.generators.${name} must be { state: [four 32-bit unsigned integers], spareNormal: number or null }, got ${JSON.stringify(g)}`);
    }
  }
  if (scheduler !== undefined && !isPlainObject(scheduler)) fail(`training.scheduler must be an object, got ${jsonKind(scheduler)}`);
  const training: CheckpointTraining = {
    epoch: epoch as number,
    epochs: epochs as number,
    optimizer: { name: o.name as string, stepCount: o.stepCount as number, paramGroups: o.paramGroups as CheckpointOptimizerState['paramGroups'], state: optState },
    generators: generators as Record<string, GeneratorState>,
  };
  if (scheduler !== undefined) training.scheduler = scheduler as Record<string, JsonValue>;
  return { state, training };
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

/** Checks the parsed JSON header field by field; `checked`: the layout with CRC-32s, where every tensor has one. */
function checkHeader(value: unknown, checked: boolean, fail: (what: string) => never): CheckpointHeader {
  if (!isPlainObject(value)) fail(`the header must be a JSON object, got ${jsonKind(value)}`);
  const h = value as Record<string, unknown>;
  if (h.format !== CHECKPOINT_FORMAT && h.format !== TRAINING_CHECKPOINT_FORMAT) {
    fail(`header format is ${JSON.stringify(h.format)}; expected "${CHECKPOINT_FORMAT}" or "${TRAINING_CHECKPOINT_FORMAT}" (a newer Stride wrote it?)`);
  }
  const v2 = h.format === TRAINING_CHECKPOINT_FORMAT;
  if (v2 && !isPlainObject(h.training)) fail(`header field 'training' must be an object in a ${TRAINING_CHECKPOINT_FORMAT} checkpoint, got ${jsonKind(h.training)}`);
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
    const out: CheckpointTensorEntry = { name, shape: [...(e.shape as number[])], offset: e.offset as number, length: e.length as number };
    if (checked) {
      if (!Number.isInteger(e.crc32) || (e.crc32 as number) < 0 || (e.crc32 as number) > 0xffffffff) {
        fail(`tensor '${name}': crc32 must be the CRC-32 of its bytes, an integer in [0, 4294967295], got ${JSON.stringify(e.crc32)}`);
      }
      out.crc32 = e.crc32 as number;
    }
    return out;
  });
  const header: CheckpointHeader = {
    format: v2 ? TRAINING_CHECKPOINT_FORMAT : CHECKPOINT_FORMAT,
    model: h.model as string,
    modelOptions: h.modelOptions as Record<string, JsonValue>,
    tensors,
    meta: h.meta as CheckpointMeta,
  };
  if (v2) header.training = h.training as Record<string, JsonValue>;
  return header;
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
