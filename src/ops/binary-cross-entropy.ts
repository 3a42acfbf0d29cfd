/**
 * Binary cross-entropy, on probabilities and on logits (PyTorch's
 * binary_cross_entropy and binary_cross_entropy_with_logits): input and
 * target of the same shape, one loss per element, optional per-element
 * weights broadcast to the input's shape. Weights are constants: no gradient
 * flows to `weight` or `posWeight`.
 */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkReduction, checkSameShape, elementWeights, pointwiseLoss, type Reduction } from './loss-reduction.js';
import { checkOptions } from '../validate.js';

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
  checkSameShape('binaryCrossEntropy', probs, target);
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
  return pointwiseLoss('binaryCrossEntropy', probs, target, reduction, {
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
  checkSameShape('binaryCrossEntropyWithLogits', logits, target);
  checkOptions('binaryCrossEntropyWithLogits', options, ['reduction', 'weight', 'posWeight']);
  const reduction = checkReduction('binaryCrossEntropyWithLogits', options.reduction ?? 'mean');
  const w = elementWeights('binaryCrossEntropyWithLogits', 'weight', options.weight, logits.shape);
  const pw = elementWeights('binaryCrossEntropyWithLogits', 'posWeight', options.posWeight, logits.shape);
  const wi = (i: number) => (w === null ? 1 : w[i]);
  const pwi = (i: number) => (pw === null ? 1 : pw[i]);
  const softplusNeg = (x: number) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(-x, 0);
  const sigmoidNeg = (x: number) => 1 / (1 + Math.exp(x));
  return pointwiseLoss('binaryCrossEntropyWithLogits', logits, target, reduction, {
    value: (x, t, i) => wi(i) * ((1 - t) * x + (1 + (pwi(i) - 1) * t) * softplusNeg(x)),
    dInput: (x, t, i) => wi(i) * (1 - t - (1 + (pwi(i) - 1) * t) * sigmoidNeg(x)),
    dTarget: (x, _t, i) => wi(i) * ((pwi(i) - 1) * softplusNeg(x) - x),
  });
}
