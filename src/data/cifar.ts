import { DataError, ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';

/**
 * CIFAR-10 and CIFAR-100 from their "binary version" files (Krizhevsky, 2009,
 * https://www.cs.toronto.edu/~kriz/cifar.html): 32x32 colour images.
 *
 * ```
 * CIFAR-10   record = 1 label byte (0..9)                         + 3,072 pixel bytes
 * CIFAR-100  record = 1 coarse label (0..19) + 1 fine label (0..99) + 3,072 pixel bytes
 * pixels     1,024 red, then 1,024 green, then 1,024 blue, each plane row-major 32x32
 * ```
 *
 * A file is nothing but records, so its length must be a whole number of
 * them; anything else (a truncated download, the wrong file) is a DataError
 * naming the file, as is a label out of range or a class-name file with the
 * wrong number of names. The pixel planes are already in the [C, H, W] order
 * a tensor [N, 3, 32, 32] wants, so decoding is `byte / 255` in place.
 *
 * `parseCifarBatch` works on bytes and loads in a browser; `loadCifar10`,
 * `loadCifar100` and `loadCifarClassNames` read files and import Node modules
 * lazily on their first call.
 */

/** Per-channel (R, G, B) mean of the CIFAR-10 training images scaled to [0, 1]. */
export const CIFAR10_MEAN: readonly number[] = [0.4914, 0.4822, 0.4465];
/** Per-channel (R, G, B) standard deviation of the CIFAR-10 training images scaled to [0, 1]. */
export const CIFAR10_STD: readonly number[] = [0.247, 0.2435, 0.2616];
/** Per-channel (R, G, B) mean of the CIFAR-100 training images scaled to [0, 1]. */
export const CIFAR100_MEAN: readonly number[] = [0.5071, 0.4865, 0.4409];
/** Per-channel (R, G, B) standard deviation of the CIFAR-100 training images scaled to [0, 1]. */
export const CIFAR100_STD: readonly number[] = [0.2673, 0.2564, 0.2762];

const SIDE = 32;
const PIXELS = 3 * SIDE * SIDE;

export type CifarSplit = 'train' | 'test';
/** CIFAR-100's two labellings: 100 fine classes, or the 20 superclasses they group into. */
export type CifarLabels = 'fine' | 'coarse';

export interface CifarBatchOptions {
  /** The file the bytes came from (named in every error). */
  source: string;
  /** Label bytes per record: 1 for CIFAR-10 (default), 2 for CIFAR-100 (coarse, then fine). */
  labelBytes?: 1 | 2;
  /** With labelBytes 2, which label to return (default 'fine'). */
  labels?: CifarLabels;
}

export interface CifarBatch {
  /** [N, 3, 32, 32] float32, byte / 255. */
  images: Tensor;
  /** [N] float32 class indices. */
  labels: Tensor;
}

export interface CifarData extends CifarBatch {
  /** The name of each class, index i for label i (from the dataset's own name file). */
  classNames: string[];
  /** The folder the files were read from. */
  source: string;
}

export interface Cifar10Options {
  /** The folder of the CIFAR-10 binary version (the archive's cifar-10-batches-bin). */
  dir: string;
  split: CifarSplit;
  /** Keep only the first `limit` examples (all of them when larger than the split). */
  limit?: number;
}

export interface Cifar100Options {
  /** The folder of the CIFAR-100 binary version (the archive's cifar-100-binary). */
  dir: string;
  split: CifarSplit;
  limit?: number;
  /** 'fine' (100 classes, default) or 'coarse' (20 superclasses). */
  labels?: CifarLabels;
}

/** What one variant's folder holds, for the loaders and their messages. */
interface Variant {
  name: 'CIFAR-10' | 'CIFAR-100';
  loader: string;
  download: string;
  folder: string;
  archive: string;
  files: Record<CifarSplit, readonly string[]>;
  labelBytes: 1 | 2;
  names: Record<CifarLabels, { file: string; count: number }>;
}

const CIFAR_URL = 'https://www.cs.toronto.edu/~kriz/cifar.html';

const CIFAR10: Variant = {
  name: 'CIFAR-10', loader: 'loadCifar10', download: '"CIFAR-10 binary version (suitable for C programs)"',
  folder: 'cifar-10-batches-bin', archive: 'cifar-10-binary.tar.gz',
  files: { train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'], test: ['test_batch.bin'] },
  labelBytes: 1,
  names: { fine: { file: 'batches.meta.txt', count: 10 }, coarse: { file: 'batches.meta.txt', count: 10 } },
};

const CIFAR100: Variant = {
  name: 'CIFAR-100', loader: 'loadCifar100', download: '"CIFAR-100 binary version (suitable for C programs)"',
  folder: 'cifar-100-binary', archive: 'cifar-100-binary.tar.gz',
  files: { train: ['train.bin'], test: ['test.bin'] },
  labelBytes: 2,
  names: { fine: { file: 'fine_label_names.txt', count: 100 }, coarse: { file: 'coarse_label_names.txt', count: 20 } },
};

/** What the folder of a variant must contain, for messages. */
function contents(v: Variant): string {
  const names = [...new Set([v.names.fine.file, v.names.coarse.file])];
  return [...v.files.train, ...v.files.test, ...names].join(', ');
}

/**
 * Where to get a variant's files and what its folder must contain: the text
 * of every "missing" error (also used by the command line when no folder is given).
 */
export function cifarDownloadHelp(dataset: 'cifar10' | 'cifar100'): string {
  if (dataset !== 'cifar10' && dataset !== 'cifar100') throw new ValueError(`cifarDownloadHelp: dataset must be 'cifar10' or 'cifar100', got ${JSON.stringify(dataset)}`);
  const v = dataset === 'cifar10' ? CIFAR10 : CIFAR100;
  return `download the ${v.download} from ${CIFAR_URL} and extract it (\`tar xzf ${v.archive}\`); ` +
    `the folder it creates, ${v.folder}, holds ${contents(v)}, and is the folder to pass`;
}

/** Records in `bytes`, checked: a whole number of records of `recordBytes`, at least one. */
function recordCount(bytes: Uint8Array, recordBytes: number, source: string): number {
  if (bytes.length === 0) throw new DataError(`${source}: the file is empty; a CIFAR batch holds records of ${recordBytes} bytes (a failed download or extraction)`);
  if (bytes.length % recordBytes !== 0) {
    const whole = Math.floor(bytes.length / recordBytes);
    throw new DataError(
      `${source}: ${bytes.length} bytes is not a whole number of ${recordBytes}-byte records (${whole} records and ${bytes.length - whole * recordBytes} bytes left over); ` +
        'the file is truncated or not a CIFAR binary batch (download and extract the binary version again)',
    );
  }
  return bytes.length / recordBytes;
}

/** Checks every label of every record (both labels of CIFAR-100's). */
function checkLabels(bytes: Uint8Array, n: number, labelBytes: 1 | 2, source: string): void {
  const record = labelBytes + PIXELS;
  const limits = labelBytes === 1 ? [{ what: 'label', max: 10, rule: 'CIFAR-10 labels are 0..9' }] : [
    { what: 'coarse label', max: 20, rule: 'CIFAR-100 coarse labels are 0..19' },
    { what: 'fine label', max: 100, rule: 'CIFAR-100 fine labels are 0..99' },
  ];
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < labelBytes; b++) {
      const value = bytes[i * record + b];
      if (value >= limits[b].max) {
        throw new DataError(
          `${source}: the ${limits[b].what} of record ${i} (byte offset ${i * record + b}) is ${value}; ${limits[b].rule}` +
            (labelBytes === 1 ? ' (a CIFAR-100 file has 2 label bytes per record: load it with loadCifar100)' : ''),
        );
      }
    }
  }
}

/** The first `n` records' images and the label at `labelOffset`, as tensors. */
function decode(chunks: readonly Uint8Array[], n: number, labelBytes: 1 | 2, labelOffset: number): CifarBatch {
  const record = labelBytes + PIXELS;
  const images = new Float32Array(n * PIXELS);
  const labels = new Float32Array(n);
  let k = 0;
  for (const bytes of chunks) {
    const count = Math.min(bytes.length / record, n - k);
    for (let i = 0; i < count; i++, k++) {
      const at = i * record;
      labels[k] = bytes[at + labelOffset];
      const out = k * PIXELS;
      const from = at + labelBytes;
      for (let p = 0; p < PIXELS; p++) images[out + p] = bytes[from + p] / 255;
    }
    if (k === n) break;
  }
  return { images: new Tensor(images, [n, 3, SIDE, SIDE]), labels: new Tensor(labels, [n]) };
}

function checkBatchOptions(where: string, options: CifarBatchOptions): { source: string; labelBytes: 1 | 2; labelOffset: number } {
  if (options === null || typeof options !== 'object') {
    throw new ValueError(`${where}: expected an options object like { source: 'data_batch_1.bin' }, got ${options === null ? 'null' : typeof options}`);
  }
  checkOptions(where, options, ['source', 'labelBytes', 'labels']);
  const { source, labelBytes = 1, labels } = options;
  if (typeof source !== 'string' || source === '') throw new ValueError(`${where}: source must name the file the bytes came from (a non-empty string), got ${JSON.stringify(source)}`);
  if (labelBytes !== 1 && labelBytes !== 2) throw new ValueError(`${where}: labelBytes must be 1 (CIFAR-10) or 2 (CIFAR-100: coarse, then fine), got ${JSON.stringify(labelBytes)}`);
  if (labels !== undefined && labels !== 'fine' && labels !== 'coarse') throw new ValueError(`${where}: labels must be 'fine' or 'coarse', got ${JSON.stringify(labels)}`);
  if (labels !== undefined && labelBytes === 1) {
    throw new ValueError(`${where}: labels '${labels}' chooses between CIFAR-100's two label bytes; a CIFAR-10 record (labelBytes 1) has one label. Pass labelBytes: 2 for a CIFAR-100 file, or drop labels`);
  }
  return { source, labelBytes, labelOffset: labelBytes === 2 && labels !== 'coarse' ? 1 : 0 };
}

/**
 * Parses one CIFAR binary batch: `labelBytes` 1 for a CIFAR-10 file
 * (data_batch_1.bin ... test_batch.bin), 2 for a CIFAR-100 file (train.bin,
 * test.bin), whose `labels` ('fine', the default, or 'coarse') are returned.
 * Images are [N, 3, 32, 32] float32 `byte / 255`, labels [N] float32.
 *
 * The whole input is checked: its length must be a whole number of records
 * (1 or 2 label bytes + 3,072 pixel bytes) and every label in range
 * (CIFAR-10 0..9; CIFAR-100 coarse 0..19 and fine 0..99, both checked
 * whichever is returned); a failure is a DataError naming `source`.
 */
export function parseCifarBatch(bytes: Uint8Array, options: CifarBatchOptions): CifarBatch {
  const { source, labelBytes, labelOffset } = checkBatchOptions('parseCifarBatch', options);
  if (!(bytes instanceof Uint8Array)) {
    throw new ValueError(`parseCifarBatch: bytes must be a Uint8Array (the file's contents), got ${bytes === null ? 'null' : typeof bytes}`);
  }
  const n = recordCount(bytes, labelBytes + PIXELS, source);
  checkLabels(bytes, n, labelBytes, source);
  return decode([bytes], n, labelBytes, labelOffset);
}

/**
 * Parses a class-name file (one name per line; trailing blank lines, as the
 * originals have, and carriage returns are ignored): exactly `count` names,
 * none empty, else a DataError naming the file.
 */
function parseClassNames(text: string, count: number, source: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '').trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const blank = lines.indexOf('');
  if (blank >= 0) throw new DataError(`${source}: line ${blank + 1} is blank; the file must hold one class name per line (${count} names)`);
  if (lines.length !== count) {
    throw new DataError(`${source}: holds ${lines.length} class name${lines.length === 1 ? '' : 's'}, expected ${count} (one per line); it is not this dataset's name file, or it is damaged`);
  }
  return lines;
}

function checkLoadOptions(where: string, options: unknown, known: readonly string[]): { dir: string; split: CifarSplit; limit: number | undefined } {
  if (options === null || typeof options !== 'object') {
    throw new ValueError(`${where}: expected an options object like { dir: 'cifar-10-batches-bin', split: 'train' }, got ${options === null ? 'null' : typeof options}`);
  }
  const o = options as Record<string, unknown>;
  checkOptions(where, o, known);
  if (typeof o.dir !== 'string' || o.dir === '') throw new ValueError(`${where}: dir must be the folder of the binary version (a non-empty string), got ${JSON.stringify(o.dir)}`);
  if (o.split !== 'train' && o.split !== 'test') throw new ValueError(`${where}: split must be 'train' or 'test', got ${JSON.stringify(o.split)}`);
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || (o.limit as number) < 1)) throw new ValueError(`${where}: limit must be a positive integer, got ${String(o.limit)}`);
  return { dir: o.dir, split: o.split, limit: o.limit as number | undefined };
}

/** Throws the "missing" DataError unless every file is in `dir`, with a hint when `dir` holds the archive or its folder. */
async function requireFiles(v: Variant, dir: string, files: readonly string[]): Promise<void> {
  const { join } = await import('node:path');
  const { access } = await import('node:fs/promises');
  const exists = (path: string) => access(path).then(() => true, () => false);
  for (const file of files) {
    const path = join(dir, file);
    if (await exists(path)) continue;
    const hint = (await exists(join(dir, v.folder, file)))
      ? ` (${join(dir, v.folder)} holds it: pass that folder)`
      : (await exists(join(dir, v.archive))) ? ` (${join(dir, v.archive)} is there: extract it with \`tar xzf ${v.archive}\` and pass the folder ${v.folder} it creates)` : '';
    throw new DataError(
      `${v.loader}: ${path} is missing${hint}; the ${v.name} folder must hold ${contents(v)}. ` +
        `Download the ${v.download} from ${CIFAR_URL} and extract it (\`tar xzf ${v.archive}\`); pass the folder it creates, ${v.folder}`,
    );
  }
}

/** Reads and parses a variant's class-name file. */
async function readNames(v: Variant, dir: string, labels: CifarLabels): Promise<string[]> {
  const { join } = await import('node:path');
  const { readFile } = await import('node:fs/promises');
  const { file, count } = v.names[labels];
  await requireFiles(v, dir, [file]);
  const path = join(dir, file);
  return parseClassNames(await readFile(path, 'utf8'), count, path);
}

/** Reads a split's files, checks all of them whole (even with `limit`: a damaged download must fail), decodes the first `limit` records. */
async function loadSplit(v: Variant, dir: string, split: CifarSplit, limit: number | undefined, labels: CifarLabels): Promise<CifarData> {
  const { join } = await import('node:path');
  const { readFile } = await import('node:fs/promises');
  await requireFiles(v, dir, [...v.files[split], v.names[labels].file]);
  const classNames = await readNames(v, dir, labels);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const file of v.files[split]) {
    const path = join(dir, file);
    const buffer = await readFile(path);
    const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const n = recordCount(bytes, v.labelBytes + PIXELS, path);
    checkLabels(bytes, n, v.labelBytes, path);
    chunks.push(bytes);
    total += n;
  }
  const n = Math.min(limit ?? total, total);
  const labelOffset = v.labelBytes === 2 && labels === 'fine' ? 1 : 0;
  return { ...decode(chunks, n, v.labelBytes, labelOffset), classNames, source: dir };
}

/**
 * Loads one split of CIFAR-10 from the folder of its binary version:
 * data_batch_1.bin ... data_batch_5.bin (train, 50,000 images in the
 * originals) or test_batch.bin (10,000), and the class names from
 * batches.meta.txt (10 names). Images [N, 3, 32, 32] float32 `byte / 255`,
 * labels [N] float32 0..9. Every file of the split is read and checked whole,
 * also with `limit`; a missing or malformed file is a DataError naming it
 * (a missing one says where to get the data).
 */
export async function loadCifar10(options: Cifar10Options): Promise<CifarData> {
  const { dir, split, limit } = checkLoadOptions('loadCifar10', options, ['dir', 'split', 'limit']);
  return loadSplit(CIFAR10, dir, split, limit, 'fine');
}

/**
 * Loads one split of CIFAR-100 from the folder of its binary version:
 * train.bin (50,000 images in the original) or test.bin (10,000), each record
 * a coarse and a fine label byte; `labels` chooses the fine (100 classes,
 * names from fine_label_names.txt, the default) or the coarse ones (20
 * superclasses, coarse_label_names.txt). Checked as loadCifar10.
 */
export async function loadCifar100(options: Cifar100Options): Promise<CifarData> {
  const { dir, split, limit } = checkLoadOptions('loadCifar100', options, ['dir', 'split', 'limit', 'labels']);
  const labels = options.labels ?? 'fine';
  if (labels !== 'fine' && labels !== 'coarse') throw new ValueError(`loadCifar100: labels must be 'fine' (100 classes) or 'coarse' (20 superclasses), got ${JSON.stringify(labels)}`);
  return loadSplit(CIFAR100, dir, split, limit, labels);
}

/**
 * The class names of a CIFAR folder, read from its name file (CIFAR-10:
 * batches.meta.txt; CIFAR-100: fine_label_names.txt or coarse_label_names.txt),
 * after checking that the folder holds both splits' files: what a caller
 * needs to know before loading any images.
 */
export async function loadCifarClassNames(options: { dir: string; dataset: 'cifar10' | 'cifar100'; labels?: CifarLabels }): Promise<string[]> {
  if (options === null || typeof options !== 'object') throw new ValueError(`loadCifarClassNames: expected { dir, dataset: 'cifar10' | 'cifar100' }, got ${options === null ? 'null' : typeof options}`);
  checkOptions('loadCifarClassNames', options, ['dir', 'dataset', 'labels']);
  const { dir, dataset, labels = 'fine' } = options;
  if (dataset !== 'cifar10' && dataset !== 'cifar100') throw new ValueError(`loadCifarClassNames: dataset must be 'cifar10' or 'cifar100', got ${JSON.stringify(dataset)}`);
  if (typeof dir !== 'string' || dir === '') throw new ValueError(`loadCifarClassNames: dir must be the folder of the binary version (a non-empty string), got ${JSON.stringify(dir)}`);
  if (labels !== 'fine' && labels !== 'coarse') throw new ValueError(`loadCifarClassNames: labels must be 'fine' or 'coarse', got ${JSON.stringify(labels)}`);
  if (dataset === 'cifar10' && options.labels !== undefined) throw new ValueError("loadCifarClassNames: labels applies to cifar100 only (CIFAR-10 has one labelling)");
  const v = dataset === 'cifar10' ? CIFAR10 : CIFAR100;
  await requireFiles(v, dir, [...v.files.train, ...v.files.test, v.names[labels].file]);
  return readNames(v, dir, labels);
}
