/**
 * L2 pooling across feature maps: channels are taken in consecutive groups of
 * g and each group becomes one channel,
 *   y[n, c, ...] = sqrt( sum_{k = c*g}^{c*g + g - 1} x[n, k, ...]^2 ),
 * so [N, C, ...] becomes [N, C/g, ...] (the pooling over features of
 * Hyvarinen-style topographic ICA / maxout-like units; spatial size unchanged).
 * Backward: dy/dx[k] = x[k] / y[c] for k in group c; where y = 0 (the whole
 * group is zero) the gradient is defined as 0.
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import { ShapeError, fmtShape } from '../errors.js';
import { shapeSize, type Tensor } from '../tensor/tensor.js';
import { checkTensor, output } from './util.js';
import { checkInt } from '../validate.js';

/** L2 pooling over groups of `groupSize` consecutive channels of x [N, C, ...] (dim 1). */
export function channelL2Pool(x: Tensor, groupSize: number): Tensor {
  checkTensor('channelL2Pool', 'input', x);
  checkInt('channelL2Pool', 'groupSize', groupSize, 1);
  if (x.ndim < 2) throw new ShapeError(`channelL2Pool: input must have a channel dimension, [batch, channels, ...], got shape ${fmtShape(x.shape)}`);
  const [batch, channels] = x.shape;
  if (channels % groupSize !== 0) {
    throw new ShapeError(`channelL2Pool: channels ${channels} (input ${fmtShape(x.shape)}) are not divisible by groupSize ${groupSize}; use a groupSize that divides the channel count`);
  }
  const inner = shapeSize(x.shape.slice(2));
  const y = output([batch, channels / groupSize, ...x.shape.slice(2)], x.dtype);
  kernelsFor(x.dtype).channelL2PoolForward(x.data, batch, channels, groupSize, inner, y.data);
  return record(y, 'channelL2Pool', [x], (gy) => {
    const gx = output(x.shape, gy.dtype);
    kernelsFor(gy.dtype).channelL2PoolBackward(x.data, y.data, gy.data, batch, channels, groupSize, inner, gx.data);
    return [gx];
  });
}
