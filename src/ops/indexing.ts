/**
 * Selection and indexing: clone, where, gather, indexSelect, expand /
 * broadcastTo, maxWithIndices / minWithIndices (PyTorch's `max(x, dim)`) and
 * topk. Gradients:
 *   clone:        dL/dx = dL/dy
 *   where:        dL/da = dL/dy where cond, 0 elsewhere; dL/db = dL/dy where not cond (each summed over broadcast dims)
 *   gather:       dL/dx = scatter-add of dL/dy to the gathered places (repeats add up)
 *   indexSelect:  the same, along one dimension
 *   expand:       dL/dx = dL/dy summed over the expanded dimensions
 *   max/min/topk with indices: dL/dvalues goes to the element each index names (no split on ties,
 *                 as PyTorch's value-selecting reductions; `max(x, dims)` without indices splits ties)
 *
 * Indices are float32 tensors holding integers (Stride has no integer dtype);
 * float32 represents every integer exactly up to 2^24 = 16,777,216, far past
 * any dimension a CNN indexes. Indices given to gather / indexSelect must be
 * integers in [0, size) (PyTorch rejects negative ones too).
 *
 * In-place forms (PyTorch's scatter_, index_add_, masked_fill_...) are
 * deliberately absent: writing into a tensor that the tape saved for a
 * backward pass would silently corrupt its gradient, and Stride has no
 * version counters to detect that. Use the out-of-place ops (`where` for
 * masked_fill, gather's gradient for scatter-add).
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, allocate, resultDType, shapeSize, toTensor, type TensorLike } from '../tensor/tensor.js';
import { broadcastShapes, checkTensor, empty, normalizeDims, output, padShape, sumToShape } from './util.js';
import { checkInt, checkOptions } from '../validate.js';

/** Values with the indices they came from (PyTorch's `(values, indices)` tuple). */
export interface ValuesAndIndices {
  values: Tensor;
  /** Integer positions along the reduced dimension, as a float32 tensor (exact up to 2^24). */
  indices: Tensor;
}

/** A copy of x with its own data that stays in the graph (PyTorch's clone): dL/dx = dL/dy. */
export function clone(x: Tensor): Tensor {
  checkTensor('clone', 'input', x);
  const out = output(x.shape, x.dtype);
  out.data.set(x.data);
  return record(out, 'clone', [x], (g) => [g]);
}

/** Reads integer indices, each in [0, size), from a tensor or array; `what` names them in errors. */
function readIndices(where: string, what: string, values: ArrayLike<number>, size: number, dim: number): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= size) {
      throw new ValueError(`${where}: ${what} ${v} at position ${i} is out of range for dimension ${dim} of size ${size}; indices must be integers in [0, ${size - 1}]`);
    }
    out[i] = v;
  }
  return out;
}

/** A 0-d tensor is treated as [1] by the dimension-wise ops below (PyTorch accepts dim 0 / -1 for it). */
const asShape = (t: Tensor): number[] => (t.ndim === 0 ? [1] : [...t.shape]);

/**
 * where(cond, a, b): a where cond is non-zero, b elsewhere, the three
 * broadcast together (PyTorch's torch.where). a and b may be numbers. The
 * condition is not differentiated.
 */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor('where', 'condition', condition);
  const ta = a instanceof Tensor ? a : checkScalar('a', a, b instanceof Tensor ? b.dtype : 'float32');
  const tb = b instanceof Tensor ? b : checkScalar('b', b, ta.dtype);
  const shape = broadcastShapes(broadcastShapes(condition.shape, ta.shape, 'where'), tb.shape, 'where');
  const rank = shape.length;
  const select = (c: Tensor, x: Tensor, y: Tensor, dtype = resultDType(x, y)): Tensor => {
    const out = output(shape, dtype);
    kernelsFor(dtype).where(c.data, padShape(c.shape, rank), x.data, padShape(x.shape, rank), y.data, padShape(y.shape, rank), out.data, shape);
    return out;
  };
  const out = select(condition, ta, tb);
  return record(out, 'where', [ta, tb], (g) => {
    const zero = toTensor(0, g.dtype);
    return [
      ta.requiresGrad ? sumToShape(select(condition, g, zero, g.dtype), ta.shape) : null,
      tb.requiresGrad ? sumToShape(select(condition, zero, g, g.dtype), tb.shape) : null,
    ];
  });
}

function checkScalar(name: string, v: unknown, dtype: 'float32' | 'float64'): Tensor {
  if (typeof v !== 'number') throw new ValueError(`where: ${name} must be a Tensor or a number, got ${v === null ? 'null' : Array.isArray(v) ? 'an array (wrap it with tensor(...))' : typeof v}`);
  return toTensor(v, dtype);
}

/**
 * PyTorch's gather along `dim`: out[i][j][k] = x[index[i][j][k]][j][k] for
 * dim 0 (and likewise for the other dims). index has x's rank and, outside
 * `dim`, extents no larger than x's; the output has index's shape.
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor('gather', 'input', x);
  checkTensor('gather', 'index', index);
  const [d] = normalizeDims(dim, Math.max(x.ndim, 1), 'gather');
  if (index.ndim !== x.ndim) {
    throw new ShapeError(`gather: index must have the input's number of dimensions (${x.ndim}), got index ${fmtShape(index.shape)} for input ${fmtShape(x.shape)}; unsqueeze the index`);
  }
  const xs = asShape(x);
  const is = asShape(index);
  for (let e = 0; e < xs.length; e++) {
    if (e !== d && is[e] > xs[e]) {
      throw new ShapeError(`gather: index ${fmtShape(index.shape)} is larger than input ${fmtShape(x.shape)} in dimension ${e} (${is[e]} > ${xs[e]}); outside dim ${d} the index may not exceed the input`);
    }
  }
  const idx = readIndices('gather', 'index', index.data, xs[d], d);
  const out = output(index.shape, x.dtype);
  kernelsFor(x.dtype).gather(x.data, xs, d, idx, is, out.data);
  return record(out, 'gather', [x], (g) => {
    const gx = empty(x.shape, g.dtype);
    kernelsFor(g.dtype).scatterAdd(g.data, idx, is, d, gx.data, xs);
    return [gx];
  });
}

/** The entries of x at `indices` (1-D, any order, repeats allowed) along `dim` (PyTorch's index_select). */
export function indexSelect(x: Tensor, dim: number, indices: Tensor | ArrayLike<number>): Tensor {
  checkTensor('indexSelect', 'input', x);
  const [d] = normalizeDims(dim, Math.max(x.ndim, 1), 'indexSelect');
  if (indices instanceof Tensor && indices.ndim > 1) {
    throw new ShapeError(`indexSelect: indices must be 1-D, got shape ${fmtShape(indices.shape)}; flatten them`);
  }
  const list: ArrayLike<number> = indices instanceof Tensor ? indices.data : indices;
  if (!list || typeof list.length !== 'number' || typeof list === 'string') {
    throw new ValueError('indexSelect: indices must be a 1-D Tensor or an array of integers');
  }
  const xs = asShape(x);
  const sel = readIndices('indexSelect', 'index', list, xs[d], d);
  const k = sel.length;
  const outer = shapeSize(xs.slice(0, d));
  const inner = shapeSize(xs.slice(d + 1));
  const os = [...xs];
  os[d] = k;
  // The gather index of every output position: sel[j] at [o, j, i].
  const idx = new Int32Array(outer * k * inner);
  for (let o = 0; o < outer; o++) for (let j = 0; j < k; j++) idx.fill(sel[j], (o * k + j) * inner, (o * k + j + 1) * inner);
  const out = output(x.ndim === 0 ? (k === 1 ? [] : [k]) : os, x.dtype);
  kernelsFor(x.dtype).gather(x.data, xs, d, idx, os, out.data);
  return record(out, 'indexSelect', [x], (g) => {
    const gx = empty(x.shape, g.dtype);
    kernelsFor(g.dtype).scatterAdd(g.data, idx, os, d, gx.data, xs);
    return [gx];
  }, { dim: d, indices: sel });
}

/**
 * x repeated along dimensions of size 1 (and new leading dimensions) to
 * `shape`; -1 keeps a dimension's size (PyTorch's expand). PyTorch returns a
 * view; here the result is a copy (the same values, no shared memory), and the
 * gradient is summed back over the expanded dimensions.
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  return expandAs('expand', x, shape);
}

/** The same as expand (PyTorch's broadcast_to). */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  return expandAs('broadcastTo', x, shape);
}

function expandAs(where: string, x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(where, 'input', x);
  if (!Array.isArray(shape)) throw new ValueError(`${where}: shape must be an array of sizes, got ${JSON.stringify(shape)}`);
  if (shape.length < x.ndim) {
    throw new ShapeError(`${where}: the target ${fmtShape(shape)} has fewer dimensions than the input ${fmtShape(x.shape)}; it needs at least ${x.ndim}`);
  }
  const lead = shape.length - x.ndim;
  const target = shape.map((s, i) => {
    const own = i >= lead ? x.shape[i - lead] : undefined;
    if (s === -1) {
      if (own === undefined) throw new ValueError(`${where}: -1 in ${fmtShape(shape)} at new leading dimension ${i}; a new dimension needs an explicit size`);
      return own;
    }
    if (!Number.isInteger(s) || s < 0) throw new ValueError(`${where}: sizes must be integers >= 0 (or -1 to keep one), got ${fmtShape(shape)}`);
    if (own !== undefined && own !== 1 && own !== s) {
      throw new ShapeError(`${where}: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}: dimension ${i} is ${own}, not 1, and the target is ${s}; only dimensions of size 1 can grow (use -1 to keep a size)`);
    }
    return s;
  });
  const out = output(target, x.dtype);
  // Multiplying by one copies every value exactly (also -0, infinities and NaN).
  kernelsFor(x.dtype).binary('mul', x.data, padShape(x.shape, target.length), allocate(x.dtype, 1).fill(1), padShape([1], target.length), out.data, target);
  return record(out, where, [x], (g) => [sumToShape(g, x.shape)]);
}

export interface WithIndicesOptions {
  /** Keep the reduced dimension with extent 1 (default false). */
  keepDims?: boolean;
}

/**
 * The maximum along `dim` and where it is (PyTorch's `torch.max(x, dim)`):
 * { values, indices }, the first occurrence on ties; a NaN is the maximum.
 * The gradient goes to the element at the index only.
 */
export function maxWithIndices(x: Tensor, dim: number, options: WithIndicesOptions = {}): ValuesAndIndices {
  return extremeWithIndices('max', x, dim, options);
}

/** The minimum along `dim` and where it is (PyTorch's `torch.min(x, dim)`). */
export function minWithIndices(x: Tensor, dim: number, options: WithIndicesOptions = {}): ValuesAndIndices {
  return extremeWithIndices('min', x, dim, options);
}

function extremeWithIndices(op: 'max' | 'min', x: Tensor, dim: number, options: WithIndicesOptions): ValuesAndIndices {
  const where = `${op}WithIndices`;
  checkTensor(where, 'input', x);
  checkOptions(where, options, ['keepDims']);
  if (typeof dim !== 'number') throw new ValueError(`${where}: dim must be a number (the dimension to reduce), got ${JSON.stringify(dim)}; for the ${op} of all elements use ${op}(x)`);
  const [d] = normalizeDims(dim, Math.max(x.ndim, 1), where);
  const xs = asShape(x);
  if (xs[d] === 0) throw new ValueError(`${where}: dimension ${d} of ${fmtShape(x.shape)} is empty; it has no ${op}imum`);
  const outer = shapeSize(xs.slice(0, d));
  const inner = shapeSize(xs.slice(d + 1));
  const k = kernelsFor(x.dtype);
  const kept = [...xs];
  kept[d] = 1;
  const outShape = x.ndim === 0 ? [] : options.keepDims ? kept : xs.filter((_, i) => i !== d);
  const values = output(outShape, x.dtype);
  k.reduce(op, x.data, outer, xs[d], inner, values.data);
  const idx = new Int32Array(outer * inner);
  k.argReduce(op, x.data, outer, xs[d], inner, idx);
  const indices = new Tensor(Float32Array.from(idx), outShape);
  record(values, where, [x], (g) => {
    const gx = empty(x.shape, g.dtype);
    kernelsFor(g.dtype).scatterAdd(g.data, idx, kept, d, gx.data, xs);
    return [gx];
  });
  return { values, indices };
}

export interface TopkOptions {
  /** The k largest (default true) or the k smallest. */
  largest?: boolean;
  /** Accepted for PyTorch compatibility; the result is always sorted (most extreme first), which `sorted: false` also allows. */
  sorted?: boolean;
}

/**
 * The k largest (or smallest) entries along `dim` (default the last), sorted,
 * and their indices (PyTorch's topk): the first and second guess of a
 * classifier are `topk(logits, 2)`. Equal values come in index order; NaN
 * counts as the largest value. The gradient goes to the selected elements.
 */
export function topk(x: Tensor, k: number, dim = -1, options: TopkOptions = {}): ValuesAndIndices {
  checkTensor('topk', 'input', x);
  checkOptions('topk', options, ['largest', 'sorted']);
  const [d] = normalizeDims(dim, Math.max(x.ndim, 1), 'topk');
  const xs = asShape(x);
  checkInt('topk', 'k', k, 0);
  if (k > xs[d]) throw new ValueError(`topk: k = ${k} is larger than dimension ${d} of ${fmtShape(x.shape)} (size ${xs[d]}); k must be in [0, ${xs[d]}]`);
  const largest = options.largest ?? true;
  if (typeof largest !== 'boolean') throw new ValueError(`topk: largest must be a boolean, got ${JSON.stringify(largest)}`);
  if (options.sorted !== undefined && typeof options.sorted !== 'boolean') throw new ValueError(`topk: sorted must be a boolean, got ${JSON.stringify(options.sorted)}`);
  const outer = shapeSize(xs.slice(0, d));
  const inner = shapeSize(xs.slice(d + 1));
  const os = [...xs];
  os[d] = k;
  const outShape = x.ndim === 0 ? (k === 1 ? [] : [0]) : os;
  const values = output(outShape, x.dtype);
  const idx = new Int32Array(outer * k * inner);
  kernelsFor(x.dtype).topk(x.data, outer, xs[d], inner, k, largest, values.data, idx);
  const indices = new Tensor(Float32Array.from(idx), outShape);
  record(values, 'topk', [x], (g) => {
    const gx = empty(x.shape, g.dtype);
    kernelsFor(g.dtype).scatterAdd(g.data, idx, os, d, gx.data, xs);
    return [gx];
  });
  return { values, indices };
}
