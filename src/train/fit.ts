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
 *
 * Bad numbers stop training loudly, at the step where they appear, naming
 * the epoch, the batch and the layer: a loss that is NaN or infinite, a
 * gradient that holds one (checked after backward, before the step can
 * spread it into the weights), and a parameter that holds one after the
 * optimizer's step (a NaN weight feeding a ReLU gives 0 and no gradient, so
 * neither the loss nor the gradients would ever show it). Each check is one
 * pass over every parameter's values in place (hasNonFinite); on LeNet-5
 * with MNIST batches of 64 they took 0.039 ms and 0.032 ms, 1.8% of a
 * 3.97 ms step on the native backend (medians of 300 steps,
 * bench/finite-checks.mjs; README, "When the numbers go bad"). When one
 * fires on the loss or a gradient, the batch's forward and backward passes
 * are run once more in anomaly mode to name the op that made the first bad
 * value. Data holding NaN or infinities is refused before training starts
 * (nonFinite).
 */
import { anomalyReport, detectAnomaly as withAnomaly } from '../autograd/anomaly.js';
import { backward } from '../autograd/backward.js';
import { noGrad } from '../autograd/tape.js';
import { DataLoader, type Batch, type TensorDataset } from '../data/loader.js';
import { checkFiniteLabels, checkNonFinitePolicy, finiteData, withCheckedData, type NonFinitePolicy } from '../data/non-finite.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { Optimizer } from '../optim/optimizer.js';
import { hasNonFinite, nonFiniteSummary } from '../tensor/finite.js';
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
  /** Images holding NaN or an infinity: 'error' (default) refuses them (a DataError naming the example and index); 'zero' replaces those values with 0. */
  nonFinite?: NonFinitePolicy;
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
  /**
   * Runs every step's forward and backward passes in anomaly mode
   * (detectAnomaly, default false): the first op whose output or gradient
   * holds NaN or an infinity stops training, named with its input shapes and
   * its layer. It scans the output of every op: a LeNet-5 step took about
   * 1.2 times as long (bench/finite-checks.mjs).
   */
  detectAnomaly?: boolean;
  /**
   * Training and test images holding NaN or an infinity, and batches made by
   * batchTransform or a batchSource that hold one: 'error' (default)
   * refuses them with a DataError naming the example and index; 'zero'
   * replaces those values with 0. Labels must be finite either way.
   */
  nonFinite?: NonFinitePolicy;
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
  'batchTransform', 'onEpochStart', 'onBatch', 'onEvaluateStart', 'onEpoch', 'detectAnomaly', 'nonFinite',
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

/** The longest fitEpochsAsync trains without giving the event loop a turn. */
const EVENT_LOOP_TURN_MS = 50;

/** A promise resolved from the macrotask queue, after pending I/O and signal callbacks have run (setImmediate, else setTimeout 0). */
const macrotask = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * fitEpochs for batches that arrive asynchronously: the same training, the
 * same checks and the same results, with each epoch's batches taken from
 * `batchSource` (awaited one at a time) when it is given. The example order
 * is drawn from `generator` exactly as fitEpochs' DataLoader draws it, so a
 * batch source that makes batch `index` from the rows it is given trains on
 * the same examples in the same order as fitEpochs does. It gives the event
 * loop a turn at least every 50 ms of training (a macrotask: setImmediate
 * where there is one), so signal handlers (Ctrl-C), timers and I/O are served
 * during an epoch, not only between epochs.
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
        let turn = now();
        for await (const batch of batches) {
          run.step(state, batch);
          count++;
          if (now() - turn >= EVENT_LOOP_TURN_MS) {
            await macrotask();
            turn = now();
          }
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
  const anomaly = options.detectAnomaly ?? false;
  if (typeof anomaly !== 'boolean') throw new ValueError(`${where}: detectAnomaly must be true or false, got ${String(anomaly)}`);
  const nonFinite = checkNonFinitePolicy(where, options.nonFinite);
  checkFiniteWeights(model, `${where}: before training`);
  // The data is checked once here (a DataError naming the example), or cleaned with nonFinite 'zero'.
  checkFiniteLabels(`${where}: the train labels`, train.labels);
  const trainData: TensorDataset = { images: finiteData(`${where}: the train images`, train.images, nonFinite), labels: train.labels };
  let testData: TensorDataset | undefined;
  if (test !== undefined) {
    checkFiniteLabels(`${where}: the test labels`, test.labels);
    testData = { images: finiteData(`${where}: the test images`, test.images, nonFinite), labels: test.labels };
  }
  // Batches made after the check (by batchTransform or a batch source) are checked as they come.
  const checkBatches = batchTransform !== undefined || source !== null;
  const parameters = [...model.namedParameters()];

  const loader = withCheckedData([trainData.images.data, trainData.labels.data], () => new DataLoader(trainData, { batchSize, shuffle, generator }));
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

  /** The forward pass, the loss and (unless it is not finite) the backward pass of one batch. */
  const forwardBackward = (x: Tensor, y: Tensor): { output: Tensor; value: number } => {
    const output = model.forward(x);
    const loss = lossFn(output, y);
    if (!(loss instanceof Tensor) || loss.size !== 1) {
      throw new ShapeError(`${where}: lossFn must return a one-element tensor, got ${loss instanceof Tensor ? fmtShape(loss.shape) : typeof loss}`);
    }
    const value = loss.item();
    if (Number.isFinite(value)) backward(loss);
    return { output, value };
  };

  /**
   * What anomaly mode finds when the batch's passes run again: the op that
   * made the first non-finite value, or null. The parameters' gradients, the
   * buffers (batch-norm statistics) and the global generator are put back as
   * they were, so running it again leaves no trace.
   */
  const traceAnomaly = (x: Tensor, y: Tensor): string | null => {
    const grads = parameters.map(([, p]) => p.grad);
    const buffers = [...model.namedBuffers()].map(([, b]) => [b, b.data.slice()] as const);
    const generatorState = defaultGenerator.getState();
    for (const [, p] of parameters) p.grad = null;
    try {
      withAnomaly(() => forwardBackward(x, y), { parameters });
      return null;
    } catch (err) {
      return anomalyReport(err);
    } finally {
      parameters.forEach(([, p], i) => (p.grad = grads[i]));
      for (const [b, data] of buffers) b.data.set(data);
      defaultGenerator.setState(generatorState);
    }
  };

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
      let x = batchTransform === undefined ? batch : batchTransform(batch, { epoch, batch: index + 1 });
      if (!(x instanceof Tensor) || x.ndim < 1 || x.shape[0] !== batch.shape[0]) {
        throw new ShapeError(`${where}: batchTransform must return a tensor of the batch's ${batch.shape[0]} images, got ${x instanceof Tensor ? fmtShape(x.shape) : typeof x}`);
      }
      const at = `epoch ${epoch}, batch ${index + 1}/${batches}`;
      if (checkBatches) {
        const maker = batchTransform !== undefined ? 'batchTransform' : 'the batch source';
        x = finiteData(`${where}: at ${at}, the images ${maker} made`, x, nonFinite);
      }
      optimizer.zeroGrad();
      let passes: { output: Tensor; value: number };
      try {
        passes = anomaly ? withAnomaly(() => forwardBackward(x, y), { parameters }) : forwardBackward(x, y);
      } catch (err) {
        const report = anomalyReport(err);
        if (report === null) throw err;
        throw new ValueError(`${where}: anomaly mode stopped training at ${at}: ${report}. ${divergenceHint(optimizer, x)}`);
      }
      const { output, value } = passes;
      if (!Number.isFinite(value)) {
        const trace = anomaly ? null : traceAnomaly(x, y);
        throw new ValueError(
          `${where}: the loss became ${value} at ${at}; training diverged.${trace === null ? '' : ` Rerun on this batch in anomaly mode: ${trace}.`} ` +
            divergenceHint(optimizer, x),
        );
      }
      const badGrads = parameters.filter(([, p]) => p.grad !== null && hasNonFinite(p.grad.data));
      if (badGrads.length > 0) {
        const [name, p] = badGrads[0];
        const trace = anomaly ? null : traceAnomaly(x, y);
        throw new ValueError(
          `${where}: a gradient became non-finite at ${at} (the loss was ${value}); training diverged, and stopped before the step could put it into the weights. ` +
            `The first layer in model order whose gradient went bad: ${name}, whose gradient holds ${nonFiniteSummary(p.grad!.data, p.shape)}; ${listBad(badGrads, parameters.length, 'gradients')}.` +
            `${trace === null ? '' : ` Rerun on this batch in anomaly mode: ${trace}.`} ${divergenceHint(optimizer, x)}`,
        );
      }
      if (scheduled) {
        const factor = multiplier(step, totalSteps);
        if (!(typeof factor === 'number' && factor >= 0 && Number.isFinite(factor))) {
          throw new ValueError(`${where}: lrSchedule returned ${factor} at step ${step} of ${totalSteps}; expected a finite multiplier >= 0`);
        }
        optimizer.paramGroups.forEach((g, i) => (g.lr = baseLrs[i] * factor));
      }
      optimizer.step();
      const badParams = parameters.filter(([, p]) => hasNonFinite(p.data));
      if (badParams.length > 0) {
        const [name, p] = badParams[0];
        throw new ValueError(
          `${where}: the optimizer step made the parameters non-finite at ${at}: the first in model order is ${name}, which holds ${nonFiniteSummary(p.data, p.shape)}; ${listBad(badParams, parameters.length, 'parameters')}. ` +
            `The loss (${value}) and every gradient were finite, so the update made them: ${updateHint(optimizer)}. ` +
            'Without this check training would go on: a NaN weight feeding a ReLU gives 0 and no gradient, so neither the loss nor the gradients would show it',
        );
      }
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
      if (testData !== undefined) {
        options.onEvaluateStart?.({ epoch, images: testData.images.shape[0] });
        result.test = evaluate(model, testData, evalBatchSize, evaluateOptions);
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
 *
 * Bad numbers are refused, never averaged into a NaN: a model whose weights
 * hold NaN or an infinity (checkFiniteWeights, naming each tensor and how
 * many values), images that hold one (a DataError naming the example, unless
 * nonFinite is 'zero'), and an output that holds one (an activation overflowed).
 */
export function evaluate(model: Module, data: TensorDataset, batchSize = 1000, options: EvaluateOptions = {}): EvaluateResult {
  checkModel('evaluate', model);
  checkDataset('evaluate', 'data', data);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`evaluate: batchSize must be a positive integer, got ${batchSize}`);
  const total = data.images.shape[0];
  if (total === 0) throw new ValueError('evaluate: the dataset is empty; accuracy needs at least one example');
  if (options === null || typeof options !== 'object') throw new ValueError('evaluate: options must be an object { lossFn?, topK?, confusion?, nonFinite? }');
  checkOptions('evaluate', options, ['lossFn', 'topK', 'confusion', 'nonFinite']);
  const lossFn = options.lossFn ?? defaultLoss;
  const ks = options.topK === undefined ? [] : checkTopK('evaluate', options.topK);
  const confusion = options.confusion ?? false;
  if (typeof confusion !== 'boolean') throw new ValueError(`evaluate: confusion must be true or false, got ${String(confusion)}`);
  const nonFinite = checkNonFinitePolicy('evaluate', options.nonFinite);
  checkFiniteWeights(model, 'evaluate');
  checkFiniteLabels('evaluate: the labels', data.labels);
  const images = finiteData('evaluate: the images', data.images, nonFinite);
  const wasTraining = model.training;
  const start = now();
  model.eval();
  try {
    return noGrad(() => {
      const loader = withCheckedData([images.data, data.labels.data], () => new DataLoader({ images, labels: data.labels }, { batchSize, shuffle: false }));
      let correct = 0;
      const meanLoss = new RunningMean();
      const topKCorrect = ks.map(() => 0);
      let matrix: number[][] | null = null;
      for (const { x, y, index } of loader) {
        const output = model.forward(x);
        if (hasNonFinite(output.data)) {
          throw new ValueError(
            `evaluate: the model's output for examples ${index * batchSize} to ${index * batchSize + x.shape[0] - 1} ${fmtShape(output.shape)} holds ${nonFiniteSummary(output.data, output.shape)}, ` +
              'though its weights and inputs are finite: an activation overflowed float32 (weights or inputs far too large?)',
          );
        }
        const loss = lossFn(output, y).item();
        if (!Number.isFinite(loss)) {
          throw new ValueError(`evaluate: the loss of examples ${index * batchSize} to ${index * batchSize + x.shape[0] - 1} is ${loss} though the model's outputs are finite; check lossFn and the labels`);
        }
        meanLoss.add(loss, x.shape[0]);
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

/** 'these 3 of 10 parameters' gradients are bad: conv1.weight, conv1.bias, conv2.weight' (at most 6 names). */
function listBad(bad: readonly [string, Tensor][], total: number, what: 'gradients' | 'parameters'): string {
  const names = bad.slice(0, 6).map(([n]) => n).join(', ') + (bad.length > 6 ? `, and ${bad.length - 6} more` : '');
  const whose = what === 'gradients' ? "parameters' gradients" : 'parameters';
  return bad.length === 1 ? `it is the only one of ${total} ${whose}` : `${bad.length} of ${total} ${whose} are bad: ${names}`;
}

/** A number for a message: 3 significant digits, or as it is when shorter. */
function short(v: number): string {
  const p = Number(v.toPrecision(3));
  return String(p).length <= String(v).length ? String(p) : String(v);
}

/** The learning rates of the optimizer's groups, once each: '0.05' or '0.05, 0.005 (by group)'. */
function learningRates(optimizer: Optimizer): string {
  const lrs = [...new Set(optimizer.paramGroups.map((g) => g.lr))];
  return lrs.length === 1 ? String(lrs[0]) : `${lrs.join(', ')} (by group)`;
}

/**
 * What to try when training diverges: the learning rate (its value), and
 * the scale of the inputs, measured on the batch (its finite values' range,
 * mean and std).
 */
function divergenceHint(optimizer: Optimizer, x: Tensor): string {
  const d = x.data;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v - v !== 0) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sq += v * v;
    n++;
  }
  const mean = n > 0 ? sum / n : NaN;
  const std = n > 0 ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : NaN;
  const lr = learningRates(optimizer);
  const scale = n > 0 ? `This batch's inputs lie in [${short(min)}, ${short(max)}] (mean ${short(mean)}, std ${short(std)})` : "This batch's inputs hold no finite value";
  return `Lower the learning rate (now ${lr}): a rate too high makes each step overshoot until the values overflow; try one 10 times lower. ` +
    `${scale}: inputs standardized to mean 0 and std 1 (normalize; stride train --normalize MEAN/STD) suit the usual rates, raw 0..255 pixels do not`;
}

/** What in the optimizer's settings can make finite gradients into non-finite weights. */
function updateHint(optimizer: Optimizer): string {
  const groups = optimizer.paramGroups as unknown as Record<string, unknown>[];
  const zeroEps = groups.some((g) => g.eps === 0);
  return `${optimizer.name} with learning rate ${learningRates(optimizer)}` +
    (zeroEps ? '; eps 0 divides 0 by 0 where a gradient is 0 (give eps > 0, e.g. 1e-8)' : '') +
    '; a learning rate, momentum or weight decay large enough makes the update overflow';
}

/**
 * Throws a ValueError naming every parameter and buffer of `model` that
 * holds NaN or an infinity, with how many it holds. A model trained into
 * NaN predicts nothing: evaluate and fit refuse it with this check; `where`
 * starts the message.
 */
export function checkFiniteWeights(model: Module, where = 'checkFiniteWeights'): void {
  checkModel(where, model);
  const state = Object.entries(model.stateDict());
  const bad = state.filter(([, t]) => hasNonFinite(t.data));
  if (bad.length === 0) return;
  const shown = bad.slice(0, 6).map(([name, t]) => `${name} holds ${nonFiniteSummary(t.data, t.shape)}`).join('; ');
  const more = bad.length > 6 ? `; and ${bad.length - 6} more: ${bad.slice(6).map(([n]) => n).join(', ')}` : '';
  throw new ValueError(
    `${where}: the model's weights hold values that are not finite, in ${bad.length} of its ${state.length} tensors: ${shown}${more}. ` +
      'Weights trained into NaN or infinity predict nothing: train again with a lower learning rate (training now stops at the first non-finite gradient), or load other weights',
  );
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
