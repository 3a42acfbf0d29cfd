/**
 * Views and movement: reshape, flatten, squeeze, unsqueeze, permute, transpose,
 * slice, concat, stack. Reshape-like ops share the data array (a view, as in
 * PyTorch for contiguous tensors); permute, slice, concat and stack copy. Each
 * backward undoes the movement: reshape back, inverse permutation, scatter of a
 * slice into zeros, split of a concatenation.
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, resultDType, shapeSize } from '../tensor/tensor.js';
import { checkTensor, empty, normalizeDims, output } from './util.js';
import { checkInt } from '../validate.js';

/** Same data, new shape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('reshape', 'input', x);
  if (!Array.isArray(shape)) throw new ValueError(`reshape: shape must be an array, got ${JSON.stringify(shape)}`);
  const s = [...shape];
  const inferred = s.indexOf(-1);
  if (s.filter((d) => d === -1).length > 1) throw new ValueError(`reshape: only one dimension can be -1, got ${fmtShape(s)}`);
  for (const d of s) {
    if (!Number.isInteger(d) || d < -1) throw new ValueError(`reshape: dimensions must be integers >= 0 (or one -1), got ${fmtShape(s)}`);
  }
  if (inferred >= 0) {
    const known = s.reduce((p, d) => (d === -1 ? p : p * d), 1);
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(s)}: ${x.size} is not divisible by ${known}`);
    }
    s[inferred] = x.size / known;
  }
  if (shapeSize(s) !== x.size) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(s)} (${shapeSize(s)} elements)`);
  }
  const out = new Tensor(x.data, s);
  return record(out, 'reshape', [x], (g) => [new Tensor(g.data, x.shape)]);
}

/** Merges dims startDim..endDim into one (default: all, giving 1-D). */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor('flatten', 'input', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const [s, e] = [startDim, endDim].map((d) => normalizeDims(d, x.ndim, 'flatten')[0]);
  if (s > e) throw new ValueError(`flatten: startDim ${startDim} comes after endDim ${endDim} for a ${x.ndim}-D tensor`);
  const merged = shapeSize(x.shape.slice(s, e + 1));
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/** Removes dims of extent 1 (only `dim` when given). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  checkTensor('squeeze', 'input', x);
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const [d] = normalizeDims(dim, x.ndim, 'squeeze');
  if (x.shape[d] !== 1) return x;
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

/** Inserts a dim of extent 1 at `dim` (in -(ndim+1) .. ndim). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor('unsqueeze', 'input', x);
  const [d] = normalizeDims(dim, x.ndim + 1, 'unsqueeze');
  const s = [...x.shape];
  s.splice(d, 0, 1);
  return reshape(x, s);
}

/** Reorders dims: output dim i is input dim perm[i]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  checkTensor('permute', 'input', x);
  if (!Array.isArray(perm) || perm.length !== x.ndim) {
    throw new ShapeError(`permute: a ${x.ndim}-D tensor needs ${x.ndim} dims in the permutation, got ${JSON.stringify(perm)}`);
  }
  const p = perm.map((d) => normalizeDims(d, x.ndim, 'permute')[0]);
  if (new Set(p).size !== p.length) throw new ValueError(`permute: ${JSON.stringify(perm)} repeats a dimension; it must be a permutation of 0..${x.ndim - 1}`);
  const out = output(p.map((d) => x.shape[d]), x.dtype);
  kernelsFor(x.dtype).permute(x.data, x.shape, p, out.data);
  return record(out, 'permute', [x], (g) => {
    const inverse = new Array<number>(p.length);
    p.forEach((d, i) => (inverse[d] = i));
    const gx = output(x.shape, g.dtype);
    kernelsFor(g.dtype).permute(g.data, g.shape, inverse, gx.data);
    return [gx];
  }, { perm: p });
}

/** Swaps two dims (default the last two, the matrix transpose). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  checkTensor('transpose', 'input', x);
  if (x.ndim < 2 && dim0 === -2 && dim1 === -1) return x;
  const [a] = normalizeDims(dim0, x.ndim, 'transpose');
  const [b] = normalizeDims(dim1, x.ndim, 'transpose');
  const perm = [...Array(x.ndim).keys()];
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/**
 * x[..., start:end:step, ...] along `dim` (Python slice semantics: negative
 * indices count from the end, bounds are clipped, step > 0).
 */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  checkTensor('slice', 'input', x);
  const [d] = normalizeDims(dim, x.ndim, 'slice');
  checkInt('slice', 'step', step, 1);
  const n = x.shape[d];
  const clip = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) {
    throw new ValueError(`slice: start and end must be integers, got ${start} and ${end}`);
  }
  const s = clip(start);
  const e = clip(end ?? n);
  const count = Math.max(0, Math.ceil((e - s) / step));
  const outer = shapeSize(x.shape.slice(0, d));
  const inner = shapeSize(x.shape.slice(d + 1));
  const shape = [...x.shape];
  shape[d] = count;
  const out = empty(shape, x.dtype);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < count; i++) {
      const src = (o * n + s + i * step) * inner;
      out.data.set(x.data.subarray(src, src + inner), (o * count + i) * inner);
    }
  }
  return record(out, 'slice', [x], (g) => {
    const gx = empty(x.shape, g.dtype);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < count; i++) {
        const dst = (o * n + s + i * step) * inner;
        gx.data.set(g.data.subarray((o * count + i) * inner, (o * count + i + 1) * inner), dst);
      }
    }
    return [gx];
  }, { dim: d, start: s, end: e, step });
}

/** Joins tensors along an existing dim; all other dims must match. */
export function concat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ValueError('concat: expected a non-empty array of tensors');
  tensors.forEach((t, i) => checkTensor('concat', `tensors[${i}]`, t));
  const first = tensors[0];
  const [d] = normalizeDims(dim, first.ndim, 'concat');
  for (let i = 1; i < tensors.length; i++) {
    const t = tensors[i];
    if (t.ndim !== first.ndim || t.shape.some((s: number, j: number) => j !== d && s !== first.shape[j])) {
      throw new ShapeError(`concat: tensors[${i}] has shape ${fmtShape(t.shape)} but tensors[0] has ${fmtShape(first.shape)}; all dims except dim ${d} must match`);
    }
  }
  const outer = shapeSize(first.shape.slice(0, d));
  const inner = shapeSize(first.shape.slice(d + 1));
  const total = tensors.reduce((p, t) => p + t.shape[d], 0);
  const shape = [...first.shape];
  shape[d] = total;
  const out = empty(shape, resultDType(...tensors));
  let offset = 0;
  for (const t of tensors) {
    const chunk = t.shape[d] * inner;
    for (let o = 0; o < outer; o++) out.data.set(t.data.subarray(o * chunk, (o + 1) * chunk), (o * total + offset) * inner);
    offset += t.shape[d];
  }
  return record(out, 'concat', [...tensors], (g) => {
    let off = 0;
    return tensors.map((t) => {
      const chunk = t.shape[d] * inner;
      const gt = empty(t.shape, g.dtype);
      for (let o = 0; o < outer; o++) gt.data.set(g.data.subarray((o * total + off) * inner, (o * total + off) * inner + chunk), o * chunk);
      off += t.shape[d];
      return gt;
    });
  }, { dim: d });
}

/** Joins same-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ValueError('stack: expected a non-empty array of tensors');
  tensors.forEach((t, i) => {
    checkTensor('stack', `tensors[${i}]`, t);
    if (t.shape.join() !== tensors[0].shape.join()) {
      throw new ShapeError(`stack: tensors[${i}] has shape ${fmtShape(t.shape)} but tensors[0] has ${fmtShape(tensors[0].shape)}; stacked tensors must have equal shapes`);
    }
  });
  const [d] = normalizeDims(dim, tensors[0].ndim + 1, 'stack');
  return concat(tensors.map((t) => unsqueeze(t, d)), d);
}
