/**
 * Max and average pooling over 2-D windows, each plane (n, c) alone.
 * Output size per axis, as in PyTorch:
 *   out = floor_or_ceil((in + 2p - d*(k - 1) - 1) / s) + 1,
 * and with ceilMode the last window must start inside the input or the left
 * padding ((out - 1)*s < in + p), else it is dropped.
 * Max routes the gradient to the winner of each window; average spreads
 * dL/dy / divisor over the window.
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import type { Backend, FloatArray, Pool2dGeometry } from '../backends/backend.js';
import { ShapeError, ValueError } from '../errors.js';
import { Tensor, allocateOutputIndices } from '../tensor/tensor.js';
import { reshape } from './shape.js';
import { checkImageShape, checkTensor, output } from './util.js';
import { checkOptions, pair } from '../validate.js';

export interface MaxPool2dOptions {
  /** Default: the kernel size (non-overlapping windows). */
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  dilation?: number | readonly [number, number];
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
}

/** One axis of the pooling output size (see the file comment). */
export function poolOutputSize(inSize: number, k: number, s: number, p: number, d: number, ceilMode: boolean): number {
  const span = inSize + 2 * p - d * (k - 1) - 1;
  let out = Math.floor((span + (ceilMode ? s - 1 : 0)) / s) + 1;
  if (ceilMode && (out - 1) * s >= inSize + p) out--;
  return out;
}

/** PyTorch's limit on pooling padding: at most half the (dilated) window, floor((d*(k - 1) + 1) / 2), so every window holds a real input. */
export function poolPaddingLimit(k: number, d: number): number {
  return Math.floor((d * (k - 1) + 1) / 2);
}

function poolGeometry(
  where: string, xShape: readonly number[], kernelSize: number | readonly [number, number],
  strideOpt: number | readonly [number, number] | undefined, paddingOpt: number | readonly [number, number] | undefined,
  dilationOpt: number | readonly [number, number] | undefined, ceilMode: boolean,
): Pool2dGeometry {
  checkImageShape(where, xShape);
  const [n, c, inH, inW] = xShape;
  const [kH, kW] = pair(where, 'kernelSize', kernelSize, 1);
  const [sH, sW] = pair(where, 'stride', strideOpt ?? [kH, kW], 1);
  const [pH, pW] = pair(where, 'padding', paddingOpt ?? 0, 0);
  const [dH, dW] = pair(where, 'dilation', dilationOpt ?? 1, 1);
  const effH = dH * (kH - 1) + 1;
  const effW = dW * (kW - 1) + 1;
  if (pH > poolPaddingLimit(kH, dH) || pW > poolPaddingLimit(kW, dW)) {
    throw new ValueError(`${where}: padding ${pH}x${pW} is more than half the window ${effH}x${effW}; padding must be at most ${poolPaddingLimit(kH, dH)}x${poolPaddingLimit(kW, dW)}`);
  }
  if (effH > inH + 2 * pH || effW > inW + 2 * pW) {
    throw new ShapeError(`${where}: window ${effH}x${effW} is larger than the padded input ${inH + 2 * pH}x${inW + 2 * pW}; use a smaller kernelSize or more padding`);
  }
  return {
    planes: n * c, inH, inW, kH, kW, strideH: sH, strideW: sW, padTop: pH, padLeft: pW, dilationH: dH, dilationW: dW,
    outH: poolOutputSize(inH, kH, sH, pH, dH, ceilMode),
    outW: poolOutputSize(inW, kW, sW, pW, dW, ceilMode),
  };
}

/** The checked geometry of maxPool2d on a 4-D input of xShape. */
export function maxPool2dGeometry(xShape: readonly number[], kernelSize: number | readonly [number, number], options: MaxPool2dOptions = {}, where = 'maxPool2d'): Pool2dGeometry {
  checkOptions(where, options, ['stride', 'padding', 'dilation', 'ceilMode']);
  return poolGeometry(where, xShape, kernelSize, options.stride, options.padding, options.dilation, options.ceilMode ?? false);
}

/** Runs a 4-D op on a 3-D input [C, H, W] as a batch of one, and drops that batch dim again. */
export function batched(x: Tensor, f: (x4: Tensor) => Tensor): Tensor {
  if (x.ndim !== 3) return f(x);
  const y = f(reshape(x, [1, ...x.shape]));
  return reshape(y, y.shape.slice(1));
}

/**
 * An op that turns each plane of x [N, C, H, W] into a plane of g.outH x g.outW:
 * `forward` fills y, and y is recorded as `name` with a backward in which
 * `backward` fills dL/dx (shaped like x) from dL/dy. Each gets the kernels for
 * its arrays' dtype. `attrs` (default g) is what an exporter reads (GradFn.attrs).
 */
export function planeOp(
  name: string, x: Tensor, g: { outH: number; outW: number },
  forward: (k: Backend['kernels'], y: FloatArray) => void,
  backward: (k: Backend['kernels'], gy: FloatArray, gx: FloatArray) => void,
  attrs: object = g,
): Tensor {
  const y = output([x.shape[0], x.shape[1], g.outH, g.outW], x.dtype);
  forward(kernelsFor(x.dtype), y.data);
  return record(y, name, [x], (gy) => {
    const gx = output(x.shape, gy.dtype);
    backward(kernelsFor(gy.dtype), gy.data, gx.data);
    return [gx];
  }, attrs);
}

/** Max pooling of x [N, C, H, W] (or [C, H, W]). */
export function maxPool2d(x: Tensor, kernelSize: number | readonly [number, number], options: MaxPool2dOptions = {}): Tensor {
  return maxPoolCore('maxPool2d', x, kernelSize, options, null);
}

/**
 * Max pooling that also says where each maximum came from, as PyTorch's
 * return_indices: `indices` has the shape of `values` and holds, as float32
 * integers, the flat index h*W + w of the winner inside its own input plane
 * (what maxUnpool2d takes). Only `values` carries a gradient.
 */
export function maxPool2dWithIndices(
  x: Tensor, kernelSize: number | readonly [number, number], options: MaxPool2dOptions = {},
): { values: Tensor; indices: Tensor } {
  const found: { argmax: Int32Array | null } = { argmax: null };
  const values = maxPoolCore('maxPool2dWithIndices', x, kernelSize, options, found);
  return { values, indices: new Tensor(Float32Array.from(found.argmax!), values.shape) };
}

function maxPoolCore(
  where: string, x: Tensor, kernelSize: number | readonly [number, number], options: MaxPool2dOptions,
  found: { argmax: Int32Array | null } | null,
): Tensor {
  checkTensor(where, 'input', x);
  checkOptions(where, options, ['stride', 'padding', 'dilation', 'ceilMode']);
  return batched(x, (x4) => {
    const g = poolGeometry(where, x4.shape, kernelSize, options.stride, options.padding, options.dilation, options.ceilMode ?? false);
    const argmax = allocateOutputIndices(g.planes * g.outH * g.outW);
    if (found) found.argmax = argmax;
    return planeOp('maxPool2d', x4, g,
      (k, y) => k.maxPool2dForward(x4.data, g, y, argmax),
      (k, gy, gx) => k.maxPool2dBackward(gy, argmax, g, gx),
      { ...g, ceilMode: options.ceilMode ?? false });
  });
}

/** Average pooling of x [N, C, H, W] (or [C, H, W]). */
export function avgPool2d(x: Tensor, kernelSize: number | readonly [number, number], options: AvgPool2dOptions = {}): Tensor {
  checkTensor('avgPool2d', 'input', x);
  checkOptions('avgPool2d', options, ['stride', 'padding', 'ceilMode', 'countIncludePad']);
  const countIncludePad = options.countIncludePad ?? true;
  return batched(x, (x4) => {
    const g = poolGeometry('avgPool2d', x4.shape, kernelSize, options.stride, options.padding, 1, options.ceilMode ?? false);
    return planeOp('avgPool2d', x4, g,
      (k, y) => k.avgPool2dForward(x4.data, g, countIncludePad, y),
      (k, gy, gx) => k.avgPool2dBackward(gy, g, countIncludePad, gx),
      { ...g, ceilMode: options.ceilMode ?? false, countIncludePad });
  });
}
