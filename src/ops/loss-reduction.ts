/**
 * What every loss shares: the reduction ('mean' default, 'sum', 'none' keeps
 * one loss per element or position, as PyTorch) and its gradient, and the
 * element-wise loss pattern (one value and two partial derivatives per
 * element) that the regression and binary losses are written in.
 *
 * With per-element (or per-position) losses l_i and reduction r:
 *   'none': L_i = l_i,          dL_i/dl_i = 1        (the incoming gradient g_i passes through)
 *   'sum':  L = sum_i l_i,      dL/dl_i = 1          (times the scalar g)
 *   'mean': L = sum_i l_i / D,  dL/dl_i = 1 / D      (D: the element count, or the class-index
 *                                                      losses' sum of target weights)
 */
import { record } from '../autograd/tape.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, resultDType } from '../tensor/tensor.js';
import { broadcastData, broadcastShapes, checkTensor, empty } from './util.js';

export type Reduction = 'mean' | 'sum' | 'none';

/** Throws unless `reduction` is 'mean', 'sum' or 'none'. */
export function checkReduction(where: string, reduction: unknown): Reduction {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ValueError(`${where}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
  }
  return reduction;
}

/** The reduced loss: per-element values as they are, their sum, or their sum / divisor (NaN for 0 / 0, as PyTorch). */
export function reduceLoss(values: Tensor, reduction: Reduction, divisor: number, dtype: Tensor['dtype']): Tensor {
  if (reduction === 'none') return values;
  let total = 0;
  for (let i = 0; i < values.size; i++) total += values.data[i];
  const out = empty([], dtype);
  out.data[0] = reduction === 'sum' ? total : total / divisor;
  return out;
}

/** dL/dl_i times the incoming gradient g: g_i ('none'), g ('sum') or g / divisor ('mean'). */
export function reducedGradient(g: Tensor, i: number, reduction: Reduction, divisor: number): number {
  return reduction === 'none' ? g.data[i] : reduction === 'mean' ? g.data[0] / divisor : g.data[0];
}

/** One element's loss l(x, t) and its partial derivatives; i is the flat position (for weights). */
export interface PointwiseLoss {
  value(x: number, t: number, i: number): number;
  dInput(x: number, t: number, i: number): number;
  dTarget(x: number, t: number, i: number): number;
}

/** Element-wise losses take input and target of the same shape (an [N, 1] output against [N] targets is an error, not a broadcast). */
export function checkSameShape(where: string, input: Tensor, target: Tensor): void {
  checkTensor(where, 'input', input);
  checkTensor(where, 'target', target);
  if (input.shape.join() !== target.shape.join()) {
    throw new ShapeError(`${where}: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape; reshape one of them (an [N, 1] output against [N] targets is the usual cause)`);
  }
}

/** A weight tensor broadcast to the input's shape, as numbers per element (null when absent). */
export function elementWeights(where: string, name: string, weight: Tensor | undefined, shape: readonly number[]): ArrayLike<number> | null {
  if (weight === undefined || weight === null) return null;
  checkTensor(where, name, weight);
  const joint = broadcastShapes(weight.shape, shape, where);
  if (joint.join() !== shape.join()) {
    throw new ShapeError(`${where}: ${name} ${fmtShape(weight.shape)} must broadcast to the input's shape ${fmtShape(shape)} without enlarging it`);
  }
  return broadcastData(weight, shape).data;
}

/** Applies `loss` to every element, reduces ('mean' divides by the element count), and records the backward for input and target. */
export function pointwiseLoss(where: string, input: Tensor, target: Tensor, reduction: Reduction, loss: PointwiseLoss): Tensor {
  const dtype = resultDType(input, target);
  const x = input.data;
  const t = target.data;
  const count = input.size;
  const values = empty(input.shape, dtype);
  for (let i = 0; i < count; i++) values.data[i] = loss.value(x[i], t[i], i);
  const out = reduceLoss(values, reduction, count, dtype);
  return record(out, where, [input, target], (g) => {
    let gx: Tensor | null = null;
    let gt: Tensor | null = null;
    if (input.requiresGrad) {
      gx = empty(input.shape, g.dtype);
      for (let i = 0; i < count; i++) gx.data[i] = reducedGradient(g, i, reduction, count) * loss.dInput(x[i], t[i], i);
    }
    if (target.requiresGrad) {
      gt = empty(target.shape, g.dtype);
      for (let i = 0; i < count; i++) gt.data[i] = reducedGradient(g, i, reduction, count) * loss.dTarget(x[i], t[i], i);
    }
    return [gx, gt];
  });
}
