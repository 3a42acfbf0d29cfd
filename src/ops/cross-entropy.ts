/**
 * The class-index losses, cross-entropy and negative log-likelihood, with
 * PyTorch's names and options.
 *
 * They take input [N, C] or [N, C, d1, d2, ...] (scores per class at every
 * position: per-pixel classification of segmentation maps) and targets [N] or
 * [N, d1, d2, ...] holding class indices (float32 integers). With per-class
 * weights w and targets y (positions whose target equals ignoreIndex, default
 * -100, drop out: loss 0, and they count in no denominator):
 *
 *   nllLoss:       l_n = -w[y_n] x[n, y_n]
 *   crossEntropy:  l_n = -sum_c q_nc log p_nc,  p_n = softmax(logits_n),
 *                  q_nc = (1 - eps) w[y_n] [c = y_n] + (eps / C) w[c]       (label smoothing eps)
 *                  dl_n/dlogits_nc = p_nc Q_n - q_nc,  Q_n = sum_c q_nc = (1 - eps) w[y_n] + (eps / C) sum(w)
 *   'mean' divides the sum by sum_n w[y_n] over the positions not ignored (N when there are no weights),
 *   as PyTorch; for crossEntropy that divisor applies to the label-smoothing term too.
 *
 * crossEntropy is fused (log-softmax + the sum above) because the fused
 * gradient is both cheaper and exact. Why no kernel pair of its own: the one
 * pass over [N, C, s] that costs anything, the log-softmax, already runs on
 * the backend's `softmax` kernel; what remains reads one value (C with label
 * smoothing) per position, with per-position branches (ignored targets,
 * weights). At batch 64 and 10 classes on `wasm`, the forward took 70 us of
 * which the log-softmax kernel call was 35 us, forward and backward 185 us
 * against 156 us for logSoftmax(x).sum() (measured with other work on the
 * machine): the loops a kernel could speed up are about 1% of a LeNet-5
 * training step, while a kernel would carry labels, weights, ignoreIndex and
 * smoothing through every backend's table.
 *
 * The loops over the targets are written out in each of the four passes
 * (both losses, forward and backward): a shared walk with a callback per
 * target, or a list of the targets built once, made crossEntropy's forward
 * and backward at batch 64 and 10 classes 41 us instead of 32 us (measured
 * 2026-12-07), about 1% of an epoch.
 *
 * Weights are constants: no gradient flows to `weight`.
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, shapeSize } from '../tensor/tensor.js';
import { checkReduction, reduceLoss, reducedGradient, type Reduction } from './loss-reduction.js';
import { checkTensor, empty, output } from './util.js';
import { checkOptions } from '../validate.js';

/** PyTorch's default ignore_index. */
export const IGNORE_INDEX = -100;

export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** eps in [0, 1]: the target puts 1 - eps on the label and eps spread over all C classes. */
  labelSmoothing?: number;
  /** One weight per class ([C]): a position labelled y counts w[y] times; 'mean' divides by the sum of its targets' weights. */
  weight?: Tensor | ArrayLike<number>;
  /** Targets equal to this (default -100, as PyTorch) contribute no loss, no gradient, and nothing to the mean's divisor. */
  ignoreIndex?: number;
}

export interface NllLossOptions {
  reduction?: Reduction;
  weight?: Tensor | ArrayLike<number>;
  ignoreIndex?: number;
}

/** The layout of a class-index loss: input [n, c, ...spatial] viewed as [n, c, s]; targets [n, ...spatial]. */
interface ClassLayout {
  n: number;
  c: number;
  /** Positions per example: the product of d1, d2, ... (1 for [N, C]). */
  s: number;
  /** The shape of the targets and of the unreduced loss: [n, ...spatial]. */
  targetShape: number[];
}

function classLayout(where: string, input: Tensor, inputName: string): ClassLayout {
  if (input.ndim < 2) {
    throw new ShapeError(`${where}: ${inputName} must be 2-D [batch, classes] or more [batch, classes, d1, ...] (a score per class at every position), got shape ${fmtShape(input.shape)}; flatten the model output first, or unsqueeze(0) for a single example`);
  }
  const [n, c] = input.shape;
  if (c < 1) throw new ShapeError(`${where}: ${inputName} ${fmtShape(input.shape)} have zero classes (dimension 1)`);
  const spatial = input.shape.slice(2);
  return { n, c, s: shapeSize(spatial), targetShape: [n, ...spatial] };
}

/**
 * Reads class indices (one per position) from a tensor or array and checks
 * them against C classes; positions equal to ignoreIndex are allowed whatever their value.
 */
function readLabels(where: string, target: Tensor | ArrayLike<number>, layout: ClassLayout, inputShape: readonly number[], ignoreIndex: number): Int32Array {
  const { n, c, targetShape } = layout;
  const count = shapeSize(targetShape);
  if (target instanceof Tensor) {
    if (targetShape.length === 1 && target.ndim !== 1) {
      throw new ShapeError(`${where}: labels must be 1-D [N] class indices, got shape ${fmtShape(target.shape)}; for probabilities per class, use a class-index target (argmax) instead`);
    }
    if (targetShape.length > 1 && target.shape.join() !== targetShape.join()) {
      throw new ShapeError(`${where}: labels must have shape ${fmtShape(targetShape)} for input ${fmtShape(inputShape)} (the input without its class dimension 1: one class index per position), got ${fmtShape(target.shape)}`);
    }
  }
  const values: ArrayLike<number> = target instanceof Tensor ? target.data : target;
  if (!values || typeof values.length !== 'number' || typeof values === 'string') throw new ValueError(`${where}: labels must be a Tensor or an array of class indices`);
  if (values.length !== count) {
    throw new ShapeError(targetShape.length === 1
      ? `${where}: ${values.length} labels for a batch of ${n} rows; give one label per row`
      : `${where}: ${values.length} labels for ${count} positions (shape ${fmtShape(targetShape)}); give one label per position`);
  }
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (v === ignoreIndex) {
      out[i] = v;
      continue;
    }
    if (!Number.isInteger(v) || v < 0 || v >= c) {
      throw new ValueError(`${where}: label ${v} at index ${i} is out of range for ${c} classes; labels must be integers in [0, ${c - 1}] or the ignoreIndex ${ignoreIndex}`);
    }
    out[i] = v;
  }
  return out;
}

/** Per-class weights as numbers (all 1 when none were given). */
function readClassWeights(where: string, weight: Tensor | ArrayLike<number> | undefined, c: number): Float64Array {
  if (weight === undefined || weight === null) return new Float64Array(c).fill(1);
  if (weight instanceof Tensor && weight.ndim !== 1) {
    throw new ShapeError(`${where}: weight must be 1-D with one entry per class (${c}), got shape ${fmtShape(weight.shape)}`);
  }
  const values: ArrayLike<number> = weight instanceof Tensor ? weight.data : weight;
  if (typeof values !== 'object' || typeof values.length !== 'number') throw new ValueError(`${where}: weight must be a Tensor or an array of ${c} numbers (one per class)`);
  if (values.length !== c) throw new ShapeError(`${where}: weight has ${values.length} entries but the input has ${c} classes; give one weight per class`);
  const out = Float64Array.from(values);
  out.forEach((w, i) => {
    if (!Number.isFinite(w)) throw new ValueError(`${where}: weight[${i}] is ${w}; class weights must be finite numbers`);
  });
  return out;
}

export function checkIgnoreIndex(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`${where}: ignoreIndex must be an integer (default -100), got ${JSON.stringify(v)}`);
  return v;
}

/** Throws unless the label-smoothing eps is in [0, 1]. */
export function checkLabelSmoothing(where: string, eps: unknown): number {
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw new ValueError(`${where}: labelSmoothing must be in [0, 1], got ${String(eps)}`);
  return eps;
}

/** Cross-entropy of logits [N, C] or [N, C, d1, ...] against class indices [N] or [N, d1, ...] (PyTorch's F.cross_entropy). */
export function crossEntropy(logits: Tensor, target: Tensor | ArrayLike<number>, options: CrossEntropyOptions = {}): Tensor {
  checkTensor('crossEntropy', 'logits', logits);
  checkOptions('crossEntropy', options, ['reduction', 'labelSmoothing', 'weight', 'ignoreIndex']);
  const reduction = checkReduction('crossEntropy', options.reduction ?? 'mean');
  const eps = checkLabelSmoothing('crossEntropy', options.labelSmoothing ?? 0);
  const ignoreIndex = checkIgnoreIndex('crossEntropy', options.ignoreIndex ?? IGNORE_INDEX);
  const layout = classLayout('crossEntropy', logits, 'logits');
  const { n, c, s, targetShape } = layout;
  const labels = readLabels('crossEntropy', target, layout, logits.shape, ignoreIndex);
  const w = readClassWeights('crossEntropy', options.weight, c);
  let wSum = 0;
  for (let j = 0; j < c; j++) wSum += w[j];

  const logp = output(logits.shape, logits.dtype);
  kernelsFor(logits.dtype).softmax(logits.data, n, c, s, true, logp.data);
  const perPosition = empty(targetShape, logits.dtype);
  // The mean's divisor: the weights of the targets that are not ignored.
  let divisor = 0;
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < s; p++) {
      const t = b * s + p;
      const y = labels[t];
      if (y === ignoreIndex) continue;
      const base = b * c * s + p;
      let smooth = 0;
      if (eps > 0) for (let j = 0; j < c; j++) smooth -= w[j] * logp.data[base + j * s];
      perPosition.data[t] = -(1 - eps) * w[y] * logp.data[base + y * s] + (eps / c) * smooth;
      divisor += w[y];
    }
  }
  const loss = reduceLoss(perPosition, reduction, divisor, logits.dtype);
  return record(loss, 'crossEntropy', [logits], (g) => {
    const gx = empty(logits.shape, g.dtype);
    for (let b = 0; b < n; b++) {
      for (let p = 0; p < s; p++) {
        const t = b * s + p;
        const y = labels[t];
        if (y === ignoreIndex) continue;
        const scale = reducedGradient(g, t, reduction, divisor);
        const base = b * c * s + p;
        const Q = (1 - eps) * w[y] + (eps / c) * wSum;
        for (let j = 0; j < c; j++) {
          const q = (j === y ? (1 - eps) * w[y] : 0) + (eps / c) * w[j];
          gx.data[base + j * s] = scale * (Math.exp(logp.data[base + j * s]) * Q - q);
        }
      }
    }
    return [gx];
  });
}

/**
 * Negative log-likelihood of log-probabilities [N, C] or [N, C, d1, ...]
 * (e.g. logSoftmax(x, 1)) against class indices (PyTorch's F.nll_loss):
 * l_n = -w[y_n] x[n, y_n]; dl_n/dx[n, y_n] = -w[y_n], 0 for the other classes.
 */
export function nllLoss(logProbs: Tensor, target: Tensor | ArrayLike<number>, options: NllLossOptions = {}): Tensor {
  checkTensor('nllLoss', 'input', logProbs);
  checkOptions('nllLoss', options, ['reduction', 'weight', 'ignoreIndex']);
  const reduction = checkReduction('nllLoss', options.reduction ?? 'mean');
  const ignoreIndex = checkIgnoreIndex('nllLoss', options.ignoreIndex ?? IGNORE_INDEX);
  const layout = classLayout('nllLoss', logProbs, 'input');
  const { n, c, s, targetShape } = layout;
  const labels = readLabels('nllLoss', target, layout, logProbs.shape, ignoreIndex);
  const w = readClassWeights('nllLoss', options.weight, c);
  const perPosition = empty(targetShape, logProbs.dtype);
  let divisor = 0;
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < s; p++) {
      const t = b * s + p;
      const y = labels[t];
      if (y === ignoreIndex) continue;
      perPosition.data[t] = -w[y] * logProbs.data[(b * c + y) * s + p];
      divisor += w[y];
    }
  }
  const loss = reduceLoss(perPosition, reduction, divisor, logProbs.dtype);
  return record(loss, 'nllLoss', [logProbs], (g) => {
    const gx = empty(logProbs.shape, g.dtype);
    for (let b = 0; b < n; b++) {
      for (let p = 0; p < s; p++) {
        const t = b * s + p;
        const y = labels[t];
        if (y === ignoreIndex) continue;
        const scale = reducedGradient(g, t, reduction, divisor);
        gx.data[(b * c + y) * s + p] = -w[y] * scale;
      }
    }
    return [gx];
  });
}
