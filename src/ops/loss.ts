/**
 * Losses, with PyTorch's names, options and reductions ('mean' default,
 * 'sum', 'none' keeps one loss per element or position).
 *
 * Class-index losses take input [N, C] or [N, C, d1, d2, ...] (scores per
 * class at every position: per-pixel classification of segmentation maps) and
 * targets [N] or [N, d1, d2, ...] holding class indices (float32 integers).
 * With per-class weights w and targets y (positions whose target equals
 * ignoreIndex, default -100, drop out: loss 0, and they count in no denominator):
 *
 *   nllLoss:       l_n = -w[y_n] x[n, y_n]
 *   crossEntropy:  l_n = -sum_c q_nc log p_nc,  p_n = softmax(logits_n),
 *                  q_nc = (1 - eps) w[y_n] [c = y_n] + (eps / C) w[c]       (label smoothing eps)
 *                  dl_n/dlogits_nc = p_nc Q_n - q_nc,  Q_n = sum_c q_nc = (1 - eps) w[y_n] + (eps / C) sum(w)
 *   'mean' divides the sum by sum_n w[y_n] over the positions not ignored (N when there are no weights),
 *   as PyTorch; for crossEntropy that divisor applies to the label-smoothing term too.
 *   crossEntropy is fused (log-softmax + the sum above) because the fused
 *   gradient is both cheaper and exact.
 *
 * Element-wise losses take input and target of the same shape (PyTorch
 * broadcasts mismatched ones with a warning; here that is an error, since an
 * [N, 1] output against [N] targets is almost always a bug). Each element's
 * loss l(x, t) and its derivatives are beside each loss below; 'mean' divides by the element count.
 *
 * Weights are constants: no gradient flows to `weight` or `posWeight`.
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, resultDType, shapeSize } from '../tensor/tensor.js';
import { sub } from './binary.js';
import { mean, sum } from './reduce.js';
import { square } from './unary.js';
import { broadcastData, broadcastShapes, checkTensor, empty, output } from './util.js';
import { checkOptions } from '../validate.js';

export type Reduction = 'mean' | 'sum' | 'none';

/** PyTorch's default ignore_index. */
const IGNORE_INDEX = -100;

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

function checkReduction(where: string, reduction: unknown): Reduction {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ValueError(`${where}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
  }
  return reduction;
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

function checkIgnoreIndex(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`${where}: ignoreIndex must be an integer (default -100), got ${JSON.stringify(v)}`);
  return v;
}

/** Cross-entropy of logits [N, C] or [N, C, d1, ...] against class indices [N] or [N, d1, ...] (PyTorch's F.cross_entropy). */
export function crossEntropy(logits: Tensor, target: Tensor | ArrayLike<number>, options: CrossEntropyOptions = {}): Tensor {
  checkTensor('crossEntropy', 'logits', logits);
  checkOptions('crossEntropy', options, ['reduction', 'labelSmoothing', 'weight', 'ignoreIndex']);
  const reduction = checkReduction('crossEntropy', options.reduction ?? 'mean');
  const eps = options.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw new ValueError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
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
  const loss = reduce(perPosition, reduction, divisor, logits.dtype);
  return record(loss, 'crossEntropy', [logits], (g) => {
    const gx = empty(logits.shape, g.dtype);
    for (let b = 0; b < n; b++) {
      for (let p = 0; p < s; p++) {
        const t = b * s + p;
        const y = labels[t];
        if (y === ignoreIndex) continue;
        const scale = reduction === 'none' ? g.data[t] : reduction === 'mean' ? g.data[0] / divisor : g.data[0];
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
  const loss = reduce(perPosition, reduction, divisor, logProbs.dtype);
  return record(loss, 'nllLoss', [logProbs], (g) => {
    const gx = empty(logProbs.shape, g.dtype);
    for (let b = 0; b < n; b++) {
      for (let p = 0; p < s; p++) {
        const t = b * s + p;
        const y = labels[t];
        if (y === ignoreIndex) continue;
        const scale = reduction === 'none' ? g.data[t] : reduction === 'mean' ? g.data[0] / divisor : g.data[0];
        gx.data[(b * c + y) * s + p] = -w[y] * scale;
      }
    }
    return [gx];
  });
}

/** The reduced loss: per-element values as they are, their sum, or their sum / divisor (NaN for 0 / 0, as PyTorch). */
function reduce(values: Tensor, reduction: Reduction, divisor: number, dtype: Tensor['dtype']): Tensor {
  if (reduction === 'none') return values;
  let total = 0;
  for (let i = 0; i < values.size; i++) total += values.data[i];
  const out = empty([], dtype);
  out.data[0] = reduction === 'sum' ? total : total / divisor;
  return out;
}

// ---------------------------------------------------------------------------
// Element-wise losses

/** One element's loss l(x, t) and its partial derivatives; i is the flat position (for weights). */
interface PointwiseLoss {
  value(x: number, t: number, i: number): number;
  dInput(x: number, t: number, i: number): number;
  dTarget(x: number, t: number, i: number): number;
}

function checkPair(where: string, input: Tensor, target: Tensor): void {
  checkTensor(where, 'input', input);
  checkTensor(where, 'target', target);
  if (input.shape.join() !== target.shape.join()) {
    throw new ShapeError(`${where}: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape; reshape one of them (an [N, 1] output against [N] targets is the usual cause)`);
  }
}

/** A weight tensor broadcast to the input's shape, as numbers per element (null when absent). */
function elementWeights(where: string, name: string, weight: Tensor | undefined, shape: readonly number[]): ArrayLike<number> | null {
  if (weight === undefined || weight === null) return null;
  checkTensor(where, name, weight);
  const joint = broadcastShapes(weight.shape, shape, where);
  if (joint.join() !== shape.join()) {
    throw new ShapeError(`${where}: ${name} ${fmtShape(weight.shape)} must broadcast to the input's shape ${fmtShape(shape)} without enlarging it`);
  }
  return broadcastData(weight, shape).data;
}

/** Applies `loss` to every element, reduces, and records the backward for input and target. */
function pointwise(where: string, input: Tensor, target: Tensor, reduction: Reduction, loss: PointwiseLoss): Tensor {
  const dtype = resultDType(input, target);
  const x = input.data;
  const t = target.data;
  const count = input.size;
  const values = empty(input.shape, dtype);
  for (let i = 0; i < count; i++) values.data[i] = loss.value(x[i], t[i], i);
  const out = reduce(values, reduction, count, dtype);
  return record(out, where, [input, target], (g) => {
    const scale = (i: number) => (reduction === 'none' ? g.data[i] : reduction === 'mean' ? g.data[0] / count : g.data[0]);
    let gx: Tensor | null = null;
    let gt: Tensor | null = null;
    if (input.requiresGrad) {
      gx = empty(input.shape, g.dtype);
      for (let i = 0; i < count; i++) gx.data[i] = scale(i) * loss.dInput(x[i], t[i], i);
    }
    if (target.requiresGrad) {
      gt = empty(target.shape, g.dtype);
      for (let i = 0; i < count; i++) gt.data[i] = scale(i) * loss.dTarget(x[i], t[i], i);
    }
    return [gx, gt];
  });
}

/** Mean squared error: reduce((input - target)^2). */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkPair('mseLoss', input, target);
  checkOptions('mseLoss', options, ['reduction']);
  const reduction = checkReduction('mseLoss', options.reduction ?? 'mean');
  const sq = square(sub(input, target));
  if (reduction === 'none') return sq;
  if (reduction === 'sum') return sum(sq);
  return mean(sq);
}

/** Mean absolute error: l = |x - t|; dl/dx = sign(x - t) (0 at x = t, as PyTorch), dl/dt = -dl/dx. */
export function l1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkPair('l1Loss', input, target);
  checkOptions('l1Loss', options, ['reduction']);
  const reduction = checkReduction('l1Loss', options.reduction ?? 'mean');
  return pointwise('l1Loss', input, target, reduction, {
    value: (x, t) => Math.abs(x - t),
    dInput: (x, t) => Math.sign(x - t),
    dTarget: (x, t) => -Math.sign(x - t),
  });
}

export interface SmoothL1LossOptions {
  reduction?: Reduction;
  /** Where the loss turns from quadratic to linear (default 1, >= 0; 0 gives l1Loss). */
  beta?: number;
}

/**
 * PyTorch's smooth_l1_loss, with z = x - t:
 *   l = 0.5 z^2 / beta where |z| < beta, |z| - 0.5 beta elsewhere;
 *   dl/dx = z / beta where |z| < beta, sign(z) elsewhere; dl/dt = -dl/dx.
 */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1LossOptions = {}): Tensor {
  checkPair('smoothL1Loss', input, target);
  checkOptions('smoothL1Loss', options, ['reduction', 'beta']);
  const reduction = checkReduction('smoothL1Loss', options.reduction ?? 'mean');
  const beta = options.beta ?? 1;
  if (typeof beta !== 'number' || !(beta >= 0) || !Number.isFinite(beta)) throw new ValueError(`smoothL1Loss: beta must be a finite number >= 0 (0 gives the L1 loss), got ${beta}`);
  const d = (x: number, t: number) => (Math.abs(x - t) < beta ? (x - t) / beta : Math.sign(x - t));
  return pointwise('smoothL1Loss', input, target, reduction, {
    value: (x, t) => {
      const a = Math.abs(x - t);
      return a < beta ? (0.5 * a * a) / beta : a - 0.5 * beta;
    },
    dInput: d,
    dTarget: (x, t) => -d(x, t),
  });
}

export interface HuberLossOptions {
  reduction?: Reduction;
  /** Where the loss turns from quadratic to linear (default 1, > 0). */
  delta?: number;
}

/**
 * PyTorch's huber_loss, with z = x - t (delta times smoothL1Loss with beta = delta):
 *   l = 0.5 z^2 where |z| < delta, delta (|z| - 0.5 delta) elsewhere;
 *   dl/dx = z where |z| < delta, delta sign(z) elsewhere; dl/dt = -dl/dx.
 */
export function huberLoss(input: Tensor, target: Tensor, options: HuberLossOptions = {}): Tensor {
  checkPair('huberLoss', input, target);
  checkOptions('huberLoss', options, ['reduction', 'delta']);
  const reduction = checkReduction('huberLoss', options.reduction ?? 'mean');
  const delta = options.delta ?? 1;
  if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) throw new ValueError(`huberLoss: delta must be a finite number > 0, got ${delta}`);
  const d = (x: number, t: number) => (Math.abs(x - t) < delta ? x - t : delta * Math.sign(x - t));
  return pointwise('huberLoss', input, target, reduction, {
    value: (x, t) => {
      const a = Math.abs(x - t);
      return a < delta ? 0.5 * a * a : delta * (a - 0.5 * delta);
    },
    dInput: d,
    dTarget: (x, t) => -d(x, t),
  });
}

export interface BinaryCrossEntropyOptions {
  reduction?: Reduction;
  /** Rescales each element's loss; broadcast to the input's shape. */
  weight?: Tensor;
}

/**
 * Binary cross-entropy of probabilities p in [0, 1] against targets t
 * (PyTorch's binary_cross_entropy, which clamps each log at -100 so p = 0 or 1 stays finite):
 *   l = -w (t max(log p, -100) + (1 - t) max(log(1 - p), -100))
 *   dl/dp = w (p - t) / max(p (1 - p), 1e-12)                  (PyTorch's clamped form)
 *   dl/dt = w (max(log(1 - p), -100) - max(log p, -100))
 * For logits, binaryCrossEntropyWithLogits is stabler and cheaper.
 */
export function binaryCrossEntropy(probs: Tensor, target: Tensor, options: BinaryCrossEntropyOptions = {}): Tensor {
  checkPair('binaryCrossEntropy', probs, target);
  checkOptions('binaryCrossEntropy', options, ['reduction', 'weight']);
  const reduction = checkReduction('binaryCrossEntropy', options.reduction ?? 'mean');
  const w = elementWeights('binaryCrossEntropy', 'weight', options.weight, probs.shape);
  for (let i = 0; i < probs.size; i++) {
    const p = probs.data[i];
    if (!(p >= 0 && p <= 1)) {
      throw new ValueError(`binaryCrossEntropy: input ${p} at index ${i} is not a probability; every input must be in [0, 1] (apply sigmoid first, or use binaryCrossEntropyWithLogits on the raw scores)`);
    }
  }
  // log p and log(1 - p) (as log1p(-p), accurate for small p), each clamped at -100.
  const logP = (p: number) => Math.max(Math.log(p), -100);
  const log1mP = (p: number) => Math.max(Math.log1p(-p), -100);
  const wi = (i: number) => (w === null ? 1 : w[i]);
  return pointwise('binaryCrossEntropy', probs, target, reduction, {
    value: (p, t, i) => -wi(i) * (t * logP(p) + (1 - t) * log1mP(p)),
    dInput: (p, t, i) => (wi(i) * (p - t)) / Math.max(p * (1 - p), 1e-12),
    dTarget: (p, _t, i) => wi(i) * (log1mP(p) - logP(p)),
  });
}

export interface BinaryCrossEntropyWithLogitsOptions {
  reduction?: Reduction;
  /** Rescales each element's loss; broadcast to the input's shape. */
  weight?: Tensor;
  /** Weight of the positive term, per class (e.g. [C], broadcast to the input's shape): > 1 raises recall. */
  posWeight?: Tensor;
}

/**
 * Binary cross-entropy on logits x, with sigma the sigmoid (PyTorch's
 * binary_cross_entropy_with_logits), in the stable form, with lw = 1 + (posWeight - 1) t:
 *   l = w ((1 - t) x + lw softplus(-x)),   softplus(-x) = log(1 + e^-|x|) + max(-x, 0) = -log sigma(x)
 *   dl/dx = w ((1 - t) - lw sigma(-x))     (= w (sigma(x) - t) without posWeight)
 *   dl/dt = w ((posWeight - 1) softplus(-x) - x)
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, options: BinaryCrossEntropyWithLogitsOptions = {}): Tensor {
  checkPair('binaryCrossEntropyWithLogits', logits, target);
  checkOptions('binaryCrossEntropyWithLogits', options, ['reduction', 'weight', 'posWeight']);
  const reduction = checkReduction('binaryCrossEntropyWithLogits', options.reduction ?? 'mean');
  const w = elementWeights('binaryCrossEntropyWithLogits', 'weight', options.weight, logits.shape);
  const pw = elementWeights('binaryCrossEntropyWithLogits', 'posWeight', options.posWeight, logits.shape);
  const wi = (i: number) => (w === null ? 1 : w[i]);
  const pwi = (i: number) => (pw === null ? 1 : pw[i]);
  const softplusNeg = (x: number) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(-x, 0);
  const sigmoidNeg = (x: number) => 1 / (1 + Math.exp(x));
  return pointwise('binaryCrossEntropyWithLogits', logits, target, reduction, {
    value: (x, t, i) => wi(i) * ((1 - t) * x + (1 + (pwi(i) - 1) * t) * softplusNeg(x)),
    dInput: (x, t, i) => wi(i) * (1 - t - (1 + (pwi(i) - 1) * t) * sigmoidNeg(x)),
    dTarget: (x, _t, i) => wi(i) * ((pwi(i) - 1) * softplusNeg(x) - x),
  });
}
