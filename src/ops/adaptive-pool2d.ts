/**
 * Adaptive pooling: the caller picks the output size and the windows follow,
 * as in PyTorch. Along an axis of `in` values pooled to `out`, output i covers
 *   start = floor(i * in / out)  ..  end = ceil((i + 1) * in / out)  (exclusive),
 * so windows differ in size (and overlap) when out does not divide in, and an
 * output larger than the input repeats values.
 * Global pooling is the 1x1 case: one value per plane (the classifier heads of
 * NiN, GoogLeNet and ResNet).
 * Backward: average spreads dL/dy / (window area) over its window; max routes
 * dL/dy to the winner of each window (accumulating where windows overlap).
 */
import type { AdaptivePool2dGeometry } from '../backends/backend.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { allocateOutputIndices, type Tensor } from '../tensor/tensor.js';
import { batched, planeOp } from './pool2d.js';
import { reshape } from './shape.js';
import { checkImageShape, checkTensor } from './util.js';
import { checkInt, checkOptions } from '../validate.js';

/** One size for both axes, or [h, w] where null keeps that axis of the input. */
export type AdaptiveOutputSize = number | readonly [number | null, number | null];

export interface GlobalPool2dOptions {
  /** Keep the pooled 1x1 axes: [N, C, 1, 1] (default true); false gives [N, C]. */
  keepDims?: boolean;
}

function adaptiveGeometry(where: string, xShape: readonly number[], outputSize: AdaptiveOutputSize): AdaptivePool2dGeometry {
  checkImageShape(where, xShape);
  const [n, c, inH, inW] = xShape;
  if (inH === 0 || inW === 0) throw new ShapeError(`${where}: input planes must be non-empty, got shape ${fmtShape(xShape)}`);
  let pairSize: readonly (number | null)[];
  if (typeof outputSize === 'number') pairSize = [outputSize, outputSize];
  else if (Array.isArray(outputSize) && outputSize.length === 2) pairSize = outputSize;
  else throw new ValueError(`${where}: outputSize must be a number or [h, w] (null keeps that axis), got ${JSON.stringify(outputSize)}`);
  const outH = pairSize[0] === null ? inH : checkInt(where, 'outputSize', pairSize[0], 1);
  const outW = pairSize[1] === null ? inW : checkInt(where, 'outputSize', pairSize[1], 1);
  return { planes: n * c, inH, inW, outH, outW };
}

/** Adaptive average pooling of x [N, C, H, W] (or [C, H, W]) to outputSize. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
  checkTensor('adaptiveAvgPool2d', 'input', x);
  return batched(x, (x4) => {
    const g = adaptiveGeometry('adaptiveAvgPool2d', x4.shape, outputSize);
    return planeOp('adaptiveAvgPool2d', x4, g,
      (k, y) => k.adaptiveAvgPool2dForward(x4.data, g, y),
      (k, gy, gx) => k.adaptiveAvgPool2dBackward(gy, g, gx));
  });
}

/** Adaptive max pooling of x [N, C, H, W] (or [C, H, W]) to outputSize. */
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
  checkTensor('adaptiveMaxPool2d', 'input', x);
  return batched(x, (x4) => {
    const g = adaptiveGeometry('adaptiveMaxPool2d', x4.shape, outputSize);
    const argmax = allocateOutputIndices(g.planes * g.outH * g.outW);
    return planeOp('adaptiveMaxPool2d', x4, g,
      (k, y) => k.adaptiveMaxPool2dForward(x4.data, g, y, argmax),
      (k, gy, gx) => k.scatterPlanes(gy, argmax, g.planes, g.outH * g.outW, g.inH * g.inW, true, gx));
  });
}

function globalPool(where: string, x: Tensor, options: GlobalPool2dOptions, pool: (x: Tensor) => Tensor): Tensor {
  checkTensor(where, 'input', x);
  checkOptions(where, options, ['keepDims']);
  checkImageShape(where, x.shape, true);
  const y = pool(x);
  return options.keepDims ?? true ? y : reshape(y, y.shape.slice(0, -2));
}

/** The mean of each plane: [N, C, H, W] -> [N, C, 1, 1] ([N, C] with keepDims false). */
export function globalAvgPool2d(x: Tensor, options: GlobalPool2dOptions = {}): Tensor {
  return globalPool('globalAvgPool2d', x, options, (t) => adaptiveAvgPool2d(t, 1));
}

/** The max of each plane: [N, C, H, W] -> [N, C, 1, 1] ([N, C] with keepDims false). */
export function globalMaxPool2d(x: Tensor, options: GlobalPool2dOptions = {}): Tensor {
  return globalPool('globalMaxPool2d', x, options, (t) => adaptiveMaxPool2d(t, 1));
}
