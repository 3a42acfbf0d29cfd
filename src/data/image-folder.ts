import { DataError, ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { Generator } from '../tensor/random.js';
import { checkOptions } from '../validate.js';
import { decodeImage, fitImage } from './image.js';

/**
 * A folder of images, one sub-folder per class, as a dataset (torchvision's
 * `ImageFolder`). Two layouts:
 *
 * - `DIR/train/<class>/*` and `DIR/test/<class>/*`: the split is on disk
 *   (used when DIR has both a `train` and a `test` sub-folder);
 * - `DIR/<class>/*`: one set, split here into train and test by a seeded,
 *   stratified `testFraction`.
 *
 * Classes are the sub-folder names in sorted order and a class's label is
 * its index there (ImageFolder's rule). A class's images are the files under
 * its folder, sub-folders included, whose names end in .png, .jpg or .jpeg
 * (any case), in sorted path order; other files are ignored. Each image is
 * decoded by its bytes (decodeImage) and brought to `inputShape` by fitImage:
 * channels as PIL's convert, the shorter side resized (bilinear,
 * antialiased) then the centre cropped, torchvision's `Resize` +
 * `CenterCrop` recipe.
 *
 * Node only: `node:fs` and `node:path` are imported on the first call, so
 * this module loads in a browser.
 */

export type ImageFolderSplit = 'train' | 'test';
/** 'train-test': DIR/train/<class> + DIR/test/<class>; 'classes': DIR/<class>, split by testFraction. */
export type ImageFolderLayout = 'train-test' | 'classes';

export interface ImageFolderOptions {
  /** The folder: DIR/train/<class>/* + DIR/test/<class>/*, or DIR/<class>/*. */
  dir: string;
  /** Which set (default 'train'). */
  split?: ImageFolderSplit;
  /** Every image is brought to this [C, H, W] (C 1 grey, 3 RGB or 4 RGBA). */
  inputShape: readonly number[];
  /** DIR/<class> layout only: the share of each class held out for 'test', 0 < f < 1 (default 0.2). */
  testFraction?: number;
  /** DIR/<class> layout only: the seed of the split (default 0); the same seed puts the same files in the same set. */
  seed?: number;
  /** Keep `limit` examples of the split, taken from the classes in turn (each class's first file, then each's second...). */
  limit?: number;
}

/** The files of one split, before decoding: what listImageFolder returns. */
export interface ImageFolderListing {
  /** Class names, sorted; a label is an index into it. */
  classNames: string[];
  /** Each example's file path (DIR joined with its path inside), by class then path. */
  files: string[];
  /** Each example's class index. */
  labels: number[];
  layout: ImageFolderLayout;
  split: ImageFolderSplit;
  /** The folder read (options.dir). */
  source: string;
}

export interface ImageFolderData extends Omit<ImageFolderListing, 'labels'> {
  /** [N, C, H, W] float32, values 0..1. */
  images: Tensor;
  /** [N] float32 class indices (the form cross-entropy takes). */
  labels: Tensor;
  /** The class index of each example as numbers, for convenience (labels' values). */
  labelIndices: number[];
}

const OPTION_KEYS = ['dir', 'split', 'inputShape', 'testFraction', 'seed', 'limit'];
/** The extensions of the files read as images (compared lower-cased). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];
/** Files read at once while decoding. */
const READ_AHEAD = 16;

type NodeFs = typeof import('node:fs/promises');
type NodePath = typeof import('node:path');

function checkFolderOptions(where: string, options: ImageFolderOptions, needShape: boolean): Required<Omit<ImageFolderOptions, 'limit'>> & { limit?: number } {
  if (options === null || typeof options !== 'object') {
    throw new ValueError(`${where}: expected an options object like { dir: 'images', inputShape: [3, 32, 32] }, got ${options === null ? 'null' : typeof options}`);
  }
  checkOptions(where, options, OPTION_KEYS);
  const { dir, split = 'train', inputShape, testFraction = 0.2, seed = 0, limit } = options;
  if (typeof dir !== 'string' || dir === '') throw new ValueError(`${where}: dir must be a folder path (a non-empty string), got ${JSON.stringify(dir)}`);
  if (split !== 'train' && split !== 'test') throw new ValueError(`${where}: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  if (needShape || inputShape !== undefined) {
    if (!Array.isArray(inputShape) || inputShape.length !== 3 || !inputShape.every((v) => Number.isInteger(v) && v >= 1)) {
      throw new ValueError(`${where}: inputShape must be one image's [C, H, W], three whole numbers >= 1 (e.g. [3, 32, 32]), got ${JSON.stringify(inputShape)}`);
    }
    if (![1, 3, 4].includes(inputShape[0])) {
      throw new ValueError(`${where}: inputShape[0] is the channel count: 1 (grey), 3 (RGB) or 4 (RGBA), got ${inputShape[0]}`);
    }
  }
  if (typeof testFraction !== 'number' || !(testFraction > 0 && testFraction < 1)) {
    throw new ValueError(`${where}: testFraction must be a number between 0 and 1 (exclusive), the share of each class held out for testing, got ${JSON.stringify(testFraction)}`);
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) {
    throw new ValueError(`${where}: seed must be a whole number >= 0, got ${JSON.stringify(seed)}`);
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new ValueError(`${where}: limit must be a positive integer, got ${JSON.stringify(limit)}`);
  return { dir, split, inputShape, testFraction, seed, limit };
}

async function isDirectory(fs: NodeFs, path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The sub-folders of `dir` (symbolic links followed), sorted. */
async function subfolders(fs: NodeFs, path: NodePath, dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() || (e.isSymbolicLink() && (await isDirectory(fs, path.join(dir, e.name))))) out.push(e.name);
  }
  return out.sort();
}

function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** Image files under `dir`, sub-folders included, as paths relative to `dir`: each folder's files sorted, folders in sorted path order (os.walk's, sorted, as ImageFolder). */
async function imageFiles(fs: NodeFs, path: NodePath, dir: string): Promise<{ files: string[]; other: string[] }> {
  const folders: { rel: string; names: string[] }[] = [];
  const other: string[] = [];
  const walk = async (rel: string, depth: number): Promise<void> => {
    const abs = rel === '' ? dir : path.join(dir, rel);
    const entries = await fs.readdir(abs, { withFileTypes: true });
    const names: string[] = [];
    const dirs: string[] = [];
    for (const e of entries) {
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const st = await fs.stat(path.join(abs, e.name)).catch(() => null);
        isDir = st?.isDirectory() ?? false;
        isFile = st?.isFile() ?? false;
      }
      if (isDir && depth === 0) other.push(`${e.name}/`);
      if (isDir && depth < 32) dirs.push(e.name);
      else if (isFile && isImageName(e.name)) names.push(e.name);
      else if (depth === 0) other.push(e.name);
    }
    folders.push({ rel, names: names.sort() });
    for (const d of dirs.sort()) await walk(rel === '' ? d : path.join(rel, d), depth + 1);
  };
  await walk('', 0);
  folders.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { files: folders.flatMap((f) => f.names.map((n) => (f.rel === '' ? n : path.join(f.rel, n)))), other };
}

/** The classes of one class-per-folder root and each one's image files (relative to root). */
async function readClasses(fs: NodeFs, path: NodePath, root: string, where: string): Promise<{ classNames: string[]; files: string[][] }> {
  const classNames = await subfolders(fs, path, root);
  if (classNames.length === 0) {
    throw new DataError(`${where}: ${root} has no class folders; put each class's images in a sub-folder named after the class (${path.join(root, '<class>', '*.png')})`);
  }
  const files: string[][] = [];
  const empty: string[] = [];
  for (const name of classNames) {
    const found = await imageFiles(fs, path, path.join(root, name));
    files.push(found.files.map((f) => path.join(name, f)));
    if (found.files.length === 0) empty.push(found.other.length > 0 ? `${name} (it holds ${found.other.slice(0, 3).join(', ')}${found.other.length > 3 ? ', ...' : ''})` : `${name} (it is empty)`);
  }
  if (empty.length > 0) {
    throw new DataError(
      `${where}: ${empty.length === 1 ? 'class folder' : 'class folders'} ${empty.join('; ')} in ${root} ${empty.length === 1 ? 'has' : 'have'} no images; ` +
        `images are files ending in ${IMAGE_EXTENSIONS.join(', ')}: add some, or remove the folder (for the train/test layout, ${root} needs both train/ and test/)`,
    );
  }
  return { classNames, files };
}

/** FNV-1a over a string's UTF-16 code units: a class's own stream, so adding a class leaves the others' splits alone. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The test files' indices (sorted) of a class of n files: round(n * f), at
 * least 1 when n >= 2 and at most n - 1, so every class is in both sets when
 * it has two files. Drawn by a Generator seeded from the seed and the class
 * name: the same seed gives the same split, whatever the other classes hold.
 */
function testIndices(n: number, testFraction: number, seed: number, className: string): Set<number> {
  const nTest = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * testFraction)));
  const low = (seed % 2 ** 32) ^ hashName(className);
  const generator = new Generator((low >>> 0) + Math.floor(seed / 2 ** 32) * 2 ** 32);
  const order = generator.shuffle(Array.from({ length: n }, (_, i) => i));
  return new Set(order.slice(0, nTest));
}

/** Takes `limit` of the per-class lists in turn (each class's first, then each's second...), keeping class-then-path order. */
function takeInTurn(perClass: string[][], limit: number | undefined): string[][] {
  const total = perClass.reduce((s, f) => s + f.length, 0);
  if (limit === undefined || limit >= total) return perClass;
  const keep = perClass.map(() => 0);
  let left = limit;
  for (let round = 0; left > 0; round++) {
    for (let c = 0; c < perClass.length && left > 0; c++) {
      if (round < perClass[c].length) {
        keep[c]++;
        left--;
      }
    }
  }
  return perClass.map((f, c) => f.slice(0, keep[c]));
}

/**
 * The files of one split of an image folder, without decoding them: the
 * classes, each example's path and label, and the layout found. The same
 * rules and errors as loadImageFolder (whose first step it is); inputShape
 * is not needed.
 */
export async function listImageFolder(options: Omit<ImageFolderOptions, 'inputShape'> & { inputShape?: readonly number[] }): Promise<ImageFolderListing> {
  const where = 'loadImageFolder';
  const { dir, split, testFraction, seed, limit } = checkFolderOptions(where, options as ImageFolderOptions, false);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch {
    throw new DataError(`${where}: the folder ${dir} does not exist; pass the folder that holds one sub-folder of images per class (or train/ and test/ with those)`);
  }
  if (!stat.isDirectory()) throw new DataError(`${where}: ${dir} is a file, not a folder; pass the folder that holds one sub-folder of images per class`);

  const top = await subfolders(fs, path, dir);
  if (top.includes('train') && top.includes('test')) {
    const train = await readClasses(fs, path, path.join(dir, 'train'), where);
    const test = await readClasses(fs, path, path.join(dir, 'test'), where);
    const onlyTrain = train.classNames.filter((c) => !test.classNames.includes(c));
    const onlyTest = test.classNames.filter((c) => !train.classNames.includes(c));
    if (onlyTrain.length > 0 || onlyTest.length > 0) {
      const parts = [
        onlyTrain.length > 0 ? `only train/ has ${onlyTrain.join(', ')}` : '',
        onlyTest.length > 0 ? `only test/ has ${onlyTest.join(', ')}` : '',
      ].filter((s) => s !== '');
      throw new DataError(`${where}: ${dir}: train/ and test/ must hold the same class folders (labels are indices into the sorted list), but ${parts.join(' and ')}; add the missing folders or remove the extra ones`);
    }
    const chosen = split === 'train' ? train : test;
    const base = path.join(dir, split);
    return finishListing(chosen.classNames, takeInTurn(chosen.files, limit), base, path, 'train-test', split, dir);
  }
  const { classNames, files } = await readClasses(fs, path, dir, where);
  const perClass = files.map((list, c) => {
    const held = testIndices(list.length, testFraction, seed, classNames[c]);
    return list.filter((_, i) => held.has(i) === (split === 'test'));
  });
  return finishListing(classNames, takeInTurn(perClass, limit), dir, path, 'classes', split, dir);
}

function finishListing(classNames: string[], perClass: string[][], base: string, path: NodePath, layout: ImageFolderLayout, split: ImageFolderSplit, source: string): ImageFolderListing {
  const files: string[] = [];
  const labels: number[] = [];
  perClass.forEach((list, c) => {
    for (const f of list) {
      files.push(path.join(base, f));
      labels.push(c);
    }
  });
  return { classNames, files, labels, layout, split, source };
}

/**
 * Loads one split of an image folder (see the file comment for the layouts
 * and rules) as `{ images: [N, C, H, W] float32 0..1, labels: [N], classNames,
 * files, ... }`, every image brought to `inputShape` by fitImage.
 *
 * DataErrors: the folder is missing; it has no class folders; a class folder
 * has no images; train/ and test/ hold different classes; an image does not
 * decode (naming the file and what was wrong). In the DIR/<class> layout the
 * split is stratified: of each class's n files, round(n * testFraction) (at
 * least 1 and at most n - 1 when n >= 2) go to 'test', drawn with a
 * Generator seeded by `seed` and the class name, so the same seed gives the
 * same split on every run and machine.
 */
export async function loadImageFolder(options: ImageFolderOptions): Promise<ImageFolderData> {
  const { inputShape } = checkFolderOptions('loadImageFolder', options, true);
  const listing = await listImageFolder(options);
  const fs = await import('node:fs/promises');
  const [c, h, w] = inputShape;
  const n = listing.files.length;
  const size = c * h * w;
  const images = new Float32Array(n * size);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const file = listing.files[i];
      let bytes: Uint8Array;
      try {
        bytes = await fs.readFile(file);
      } catch (e) {
        throw new DataError(`loadImageFolder: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const image = await decodeImage(bytes, file);
      images.set(fitImage(image, inputShape).data, i * size);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_AHEAD, n) }, worker));
  return {
    ...listing,
    images: new Tensor(images, [n, c, h, w]),
    labels: new Tensor(Float32Array.from(listing.labels), [n]),
    labelIndices: listing.labels,
  };
}
