/**
 * Indexing kernels: gather and its adjoint scatterAdd along one dimension,
 * where (select by a condition, with broadcasting) and topk (the k extreme
 * values along an axis). Indices arrive as Int32Array, already checked by the op.
 */
import type { FloatArray } from '../backend.js';

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/**
 * Calls visit(p, q) for every position p (flat, row-major) of a tensor of
 * `shape`, with q the flat offset of the same coordinates in a tensor whose
 * strides are `strides` (which may be larger, or 0 for a broadcast dimension).
 */
export function forEachPosition(shape: readonly number[], strides: readonly number[], visit: (p: number, q: number) => void): void {
  const rank = shape.length;
  let n = 1;
  for (const d of shape) n *= d;
  if (n === 0) return;
  const idx = new Array<number>(rank).fill(0);
  let q = 0;
  for (let p = 0; p < n; p++) {
    visit(p, q);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      q += strides[d];
      if (idx[d] < shape[d]) break;
      q -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/**
 * out[p] = x[p with its coordinate along `dim` replaced by index[p]]; out and
 * index have indexShape, whose extents are <= x's outside `dim` (PyTorch's gather).
 */
export function gather(x: FloatArray, xShape: readonly number[], dim: number, index: Int32Array, indexShape: readonly number[], out: FloatArray): void {
  const xStrides = stridesOf(xShape);
  const along = xStrides[dim];
  // q is the offset in x with coordinate 0 along dim (the stride of dim is zeroed).
  const walk = xStrides.map((s, d) => (d === dim ? 0 : s));
  forEachPosition(indexShape, walk, (p, q) => {
    out[p] = x[q + index[p] * along];
  });
}

/**
 * The adjoint of gather: out[p with its coordinate along `dim` replaced by
 * index[p]] += src[p]. Several p may hit the same place (they add); out, of
 * outShape, is not cleared first.
 */
export function scatterAdd(src: FloatArray, index: Int32Array, indexShape: readonly number[], dim: number, out: FloatArray, outShape: readonly number[]): void {
  const outStrides = stridesOf(outShape);
  const along = outStrides[dim];
  const walk = outStrides.map((s, d) => (d === dim ? 0 : s));
  forEachPosition(indexShape, walk, (p, q) => {
    out[q + index[p] * along] += src[p];
  });
}

/** Strides of `shape` inside `outShape` (same rank), 0 where the operand is broadcast. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const s = new Array<number>(outShape.length).fill(0);
  let acc = 1;
  for (let d = outShape.length - 1; d >= 0; d--) {
    s[d] = shape[d] === 1 && outShape[d] !== 1 ? 0 : acc;
    acc *= shape[d];
  }
  return s;
}

/** out = cond != 0 ? a : b element-wise, each operand broadcast to outShape (shapes already right-aligned to its rank). */
export function where(
  cond: FloatArray, condShape: readonly number[], a: FloatArray, aShape: readonly number[], b: FloatArray, bShape: readonly number[],
  out: FloatArray, outShape: readonly number[],
): void {
  const cs = broadcastStrides(condShape, outShape);
  const as = broadcastStrides(aShape, outShape);
  const bs = broadcastStrides(bShape, outShape);
  // Three walks over the same positions, each with its own strides; offsets are collected first.
  const n = out.length;
  const ci = new Int32Array(n);
  const ai = new Int32Array(n);
  forEachPosition(outShape, cs, (p, q) => (ci[p] = q));
  forEachPosition(outShape, as, (p, q) => (ai[p] = q));
  forEachPosition(outShape, bs, (p, q) => {
    out[p] = cond[ci[p]] !== 0 ? a[ai[p]] : b[q];
  });
}

/**
 * The k largest (largest = true) or smallest values along the middle axis of
 * x viewed as [outer, size, inner], sorted (largest first, or smallest first),
 * into values and indices viewed as [outer, k, inner]. Equal values keep their
 * order along the axis (lower index first); NaN counts as larger than every
 * number, as in PyTorch.
 */
export function topk(x: FloatArray, outer: number, size: number, inner: number, k: number, largest: boolean, values: FloatArray, indices: Int32Array): void {
  const order = new Array<number>(size);
  // a before b when a is more extreme; NaN is the largest value.
  const before = (a: number, b: number): number => {
    const va = x[a];
    const vb = x[b];
    const na = va !== va;
    const nb = vb !== vb;
    if (na || nb) return na && nb ? 0 : largest ? (na ? -1 : 1) : na ? 1 : -1;
    const cmp = va > vb ? -1 : va < vb ? 1 : 0;
    return largest ? cmp : -cmp;
  };
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      for (let s = 0; s < size; s++) order[s] = base + s * inner;
      // Array.prototype.sort is stable: ties stay in index order.
      order.sort(before);
      for (let j = 0; j < k; j++) {
        const dst = (o * k + j) * inner + i;
        values[dst] = x[order[j]];
        indices[dst] = (order[j] - base) / inner;
      }
    }
  }
}
