/**
 * Element-wise comparison with a case's tolerance, as the README defines it:
 *   |actual - expected| <= atol + rtol * |expected|        for every element.
 * Non-finite values pass only when equal (both NaN, or the same infinity).
 * The report keeps what a person needs to start looking: the largest absolute
 * error, where it is (flat and [n, c, h, w] index), the two values there, and
 * how many elements are outside the tolerance.
 */
import type { Tolerance } from './format.js';

export interface Comparison {
  /** The tensor's name in the case (y, gx, grad:fc1.weight, params...). */
  readonly name: string;
  readonly ok: boolean;
  /** Elements compared. */
  readonly size: number;
  /** Elements outside the tolerance. */
  readonly mismatches: number;
  /** The largest |actual - expected| (Infinity when a value is NaN or infinite and the other is not). */
  readonly maxAbsError: number;
  /** Where the largest error is: flat index, and the index in the expected shape. */
  readonly flatIndex: number;
  readonly index: readonly number[];
  readonly expected: number;
  readonly actual: number;
  /** Set when the shapes disagree; nothing was compared element-wise. */
  readonly shapeMismatch?: { readonly expected: readonly number[]; readonly actual: readonly number[] };
}

/** [i0, i1, ...] of a flat row-major index in `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d];
    idx[d] = n > 0 ? flat % n : 0;
    flat = n > 0 ? Math.floor(flat / n) : 0;
  }
  return idx;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** True when the shapes are equal, also treating any two one-element shapes ([], [1], [1, 1]) as equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length === b.length && a.every((d, i) => d === b[i])) return true;
  return size(a) === 1 && size(b) === 1;
}

export function compareTensors(
  name: string,
  actual: ArrayLike<number>, actualShape: readonly number[],
  expected: ArrayLike<number>, expectedShape: readonly number[],
  tol: Tolerance,
): Comparison {
  if (!sameShape(actualShape, expectedShape) || actual.length !== expected.length) {
    return {
      name, ok: false, size: expected.length, mismatches: expected.length, maxAbsError: Infinity, flatIndex: -1, index: [],
      expected: NaN, actual: NaN, shapeMismatch: { expected: [...expectedShape], actual: [...actualShape] },
    };
  }
  const { atol, rtol } = tol;
  let mismatches = 0;
  let maxErr = -1;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    let err: number;
    let ok: boolean;
    if (Number.isFinite(e) && Number.isFinite(a)) {
      err = Math.abs(a - e);
      ok = err <= atol + rtol * Math.abs(e);
    } else {
      ok = a === e || (Number.isNaN(a) && Number.isNaN(e));
      err = ok ? 0 : Infinity;
    }
    if (!ok) mismatches++;
    if (err > maxErr) {
      maxErr = err;
      at = i;
    }
  }
  return {
    name, ok: mismatches === 0, size: expected.length, mismatches,
    maxAbsError: Math.max(maxErr, 0), flatIndex: at, index: at >= 0 ? unravel(at, expectedShape) : [],
    expected: at >= 0 ? expected[at] : NaN, actual: at >= 0 ? actual[at] : NaN,
  };
}
