/**
 * Element-wise arithmetic on two tensors with broadcasting: add, sub, mul, div,
 * pow, maximum, minimum, and the comparisons (which return 0/1 and have no
 * gradient). The gradient of a broadcast operand is summed over the
 * dimensions it was broadcast along (sumToShape).
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import type { BinaryOp } from '../backends/backend.js';
import { Tensor, resultDType, toTensor, type TensorLike } from '../tensor/tensor.js';
import { broadcastData, broadcastShapes, output, padShape, sumToShape } from './util.js';

function compute(op: BinaryOp, a: Tensor, b: Tensor, where: string): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, where);
  const out = output(shape, resultDType(a, b));
  kernelsFor(out.dtype).binary(op, a.data, padShape(a.shape, shape.length), b.data, padShape(b.shape, shape.length), out.data, shape);
  return out;
}

function operands(a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const ta = a instanceof Tensor ? a : toTensor(a, b instanceof Tensor ? b.dtype : 'float32');
  const tb = b instanceof Tensor ? b : toTensor(b, ta.dtype);
  return [ta, tb];
}

/** a + b. d/da = 1, d/db = 1. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = compute('add', x, y, 'add');
  return record(out, 'add', [x, y], (g) => [sumToShape(g, x.shape), sumToShape(g, y.shape)]);
}

/** a - b. d/da = 1, d/db = -1. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = compute('sub', x, y, 'sub');
  return record(out, 'sub', [x, y], (g) => [sumToShape(g, x.shape), y.requiresGrad ? sumToShape(compute('mul', g, toTensor(-1, g.dtype), 'sub'), y.shape) : null]);
}

/** a * b. d/da = b, d/db = a. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = compute('mul', x, y, 'mul');
  return record(out, 'mul', [x, y], (g) => [
    x.requiresGrad ? sumToShape(compute('mul', g, y, 'mul'), x.shape) : null,
    y.requiresGrad ? sumToShape(compute('mul', g, x, 'mul'), y.shape) : null,
  ]);
}

/** a / b. d/da = 1/b, d/db = -a/b^2. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = compute('div', x, y, 'div');
  return record(out, 'div', [x, y], (g) => [
    x.requiresGrad ? sumToShape(compute('div', g, y, 'div'), x.shape) : null,
    y.requiresGrad ? sumToShape(compute('mul', compute('div', g, y, 'div'), compute('mul', out, toTensor(-1, g.dtype), 'div'), 'div'), y.shape) : null,
  ]);
}

/** a ^ b element-wise. d/da = b a^(b-1) (0 where b = 0), d/db = a^b ln a (0 where a = 0 and b >= 0), as PyTorch. */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = compute('pow', x, y, 'pow');
  return record(out, 'pow', [x, y], (g) => {
    const k = kernelsFor(g.dtype);
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (x.requiresGrad) {
      const ym1 = compute('sub', y, toTensor(1, y.dtype), 'pow');
      const d = compute('mul', y, compute('pow', x, ym1, 'pow'), 'pow');
      // b = 0 makes a^b constant: the derivative is 0 even at a = 0 (0 * 0^-1 = NaN otherwise), as PyTorch.
      const zeroExp = broadcastData(compute('eq', y, toTensor(0, y.dtype), 'pow'), d.shape);
      for (let i = 0; i < d.size; i++) if (zeroExp.data[i] !== 0) d.data[i] = 0;
      ga = sumToShape(compute('mul', g, d, 'pow'), x.shape);
    }
    if (y.requiresGrad) {
      const lnx = output(x.shape, x.dtype);
      k.unary('log', x.data, lnx.data, {});
      const d = compute('mul', out, lnx, 'pow');
      // At a = 0, b >= 0: a^b ln a is 0 * -inf (or 1 * -inf at b = 0); PyTorch defines it as 0.
      const zeroBase = compute('mul', compute('eq', x, toTensor(0, x.dtype), 'pow'), compute('ge', y, toTensor(0, y.dtype), 'pow'), 'pow');
      for (let i = 0; i < d.size; i++) if (zeroBase.data[i] !== 0) d.data[i] = 0;
      gb = sumToShape(compute('mul', g, d, 'pow'), y.shape);
    }
    return [ga, gb];
  });
}

/**
 * Element-wise max / min. The gradient goes to the larger (smaller) input; on a
 * tie it is split equally between the two, as in PyTorch.
 */
function extremum(op: 'maximum' | 'minimum', a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = compute(op, x, y, op);
  return record(out, op, [x, y], (g) => {
    const winsA = compute(op === 'maximum' ? 'gt' : 'lt', x, y, op);
    const tie = compute('eq', x, y, op);
    const shareA = compute('add', winsA, compute('mul', tie, toTensor(0.5, tie.dtype), op), op);
    const shareB = compute('sub', toTensor(1, shareA.dtype), shareA, op);
    return [
      x.requiresGrad ? sumToShape(compute('mul', g, shareA, op), x.shape) : null,
      y.requiresGrad ? sumToShape(compute('mul', g, shareB, op), y.shape) : null,
    ];
  });
}

export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return extremum('maximum', a, b);
}

export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return extremum('minimum', a, b);
}

/** Comparisons give 1 where true and 0 where false; they are not differentiable. */
function compare(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  return compute(op, x, y, op);
}

export const eq = (a: TensorLike, b: TensorLike) => compare('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike) => compare('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike) => compare('lt', a, b);
export const le = (a: TensorLike, b: TensorLike) => compare('le', a, b);
export const gt = (a: TensorLike, b: TensorLike) => compare('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike) => compare('ge', a, b);
