/**
 * The compute worker's handlers of the #/train page: MNIST fetched and
 * decoded here, or the images of a folder the user opened decoded here
 * (decodeImage, then fitImage to the input shape chosen), a model trained here
 * step by step with Stride's public API, progress streamed to the page.
 *
 * One run at a time lives in this worker (`run`). `train-start` owns it: it
 * loads the data (once per worker: later runs reuse it), builds the model and
 * the optimizer, then loops over steps, awaiting a macrotask after each one so
 * the messages of the other handlers (`train-pause`, `train-stop`,
 * `train-set`, `train-evaluate`) run between two steps. A change of the
 * learning rate or the batch size is therefore applied at the next step (and
 * reported with the step it follows, so that a config's `changes` can replay
 * it at the same step), and a pause takes effect after the step in flight.
 *
 * A step is PyTorch's: zeroGrad, forward, F.crossEntropy, backward,
 * optimizer.step. The batches come from a seeded permutation of the 60,000
 * training images drawn at the start of every epoch; the batch size may change
 * mid-epoch, so an epoch is "every image once", however many steps that takes.
 * The images stay as bytes (47 MB); each batch is scaled to [0, 1] and
 * standardized with MNIST's mean and std (`normalize`) when it is drawn.
 *
 * A folder's images are kept in [0, 1] at the input shape; its mean and std
 * are per channel, measured on its training images. An augmentation (the
 * `--augment` grammar) runs on each training batch in [0, 1], before the
 * standardization, as torchvision's transforms do, from a generator of its own
 * (seeded by the run's seed) so that it does not move the order of the images.
 *
 * The test accuracy is measured on all the test images, after every epoch
 * and when the page asks (`train-evaluate`), in batches of 500 with a task
 * boundary between them.
 */
import {
  DataError, F, Generator, MNIST_MEAN, MNIST_STD, Tensor, ValueError, backward, countCorrect, createModel, getModelSpec,
  isModelPattern, MODEL_PATTERN_EXAMPLE, models, noGrad, normalize, optim, parseIdx, ready, summary, zeros, type nn,
  decodeImage, fitImage, transforms,
} from 'stride';
import { classCounts, listFolder } from '../train/folder.js';

// ---- messages ----------------------------------------------------------------

/** Where the page serves MNIST's four gzipped IDX files (absolute URLs). */
export interface MnistUrls {
  kind?: 'mnist';
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

/**
 * A folder of images the page read: each file's relative path (the first part
 * the folder's name) and its bytes (transferred, not copied), in the same order.
 */
export interface FolderData {
  kind: 'folder';
  paths: string[];
  files: ArrayBuffer[];
  /** [C, H, W] every image is brought to (C 1 or 3). */
  inputShape: [number, number, number];
  /** The share of each class held out for testing when the folder has no train/test sub-folders (0 < f < 1). */
  testFraction: number;
}

/** What the run trains on. */
export type DataChoice = MnistUrls | FolderData;

export type OptimizerName = 'sgd' | 'adam';

/** What defines a run. `model` is a model name (see `train-options`) or a layer pattern. */
export interface TrainConfig {
  model: string;
  optimizer: OptimizerName;
  lr: number;
  /** SGD's momentum (ignored by Adam). */
  momentum: number;
  batchSize: number;
  epochs: number;
  seed: number;
  data: DataChoice;
  /** An augmentation of the training batches in the `--augment` grammar ('' or 'none' for none). */
  augment?: string;
  /**
   * Changes of the learning rate or the batch size at given steps (a run's
   * live changes, replayed from a link): each applies after `step` steps,
   * before the next one, so the same config trains the same model.
   */
  changes?: RunChange[];
}

/** A change of the learning rate and/or the batch size after `step` steps (the steps from `step + 1` on use it). */
export interface RunChange {
  step: number;
  lr?: number;
  batchSize?: number;
}

/** A model the page offers by name: those of the zoo that take one 28x28 grey image and learn by gradients. */
export interface ModelChoice {
  name: string;
  description: string;
  /** The learning rate the model is known to train with, per optimizer. */
  lr: Record<OptimizerName, number>;
}

/** What the page needs before its first run: the models it offers and how it labels the smoothed curves. */
export interface TrainOptions {
  models: ModelChoice[];
  /** The learning rate of each optimizer for a layer pattern. */
  patternLr: Record<OptimizerName, number>;
  /** The lectures' example pattern, for the help text. */
  patternExample: string;
  /** Batches the smoothed loss and accuracy average over. */
  window: number;
}

/** What the page shows about a model before training it. */
export interface ModelInfo {
  /** The name or the pattern it was built from. */
  model: string;
  description: string;
  parameters: number;
  /** Multiply-accumulates of one forward pass of one image. */
  macs: number;
  /** PyTorch-style printout of the modules. */
  printout: string;
  /** The parameter whose values the filter view shows, and its shape. */
  firstLayer: { name: string; shape: number[] };
}

export type RunState = 'loading' | 'training' | 'paused' | 'evaluating' | 'finished' | 'stopped';

/** The loss and accuracy on the test set, after `step` steps. */
export interface EvalResult {
  step: number;
  /** Epochs completed when it was measured (fractional mid-epoch). */
  epoch: number;
  accuracy: number;
  loss: number;
  correct: number;
  total: number;
  seconds: number;
}

/** What the run trains on, as the worker read it. */
export interface DatasetInfo {
  /** 'MNIST', or the folder's name. */
  name: string;
  kind: 'mnist' | 'folder';
  classNames: string[];
  /** Images per class in the training and the test set. */
  trainCounts: number[];
  testCounts: number[];
  inputShape: [number, number, number];
  /** Per channel, applied after the augmentation. */
  mean: number[];
  std: number[];
  /** How the test set was made: on disk (train/ and test/), held out by a seeded fraction, or MNIST's own. */
  split: string;
  /** The augmentation in words, or '' for none. */
  augment: string;
}

/** How many recent batches the smoothed loss, accuracy and throughput average over. */
export const WINDOW = 20;

/** The events `train-start` streams to the page. */
export type TrainEvent =
  /** Fetching and decoding the data: `loaded` of `total` bytes (total null when the server does not say). */
  | { kind: 'data'; file: string; phase: 'download' | 'decompress' | 'parse' | 'decode' | 'done'; loaded: number; total: number | null }
  | { kind: 'state'; state: RunState; step: number }
  /** The model is built and the data loaded: training begins. */
  | { kind: 'ready'; model: ModelInfo; trainImages: number; testImages: number; dataset: DatasetInfo }
  /**
   * The steps since the previous progress event (at most ~10 events a second):
   * `losses[i]`, `smoothLoss[i]`, `smoothAccuracy[i]` belong to step `firstStep + i`.
   * The scalars describe the latest step.
   */
  | {
      kind: 'progress';
      firstStep: number;
      losses: number[];
      smoothLoss: number[];
      smoothAccuracy: number[];
      step: number;
      /** 1-based epoch in progress; `epochSeen` of `epochImages` images of it are done. */
      epoch: number;
      epochs: number;
      epochSeen: number;
      epochImages: number;
      /** Mean loss and accuracy of the last WINDOW batches. */
      loss: number;
      accuracy: number;
      batchLoss: number;
      batchAccuracy: number;
      /** Training images per second over the last WINDOW steps (pauses and evaluation excluded). */
      imagesPerSec: number;
      /** The learning rate and batch size the latest step used. */
      lr: number;
      batchSize: number;
      /** Seconds spent in training steps so far. */
      trainSeconds: number;
    }
  /** The first layer's weights (at most MAX_FILTERS maps): `shape` is [maps, channels, height, width]. */
  | { kind: 'filters'; step: number; name: string; shape: [number, number, number, number]; total: number; weights: Float32Array }
  /**
   * The learning rate and/or the batch size changed after `step` steps (a
   * `train-set` or a scheduled change of the config): the values the next
   * steps use, and those they replace.
   */
  | { kind: 'change'; step: number; lr: number; batchSize: number; from: { lr: number; batchSize: number } }
  | { kind: 'eval-start'; step: number; images: number; reason: 'epoch' | 'request' }
  | { kind: 'eval'; result: EvalResult; reason: 'epoch' | 'request' };

/** How `train-start` ends (a diverged loss or a bad setting rejects it instead). */
export interface TrainResult {
  reason: 'finished' | 'stopped';
  steps: number;
  epochsCompleted: number;
  trainSeconds: number;
  test: EvalResult | null;
}

/** What the controls of a running (or ended) run report back. */
export interface RunStatus {
  state: RunState | 'none';
  step: number;
  /** The values the next step will use. */
  lr: number;
  batchSize: number;
}

// ---- limits ------------------------------------------------------------------

/** Most maps sent for the filter view: a first layer of fc300 would otherwise send 300 images twice a second. */
export const MAX_FILTERS = 64;
const MAX_BATCH = 4096;
const MAX_EPOCHS = 100;
/**
 * The largest model this page trains: 10 million parameters, 50 million
 * multiply-accumulates per image (120 times LeNet-5, 4 times the lectures'
 * example pattern). Beyond that one step of a batch of 64 takes seconds, and
 * pause and stop, which act between steps, would not answer in good time.
 */
const MAX_PARAMETERS = 10_000_000;
const MAX_MACS = 50_000_000;
const PROGRESS_MS = 100;
const FILTERS_MS = 500;
/** Images per forward pass when evaluating (no gradients are kept, so it can be large); the worker yields between them. */
const EVAL_BATCH = 500;
const CLASSES = 10;
/** The learning rate an optimizer starts from when the model names none (`stride train`'s defaults). */
const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.05, adam: 0.001 };

// ---- data --------------------------------------------------------------------

/**
 * One split: `count` images and their labels. MNIST's are bytes as its files
 * hold them (scaled to [0, 1] when a batch is drawn), a folder's floats in [0, 1].
 */
interface Split {
  images: Uint8Array | Float32Array;
  labels: Uint8Array;
  count: number;
}

interface Mnist {
  train: Split;
  test: Split;
}

/** What a run trains on: the two splits, the shape of an image, the classes and how a batch is standardized. */
interface Dataset extends Mnist {
  info: DatasetInfo;
}

/** The data of this worker, kept across runs; keyed by the URLs it came from. */
let mnist: { key: string; data: Promise<Mnist> } | null = null;

type Emit = (e: TrainEvent) => void;

function loadMnist(urls: MnistUrls, emit: Emit): Promise<Mnist> {
  const key = JSON.stringify(urls);
  if (mnist?.key === key) {
    return mnist.data;
  }
  const data = (async () => {
    // One file after the other: the progress reads as a sequence, and the two big
    // files are not decompressed at the same time.
    const train = await loadSplit('training', urls.trainImages, urls.trainLabels, emit);
    const test = await loadSplit('test', urls.testImages, urls.testLabels, emit);
    return { train, test };
  })();
  mnist = { key, data };
  // A failed download is not cached: the next start tries again.
  data.catch(() => {
    if (mnist?.data === data) mnist = null;
  });
  return data;
}

async function loadSplit(name: string, imagesUrl: string, labelsUrl: string, emit: Emit): Promise<Split> {
  const images = parseIdx(await fetchGzip(imagesUrl, `${name} images`, emit), imagesUrl, { dtype: 'uint8', shape: [null, 28, 28] });
  const labels = parseIdx(await fetchGzip(labelsUrl, `${name} labels`, emit), labelsUrl, { dtype: 'uint8', shape: [null] });
  const count = images.shape[0];
  if (labels.shape[0] !== count) {
    throw new DataError(`${imagesUrl} holds ${count} images but ${labelsUrl} holds ${labels.shape[0]} labels; the two files must be of the same split`);
  }
  const bad = labels.data.findIndex((v) => v >= CLASSES);
  if (bad >= 0) throw new DataError(`${labelsUrl}: label ${bad} is ${labels.data[bad]}; MNIST labels are the digits 0 to 9`);
  emit({ kind: 'data', file: `${name} images`, phase: 'done', loaded: count, total: count });
  return { images: images.data, labels: labels.data, count };
}

/**
 * The bytes of a gzipped file at `url`, decompressed. The download is read
 * chunk by chunk to report its progress; a server that already decoded the
 * gzip (Content-Encoding: gzip) hands over the IDX bytes, which are then taken
 * as they are (gzip files start with 0x1f 0x8b, IDX files with two zero bytes).
 */
async function fetchGzip(url: string, file: string, emit: Emit): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new DataError(`could not download the MNIST ${file} from ${url}: ${(err as Error).message}; check the connection and start again`);
  }
  if (!response.ok || response.body === null) {
    throw new DataError(`could not download the MNIST ${file}: ${url} answered ${response.status} ${response.statusText}; the site must serve data/${url.split('/').pop()}`);
  }
  const length = Number(response.headers.get('Content-Length'));
  const total = response.headers.get('Content-Encoding') === null && Number.isFinite(length) && length > 0 ? length : null;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let last = 0;
  const reader = response.body.getReader();
  emit({ kind: 'data', file, phase: 'download', loaded, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    const now = performance.now();
    if (now - last >= PROGRESS_MS) {
      last = now;
      emit({ kind: 'data', file, phase: 'download', loaded, total });
    }
  }
  const bytes = concat(chunks, loaded);
  emit({ kind: 'data', file, phase: 'download', loaded, total: loaded });
  if (!(bytes[0] === 0x1f && bytes[1] === 0x8b)) return bytes;
  emit({ kind: 'data', file, phase: 'decompress', loaded: 0, total: null });
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  } catch (err) {
    throw new DataError(`${url}: the gzip data is damaged (${(err as Error).message}); download it again`);
  }
  emit({ kind: 'data', file, phase: 'parse', loaded: raw.length, total: raw.length });
  return raw;
}

function concat(chunks: Uint8Array[], length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Images `order[start..end)` of `split` as a normalized batch: x [B, C, H, W]
 * (in [0, 1]: MNIST's bytes / 255; then augmented, when `augment` is given;
 * then standardized by the dataset's mean and std) and y [B].
 */
function batch(
  data: Dataset, split: Split, order: Uint32Array | null, start: number, end: number,
  augment: { transform: transforms.Transform; generator: Generator } | null = null,
): { x: Tensor; y: Tensor } {
  const count = end - start;
  const shape = data.info.inputShape;
  const size = shape[0] * shape[1] * shape[2];
  const pixels = new Float32Array(count * size);
  const labels = new Float32Array(count);
  const scale = split.images instanceof Uint8Array ? 1 / 255 : 1;
  for (let i = 0; i < count; i++) {
    const r = order === null ? start + i : order[start + i];
    const src = r * size;
    const dst = i * size;
    for (let p = 0; p < size; p++) pixels[dst + p] = split.images[src + p] * scale;
    labels[i] = split.labels[r];
  }
  let x = new Tensor(pixels, [count, ...shape]);
  if (augment) x = transforms.transformBatch(x, augment.transform, augment.generator);
  return { x: normalize(x, data.info.mean, data.info.std), y: new Tensor(labels, [count]) };
}

/** MNIST as a Dataset: 1x28x28, ten digits, MNIST's own mean and std. */
function mnistDataset(m: Mnist, augment: string): Dataset {
  const names = Array.from({ length: CLASSES }, (_, i) => String(i));
  return {
    ...m,
    info: {
      name: 'MNIST', kind: 'mnist', classNames: names,
      trainCounts: classCounts(Array.from(m.train.labels, (label) => ({ label })), CLASSES),
      testCounts: classCounts(Array.from(m.test.labels, (label) => ({ label })), CLASSES),
      inputShape: [1, 28, 28], mean: [MNIST_MEAN], std: [MNIST_STD], split: 'MNIST\'s own 60,000 training and 10,000 test images', augment,
    },
  };
}

/** Largest number of images a folder may hold: at 3x32x32 that is 600 MB of floats. */
const MAX_FOLDER_IMAGES = 50_000;

/**
 * Decodes the images of an opened folder (decodeImage: PNG or JPEG, by their
 * bytes), brings each to the input shape (fitImage: channels as PIL's
 * convert, resize to cover then centre crop, as torchvision), splits them into
 * train and test (the folder's train/ and test/, or a seeded, stratified
 * `testFraction` of each class), and measures the training images' mean and
 * standard deviation per channel. A file that does not decode is a DataError
 * naming it.
 */
async function loadFolder(f: FolderData, seed: number, augment: string, emit: Emit): Promise<Dataset> {
  if (!Array.isArray(f.paths) || !Array.isArray(f.files) || f.paths.length !== f.files.length) {
    throw new ValueError('the folder\'s files did not arrive whole: open the folder again');
  }
  const shape = f.inputShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((v) => Number.isInteger(v) && v >= 1) || (shape[0] !== 1 && shape[0] !== 3) || shape[1] > 256 || shape[2] > 256) {
    throw new ValueError(`the input shape must be C x H x W with C 1 or 3 and sides up to 256, e.g. 3x32x32; got ${JSON.stringify(shape)}`);
  }
  const listing = listFolder(f.paths);
  const classes = listing.classNames.length;
  let train = listing.train;
  let test = listing.test;
  let split: string;
  if (listing.layout === 'classes') {
    const frac = f.testFraction;
    if (typeof frac !== 'number' || !(frac > 0 && frac < 1)) throw new ValueError(`the held-out share must be a number between 0 and 1, e.g. 0.2; got ${String(frac)}`);
    // Stratified and seeded: each class's images shuffled, its first round(n * frac) held out (at least one, and one kept).
    const generator = new Generator(seed);
    const keep: typeof train = [];
    const held: typeof train = [];
    for (let c = 0; c < classes; c++) {
      const items = train.filter((t) => t.label === c);
      const order = generator.shuffle(Uint32Array.from({ length: items.length }, (_, i) => i));
      const n = items.length < 2 ? 0 : Math.min(items.length - 1, Math.max(1, Math.round(items.length * frac)));
      order.forEach((o, i) => (i < n ? held : keep).push(items[o]));
    }
    train = keep.sort((a, b) => a.index - b.index);
    test = held.sort((a, b) => a.index - b.index);
    split = `${Math.round(frac * 100)}% of each class held out for testing (seed ${seed})`;
  } else {
    split = `the folder's own train/ and test/ sub-folders`;
  }
  if (test.length === 0) throw new ValueError('no image is left for testing: each class needs at least two images, or the folder needs test/ images');
  const total = train.length + test.length;
  if (total > MAX_FOLDER_IMAGES) throw new ValueError(`${listing.name} holds ${total.toLocaleString('en-US')} images; this page trains on folders of up to ${MAX_FOLDER_IMAGES.toLocaleString('en-US')}`);
  const size = shape[0] * shape[1] * shape[2];
  let done = 0;
  let last = 0;
  emit({ kind: 'data', file: `images of ${listing.name}`, phase: 'decode', loaded: 0, total });
  const read = async (items: typeof train): Promise<Split> => {
    const images = new Float32Array(items.length * size);
    const labels = new Uint8Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const { index, label } = items[i];
      const image = await decodeImage(new Uint8Array(f.files[index]), f.paths[index]);
      images.set(fitImage(image, shape).data, i * size);
      labels[i] = label;
      done++;
      const now = performance.now();
      if (now - last >= PROGRESS_MS) {
        last = now;
        emit({ kind: 'data', file: `images of ${listing.name}`, phase: 'decode', loaded: done, total });
        await yieldToEvents();
      }
    }
    return { images, labels, count: items.length };
  };
  const trainSplit = await read(train);
  const testSplit = await read(test);
  emit({ kind: 'data', file: `images of ${listing.name}`, phase: 'done', loaded: total, total });
  // Per-channel mean and (population) standard deviation of the training images, as transforms.Normalize is given them.
  const plane = shape[1] * shape[2];
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < shape[0]; c++) {
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < trainSplit.count; i++) {
      const at = i * size + c * plane;
      for (let p = 0; p < plane; p++) {
        const v = trainSplit.images[at + p];
        sum += v;
        sq += v * v;
      }
    }
    const n = trainSplit.count * plane;
    const m = sum / n;
    mean.push(m);
    // A channel that never varies (a flat colour) would divide by zero: it stays centred, unscaled.
    std.push(Math.sqrt(Math.max(sq / n - m * m, 0)) || 1);
  }
  return {
    train: trainSplit,
    test: testSplit,
    info: {
      name: listing.name, kind: 'folder', classNames: listing.classNames,
      trainCounts: classCounts(train, classes), testCounts: classCounts(test, classes),
      inputShape: [shape[0], shape[1], shape[2]], mean, std, split, augment,
    },
  };
}

// ---- models ------------------------------------------------------------------

/** The zoo models that take MNIST's 1x28x28 and learn by gradient steps. */
function modelChoices(): ModelChoice[] {
  return Object.entries(models)
    .filter(([, spec]) => spec.inputShape.join('x') === '1x28x28' && spec.trainingRule === undefined)
    .map(([name, spec]) => ({
      name,
      description: spec.description,
      lr: { sgd: spec.defaultLr?.sgd ?? DEFAULT_LR.sgd, adam: spec.defaultLr?.adam ?? DEFAULT_LR.adam },
    }));
}

/**
 * Builds `name` (a zoo name or a layer pattern) for images of `inputShape`
 * (MNIST's 1x28x28 by default) and `classes` classes, checks that one image
 * gives one score per class (when `classes` is known) and that it is small
 * enough to train here, and describes it.
 */
function buildModel(
  name: string, generator: Generator, inputShape: [number, number, number] = [1, 28, 28], classes: number | null = CLASSES,
): { model: nn.Module; info: ModelInfo } {
  if (typeof name !== 'string' || name.trim() === '') throw new ValueError('name a model: LeNet-5, or a layer pattern such as (conv5-8-relu-pool2)-fc10');
  const pattern = isModelPattern(name);
  if (!pattern && !modelChoices().some((m) => m.name === name)) {
    throw new ValueError(`'${name}' is not a model this page trains; choose ${modelChoices().map((m) => m.name).join(' or ')}, or write a layer pattern`);
  }
  const model = createModel(name, { generator, numClasses: classes ?? CLASSES, inputShape: [...inputShape] });
  // The size first (summary traces one forward): a model too big to train is refused before anything else runs it.
  const s = summary(model, inputShape);
  if (s.totalParams > MAX_PARAMETERS) {
    throw new ValueError(`${name} has ${s.totalParams.toLocaleString('en-US')} parameters; this page trains models of up to ${MAX_PARAMETERS.toLocaleString('en-US')} (use fewer or narrower layers)`);
  }
  if (s.macs > MAX_MACS) {
    throw new ValueError(
      `${name} needs ${(s.macs / 1e6).toFixed(0)} million multiply-accumulates per image; this page trains models of up to ${MAX_MACS / 1e6} million, ` +
        'so that a step stays short enough to pause between (pool earlier, or use fewer filters)',
    );
  }
  const out = noGrad(() => {
    model.eval();
    try {
      return model.forward(zeros([1, ...inputShape])).shape;
    } finally {
      model.train();
    }
  });
  if (out.length !== 2 || (classes !== null && out[1] !== classes)) {
    const want = classes === CLASSES && inputShape.join('x') === '1x28x28'
      ? 'training on MNIST needs [1, 10], one score per digit'
      : `training on these ${classes ?? 'N'} classes needs [1, ${classes ?? 'N'}], one score per class${pattern ? ` (end the pattern with fc${classes ?? 'N'})` : ''}`;
    throw new ValueError(`${name} gives an output of shape [${out.join(', ')}] for one image of ${inputShape.join('x')}; ${want}`);
  }
  const first = firstLayerWeight(model);
  return {
    model,
    info: {
      model: name,
      description: (pattern ? `layer pattern ${name}` : getModelSpec(name).description) +
        (inputShape.join('x') === '1x28x28' && classes === CLASSES ? '' : `; built here for ${inputShape.join('x')} images${classes === null ? '' : ` and ${classes} classes`}`),
      parameters: s.totalParams,
      macs: s.macs,
      printout: model.toString(),
      firstLayer: { name: first.name, shape: [...first.weight.shape] },
    },
  };
}

/** The first layer's weight: the model's first parameter of rank 4 (a convolution) or 2 (a linear layer on the pixels). */
function firstLayerWeight(model: nn.Module): { name: string; weight: Tensor } {
  for (const [name, p] of model.namedParameters()) {
    if (p.ndim === 4 || p.ndim === 2) return { name, weight: p };
  }
  throw new ValueError('the model has no convolution or linear layer to learn with');
}

/**
 * The first layer's weights as maps [maps, channels, height, width]: a
 * convolution's filters as they are, a linear layer on the pixels as one
 * image-shaped map per output (its weights are a template over the image).
 */
function filterMaps(name: string, weight: Tensor, step: number, image: readonly number[] = [1, 28, 28]): Extract<TrainEvent, { kind: 'filters' }> {
  const total = weight.shape[0];
  const maps = Math.min(total, MAX_FILTERS);
  const shape: [number, number, number, number] = weight.ndim === 4
    ? [maps, weight.shape[1], weight.shape[2], weight.shape[3]]
    : weight.shape[1] === image[0] * image[1] * image[2] ? [maps, image[0], image[1], image[2]] : [maps, 1, 1, weight.shape[1]];
  const size = shape[1] * shape[2] * shape[3];
  return { kind: 'filters', step, name, shape, total, weights: weight.data.slice(0, maps * size) as Float32Array };
}

// ---- the run -----------------------------------------------------------------

interface Run {
  config: TrainConfig;
  /** Seeded by the config: draws the initial weights, then every epoch's order. */
  generator: Generator;
  state: RunState;
  model: nn.Module | null;
  optimizer: optim.Optimizer | null;
  data: Dataset | null;
  /** The augmentation of the training batches and its own generator (null: none). */
  augment: { transform: transforms.Transform; generator: Generator } | null;
  emit: Emit;
  step: number;
  /** Images of the current epoch already trained on, and epochs completed. */
  epochSeen: number;
  epochsDone: number;
  /** What the next step uses (train-set changes these). */
  lr: number;
  batchSize: number;
  paused: boolean;
  stopped: boolean;
  /** Resolves the wait of a paused loop (set while it waits). */
  wake: (() => void) | null;
  /** The evaluation in progress; steps wait for it. */
  evaluating: Promise<unknown> | null;
  trainSeconds: number;
  lastTest: EvalResult | null;
  /** Resolves when the loop has returned (the run's `train-start` settles right after). */
  ended: Promise<void>;
}

let run: Run | null = null;

/**
 * A task boundary: lets the worker run the messages that arrived during the
 * last step (pause, stop, a new lr). A message to a fresh MessageChannel
 * rather than setTimeout(0): nested timers are clamped to 4 ms each, which
 * after every step of a small model would be a tenth of the time.
 */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

function checkLr(lr: unknown): number {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0 || lr > 10) throw new ValueError(`the learning rate must be a number in (0, 10], such as 0.05 for SGD or 0.001 for Adam; got ${String(lr)}`);
  return lr;
}

function checkBatch(b: unknown): number {
  if (typeof b !== 'number' || !Number.isInteger(b) || b < 1 || b > MAX_BATCH) throw new ValueError(`the batch size must be a whole number from 1 to ${MAX_BATCH}; got ${String(b)}`);
  return b;
}

function checkConfig(c: TrainConfig): void {
  if (c === null || typeof c !== 'object') throw new ValueError('train-start needs the run\'s settings');
  checkLr(c.lr);
  checkBatch(c.batchSize);
  if (c.optimizer !== 'sgd' && c.optimizer !== 'adam') throw new ValueError(`the optimizer must be sgd or adam; got ${String(c.optimizer)}`);
  if (c.optimizer === 'sgd' && !(typeof c.momentum === 'number' && c.momentum >= 0 && c.momentum < 1)) {
    throw new ValueError(`SGD's momentum must be a number in [0, 1), such as 0.9; got ${String(c.momentum)}`);
  }
  if (!Number.isInteger(c.epochs) || c.epochs < 1 || c.epochs > MAX_EPOCHS) throw new ValueError(`epochs must be a whole number from 1 to ${MAX_EPOCHS}; got ${String(c.epochs)}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new ValueError(`the seed must be a whole number >= 0; got ${String(c.seed)}`);
  if (c.changes !== undefined && !Array.isArray(c.changes)) throw new ValueError('changes must be a list of { step, lr?, batchSize? }');
  for (const ch of c.changes ?? []) {
    if (!Number.isInteger(ch?.step) || ch.step < 0) throw new ValueError(`a change's step must be a whole number >= 0; got ${String(ch?.step)}`);
    if (ch.lr !== undefined) checkLr(ch.lr);
    if (ch.batchSize !== undefined) checkBatch(ch.batchSize);
  }
}

function setState(r: Run, state: RunState): void {
  r.state = state;
  r.emit({ kind: 'state', state, step: r.step });
}

/**
 * Loss and accuracy of the model on all the test images (MNIST's 10,000, or
 * the folder's held-out ones), in
 * eval mode without gradients, EVAL_BATCH images per forward pass with a task
 * boundary after each, so pause and stop stay answered. Steps wait for it.
 * The evaluation at the end of an epoch is abandoned (null) when the run is
 * stopped meanwhile; one the page asked for is finished.
 */
async function evaluateRun(r: Run, reason: 'epoch' | 'request'): Promise<EvalResult | null> {
  while (r.evaluating) await r.evaluating;
  const { model, data } = r;
  if (!model || !data) throw new ValueError('there is no model to evaluate yet: start training first');
  const job = (async () => {
    const before = r.state;
    if (before === 'training' || before === 'paused') setState(r, 'evaluating');
    r.emit({ kind: 'eval-start', step: r.step, images: data.test.count, reason });
    const start = performance.now();
    let correct = 0;
    let lossSum = 0;
    model.eval();
    try {
      for (let i = 0; i < data.test.count; i += EVAL_BATCH) {
        if (reason === 'epoch' && r.stopped) return null;
        const end = Math.min(i + EVAL_BATCH, data.test.count);
        const { x, y } = batch(data, data.test, null, i, end);
        noGrad(() => {
          const out = model.forward(x);
          lossSum += F.crossEntropy(out, y).item() * (end - i);
          correct += countCorrect(out, y);
        });
        await yieldToEvents();
      }
    } finally {
      model.train();
    }
    const result: EvalResult = {
      step: r.step,
      epoch: r.epochsDone + r.epochSeen / data.train.count,
      accuracy: correct / data.test.count,
      loss: lossSum / data.test.count,
      correct,
      total: data.test.count,
      seconds: (performance.now() - start) / 1000,
    };
    r.lastTest = result;
    r.emit({ kind: 'eval', result, reason });
    // A stopped run gets its final state from the loop, which is about to end.
    if (r.state === 'evaluating' && !r.stopped) setState(r, r.paused ? 'paused' : 'training');
    return result;
  })();
  r.evaluating = job;
  try {
    return await job;
  } finally {
    r.evaluating = null;
  }
}

/** Trains until the epochs are done or the run is stopped. */
async function loop(r: Run): Promise<TrainResult> {
  const model = r.model!;
  const optimizer = r.optimizer!;
  const data = r.data!;
  const generator = r.generator;
  const n = data.train.count;
  const window: { loss: number; correct: number; images: number; ms: number }[] = [];
  let pending = { firstStep: 1, losses: [] as number[], smoothLoss: [] as number[], smoothAccuracy: [] as number[] };
  let lastProgress = 0;
  let lastFilters = performance.now();
  const first = firstLayerWeight(model);
  model.train();

  const progress = (latest: { loss: number; correct: number; images: number }) => {
    const w = window.reduce((a, s) => ({ loss: a.loss + s.loss, correct: a.correct + s.correct, images: a.images + s.images, ms: a.ms + s.ms }), { loss: 0, correct: 0, images: 0, ms: 0 });
    r.emit({
      kind: 'progress',
      ...pending,
      step: r.step,
      epoch: r.epochsDone + 1,
      epochs: r.config.epochs,
      epochSeen: r.epochSeen,
      epochImages: n,
      loss: w.loss / window.length,
      accuracy: w.correct / w.images,
      batchLoss: latest.loss,
      batchAccuracy: latest.correct / latest.images,
      imagesPerSec: w.images / Math.max(w.ms / 1000, 1e-9),
      lr: optimizer.lr,
      batchSize: latest.images,
      trainSeconds: r.trainSeconds,
    });
    pending = { firstStep: r.step + 1, losses: [], smoothLoss: [], smoothAccuracy: [] };
    lastProgress = performance.now();
  };

  /** The scheduled changes by step, and the values the last step used (a difference is reported as a change). */
  const schedule = new Map<number, RunChange[]>();
  for (const c of r.config.changes ?? []) schedule.set(c.step, [...(schedule.get(c.step) ?? []), c]);
  let used = { lr: r.lr, batchSize: r.batchSize };

  r.emit(filterMaps(first.name, first.weight, 0, data.info.inputShape));
  while (r.epochsDone < r.config.epochs && !r.stopped) {
    const order = generator.shuffle(Uint32Array.from({ length: n }, (_, i) => i));
    r.epochSeen = 0;
    let latest = { loss: NaN, correct: 0, images: 0 };
    while (r.epochSeen < n) {
      // Between steps: run what the page asked for (pause, stop, evaluate, a new lr).
      await yieldToEvents();
      if ((r.paused || r.evaluating) && pending.losses.length > 0) progress(latest);
      while ((r.paused || r.evaluating) && !r.stopped) {
        if (r.evaluating) {
          await r.evaluating.catch(() => {});
        } else {
          // Said here, after the steps so far were reported: the page shows the step it paused at.
          if (r.state !== 'paused') setState(r, 'paused');
          await new Promise<void>((resolve) => (r.wake = resolve));
        }
      }
      if (r.stopped) break;
      if (r.state !== 'training') setState(r, 'training');
      for (const c of schedule.get(r.step) ?? []) {
        if (c.lr !== undefined) r.lr = c.lr;
        if (c.batchSize !== undefined) r.batchSize = c.batchSize;
      }
      if (r.lr !== used.lr || r.batchSize !== used.batchSize) {
        r.emit({ kind: 'change', step: r.step, lr: r.lr, batchSize: r.batchSize, from: used });
        used = { lr: r.lr, batchSize: r.batchSize };
      }

      const t0 = performance.now();
      optimizer.paramGroups.forEach((g) => (g.lr = r.lr));
      const end = Math.min(r.epochSeen + r.batchSize, n);
      const { x, y } = batch(data, data.train, order, r.epochSeen, end, r.augment);
      optimizer.zeroGrad();
      const out = model.forward(x);
      const loss = F.crossEntropy(out, y);
      const value = loss.item();
      if (!Number.isFinite(value)) {
        throw new ValueError(
          `the loss became ${value} at step ${r.step + 1} (epoch ${r.epochsDone + 1}): training diverged. Lower the learning rate (it was ${r.lr}) and start again`,
        );
      }
      backward(loss);
      optimizer.step();
      const correct = countCorrect(out, y);
      const images = end - r.epochSeen;
      const ms = performance.now() - t0;

      r.step++;
      r.epochSeen = end;
      r.trainSeconds += ms / 1000;
      latest = { loss: value, correct, images };
      window.push({ loss: value, correct, images, ms });
      if (window.length > WINDOW) window.shift();
      pending.losses.push(value);
      pending.smoothLoss.push(window.reduce((a, s) => a + s.loss, 0) / window.length);
      pending.smoothAccuracy.push(window.reduce((a, s) => a + s.correct, 0) / window.reduce((a, s) => a + s.images, 0));

      const now = performance.now();
      if (now - lastProgress >= PROGRESS_MS) progress(latest);
      if (now - lastFilters >= FILTERS_MS) {
        lastFilters = now;
        r.emit(filterMaps(first.name, first.weight, r.step, data.info.inputShape));
      }
    }
    if (pending.losses.length > 0) progress(latest);
    r.emit(filterMaps(first.name, first.weight, r.step, data.info.inputShape));
    if (r.stopped) break;
    r.epochsDone++;
    r.epochSeen = 0;
    await evaluateRun(r, 'epoch');
  }
  const reason = r.stopped ? 'stopped' : 'finished';
  setState(r, reason);
  return { reason, steps: r.step, epochsCompleted: r.epochsDone, trainSeconds: r.trainSeconds, test: r.lastTest };
}

async function start(config: TrainConfig, emit: (e: unknown) => void): Promise<TrainResult> {
  checkConfig(config);
  // A run still going (a page mounted again) ends before the new one begins.
  if (run && !run.stopped && run.state !== 'finished') {
    const old = run;
    old.stopped = true;
    old.wake?.();
    await old.ended;
  }
  let endRun: () => void = () => {};
  const r: Run = {
    config, generator: new Generator(config.seed), state: 'loading', model: null, optimizer: null, data: null, augment: null, emit, step: 0, epochSeen: 0, epochsDone: 0,
    lr: config.lr, batchSize: config.batchSize, paused: false, stopped: false, wake: null, evaluating: null, trainSeconds: 0,
    lastTest: null, ended: new Promise<void>((resolve) => (endRun = resolve)),
  };
  run = r;
  try {
    setState(r, 'loading');
    // The augmentation and the model first: a malformed spec or pattern is reported before any download.
    const plan = transforms.parseAugment(config.augment ?? '');
    const folder = config.data?.kind === 'folder' ? config.data : null;
    const shape: [number, number, number] = folder ? folder.inputShape : [1, 28, 28];
    if (folder) {
      // The classes are known from the paths alone: the model is checked against them before any image is decoded.
      buildModel(config.model, new Generator(config.seed), shape, listFolder(folder.paths).classNames.length);
    } else buildModel(config.model, new Generator(config.seed));
    await ready();
    r.data = folder ? await loadFolder(folder, config.seed, plan.description, emit) : mnistDataset(await loadMnist(config.data as MnistUrls, emit), plan.description);
    // Built once the data is known, from the run's generator (a MNIST run draws the same weights as before).
    const { model, info } = buildModel(config.model, r.generator, r.data.info.inputShape, r.data.info.classNames.length);
    if (plan.steps.length > 0) {
      // A crop to another size would hand the model images it was not built for: said now, not at the first step.
      const size = r.data.info.inputShape;
      const out = plan.transform(zeros([...size]), new Generator(0)).shape;
      if (out.join('x') !== size.join('x')) {
        throw new ValueError(`the augmentation '${config.augment}' turns a ${size.join('x')} image into ${out.join('x')}; the model takes ${size.join('x')}: give the crop no size, or the input's own`);
      }
      r.augment = { transform: plan.transform, generator: new Generator(config.seed + 1) };
    }
    r.model = model;
    r.optimizer = config.optimizer === 'sgd'
      ? new optim.SGD(model, { lr: config.lr, momentum: config.momentum })
      : new optim.Adam(model, { lr: config.lr });
    emit({ kind: 'ready', model: info, trainImages: r.data.train.count, testImages: r.data.test.count, dataset: r.data.info });
    if (r.stopped) {
      setState(r, 'stopped');
      return { reason: 'stopped', steps: 0, epochsCompleted: 0, trainSeconds: 0, test: null };
    }
    setState(r, r.paused ? 'paused' : 'training');
    return await loop(r);
  } catch (err) {
    r.stopped = true;
    r.state = 'stopped';
    throw err;
  } finally {
    r.wake = null;
    endRun();
  }
}

function status(): RunStatus {
  if (!run) return { state: 'none', step: 0, lr: NaN, batchSize: 0 };
  return { state: run.state, step: run.step, lr: run.lr, batchSize: run.batchSize };
}

export const trainHandlers = {
  /** The zoo models the page offers, and the constants its labels name. */
  'train-options': (): TrainOptions => ({ models: modelChoices(), patternLr: { ...DEFAULT_LR }, patternExample: MODEL_PATTERN_EXAMPLE, window: WINDOW }),

  /**
   * Builds a model (a name or a pattern) to check and describe it, without
   * training; errors say what is wrong. `inputShape` and `classes` default to
   * MNIST's; `classes` null (a folder not opened yet) checks no class count.
   */
  'train-describe': (args: { model: string; inputShape?: [number, number, number]; classes?: number | null }): ModelInfo =>
    buildModel(args.model, new Generator(0), args.inputShape, args.classes === undefined ? CLASSES : args.classes).info,

  /** Parses an augmentation spec: its normal form and what it does in words; errors quote the spec with a caret. */
  'train-augment': (args: { spec: string }): { spec: string; description: string } => {
    const plan = transforms.parseAugment(args.spec);
    return { spec: plan.spec, description: plan.description };
  },

  /** Loads MNIST (once per worker), builds the model and trains it, streaming TrainEvents. */
  'train-start': (config: TrainConfig, emit: (e: unknown) => void): Promise<TrainResult> => start(config, emit),

  /**
   * Pauses or resumes the run. The training loop says 'paused' once the step
   * in flight is done and reported, and 'training' when it steps again.
   */
  'train-pause': (args: { paused: boolean }): RunStatus => {
    if (run && !run.stopped && run.state !== 'finished') {
      run.paused = args.paused === true;
      if (!run.paused) {
        run.wake?.();
        run.wake = null;
      }
    }
    return status();
  },

  /** Ends the run after the step in flight; the model stays for `train-evaluate`. */
  'train-stop': async (): Promise<RunStatus> => {
    if (run && !run.stopped && run.state !== 'finished') {
      run.stopped = true;
      run.wake?.();
      run.wake = null;
      await run.ended;
    }
    return status();
  },

  /** Changes the learning rate and/or the batch size; the next step uses them. */
  'train-set': (args: { lr?: number; batchSize?: number }): RunStatus => {
    const lr = args.lr === undefined ? undefined : checkLr(args.lr);
    const batchSize = args.batchSize === undefined ? undefined : checkBatch(args.batchSize);
    if (run) {
      if (lr !== undefined) run.lr = lr;
      if (batchSize !== undefined) run.batchSize = batchSize;
    }
    return status();
  },

  /** Evaluates the model as it is now on the test set (between two steps of a running run). */
  'train-evaluate': async (): Promise<EvalResult> => {
    if (!run || !run.model || !run.data) throw new ValueError('there is no trained model yet: start training first');
    return (await evaluateRun(run, 'request'))!;
  },

};
