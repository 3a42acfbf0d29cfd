/**
 * conv2d's padding modes (reflect, replicate, circular, partial) against a
 * naive convolution loop of test/helpers, hand-computed partial-convolution
 * values, TensorFlow-style 'same' with stride 2, gradchecks, the Conv2d layer
 * and the errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, ValueError, gradcheck, ones, randn, tensor } from '../../../src/index.js';
import { Conv2d } from '../../../src/nn/index.js';
import { conv2d, resolvePadding, type Conv2dOptions } from '../../../src/ops/index.js';
import { assertClose, naiveConvTensor as naiveConv, seeded, throwsWith } from '../../helpers/index.js';

const { gen, rn } = seeded(99);

const CONFIGS: { name: string; x: number[]; w: number[]; opts: Conv2dOptions; pads: [number, number, number, number] }[] = [
  { name: 'padding 2, stride 1', x: [2, 3, 6, 7], w: [4, 3, 3, 3], opts: { padding: 2 }, pads: [2, 2, 2, 2] },
  { name: 'asymmetric [top, bottom, left, right], stride [2, 1]', x: [1, 2, 7, 6], w: [3, 2, 3, 2], opts: { padding: [1, 3, 2, 0], stride: [2, 1] }, pads: [1, 3, 2, 0] },
  { name: 'dilation 2, groups 2, [ph, pw]', x: [2, 4, 8, 7], w: [6, 2, 3, 3], opts: { padding: [2, 3], dilation: 2, groups: 2 }, pads: [2, 2, 3, 3] },
  { name: "'same', stride 2 (TensorFlow: odd unit bottom/right)", x: [1, 2, 8, 7], w: [2, 2, 3, 4], opts: { padding: 'same', stride: 2 }, pads: [0, 1, 1, 2] },
  { name: "'same', stride 1, dilation [1, 2]", x: [1, 3, 6, 9], w: [3, 1, 4, 3], opts: { padding: 'same', dilation: [1, 2], groups: 3 }, pads: [1, 2, 2, 2] },
];

describe('conv2d padding modes match a naive loop', () => {
  for (const mode of ['zeros', 'reflect', 'replicate', 'circular', 'partial'] as const) {
    for (const c of CONFIGS) {
      test(`${mode}: ${c.name}`, () => {
        const x = rn(c.x);
        const w = rn(c.w);
        const b = rn([c.w[0]]);
        const opts = { ...c.opts, paddingMode: mode };
        // the resolved padding the naive loop uses is the one written in the table
        const [kH, kW] = c.w.slice(2);
        const s = typeof c.opts.stride === 'number' ? [c.opts.stride, c.opts.stride] : (c.opts.stride ?? [1, 1]);
        const d = typeof c.opts.dilation === 'number' ? [c.opts.dilation, c.opts.dilation] : (c.opts.dilation ?? [1, 1]);
        assert.deepEqual(resolvePadding('t', c.opts.padding!, c.x[2], c.x[3], kH, kW, s as [number, number], d as [number, number]), c.pads);
        const naive = naiveConv(x, w, b, { stride: s as [number, number], pads: c.pads, dilation: d as [number, number], groups: c.opts.groups ?? 1, mode });
        assertClose(conv2d(x, w, b, opts), naive, 1e-9);
        assertClose(conv2d(x, w, null, opts), naiveConv(x, w, null, { stride: s as [number, number], pads: c.pads, dilation: d as [number, number], groups: c.opts.groups ?? 1, mode }), 1e-9);
      });
    }
  }

  test('3-D input (no batch) works with a padding mode', () => {
    const x = rn([2, 5, 5]);
    const w = rn([3, 2, 3, 3]);
    const y = conv2d(x, w, null, { padding: 1, paddingMode: 'circular' });
    assert.deepEqual(y.shape, [3, 5, 5]);
    assertClose(y.reshape([1, 3, 5, 5]), naiveConv(x.reshape([1, 2, 5, 5]), w, null, { stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1, mode: 'circular' }), 1e-9);
  });
});

describe('partial-convolution padding by hand', () => {
  test('ones through a 3x3 ones kernel, padding 1: zeros gives the tap counts, partial rescales every position to 9, + bias', () => {
    const x = ones([1, 1, 3, 3]);
    const w = ones([1, 1, 3, 3]);
    assert.deepEqual([...conv2d(x, w, null, { padding: 1 }).data], [4, 6, 4, 6, 9, 6, 4, 6, 4]);
    assert.deepEqual([...conv2d(x, w, null, { padding: 1, paddingMode: 'partial' }).data], new Array(9).fill(9));
    assert.deepEqual([...conv2d(x, w, tensor([0.5]), { padding: 1, paddingMode: 'partial' }).data], new Array(9).fill(9.5));
  });

  test('the ratio counts dilated taps: 1x3 kernel, dilation 2, padding 2 on a row of 3', () => {
    // windows read columns j-2, j, j+2 for j = 0..2: inside counts 2, 1, 2 -> ratios 3/2, 3, 3/2
    const x = tensor([1, 2, 3], [1, 1, 1, 3]);
    const w = tensor([1, 1, 1], [1, 1, 1, 3]);
    const y = conv2d(x, w, null, { padding: [0, 2], dilation: 2, paddingMode: 'partial' });
    assert.deepEqual([...y.data], [(1 + 3) * 1.5, 2 * 3, (1 + 3) * 1.5]);
  });

  test('a window entirely in the padding gives 0, bias included (NVIDIA PartialConv2d)', () => {
    const x = tensor([[1, 2], [3, 4]]).reshape([1, 1, 2, 2]);
    const w = tensor([10], [1, 1, 1, 1]);
    const y = conv2d(x, w, tensor([1]), { padding: 1, paddingMode: 'partial' });
    assert.deepEqual([...y.data], [0, 0, 0, 0, 0, 11, 21, 0, 0, 31, 41, 0, 0, 0, 0, 0]);
  });

  test('the bias gradient counts only positions that see the image', () => {
    const x = ones([1, 1, 2, 2]);
    const w = ones([1, 1, 1, 1]);
    const b = tensor([0.0], undefined, { requiresGrad: true });
    conv2d(x, w, b, { padding: 1, paddingMode: 'partial' }).sum().backward();
    assert.deepEqual([...b.grad!.data], [4]);
  });
});

describe('gradcheck of the padding modes', () => {
  test('partial padding with stride, dilation and asymmetric padding (x, weight, bias)', () => {
    const r = gradcheck((x, w, b) => conv2d(x, w, b, { padding: [2, 0, 1, 2], stride: [2, 1], dilation: [1, 2], paddingMode: 'partial' }), [rn([2, 2, 5, 6]), rn([3, 2, 3, 2]), rn([3])]);
    assert.equal(r.passed, true);
    assert.equal(r.inputs.length, 3);
  });

  test("partial with 'same' and a window entirely in the padding", () => {
    assert.equal(gradcheck((x, w, b) => conv2d(x, w, b, { padding: 1, paddingMode: 'partial' }), [rn([1, 2, 3, 3]), rn([2, 2, 1, 1]), rn([2])]).passed, true);
    assert.equal(gradcheck((x, w, b) => conv2d(x, w, b, { padding: 'same', stride: 2, paddingMode: 'partial' }), [rn([1, 2, 5, 6]), rn([2, 2, 3, 3]), rn([2])]).passed, true);
  });

  test('circular padding with dilation', () => {
    assert.equal(gradcheck((x, w, b) => conv2d(x, w, b, { padding: [3, 2], dilation: [2, 3], paddingMode: 'circular' }), [rn([2, 2, 5, 4]), rn([2, 2, 3, 2]), rn([2])]).passed, true);
  });

  test('reflect padding with groups', () => {
    assert.equal(gradcheck((x, w, b) => conv2d(x, w, b, { padding: [1, 2, 0, 3], groups: 2, paddingMode: 'reflect' }), [rn([2, 4, 4, 5]), rn([4, 2, 3, 3]), rn([4])]).passed, true);
  });

  test("replicate padding with 'same' and stride 2 (asymmetric TensorFlow padding)", () => {
    assert.equal(gradcheck((x, w, b) => conv2d(x, w, b, { padding: 'same', stride: 2, paddingMode: 'replicate' }), [rn([1, 3, 6, 7]), rn([2, 3, 4, 3]), rn([2])]).passed, true);
  });
});

describe("TensorFlow-style 'same' with stride 2", () => {
  test('out = ceil(in / 2); the total padding depends on the input size', () => {
    // in 7, k 3, s 2: total = (4-1)*2 + 3 - 7 = 2 -> 1 + 1; in 8: total 1 -> 0 + 1 (the odd unit after)
    assert.deepEqual(resolvePadding('t', 'same', 7, 8, 3, 3, [2, 2], [1, 1]), [1, 1, 0, 1]);
    const y = conv2d(ones([1, 1, 7, 8]), ones([1, 1, 3, 3]), null, { padding: 'same', stride: 2, paddingMode: 'replicate' });
    assert.deepEqual(y.shape, [1, 1, 4, 4]);
    // replicate of ones is ones: every window sums 9
    assert.deepEqual([...y.data], new Array(16).fill(9));
  });
});

describe('Conv2d layer with padding modes', () => {
  for (const mode of ['reflect', 'replicate', 'circular', 'partial'] as const) {
    test(`${mode}: the layer computes the functional conv2d with its parameters`, () => {
      const layer = new Conv2d(2, 3, 3, { padding: 1, paddingMode: mode, generator: new Generator(3) });
      const x = randn([1, 2, 5, 5], { generator: gen });
      const y = layer.forward(x);
      const expected = naiveConv(x, layer.weight, layer.bias, { stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1, mode });
      assertClose(y, expected, 1e-5);
      assert.match(layer.toString(), new RegExp(`paddingMode='${mode}'`));
    });
  }
});

describe('padding mode errors', () => {
  test('an unknown paddingMode names the modes', () => {
    throwsWith(() => conv2d(randn([1, 1, 4, 4]), randn([1, 1, 3, 3]), null, { padding: 1, paddingMode: 'mirror' as never }), ValueError,
      "conv2d: paddingMode must be one of 'zeros', 'reflect', 'replicate', 'circular', 'partial'; got \"mirror\"");
    throwsWith(() => new Conv2d(1, 1, 3, { paddingMode: 'wrap' as never }), ValueError, "Conv2d: paddingMode must be one of 'zeros', 'reflect'");
  });

  test('reflect padding as wide as the input is refused by conv2d, with its name', () => {
    throwsWith(() => conv2d(randn([1, 1, 3, 8]), randn([1, 1, 3, 3]), null, { padding: [4, 1], paddingMode: 'reflect' }), ValueError,
      'conv2d: reflect padding 4 is wider than the input 3 on the height axis; reflect needs padding < input size');
  });

  test('circular padding wider than the input is refused by conv2d', () => {
    throwsWith(() => conv2d(randn([1, 1, 8, 2]), randn([1, 1, 3, 3]), null, { padding: [1, 3], paddingMode: 'circular' }), ValueError,
      'conv2d: circular padding 3 is wider than the input 2 on the width axis');
  });
});
