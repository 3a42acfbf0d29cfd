import { DataError, ValueError, fmtShape } from '../errors.js';
import { hasNonFinite } from '../tensor/finite.js';
import { checkNonFinitePolicy, locateNonFinite, type NonFinitePolicy } from './non-finite.js';
import { checkOptions } from '../validate.js';

/**
 * The IDX format (LeCun's MNIST files): a 4-byte magic number, the dimensions,
 * then the values, everything big-endian.
 *
 * ```
 * offset 0   0x00 0x00            two zero bytes
 * offset 2   type byte            0x08 ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float, 0x0E double
 * offset 3   rank r               number of dimensions (>= 1 here)
 * offset 4   r x uint32 (BE)      the dimensions d0 ... d(r-1)
 * offset 4+4r                     d0 * ... * d(r-1) values of the type, big-endian, row-major
 * ```
 *
 * The file length is therefore exactly `4 + 4r + size(type) * prod(d)`. Every
 * part of that is checked: a truncated download or a gzip file that was never
 * decompressed is a `DataError` naming the file and what was expected, never a
 * silently short or garbled tensor (docs/design.md, "Errors state the rule").
 *
 * The parser works on bytes and is isomorphic; only `readIdxFile` touches the
 * file system, and it imports `node:fs` lazily so a browser bundle can use
 * `parseIdx` on fetched bytes.
 */

/** The typed array that holds each IDX element type. */
export interface IdxArrays {
  uint8: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  float32: Float32Array;
  float64: Float64Array;
}

/** IDX element types, named after the typed arrays that hold them. */
export type IdxDType = keyof IdxArrays;

/**
 * A parsed IDX file. A union over the element types, so checking `dtype`
 * narrows `data` to the matching typed array (`dtype === 'uint8'` -> `Uint8Array`).
 */
export type IdxFile<D extends IdxDType = IdxDType> = {
  [K in D]: { dtype: K; shape: number[]; data: IdxArrays[K] };
}[D];

/**
 * What the caller expects of a file; a mismatch is a DataError. `shape` gives
 * the rank and each dimension, `null` for "any" (e.g. `[null, 28, 28]` for a
 * stack of 28x28 images).
 */
export interface IdxExpect<D extends IdxDType = IdxDType> {
  dtype?: D;
  shape?: readonly (number | null)[];
  /**
   * NaN and infinities in a float or double file: 'error' (default) is a
   * DataError naming the example (the first index) and the rest of the
   * index; 'zero' replaces them with 0. Integer files cannot hold them.
   */
  nonFinite?: NonFinitePolicy;
}

interface TypeInfo {
  code: number;
  dtype: IdxDType;
  /** Bytes per element. */
  size: number;
  /** The name the IDX spec uses. */
  idxName: string;
}

const TYPES: readonly TypeInfo[] = [
  { code: 0x08, dtype: 'uint8', size: 1, idxName: 'unsigned byte' },
  { code: 0x09, dtype: 'int8', size: 1, idxName: 'signed byte' },
  { code: 0x0b, dtype: 'int16', size: 2, idxName: 'short' },
  { code: 0x0c, dtype: 'int32', size: 4, idxName: 'int' },
  { code: 0x0d, dtype: 'float32', size: 4, idxName: 'float' },
  { code: 0x0e, dtype: 'float64', size: 8, idxName: 'double' },
];

const BY_CODE = new Map(TYPES.map((t) => [t.code, t]));
const BY_DTYPE = new Map(TYPES.map((t) => [t.dtype, t]));

const hex = (v: number, digits: number) => '0x' + v.toString(16).padStart(digits, '0');
const knownTypes = () => TYPES.map((t) => `${hex(t.code, 2)} ${t.dtype}`).join(', ');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const fmtExpectShape = (s: readonly (number | null)[]) => `[${s.map((d) => (d === null ? '*' : String(d))).join(', ')}]`;

/**
 * Parses an IDX file held in `bytes`. `source` (a path or URL) is only used in
 * error messages. The returned `data` is a fresh typed array (it does not
 * share memory with `bytes`), converted from big-endian to host order.
 *
 * Throws DataError for: fewer than 4 bytes, a magic number whose first two
 * bytes are not zero, an unknown type byte, zero dimensions, a header shorter
 * than the dimensions it declares, a data section shorter or longer than
 * `size(type) * prod(dims)`, anything that contradicts `expect`, and a NaN
 * or an infinity in a float or double file (unless `expect.nonFinite` is 'zero').
 */
export function parseIdx<D extends IdxDType = IdxDType>(bytes: Uint8Array, source: string, expect?: IdxExpect<D>): IdxFile<D> {
  if (!(bytes instanceof Uint8Array)) {
    throw new ValueError(`parseIdx: bytes must be a Uint8Array (a Node Buffer is one), got ${bytes === null ? 'null' : typeof bytes}`);
  }
  checkOptions('parseIdx', expect, ['dtype', 'shape', 'nonFinite']);
  const where = `parseIdx: ${source}`;
  if (expect !== undefined && (expect === null || typeof expect !== 'object')) throw new ValueError(`parseIdx: expect must be an object { dtype?, shape?, nonFinite? }, got ${expect === null ? 'null' : typeof expect}`);
  const nonFinite = checkNonFinitePolicy('parseIdx', expect?.nonFinite);
  if (bytes.length < 4) {
    throw new DataError(
      `${where}: file is ${plural(bytes.length, 'byte')} long, but an IDX file starts with a 4-byte magic number (0x00 0x00, type, rank); the file is empty or truncated`,
    );
  }
  const magic = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    let hint = 'this is not an IDX file';
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) hint = 'the file is gzip-compressed (it starts with 0x1f8b); decompress it first, e.g. `gunzip file.gz`';
    else if (bytes[0] === 0x89 && bytes[1] === 0x50) hint = 'the file is a PNG image, not an IDX file';
    else if (bytes[0] === 0x3c) hint = 'the file looks like text/HTML (an error page saved instead of the download?)';
    throw new DataError(`${where}: wrong magic number ${hex(magic, 8)}; expected 0x0000TTRR (two zero bytes, then type TT and rank RR); ${hint}`);
  }
  const type = BY_CODE.get(bytes[2]);
  if (type === undefined) {
    throw new DataError(`${where}: unknown element type byte ${hex(bytes[2], 2)} in magic number ${hex(magic, 8)}; expected one of ${knownTypes()}`);
  }
  const rank = bytes[3];
  if (rank === 0) {
    throw new DataError(`${where}: magic number ${hex(magic, 8)} declares 0 dimensions; expected at least 1`);
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataError(
      `${where}: header declares ${plural(rank, 'dimension')}, which needs ${headerBytes} header bytes (4 + 4 * ${rank}), but the file has only ${plural(bytes.length, 'byte')}; the file is truncated`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));

  // Checked against `expect` before the length, so a wrong file gets the more
  // telling message ("expected uint8, found float32") rather than a length one.
  if (expect !== undefined) checkExpect(where, type.dtype, shape, expect);

  let count = 1;
  for (const d of shape) count *= d;
  const dataBytes = count * type.size;
  const found = bytes.length - headerBytes;
  if (found !== dataBytes) {
    const need = `shape ${fmtShape(shape)} of ${type.dtype} needs ${dataBytes} data bytes (${count} x ${type.size}; ${headerBytes + dataBytes} bytes with the ${headerBytes}-byte header)`;
    if (found < dataBytes) {
      throw new DataError(`${where}: truncated: ${need} but only ${plural(found, 'data byte')} were found (${bytes.length} in total); download the file again`);
    }
    throw new DataError(`${where}: ${need} but ${found} data bytes were found, ${plural(found - dataBytes, 'extra byte')} after the data; the header and the data do not match`);
  }

  const data = decode(type, view, headerBytes, count, bytes);
  if ((data instanceof Float32Array || data instanceof Float64Array) && hasNonFinite(data)) {
    if (nonFinite === 'error') {
      throw new DataError(`${where}: the ${type.dtype} data holds a value that is not finite: ${locateNonFinite(data, shape)}; fix the file, or pass nonFinite: 'zero' to replace such values with 0`);
    }
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) data[i] = 0;
  }
  return { dtype: type.dtype, shape, data } as IdxFile<D>;
}

function checkExpect(where: string, dtype: IdxDType, shape: number[], expect: IdxExpect): void {
  if (expect.dtype !== undefined && expect.dtype !== dtype) {
    throw new DataError(`${where}: expected element type ${expect.dtype} (${hex(BY_DTYPE.get(expect.dtype)?.code ?? 0, 2)}) but the file holds ${dtype} (${hex(BY_DTYPE.get(dtype)!.code, 2)})`);
  }
  const want = expect.shape;
  if (want === undefined) return;
  if (want.length !== shape.length) {
    throw new DataError(`${where}: expected ${plural(want.length, 'dimension')} ${fmtExpectShape(want)} but the file has ${plural(shape.length, 'dimension')} ${fmtShape(shape)}`);
  }
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (w !== null && w !== shape[i]) {
      throw new DataError(`${where}: expected shape ${fmtExpectShape(want)} but the file has ${fmtShape(shape)} (dimension ${i} is ${shape[i]}, expected ${w})`);
    }
  }
}

/** Reads `count` big-endian elements starting at byte `offset` into a new host-order typed array. */
function decode(type: TypeInfo, view: DataView, offset: number, count: number, bytes: Uint8Array): IdxArrays[IdxDType] {
  switch (type.dtype) {
    // Copies through the constructor: a Node Buffer's slice() would be a view.
    case 'uint8':
      return new Uint8Array(bytes.subarray(offset, offset + count));
    case 'int8':
      return new Int8Array(new Uint8Array(bytes.subarray(offset, offset + count)).buffer);
    // One loop per type, each with its own DataView getter: one shared loop
    // calling a getter per element measured about 3x slower (4M float32: 22 ms -> 64 ms).
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** The inclusive value range of each integer type, for encodeIdx's checks. */
const INT_RANGE: Partial<Record<IdxDType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

function dtypeOf(data: ArrayLike<number>): IdxDType | undefined {
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  return undefined;
}

/**
 * Writes `data` (row-major, `prod(shape)` values) as an IDX file. `dtype`
 * defaults to the element type of a typed array; for a plain array it is
 * required. Integer types reject values that are not integers or do not fit
 * (e.g. 256 as uint8) with a ValueError instead of wrapping them silently.
 */
export function encodeIdx(data: ArrayLike<number>, shape: readonly number[], dtype?: IdxDType): Uint8Array {
  const dt = dtype ?? dtypeOf(data);
  if (dt === undefined) {
    throw new ValueError(`encodeIdx: cannot infer the element type of a plain array; pass dtype, one of ${TYPES.map((t) => t.dtype).join(', ')}`);
  }
  const type = BY_DTYPE.get(dt);
  if (type === undefined) {
    throw new ValueError(`encodeIdx: unknown dtype '${String(dt)}'; expected one of ${TYPES.map((t) => t.dtype).join(', ')}`);
  }
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 255) {
    throw new ValueError(`encodeIdx: shape must be an array of 1 to 255 dimensions (the rank is one byte), got ${Array.isArray(shape) ? fmtShape(shape) : String(shape)}`);
  }
  let count = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new ValueError(`encodeIdx: shape ${fmtShape(shape)} has an invalid dimension ${d}; each must be an integer in [0, 2^32 - 1] (a uint32)`);
    }
    count *= d;
  }
  if (data.length !== count) {
    throw new ValueError(`encodeIdx: shape ${fmtShape(shape)} holds ${count} values but data has ${data.length}`);
  }
  const range = INT_RANGE[dt];
  if (range !== undefined) {
    for (let i = 0; i < count; i++) {
      const v = data[i];
      if (!Number.isInteger(v) || v < range[0] || v > range[1]) {
        throw new ValueError(`encodeIdx: value ${v} at index ${i} does not fit ${dt}; ${dt} holds integers in [${range[0]}, ${range[1]}]`);
      }
    }
  }
  const header = 4 + 4 * shape.length;
  const out = new Uint8Array(header + count * type.size);
  const view = new DataView(out.buffer);
  out[2] = type.code;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  switch (dt) {
    case 'uint8':
    case 'int8':
      for (let i = 0; i < count; i++) view.setUint8(header + i, data[i] & 0xff);
      break;
    case 'int16':
      for (let i = 0; i < count; i++) view.setInt16(header + 2 * i, data[i], false);
      break;
    case 'int32':
      for (let i = 0; i < count; i++) view.setInt32(header + 4 * i, data[i], false);
      break;
    case 'float32':
      for (let i = 0; i < count; i++) view.setFloat32(header + 4 * i, data[i], false);
      break;
    case 'float64':
      for (let i = 0; i < count; i++) view.setFloat64(header + 8 * i, data[i], false);
      break;
  }
  return out;
}

/**
 * Reads and parses an IDX file (Node only). `node:fs/promises` is imported on
 * the first call, not at module load, so this module still loads in a browser.
 * A file that cannot be read (missing, a directory, no permission) is a
 * DataError naming the path and the system error.
 */
export async function readIdxFile<D extends IdxDType = IdxDType>(path: string, expect?: IdxExpect<D>): Promise<IdxFile<D>> {
  checkOptions('readIdxFile', expect, ['dtype', 'shape', 'nonFinite']);
  const fs = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : (e.message ?? String(err));
    throw new DataError(`readIdxFile: cannot read ${path}: ${why}`);
  }
  return parseIdx(bytes, path, expect);
}
