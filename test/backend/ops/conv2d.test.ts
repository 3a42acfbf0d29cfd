/**
 * conv2d: forward values against the naive loop of test/helpers (from the
 * definition: cross-correlation with explicit zero padding) and hand-computed
 * cases, gradchecks over the options that change the backward pass, float32
 * gradients against float64 on the backend under test, and the errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError, ValueError, tensor, zeros, ones, arange, getBackend } from '../../../src/index.js';
import { conv2d, convOutputSize, samePadding, type Conv2dOptions } from '../../../src/ops/index.js';
import { Conv2d } from '../../../src/nn/index.js';
import { assertClose, assertGradcheck, float32GradientsMatch, naiveConvTensor, ok, seeded, throwsWith, type NaiveConvOptions } from '../../helpers/index.js';

/** Forward values and the float32-vs-float64 gradients draw from this generator (float32); each gradcheck block from its own (float64). */
const { rn } = seeded(99, 'float32');

test('the backend under test is in use', () => assert.equal(getBackend().name, process.env.STRIDE_BACKEND ?? getBackend().name));

describe('conv2d forward vs a naive loop', () => {
  const cases: [string, number[], number[], boolean, object, NaiveConvOptions][] = [
    ['plain 3x3', [2, 3, 6, 5], [4, 3, 3, 3], true, {}, { stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }],
    ['stride 2, padding 1', [1, 2, 7, 7], [3, 2, 3, 3], true, { stride: 2, padding: 1 }, { stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1 }],
    ['stride [1, 3], padding [2, 0]', [1, 2, 6, 8], [2, 2, 3, 2], true, { stride: [1, 3], padding: [2, 0] }, { stride: [1, 3], pads: [2, 2, 0, 0], dilation: [1, 1], groups: 1 }],
    ['asymmetric padding [0, 2, 1, 3]', [1, 2, 5, 4], [2, 2, 3, 3], false, { padding: [0, 2, 1, 3] }, { stride: [1, 1], pads: [0, 2, 1, 3], dilation: [1, 1], groups: 1 }],
    ['dilation 2', [1, 1, 7, 7], [2, 1, 3, 3], true, { dilation: 2 }, { stride: [1, 1], pads: [0, 0, 0, 0], dilation: [2, 2], groups: 1 }],
    ['groups 2', [2, 4, 5, 5], [6, 2, 3, 3], true, { groups: 2 }, { stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], groups: 2 }],
    ['depthwise', [1, 3, 5, 6], [3, 1, 3, 3], true, { groups: 3, padding: 1 }, { stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 3 }],
    // 'same' pads: total = max((ceil(in/s) - 1)*s + (k-1)*d + 1 - in, 0), the odd unit after.
    // H 5, k 4, s 1: total 3 -> [1, 2]; W 6, k 2, s 1: total 1 -> [0, 1].
    ["'same' stride 1, even kernels", [1, 2, 5, 6], [2, 2, 4, 2], true, { padding: 'same' }, { stride: [1, 1], pads: [1, 2, 0, 1], dilation: [1, 1], groups: 1 }],
    // H 7, k 3, s 2: out 4, total 2 -> [1, 1]; W 6, k 3, s 2: out 3, total 1 -> [0, 1].
    ["'same' stride 2 (TensorFlow's rule)", [1, 2, 7, 6], [3, 2, 3, 3], true, { padding: 'same', stride: 2 }, { stride: [2, 2], pads: [1, 1, 0, 1], dilation: [1, 1], groups: 1 }],
    ["'valid'", [1, 2, 6, 5], [2, 2, 3, 3], true, { padding: 'valid' }, { stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }],
  ];
  for (const [name, xs, ws, withBias, options, naive] of cases) {
    test(name, () => {
      const x = rn(xs);
      const w = rn(ws);
      const b = withBias ? rn([ws[0]]) : null;
      const y = conv2d(x, w, b, options);
      const ref = naiveConvTensor(x, w, b, naive);
      assert.deepEqual(y.shape, ref.shape);
      assertClose(y.data, ref.data, 1e-5, name);
    });
  }
  test("'same' keeps the spatial size at stride 1 and gives ceil(in / stride) at stride 2", () => {
    const w = ones([1, 1, 3, 3]);
    assert.deepEqual(conv2d(ones([1, 1, 7, 6]), w, null, { padding: 'same' }).shape, [1, 1, 7, 6]);
    assert.deepEqual(conv2d(ones([1, 1, 7, 6]), w, null, { padding: 'same', stride: 2 }).shape, [1, 1, 4, 3]);
    assert.deepEqual(samePadding(7, 3, 2, 1), [1, 1]);
    assert.deepEqual(samePadding(6, 3, 2, 1), [0, 1]);
    // ones through 'same' 3x3 at stride 1: corners see 4 ones, edges 6, the inside 9.
    const y = conv2d(ones([1, 1, 4, 4]), w, null, { padding: 'same' });
    assert.deepEqual(y.toArray(), [[[[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]]]]);
  });
  test('a NaN in the input is not hidden by a zero weight (0 * NaN = NaN, as PyTorch)', () => {
    const y = conv2d(tensor([NaN, 1], [1, 1, 1, 2]), tensor([0], [1, 1, 1, 1]));
    ok(Number.isNaN(y.data[0]));
    assert.equal(y.data[1], 0);
  });
  test('3-D unbatched input gives a 3-D output equal to the batched result', () => {
    const x = rn([2, 5, 5]);
    const w = rn([3, 2, 3, 3]);
    const b = rn([3]);
    const y3 = conv2d(x, w, b, { padding: 1 });
    assert.deepEqual(y3.shape, [3, 5, 5]);
    const ref = naiveConvTensor(x.reshape([1, 2, 5, 5]), w, b, { pads: [1, 1, 1, 1] });
    assertClose(y3.data, ref.data, 1e-5);
  });
  test('cross-correlation, not flipped convolution: a one-hot kernel shifts the image', () => {
    // w[0,0,0,0] = 1 picks x[i + 0, j + 0]; w[.., 2, 2] = 1 picks x[i + 2, j + 2].
    const x = arange(25).reshape([1, 1, 5, 5]);
    const w = tensor([0, 0, 0, 0, 0, 0, 0, 0, 1], [1, 1, 3, 3]);
    assert.deepEqual(conv2d(x, w).toArray(), [[[[12, 13, 14], [17, 18, 19], [22, 23, 24]]]]);
  });
  test('convOutputSize floors as PyTorch', () => {
    assert.equal(convOutputSize(224, 11, 4, 2, 2, 1), 55);
    assert.equal(convOutputSize(7, 3, 3, 0, 0, 1), 2);
    assert.equal(convOutputSize(7, 3, 1, 0, 0, 2), 3);
  });
});

describe('gradcheck: conv2d', () => {
  const { rn } = seeded(20240611);
  const cases: [string, number[], number[], boolean, Conv2dOptions][] = [
    ['plain', [2, 3, 5, 5], [4, 3, 3, 3], true, {}],
    ['stride 2, padding 1', [1, 2, 7, 6], [3, 2, 3, 3], true, { stride: 2, padding: 1 }],
    ['stride [2, 1], padding [1, 2]', [1, 2, 6, 5], [2, 2, 3, 2], true, { stride: [2, 1], padding: [1, 2] }],
    ['asymmetric padding [t, b, l, r]', [1, 2, 5, 4], [2, 2, 3, 3], true, { padding: [0, 2, 1, 0] }],
    ["'same', stride 1, even kernel", [1, 2, 5, 6], [2, 2, 4, 2], true, { padding: 'same' }],
    ["'same', stride 2", [1, 2, 7, 6], [3, 2, 3, 3], true, { padding: 'same', stride: 2 }],
    ["'valid'", [1, 2, 6, 5], [2, 2, 3, 3], true, { padding: 'valid' }],
    ['dilation 2', [1, 2, 7, 7], [2, 2, 3, 3], true, { dilation: 2 }],
    ['dilation [2, 1] with padding', [1, 1, 6, 6], [2, 1, 3, 2], true, { dilation: [2, 1], padding: 1 }],
    ['groups 2', [2, 4, 5, 5], [6, 2, 3, 3], true, { groups: 2 }],
    ['depthwise (groups = channels, multiplier 2)', [1, 3, 5, 5], [6, 1, 3, 3], true, { groups: 3, padding: 1 }],
    ['without bias', [2, 2, 5, 5], [3, 2, 3, 3], false, { stride: 2, padding: 1 }],
    ['1x1 kernel', [2, 3, 4, 4], [5, 3, 1, 1], true, {}],
  ];
  for (const [name, xs, ws, withBias, options] of cases) {
    test(name, () => {
      const inputs = [rn(xs), rn(ws)];
      if (withBias) inputs.push(rn([ws[0]]));
      assertGradcheck((x, w, b) => conv2d(x, w, b ?? null, options), inputs);
    });
  }
  test('3-D (unbatched) input', () => {
    assertGradcheck((x, w, b) => conv2d(x, w, b, { padding: 1 }), [rn([2, 4, 4]), rn([3, 2, 3, 3]), rn([3])]);
  });
});

describe('conv2d', () => {
  test('channel mismatch names both channel counts and the weight shape', () => {
    throwsWith(() => conv2d(zeros([1, 4, 8, 8]), zeros([6, 3, 5, 5])), ShapeError, /^conv2d:/, /4 channels/, /\[6, 3, 5, 5\]/, /expects 3/);
  });
  test('a kernel larger than the padded input, with and without dilation', () => {
    throwsWith(() => conv2d(zeros([1, 1, 7, 7]), zeros([1, 1, 5, 5]), null, { dilation: 2 }), ShapeError,
      /kernel 5x5 \(dilated 9x9\) is larger than the padded input 7x7/, /padding|smaller kernel/);
    throwsWith(() => conv2d(zeros([1, 1, 3, 3]), zeros([1, 1, 5, 5])), ShapeError, /kernel 5x5 is larger than the padded input 3x3/);
    throwsWith(() => conv2d(zeros([1, 1, 3, 6]), zeros([1, 1, 5, 5]), null, { padding: [0, 1] }), ShapeError, /padded input 3x8/);
    // With padding 1 the same 5x5 kernel fits a 3x3 input (3 + 2 = 5): no error.
    assert.deepEqual(conv2d(zeros([1, 1, 3, 3]), zeros([1, 1, 5, 5]), null, { padding: 1 }).shape, [1, 1, 1, 1]);
  });
  test('wrong rank of input and weight', () => {
    throwsWith(() => conv2d(zeros([8, 8]), zeros([1, 1, 3, 3])), ShapeError, /input must be 4-D/, /\[8, 8\]/);
    throwsWith(() => conv2d(zeros([1, 1, 1, 8, 8]), zeros([1, 1, 3, 3])), ShapeError, /\[1, 1, 1, 8, 8\]/);
    throwsWith(() => conv2d(zeros([1, 1, 8, 8]), zeros([1, 3, 3])), ShapeError, /weight must be 4-D/, /\[1, 3, 3\]/);
  });
  test('bias of the wrong shape', () => {
    throwsWith(() => conv2d(zeros([1, 3, 8, 8]), zeros([6, 3, 3, 3]), zeros([5])), ShapeError, /bias/, /\[6\]/, /\[5\]/);
  });
  test('unknown options, e.g. TensorFlow-style strides', () => {
    throwsWith(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), null, { strides: 2 } as any), ValueError, /unknown option 'strides'/, /stride/);
    throwsWith(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), null, { padding_mode: 'zeros' } as any), ValueError, /unknown option 'padding_mode'/, /paddingMode/);
  });
  test('groups that do not divide the channels', () => {
    throwsWith(() => conv2d(zeros([1, 4, 5, 5]), zeros([3, 1, 3, 3]), null, { groups: 3 }), ValueError, /groups 3/, /4 input channels/);
    throwsWith(() => conv2d(zeros([1, 4, 5, 5]), zeros([3, 2, 3, 3]), null, { groups: 2 }), ValueError, /groups 2/, /3 output channels/);
    throwsWith(() => new Conv2d(4, 6, 3, { groups: 4 }), ValueError, /groups 4/, /4/, /6/);
  });
  test('negative padding, non-integer or zero stride, zero dilation', () => {
    throwsWith(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), null, { padding: -1 }), ValueError, /padding must be an integer >= 0, got -1/);
    throwsWith(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), null, { padding: [0, 0, -2, 0] }), ValueError, /padding/, /-2/);
    throwsWith(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), null, { stride: 1.5 }), ValueError, /stride must be an integer >= 1, got 1\.5/);
    throwsWith(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), null, { stride: 0 }), ValueError, /stride/, /got 0/);
    throwsWith(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), null, { dilation: [1, 0] }), ValueError, /dilation/, /got 0/);
    throwsWith(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), null, { padding: 'full' as any }), ValueError, /padding/, /'same'/, /"full"/);
  });
  test('an unknown padding mode lists the valid ones', () => {
    throwsWith(() => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), null, { paddingMode: 'mirror' as any }), ValueError, /paddingMode/, /mirror/, /'zeros'/);
  });
  test('a plain array instead of a tensor', () => {
    throwsWith(() => conv2d([[1, 2]] as any, zeros([1, 1, 1, 1])), ValueError, /conv2d: input must be a Tensor/, /tensor\(/);
  });
});

describe('float32 gradients on this backend equal the float64 gradients (which the gradchecks check)', () => {
  float32GradientsMatch('conv2d, stride 2, padding 1, with bias', (x, w, b) => conv2d(x, w, b, { stride: 2, padding: 1 }), [[2, 3, 7, 6], [4, 3, 3, 3], [4]], rn);
  float32GradientsMatch('conv2d, dilation 2, asymmetric padding', (x, w) => conv2d(x, w, null, { dilation: 2, padding: [1, 0, 2, 1] }), [[1, 2, 7, 7], [3, 2, 3, 3]], rn);
  float32GradientsMatch('conv2d, groups 2', (x, w, b) => conv2d(x, w, b, { groups: 2, padding: 1 }), [[2, 4, 5, 5], [6, 2, 3, 3], [6]], rn);
  float32GradientsMatch("conv2d, 'same' stride 2", (x, w) => conv2d(x, w, null, { padding: 'same', stride: 2 }), [[1, 2, 8, 7], [2, 2, 3, 3]], rn);
  float32GradientsMatch('conv2d, 1x1', (x, w, b) => conv2d(x, w, b), [[2, 8, 4, 4], [5, 8, 1, 1], [5]], rn);
});
