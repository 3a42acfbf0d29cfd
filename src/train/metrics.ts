/**
 * Classification metrics and small helpers for training loops (isomorphic):
 * top-1 and top-k accuracy of logits against class indices, the confusion
 * matrix (rows the true class, columns the predicted one, as scikit-learn's
 * confusion_matrix), per-class accuracy (recall) and precision, a running
 * mean, and human-readable durations.
 *
 * Ties. A label counts as within the top k when fewer than k classes rank
 * above it, where class j ranks above the label y when its logit is larger,
 * or equal with j < y (a stable sort by decreasing logit), and a NaN logit
 * ranks above every number (as argmax, which takes the first NaN, and
 * torch.topk, which sorts NaN first). For k = 1 this is exactly "argmax is
 * the label" (`countCorrect`). The top-k accuracy of PyTorch's reference
 * scripts (`output.topk(k)` then `eq(target)`) agrees except on exact ties at
 * the k-th place, where torch.topk leaves the order of equal values
 * unspecified; here the lower class index wins.
 */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';

/** How many rows of `logits` [N, K] have their largest value at the class in `labels` [N] (first index on ties, as argmax). */
export function countCorrect(logits: Tensor, labels: Tensor): number {
  if (!(logits instanceof Tensor) || !(labels instanceof Tensor)) throw new ValueError('countCorrect: logits and labels must be Tensors');
  if (logits.ndim !== 2) throw new ShapeError(`countCorrect: logits must be [N, classes], got ${fmtShape(logits.shape)}`);
  if (labels.ndim !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new ShapeError(`countCorrect: labels must be [N] with N = ${logits.shape[0]} (one class index per logits row), got ${fmtShape(labels.shape)}`);
  }
  const [n, k] = logits.shape;
  if (n === 0) return 0;
  if (k === 0) throw new ShapeError(`countCorrect: logits ${fmtShape(logits.shape)} have no classes to take the largest of; give at least one column`);
  const x = logits.data;
  const truth = labels.data;
  let correct = 0;
  for (let i = 0; i < n; i++) if (rowArgmax(x, i * k, k) === truth[i]) correct++;
  return correct;
}

/**
 * The index in [0, k) of the largest of x[start .. start + k): the first on
 * ties, the first NaN when there is one (argmax's rule, the reference
 * kernel's loop). countCorrect reads the logits in place with it: fit counts
 * every training batch's correct predictions, and through the argmax op's
 * tensors and checks that took 41-77 ms of a LeNet-5 epoch on MNIST (938
 * batches of 64), in place 6-10 ms (README, "Where the epoch's time goes").
 */
function rowArgmax(x: ArrayLike<number>, start: number, k: number): number {
  let best = 0;
  let bestV = x[start];
  for (let j = 1; j < k && bestV === bestV; j++) {
    const v = x[start + j];
    if (v !== v || v > bestV) {
      best = j;
      bestV = v;
    }
  }
  return best;
}

/** rowArgmax of every row of `logits` [N, K], read in place. */
function rowArgmaxes(where: string, logits: Tensor): Int32Array {
  const [n, k] = logits.shape;
  const out = new Int32Array(n);
  if (n > 0 && k === 0) throw new ShapeError(`${where}: logits ${fmtShape(logits.shape)} have no classes to take the largest of; give at least one column`);
  for (let i = 0; i < n; i++) out[i] = rowArgmax(logits.data, i * k, k);
  return out;
}

/** Top-1 accuracy in [0, 1]: the fraction of rows of `logits` whose argmax is the label. */
export function accuracy(logits: Tensor, labels: Tensor): number {
  const n = logits.shape[0];
  if (n === 0) throw new ValueError('accuracy: no examples (logits have 0 rows)');
  return countCorrect(logits, labels) / n;
}

/** Checks `logits` [N, K] and `labels` [N] of integer class indices in [0, K) for `where`. */
function checkLogitsAndLabels(where: string, logits: Tensor, labels: Tensor): void {
  if (!(logits instanceof Tensor) || !(labels instanceof Tensor)) throw new ValueError(`${where}: logits and labels must be Tensors`);
  if (logits.ndim !== 2) throw new ShapeError(`${where}: logits must be [N, classes], got ${fmtShape(logits.shape)}`);
  if (labels.ndim !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new ShapeError(`${where}: labels must be [N] with N = ${logits.shape[0]} (one class index per logits row), got ${fmtShape(labels.shape)}`);
  }
  checkClassIndices(where, 'labels', labels.data, logits.shape[1]);
}

/** Throws unless every value is an integer class index in [0, numClasses). */
function checkClassIndices(where: string, name: string, values: ArrayLike<number>, numClasses: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < numClasses)) {
      throw new ValueError(`${where}: ${name}[${i}] is ${v}, not a class index in [0, ${numClasses}); ${name} must hold integer classes 0 to ${numClasses - 1}`);
    }
  }
}

/**
 * The rank of each row's label among its logits: how many classes rank above
 * it (larger logit, or equal with a lower index, a NaN above every number).
 * The label is within the top k exactly when its rank is below k.
 */
export function labelRanks(logits: Tensor, labels: Tensor): Int32Array {
  checkLogitsAndLabels('labelRanks', logits, labels);
  const [n, k] = logits.shape;
  const x = logits.data;
  const y = labels.data;
  const ranks = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * k;
    const label = y[i];
    const v = x[row + label];
    let rank = 0;
    if (v !== v) {
      for (let j = 0; j < label; j++) if (x[row + j] !== x[row + j]) rank++;
    } else {
      for (let j = 0; j < k; j++) {
        const u = x[row + j];
        if (u > v || u !== u || (u === v && j < label)) rank++;
      }
    }
    ranks[i] = rank;
  }
  return ranks;
}

function checkK(where: string, k: unknown): number {
  if (!Number.isInteger(k) || (k as number) < 1) throw new ValueError(`${where}: k must be an integer >= 1, got ${String(k)}`);
  return k as number;
}

/**
 * How many rows of `logits` [N, K] have their label among the k largest
 * logits (ties: see the top of this file). k may exceed K (every row counts).
 */
export function countTopKCorrect(logits: Tensor, labels: Tensor, k: number): number {
  checkK('countTopKCorrect', k);
  const ranks = labelRanks(logits, labels);
  let correct = 0;
  for (let i = 0; i < ranks.length; i++) if (ranks[i] < k) correct++;
  return correct;
}

/**
 * Top-k accuracy in [0, 1]: the fraction of rows of `logits` [N, K] whose
 * label is among the k largest logits (ties: see the top of this file). The
 * top-k error is 1 minus it. `topKAccuracy(logits, labels, 1)` equals
 * `accuracy(logits, labels)`.
 */
export function topKAccuracy(logits: Tensor, labels: Tensor, k: number): number {
  checkK('topKAccuracy', k);
  if (logits instanceof Tensor && logits.shape[0] === 0) throw new ValueError('topKAccuracy: no examples (logits have 0 rows)');
  return countTopKCorrect(logits, labels, k) / logits.shape[0];
}

/**
 * The confusion matrix of a classifier, as scikit-learn's confusion_matrix:
 * `m[i][j]` counts the examples of true class i predicted as class j (rows:
 * true class, columns: predicted). `predictions` are logits [N, K] (the
 * prediction is the argmax, first index on ties, a NaN first) or class
 * indices [N]; `labels` are class indices [N]; `numClasses` defaults to K for
 * logits and is required for class indices.
 */
export function confusionMatrix(predictions: Tensor, labels: Tensor, numClasses?: number): number[][] {
  const where = 'confusionMatrix';
  if (!(predictions instanceof Tensor) || !(labels instanceof Tensor)) throw new ValueError(`${where}: predictions (logits or class indices) and labels must be Tensors`);
  if (predictions.ndim !== 1 && predictions.ndim !== 2) {
    throw new ShapeError(`${where}: predictions must be logits [N, classes] or class indices [N], got ${fmtShape(predictions.shape)}`);
  }
  const k = numClasses ?? (predictions.ndim === 2 ? predictions.shape[1] : undefined);
  if (k === undefined) throw new ValueError(`${where}: numClasses is required when predictions are class indices [N] (it cannot be inferred from them)`);
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`${where}: numClasses must be an integer >= 1, got ${String(k)}`);
  if (predictions.ndim === 2 && predictions.shape[1] !== k) {
    throw new ShapeError(`${where}: logits ${fmtShape(predictions.shape)} have ${predictions.shape[1]} classes but numClasses is ${k}`);
  }
  if (labels.ndim !== 1 || labels.shape[0] !== predictions.shape[0]) {
    throw new ShapeError(`${where}: labels must be [N] with N = ${predictions.shape[0]} (one class index per example), got ${fmtShape(labels.shape)}`);
  }
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  addToConfusion(matrix, predictions, labels);
  return matrix;
}

/**
 * Adds a batch's counts to a K x K confusion `matrix` (rows true class,
 * columns predicted): what evaluate accumulates batch by batch.
 */
export function addToConfusion(matrix: number[][], predictions: Tensor, labels: Tensor): void {
  const where = 'confusionMatrix';
  const k = matrix.length;
  const predicted = predictions.ndim === 2 ? rowArgmaxes(where, predictions) : predictions.data;
  checkClassIndices(where, 'labels', labels.data, k);
  if (predictions.ndim === 1) checkClassIndices(where, 'predictions', predicted, k);
  const truth = labels.data;
  for (let i = 0; i < predicted.length; i++) matrix[truth[i]][predicted[i]]++;
}

/** Checks that `matrix` is a square array of arrays of counts. */
function checkConfusion(where: string, matrix: readonly (readonly number[])[]): void {
  if (!Array.isArray(matrix) || matrix.length === 0 || !matrix.every((row) => Array.isArray(row) && row.length === matrix.length && row.every((v) => Number.isFinite(v) && v >= 0))) {
    throw new ValueError(`${where}: expected a square confusion matrix (K arrays of K counts >= 0, as confusionMatrix returns)`);
  }
}

/**
 * Per-class accuracy, i.e. recall: for each true class i, the fraction of its
 * examples predicted as i (`m[i][i] / sum of row i`). NaN for a class with no
 * examples (scikit-learn's recall_score gives 0 there, with a warning).
 */
export function perClassAccuracy(matrix: readonly (readonly number[])[]): number[] {
  checkConfusion('perClassAccuracy', matrix);
  return matrix.map((row, i) => {
    const total = row.reduce((s, v) => s + v, 0);
    return total > 0 ? row[i] / total : NaN;
  });
}

/**
 * Per-class precision: for each predicted class j, the fraction of the
 * examples predicted as j that are of class j (`m[j][j] / sum of column j`).
 * NaN for a class never predicted.
 */
export function perClassPrecision(matrix: readonly (readonly number[])[]): number[] {
  checkConfusion('perClassPrecision', matrix);
  return matrix.map((_, j) => {
    let total = 0;
    for (const row of matrix) total += row[j];
    return total > 0 ? matrix[j][j] / total : NaN;
  });
}

/** A weighted running mean, e.g. of per-batch losses weighted by batch size. */
export class RunningMean {
  private total = 0;
  private weight = 0;

  add(value: number, weight = 1): void {
    this.total += value * weight;
    this.weight += weight;
  }

  /** The mean so far (NaN before the first value). */
  get mean(): number {
    return this.weight > 0 ? this.total / this.weight : NaN;
  }

  /** Total weight so far (e.g. examples seen). */
  get count(): number {
    return this.weight;
  }

  reset(): void {
    this.total = 0;
    this.weight = 0;
  }
}

/** A duration for people: "0.4 s", "12.3 s", "2m 05s", "1h 02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
