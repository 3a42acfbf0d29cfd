/**
 * The regression losses: input and target of the same shape, one loss per
 * element (PyTorch broadcasts mismatched shapes with a warning; here that is an
 * error, since an [N, 1] output against [N] targets is almost always a bug).
 * Each element's loss l(x, t) and its derivatives are beside each loss below;
 * 'mean' divides by the element count (loss-reduction.ts).
 */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { sub } from './binary.js';
import { checkReduction, checkSameShape, pointwiseLoss, type PointwiseLoss, type Reduction } from './loss-reduction.js';
import { mean, sum } from './reduce.js';
import { square } from './unary.js';
import { checkOptions } from '../validate.js';

/** Mean squared error: reduce((input - target)^2). */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkSameShape('mseLoss', input, target);
  checkOptions('mseLoss', options, ['reduction']);
  const reduction = checkReduction('mseLoss', options.reduction ?? 'mean');
  const sq = square(sub(input, target));
  if (reduction === 'none') return sq;
  if (reduction === 'sum') return sum(sq);
  return mean(sq);
}

/** Mean absolute error: l = |x - t|; dl/dx = sign(x - t) (0 at x = t, as PyTorch), dl/dt = -dl/dx. */
export function l1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkSameShape('l1Loss', input, target);
  checkOptions('l1Loss', options, ['reduction']);
  const reduction = checkReduction('l1Loss', options.reduction ?? 'mean');
  return pointwiseLoss('l1Loss', input, target, reduction, {
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

/** Throws unless smooth L1's beta is a finite number >= 0. */
export function checkSmoothL1Beta(where: string, beta: unknown): number {
  if (typeof beta !== 'number' || !(beta >= 0) || !Number.isFinite(beta)) throw new ValueError(`${where}: beta must be a finite number >= 0 (0 gives the L1 loss), got ${String(beta)}`);
  return beta;
}

/**
 * `scale` times smooth L1 with threshold beta, with z = x - t:
 *   l = scale (0.5 z^2 / beta) where |z| < beta, scale (|z| - 0.5 beta) elsewhere;
 *   dl/dx = scale z / beta where |z| < beta, scale sign(z) elsewhere; dl/dt = -dl/dx.
 * Smooth L1 is scale 1; Huber is scale = beta = delta, where the quadratic
 * part's beta cancels: it is computed without it (0.5 z^2 and z), as PyTorch
 * writes Huber, so both losses give PyTorch's values to the bit.
 */
function scaledSmoothL1(beta: number, scale: number): PointwiseLoss {
  const cancels = scale === beta;
  const d = (x: number, t: number) => {
    const z = x - t;
    if (Math.abs(z) < beta) return cancels ? z : scale * (z / beta);
    return scale * Math.sign(z);
  };
  return {
    value: (x, t) => {
      const a = Math.abs(x - t);
      if (a < beta) return cancels ? 0.5 * a * a : scale * ((0.5 * a * a) / beta);
      return scale * (a - 0.5 * beta);
    },
    dInput: d,
    dTarget: (x, t) => -d(x, t),
  };
}

/** PyTorch's smooth_l1_loss: scaledSmoothL1(beta, 1) above. */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1LossOptions = {}): Tensor {
  checkSameShape('smoothL1Loss', input, target);
  checkOptions('smoothL1Loss', options, ['reduction', 'beta']);
  const reduction = checkReduction('smoothL1Loss', options.reduction ?? 'mean');
  const beta = checkSmoothL1Beta('smoothL1Loss', options.beta ?? 1);
  return pointwiseLoss('smoothL1Loss', input, target, reduction, scaledSmoothL1(beta, 1));
}

export interface HuberLossOptions {
  reduction?: Reduction;
  /** Where the loss turns from quadratic to linear (default 1, > 0). */
  delta?: number;
}

/** Throws unless Huber's delta is a finite number > 0. */
export function checkHuberDelta(where: string, delta: unknown): number {
  if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) throw new ValueError(`${where}: delta must be a finite number > 0, got ${String(delta)}`);
  return delta;
}

/**
 * PyTorch's huber_loss: delta times smooth L1 with beta = delta, with z = x - t:
 *   l = 0.5 z^2 where |z| < delta, delta (|z| - 0.5 delta) elsewhere;
 *   dl/dx = z where |z| < delta, delta sign(z) elsewhere; dl/dt = -dl/dx.
 */
export function huberLoss(input: Tensor, target: Tensor, options: HuberLossOptions = {}): Tensor {
  checkSameShape('huberLoss', input, target);
  checkOptions('huberLoss', options, ['reduction', 'delta']);
  const reduction = checkReduction('huberLoss', options.reduction ?? 'mean');
  const delta = checkHuberDelta('huberLoss', options.delta ?? 1);
  return pointwiseLoss('huberLoss', input, target, reduction, scaledSmoothL1(delta, delta));
}
