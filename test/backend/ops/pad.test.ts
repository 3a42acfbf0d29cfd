/**
 * pad: the four modes against hand-written rows and a naive index loop, the
 * backward (the adjoint, which gathers several outputs into one input in
 * reflect / replicate / circular) by hand and by gradcheck, and every
 * argument error.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { ShapeError, Tensor, ValueError, gradcheck, randn, tensor } from '../../../src/index.js';
import { pad, type PadMode } from '../../../src/ops/index.js';
import { seeded, throwsWith } from '../../helpers/index.js';

const { rn } = seeded(7);

/** A 1 x 1 x 1 x n tensor holding one row. */
const row = (values: number[]) => tensor(values, [1, 1, 1, values.length]);

/** The source index of output o (written independently of the kernel, as a walk). */
function naiveSource(o: number, before: number, n: number, mode: PadMode): number {
  let i = o - before;
  if (i >= 0 && i < n) return i;
  if (mode === 'constant') return -1;
  if (mode === 'replicate') return i < 0 ? 0 : n - 1;
  if (mode === 'circular') {
    while (i < 0) i += n;
    while (i >= n) i -= n;
    return i;
  }
  // reflect: bounce off the edge elements
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

function naivePad(x: Tensor, [l, r, t, b]: number[], mode: PadMode, value = 0): number[] {
  const [h, w] = x.shape.slice(-2);
  const planes = x.size / (h * w);
  const out: number[] = [];
  for (let p = 0; p < planes; p++) {
    for (let oh = 0; oh < h + t + b; oh++) {
      for (let ow = 0; ow < w + l + r; ow++) {
        const ih = naiveSource(oh, t, h, mode);
        const iw = naiveSource(ow, l, w, mode);
        out.push(ih < 0 || iw < 0 ? value : x.data[p * h * w + ih * w + iw]);
      }
    }
  }
  return out;
}

describe('pad forward', () => {
  test('constant: zeros by default, or the value; [left, right, top, bottom] order', () => {
    const x = tensor([[1, 2], [3, 4]], undefined).reshape([1, 2, 2]);
    const y = pad(x, [1, 0, 0, 1]);
    assert.deepEqual(y.shape, [1, 3, 3]);
    assert.deepEqual([...y.data], [0, 1, 2, 0, 3, 4, 0, 0, 0]);
    const v = pad(x, [0, 1, 1, 0], 'constant', 9);
    assert.deepEqual([...v.data], [9, 9, 9, 1, 2, 9, 3, 4, 9]);
  });

  test('reflect mirrors without repeating the edge: [1,2,3] by 2 and 2 -> 3 2 1 2 3 2 1', () => {
    assert.deepEqual([...pad(row([1, 2, 3]), [2, 2, 0, 0], 'reflect').data], [3, 2, 1, 2, 3, 2, 1]);
  });

  test('replicate repeats the edge: [1,2,3] by 2 and 1 -> 1 1 1 2 3 3', () => {
    assert.deepEqual([...pad(row([1, 2, 3]), [2, 1, 0, 0], 'replicate').data], [1, 1, 1, 2, 3, 3]);
  });

  test('circular wraps round, up to the whole input: [1,2,3] by 2 and 3 -> 2 3 1 2 3 1 2 3', () => {
    assert.deepEqual([...pad(row([1, 2, 3]), [2, 3, 0, 0], 'circular').data], [2, 3, 1, 2, 3, 1, 2, 3]);
  });

  test('the height axis: reflect of a column [1,2,3] by top 1, bottom 2 -> 2 1 2 3 2 1', () => {
    const col = tensor([1, 2, 3], [1, 3, 1]);
    assert.deepEqual([...pad(col, [0, 0, 1, 2], 'reflect').data], [2, 1, 2, 3, 2, 1]);
  });

  for (const mode of ['constant', 'reflect', 'replicate', 'circular'] as const) {
    test(`${mode}: 4-D, asymmetric pads on both axes, matches a naive loop`, () => {
      const x = rn([2, 3, 4, 5]);
      const pads = [2, 1, 3, 0];
      const y = pad(x, pads, mode, mode === 'constant' ? -1.5 : 0);
      assert.deepEqual(y.shape, [2, 3, 7, 8]);
      assert.deepEqual([...y.data], naivePad(x, pads, mode, mode === 'constant' ? -1.5 : 0));
    });
  }

  test('a 2-element padding pads the width only', () => {
    const y = pad(row([5, 6]), [1, 1], 'replicate');
    assert.deepEqual(y.shape, [1, 1, 1, 4]);
    assert.deepEqual([...y.data], [5, 5, 6, 6]);
  });

  test('keeps float64', () => {
    assert.equal(pad(rn([1, 2, 2]), [1, 1, 1, 1], 'reflect').dtype, 'float64');
  });
});

describe('pad backward (the adjoint)', () => {
  test('reflect [a,b,c] by 2 and 2 with dL/dy = 1: a and c are read twice, b three times', () => {
    const x = row([1, 2, 3]);
    x.requiresGrad = true;
    pad(x, [2, 2, 0, 0], 'reflect').sum().backward();
    assert.deepEqual([...x.grad!.data], [2, 3, 2]);
  });

  test('replicate: the corner input receives the whole padded corner block', () => {
    const x = tensor([[1, 2], [3, 4]]).reshape([1, 1, 2, 2]);
    x.requiresGrad = true;
    // 2 left, 0 right, 1 top, 0 bottom: x[0,0] is read by a 2x3 block
    pad(x, [2, 0, 1, 0], 'replicate').sum().backward();
    assert.deepEqual([...x.grad!.data], [6, 2, 3, 1]);
  });

  test('circular by the full width reads every input twice', () => {
    const x = row([1, 2, 3]);
    x.requiresGrad = true;
    pad(x, [3, 0, 0, 0], 'circular').sum().backward();
    assert.deepEqual([...x.grad!.data], [2, 2, 2]);
  });

  test('constant drops the border gradient', () => {
    const x = row([1, 2]);
    x.requiresGrad = true;
    const gy = tensor([10, 20, 30, 40, 50], [1, 1, 1, 5]);
    pad(x, [2, 1, 0, 0], 'constant', 7).backward(gy);
    assert.deepEqual([...x.grad!.data], [30, 40]);
  });

  for (const mode of ['constant', 'reflect', 'replicate', 'circular'] as const) {
    test(`gradcheck ${mode}: 4-D with asymmetric pads, and 3-D`, () => {
      const pads4 = mode === 'reflect' ? [3, 1, 0, 2] : [4, 1, 0, 3];
      assert.equal(gradcheck((x) => pad(x, pads4, mode), [rn([2, 2, 3, 4])]).passed, true);
      assert.equal(gradcheck((x) => pad(x, [0, 2, 1, 1], mode), [rn([2, 3, 3])]).passed, true);
    });
  }
});

describe('pad errors', () => {
  test('reflect padding must be smaller than the input on that axis', () => {
    throwsWith(() => pad(randn([1, 1, 4, 6]), [1, 1, 5, 0], 'reflect'), ValueError,
      'reflect padding 5 is wider than the input 4 on the height axis; reflect needs padding < input size');
    throwsWith(() => pad(randn([1, 1, 4, 6]), [6, 0, 0, 0], 'reflect'), ValueError, 'reflect padding 6 is as wide as the input 6 on the width axis');
  });

  test('circular padding may be at most the input size', () => {
    throwsWith(() => pad(randn([1, 4, 3]), [4, 0, 0, 0], 'circular'), ValueError,
      'circular padding 4 is wider than the input 3 on the width axis; circular needs padding <= input size');
  });

  test('unknown mode, value with a non-constant mode, bad widths, bad rank', () => {
    throwsWith(() => pad(randn([1, 2, 2]), [1, 1, 1, 1], 'wrap' as PadMode), ValueError, "padding mode must be one of 'constant', 'reflect', 'replicate', 'circular'", '"wrap"');
    throwsWith(() => pad(randn([1, 2, 2]), [1, 1, 1, 1], 'reflect', 3), ValueError, "value 3 only applies to mode 'constant'");
    throwsWith(() => pad(randn([1, 2, 2]), [1, -1, 0, 0]), ValueError, 'pad: every padding width must be an integer >= 0, got -1');
    throwsWith(() => pad(randn([1, 2, 2]), [1, 1, 1]), ValueError, 'pad: padding must be [left, right, top, bottom]');
    throwsWith(() => pad(randn([4, 4]), [1, 1, 1, 1]), ShapeError, 'pad: input must be 3-D [channels, height, width] or 4-D', '[4, 4]');
  });
});
