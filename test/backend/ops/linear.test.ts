/**
 * linear and matmul: y = x W^T + b against a naive loop, gradchecks (1-D,
 * batched and broadcast operands), float32 gradients against float64, and
 * the errors. (matmul's values against a naive loop are in tensor.test.ts.)
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError, tensor, zeros } from '../../../src/index.js';
import { linear, matmul } from '../../../src/ops/index.js';
import { Linear } from '../../../src/nn/index.js';
import { assertClose, assertGradcheck, float32GradientsMatch, seeded, throwsWith } from '../../helpers/index.js';

/** Forward values and the float32-vs-float64 gradients draw from this generator (float32); each gradcheck block from its own (float64). */
const { rn } = seeded(99, 'float32');

describe('linear forward', () => {
  test('y = x W^T + b on 2-D and 3-D input vs a naive loop', () => {
    const x = rn([2, 3, 4]);
    const w = rn([5, 4]);
    const b = rn([5]);
    const y = linear(x, w, b);
    assert.deepEqual(y.shape, [2, 3, 5]);
    const expected: number[] = [];
    for (let r = 0; r < 6; r++) for (let o = 0; o < 5; o++) {
      let s = b.data[o];
      for (let i = 0; i < 4; i++) s += x.data[r * 4 + i] * w.data[o * 4 + i];
      expected.push(s);
    }
    assertClose(y.data, expected, 1e-5);
    const y0 = linear(x.reshape([6, 4]), w);
    assertClose(y0.data, expected.map((v, i) => v - b.data[i % 5]), 1e-5);
  });
});

describe('gradcheck: matmul and linear', () => {
  const { rn } = seeded(20240611);
  test('matmul 2-D x 2-D', () => assertGradcheck((a, b) => matmul(a, b), [rn([3, 4]), rn([4, 2])]));
  test('matmul with 1-D operands: vector-matrix, matrix-vector, dot', () => {
    assertGradcheck((a, b) => matmul(a, b), [rn([4]), rn([4, 3])]);
    assertGradcheck((a, b) => matmul(a, b), [rn([3, 4]), rn([4])]);
    assertGradcheck((a, b) => matmul(a, b), [rn([5]), rn([5])]);
  });
  test('batched matmul with broadcast batch dims', () => {
    assertGradcheck((a, b) => matmul(a, b), [rn([2, 1, 3, 4]), rn([3, 4, 2])]);
    assertGradcheck((a, b) => matmul(a, b), [rn([2, 3, 4]), rn([4, 5])]);
    assertGradcheck((a, b) => matmul(a, b), [rn([3, 4]), rn([2, 4, 2])]);
  });
  test('linear with bias, without bias, and on 3-D input', () => {
    assertGradcheck((x, w, b) => linear(x, w, b), [rn([3, 4]), rn([5, 4]), rn([5])]);
    assertGradcheck((x, w) => linear(x, w), [rn([3, 4]), rn([5, 4])]);
    assertGradcheck((x, w, b) => linear(x, w, b), [rn([2, 3, 4]), rn([2, 4]), rn([2])]);
  });
});

describe('linear and matmul', () => {
  test('wrong rank of the weight; feature count mismatch names both shapes', () => {
    throwsWith(() => linear(zeros([2, 4]), zeros([4])), ShapeError, /linear: weight must be 2-D/, /\[4\]/);
    throwsWith(() => linear(zeros([2, 5]), zeros([3, 4])), ShapeError, /\[2, 5\]/, /\[3, 4\]/, /4 features/);
    throwsWith(() => linear(zeros([2, 4]), zeros([3, 4]), zeros([4])), ShapeError, /bias/, /\[3\]/, /\[4\]/);
    throwsWith(() => new Linear(4, 2).forward(zeros([2, 1, 28, 28])), ShapeError, /\[2, 1, 28, 28\]/, /flatten/);
  });
  test('matmul: inner dimensions, 0-d operands, batch dims that do not broadcast', () => {
    throwsWith(() => matmul(zeros([2, 3]), zeros([4, 5])), ShapeError, /\[2, 3\]/, /\[4, 5\]/, /3 vs 4/);
    throwsWith(() => matmul(tensor(2), zeros([2])), ShapeError, /at least 1 dimension/);
    throwsWith(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 4])), ShapeError, /cannot be broadcast/);
  });
});

describe('float32 gradients on this backend equal the float64 gradients (which the gradchecks check)', () => {
  float32GradientsMatch('linear on 3-D input', (x, w, b) => linear(x, w, b), [[2, 3, 6], [4, 6], [4]], rn);
});
