/**
 * softmax and logSoftmax: values against exp(x) / sum(exp(x)) written out
 * here, shift invariance without overflow, gradchecks, and float32 gradients
 * against float64.
 */
import { test, describe } from 'node:test';
import { tensor } from '../../../src/index.js';
import { softmax, logSoftmax } from '../../../src/ops/index.js';
import { assertClose, assertGradcheck, float32GradientsMatch, ok, seeded } from '../../helpers/index.js';

/** Forward values and the float32-vs-float64 gradients draw from this generator (float32); each gradcheck block from its own (float64). */
const { rn } = seeded(99, 'float32');

describe('softmax and logSoftmax', () => {
  test('softmax along each dim of a 3-D tensor equals exp(x) / sum(exp(x)) along that dim', () => {
    const x = rn([2, 3, 4]);
    const [A, B, C] = x.shape;
    for (const d of [0, 1, 2]) {
      const y = softmax(x, d);
      const at = (a: number, b: number, c: number) => x.data[(a * B + b) * C + c];
      for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) {
        let denom = 0;
        const n = x.shape[d];
        for (let t = 0; t < n; t++) denom += Math.exp(d === 0 ? at(t, b, c) : d === 1 ? at(a, t, c) : at(a, b, t));
        const expected = Math.exp(at(a, b, c)) / denom;
        ok(Math.abs(y.data[(a * B + b) * C + c] - expected) < 1e-6);
      }
    }
  });
  test('default dim is the last; rows sum to 1', () => {
    const y = softmax(rn([3, 5]));
    for (let r = 0; r < 3; r++) {
      let s = 0;
      for (let c = 0; c < 5; c++) s += y.data[r * 5 + c];
      ok(Math.abs(s - 1) < 1e-6);
    }
  });
  test('shift invariance and no overflow for large logits', () => {
    const y = softmax(tensor([1000, 1001, 1002]));
    const z = softmax(tensor([0, 1, 2]));
    assertClose(y.data, z.data, 1e-6);
    const ls = logSoftmax(tensor([1000, 0]));
    ok(Math.abs(ls.data[0]) < 1e-6);
    ok(Math.abs(ls.data[1] + 1000) < 1e-3);
  });
  test('logSoftmax = x - log(sum(exp(x))) on each dim', () => {
    const x = rn([3, 4]);
    for (const d of [0, 1]) {
      const y = logSoftmax(x, d);
      const s = softmax(x, d);
      for (let i = 0; i < 12; i++) ok(Math.abs(y.data[i] - Math.log(s.data[i])) < 1e-5);
    }
  });
});

describe('gradcheck: softmax', () => {
    const { rn } = seeded(20240611);
  test('softmax and logSoftmax over each dim of a 3-D tensor', () => {
    for (const d of [0, 1, 2, -1]) {
      assertGradcheck((x) => softmax(x, d), [rn([2, 3, 4])]);
      assertGradcheck((x) => logSoftmax(x, d), [rn([2, 3, 4])]);
    }
  });
});

describe('float32 gradients on this backend equal the float64 gradients (which the gradchecks check)', () => {
  float32GradientsMatch('softmax and logSoftmax', (x) => logSoftmax(softmax(x, 1), 0), [[4, 5]], rn);
});
