/**
 * softmax(x)_i = e^{x_i} / sum_j e^{x_j} and logSoftmax(x)_i = x_i - log sum_j e^{x_j}
 * along `dim`, computed with the max subtracted so nothing overflows.
 * Jacobian-vector products:
 *   softmax:    dL/dx = y * (dL/dy - sum(dL/dy * y))
 *   logSoftmax: dL/dx = dL/dy - softmax(x) * sum(dL/dy)
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import { Tensor, shapeSize } from '../tensor/tensor.js';
import { checkTensor, normalizeDims, output } from './util.js';

function softmaxOp(x: Tensor, dim: number, log: boolean): Tensor {
  const name = log ? 'logSoftmax' : 'softmax';
  checkTensor(name, 'input', x);
  const [d] = normalizeDims(dim, x.ndim, name);
  const outer = shapeSize(x.shape.slice(0, d));
  const size = x.ndim === 0 ? 1 : x.shape[d];
  const inner = shapeSize(x.shape.slice(d + 1));
  const y = output(x.shape, x.dtype);
  kernelsFor(x.dtype).softmax(x.data, outer, size, inner, log, y.data);
  return record(y, name, [x], (g) => {
    const gx = output(x.shape, g.dtype);
    kernelsFor(g.dtype).softmaxBackward(y.data, g.data, outer, size, inner, log, gx.data);
    return [gx];
  }, { dim: d });
}

/** Softmax along `dim` (default the last). */
export function softmax(x: Tensor, dim = -1): Tensor {
  return softmaxOp(x, dim, false);
}

/** Log-softmax along `dim` (default the last): more accurate than log(softmax(x)). */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return softmaxOp(x, dim, true);
}
