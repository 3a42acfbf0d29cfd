/**
 * Reductions over dimensions, with keepDims as in PyTorch: sum, mean, max, min,
 * argmax, argmin, variance. Gradients:
 *   sum:  dL/dx = broadcast(dL/dy)
 *   mean: dL/dx = broadcast(dL/dy) / n
 *   max/min: dL/dy goes to the elements equal to the extreme, split evenly among ties.
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import { ValueError } from '../errors.js';
import { Tensor, allocate, shapeSize } from '../tensor/tensor.js';
import { div, eq, mul, sub } from './binary.js';
import { square } from './unary.js';
import { checkOptions } from '../validate.js';
import { broadcastData, checkTensor, normalizeDims } from './util.js';

export interface ReduceOptions {
  /** Keep reduced dimensions with extent 1 (default false). */
  keepDims?: boolean;
}

type Dims = number | readonly number[] | undefined;

function shapes(x: Tensor, dims: number[], keepDims: boolean) {
  const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
  const out = keepDims ? kept : x.shape.filter((_, i) => !dims.includes(i));
  return { kept, out };
}

/** Reduces the listed dims of data (of `shape`) one at a time with the kernel; returns [data, keptShape]. */
function reduceData(op: 'sum' | 'max' | 'min', x: Tensor, dims: number[]) {
  const k = kernelsFor(x.dtype);
  let data = x.data;
  const cur = [...x.shape];
  for (const d of dims) {
    const outer = shapeSize(cur.slice(0, d));
    const inner = shapeSize(cur.slice(d + 1));
    const next = allocate(x.dtype, outer * inner);
    k.reduce(op, data, outer, cur[d], inner, next);
    data = next;
    cur[d] = 1;
  }
  return data;
}

/** Sum over `dim` (all dims when omitted). */
export function sum(x: Tensor, dim?: Dims, options: ReduceOptions = {}): Tensor {
  checkTensor('sum', 'input', x);
  checkOptions('sum', options, ['keepDims']);
  const dims = normalizeDims(dim, x.ndim, 'sum');
  const { kept, out } = shapes(x, dims, options.keepDims ?? false);
  const y = new Tensor(reduceData('sum', x, dims), out);
  return record(y, 'sum', [x], (g) => [broadcastData(g.shape.length === kept.length ? g : new Tensor(g.data, kept), x.shape)], { dims, keepDims: options.keepDims ?? false });
}

/** Mean over `dim` (all dims when omitted). */
export function mean(x: Tensor, dim?: Dims, options: ReduceOptions = {}): Tensor {
  checkTensor('mean', 'input', x);
  checkOptions('mean', options, ['keepDims']);
  const dims = normalizeDims(dim, x.ndim, 'mean');
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  if (n === 0) throw new ValueError('mean: cannot take the mean over zero elements');
  return div(sum(x, dims, options), n);
}

function extreme(op: 'max' | 'min', x: Tensor, dim: Dims, options: ReduceOptions): Tensor {
  checkTensor(op, 'input', x);
  checkOptions(op, options, ['keepDims']);
  if (x.size === 0) throw new ValueError(`${op}: cannot reduce an empty tensor; it has no ${op}imum`);
  const dims = normalizeDims(dim, x.ndim, op);
  const { kept, out } = shapes(x, dims, options.keepDims ?? false);
  const y = new Tensor(reduceData(op, x, dims), out);
  return record(y, op, [x], (g) => {
    const yk = broadcastData(new Tensor(y.data, kept), x.shape);
    const mask = eq(x, yk);
    const count = broadcastData(new Tensor(reduceData('sum', mask, dims), kept), x.shape);
    return [div(mul(mask, broadcastData(new Tensor(g.data, kept), x.shape)), count)];
  }, { dims, keepDims: options.keepDims ?? false });
}

/** Maximum over `dim` (all dims when omitted). */
export function max(x: Tensor, dim?: Dims, options: ReduceOptions = {}): Tensor {
  return extreme('max', x, dim, options);
}

/** Minimum over `dim` (all dims when omitted). */
export function min(x: Tensor, dim?: Dims, options: ReduceOptions = {}): Tensor {
  return extreme('min', x, dim, options);
}

function argExtreme(op: 'max' | 'min', x: Tensor, dim: number | undefined, options: ReduceOptions): Tensor {
  checkTensor(`arg${op}`, 'input', x);
  checkOptions(`arg${op}`, options, ['keepDims']);
  if (x.size === 0) throw new ValueError(`arg${op}: cannot reduce an empty tensor`);
  const k = kernelsFor(x.dtype);
  if (dim === undefined) {
    const idx = new Int32Array(1);
    k.argReduce(op, x.data, 1, x.size, 1, idx);
    return new Tensor(new Float32Array([idx[0]]), options.keepDims ? x.shape.map(() => 1) : []);
  }
  const [d] = normalizeDims(dim, x.ndim, `arg${op}`);
  const outer = shapeSize(x.shape.slice(0, d));
  const inner = shapeSize(x.shape.slice(d + 1));
  const idx = new Int32Array(outer * inner);
  k.argReduce(op, x.data, outer, x.shape[d], inner, idx);
  const { out } = shapes(x, [d], options.keepDims ?? false);
  return new Tensor(Float32Array.from(idx), out);
}

/** Index of the maximum along `dim` (of the flattened tensor when omitted); first occurrence on ties. Values are float32 integers. */
export function argmax(x: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  return argExtreme('max', x, dim, options);
}

export function argmin(x: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  return argExtreme('min', x, dim, options);
}

export interface VarianceOptions extends ReduceOptions {
  /** Subtracted from n in the divisor: 1 (default) is the unbiased estimate, 0 the population variance. */
  correction?: number;
}

/** var = sum((x - mean)^2) / (n - correction), over `dim` (all when omitted). */
export function variance(x: Tensor, dim?: Dims, options: VarianceOptions = {}): Tensor {
  checkTensor('variance', 'input', x);
  checkOptions('variance', options, ['keepDims', 'correction']);
  const dims = normalizeDims(dim, x.ndim, 'variance');
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const correction = options.correction ?? 1;
  if (n - correction <= 0) {
    throw new ValueError(`variance: ${n} element(s) with correction ${correction} leaves no degrees of freedom; use correction 0 or reduce over more elements`);
  }
  const centered = sub(x, mean(x, dims, { keepDims: true }));
  return div(sum(square(centered), dims, { keepDims: options.keepDims ?? false }), n - correction);
}

