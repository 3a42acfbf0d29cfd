/**
 * Closeness of computed values to expected ones, by the rule of the
 * conformance runner (src/conformance/compare.ts, which does the comparing):
 *   |actual - expected| <= atol + rtol * |expected|        for every element;
 * infinities pass only when equal. A NaN in actual fails even where NaN is
 * expected, unless equalNaN is set: under test, op outputs start as NaN
 * (test/setup.ts), so a NaN is an element that no kernel wrote, and two
 * backends that both leave it unwritten must not agree. A failure names the
 * largest error, its index, the two values there and how many elements are
 * outside.
 */
import assert from 'node:assert/strict';
import { compareTensors } from '../../src/conformance/compare.js';
import { comparisonLine } from '../../src/conformance/report.js';

/**
 * atol and rtol of the rule (each 0 when left out). A number t stands for
 * { atol: t, rtol: t }, that is |actual - expected| <= t * (1 + |expected|).
 */
export type Tolerance = number | { readonly atol?: number; readonly rtol?: number; readonly equalNaN?: boolean };

/** A number, a flat array, or anything with data and shape (a Tensor, a naive loop's result). */
export type Values = number | ArrayLike<number> | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

function flat(v: Values): { data: ArrayLike<number>; shape: readonly number[] | null } {
  if (typeof v === 'number') return { data: [v], shape: null };
  if ('data' in v && 'shape' in v) return { data: v.data, shape: v.shape };
  return { data: v, shape: null };
}

/**
 * Asserts that actual is within tol of expected, element by element. When
 * both sides have a shape, the shapes must be equal as well.
 */
export function assertClose(actual: Values, expected: Values, tol: Tolerance, what = 'value'): void {
  const a = flat(actual);
  const e = flat(expected);
  if (a.shape && e.shape) assert.deepEqual(a.shape, e.shape, `${what}: shape [${a.shape.join(', ')}], expected [${e.shape.join(', ')}]`);
  const t = typeof tol === 'number' ? { atol: tol, rtol: tol } : { atol: tol.atol ?? 0, rtol: tol.rtol ?? 0 };
  if (typeof tol === 'number' || !tol.equalNaN) {
    for (let i = 0; i < a.data.length; i++) {
      if (Number.isNaN(a.data[i])) assert.fail(`${what}: element ${i} is NaN (expected ${e.data[i]}): an op output element that no kernel wrote is NaN under test`);
    }
  }
  // Compared flat, in the expected shape (for the index in the report) when the lengths agree.
  const shape = e.shape && a.data.length === e.data.length ? e.shape : null;
  const c = compareTensors(what, a.data, shape ?? [a.data.length], e.data, shape ?? [e.data.length], t);
  if (!c.ok) assert.fail(comparisonLine(c, t));
}
