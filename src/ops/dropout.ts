/**
 * Inverted dropout: in training each element is zeroed with probability p and
 * the survivors are scaled by 1 / (1 - p), so the expected value is unchanged
 * and evaluation needs no rescaling. dL/dx = dL/dy * mask / (1 - p).
 */
import { record } from '../autograd/tape.js';
import { ValueError } from '../errors.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { checkTensor, empty } from './util.js';

export interface DropoutOptions {
  /** Dropout is applied only when training is true (default true, as F.dropout). */
  training?: boolean;
  generator?: Generator;
}

export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  checkTensor('dropout', 'input', x);
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
