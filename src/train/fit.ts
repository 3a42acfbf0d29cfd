/**
 * The training loop and evaluation (isomorphic: no Node imports).
 *
 * ```ts
 * const result = fit(model, {
 *   train: { images, labels }, test: { images: testImages, labels: testLabels },
 *   epochs: 1, batchSize: 64, optimizer: new SGD(model, { lr: 0.05, momentum: 0.9 }),
 *   generator: new Generator(0),
 *   onEpoch: (e) => console.log(e.epoch, e.trainLoss, e.test?.accuracy),
 * });
 * ```
 *
 * One step is PyTorch's: zeroGrad, forward, loss, backward, step. The graph of
 * a step is reachable only from that step's loss, so it is garbage once the
 * step ends and memory stays flat over an epoch. Throughput (images/s) counts
 * training steps only (batching, forward, backward, update), not evaluation.
 */
import { backward } from '../autograd/backward.js';
import { noGrad } from '../autograd/tape.js';
import { DataLoader, type Batch, type TensorDataset } from '../data/loader.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { Optimizer } from '../optim/optimizer.js';
import { Generator, defaultGenerator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';
import { RunningMean, addToConfusion, countCorrect, labelRanks, perClassAccuracy, perClassPrecision } from './metrics.js';
import { lrMultiplier, type LrSchedule } from './schedule.js';

/** Maps a batch's model output and labels to a scalar loss, mean-reduced over the batch (as crossEntropy's default). */
export type LossFn = (output: Tensor, labels: Tensor) => Tensor;

export interface EpochStartInfo {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** Batches in this epoch. */
  batches: number;
  /** Training examples in this epoch. */
  images: number;
}

export interface BatchInfo {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** 1-based index of the batch just finished. */
  batch: number;
  batches: number;
  /** This batch's loss. */
  loss: number;
  /** The learning rate this batch's step used. */
  lr: number;
  /** Mean loss over the epoch so far (weighted by batch size). */
  meanLoss: number;
  /** Examples trained on so far this epoch, and in the whole epoch. */
  seen: number;
  images: number;
  /** Training throughput so far this epoch. */
  imagesPerSec: number;
  /** Seconds since the epoch began. */
  seconds: number;
}

export interface EvaluateResult {
  /** Top-1 accuracy in [0, 1]. */
  accuracy: number;
  /** Mean loss per example. */
  loss: number;
  correct: number;
  total: number;
  seconds: number;
  /** Top-k accuracy for each k of the `topK` option (`topK[5]`), when it was given; the top-k error is 1 minus it. */
  topK?: Record<number, number>;
  /** With the `confusion` option: rows the true class, columns the predicted one (confusionMatrix). */
  confusionMatrix?: number[][];
  /** With the `confusion` option: the accuracy (recall) of each true class; NaN for a class absent from the data. */
  perClassAccuracy?: number[];
  /** With the `confusion` option: the precision of each predicted class; NaN for a class never predicted. */
  perClassPrecision?: number[];
}

/** What evaluate measures beyond top-1 accuracy and the loss. */
export interface EvaluateOptions {
  /** Default crossEntropy. */
  lossFn?: LossFn;
  /** Top-k accuracies to measure, e.g. [1, 5] (EvaluateResult.topK). */
  topK?: readonly number[];
  /** Accumulate the confusion matrix, per-class accuracy and precision. */
  confusion?: boolean;
}

export interface EpochResult {
  epoch: number;
  epochs: number;
  /** Mean training loss over the epoch (weights changed during it, as every framework reports it). */
  trainLoss: number;
  trainAccuracy: number;
  trainImages: number;
  /** Seconds spent training (evaluation excluded). */
  trainSeconds: number;
  trainImagesPerSec: number;
  /** Evaluation on `test` after the epoch, when a test set was given. */
  test?: EvaluateResult;
}

export interface FitOptions {
  train: TensorDataset;
  /** Evaluated after every epoch when given. */
  test?: TensorDataset;
  /** The run's length in epochs, those already trained (initialEpoch) included. */
  epochs: number;
  /**
   * Epochs already trained, when resuming (default 0, as Keras' initial_epoch):
   * training runs epochs initialEpoch + 1 to `epochs`, and the lr schedule
   * continues at step initialEpoch * batches of the same run length. With the
   * model, the optimizer (loadStateDict) and the generator (setState) restored
   * from the end of epoch initialEpoch, the continuation is exactly the
   * uninterrupted run's.
   */
  initialEpoch?: number;
  batchSize: number;
  optimizer: Optimizer;
  /** Default crossEntropy. */
  lossFn?: LossFn;
  /**
   * How the learning rate changes over the run, as a multiple of each
   * parameter group's lr, set before every step (default 'constant'). The
   * groups' lrs are put back to their starting values at the end of every epoch and when fit returns.
   * With 'constant', fit leaves the lrs alone, so a scheduler from optim
   * (StepLR, OneCycleLR...) can drive them: call its step() in onEpoch or onBatch.
   */
  lrSchedule?: LrSchedule;
  /** Shuffles the training set every epoch (default true). */
  shuffle?: boolean;
  /** Source of the shuffles (default: the global generator). */
  generator?: Generator;
  /** Batch size for evaluation (default 1000; no gradients are kept, so it can be large). */
  evalBatchSize?: number;
  /** Top-k accuracies to measure on `test` after every epoch (EvaluateResult.topK). */
  topK?: readonly number[];
  /**
   * Turns each training batch's images [N, C, H, W] into the ones the model
   * trains on (augmentation, then normalization), called once per batch in
   * order before the forward pass; the labels are unchanged. The test set is
   * not passed through it. Seeded transforms (transforms.transformBatch with
   * their own Generator) keep the run reproducible.
   */
  batchTransform?: (images: Tensor, info: { epoch: number; batch: number }) => Tensor;
  onEpochStart?: (info: EpochStartInfo) => void;
  onBatch?: (info: BatchInfo) => void;
  /** Called after training on an epoch, before the test set is evaluated. */
  onEvaluateStart?: (info: { epoch: number; images: number }) => void;
  onEpoch?: (result: EpochResult) => void;
}

export interface FitResult {
  history: EpochResult[];
  /** Training seconds over all epochs (evaluation excluded). */
  trainSeconds: number;
  /** Training images per second over all epochs. */
  trainImagesPerSec: number;
  /** The last epoch's evaluation, when a test set was given. */
  test?: EvaluateResult;
}

const FIT_KEYS = [
  'train', 'test', 'epochs', 'initialEpoch', 'batchSize', 'optimizer', 'lossFn', 'lrSchedule', 'shuffle', 'generator', 'evalBatchSize', 'topK',
  'batchTransform', 'onEpochStart', 'onBatch', 'onEvaluateStart', 'onEpoch',
];

const defaultLoss: LossFn = (output, labels) => crossEntropy(output, labels);

/**
 * Trains `model` for `epochs` passes over `train` and returns per-epoch
 * results. The model is in training mode while it trains; the mode it had
 * before is restored at the end.
 */
export function fit(model: Module, options: FitOptions): FitResult {
  const history = [...fitEpochs(model, options)];
  const trainSeconds = history.reduce((s, h) => s + h.trainSeconds, 0);
  const trainImages = history.reduce((s, h) => s + h.trainImages, 0);
  return {
    history,
    trainSeconds,
    trainImagesPerSec: trainImages / Math.max(trainSeconds, 1e-9),
    test: history[history.length - 1].test,
  };
}

/**
 * `fit` one epoch at a time: an iterator that trains an epoch (and evaluates
 * `test`) at each `next()` and yields its result, so the caller can do
 * asynchronous work between epochs, such as saving a checkpoint:
 *
 * ```ts
 * for (const epoch of fitEpochs(model, options)) await saveCheckpoint(dir, model, { ... });
 * ```
 *
 * The options are checked when fitEpochs is called. Between epochs the
 * model is in the mode it had before, and with a named lrSchedule every
 * group's lr is its base lr (the schedule sets it again before each step), so
 * the optimizer's stateDict() taken there resumes the run exactly. Leaving the
 * loop early (break, an exception) restores the same way.
 */
export function fitEpochs(model: Module, options: FitOptions): IterableIterator<EpochResult> {
  const run = prepareRun('fit', model, options, null);
  return (function* epochs(): IterableIterator<EpochResult> {
    try {
      for (let epoch = run.initialEpoch + 1; epoch <= run.epochs; epoch++) {
        const state = run.begin(epoch);
        for (const batch of run.loader) run.step(state, batch);
        yield run.end(state);
      }
    } finally {
      run.finish();
    }
  })();
}

/**
 * Where fitEpochsAsync takes each epoch's training batches from, in place of
 * a DataLoader over `train`: a BatchPipeline (stride/node), which makes them
 * in worker threads, or anything with the same two members.
 */
export interface BatchSource {
  /** Batches per epoch; it must equal ceil(N / batchSize) for fit's `train` and `batchSize`. */
  readonly length: number;
  /**
   * The batches of epoch `epoch` (1-based), in order: batch `index` holds the
   * examples `order[index * batchSize ...]` of `train`, where `order` is the
   * epoch's example order drawn by fit (as its DataLoader would draw it).
   */
  epoch(epoch: number, order: Uint32Array): AsyncIterable<Batch> | Iterable<Batch>;
}

export interface FitAsyncOptions extends FitOptions {
  /** The training batches' maker (default: a DataLoader over `train`, as fitEpochs). */
  batchSource?: BatchSource;
}

/**
 * fitEpochs for batches that arrive asynchronously: the same training, the
 * same checks and the same results, with each epoch's batches taken from
 * `batchSource` (awaited one at a time) when it is given. The example order
 * is drawn from `generator` exactly as fitEpochs' DataLoader draws it, so a
 * batch source that makes batch `index` from the rows it is given trains on
 * the same examples in the same order as fitEpochs does.
 *
 * ```ts
 * const pipeline = new BatchPipeline({ images, labels, batchSize: 64, augment: 'crop:4,flip', normalize, seed: 1 });
 * for await (const epoch of fitEpochsAsync(model, { train, epochs: 10, batchSize: 64, optimizer, batchSource: pipeline })) console.log(epoch.trainLoss);
 * await pipeline.close();
 * ```
 */
export function fitEpochsAsync(model: Module, options: FitAsyncOptions): AsyncIterableIterator<EpochResult> {
  const source = options?.batchSource;
  const { batchSource: _, ...rest } = options ?? ({} as FitAsyncOptions);
  const run = prepareRun('fitEpochsAsync', model, options === null || typeof options !== 'object' ? options : rest, source === undefined ? null : source);
  return (async function* epochs(): AsyncIterableIterator<EpochResult> {
    try {
      for (let epoch = run.initialEpoch + 1; epoch <= run.epochs; epoch++) {
        const state = run.begin(epoch);
        const batches = source === undefined ? run.loader : source.epoch(epoch, run.order());
        let count = 0;
        for await (const batch of batches) {
          run.step(state, batch);
          count++;
        }
        if (count !== run.loader.length) {
          throw new ValueError(`fitEpochsAsync: batchSource gave ${count} batches in epoch ${epoch}, but ${run.loader.numSamples} examples in batches of ${run.loader.batchSize} make ${run.loader.length}`);
        }
        yield run.end(state);
      }
    } finally {
      run.finish();
    }
  })();
}

/** One epoch's running totals. */
interface EpochState {
  epoch: number;
  meanLoss: RunningMean;
  correct: number;
  start: number;
}

/** The checked options of a run and its steps, shared by fitEpochs and fitEpochsAsync. */
interface PreparedRun {
  initialEpoch: number;
  epochs: number;
  loader: DataLoader;
  /** The next epoch's example order, drawn as the loader draws it. */
  order(): Uint32Array;
  begin(epoch: number): EpochState;
  step(state: EpochState, batch: Batch): void;
  end(state: EpochState): EpochResult;
  /** Puts back the model's mode and the base learning rates. */
  finish(): void;
}

function prepareRun(where: string, model: Module, options: FitOptions, source: BatchSource | null): PreparedRun {
  checkModel(where, model);
  if (options === null || typeof options !== 'object') throw new ValueError(`${where}: options must be an object { train, epochs, batchSize, optimizer, ... }`);
  checkOptions(where, options, where === 'fitEpochsAsync' ? [...FIT_KEYS, 'batchSource'] : FIT_KEYS);
  const { train, test, epochs, batchSize, optimizer } = options;
  checkDataset(where, 'train', train);
  if (train.images.shape[0] === 0) throw new ValueError(`${where}: the training set is empty`);
  if (test !== undefined) checkDataset(where, 'test', test);
  if (!Number.isInteger(epochs) || epochs < 1) throw new ValueError(`${where}: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`${where}: batchSize must be a positive integer, got ${batchSize}`);
  if (!(optimizer instanceof Optimizer)) throw new ValueError(`${where}: optimizer must be an Optimizer, e.g. new SGD(model, { lr: 0.05, momentum: 0.9 })`);
  const lossFn = options.lossFn ?? defaultLoss;
  if (typeof lossFn !== 'function') throw new ValueError(`${where}: lossFn must be a function (output, labels) => scalar loss`);
  const initialEpoch = options.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs) {
    throw new ValueError(`${where}: initialEpoch (epochs already trained) must be an integer in [0, epochs - 1] = [0, ${epochs - 1}], got ${initialEpoch}; to train longer, raise epochs`);
  }
  const { batchTransform } = options;
  if (batchTransform !== undefined && typeof batchTransform !== 'function') throw new ValueError(`${where}: batchTransform must be a function (images, { epoch, batch }) => images`);
  const evalBatchSize = options.evalBatchSize ?? 1000;
  if (!Number.isInteger(evalBatchSize) || evalBatchSize < 1) throw new ValueError(`${where}: evalBatchSize must be a positive integer, got ${evalBatchSize}`);
  if (options.topK !== undefined) checkTopK(where, options.topK);
  const generator = options.generator ?? defaultGenerator;
  const shuffle = options.shuffle ?? true;
  const multiplier = lrMultiplier(options.lrSchedule ?? 'constant');
  const scheduled = (options.lrSchedule ?? 'constant') !== 'constant';

  const loader = new DataLoader(train, { batchSize, shuffle, generator });
  if (source !== null) {
    if (typeof source !== 'object' || typeof source.epoch !== 'function' || !Number.isInteger(source.length)) {
      throw new ValueError(`${where}: batchSource must have length (batches per epoch) and epoch(epoch, order), as a BatchPipeline has`);
    }
    if (source.length !== loader.length) {
      throw new ValueError(`${where}: batchSource makes ${source.length} batches per epoch, but ${loader.numSamples} training examples in batches of ${batchSize} make ${loader.length}; give it the same examples and batch size`);
    }
  }
  const totalSteps = loader.length * epochs;
  const baseLrs = optimizer.paramGroups.map((g) => g.lr);
  const evaluateOptions: EvaluateOptions = options.topK === undefined ? { lossFn } : { lossFn, topK: options.topK };
  const wasTraining = model.training;
  let step = initialEpoch * loader.length;

  return {
    initialEpoch, epochs, loader,
    order: () => loader.order(),
    begin(epoch) {
      options.onEpochStart?.({ epoch, epochs, batches: loader.length, images: loader.numSamples });
      model.train();
      return { epoch, meanLoss: new RunningMean(), correct: 0, start: now() };
    },
    step(state, { x: batch, y, index }) {
      const { epoch, meanLoss } = state;
      const batches = loader.length;
      const x = batchTransform === undefined ? batch : batchTransform(batch, { epoch, batch: index + 1 });
      if (!(x instanceof Tensor) || x.ndim < 1 || x.shape[0] !== batch.shape[0]) {
        throw new ShapeError(`${where}: batchTransform must return a tensor of the batch's ${batch.shape[0]} images, got ${x instanceof Tensor ? fmtShape(x.shape) : typeof x}`);
      }
      optimizer.zeroGrad();
      const output = model.forward(x);
      const loss = lossFn(output, y);
      if (!(loss instanceof Tensor) || loss.size !== 1) {
        throw new ShapeError(`${where}: lossFn must return a one-element tensor, got ${loss instanceof Tensor ? fmtShape(loss.shape) : typeof loss}`);
      }
      const value = loss.item();
      if (!Number.isFinite(value)) {
        throw new ValueError(
          `${where}: the loss became ${value} at epoch ${epoch}, batch ${index + 1}/${batches}; training diverged. Lower the learning rate (now ${optimizer.lr}) or check the inputs for NaN`,
        );
      }
      backward(loss);
      if (scheduled) {
        const factor = multiplier(step, totalSteps);
        if (!(typeof factor === 'number' && factor >= 0 && Number.isFinite(factor))) {
          throw new ValueError(`${where}: lrSchedule returned ${factor} at step ${step} of ${totalSteps}; expected a finite multiplier >= 0`);
        }
        optimizer.paramGroups.forEach((g, i) => (g.lr = baseLrs[i] * factor));
      }
      optimizer.step();
      step++;
      meanLoss.add(value, x.shape[0]);
      if (output.ndim === 2 && y.ndim === 1) state.correct += countCorrect(output, y);
      if (options.onBatch) {
        const seconds = (now() - state.start) / 1000;
        options.onBatch({
          epoch, epochs, batch: index + 1, batches, loss: value, lr: optimizer.lr, meanLoss: meanLoss.mean,
          seen: meanLoss.count, images: loader.numSamples, imagesPerSec: meanLoss.count / Math.max(seconds, 1e-9), seconds,
        });
      }
    },
    end({ epoch, meanLoss, correct, start }) {
      const seconds = (now() - start) / 1000;
      const images = loader.numSamples;
      if (scheduled) optimizer.paramGroups.forEach((g, i) => (g.lr = baseLrs[i]));
      model.train(wasTraining);
      const result: EpochResult = {
        epoch, epochs, trainLoss: meanLoss.mean, trainAccuracy: images > 0 ? correct / images : NaN,
        trainImages: images, trainSeconds: seconds, trainImagesPerSec: images / Math.max(seconds, 1e-9),
      };
      if (test !== undefined) {
        options.onEvaluateStart?.({ epoch, images: test.images.shape[0] });
        result.test = evaluate(model, test, evalBatchSize, evaluateOptions);
      }
      options.onEpoch?.(result);
      return result;
    },
    finish() {
      model.train(wasTraining);
      if (scheduled) optimizer.paramGroups.forEach((g, i) => (g.lr = baseLrs[i]));
    },
  };
}

/**
 * Accuracy and mean loss of `model` on `data`, in eval mode (dropout off) and
 * without recording gradients; the model's previous mode is restored after.
 * The examples are taken in order, `batchSize` at a time. With `topK` and
 * `confusion`, the top-k accuracies and the confusion matrix are accumulated
 * from each batch's logits in the same pass (no extra forward).
 */
export function evaluate(model: Module, data: TensorDataset, batchSize = 1000, options: EvaluateOptions = {}): EvaluateResult {
  checkModel('evaluate', model);
  checkDataset('evaluate', 'data', data);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`evaluate: batchSize must be a positive integer, got ${batchSize}`);
  const total = data.images.shape[0];
  if (total === 0) throw new ValueError('evaluate: the dataset is empty; accuracy needs at least one example');
  if (options === null || typeof options !== 'object') throw new ValueError('evaluate: options must be an object { lossFn?, topK?, confusion? }');
  checkOptions('evaluate', options, ['lossFn', 'topK', 'confusion']);
  const lossFn = options.lossFn ?? defaultLoss;
  const ks = options.topK === undefined ? [] : checkTopK('evaluate', options.topK);
  const confusion = options.confusion ?? false;
  if (typeof confusion !== 'boolean') throw new ValueError(`evaluate: confusion must be true or false, got ${String(confusion)}`);
  const wasTraining = model.training;
  const start = now();
  model.eval();
  try {
    return noGrad(() => {
      const loader = new DataLoader(data, { batchSize, shuffle: false });
      let correct = 0;
      const meanLoss = new RunningMean();
      const topKCorrect = ks.map(() => 0);
      let matrix: number[][] | null = null;
      for (const { x, y } of loader) {
        const output = model.forward(x);
        meanLoss.add(lossFn(output, y).item(), x.shape[0]);
        correct += countCorrect(output, y);
        if (ks.length > 0) {
          const ranks = labelRanks(output, y);
          for (let i = 0; i < ranks.length; i++) ks.forEach((k, j) => (topKCorrect[j] += ranks[i] < k ? 1 : 0));
        }
        if (confusion) {
          if (output.ndim !== 2) throw new ShapeError(`evaluate: the confusion matrix needs logits [N, classes], got ${fmtShape(output.shape)}`);
          matrix ??= Array.from({ length: output.shape[1] }, () => new Array<number>(output.shape[1]).fill(0));
          addToConfusion(matrix, output, y);
        }
      }
      const result: EvaluateResult = { accuracy: correct / total, loss: meanLoss.mean, correct, total, seconds: 0 };
      if (ks.length > 0) result.topK = Object.fromEntries(ks.map((k, j) => [k, topKCorrect[j] / total]));
      if (matrix !== null) {
        result.confusionMatrix = matrix;
        result.perClassAccuracy = perClassAccuracy(matrix);
        result.perClassPrecision = perClassPrecision(matrix);
      }
      result.seconds = (now() - start) / 1000;
      return result;
    });
  } finally {
    model.train(wasTraining);
  }
}

/** The k of a topK option: integers >= 1, without repeats. */
function checkTopK(where: string, topK: readonly number[]): number[] {
  if (!Array.isArray(topK) || topK.length === 0 || !topK.every((k) => Number.isInteger(k) && k >= 1)) {
    throw new ValueError(`${where}: topK must be a non-empty array of integers >= 1, e.g. [1, 5], got ${JSON.stringify(topK)}`);
  }
  return [...new Set(topK)];
}

function checkModel(where: string, model: Module): void {
  if (model === null || typeof model !== 'object' || typeof model.forward !== 'function' || typeof model.train !== 'function') {
    throw new ValueError(`${where}: model must be a Module`);
  }
}

function checkDataset(where: string, name: string, data: TensorDataset): void {
  if (data === null || typeof data !== 'object' || !(data.images instanceof Tensor) || !(data.labels instanceof Tensor)) {
    throw new ValueError(`${where}: ${name} must be { images: Tensor, labels: Tensor }`);
  }
  if (data.images.ndim < 1 || data.labels.ndim < 1 || data.images.shape[0] !== data.labels.shape[0]) {
    throw new ShapeError(`${where}: ${name} images ${fmtShape(data.images.shape)} and labels ${fmtShape(data.labels.shape)} must hold the same number of examples (first dimension)`);
  }
}

function now(): number {
  return performance.now();
}
