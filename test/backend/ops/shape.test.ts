/**
 * Shape ops (reshape, flatten, squeeze, unsqueeze, permute, transpose, slice,
 * concat, stack) and tensor creation: gradchecks, and the errors of shapes,
 * dims and broadcasting. (Values are in tensor.test.ts.)
 */
import { test, describe } from 'node:test';
import { ShapeError, ValueError, tensor, zeros } from '../../../src/index.js';
import { softmax, add, mul, sum, reshape, flatten, squeeze, unsqueeze, permute, transpose, slice, concat, stack } from '../../../src/ops/index.js';
import { assertGradcheck, seeded, throwsWith } from '../../helpers/index.js';

describe('gradcheck: shape ops', () => {
  const { rn } = seeded(20240611);
  test('reshape (with -1), flatten, squeeze, unsqueeze', () => {
    const k46 = rn([4, 6]);
    assertGradcheck((x) => mul(reshape(x, [4, -1]), k46), [rn([2, 3, 4])]);
    assertGradcheck((x) => flatten(x, 1), [rn([2, 3, 2, 2])]);
    assertGradcheck((x) => squeeze(x), [rn([2, 1, 3, 1])]);
    assertGradcheck((x) => squeeze(x, 1), [rn([2, 1, 3])]);
    const k233 = rn([2, 3, 3]);
    assertGradcheck((x) => mul(unsqueeze(x, 1), k233), [rn([2, 3])]);
  });
  test('permute and transpose', () => {
    assertGradcheck((x) => permute(x, [2, 0, 1]), [rn([2, 3, 4])]);
    assertGradcheck((x) => transpose(x, 0, 2), [rn([2, 3, 4])]);
    assertGradcheck((x) => transpose(x), [rn([3, 5])]);
  });
  test('slice with start/end/step, negative start, on inner and outer dims', () => {
    assertGradcheck((x) => slice(x, 1, 1, 7, 2), [rn([2, 8, 3])]);
    assertGradcheck((x) => slice(x, -1, -3), [rn([2, 3, 5])]);
    assertGradcheck((x) => slice(x, 0, 0, 5, 3), [rn([5, 2])]);
  });
  test('concat of three tensors (all checked) along dim 1 and dim 0', () => {
    assertGradcheck((a, b, c) => concat([a, b, c], 1), [rn([2, 1, 3]), rn([2, 4, 3]), rn([2, 2, 3])]);
    assertGradcheck((a, b) => concat([a, b], 0), [rn([1, 3]), rn([2, 3])]);
  });
  test('stack along a middle and the last dim', () => {
    assertGradcheck((a, b, c) => stack([a, b, c], 1), [rn([2, 3]), rn([2, 3]), rn([2, 3])]);
    assertGradcheck((a, b) => stack([a, b], -1), [rn([4]), rn([4])]);
  });
});

describe('shapes, dims, broadcasting', () => {
  test('broadcast mismatch names both shapes and the clashing sizes', () => {
    throwsWith(() => add(zeros([2, 3]), zeros([4])), ShapeError, /^add:/, /\[2, 3\]/, /\[4\]/, /3 vs 4/);
    throwsWith(() => mul(zeros([2, 3, 4]), zeros([3, 3, 1])), ShapeError, /^mul:/, /2 vs 3/);
  });
  test('reshape: element count mismatch, -1 that does not divide, two -1s', () => {
    throwsWith(() => reshape(zeros([2, 3]), [4, 2]), ShapeError, /\[2, 3\]/, /6 elements/, /\[4, 2\]/, /8 elements/);
    throwsWith(() => reshape(zeros([2, 3]), [4, -1]), ShapeError, /not divisible by 4/);
    throwsWith(() => reshape(zeros([2, 3]), [-1, -1]), ValueError, /only one dimension can be -1/);
    throwsWith(() => reshape(zeros([2, 3]), [2.5, 2]), ValueError, /integers/);
  });
  test('dims out of range or repeated', () => {
    throwsWith(() => sum(zeros([2, 3]), 2), ValueError, /sum: dim 2 is out of range for a tensor with 2 dimensions/, /-2 to 1/);
    throwsWith(() => sum(zeros([2, 3]), [0, -2]), ValueError, /appears twice/);
    throwsWith(() => softmax(zeros([2, 3]), -3), ValueError, /softmax: dim -3/);
    throwsWith(() => squeeze(zeros([2, 3]), 5), ValueError, /squeeze: dim 5/);
    throwsWith(() => slice(zeros([4]), 0, 0, 4, 0), ValueError, /step must be an integer >= 1, got 0/);
  });
  test('permute, concat, stack', () => {
    throwsWith(() => permute(zeros([2, 3, 4]), [0, 1]), ShapeError, /3-D tensor needs 3 dims/);
    throwsWith(() => permute(zeros([2, 3, 4]), [0, 1, 1]), ValueError, /repeats a dimension/);
    throwsWith(() => concat([zeros([2, 3]), zeros([2, 4])], 0), ShapeError, /tensors\[1\] has shape \[2, 4\]/, /\[2, 3\]/);
    throwsWith(() => concat([], 0), ValueError, /non-empty/);
    throwsWith(() => stack([zeros([2]), zeros([3])]), ShapeError, /tensors\[1\] has shape \[3\]/);
  });
  test('tensor creation', () => {
    throwsWith(() => tensor([[1, 2], [3]]), ShapeError, /ragged/);
    throwsWith(() => zeros([2, -1]), ValueError, /invalid dimension -1/);
    throwsWith(() => zeros([1.5]), ValueError, /1\.5/);
  });
});
