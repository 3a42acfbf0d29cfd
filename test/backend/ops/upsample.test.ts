/**
 * upsample: nearest and bilinear (alignCorners false and true) against
 * hand-computed values, the scale PyTorch uses for a non-integer scaleFactor,
 * the backward by hand and by gradcheck, the Upsample layer and the errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { ShapeError, Tensor, ValueError, gradcheck, ones, randn, tensor } from '../../../src/index.js';
import { Upsample } from '../../../src/nn/index.js';
import { upsample } from '../../../src/ops/index.js';
import { assertClose, seeded, throwsWith } from '../../helpers/index.js';

const { gen, rn } = seeded(31);
const row = (values: number[]) => tensor(values, [1, 1, 1, values.length]);

describe('upsample nearest', () => {
  test('scaleFactor 2 repeats each pixel as a 2x2 block', () => {
    const y = upsample(tensor([[1, 2], [3, 4]]).reshape([1, 1, 2, 2]), { scaleFactor: 2 });
    assert.deepEqual(y.shape, [1, 1, 4, 4]);
    assert.deepEqual([...y.data], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  test('size 5 from 3: src = floor(d * 3/5) -> 0 0 1 1 2', () => {
    assert.deepEqual([...upsample(row([10, 20, 30]), { size: [1, 5] }).data], [10, 10, 20, 20, 30]);
  });

  test('non-integer scaleFactor 1.7 on 5: out 8, src = floor(d / 1.7) as PyTorch -> 0 0 1 1 2 2 3 4', () => {
    // with in/out = 5/8 the sixth output would read index 3; PyTorch uses 1/scaleFactor
    assert.deepEqual([...upsample(row([0, 1, 2, 3, 4]), { scaleFactor: [1, 1.7] }).data], [0, 0, 1, 1, 2, 2, 3, 4]);
  });

  test('scaleFactor [2, 3] per axis', () => {
    const y = upsample(tensor([1, 2], [1, 1, 1, 2]), { scaleFactor: [2, 3] });
    assert.deepEqual(y.shape, [1, 1, 2, 6]);
    assert.deepEqual([...y.data], [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]);
  });

  test('an infinity stays an infinity (a copy, not a weighted sum)', () => {
    assert.deepEqual([...upsample(row([Infinity, 1]), { scaleFactor: [1, 2] }).data], [Infinity, Infinity, 1, 1]);
  });

  test('backward: each input gathers the gradients of its block', () => {
    const x = ones([1, 1, 2, 2], { requiresGrad: true });
    const y = upsample(x, { scaleFactor: 2 });
    y.backward(new Tensor(new Float32Array(16).map((_, i) => i), [1, 1, 4, 4]));
    // block sums of 0..15 laid out 4x4: [0+1+4+5, 2+3+6+7, 8+9+12+13, 10+11+14+15]
    assert.deepEqual([...x.grad!.data], [10, 18, 42, 50]);
  });
});

describe('upsample bilinear', () => {
  test('alignCorners false: [0, 4] x2 -> src 0, 0.25, 0.75, 1.25 (clamped) -> 0 1 3 4', () => {
    assertClose(upsample(row([0, 4]), { scaleFactor: [1, 2], mode: 'bilinear' }).data, [0, 1, 3, 4], { atol: 1e-6 });
  });

  test('alignCorners true: corners line up, [0, 4] to 3 -> 0 2 4, to 5 -> 0 1 2 3 4', () => {
    assertClose(upsample(row([0, 4]), { size: [1, 3], mode: 'bilinear', alignCorners: true }).data, [0, 2, 4], { atol: 1e-6 });
    assertClose(upsample(row([0, 4]), { size: [1, 5], mode: 'bilinear', alignCorners: true }).data, [0, 1, 2, 3, 4], { atol: 1e-6 });
  });

  test('2-D: the product of the two axes, [[0, 1], [2, 3]] x2', () => {
    // along each axis the weights are (1,0), (.75,.25), (.25,.75), (0,1)
    const y = upsample(tensor([[0, 1], [2, 3]]).reshape([1, 1, 2, 2]), { scaleFactor: 2, mode: 'bilinear' });
    const a = [0, 0.25, 0.75, 1];
    const expected: number[] = [];
    for (const r of a) for (const c of a) expected.push(2 * r + c);
    assertClose(y.data, expected, { atol: 1e-6 });
  });

  test('backward by hand: [a, b] x2 with dL/dy = 1 gives 2 and 2', () => {
    const x = row([5, 7]);
    x.requiresGrad = true;
    upsample(x, { scaleFactor: [1, 2], mode: 'bilinear' }).sum().backward();
    // weights on a: 1 + .75 + .25 + 0 = 2
    assertClose(x.grad!.data, [2, 2], { atol: 1e-6 });
  });
});

describe('upsample gradcheck', () => {
  test('nearest: scaleFactor 2 and size [5, 7] from [3, 4]', () => {
    assert.equal(gradcheck((x) => upsample(x, { scaleFactor: 2 }), [rn([2, 2, 3, 3])]).passed, true);
    assert.equal(gradcheck((x) => upsample(x, { size: [5, 7] }), [rn([1, 2, 3, 4])]).passed, true);
  });

  test('bilinear: alignCorners false and true, integer and non-integer sizes', () => {
    assert.equal(gradcheck((x) => upsample(x, { scaleFactor: 3, mode: 'bilinear' }), [rn([1, 2, 3, 3])]).passed, true);
    assert.equal(gradcheck((x) => upsample(x, { size: [5, 7], mode: 'bilinear' }), [rn([2, 1, 3, 4])]).passed, true);
    assert.equal(gradcheck((x) => upsample(x, { size: [5, 7], mode: 'bilinear', alignCorners: true }), [rn([2, 1, 3, 4])]).passed, true);
    assert.equal(gradcheck((x) => upsample(x, { scaleFactor: [1.5, 2.5], mode: 'bilinear' }), [rn([1, 2, 4, 3])]).passed, true);
  });
});

describe('Upsample layer', () => {
  test('forward = the functional op; no parameters; repr', () => {
    const layer = new Upsample({ scaleFactor: 2, mode: 'bilinear' });
    const x = randn([1, 2, 3, 3], { generator: gen });
    assert.deepEqual([...layer.forward(x).data], [...upsample(x, { scaleFactor: 2, mode: 'bilinear' }).data]);
    assert.equal(layer.parameters().length, 0);
    assert.equal(layer.toString(), "Upsample(scaleFactor=2, mode='bilinear', alignCorners=false)");
    assert.equal(new Upsample({ size: [4, 6] }).forward(x).shape.join(), '1,2,4,6');
  });

  test('constructor errors', () => {
    throwsWith(() => new Upsample({ mode: 'nearest' }), ValueError, 'Upsample: give exactly one of size and scaleFactor (got neither)');
    throwsWith(() => new Upsample({ scaleFactor: 2, mode: 'nearest', alignCorners: true }), ValueError, "alignCorners applies to mode 'bilinear' only");
  });
});

describe('upsample errors', () => {
  test('exactly one of size and scaleFactor', () => {
    throwsWith(() => upsample(randn([1, 1, 2, 2]), { size: 4, scaleFactor: 2 }), ValueError, 'upsample: give exactly one of size and scaleFactor (got both)');
    throwsWith(() => upsample(randn([1, 1, 2, 2]), {}), ValueError, 'got neither');
  });

  test('mode, alignCorners, scaleFactor and rank', () => {
    throwsWith(() => upsample(randn([1, 1, 2, 2]), { scaleFactor: 2, mode: 'bicubic' as never }), ValueError, "upsample: mode must be 'nearest' or 'bilinear'", '"bicubic"');
    throwsWith(() => upsample(randn([1, 1, 2, 2]), { scaleFactor: 2, alignCorners: true }), ValueError, "upsample: alignCorners applies to mode 'bilinear' only");
    throwsWith(() => upsample(randn([1, 1, 2, 2]), { scaleFactor: -2 }), ValueError, 'upsample: scaleFactor must be a positive number');
    throwsWith(() => upsample(randn([1, 1, 2, 2]), { scaleFactor: 0.2 }), ValueError, 'turns the input 2x2 into 0x0');
    throwsWith(() => upsample(randn([1, 2, 2]), { scaleFactor: 2 }), ShapeError, 'upsample: input must be 4-D [batch, channels, height, width], got shape [1, 2, 2]');
    throwsWith(() => upsample(randn([1, 1, 2, 2]), { size: [0, 3] }), ValueError, 'size must be an integer >= 1');
  });
});
