import { kernelsFor } from '../backends/index.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, allocate, allocateOutput, shapeSize, type DType } from '../tensor/tensor.js';

/** NumPy / PyTorch broadcasting: align shapes on the right; each pair of dims must be equal or one of them 1. */
export function broadcastShapes(a: readonly number[], b: readonly number[], where: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${where}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast: dimension ${i} (from the left of the aligned shapes) is ${da} vs ${db}; sizes must match or one must be 1`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Left-pads a shape with 1s to `rank`. */
export function padShape(shape: readonly number[], rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

/** A new tensor of the given shape and dtype, zero-filled. */
export function empty(shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(allocate(dtype, shapeSize(shape)), shape);
}

/**
 * A new tensor for a kernel (or a loop) to write in full: its values until
 * then are unspecified (uninitialized memory in Node, see allocateOutput).
 * Use `empty` where the code relies on zeros (scatterAdd accumulates).
 */
export function output(shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(allocateOutput(dtype, shapeSize(shape)), shape);
}

/**
 * Sums g over the dimensions that broadcasting expanded, so the result has
 * `shape`: the gradient of a broadcast is the sum of the copies' gradients.
 * Runs on raw arrays (it is only used inside backward functions).
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const k = kernelsFor(g.dtype);
  const padded = padShape(shape, g.shape.length);
  let cur = g.data;
  let curShape = [...g.shape];
  for (let d = 0; d < curShape.length; d++) {
    if (padded[d] === 1 && curShape[d] !== 1) {
      const outer = shapeSize(curShape.slice(0, d));
      const inner = shapeSize(curShape.slice(d + 1));
      const next = allocateOutput(g.dtype, outer * inner);
      k.reduce('sum', cur, outer, curShape[d], inner, next);
      cur = next;
      curShape[d] = 1;
    }
  }
  return new Tensor(cur, shape);
}

/** Expands t to `shape` by broadcasting (a copy). */
export function broadcastData(t: Tensor, shape: readonly number[]): Tensor {
  if (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return t;
  const out = output(shape, t.dtype);
  const zero = allocate(t.dtype, 1);
  kernelsFor(t.dtype).binary('add', t.data, padShape(t.shape, shape.length), zero, padShape([1], shape.length), out.data, shape);
  return out;
}

/** Normalizes a list of dims (negative allowed) for a tensor of rank `ndim`; undefined means all dims. */
export function normalizeDims(dim: number | readonly number[] | undefined, ndim: number, where: string): number[] {
  if (dim === undefined) return [...Array(ndim).keys()];
  const dims = typeof dim === 'number' ? [dim] : [...dim];
  const out: number[] = [];
  for (const d of dims) {
    if (!Number.isInteger(d) || d < -ndim || d >= Math.max(ndim, 1)) {
      throw new ValueError(`${where}: dim ${d} is out of range for a tensor with ${ndim} dimensions (valid: ${-ndim} to ${ndim - 1})`);
    }
    const nd = d < 0 ? d + ndim : d;
    if (out.includes(nd)) throw new ValueError(`${where}: dim ${d} appears twice in ${JSON.stringify(dims)}`);
    out.push(nd);
  }
  return out.sort((a, b) => a - b);
}

/** Throws unless `value` is a Tensor. */
export function checkTensor(where: string, name: string, value: unknown): Tensor {
  if (!(value instanceof Tensor)) {
    throw new ValueError(`${where}: ${name} must be a Tensor, got ${value === null ? 'null' : Array.isArray(value) ? 'an array (wrap it with tensor(...))' : typeof value}`);
  }
  return value;
}

/**
 * Throws unless `shape` is 4-D [batch, channels, height, width] (or 3-D
 * [channels, height, width] when `unbatched` is accepted here): the rule of
 * every image op, which takes 3-D input too (some add the batch dimension
 * before this check, some accept the 3-D shape as it is).
 */
export function checkImageShape(where: string, shape: readonly number[], unbatched = false): void {
  if (shape.length !== 4 && !(unbatched && shape.length === 3)) throw new ShapeError(`${where}: input must be 4-D [batch, channels, height, width] (or 3-D without the batch), got shape ${fmtShape(shape)}`);
}
