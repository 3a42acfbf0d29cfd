/**
 * maxPool2d and avgPool2d: forward values against naive window loops and hand
 * computations, gradchecks, float32 gradients against float64, and the errors.
 * (The rest of the pooling family is in pool-family.test.ts.)
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, ShapeError, ValueError, tensor, zeros, ones, arange } from '../../../src/index.js';
import { maxPool2d, avgPool2d, sum, poolOutputSize } from '../../../src/ops/index.js';
import { MaxPool2d } from '../../../src/nn/index.js';
import { assertClose, assertGradcheck, float32GradientsMatch, seeded, throwsWith } from '../../helpers/index.js';

/** Forward values and the float32-vs-float64 gradients draw from this generator (float32); each gradcheck block from its own (float64). */
const { rn } = seeded(99, 'float32');

/** PyTorch's pooling output size, from its documentation. */
function pytorchPoolOut(n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const num = n + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  // With ceilMode the last window must start inside the input or the left padding.
  if (ceil && (out - 1) * s >= n + p) out--;
  return out;
}

function naiveMaxPool(x: Tensor, k: [number, number], s: [number, number], p: [number, number], d: [number, number], ceil: boolean): { data: number[]; shape: number[] } {
  const [N, C, H, W] = x.shape;
  const OH = pytorchPoolOut(H, k[0], s[0], p[0], d[0], ceil);
  const OW = pytorchPoolOut(W, k[1], s[1], p[1], d[1], ceil);
  const out: number[] = [];
  for (let pl = 0; pl < N * C; pl++) {
    for (let i = 0; i < OH; i++) {
      for (let j = 0; j < OW; j++) {
        let m = -Infinity;
        for (let u = 0; u < k[0]; u++) {
          for (let v = 0; v < k[1]; v++) {
            const ih = i * s[0] - p[0] + u * d[0];
            const iw = j * s[1] - p[1] + v * d[1];
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) m = Math.max(m, x.data[(pl * H + ih) * W + iw]);
          }
        }
        out.push(m);
      }
    }
  }
  return { data: out, shape: [N, C, OH, OW] };
}

describe('maxPool2d forward', () => {
  const cases: [string, number[], [number, number], object, [number, number], [number, number], [number, number], boolean][] = [
    ['2x2 default stride', [2, 3, 6, 8], [2, 2], {}, [2, 2], [0, 0], [1, 1], false],
    ['3x3 stride 2 (overlapping)', [1, 2, 7, 9], [3, 3], { stride: 2 }, [2, 2], [0, 0], [1, 1], false],
    ['3x3 stride 2 padding 1', [1, 2, 6, 5], [3, 3], { stride: 2, padding: 1 }, [2, 2], [1, 1], [1, 1], false],
    ['2x2 stride 1 dilation 2', [1, 1, 6, 7], [2, 2], { stride: 1, dilation: 2 }, [1, 1], [0, 0], [2, 2], false],
    ['2x2 ceilMode on odd sizes', [1, 2, 5, 7], [2, 2], { ceilMode: true }, [2, 2], [0, 0], [1, 1], true],
    ['3x3 stride 2 padding 1 ceilMode', [1, 1, 6, 6], [3, 3], { stride: 2, padding: 1, ceilMode: true }, [2, 2], [1, 1], [1, 1], true],
    ['[3, 2] kernel, [2, 1] stride', [1, 1, 7, 5], [3, 2], { stride: [2, 1] }, [2, 1], [0, 0], [1, 1], false],
  ];
  for (const [name, xs, k, options, s, p, d, ceil] of cases) {
    test(name, () => {
      const x = rn(xs);
      const y = maxPool2d(x, k, options);
      const ref = naiveMaxPool(x, k, s, p, d, ceil);
      assert.deepEqual(y.shape, ref.shape);
      assertClose(y.data, ref.data, 0, name);
    });
  }
  test('ceilMode output sizes by hand: 5 -> 3 with k 2 s 2; 6 -> 4 with k 3 s 2 p 1', () => {
    assert.deepEqual(maxPool2d(rn([1, 1, 5, 5]), 2, { ceilMode: true }).shape, [1, 1, 3, 3]);
    assert.deepEqual(maxPool2d(rn([1, 1, 5, 5]), 2).shape, [1, 1, 2, 2]);
    assert.deepEqual(maxPool2d(rn([1, 1, 6, 6]), 3, { stride: 2, padding: 1, ceilMode: true }).shape, [1, 1, 4, 4]);
    assert.deepEqual(maxPool2d(rn([1, 1, 6, 6]), 3, { stride: 2, padding: 1 }).shape, [1, 1, 3, 3]);
    // The rule that drops a last window starting in the right padding: 5 with k 2 s 2 p 1 ceil gives
    // ceil(5 / 2) + 1 = 4 windows, but the 4th would start at 6 - 1 = 5, past the input: 3.
    assert.equal(poolOutputSize(5, 2, 2, 1, 1, true), 3);
    assert.deepEqual(maxPool2d(rn([1, 1, 5, 5]), 2, { padding: 1, ceilMode: true }).shape, [1, 1, 3, 3]);
  });
  test('padding never wins, even when every input is negative', () => {
    const x = tensor([[-5, -4], [-3, -2]]).reshape([1, 1, 2, 2]);
    const y = maxPool2d(x, 3, { stride: 1, padding: 1 });
    assert.deepEqual(y.toArray(), [[[[-2, -2], [-2, -2]]]]);
  });
  test('gradient goes to the window winner; overlapping windows add up', () => {
    const x = tensor([[1, 9, 2], [3, 4, 5], [8, 0, 7]]).reshape([1, 1, 3, 3]).requiresGrad_();
    sum(maxPool2d(x, 2, { stride: 1 })).backward();
    // Windows: {1,9,3,4} -> 9, {9,2,4,5} -> 9, {3,4,8,0} -> 8, {4,5,0,7} -> 7.
    assert.deepEqual(x.grad!.toArray(), [[[[0, 2, 0], [0, 0, 0], [1, 0, 1]]]]);
  });
  test('3-D input', () => {
    const x = rn([2, 4, 4]);
    const y = maxPool2d(x, 2);
    assert.deepEqual(y.shape, [2, 2, 2]);
    assertClose(y.data, naiveMaxPool(x.reshape([1, 2, 4, 4]), [2, 2], [2, 2], [0, 0], [1, 1], false).data, 0);
  });
});

describe('avgPool2d forward', () => {
  // x = 1..16 as a 4x4 plane.
  const x = arange(1, 17).reshape([1, 1, 4, 4]);
  test('2x2 stride 2 by hand', () => {
    assert.deepEqual(avgPool2d(x, 2).toArray(), [[[[(1 + 2 + 5 + 6) / 4, (3 + 4 + 7 + 8) / 4], [(9 + 10 + 13 + 14) / 4, (11 + 12 + 15 + 16) / 4]]]]);
  });
  test('3x3 stride 2 padding 1: countIncludePad true divides by 9, false by the real elements', () => {
    // Windows start at rows/cols -1 and 1: top-left covers x[0..1][0..1], top-right x[0..1][1..3], ...
    const tl = 1 + 2 + 5 + 6;
    const tr = 2 + 3 + 4 + 6 + 7 + 8;
    const bl = 5 + 6 + 9 + 10 + 13 + 14;
    const br = 6 + 7 + 8 + 10 + 11 + 12 + 14 + 15 + 16;
    assertClose(avgPool2d(x, 3, { stride: 2, padding: 1 }).data, [tl / 9, tr / 9, bl / 9, br / 9], 1e-5);
    assertClose(avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }).data, [tl / 4, tr / 6, bl / 6, br / 9], 1e-5);
  });
  test('ceilMode: the extra window at the edge averages only what it covers', () => {
    // 5x5 plane 1..25, k 2 s 2 ceil: 3x3 output; the last row/col windows hold 2 or 1 real values.
    const x5 = arange(1, 26).reshape([1, 1, 5, 5]);
    const y = avgPool2d(x5, 2, { ceilMode: true });
    assert.deepEqual(y.shape, [1, 1, 3, 3]);
    const v = (r: number, c: number) => r * 5 + c + 1;
    assertClose(y.data, [
      (v(0, 0) + v(0, 1) + v(1, 0) + v(1, 1)) / 4, (v(0, 2) + v(0, 3) + v(1, 2) + v(1, 3)) / 4, (v(0, 4) + v(1, 4)) / 2,
      (v(2, 0) + v(2, 1) + v(3, 0) + v(3, 1)) / 4, (v(2, 2) + v(2, 3) + v(3, 2) + v(3, 3)) / 4, (v(2, 4) + v(3, 4)) / 2,
      (v(4, 0) + v(4, 1)) / 2, (v(4, 2) + v(4, 3)) / 2, v(4, 4),
    ], 1e-5);
  });
  test('gradient spreads dL/dy / divisor over each window', () => {
    const xg = ones([1, 1, 4, 4]).requiresGrad_();
    sum(avgPool2d(xg, 3, { stride: 2, padding: 1, countIncludePad: false })).backward();
    // Element (r, c) receives 1/|window| from each window that contains it (sizes 4, 6, 6, 9 as above).
    const windows = [[[0, 1], [0, 1], 4], [[0, 1], [1, 3], 6], [[1, 3], [0, 1], 6], [[1, 3], [1, 3], 9]] as const;
    const expected = new Array(16).fill(0);
    for (const [[r0, r1], [c0, c1], n] of windows) for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) expected[r * 4 + c] += 1 / n;
    assertClose(xg.grad!.data, expected, 1e-5);
  });
});

describe('gradcheck: pooling', () => {
  const { rn } = seeded(20240611);
  test('maxPool2d: default stride, explicit stride, padding, dilation, ceilMode', () => {
    assertGradcheck((x) => maxPool2d(x, 2), [rn([2, 2, 4, 6])]);
    assertGradcheck((x) => maxPool2d(x, 3, { stride: 2 }), [rn([1, 2, 7, 7])]);
    assertGradcheck((x) => maxPool2d(x, 3, { stride: 2, padding: 1 }), [rn([1, 2, 6, 5])]);
    assertGradcheck((x) => maxPool2d(x, 2, { stride: 1, dilation: 2 }), [rn([1, 1, 5, 6])]);
    assertGradcheck((x) => maxPool2d(x, 2, { ceilMode: true }), [rn([1, 2, 5, 5])]);
    assertGradcheck((x) => maxPool2d(x, [3, 2], { stride: [2, 1], padding: [1, 0], ceilMode: true }), [rn([1, 1, 6, 5])]);
  });
  test('maxPool2d on 3-D input', () => {
    assertGradcheck((x) => maxPool2d(x, 2), [rn([3, 4, 4])]);
  });
  test('avgPool2d: plain, overlapping, padding with countIncludePad true/false, ceilMode', () => {
    assertGradcheck((x) => avgPool2d(x, 2), [rn([2, 2, 4, 4])]);
    assertGradcheck((x) => avgPool2d(x, 3, { stride: 2 }), [rn([1, 2, 7, 7])]);
    assertGradcheck((x) => avgPool2d(x, 3, { stride: 2, padding: 1 }), [rn([1, 2, 6, 5])]);
    assertGradcheck((x) => avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }), [rn([1, 2, 6, 5])]);
    assertGradcheck((x) => avgPool2d(x, 2, { ceilMode: true }), [rn([1, 1, 5, 5])]);
    assertGradcheck((x) => avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [rn([1, 1, 6, 6])]);
    assertGradcheck((x) => avgPool2d(x, [2, 3], { stride: [1, 2] }), [rn([3, 5, 7])]);
  });
});

describe('pooling', () => {
  test('wrong rank', () => {
    throwsWith(() => maxPool2d(zeros([4]), 2), ShapeError, /maxPool2d/, /4-D/, /\[4\]/);
    throwsWith(() => avgPool2d(zeros([4, 4]), 2), ShapeError, /avgPool2d/, /\[4, 4\]/);
  });
  test('unknown options such as kernel_size', () => {
    throwsWith(() => maxPool2d(zeros([1, 1, 4, 4]), 2, { kernel_size: 2 } as any), ValueError, /maxPool2d: unknown option 'kernel_size'/, /stride/);
    throwsWith(() => avgPool2d(zeros([1, 1, 4, 4]), 2, { count_include_pad: false } as any), ValueError, /unknown option 'count_include_pad'/, /countIncludePad/);
    throwsWith(() => new MaxPool2d(2, { ceil_mode: true } as any), ValueError, /unknown option 'ceil_mode'/, /ceilMode/);
  });
  test('negative padding, padding over half the window, non-integer stride', () => {
    throwsWith(() => maxPool2d(zeros([1, 1, 4, 4]), 2, { padding: -1 }), ValueError, /padding must be an integer >= 0, got -1/);
    throwsWith(() => maxPool2d(zeros([1, 1, 4, 4]), 2, { padding: 2 }), ValueError, /padding 2x2 is more than half the window 2x2/);
    throwsWith(() => avgPool2d(zeros([1, 1, 4, 4]), 2, { stride: 1.5 }), ValueError, /stride must be an integer >= 1, got 1\.5/);
    throwsWith(() => maxPool2d(zeros([1, 1, 4, 4]), 0), ValueError, /kernelSize/, /got 0/);
  });
  test('a window larger than the input', () => {
    throwsWith(() => maxPool2d(zeros([1, 1, 2, 5]), 3), ShapeError, /window 3x3 is larger than the padded input 2x5/);
  });
});

describe('float32 gradients on this backend equal the float64 gradients (which the gradchecks check)', () => {
  float32GradientsMatch('maxPool2d 3x3 stride 2 padding 1', (x) => maxPool2d(x, 3, { stride: 2, padding: 1 }), [[2, 3, 7, 7]], rn);
  float32GradientsMatch('avgPool2d 3x3 stride 2 padding 1, ceilMode, countIncludePad false', (x) => avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [[2, 3, 6, 6]], rn);
});
