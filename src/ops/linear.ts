/**
 * Fully connected layer: y = x W^T + b, with x [..., in], W [out, in], b [out].
 * Gradients (x flattened to rows X [n, in]):
 *   dL/dX = dL/dY W,   dL/dW = dL/dY^T X,   dL/db = sum over rows of dL/dY.
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import { ShapeError, fmtShape } from '../errors.js';
import { Tensor, resultDType } from '../tensor/tensor.js';
import { checkTensor, output } from './util.js';

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkTensor('linear', 'input', x);
  checkTensor('linear', 'weight', weight);
  if (weight.ndim !== 2) throw new ShapeError(`linear: weight must be 2-D [outFeatures, inFeatures], got shape ${fmtShape(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
    throw new ShapeError(`linear: input has shape ${fmtShape(x.shape)} but weight ${fmtShape(weight.shape)} expects the last dim to be ${inF} features; flatten the input first (e.g. flatten(x, 1)) or fix inFeatures`);
  }
  if (bias != null) {
    checkTensor('linear', 'bias', bias);
    if (bias.ndim !== 1 || bias.shape[0] !== outF) throw new ShapeError(`linear: bias must have shape [${outF}] to match weight ${fmtShape(weight.shape)}, got ${fmtShape(bias.shape)}`);
  }
  const rows = x.size / inF;
  const dtype = bias ? resultDType(x, weight, bias) : resultDType(x, weight);
  const k = kernelsFor(dtype);
  const y = output([...x.shape.slice(0, -1), outF], dtype);
  if (bias) {
    // y starts as the bias in every row and the product is added to it (beta = 1): one pass over y, not two
    const yd = y.data;
    for (let o = 0; o < yd.length; o += outF) yd.set(bias.data, o);
  }
  k.gemm(false, true, rows, outF, inF, 1, x.data, 0, weight.data, 0, bias ? 1 : 0, y.data, 0);
  return record(y, 'linear', [x, weight, bias], (g) => {
    const kg = kernelsFor(g.dtype);
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (x.requiresGrad) {
      gx = output(x.shape, g.dtype);
      kg.gemm(false, false, rows, inF, outF, 1, g.data, 0, weight.data, 0, 0, gx.data, 0);
    }
    if (weight.requiresGrad) {
      gw = output(weight.shape, g.dtype);
      kg.gemm(true, false, outF, inF, rows, 1, g.data, 0, x.data, 0, 0, gw.data, 0);
    }
    if (bias && bias.requiresGrad) {
      gb = output(bias.shape, g.dtype);
      kg.reduce('sum', g.data, 1, rows, outF, gb.data);
    }
    return [gx, gw, gb];
  });
}
