/**
 * Training Rosenblatt's perceptron (src/models/perceptron.ts) by its own rule
 * on two classes of a labelled dataset, reported in fit()'s terms so that
 * `stride train perceptron` prints and records it as any training run.
 */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Perceptron, checkLr } from '../models/perceptron.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor, tensor } from '../tensor/tensor.js';
import { checkInt, checkOptions } from '../validate.js';
import type { EpochResult, EvaluateResult, FitResult } from './fit.js';

export interface TrainPerceptronOptions {
  /** [negative, positive]: the label of the samples whose desired output is 0, and of those whose is 1 (default [0, 1]: digit 0 against digit 1). */
  classes?: readonly [number, number];
  /** The most passes over the training samples (default 10); training stops after a pass without a mistake. */
  epochs?: number;
  /** alpha (default 1). */
  lr?: number;
  /** A new random order each pass (default true). */
  shuffle?: boolean;
  generator?: Generator;
  /** Called after each pass, with its evaluation on the test samples. */
  onEpoch?: (result: EpochResult) => void;
}

export interface TrainPerceptronResult extends FitResult {
  classes: [number, number];
  /** Training and test samples of the two classes (the others are left out). */
  trainImages: number;
  testImages: number;
  /** Whether the last pass made no mistake. */
  converged: boolean;
  /** The last pass's evaluation on the test samples of the two classes. */
  test: EvaluateResult;
}

/**
 * Trains `model` by the perceptron rule on the samples of `train` labelled
 * classes[0] (desired output 0) or classes[1] (desired output 1), one pass
 * after another, evaluating on the same two classes of `test` after each.
 * Returns fit()'s shape of results, where a pass's trainLoss is the fraction
 * of its samples that were misclassified when visited (and so corrected), and
 * the test loss is the test error rate (the 0-1 loss; the perceptron has no
 * other).
 */
export function trainPerceptron(model: Perceptron, data: { train: { images: Tensor; labels: Tensor }; test: { images: Tensor; labels: Tensor } }, options: TrainPerceptronOptions = {}): TrainPerceptronResult {
  const where = 'trainPerceptron';
  if (!(model instanceof Perceptron)) throw new ValueError(`${where}: model must be a Perceptron, e.g. new Perceptron(784)`);
  checkOptions(where, options, ['classes', 'epochs', 'lr', 'shuffle', 'generator', 'onEpoch']);
  const classes = options.classes ?? [0, 1];
  if (!Array.isArray(classes) || classes.length !== 2 || !classes.every(Number.isInteger) || classes[0] === classes[1]) {
    throw new ValueError(`${where}: classes must be two different integer labels [negative, positive], got ${JSON.stringify(classes)}`);
  }
  const epochs = checkInt(where, 'epochs', options.epochs ?? 10, 1);
  const lr = checkLr(where, options.lr ?? 1);
  const generator = options.generator ?? defaultGenerator;
  const train = twoClasses(where, 'train', data?.train, classes, model.inFeatures);
  const test = twoClasses(where, 'test', data?.test, classes, model.inFeatures);

  const history: EpochResult[] = [];
  let trainSeconds = 0;
  let converged = false;
  for (let epoch = 1; epoch <= epochs && !converged; epoch++) {
    const start = performance.now();
    const pass = model.fit(train.x, train.d, { epochs: 1, lr, shuffle: options.shuffle ?? true, generator });
    const seconds = (performance.now() - start) / 1000;
    trainSeconds += seconds;
    converged = pass.converged;
    const evalStart = performance.now();
    const predicted = model.predict(test.x);
    const correct = predicted.reduce((c, y, i) => c + (y === test.d[i] ? 1 : 0), 0);
    const total = test.d.length;
    const errorRate = pass.mistakes[0] / train.d.length;
    const result: EpochResult = {
      epoch, epochs, trainLoss: errorRate, trainAccuracy: 1 - errorRate, trainImages: train.d.length,
      trainSeconds: seconds, trainImagesPerSec: train.d.length / Math.max(seconds, 1e-9),
      test: { accuracy: total ? correct / total : 0, loss: total ? 1 - correct / total : 0, correct, total, seconds: (performance.now() - evalStart) / 1000 },
    };
    history.push(result);
    options.onEpoch?.(result);
  }
  const trained = history.reduce((s, h) => s + h.trainImages, 0);
  return {
    classes: [classes[0], classes[1]], trainImages: train.d.length, testImages: test.d.length, converged,
    history, trainSeconds, trainImagesPerSec: trained / Math.max(trainSeconds, 1e-9), test: history[history.length - 1].test!,
  };
}

/** The samples of `split` labelled classes[0] or classes[1], as rows, with desired outputs 0 and 1. */
function twoClasses(where: string, name: string, split: { images: Tensor; labels: Tensor } | undefined, classes: readonly number[], inFeatures: number): { x: Tensor; d: number[] } {
  if (!split || !(split.images instanceof Tensor) || !(split.labels instanceof Tensor)) throw new ValueError(`${where}: data.${name} must be { images: Tensor, labels: Tensor }`);
  const { images, labels } = split;
  const n = images.shape[0];
  if (images.ndim < 2 || images.size !== n * inFeatures || labels.size !== n) {
    throw new ShapeError(`${where}: data.${name} must hold N samples of ${inFeatures} values and N labels, got images ${fmtShape(images.shape)} and labels ${fmtShape(labels.shape)}`);
  }
  const rows: number[] = [];
  const d: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = classes.indexOf(labels.data[i]);
    if (k >= 0) {
      rows.push(i);
      d.push(k);
    }
  }
  if (rows.length === 0) throw new ValueError(`${where}: data.${name} has no sample labelled ${classes[0]} or ${classes[1]}`);
  const src = images.data;
  const out = new Float32Array(rows.length * inFeatures);
  rows.forEach((r, k) => out.set(src.subarray(r * inFeatures, (r + 1) * inFeatures), k * inFeatures));
  return { x: tensor(out, [rows.length, inFeatures]), d };
}
