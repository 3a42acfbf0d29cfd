/**
 * The safetensors format (Hugging Face's; isomorphic: bytes in, bytes out;
 * `stride/node` reads and writes the files):
 *
 * ```
 * offset 0    uint64 LE      N, the header length in bytes (at most 100,000,000)
 * offset 8    N bytes        UTF-8 JSON header
 * offset 8+N                 the data buffer: each tensor's values, little-endian, row-major
 * ```
 *
 * The header maps each tensor's name to `{ "dtype": "F32", "shape": [64, 3, 7, 7],
 * "data_offsets": [begin, end] }` (bytes, relative to the start of the data
 * buffer); the optional key `"__metadata__"` holds a map of strings to strings.
 *
 * Reading follows the rules of the reference implementation (the `safetensors`
 * crate, which PyTorch's `safetensors.torch` uses): a header of at most
 * 100,000,000 bytes that fits in the file; the tensors, sorted by offsets,
 * cover the buffer back to back from byte 0 to its last byte (no gap, no
 * overlap, nothing after the last tensor); each tensor's byte length is its
 * element count times the dtype's size. Stride is stricter in three places: a
 * key given twice in the JSON (which a JSON parser would silently resolve to
 * the last), a header that is not a JSON object and a BOOL byte other than 0
 * and 1 are errors. Every
 * malformation is a DataError naming the source and, where there is one, the
 * tensor.
 *
 * Values: Stride's tensors are float32 (float64 for F64). F16, BF16 and the
 * integer dtypes up to 16 bits convert to float32 exactly. I32, U32, I64 and
 * U64 values convert when float32 holds them exactly (every integer up to
 * 2^24 = 16,777,216 in magnitude, and larger ones that are a power of two
 * times a 24-bit integer); any other value is a DataError naming the tensor,
 * the index and the value, never a silently rounded weight. BOOL reads as 0
 * and 1. F8, F4, F6 and C64 are not read (DataError naming the dtype).
 *
 * Writing: float32 tensors as F32 and float64 ones as F64, or any dtype above
 * per tensor (`options.dtypes`): integers and BOOL must hold whole numbers in
 * range (ValueError otherwise), F16 and BF16 round to nearest, ties to even,
 * as PyTorch's `.half()` and `.bfloat16()` do (from a float64 tensor the value
 * is first rounded to float32). The layout is the reference writer's: tensors
 * sorted by dtype alignment, largest first, then by name (UTF-8 byte order),
 * back to back; the header padded with spaces to a multiple of 8 bytes, so
 * every tensor starts 8-byte aligned in the file.
 */
import { DataError, ValueError, fmtShape } from '../errors.js';
import { Tensor, shapeSize } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';
import { isPlainObject, jsonKind, parseJsonHeader } from './checkpoint.js';

/** The dtypes Stride reads and writes, in the reference's order of alignment (smallest first). */
export const SAFETENSORS_DTYPES = ['BOOL', 'U8', 'I8', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'] as const;
export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

/** Dtypes of the format that Stride does not read. */
const UNREAD_DTYPES = ['F4', 'F6_E2M3', 'F6_E3M2', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'C64'];

/** Header lengths above this are rejected, as the reference implementation does. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** The name `saveCheckpoint` gives the file inside its folder when asked for safetensors. */
export const SAFETENSORS_FILE = 'model.safetensors';

/** The reserved header key of the string-to-string metadata. */
const METADATA_KEY = '__metadata__';

const ITEM_BYTES: Record<SafetensorsDType, number> = {
  BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/** The reference writer's order: its dtype enum, in increasing alignment (F8, F4, F6 and C64 included). */
const ALIGNMENT_RANK = ['BOOL', 'F4', 'F6_E2M3', 'F6_E3M2', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'C64', 'F64', 'I64', 'U64'];

/** What `decodeSafetensors` returns. */
export interface DecodedSafetensors {
  /** Fresh tensors (they do not share memory with the bytes), in the order of their offsets. F64 gives float64 tensors, every other dtype float32. */
  tensors: Record<string, Tensor>;
  /** The header's `__metadata__` ({} when absent). */
  metadata: Record<string, string>;
  /** Each tensor's dtype in the file; pass it back as `encodeSafetensors(tensors, metadata, { dtypes })` to write the same dtypes. */
  dtypes: Record<string, SafetensorsDType>;
}

export interface EncodeSafetensorsOptions {
  /** The dtype to store a tensor as, by name (default: F32 for float32 tensors, F64 for float64 ones). */
  dtypes?: Record<string, SafetensorsDType>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Serializes tensors (by name, e.g. a state dict) and optional string
 * metadata into the bytes of one `.safetensors` file.
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>, options: EncodeSafetensorsOptions = {}): Uint8Array {
  if (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors)) {
    throw new ValueError('encodeSafetensors: tensors must be an object mapping names to tensors (e.g. module.stateDict())');
  }
  if (metadata !== undefined) checkMetadata(metadata);
  if (options === null || typeof options !== 'object') throw new ValueError('encodeSafetensors: options must be an object like { dtypes: { step: "I64" } }');
  checkOptions('encodeSafetensors', options, ['dtypes']);
  const dtypes = options.dtypes ?? {};
  if (dtypes === null || typeof dtypes !== 'object') throw new ValueError('encodeSafetensors: options.dtypes must map tensor names to dtypes');
  for (const [name, dtype] of Object.entries(dtypes)) {
    if (!Object.hasOwn(tensors, name)) throw new ValueError(`encodeSafetensors: options.dtypes names tensor '${name}', which is not among the tensors (${Object.keys(tensors).length} given)`);
    if (!(SAFETENSORS_DTYPES as readonly string[]).includes(dtype)) {
      throw new ValueError(`encodeSafetensors: options.dtypes['${name}'] is ${JSON.stringify(dtype)}; Stride writes ${SAFETENSORS_DTYPES.join(', ')}`);
    }
  }
  const utf8 = new TextEncoder();
  const entries = Object.entries(tensors).map(([name, t]) => {
    if (name === METADATA_KEY) throw new ValueError(`encodeSafetensors: '${METADATA_KEY}' is the format's reserved key; give the tensor another name`);
    if (!(t instanceof Tensor)) throw new ValueError(`encodeSafetensors: tensors['${name}'] is not a Tensor`);
    const dtype: SafetensorsDType = Object.hasOwn(dtypes, name) ? dtypes[name] : t.dtype === 'float64' ? 'F64' : 'F32';
    return { name, key: utf8.encode(name), t, dtype };
  });
  // The reference writer's layout: larger alignment first, then by name in UTF-8 byte order.
  entries.sort((a, b) => ALIGNMENT_RANK.indexOf(b.dtype) - ALIGNMENT_RANK.indexOf(a.dtype) || compareBytes(a.key, b.key));

  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`${JSON.stringify(METADATA_KEY)}:{${Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  let offset = 0;
  const placed = entries.map((e) => {
    const begin = offset;
    offset += e.t.size * ITEM_BYTES[e.dtype];
    // Built by hand: an object literal would put integer-like names ("0") first.
    parts.push(`${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${e.t.shape.join(',')}],"data_offsets":[${begin},${offset}]}`);
    return { ...e, begin };
  });
  const json = utf8.encode(`{${parts.join(',')}}`);
  const headerBytes = json.length + ((8 - (json.length % 8)) % 8);
  const dataStart = 8 + headerBytes;
  const out = new Uint8Array(dataStart + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, dataStart); // JSON allows trailing spaces
  for (const e of placed) writeValues(view, dataStart + e.begin, e.t.data, e.dtype, e.name);
  return out;
}

/**
 * Parses the bytes of a `.safetensors` file. `source` (a path or URL) names
 * the file in error messages. Every malformation is a DataError.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'bytes'): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) {
    throw new ValueError(`decodeSafetensors: bytes must be a Uint8Array (a Node Buffer is one), got ${bytes === null ? 'null' : typeof bytes}`);
  }
  if (typeof source !== 'string') throw new ValueError(`decodeSafetensors: source must be a string naming the file, got ${typeof source}`);
  const fail = (what: string): never => {
    throw new DataError(`safetensors ${source}: ${what}`);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes long, but a safetensors file starts with an 8-byte header length; the file is empty or truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    const hint = bytes[0] === 0x50 && bytes[1] === 0x4b ? ': it is a zip archive (a PyTorch .pt file?), not safetensors' : bytes[0] === 0x53 && bytes[1] === 0x54 ? ': it starts with "ST" (a Stride .stride checkpoint?), not safetensors' : '; the file is not safetensors or is corrupt';
    fail(`header length ${declared} is above the format's limit of ${SAFETENSORS_MAX_HEADER_BYTES} bytes${hint}`);
  }
  const headerBytes = Number(declared);
  const dataStart = 8 + headerBytes;
  if (dataStart > bytes.length) {
    fail(`header length ${headerBytes} needs ${dataStart} bytes with the 8-byte length, but the file has only ${bytes.length}; the file is truncated`);
  }
  const { text, value: parsed } = parseJsonHeader(bytes.subarray(8, dataStart), fail);
  if (!isPlainObject(parsed)) return fail(`the header must be a JSON object of tensor entries, got ${jsonKind(parsed)}`);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== null) fail(duplicate);

  const metadata: Record<string, string> = {};
  const rawMetadata = parsed[METADATA_KEY];
  if (rawMetadata !== undefined && rawMetadata !== null) {
    if (!isPlainObject(rawMetadata)) fail(`'${METADATA_KEY}' must be an object of strings, got ${jsonKind(rawMetadata)}`);
    for (const [k, v] of Object.entries(rawMetadata as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`'${METADATA_KEY}' value '${k}' must be a string, got ${jsonKind(v)}`);
      setOwn(metadata, k, v as string);
    }
  }

  const dataBytes = bytes.length - dataStart;
  const infos = Object.entries(parsed)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, entry]) => checkEntry(name, entry, fail));
  // The reference's rule: sorted by [begin, end], the tensors tile the buffer from 0 to its end.
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorInfo | null = null;
  for (const info of infos) {
    const range = `data_offsets [${info.begin}, ${info.end}]`;
    if (info.end > dataBytes) fail(`tensor '${info.name}': ${range} reach past the end of the data buffer (${dataBytes} bytes); the file is truncated`);
    if (info.begin < covered) {
      fail(`tensors '${previous!.name}' (bytes ${previous!.begin} to ${previous!.end}) and '${info.name}' (bytes ${info.begin} to ${info.end}) overlap`);
    }
    if (info.begin > covered) {
      const before = previous === null ? 'the start of the data buffer' : `tensor '${previous.name}' (ending at byte ${covered})`;
      fail(`bytes ${covered} to ${info.begin} of the data buffer, between ${before} and tensor '${info.name}', belong to no tensor; safetensors requires the tensors to cover the buffer back to back`);
    }
    covered = info.end;
    previous = info;
  }
  if (covered !== dataBytes) {
    fail(`${dataBytes - covered} bytes follow the last tensor${previous ? ` ('${previous.name}', ending at byte ${covered})` : ''} in the ${dataBytes}-byte data buffer; safetensors requires the tensors to end where the file ends`);
  }

  const tensors: Record<string, Tensor> = {};
  const dtypes: Record<string, SafetensorsDType> = {};
  for (const info of infos) {
    const data = readValues(bytes, view, dataStart + info.begin, shapeSize(info.shape), info.dtype, (what) => fail(`tensor '${info.name}' (${info.dtype}, shape ${fmtShape(info.shape)}): ${what}`));
    setOwn(tensors, info.name, new Tensor(data, info.shape));
    setOwn(dtypes, info.name, info.dtype);
  }
  return { tensors, metadata, dtypes };
}

interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/** Checks one tensor entry of the header: its dtype, shape, offsets and their agreement. */
function checkEntry(name: string, entry: unknown, fail: (what: string) => never): TensorInfo {
  const where = `tensor '${name}'`;
  if (!isPlainObject(entry)) return fail(`${where}: the entry must be an object { dtype, shape, data_offsets }, got ${jsonKind(entry)}`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') fail(`${where}: dtype must be a string such as "F32", got ${jsonKind(dtype)}`);
  if (UNREAD_DTYPES.includes(dtype as string)) fail(`${where}: Stride does not read dtype ${dtype}; it reads ${SAFETENSORS_DTYPES.join(', ')}`);
  if (!(SAFETENSORS_DTYPES as readonly string[]).includes(dtype as string)) fail(`${where}: unknown dtype ${JSON.stringify(dtype)}; the format's dtypes are ${[...SAFETENSORS_DTYPES, ...UNREAD_DTYPES].join(', ')}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape) ?? 'nothing (the field is missing)'}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
    fail(`${where}: data_offsets must be [begin, end], two non-negative integers, got ${JSON.stringify(offsets) ?? 'nothing (the field is missing)'}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  const d = dtype as SafetensorsDType;
  const count = (shape as number[]).reduce((n, s) => n * s, 1);
  const expected = count * ITEM_BYTES[d];
  if (!Number.isSafeInteger(expected)) fail(`${where}: shape ${fmtShape(shape as number[])} has more elements than a file can hold`);
  if (end - begin !== expected) {
    fail(`${where} has dtype ${d} and shape ${fmtShape(shape as number[])} (${count} values x ${ITEM_BYTES[d]} bytes = ${expected} bytes), but data_offsets [${begin}, ${end}] span ${end - begin} bytes`);
  }
  return { name, dtype: d, shape: [...(shape as number[])], begin, end };
}

/** Reads `n` values of `dtype` at byte `at` into a fresh float32 (F64: float64) array. */
function readValues(bytes: Uint8Array, view: DataView, at: number, n: number, dtype: SafetensorsDType, fail: (what: string) => never): Float32Array | Float64Array {
  if ((dtype === 'F32' || dtype === 'F64') && LITTLE_ENDIAN) {
    // A byte copy: bit-exact (NaN payloads included) and fast.
    const out = dtype === 'F32' ? new Float32Array(n) : new Float64Array(n);
    new Uint8Array(out.buffer).set(bytes.subarray(at, at + out.byteLength));
    return out;
  }
  if (dtype === 'F64') {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat64(at + 8 * i, true);
    return out;
  }
  const out = new Float32Array(n);
  const inexact = (i: number, v: number | bigint): never =>
    fail(`value ${v} at index ${i} cannot be represented exactly in float32 (exact for every integer up to 2^24 = 16777216 in magnitude); Stride's tensors are float32`);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(at + 2 * i, true));
      break;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(at + 2 * i, true) << 16;
      break;
    }
    case 'BOOL':
      for (let i = 0; i < n; i++) {
        const b = bytes[at + i];
        if (b > 1) fail(`byte ${b} at index ${i} is not a boolean (0 or 1)`);
        out[i] = b;
      }
      break;
    case 'U8':
      for (let i = 0; i < n; i++) out[i] = bytes[at + i];
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(at + i);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(at + 2 * i, true);
      break;
    case 'U16':
      for (let i = 0; i < n; i++) out[i] = view.getUint16(at + 2 * i, true);
      break;
    case 'I32':
    case 'U32':
      for (let i = 0; i < n; i++) {
        const v = dtype === 'I32' ? view.getInt32(at + 4 * i, true) : view.getUint32(at + 4 * i, true);
        if (Math.fround(v) !== v) inexact(i, v);
        out[i] = v;
      }
      break;
    case 'I64':
    case 'U64':
      for (let i = 0; i < n; i++) {
        const p = at + 8 * i;
        const lo = view.getUint32(p, true);
        const hi = dtype === 'I64' ? view.getInt32(p + 4, true) : view.getUint32(p + 4, true);
        // |hi| < 2^21 keeps hi * 2^32 + lo below 2^53, exact in a double; beyond, BigInt decides.
        let v = hi * 4294967296 + lo;
        if (hi >= 2097152 || hi < -2097152) {
          const big = dtype === 'I64' ? view.getBigInt64(p, true) : view.getBigUint64(p, true);
          v = Number(big);
          if (BigInt(v) !== big) inexact(i, big);
        }
        if (Math.fround(v) !== v) inexact(i, v);
        out[i] = v;
      }
      break;
  }
  return out;
}

/** Writes `data` as `dtype` at byte `at`; integer dtypes take whole numbers in range only. */
function writeValues(view: DataView, at: number, data: Float32Array | Float64Array, dtype: SafetensorsDType, name: string): void {
  const n = data.length;
  if (dtype === 'F32' && data instanceof Float32Array && LITTLE_ENDIAN) {
    new Uint8Array(view.buffer, at, 4 * n).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return;
  }
  if (dtype === 'F64' && data instanceof Float64Array && LITTLE_ENDIAN) {
    new Uint8Array(view.buffer, at, 8 * n).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return;
  }
  if (dtype === 'F32' || dtype === 'F64' || dtype === 'F16' || dtype === 'BF16') {
    const f32 = new Float32Array(1);
    const bits = new Uint32Array(f32.buffer);
    for (let i = 0; i < n; i++) {
      if (dtype === 'F32') view.setFloat32(at + 4 * i, data[i], true);
      else if (dtype === 'F64') view.setFloat64(at + 8 * i, data[i], true);
      else {
        f32[0] = data[i];
        view.setUint16(at + 2 * i, dtype === 'F16' ? floatBitsToHalf(bits[0]) : floatBitsToBfloat16(bits[0]), true);
      }
    }
    return;
  }
  const [min, max] = INTEGER_RANGE[dtype];
  const size = ITEM_BYTES[dtype];
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new ValueError(`encodeSafetensors: tensor '${name}' holds ${v} at index ${i}, which ${dtype} cannot hold (${dtype === 'BOOL' ? '0 or 1' : `whole numbers from ${min} to ${max}`}); store it as F32`);
    }
    const p = at + size * i;
    switch (dtype) {
      case 'BOOL': case 'U8': view.setUint8(p, v); break;
      case 'I8': view.setInt8(p, v); break;
      case 'I16': view.setInt16(p, v, true); break;
      case 'U16': view.setUint16(p, v, true); break;
      case 'I32': view.setInt32(p, v, true); break;
      case 'U32': view.setUint32(p, v, true); break;
      case 'I64': view.setBigInt64(p, BigInt(v), true); break;
      case 'U64': view.setBigUint64(p, BigInt(v), true); break;
    }
  }
}

/** The whole numbers each integer dtype holds (I64 and U64: as far as a float64 value goes). */
const INTEGER_RANGE: Record<Exclude<SafetensorsDType, 'F32' | 'F64' | 'F16' | 'BF16'>, [number, number]> = {
  BOOL: [0, 1], U8: [0, 255], I8: [-128, 127], I16: [-32768, 32767], U16: [0, 65535],
  I32: [-(2 ** 31), 2 ** 31 - 1], U32: [0, 2 ** 32 - 1], I64: [-(2 ** 63), 2 ** 63 - 1], U64: [0, 2 ** 64 - 1],
};

/** IEEE 754 binary16 bits -> its value (exact in float32): subnormals, infinities and NaN included. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** float32 bits -> binary16 bits, rounded to nearest, ties to even; too large -> infinity; NaN stays NaN (quiet). */
function floatBitsToHalf(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // the binary16 exponent field (bias 15) of the same value
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal, 2^-25
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // a carry into the exponent is right (up to infinity)
  return half;
}

/** float32 bits -> bfloat16 bits (the upper half), rounded to nearest, ties to even; NaN stays NaN (quiet). */
function floatBitsToBfloat16(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function checkMetadata(metadata: unknown): void {
  if (!isPlainObject(metadata)) throw new ValueError(`encodeSafetensors: metadata must be an object of strings (safetensors' __metadata__), got ${jsonKind(metadata)}`);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new ValueError(`encodeSafetensors: metadata['${k}'] is ${jsonKind(v)}; safetensors metadata holds strings only (JSON.stringify other values)`);
  }
}

/** obj[key] = value as an own property, even for a key like '__proto__' (a name in a file is data, never a prototype). */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * The first key that an object of the JSON `text` (already known to be valid)
 * holds twice, as a message, or null. JSON.parse keeps the last silently.
 */
function findDuplicateKey(text: string): string | null {
  const stack: { keys: Set<string> | null; expectKey: boolean; owner: string | null }[] = [];
  let lastKey: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) {
          if (stack.length === 1) return `the header names '${key}' twice`;
          const owner = top.owner === null ? 'an object in the header' : top.owner === METADATA_KEY ? `'${METADATA_KEY}'` : `tensor '${top.owner}'`;
          return `${owner} has the key '${key}' twice`;
        }
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
      }
      i = j;
    } else if (c === '{') {
      stack.push({ keys: new Set(), expectKey: true, owner: stack.length === 1 ? lastKey : null });
    } else if (c === '[') {
      stack.push({ keys: null, expectKey: false, owner: null });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return null;
}
