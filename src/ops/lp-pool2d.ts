/**
 * LP pooling (power-average pooling) over 2-D windows, each plane alone:
 *   y = (sum over the window of x^p)^(1/p)
 * p = 2 is the L2 pooling of the lectures, p = 1 sum pooling, and p -> infinity
 * tends to max pooling. No padding; stride defaults to the kernel size; output
 * sizes as in maxPool2d (floor, or ceil with ceilMode).
 *
 * PyTorch semantics, exactly: PyTorch computes avg_pool2d(x^p) * kH*kW and then
 * the 1/p power. For a full window that is the sum; for a window that ceilMode
 * cuts short at the bottom/right edge, avg_pool2d divides by the clipped area,
 * so the result is the window's sum scaled by kH*kW / (clipped area), not its
 * plain sum. With `mean: true` the result is the power mean
 * (mean over the clipped window of x^p)^(1/p) instead (the "LP pooling as a
 * mean" convention of some frameworks).
 * A negative power sum (odd p with negative inputs) has no real p-th root: as in
 * PyTorch the output is NaN there unless 1/p is an integer (p = 1, 1/2, ...).
 *
 * Backward, with v the (scaled) power sum and c its scale (kH*kW/area, or
 * 1/area for the mean):
 *   dy/dx_i = c * x_i^(p-1) * v^(1/p - 1)
 * and 0 for windows whose v is 0, as PyTorch defines it.
 */
import type { Pool2dGeometry } from '../backends/backend.js';
import { ShapeError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { batched, planeOp, poolOutputSize } from './pool2d.js';
import { checkImageShape, checkTensor } from './util.js';
import { checkOptions, pair } from '../validate.js';

export interface LpPool2dOptions {
  /** Default: the kernel size (non-overlapping windows). */
  stride?: number | readonly [number, number];
  /** Ceil instead of floor for the output size (extra windows at the bottom/right edges). */
  ceilMode?: boolean;
  /** The power mean over the window instead of PyTorch's power sum (default false). */
  mean?: boolean;
}

/** Throws unless p is a finite number > 0. */
export function checkLpNorm(where: string, p: unknown): number {
  if (typeof p !== 'number' || Number.isNaN(p)) throw new ValueError(`${where}: p must be a number > 0 (p = 2 is L2 pooling), got ${typeof p === 'number' ? p : JSON.stringify(p)}`);
  if (p <= 0) throw new ValueError(`${where}: LP pooling needs p > 0, got p=${p}; use p = 2 for L2 pooling or p = 1 for sum pooling`);
  if (!Number.isFinite(p)) throw new ValueError(`${where}: LP pooling needs a finite p, got p=${p}; p = Infinity is max pooling, use maxPool2d`);
  return p;
}

function lpGeometry(xShape: readonly number[], kernelSize: number | readonly [number, number], options: LpPool2dOptions): Pool2dGeometry {
  checkImageShape('lpPool2d', xShape);
  const [n, c, inH, inW] = xShape;
  const [kH, kW] = pair('lpPool2d', 'kernelSize', kernelSize, 1);
  const [sH, sW] = pair('lpPool2d', 'stride', options.stride ?? [kH, kW], 1);
  if (kH > inH || kW > inW) {
    throw new ShapeError(`lpPool2d: window ${kH}x${kW} is larger than the input ${inH}x${inW} (LP pooling has no padding); use a smaller kernelSize`);
  }
  const ceilMode = options.ceilMode ?? false;
  return {
    planes: n * c, inH, inW, kH, kW, strideH: sH, strideW: sW, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1,
    outH: poolOutputSize(inH, kH, sH, 0, 1, ceilMode),
    outW: poolOutputSize(inW, kW, sW, 0, 1, ceilMode),
  };
}

/** LP pooling of x [N, C, H, W] (or [C, H, W]) with exponent p > 0 (see the file comment). */
export function lpPool2d(x: Tensor, p: number, kernelSize: number | readonly [number, number], options: LpPool2dOptions = {}): Tensor {
  checkTensor('lpPool2d', 'input', x);
  checkLpNorm('lpPool2d', p);
  checkOptions('lpPool2d', options, ['stride', 'ceilMode', 'mean']);
  const mean = options.mean ?? false;
  return batched(x, (x4) => {
    const g = lpGeometry(x4.shape, kernelSize, options);
    return planeOp('lpPool2d', x4, g,
      (k, y) => k.lpPool2dForward(x4.data, g, p, mean, y),
      (k, gy, gx) => k.lpPool2dBackward(x4.data, gy, g, p, mean, gx),
      { ...g, p, mean, ceilMode: options.ceilMode ?? false });
  });
}
