import type { FloatArray, ReduceOp } from '../backend.js';
import { forEachPosition, stridesOf } from './indexing.js';

/** out[o, i] = op over s of x[o, s, i]. NaN propagates through max and min, as in PyTorch. */
export function reduce(op: ReduceOp, x: FloatArray, outer: number, size: number, inner: number, out: FloatArray): void {
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let i = 0; i < inner; i++) {
      let acc = op === 'sum' ? 0 : x[base + i];
      for (let s = op === 'sum' ? 0 : 1; s < size; s++) {
        const v = x[base + s * inner + i];
        if (op === 'sum') acc += v;
        else if (v !== v || acc !== acc) acc = NaN;
        else if (op === 'max' ? v > acc : v < acc) acc = v;
      }
      out[o * inner + i] = size === 0 ? (op === 'sum' ? 0 : NaN) : acc;
    }
  }
}

/** Index along the middle axis of the first max (min); a NaN counts as the extreme, as in PyTorch. */
export function argReduce(op: 'max' | 'min', x: FloatArray, outer: number, size: number, inner: number, out: Int32Array): void {
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let i = 0; i < inner; i++) {
      let best = 0;
      let bestV = x[base + i];
      for (let s = 1; s < size && bestV === bestV; s++) {
        const v = x[base + s * inner + i];
        if (v !== v || (op === 'max' ? v > bestV : v < bestV)) {
          best = s;
          bestV = v;
        }
      }
      out[o * inner + i] = best;
    }
  }
}

/** out = x with axes reordered: out.shape[i] = shape[perm[i]]. */
export function permute(x: FloatArray, shape: readonly number[], perm: readonly number[], out: FloatArray): void {
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]);
  const srcStride = perm.map((p) => inStrides[p]);
  forEachPosition(outShape, srcStride, (o, src) => {
    out[o] = x[src];
  });
}

/**
 * softmax(x)_s = e^(x_s - m) / sum_t e^(x_t - m) with m = max_t x_t, so no
 * exponent overflows; log-softmax is (x_s - m) - log sum_t e^(x_t - m).
 */
export function softmax(x: FloatArray, outer: number, size: number, inner: number, log: boolean, out: FloatArray): void {
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let i = 0; i < inner; i++) {
      let m = -Infinity;
      for (let s = 0; s < size; s++) m = Math.max(m, x[base + s * inner + i]);
      let sum = 0;
      for (let s = 0; s < size; s++) sum += Math.exp(x[base + s * inner + i] - m);
      if (log) {
        const lse = Math.log(sum);
        for (let s = 0; s < size; s++) out[base + s * inner + i] = x[base + s * inner + i] - m - lse;
      } else {
        for (let s = 0; s < size; s++) out[base + s * inner + i] = Math.exp(x[base + s * inner + i] - m) / sum;
      }
    }
  }
}

/** softmax: gx = y (gy - sum(gy y)); log-softmax: gx = gy - e^y sum(gy). */
export function softmaxBackward(y: FloatArray, gy: FloatArray, outer: number, size: number, inner: number, log: boolean, gx: FloatArray): void {
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let i = 0; i < inner; i++) {
      let dot = 0;
      for (let s = 0; s < size; s++) {
        const k = base + s * inner + i;
        dot += log ? gy[k] : gy[k] * y[k];
      }
      for (let s = 0; s < size; s++) {
        const k = base + s * inner + i;
        gx[k] = log ? gy[k] - Math.exp(y[k]) * dot : y[k] * (gy[k] - dot);
      }
    }
  }
}
