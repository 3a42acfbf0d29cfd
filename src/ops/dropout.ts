/**
 * Inverted dropout: in training each element is zeroed with probability p and
 * the survivors are scaled by 1 / (1 - p), so the expected value is unchanged
 * and evaluation needs no rescaling. dL/dx = dL/dy * mask / (1 - p).
 */
import { record } from '../autograd/tape.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';
import { checkTensor, empty } from './util.js';

export interface DropoutOptions {
  /** Dropout is applied only when training is true (default true, as F.dropout). */
  training?: boolean;
  generator?: Generator;
}

export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  checkTensor('dropout', 'input', x);
  checkOptions('dropout', options, ['training', 'generator']);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(`dropout: p must be a probability in [0, 1], got ${p}`);
  if (!(options.training ?? true) || p === 0) return x;
  const gen = options.generator ?? defaultGenerator;
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = empty(x.shape, x.dtype);
  const y = empty(x.shape, x.dtype);
  for (let i = 0; i < x.size; i++) {
    const m = gen.random() >= p ? scale : 0;
    mask.data[i] = m;
    y.data[i] = x.data[i] * m;
  }
  return record(y, 'dropout', [x], (g) => {
    const gx = empty(x.shape, g.dtype);
    for (let i = 0; i < gx.size; i++) gx.data[i] = g.data[i] * mask.data[i];
    return [gx];
  });
}

/**
 * Channel dropout (PyTorch's Dropout2d, Tompson et al., 2015): in training,
 * each whole channel x[n, c, :, :] is zeroed with probability p and the kept
 * channels are scaled by 1 / (1 - p); the identity otherwise. Neighbouring
 * pixels of a feature map are strongly correlated, so dropping single pixels
 * (dropout) regularizes conv layers little; dropping maps does.
 * Input [N, C, H, W], or [C, H, W] for one unbatched sample.
 * dL/dx = dL/dy * mask[n, c] / (1 - p).
 */
export function dropout2d(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  checkTensor('dropout2d', 'input', x);
  checkOptions('dropout2d', options, ['training', 'generator']);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(`dropout2d: p must be a probability in [0, 1], got ${p}`);
  if (x.ndim !== 4 && x.ndim !== 3) {
    throw new ShapeError(`dropout2d: input must be 4-D [batch, channels, height, width] or 3-D [channels, height, width], got shape ${fmtShape(x.shape)}`);
  }
  if (!(options.training ?? true) || p === 0) return x;
  const gen = options.generator ?? defaultGenerator;
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const planes = x.ndim === 4 ? x.shape[0] * x.shape[1] : x.shape[0];
  const planeSize = x.shape[x.ndim - 2] * x.shape[x.ndim - 1];
  // One draw per (sample, channel), in order.
  const mask = new Float64Array(planes);
  for (let i = 0; i < planes; i++) mask[i] = gen.random() >= p ? scale : 0;
  const y = empty(x.shape, x.dtype);
  for (let i = 0; i < planes; i++) {
    const m = mask[i];
    const base = i * planeSize;
    for (let j = 0; j < planeSize; j++) y.data[base + j] = x.data[base + j] * m;
  }
  return record(y, 'dropout2d', [x], (g) => {
    const gx = empty(x.shape, g.dtype);
    for (let i = 0; i < planes; i++) {
      const m = mask[i];
      const base = i * planeSize;
      for (let j = 0; j < planeSize; j++) gx.data[base + j] = g.data[base + j] * m;
    }
    return [gx];
  });
}
