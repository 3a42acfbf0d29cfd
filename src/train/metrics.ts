/**
 * Small metrics for training loops (isomorphic): top-1 accuracy of logits
 * against class indices, a running mean, and human-readable durations.
 */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { argmax } from '../ops/reduce.js';
import { Tensor } from '../tensor/tensor.js';

/** How many rows of `logits` [N, K] have their largest value at the class in `labels` [N] (first index on ties, as argmax). */
export function countCorrect(logits: Tensor, labels: Tensor): number {
  if (!(logits instanceof Tensor) || !(labels instanceof Tensor)) throw new ValueError('countCorrect: logits and labels must be Tensors');
  if (logits.ndim !== 2) throw new ShapeError(`countCorrect: logits must be [N, classes], got ${fmtShape(logits.shape)}`);
  if (labels.ndim !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new ShapeError(`countCorrect: labels must be [N] with N = ${logits.shape[0]} (one class index per logits row), got ${fmtShape(labels.shape)}`);
  }
  if (logits.shape[0] === 0) return 0;
  const predicted = argmax(logits.detach(), 1).data;
  const truth = labels.data;
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === truth[i]) correct++;
  return correct;
}

/** Top-1 accuracy in [0, 1]: the fraction of rows of `logits` whose argmax is the label. */
export function accuracy(logits: Tensor, labels: Tensor): number {
  const n = logits.shape[0];
  if (n === 0) throw new ValueError('accuracy: no examples (logits have 0 rows)');
  return countCorrect(logits, labels) / n;
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
