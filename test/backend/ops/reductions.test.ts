/**
 * Reductions (sum, mean, max, min, variance): gradchecks over dims and
 * keepDims, and the argument errors. (Values against naive loops are in
 * tensor.test.ts.)
 */
import { test, describe } from 'node:test';
import { ValueError, ones } from '../../../src/index.js';
import { sum, mean, max, min, variance } from '../../../src/ops/index.js';
import { assertGradcheck, seeded, throwsWith } from '../../helpers/index.js';

describe('gradcheck: reductions', () => {
  const { rn } = seeded(20240611);
  test('sum over one dim, several dims with keepDims, and all', () => {
    assertGradcheck((x) => sum(x, 1), [rn([2, 3, 4])]);
    assertGradcheck((x) => sum(x, [0, 2], { keepDims: true }), [rn([2, 3, 4])]);
    assertGradcheck((x) => sum(x, -1, { keepDims: true }), [rn([2, 3, 4])]);
    assertGradcheck((x) => sum(x), [rn([2, 3, 4])]);
  });
  test('mean over dims with keepDims, and all', () => {
    assertGradcheck((x) => mean(x, 0), [rn([2, 3, 4])]);
    assertGradcheck((x) => mean(x, [1, 2], { keepDims: true }), [rn([2, 3, 4])]);
    assertGradcheck((x) => mean(x), [rn([2, 3, 4])]);
  });
  test('max and min over a dim (keepDims) and over all (random values have no ties)', () => {
    assertGradcheck((x) => max(x, 1), [rn([2, 3, 4])]);
    assertGradcheck((x) => max(x, [0, 2], { keepDims: true }), [rn([2, 3, 4])]);
    assertGradcheck((x) => max(x), [rn([2, 3, 4])]);
    assertGradcheck((x) => min(x, -1, { keepDims: true }), [rn([2, 3, 4])]);
    assertGradcheck((x) => min(x), [rn([3, 4])]);
  });
  test('variance: unbiased and population, over dims, keepDims', () => {
    assertGradcheck((x) => variance(x, 1), [rn([2, 5, 3])]);
    assertGradcheck((x) => variance(x, [0, 2], { keepDims: true, correction: 0 }), [rn([2, 5, 3])]);
    assertGradcheck((x) => variance(x), [rn([4, 3])]);
  });
});

describe('other arguments', () => {
  test('probabilities and bounds', () => {
    throwsWith(() => variance(ones([1])), ValueError, /degrees of freedom/);
  });
});
