/**
 * `stride train` as a function: loads the dataset, builds the model, trains,
 * evaluates on the test split, saves the checkpoint. The command line parses
 * and validates arguments and calls `runTrain`; tests call it directly.
 *
 * The checkpoint is saved (atomically) at the end of every epoch with the
 * optimizer's state, the epoch and the random generators' states, so
 * `--resume DIR` continues an interrupted run from its last completed epoch
 * exactly as if it had not stopped (on the same backend): the same weights,
 * bit for bit, and the same metrics. A resumed run keeps the settings it
 * started with (model, dataset, optimizer, lr, momentum, schedule, batch
 * size, seed, --limit): giving one of them with another value is refused.
 * `--epochs N` may extend it (N above the epochs completed); a decaying
 * schedule then spans the new length from the resumed step on.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import os from 'node:os';
import { dirname, resolve } from 'node:path';

import { InvalidArgumentError } from 'commander';

import {
  DataError, Generator, LR_SCHEDULES, MODEL_PATTERN_EXAMPLE, Perceptron, StrideError, Tensor, ValueError, backendInfo, checkFiniteWeights, createModel, defaultGenerator, fitEpochsAsync, getBackend, getModelSpec,
  models, optim, setThreads, zeros, trainPerceptron, transforms, type CheckpointTraining, type EpochResult, type JsonValue, type LrScheduleName,
} from '../index.js';
import {
  BatchPipeline, CHECKPOINT_FORMATS, createProgressReporter, ensureFolder, loadWeightsInto, readCheckpoint, saveCheckpoint, sharedImages, type CheckpointFormat, type MemorySample, type ReadCheckpoint,
} from '../node.js';
import {
  DATA_DIR_OPTION, checkNormalizationChannels, datasets, normalizationFromMeta, normalizationJson, openDataset, openRecorded, parseNormalization, type LoadedSplit, type Normalization,
} from './datasets.js';
import { checkRunFits, estimateRunMemory } from './memory.js';
import { buildModelFor, checkModelFits } from './model-fit.js';
import { consoleIO, type CliIO } from './io.js';
import { BACKEND_OPTIONS, integer, jsonOption, number, oneOf, option, recordedValues, sizes, withDefaults, type CliCommand, type OptionValues, type RecordedValues } from './options.js';

const { AUGMENT_EXAMPLE, AUGMENT_STEPS, defaultAugment, parseAugment } = transforms;
type AugmentPlan = transforms.AugmentPlan;

const OPTIMIZERS = ['sgd', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
/** The learning rate of each optimizer when --lr is absent. */
const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.05, adam: 0.001 };
/** The SGD momentum when --momentum is absent (adam has none). */
const DEFAULT_MOMENTUM = 0.9;

/**
 * The options of `stride train` (without --backend, --threads, --json, which
 * the command adds). The defaults are measured to reach >= 0.98 test accuracy
 * after one epoch of LeNet-5 on all 60,000 MNIST images (inputs normalized by
 * MNIST_MEAN and MNIST_STD): SGD lr 0.05, momentum 0.9, batch 64, with the
 * learning rate decayed to 0 over the run by a per-step cosine. Measured
 * (seed: accuracy): cosine 0: 0.9857, 1: 0.9829, 2: 0.9847. With a constant
 * rate the same epoch ends below 0.98 (lr 0.05 batch 64: 0.9771; lr 0.02
 * batch 64: 0.9766; lr 0.02 batch 32: 0.9754; lr 0.01 batch 32: 0.9797; Adam
 * 0.001 batch 64: 0.9779): the noise of the last high-rate steps costs the
 * last half percent, and the decay removes it.
 */
export const TRAIN_OPTIONS = {
  dataset: option({
    flags: '--dataset <name>', help: `dataset to train on: ${Object.keys(datasets).join(', ')}`, parse: oneOf(Object.keys(datasets), 'dataset'),
    default: 'mnist', recorded: true,
  }),
  dataDir: DATA_DIR_OPTION,
  input: option<number[]>({
    flags: '--input <shape>', help: "one image as the model takes it, CxHxW, for datasets whose images are resized to it (folder; mnist's and cifar's are not: only their own size is accepted)",
    parse: inputShapeArgument, defaultHelp: "the dataset's images' (mnist 1x28x28, cifar10/cifar100 3x32x32); folder requires it", metavar: 'CxHxW',
  }),
  normalize: option<Normalization>({
    flags: '--normalize <mean/std>', help: 'standardize the inputs as (x - mean[c]) / std[c], x in 0..1: MEAN/STD, each one number or one per channel separated by commas (stride stats prints them)',
    parse: normalizeArgument, metavar: 'MEAN/STD',
    defaultHelp: "the dataset's: mnist 0.1307/0.3081, cifar10 and cifar100 their published per-channel values, folder its training images' (as stride stats computes them)",
  }),
  epochs: option({ flags: '--epochs <n>', help: 'passes over the training set', parse: integer(1, 'a whole number of epochs >= 1'), default: 1, recorded: true }),
  batchSize: option({ flags: '--batch-size <n>', help: 'training examples per step', parse: integer(1, 'an integer >= 1'), default: 64, recorded: true }),
  optimizer: option<OptimizerName, true>({
    flags: '--optimizer <name>', help: 'sgd (with momentum) or adam', parse: oneOf(OPTIMIZERS, 'optimizer'), default: 'sgd', metavar: OPTIMIZERS.join('|'), recorded: true,
  }),
  lr: option({
    flags: '--lr <x>', help: 'learning rate > 0', parse: number((n) => n > 0, 'a learning rate > 0'),
    defaultHelp: [
      ...OPTIMIZERS.map((o) => `${DEFAULT_LR[o]} for ${o}`),
      ...Object.entries(models).flatMap(([name, spec]) => OPTIMIZERS.filter((o) => spec.defaultLr?.[o] !== undefined).map((o) => `${spec.defaultLr![o]} for ${name} with ${o}`)),
    ].join(', '),
    metavar: 'X', recorded: true,
  }),
  momentum: option<number | null, true>({
    flags: '--momentum <x>', help: 'SGD momentum in [0, 1)', parse: number((n) => n >= 0 && n < 1, 'a momentum in [0, 1)'),
    defaultHelp: `${DEFAULT_MOMENTUM}; sgd only`, recorded: true,
  }),
  lrSchedule: option<LrScheduleName, true>({
    flags: '--lr-schedule <name>', help: 'learning rate over the run: constant, linear or cosine decay to 0, per step', parse: oneOf(LR_SCHEDULES, 'schedule'),
    default: 'cosine', metavar: LR_SCHEDULES.join('|'), recorded: true,
  }),
  limit: option({ flags: '--limit <n>', help: 'train on the first N training images only', parse: integer(1), defaultHelp: 'all' }),
  testLimit: option({ flags: '--test-limit <n>', help: 'evaluate on the first N test images only', parse: integer(1), defaultHelp: 'all' }),
  augment: option<string>({
    flags: '--augment [spec]',
    help: `augment every training batch (before normalization; the test set is not): 'default' (also --augment alone) for the dataset's standard recipe, 'none', or steps such as '${AUGMENT_EXAMPLE}' (${AUGMENT_STEPS.join(', ')}); seeded by --seed`,
    parse: augmentArgument, preset: 'default', defaultHelp: 'none', metavar: 'SPEC',
  }),
  workers: option({
    flags: '--workers <n>', help: 'worker threads that make the augmented training batches while the model trains (0: in the training thread); any number gives the same batches',
    parse: integer(0, 'an integer >= 0'), defaultHelp: '1 with --augment on 2 or more cores, the kernels then taking one thread fewer (unless --threads); else 0',
  }),
  seed: option({ flags: '--seed <n>', help: 'seed for initialization, shuffling and augmentation', parse: integer(0, 'an integer >= 0'), default: 0, recorded: true }),
  out: option<string | null>({
    flags: '--out <dir>', help: 'folder for the weights (model.stride or, with --format safetensors, model.safetensors), written atomically', parse: (dir) => dir, defaultHelp: 'runs/<model>-<dataset>/',
  }),
  save: option({ flags: '--no-save', help: 'do not save the weights', alternativeTo: 'out' }),
  format: option<CheckpointFormat>({
    flags: '--format <name>', help: 'weights file: stride (model.stride, with the state --resume needs) or safetensors (model.safetensors, PyTorch names, weights only)', parse: oneOf(CHECKPOINT_FORMATS, 'format'),
    default: 'stride', metavar: CHECKPOINT_FORMATS.join('|'),
  }),
  init: option<string>({ flags: '--init <path>', help: 'start from these weights (.stride, .safetensors or a folder) instead of a random initialization', parse: (path) => path, metavar: 'PATH' }),
  progress: option({ flags: '--no-progress', help: 'no progress bar, even on a terminal (one line per epoch is always printed)' }),
  top: option({ flags: '--top <k>', help: 'also report the top-K test accuracy (the label among the K highest scores) at the end', parse: integer(1), metavar: 'K' }),
  detectAnomaly: option({
    flags: '--detect-anomaly',
    help: "check every op's output and gradient for NaN and infinities while training, and stop at the first op that makes one, naming it, its input shapes and its layer (a LeNet-5 step takes about 1.2 times as long)",
  }),
  resume: option<string>({
    flags: '--resume <dir>', help: 'continue the run saved in DIR from its last completed epoch, with its settings (--epochs N extends it); saves to DIR unless --out',
    parse: (dir) => dir, metavar: 'DIR',
  }),
};

/** `stride train`. */
export const TRAIN_COMMAND = {
  name: 'train',
  description: 'Train a model on a dataset, print the test accuracy and save the weights',
  argument: {
    name: '[model]', synopsis: '[model]',
    help: `model to train: ${Object.keys(models).join(', ')}, or a layer pattern such as "${MODEL_PATTERN_EXAMPLE}" (with --resume: the run's own)`,
    parse: modelArgument,
  },
  options: {
    ...TRAIN_OPTIONS,
    ...BACKEND_OPTIONS,
    json: jsonOption('testAccuracy, trainImagesPerSec, seconds, model, epochs, batchSize, lr, optimizer, seed, backend, resumedFrom, topK (with --top), rssMiB (per epoch)...'),
  },
  afterHelp: `
On a terminal a progress bar shows epoch, batch k/K, the running mean loss,
images/s and the ETA; otherwise one line per epoch is printed. Inputs are
normalized with the dataset's mean and std per channel (MNIST: 0.1307,
0.3081; CIFAR-10: 0.4914, 0.4822, 0.4465 and 0.2470, 0.2435, 0.2616). The test
accuracy and the checkpoint's path end the output (before the --json line):
  test accuracy: 0.9871
  saved weights to runs/lenet5-mnist/model.stride
cifar10 and cifar100 read the extracted binary version of the data ("CIFAR-10
binary version (suitable for C programs)" from
https://www.cs.toronto.edu/~kriz/cifar.html) from --data-dir:
  stride train resnet20 --dataset cifar10 --data-dir cifar-10-batches-bin
folder reads a folder of PNG/JPEG images, one sub-folder per class, brought
to --input (resized, centre-cropped) and normalized by the per-channel mean
and std of its training images (recorded in the checkpoint for eval):
  stride train lenet5 --dataset folder --data-dir photos --input 3x64x64
--augment transforms each training batch in 0..1 before normalizing it,
drawing from its own generator seeded by --seed, so a run is repeatable:
  stride train resnet20 --dataset cifar10 --data-dir cifar-10-batches-bin --augment
The checkpoint is rewritten at the end of every epoch, with the optimizer's
state and the random generators', so an interrupted run continues from its
last completed epoch with --resume DIR, as if it had not stopped. The model
is built for the dataset's images and checked on one of them before training.
Training stops (exit code 2) at the first NaN or infinity in the loss, in a
gradient or in a weight after a step, naming the epoch, the batch, the first
layer in model order that went bad and the op that made the value;
--detect-anomaly checks every op as it runs instead (slower).`,
} satisfies CliCommand;

/**
 * Weights holding NaN or an infinity are refused with a DataError naming the
 * file (`where`), each bad tensor and how many values it holds
 * (checkFiniteWeights): weights trained into NaN train and predict nothing.
 */
export function refuseNonFiniteWeights(model: Parameters<typeof checkFiniteWeights>[0], where: string): void {
  try {
    checkFiniteWeights(model, where);
  } catch (err) {
    if (err instanceof ValueError) throw new DataError(err.message);
    throw err;
  }
}

/** --input: CxHxW, three whole numbers >= 1. */
function inputShapeArgument(value: string): number[] {
  const shape = sizes(3, 1, 'one image as CxHxW, three whole numbers >= 1 (3x32x32)')(value);
  if (shape.length !== 3) throw new InvalidArgumentError('Expected one image as CxHxW, three whole numbers >= 1 (3x32x32).');
  return shape;
}

/** --normalize: MEAN/STD (parseNormalization's message when malformed). */
function normalizeArgument(value: string): Normalization {
  try {
    return parseNormalization(value);
  } catch (err) {
    if (err instanceof ValueError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/** --augment: 'default', 'none' or a spec parseAugment accepts (a malformed one is reported with a caret under the mistake). */
function augmentArgument(value: string): string {
  if (value.trim().toLowerCase() === 'default') return 'default';
  try {
    parseAugment(value);
  } catch (err) {
    if (err instanceof ValueError) throw new InvalidArgumentError(err.message);
    throw err;
  }
  return value;
}

/**
 * The augmentation a run applies: `spec` 'default' is defaultAugment of the
 * dataset at its input size, anything else is parsed (parseAugment; 'none'
 * and '' are no steps).
 */
export function resolveAugment(spec: string, dataset: string, inputShape: readonly number[]): AugmentPlan {
  return spec.trim().toLowerCase() === 'default' ? defaultAugment(dataset, inputShape) : parseAugment(spec);
}

/**
 * The run's augmentation, or null for none: resolveAugment of `spec`, checked
 * to give images of `inputShape` (a crop to another size would not fit the model).
 */
function augmentFor(spec: string, dataset: string, inputShape: readonly [number, number, number]): AugmentPlan | null {
  const plan = resolveAugment(spec, dataset, inputShape);
  if (plan.steps.length === 0) return null;
  const out = plan.transform(zeros([...inputShape]), new Generator(0)).shape;
  if (out.length !== 3 || out.some((d, i) => d !== inputShape[i])) {
    throw new ValueError(`--augment ${plan.spec}: turns ${dataset}'s ${inputShape.join('x')} images into ${out.join('x')}, but the model takes ${inputShape.join('x')}; give a crop the input's size (or none)`);
  }
  return plan;
}

/**
 * The data worker threads of a run and the kernels' threads beside them.
 * Without augmentation there is nothing to make off the training thread (the
 * images are normalized once, and a batch is a gather): 0 workers. With it,
 * --workers, else 1 worker when there are 2 or more cores: one worker makes
 * batches several times faster than a LeNet-5 or ResNet step consumes them
 * (bench/epoch-augment.mjs), so a second would only take a core from the
 * kernels. Unless --threads says otherwise, the kernels take the cores the
 * workers leave (at least 1) for the training and set them back afterwards.
 */
export function dataThreads(augmenting: boolean, workers: number | undefined, threads: number | undefined, cores = availableCores()): { workers: number; kernelThreads: number | undefined } {
  const w = !augmenting ? 0 : workers ?? (cores >= 2 && (threads === undefined || threads < cores) ? 1 : 0);
  const kernelThreads = threads !== undefined || w === 0 ? undefined : Math.max(1, cores - w);
  return { workers: w, kernelThreads };
}

function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** A normalization as --normalize writes it: MEAN/STD. */
function normalizeText(norm: Normalization): string {
  const side = (v: number | readonly number[]) => (typeof v === 'number' ? String(v) : v.join(','));
  return `${side(norm.mean)}/${side(norm.std)}`;
}

/** A registered model name or a layer pattern (a malformed pattern is reported with a caret under the mistake). */
function modelArgument(value: string): string {
  try {
    getModelSpec(value);
  } catch (err) {
    if (err instanceof ValueError) throw new InvalidArgumentError(err.message);
    throw err;
  }
  return value;
}

/**
 * What runTrain takes: the model and the options (absent ones take their
 * defaults). `out: null` or `save: false` skips saving; `progress` shows the
 * bar (default: when the progress stream is a TTY).
 */
export type TrainCommandOptions = { model?: string; /** The --threads the backend was set up with, if given: the data workers then leave it as it is. */ threads?: number } & OptionValues<typeof TRAIN_OPTIONS>;

/** The settings a run used, as recorded in the checkpoint meta and the --json line. */
export type TrainSettings = RecordedValues<typeof TRAIN_OPTIONS>;

export interface TrainSummary extends TrainSettings {
  model: string;
  /** The augmentation of the training batches in normal form (parseAugment's spec), or 'none'. */
  augment: string;
  /** Worker threads that made the augmented batches (0: the training thread did). */
  workers: number;
  /** The kernels' threads during training. */
  threads: number;
  backend: string;
  trainImages: number;
  testImages: number;
  testAccuracy: number;
  testLoss: number;
  /** Mean training loss of each epoch. */
  trainLoss: number[];
  trainImagesPerSec: number;
  trainSeconds: number;
  evalSeconds: number;
  /** Wall time of the whole command: loading, training, evaluation, saving. */
  seconds: number;
  /** The checkpoint file written, or null. */
  checkpoint: string | null;
  /** The checkpoint the run was resumed from, or null. */
  resumedFrom: string | null;
  /** Top-k test accuracy after the last epoch, for k = 1 and --top K. */
  topK?: Record<number, number>;
  history: EpochResult[];
  /** The process's resident set and V8 heap in use at the end of each epoch (after its evaluation), in bytes. */
  memory: MemorySample[];
}

/** Runs a training job and reports to `io`; returns the numbers the --json line holds. */
export async function runTrain(options: TrainCommandOptions, io: CliIO = consoleIO()): Promise<TrainSummary> {
  const start = performance.now();
  const resume = options.resume !== undefined ? await readResume(options) : null;
  const modelName = resume?.model ?? options.model;
  if (modelName === undefined) throw new ValueError('stride train: name the model to train (e.g. stride train lenet5), or continue a run with --resume DIR');
  const spec = getModelSpec(modelName);
  // Every recorded option has a default except lr and momentum, whose defaults depend on the optimizer.
  const given = withDefaults(TRAIN_OPTIONS, { ...options, ...resume?.settings }) as TrainCommandOptions & Omit<TrainSettings, 'lr' | 'momentum'>;
  const optimizerName = given.optimizer;
  if (!OPTIMIZERS.includes(optimizerName)) throw new ValueError(`unknown optimizer '${String(optimizerName)}'; available: ${OPTIMIZERS.join(', ')}`);
  if (options.momentum !== undefined && optimizerName !== 'sgd') throw new ValueError(`--momentum applies to --optimizer sgd only, not ${optimizerName}`);
  const settings = recordedValues(TRAIN_OPTIONS, {
    ...given,
    lr: given.lr ?? spec.defaultLr?.[optimizerName] ?? DEFAULT_LR[optimizerName],
    momentum: optimizerName === 'sgd' ? (given.momentum ?? DEFAULT_MOMENTUM) : null,
  });
  const { dataset, epochs, batchSize, lr, momentum, lrSchedule, seed } = settings;
  // The data first: a dataset whose files are not there fails before a model is built.
  // The normalization: --normalize, else a resumed run's recorded one, else the dataset's (a folder computes it from its training images).
  const recordedNorm = resume?.checkpoint.header.meta.normalize;
  // The data folder: --data-dir, else a resumed run's (recorded as an absolute path).
  const recordedDir = resume !== null && typeof resume.checkpoint.header.meta.dataDir === 'string' ? resume.checkpoint.header.meta.dataDir : undefined;
  const dataDir = options.dataDir !== undefined ? resolve(options.dataDir) : recordedDir;
  const data = await openRecorded(options.dataDir === undefined && recordedDir !== undefined, dataDir, () => openDataset(dataset, {
    dataDir, input: options.input ?? (datasets[dataset]?.resizes ? resume?.inputShape : undefined),
    ...(options.normalize !== undefined ? { normalization: options.normalize } : recordedNorm !== undefined && recordedNorm !== null && typeof recordedNorm === 'object' ? { normalization: recordedNorm as unknown as Normalization } : {}),
  }));
  if (options.normalize !== undefined) checkNormalizationChannels(options.normalize, data.inputShape[0], dataset);
  const resumedNorm = resume !== null && recordedNorm !== undefined ? normalizationFromMeta(resume.checkpoint.header.meta, data, resume.checkpoint.path) : undefined;
  if (resumedNorm !== undefined) {
    const recorded = normalizationJson(resumedNorm);
    if (options.normalize !== undefined && JSON.stringify(normalizationJson(options.normalize)) !== JSON.stringify(recorded)) {
      throw new ValueError(`--resume ${options.resume}: --normalize ${normalizeText(options.normalize)} conflicts with the run's ${normalizeText(recorded)}; a resumed run keeps the settings it started with (drop --normalize, or start a new run with --out elsewhere)`);
    }
  }
  const augmentation = augmentFor(options.augment ?? resume?.augment ?? 'none', dataset, data.inputShape);
  const augment = augmentation === null ? 'none' : augmentation.spec;
  if (resume !== null && options.augment !== undefined && augment !== resume.augment) {
    throw new ValueError(`--resume ${options.resume}: --augment ${augment} conflicts with the run's --augment ${resume.augment}; a resumed run keeps the settings it started with (drop --augment, or start a new run with --out elsewhere)`);
  }
  const resumeDir = resume === null ? null : dirname(resume.checkpoint.path);
  const out = given.save === false ? null : given.out ?? resumeDir ?? `runs/${modelName}-${dataset}/`;

  const generator = new Generator(seed);
  const modelOptions = { numClasses: data.numClasses, inChannels: data.inputShape[0], inputShape: [...data.inputShape] as [number, number, number] };
  const model = buildModelFor(() => spec.create({ ...modelOptions, generator }), modelName, dataset, data.inputShape);
  if (options.init !== undefined) {
    const path = await loadWeightsInto(model, options.init);
    refuseNonFiniteWeights(model, `--init ${path}`);
    io.out(`initialized from ${path}`);
  }
  const byPerceptronRule = spec.trainingRule === 'perceptron' && model instanceof Perceptron;
  if (!byPerceptronRule) checkModelFits(model, modelName, dataset, data.inputShape, data.numClasses);

  if (out !== null) {
    // Fail before an epoch of work, not after: the folder must exist (it is created) and be writable.
    await ensureFolder(out, '--out', given.format === 'safetensors' ? 'model.safetensors' : 'model.stride');
    await access(out, constants.W_OK);
  }

  const norm = options.normalize ?? resumedNorm ?? data.normalization;
  // With augmentation the training images stay in 0..1 (the transforms' fill and padding values assume it) and each batch is normalized after its transform.
  const trainNorm = augmentation === null ? norm : { mean: 0, std: 1 };
  let [train, test] = await Promise.all([data.load('train', given.limit, trainNorm), data.load('test', given.testLimit, norm)]);
  const trainImages = train.images.shape[0];
  const testImages = test.images.shape[0];

  if (byPerceptronRule) {
    if (augmentation !== null) throw new ValueError(`--augment ${augment}: the perceptron trains by Rosenblatt's rule one image at a time, without augmentation; drop --augment`);
    return runPerceptronTrain(model, { options: { ...options, model: modelName }, settings, train, test, out, modelOptions, norm, dataDir, generator, start, classNames: data.classNames }, io);
  }
  if (batchSize > trainImages) {
    // as PyTorch's DataLoader makes one short batch; said, since a batch that large was likely meant for another dataset
    io.err(`warning: --batch-size ${batchSize} is larger than the ${trainImages} training images; each epoch is one batch of ${trainImages}`);
  }
  const optimizer: optim.Optimizer = optimizerName === 'sgd' ? new optim.SGD(model, { lr, momentum: momentum! }) : new optim.Adam(model, { lr });
  // Before any batch is allocated: refuse a run this machine cannot hold, saying which batch would fit.
  checkRunFits('stride train', estimateRunMemory(model, data.inputShape, Math.min(batchSize, trainImages), 'train', optimizerName === 'adam' ? 2 : momentum ? 1 : 0));
  const backend = getBackend().name;
  const batches = Math.ceil(trainImages / batchSize);
  let initialEpoch = 0;
  if (resume !== null) {
    initialEpoch = restore(resume, { model, optimizer, generator, trainImages, batches });
    io.out(`resuming ${resume.checkpoint.path} after epoch ${initialEpoch} of ${epochs}${resume.extended ? ` (extended from ${resume.training.epochs})` : ''}`);
  }

  // With augmentation each batch is made by a BatchPipeline from the images in 0..1: augmented with the generator of
  // (seed, epoch, batch) and then normalized, in worker threads; the example order is the one fit draws from `generator`.
  const { workers, kernelThreads } = dataThreads(augmentation !== null, given.workers, options.threads);
  // The training images move to shared memory, which the workers read in place; the original copy is let go.
  if (augmentation !== null) train = { ...train, images: sharedImages(train.images) };
  const pipeline = augmentation === null ? undefined : new BatchPipeline({ images: train.images, labels: train.labels, batchSize, augment, normalize: { mean: norm.mean, std: norm.std }, seed, workers });
  // Ctrl-C stops the run after the batch in progress; the last completed epoch's checkpoint is what --resume continues from.
  // A new run interrupted in its first epoch saves its starting state (taken here) as that checkpoint.
  const startState = resume === null && out !== null ? {
    state: Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, new Tensor(t.data.slice(), [...t.shape])])),
    optimizer: { name: optimizer.name, ...optimizer.stateDict() },
    generators: { generator: generator.getState(), default: defaultGenerator.getState() },
  } : null;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    io.err('interrupted: stopping after this batch (Ctrl-C again stops at once, without saving)');
  };
  process.once('SIGINT', onSigint);
  const threads = kernelThreads ?? backendInfo().threads;
  const making = augmentation === null ? '' : workers === 0 ? ', batches made in the training thread' : `, batches made by ${workers} worker thread${workers === 1 ? '' : 's'} beside ${threads} kernel thread${threads === 1 ? '' : 's'}`;
  io.out(
    `training ${modelName} on ${dataset}: ${trainImages} training images, ${testImages} test images; ` +
      `${epochs} epoch${epochs === 1 ? '' : 's'}, batch ${batchSize}, ${optimizerName} lr ${lr}${momentum !== null ? ` momentum ${momentum}` : ''} (${lrSchedule} schedule), seed ${seed}${augmentation === null ? '' : `, augment ${augment}`}, backend ${backend}${making}`,
  );
  const topK = options.top === undefined ? undefined : [...new Set([1, options.top])];
  const trainLoss = [...(resume?.trainLoss ?? [])];
  const history: EpochResult[] = [];
  let checkpoint: string | null = null;
  const meta = (result: EpochResult | null) => ({
    ...settings, augment, dataDir: dataDir ?? null, limit: given.limit ?? null, testLimit: given.testLimit ?? null, backend, trainImages, testImages,
    ...(result?.test !== undefined ? { testAccuracy: result.test.accuracy, testLoss: result.test.loss } : {}), trainLoss, normalize: normalizationJson(norm),
  });
  const reporter = createProgressReporter({ stream: io.progressStream, bar: options.progress ?? io.progressStream.isTTY === true, log: io.out });
  // The kernels leave the workers their cores while batches are made, and take them all back for the evaluation.
  const threadCallbacks = kernelThreads === undefined ? reporter.callbacks : {
    ...reporter.callbacks,
    onEpochStart: (info: Parameters<NonNullable<typeof reporter.callbacks.onEpochStart>>[0]) => { setThreads(kernelThreads); reporter.callbacks.onEpochStart?.(info); },
    onEvaluateStart: (info: Parameters<NonNullable<typeof reporter.callbacks.onEvaluateStart>>[0]) => { setThreads(options.threads ?? null); reporter.callbacks.onEvaluateStart?.(info); },
  };
  const callbacks = {
    ...threadCallbacks,
    onBatch: (info: Parameters<NonNullable<typeof reporter.callbacks.onBatch>>[0]) => {
      threadCallbacks.onBatch?.(info);
      if (interrupted) throw new TrainingInterrupted(info.epoch, info.batch, info.batches);
    },
  };
  try {
    const epochsRun = fitEpochsAsync(model, {
      train: { images: train.images, labels: train.labels },
      test: { images: test.images, labels: test.labels },
      epochs, initialEpoch, batchSize, optimizer, generator, lrSchedule, ...(topK !== undefined ? { topK } : {}), ...(pipeline !== undefined ? { batchSource: pipeline } : {}), ...callbacks,
      ...(options.detectAnomaly === true ? { detectAnomaly: true } : {}),
    });
    for await (const result of epochsRun) {
      history.push(result);
      trainLoss.push(result.trainLoss);
      if (out === null) continue;
      // The state at the end of this epoch, from which --resume continues.
      const training: CheckpointTraining = {
        epoch: result.epoch, epochs,
        optimizer: { name: optimizer.name, ...optimizer.stateDict() },
        scheduler: { schedule: lrSchedule, step: result.epoch * batches, totalSteps: epochs * batches },
        generators: { generator: generator.getState(), default: defaultGenerator.getState() },
      };
      checkpoint = await saveCheckpoint(out, model, { model: modelName, modelOptions, meta: meta(result), training, format: given.format });
    }
  } catch (err) {
    if (err instanceof TrainingInterrupted) {
      let saved = checkpoint ?? (resume !== null && resumeDir === out ? resume.checkpoint.path : null);
      const epoch = history.at(-1)?.epoch ?? initialEpoch;
      if (saved === null && startState !== null && out !== null) {
        // no epoch completed: the state the run started from, as a checkpoint of epoch 0
        model.loadStateDict(startState.state);
        const training: CheckpointTraining = {
          epoch: 0, epochs, optimizer: startState.optimizer,
          scheduler: { schedule: lrSchedule, step: 0, totalSteps: epochs * batches }, generators: startState.generators,
        };
        saved = await saveCheckpoint(out, model, { model: modelName, modelOptions, meta: meta(null), training, format: given.format });
      }
      const after = epoch === 0 ? 'the state before the first epoch' : `the state after epoch ${epoch}`;
      err.message = `interrupted at epoch ${err.epoch}, batch ${err.batch}/${err.batches}` +
        (saved === null ? '; nothing was saved (--no-save)' : `; ${after} is in ${saved}: continue with  stride train --resume ${resume !== null && saved === resume.checkpoint.path ? resumeDir : out}`);
      throw err;
    }
    // The training loop's errors (a diverged run, bad data) speak of the training, not of the function that runs it.
    if (err instanceof StrideError && err.message.startsWith('fitEpochsAsync: ')) {
      const Kind = err.constructor as new (message: string) => StrideError;
      throw new Kind(err.message.slice('fitEpochsAsync: '.length));
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
    reporter.stop();
    if (kernelThreads !== undefined) setThreads(options.threads ?? null);
    await pipeline?.close();
  }
  const final = history[history.length - 1].test!;
  io.out(`test accuracy: ${final.accuracy.toFixed(4)}`);
  if (options.top !== undefined && options.top !== 1) {
    const acc = final.topK![options.top];
    io.out(`top-${options.top} test accuracy: ${acc.toFixed(4)} (error ${(1 - acc).toFixed(4)})`);
  }
  if (checkpoint !== null) io.out(`saved weights to ${checkpoint}`);
  const trainSeconds = history.reduce((sum, h) => sum + h.trainSeconds, 0);
  return {
    model: modelName, ...settings, augment, workers, threads, backend, trainImages, testImages, testAccuracy: final.accuracy, testLoss: final.loss,
    trainLoss,
    trainImagesPerSec: history.reduce((sum, h) => sum + h.trainImages, 0) / Math.max(trainSeconds, 1e-9), trainSeconds,
    evalSeconds: history.reduce((sum, h) => sum + (h.test?.seconds ?? 0), 0),
    seconds: (performance.now() - start) / 1000,
    checkpoint, resumedFrom: resume?.checkpoint.path ?? null, history, memory: [...reporter.memory],
    ...(options.top !== undefined ? { topK: final.topK } : {}),
  };
}

/**
 * `stride train perceptron`: Rosenblatt's rule (trainPerceptron) on class 0
 * (desired output 0; MNIST's digit 0) against class 1 (desired output 1), --epochs passes at
 * most (a pass without a mistake ends it), --lr the rule's alpha (default 1).
 * The gradient options (--optimizer, --momentum, --batch-size, --lr-schedule)
 * do not apply and are refused when given.
 */
async function runPerceptronTrain(
  model: Perceptron,
  run: { options: TrainCommandOptions & { model: string }; settings: TrainSettings; train: LoadedSplit; test: LoadedSplit; out: string | null; modelOptions: { numClasses: number; inChannels: number }; norm: Normalization; dataDir: string | undefined; generator: Generator; start: number; classNames: readonly string[] | undefined },
  io: CliIO,
): Promise<TrainSummary> {
  const { options, settings, out, start } = run;
  const gradientOnly = (['optimizer', 'momentum', 'batchSize', 'lrSchedule'] as const).filter((k) => options[k] !== undefined);
  if (gradientOnly.length) {
    throw new ValueError(`the perceptron trains by Rosenblatt's rule, not by gradients: ${gradientOnly.map((k) => TRAIN_OPTIONS[k].flags.split(' ')[0]).join(', ')} ${gradientOnly.length === 1 ? 'does' : 'do'} not apply (--epochs, --lr, --seed do)`);
  }
  const lr = options.lr ?? 1;
  const backend = getBackend().name;
  // Classes 0 and 1: MNIST's digits 0 and 1, or the dataset's first two named classes.
  const [first, second] = settings.dataset === 'mnist' || run.classNames === undefined
    ? ['digit 0', 'digit 1'] : [`class 0 (${run.classNames[0]})`, `class 1 (${run.classNames[1]})`];
  io.out(`training perceptron on ${settings.dataset} by Rosenblatt's rule (w += lr (d - y) x, b += lr (d - y); no gradients): ${first} (output 0) against ${second} (output 1); at most ${settings.epochs} pass${settings.epochs === 1 ? '' : 'es'}, lr ${lr}, seed ${settings.seed}`);
  const result = trainPerceptron(model, { train: run.train, test: run.test }, {
    epochs: settings.epochs, lr, generator: run.generator,
    onEpoch: (e) => io.out(`pass ${e.epoch}: ${Math.round(e.trainLoss * e.trainImages)} mistakes in ${e.trainImages} training images; test accuracy ${e.test!.accuracy.toFixed(4)}`),
  });
  io.out(`${result.converged ? 'converged: the last pass made no mistake' : 'not converged: the last pass still made mistakes'}; ${result.trainImages} training and ${result.testImages} test images of ${first} and ${second}`);
  io.out(`test accuracy: ${result.test.accuracy.toFixed(4)}`);
  // The rule is SGD with batch 1, a constant rate and no momentum on the perceptron criterion (y - d)(w . x + b): recorded as such.
  const recorded: TrainSettings = { ...settings, optimizer: 'sgd', lr, momentum: 0, batchSize: 1, lrSchedule: 'constant' };
  const trainLoss = result.history.map((h) => h.trainLoss);
  const { accuracy: testAccuracy, loss: testLoss } = result.test;
  let checkpoint: string | null = null;
  if (out !== null) {
    checkpoint = await saveCheckpoint(out, model, {
      model: options.model, modelOptions: run.modelOptions,
      meta: { ...recorded, trainingRule: 'perceptron', classes: result.classes, converged: result.converged, backend, trainImages: result.trainImages, testImages: result.testImages, testAccuracy, testLoss, trainLoss, normalize: normalizationJson(run.norm), dataDir: run.dataDir ?? null },
    });
    io.out(`saved weights to ${checkpoint}`);
  }
  return {
    model: options.model, ...recorded, augment: 'none', workers: 0, threads: backendInfo().threads, backend, trainImages: result.trainImages, testImages: result.testImages, testAccuracy, testLoss, trainLoss,
    trainImagesPerSec: result.trainImagesPerSec, trainSeconds: result.trainSeconds, evalSeconds: result.history.reduce((t, h) => t + h.test!.seconds, 0),
    seconds: (performance.now() - start) / 1000, checkpoint, resumedFrom: null, history: result.history, memory: [],
  };
}

/** A run to resume: its checkpoint, and the settings and history recorded in it. */
interface Resume {
  checkpoint: ReadCheckpoint;
  training: CheckpointTraining;
  model: string;
  /** The recorded settings, with --epochs when it extends the run. */
  settings: Partial<TrainCommandOptions>;
  /** --epochs extends the run beyond the epochs it was started with. */
  extended: boolean;
  trainLoss: number[];
  trainImages: number;
  /** The image the model was built for (modelOptions.inputShape), when recorded. */
  inputShape: number[] | undefined;
  /** The run's augmentation (meta.augment; 'none' for runs recorded without one). */
  augment: string;
}

/** The settings a resumed run keeps, as they are recorded in the checkpoint's meta. */
const KEPT_SETTINGS = ['dataset', 'batchSize', 'optimizer', 'lr', 'momentum', 'lrSchedule', 'seed', 'limit'] as const;

/** Reads the checkpoint of --resume and checks the options given against the run's settings. */
async function readResume(options: TrainCommandOptions): Promise<Resume> {
  const location = options.resume!;
  const where = `--resume ${location}`;
  const checkpoint = await readCheckpoint(location);
  const { header, training, path } = checkpoint;
  if (training === undefined) {
    throw new DataError(
      `${where}: checkpoint ${path} holds no training state (optimizer state, epoch, random generators): it was saved by an older Stride ` +
        `(format ${header.format}) or as weights only, so the run cannot continue exactly; start a new run (it can be evaluated with stride eval)`,
    );
  }
  const meta = header.meta as Record<string, JsonValue | undefined>;
  const recorded: Record<string, unknown> = {};
  for (const key of KEPT_SETTINGS) {
    const value = meta[key];
    const ok = key === 'momentum' || key === 'limit' ? value === null || typeof value === 'number' : key === 'dataset' || key === 'optimizer' || key === 'lrSchedule' ? typeof value === 'string' : typeof value === 'number';
    if (!ok) throw new DataError(`${where}: checkpoint ${path} does not record the run's ${key} (meta.${key} is ${JSON.stringify(value) ?? 'missing'}); it was not written by stride train`);
    recorded[key] = value;
  }
  if (options.model !== undefined && options.model !== header.model) {
    throw new ValueError(`${where}: the run trains model '${header.model}', not '${options.model}'; a resumed run keeps its model (omit the model name, or start a new run with --out elsewhere)`);
  }
  for (const key of KEPT_SETTINGS) {
    const value = options[key];
    if (value !== undefined && value !== recorded[key]) {
      const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new ValueError(
        `${where}: ${flag} ${String(value)} conflicts with the run's ${flag} ${String(recorded[key] ?? 'absent')}; a resumed run keeps the settings it started with (drop ${flag}, or start a new run with --out elsewhere)`,
      );
    }
  }
  const done = training.epoch;
  const epochs = options.epochs ?? training.epochs;
  if (epochs <= done) {
    throw new ValueError(
      options.epochs === undefined
        ? `${where}: the run has finished (${done} of ${training.epochs} epochs trained); nothing is left to train. Pass --epochs N with N > ${done} to train it longer`
        : `${where}: --epochs ${epochs} is not more than the ${done} epochs the run has trained; pass --epochs N with N > ${done} to train it longer`,
    );
  }
  const trainLoss = Array.isArray(meta.trainLoss) && meta.trainLoss.every((x) => typeof x === 'number') ? (meta.trainLoss as number[]) : [];
  if (trainLoss.length !== done || typeof meta.trainImages !== 'number') {
    throw new DataError(`${where}: checkpoint ${path} records ${trainLoss.length} epoch losses and ${JSON.stringify(meta.trainImages)} training images for ${done} epochs trained; it was not written by stride train`);
  }
  const settings: Partial<TrainCommandOptions> = { ...recorded, epochs, limit: (recorded.limit as number | null) ?? undefined, momentum: (recorded.momentum as number | null) ?? undefined };
  if (options.testLimit === undefined && typeof meta.testLimit === 'number') settings.testLimit = meta.testLimit;
  const shape = header.modelOptions.inputShape;
  const inputShape = Array.isArray(shape) && shape.length === 3 && shape.every((v) => Number.isSafeInteger(v)) ? (shape as number[]) : undefined;
  if (meta.augment !== undefined && typeof meta.augment !== 'string') throw new DataError(`${where}: checkpoint ${path}: meta.augment must be an augmentation spec or 'none', got ${JSON.stringify(meta.augment)}`);
  const augment = meta.augment ?? 'none';
  return { checkpoint, training, model: header.model, settings, extended: epochs !== training.epochs, trainLoss, trainImages: meta.trainImages, inputShape, augment };
}

/** Puts the model, the optimizer and the generators back in their state at the end of the checkpoint's epoch; returns that epoch. */
function restore(
  resume: Resume, run: { model: ReturnType<typeof createModel>; optimizer: optim.Optimizer; generator: Generator; trainImages: number; batches: number },
): number {
  const { checkpoint, training } = resume;
  const where = `checkpoint ${checkpoint.path}`;
  if (run.trainImages !== resume.trainImages) {
    throw new DataError(`${where}: the run trained on ${resume.trainImages} images per epoch, but the training set now has ${run.trainImages}; it cannot continue exactly`);
  }
  if (training.optimizer.name !== run.optimizer.name) {
    throw new DataError(`${where}: the optimizer state is ${training.optimizer.name}'s, but the run's settings build ${run.optimizer.name}`);
  }
  // An augmented run's batches depend only on (seed, epoch, batch): no generator of theirs to restore.
  const { generator, default: global } = training.generators;
  if (generator === undefined || global === undefined) throw new DataError(`${where}: training.generators must hold 'generator' and 'default'`);
  try {
    run.model.loadStateDict(checkpoint.state);
    run.optimizer.loadStateDict(training.optimizer);
    run.generator.setState(generator);
    defaultGenerator.setState(global);
  } catch (err) {
    if (err instanceof StrideError) throw new DataError(`${where}: ${err.message}`);
    throw err;
  }
  return training.epoch;
}

/** Ctrl-C during training: the run stopped after batch `batch` of epoch `epoch` (its message says what was saved and how to continue). */
export class TrainingInterrupted extends Error {
  constructor(readonly epoch: number, readonly batch: number, readonly batches: number) {
    super(`interrupted at epoch ${epoch}, batch ${batch}/${batches}`);
  }
}

/** The --json line: one object, numbers rounded for reading. */
export function trainJson(s: TrainSummary): string {
  const r = (x: number, d: number) => Number(x.toFixed(d));
  return JSON.stringify({
    model: s.model, ...recordedValues(TRAIN_OPTIONS, s), augment: s.augment, workers: s.workers, threads: s.threads, backend: s.backend, trainImages: s.trainImages, testImages: s.testImages,
    testAccuracy: s.testAccuracy, testLoss: r(s.testLoss, 6), trainLoss: s.trainLoss.map((x) => r(x, 6)),
    trainImagesPerSec: r(s.trainImagesPerSec, 1), trainSeconds: r(s.trainSeconds, 2), evalSeconds: r(s.evalSeconds, 2), seconds: r(s.seconds, 2),
    checkpoint: s.checkpoint, resumedFrom: s.resumedFrom,
    ...(s.topK !== undefined ? { topK: s.topK } : {}),
    rssMiB: s.memory.map((m) => r(m.rss / 2 ** 20, 1)), heapUsedMiB: s.memory.map((m) => r(m.heapUsed / 2 ** 20, 1)),
  });
}
