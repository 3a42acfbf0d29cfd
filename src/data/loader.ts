import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, allocateOutput, shapeSize } from '../tensor/tensor.js';
import { Generator, defaultGenerator } from '../tensor/random.js';
import { checkFiniteLabels, checkNonFinitePolicy, finiteData, type NonFinitePolicy } from './non-finite.js';
import { checkOptions } from '../validate.js';

/** A dataset held in memory: one row of `images` and one of `labels` per example. */
export interface TensorDataset {
  /** [N, ...] e.g. [N, C, H, W]. */
  images: Tensor;
  /** [N] class indices (or [N, ...] targets). */
  labels: Tensor;
}

export interface DataLoaderOptions {
  /** Examples per batch, a positive integer. */
  batchSize: number;
  /** Draw a new random order at the start of every epoch (default false: 0, 1, ..., N-1). */
  shuffle?: boolean;
  /** Skip the last batch when it has fewer than batchSize examples (default false). */
  dropLast?: boolean;
  /** Source of the shuffles; a seeded one makes the order repeatable. Defaults to the global generator. */
  generator?: Generator;
  /**
   * Images holding NaN or an infinity: 'error' (default) refuses them with a
   * DataError naming the first bad example and index; 'zero' trains on a copy
   * with those values replaced by 0. Labels must be finite either way.
   */
  nonFinite?: NonFinitePolicy;
}

/** One batch: `x` [B, ...] and `y` [B] are new tensors (copies), `index` counts batches from 0 within the epoch. */
export interface Batch {
  x: Tensor;
  y: Tensor;
  index: number;
}

const OPTION_KEYS = ['batchSize', 'shuffle', 'dropLast', 'generator', 'nonFinite'];

/**
 * Splits an in-memory dataset into mini-batches, as PyTorch's DataLoader over a
 * TensorDataset:
 *
 * ```ts
 * const loader = new DataLoader({ images, labels }, { batchSize: 64, shuffle: true, generator: new Generator(1) });
 * for (let epoch = 0; epoch < 10; epoch++) for (const { x, y, index } of loader) { ... }
 * ```
 *
 * Each iteration over the loader is one epoch and sees every example exactly
 * once. With `shuffle`, every epoch draws a fresh permutation (Fisher-Yates via
 * `generator.shuffle`): stochastic gradient descent assumes batches are
 * independent samples, and a fixed order would correlate consecutive updates
 * with whatever order the file happens to have (MNIST is not sorted, other sets
 * are). Because the permutation comes from the generator, the same seed gives
 * the same sequence of epochs.
 *
 * Batches per epoch: `ceil(N / B)`, or `floor(N / B)` with `dropLast` (which
 * keeps every batch the same size, e.g. for batch norm statistics).
 *
 * The images and labels are checked once, when the loader is made (one pass
 * over them): a NaN or an infinity is a DataError naming the example and the
 * index, unless `nonFinite: 'zero'` asks for them to be replaced by 0.
 */
export class DataLoader implements Iterable<Batch> {
  /** The images batches are taken from: the dataset's, or with nonFinite 'zero' a cleaned copy when they held NaN or infinities. */
  readonly images: Tensor;
  readonly labels: Tensor;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator;
  /** N, the number of examples. */
  readonly numSamples: number;

  constructor(dataset: TensorDataset, options: DataLoaderOptions) {
    if (dataset === null || typeof dataset !== 'object' || !(dataset.images instanceof Tensor) || !(dataset.labels instanceof Tensor)) {
      throw new ValueError('DataLoader: dataset must be an object { images: Tensor, labels: Tensor }');
    }
    if (options === null || typeof options !== 'object') {
      throw new ValueError(`DataLoader: options must be an object like { batchSize: 64 }, got ${options === null ? 'null' : typeof options}`);
    }
    checkOptions('DataLoader', options, OPTION_KEYS);
    const { images, labels } = dataset;
    if (images.ndim < 1 || labels.ndim < 1) {
      throw new ShapeError(
        `DataLoader: images and labels need a first (example) dimension, got images ${fmtShape(images.shape)} and labels ${fmtShape(labels.shape)}`,
      );
    }
    if (images.shape[0] !== labels.shape[0]) {
      throw new ShapeError(
        `DataLoader: images ${fmtShape(images.shape)} hold ${images.shape[0]} examples but labels ${fmtShape(labels.shape)} hold ${labels.shape[0]}; the first dimensions must be equal`,
      );
    }
    const { batchSize, shuffle = false, dropLast = false, generator = defaultGenerator } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ValueError(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (typeof shuffle !== 'boolean') throw new ValueError(`DataLoader: shuffle must be true or false, got ${String(shuffle)}`);
    if (typeof dropLast !== 'boolean') throw new ValueError(`DataLoader: dropLast must be true or false, got ${String(dropLast)}`);
    if (!(generator instanceof Generator)) {
      throw new ValueError(`DataLoader: generator must be a Generator (new Generator(seed)), got ${generator === null ? 'null' : typeof generator}`);
    }
    const policy = checkNonFinitePolicy('DataLoader', options.nonFinite);
    checkFiniteLabels('DataLoader: labels', labels);
    this.images = finiteData('DataLoader: images', images, policy);
    this.labels = labels;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.generator = generator;
    this.numSamples = images.shape[0];
  }

  /** Batches per epoch: `floor(N / B)` with dropLast, else `ceil(N / B)`. */
  get length(): number {
    return this.dropLast ? Math.floor(this.numSamples / this.batchSize) : Math.ceil(this.numSamples / this.batchSize);
  }

  /**
   * The example order of the next epoch, drawn as iteration draws it: a
   * permutation from the generator (Fisher-Yates) with shuffle, else 0..N-1
   * (nothing drawn). A batch maker given this order (fitEpochsAsync's
   * batchSource) sees the examples iteration would have.
   */
  order(): Uint32Array {
    const a = identity(this.numSamples);
    return this.shuffle ? this.generator.shuffle(a) : a;
  }

  /** One epoch. The order is drawn when iteration starts, so each `for...of` is a new epoch. */
  *[Symbol.iterator](): Iterator<Batch> {
    const n = this.numSamples;
    const order = this.shuffle ? this.order() : null;
    const batches = this.length;
    for (let b = 0; b < batches; b++) {
      const start = b * this.batchSize;
      const end = Math.min(start + this.batchSize, n);
      yield { x: gather(this.images, order, start, end), y: gather(this.labels, order, start, end), index: b };
    }
  }
}

function identity(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/**
 * Rows `order[start..end)` of `t` (or rows start..end when `order` is null) as
 * a new contiguous tensor [end - start, ...]. A row is `prod(shape[1:])` values,
 * copied with one `set` of a `subarray`.
 */
function gather(t: Tensor, order: Uint32Array | null, start: number, end: number): Tensor {
  const row = shapeSize(t.shape.slice(1));
  const count = end - start;
  const shape = [count, ...t.shape.slice(1)];
  const src = t.data;
  const out = allocateOutput(t.dtype, count * row);
  if (order === null) {
    out.set(src.subarray(start * row, end * row));
    return new Tensor(out, shape);
  }
  for (let i = 0; i < count; i++) {
    const r = order[start + i];
    out.set(src.subarray(r * row, (r + 1) * row), i * row);
  }
  return new Tensor(out, shape);
}
