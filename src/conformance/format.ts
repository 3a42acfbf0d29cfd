/**
 * The conformance case format (conformance-v1, the format of the PyTorch reference cases; docs/conformance.md):
 * a manifest `<family>.json` lists cases whose tensors live in `<family>.bin`,
 * float32 little-endian values concatenated; a tensor is { shape, offset, length }
 * with offset and length counted in float32 elements.
 *
 * Everything here checks what it reads: a manifest that is not valid JSON, a
 * tensor whose length disagrees with its shape, offsets past the end of the
 * data file, a data file that is not a whole number of float32 values... each
 * is a DataError that names the file, the case and the tensor. A silent wrong
 * tensor would make the whole runner worthless.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { DataError, ValueError } from '../index.js';

export const FORMAT = 'conformance-v1';

/** Names in `grads` that are given to the op (the upstream gradient), not expected from it. */
export const SEED_GRADS: ReadonlySet<string> = new Set(['gy']);

export interface TensorRef {
  readonly shape: readonly number[];
  /** In float32 elements from the start of the data file. */
  readonly offset: number;
  /** In float32 elements; equals the product of the shape. */
  readonly length: number;
}

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

export type Attrs = Readonly<Record<string, unknown>>;

export interface CaseSpec {
  readonly id: string;
  readonly op: string;
  readonly attrs: Attrs;
  readonly inputs: Readonly<Record<string, TensorRef>>;
  readonly outputs: Readonly<Record<string, TensorRef>>;
  readonly grads: Readonly<Record<string, TensorRef>>;
  readonly tol: Tolerance;
  readonly note?: string;
}

export interface Manifest {
  readonly format: typeof FORMAT;
  readonly family: string;
  readonly dtype: 'float32';
  readonly byteOrder: 'little';
  /** The data file, relative to the manifest's folder. */
  readonly data: string;
  readonly cases: readonly CaseSpec[];
}

/** A manifest found in a folder, with where it came from. */
export interface ManifestFile {
  readonly path: string;
  readonly manifest: Manifest;
}

/** A JSON file in the folder that is not a conformance-v1 manifest (reported, not run). */
export interface IgnoredFile {
  readonly path: string;
  readonly reason: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function parseRef(file: string, where: string, value: unknown): TensorRef {
  if (!isObject(value)) throw new DataError(`${file}: ${where} must be an object { shape, offset, length }, got ${JSON.stringify(value)}`);
  const { shape, offset, length } = value;
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new DataError(`${file}: ${where}.shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!isCount(offset)) throw new DataError(`${file}: ${where}.offset must be a non-negative integer (float32 elements), got ${JSON.stringify(offset)}`);
  if (!isCount(length)) throw new DataError(`${file}: ${where}.length must be a non-negative integer (float32 elements), got ${JSON.stringify(length)}`);
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (size !== length) {
    throw new DataError(`${file}: ${where} has shape [${shape.join(', ')}] (${size} values) but length ${length}; the manifest is inconsistent`);
  }
  return { shape: Object.freeze([...(shape as number[])]), offset, length };
}

function parseRefs(file: string, where: string, value: unknown, optional: boolean): Record<string, TensorRef> {
  if (value === undefined && optional) return {};
  if (!isObject(value)) throw new DataError(`${file}: ${where} must be an object mapping names to tensors, got ${JSON.stringify(value)}`);
  const out: Record<string, TensorRef> = {};
  for (const [name, ref] of Object.entries(value)) out[name] = parseRef(file, `${where}.${name}`, ref);
  return out;
}

function parseCase(file: string, index: number, value: unknown): CaseSpec {
  if (!isObject(value)) throw new DataError(`${file}: cases[${index}] must be an object, got ${JSON.stringify(value)}`);
  const id = value.id;
  if (typeof id !== 'string' || id === '') throw new DataError(`${file}: cases[${index}].id must be a non-empty string, got ${JSON.stringify(id)}`);
  const where = `case ${id}`;
  if (typeof value.op !== 'string' || value.op === '') throw new DataError(`${file}: ${where}: op must be a non-empty string, got ${JSON.stringify(value.op)}`);
  const attrs = value.attrs ?? {};
  if (!isObject(attrs)) throw new DataError(`${file}: ${where}: attrs must be an object, got ${JSON.stringify(attrs)}`);
  const tol = value.tol;
  if (!isObject(tol)) throw new DataError(`${file}: ${where}: tol must be an object { rtol, atol }, got ${JSON.stringify(tol)}`);
  for (const k of ['rtol', 'atol'] as const) {
    const t = tol[k];
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new DataError(`${file}: ${where}: tol.${k} must be a finite number >= 0, got ${JSON.stringify(t)}`);
  }
  if (value.note !== undefined && typeof value.note !== 'string') throw new DataError(`${file}: ${where}: note must be a string`);
  return {
    id,
    op: value.op,
    attrs,
    inputs: parseRefs(file, `${where} inputs`, value.inputs, true),
    outputs: parseRefs(file, `${where} outputs`, value.outputs, true),
    grads: parseRefs(file, `${where} grads`, value.grads, true),
    tol: { rtol: tol.rtol as number, atol: tol.atol as number },
    note: value.note as string | undefined,
  };
}

/**
 * Parses a manifest's text. Returns null (with the reason) for JSON that is not
 * a conformance-v1 manifest; throws DataError for a conformance-v1 manifest that
 * is malformed, or for text that is not JSON at all.
 */
export function parseManifest(text: string, file: string): { manifest: Manifest } | { ignored: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DataError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(json) || json.format === undefined) return { ignored: 'no "format" field; not a conformance manifest' };
  if (json.format !== FORMAT) return { ignored: `format ${JSON.stringify(json.format)}; this runner reads ${FORMAT}` };
  if (typeof json.family !== 'string' || json.family === '') throw new DataError(`${file}: "family" must be a non-empty string, got ${JSON.stringify(json.family)}`);
  if (json.dtype !== 'float32') throw new DataError(`${file}: dtype ${JSON.stringify(json.dtype)} is not supported; ${FORMAT} data is "float32"`);
  if (json.byteOrder !== 'little') throw new DataError(`${file}: byteOrder ${JSON.stringify(json.byteOrder)} is not supported; ${FORMAT} data is "little"`);
  if (typeof json.data !== 'string' || json.data === '') throw new DataError(`${file}: "data" must name the .bin file, got ${JSON.stringify(json.data)}`);
  if (!Array.isArray(json.cases)) throw new DataError(`${file}: "cases" must be an array, got ${JSON.stringify(json.cases)?.slice(0, 80)}`);
  const cases = json.cases.map((c, i) => parseCase(file, i, c));
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new DataError(`${file}: case id ${c.id} appears twice; ids must be unique`);
    seen.add(c.id);
  }
  return { manifest: { format: FORMAT, family: json.family, dtype: 'float32', byteOrder: 'little', data: json.data, cases } };
}

/**
 * The conformance-v1 manifests in `dir` (every `*.json` whose format is
 * conformance-v1), sorted by file name, plus the JSON files that were skipped.
 * Throws ValueError when `dir` is missing, not a folder or holds no manifest.
 */
export async function findManifests(dir: string): Promise<{ manifests: ManifestFile[]; ignored: IgnoredFile[] }> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new ValueError(`conformance: folder ${dir} does not exist; pass the folder holding the <family>.json manifests and <family>.bin data`);
  }
  if (!info.isDirectory()) throw new ValueError(`conformance: ${dir} is not a folder; pass the folder holding the <family>.json manifests`);
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  const manifests: ManifestFile[] = [];
  const ignored: IgnoredFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const parsed = parseManifest(await readFile(path, 'utf8'), path);
    if ('ignored' in parsed) ignored.push({ path, reason: parsed.ignored });
    else manifests.push({ path, manifest: parsed.manifest });
  }
  if (manifests.length === 0) {
    const extra = ignored.length ? ` (${ignored.length} other JSON file${ignored.length > 1 ? 's' : ''} ignored)` : '';
    throw new ValueError(`conformance: no ${FORMAT} manifest (*.json with "format": "${FORMAT}") in ${dir}${extra}`);
  }
  const families = new Map<string, string>();
  for (const m of manifests) {
    const prev = families.get(m.manifest.family);
    if (prev) throw new DataError(`${m.path}: family ${m.manifest.family} is also defined by ${prev}; family names must be unique`);
    families.set(m.manifest.family, m.path);
  }
  return { manifests, ignored };
}

/** Whether this machine stores float32 little-endian (then the bytes can be copied as they are). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Decodes float32 little-endian bytes into a fresh (aligned) Float32Array. */
export function decodeFloat32LE(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >>> 2;
  const out = new Float32Array(n);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, n * 4));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/**
 * Reads a manifest's data file once and checks that every tensor of every case
 * lies inside it. The returned array is shared by all the family's cases; take
 * subarray views for expected values and copies for inputs.
 */
export async function loadData(file: ManifestFile): Promise<{ path: string; data: Float32Array }> {
  const { manifest } = file;
  const dataPath = isAbsolute(manifest.data) ? manifest.data : resolve(file.path, '..', manifest.data);
  let bytes: Buffer;
  try {
    bytes = await readFile(dataPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(`${file.path}: cannot read the data file ${dataPath} named by "data" (${code ?? (err as Error).message})`);
  }
  if (bytes.byteLength % 4 !== 0) {
    throw new DataError(`${dataPath}: ${bytes.byteLength} bytes is not a whole number of float32 values (4 bytes each); the file is truncated or corrupt`);
  }
  const data = decodeFloat32LE(bytes);
  const count = data.length;
  for (const c of manifest.cases) {
    for (const [group, refs] of [['inputs', c.inputs], ['outputs', c.outputs], ['grads', c.grads]] as const) {
      for (const [name, ref] of Object.entries(refs)) {
        if (ref.offset + ref.length > count) {
          throw new DataError(
            `${dataPath}: holds ${count} float32 values but case ${c.id} ${group}.${name} in ${basename(file.path)} ` +
            `needs elements ${ref.offset} to ${ref.offset + ref.length - 1}; the data file is truncated or the manifest's offsets are wrong`,
          );
        }
      }
    }
  }
  return { path: dataPath, data };
}

/** The values of one tensor of a case: a view into the family's data (do not modify). */
export function view(data: Float32Array, ref: TensorRef): Float32Array {
  return data.subarray(ref.offset, ref.offset + ref.length);
}
