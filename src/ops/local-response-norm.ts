/**
 * Local response normalization across channels (Krizhevsky et al., 2012,
 * AlexNet; PyTorch's local_response_norm), on x [N, C, ...] with channels at dim 1:
 *   b_c = a_c / (k + alpha/size * sum_{c' = c - floor(size/2)}^{c + floor((size-1)/2)} a_{c'}^2)^beta
 * where channels outside 0..C-1 count as zeros and the divisor stays `size`
 * (PyTorch pads, then average-pools the squares). AlexNet used size 5,
 * alpha 1e-4, beta 0.75, k 2; PyTorch's defaults are alpha 1e-4, beta 0.75, k 1.
 *
 * Backward, with s_c = k + alpha/size * (window sum of a^2), so b_c = a_c s_c^(-beta):
 *   db_c/da_j = [c = j] s_c^(-beta) - beta a_c s_c^(-beta-1) * (2 alpha/size) a_j [j in window(c)]
 *   dL/da_j   = g_j s_j^(-beta) - (2 alpha beta / size) a_j * sum_{c : j in window(c)} g_c b_c / s_c
 * and j is in window(c) exactly when c runs from j - floor((size-1)/2) to
 * j + floor(size/2): the window mirrored (different from the forward one for even sizes).
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import type { LocalResponseNormParams } from '../backends/backend.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { shapeSize, type Tensor } from '../tensor/tensor.js';
import { checkTensor, output } from './util.js';
import { checkInt, checkOptions } from '../validate.js';

export interface LocalResponseNormOptions {
  /** Scale of the window sum (default 1e-4). */
  alpha?: number;
  /** Exponent (default 0.75). */
  beta?: number;
  /** Additive constant (default 1; AlexNet used 2). */
  k?: number;
}

function checkFinite(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValueError(`${where}: ${name} must be a finite number, got ${JSON.stringify(value)}`);
  return value;
}

/** Local response normalization of x [N, C, ...] over windows of `size` neighbouring channels. */
export function localResponseNorm(x: Tensor, size: number, options: LocalResponseNormOptions = {}): Tensor {
  const where = 'localResponseNorm';
  checkTensor(where, 'input', x);
  checkInt(where, 'size', size, 1);
  checkOptions(where, options, ['alpha', 'beta', 'k']);
  const params: LocalResponseNormParams = {
    size,
    alpha: checkFinite(where, 'alpha', options.alpha ?? 1e-4),
    beta: checkFinite(where, 'beta', options.beta ?? 0.75),
    k: checkFinite(where, 'k', options.k ?? 1),
  };
  if (x.ndim < 3) {
    throw new ShapeError(`${where}: input must be at least 3-D [batch, channels, ...] (e.g. [N, C, H, W]), got shape ${fmtShape(x.shape)}; add the batch dim with unsqueeze(0)`);
  }
  const [batch, channels] = x.shape;
  const inner = shapeSize(x.shape.slice(2));
  const y = output(x.shape, x.dtype);
  const scale = output(x.shape, x.dtype);
  kernelsFor(x.dtype).localResponseNormForward(x.data, batch, channels, inner, params, y.data, scale.data);
  return record(y, where, [x], (gy) => {
    const gx = output(x.shape, gy.dtype);
    kernelsFor(gy.dtype).localResponseNormBackward(x.data, y.data, scale.data, gy.data, batch, channels, inner, params, gx.data);
    return [gx];
  }, params);
}
