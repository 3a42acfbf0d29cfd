/**
 * Bad input gets a typed error (ShapeError / ValueError) whose message names
 * the operation, the argument, the offending values and the rule. Each case
 * checks the class and the message with regular expressions.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  ShapeError, ValueError, StrideError, tensor, zeros, ones,
  add, mul, matmul, reshape, sum, softmax, permute, concat, stack, slice, squeeze, variance, clamp, leakyRelu,
  conv2d, maxPool2d, avgPool2d, linear, crossEntropy, mseLoss, dropout,
  Conv2d, Linear, MaxPool2d, Dropout, Sequential, SGD, Adam, AdamW,
} from '../../src/index.js';

/**
 * assert.ok that always carries a message: when Node 20's assert.ok fails without one it
 * re-parses the TypeScript source to quote the expression and can loop forever (under tsx),
 * hanging the whole run instead of failing the test.
 */
function ok(value: unknown, message?: string): asserts value {
  if (!value) assert.fail(message ?? `expected a truthy value (${new Error().stack?.split('\n')[2]?.trim()})`);
}

type ErrorClass = typeof ShapeError | typeof ValueError;

/** Asserts that fn throws an instance of cls whose message matches every pattern. */
function throwsWith(fn: () => unknown, cls: ErrorClass, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    ok(err instanceof cls, `expected ${cls.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    ok(err instanceof StrideError);
    assert.equal((err as Error).name, cls.name);
    for (const p of patterns) assert.match((err as Error).message, p);
    return true;
  });
}

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

describe('losses', () => {
  test('crossEntropy: a label out of range names its index, its value and the valid range', () => {
    throwsWith(() => crossEntropy(zeros([3, 3]), [0, 5, 1]), ValueError, /label 5 at index 1/, /3 classes/, /\[0, 2\]/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [-1, 0]), ValueError, /label -1 at index 0/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1.5]), ValueError, /label 1\.5 at index 1/);
    throwsWith(() => crossEntropy(zeros([2, 3]), tensor([0, 3])), ValueError, /label 3 at index 1/);
  });
  test('crossEntropy: label count, logits rank, options', () => {
    throwsWith(() => crossEntropy(zeros([3, 4]), [0, 1]), ShapeError, /2 labels/, /3/);
    throwsWith(() => crossEntropy(zeros([4]), [0]), ShapeError, /logits must be 2-D/, /\[4\]/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1], { reduction: 'avg' as any }), ValueError, /reduction/, /'avg'/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1], { labelSmoothing: 1.5 }), ValueError, /labelSmoothing/, /1\.5/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1], { label_smoothing: 0.1 } as any), ValueError, /unknown option 'label_smoothing'/);
    throwsWith(() => crossEntropy(zeros([2, 3]), tensor([[0], [1]])), ShapeError, /labels must be 1-D/, /\[2, 1\]/);
  });
  test('mseLoss: shapes must match', () => {
    throwsWith(() => mseLoss(zeros([2, 3]), zeros([3, 2])), ShapeError, /\[2, 3\]/, /\[3, 2\]/);
    throwsWith(() => mseLoss(zeros([2]), zeros([2]), { reduction: 'avg' as any }), ValueError, /'avg'/);
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

describe('other arguments', () => {
  test('probabilities and bounds', () => {
    throwsWith(() => dropout(ones([2]), 1.5), ValueError, /dropout: p must be a probability in \[0, 1\], got 1\.5/);
    throwsWith(() => new Dropout(-0.1), ValueError, /Dropout/, /-0\.1/);
    throwsWith(() => clamp(ones([2]), 1, 0), ValueError, /min 1 is greater than max 0/);
    throwsWith(() => leakyRelu(ones([2]), NaN), ValueError, /negativeSlope/);
    throwsWith(() => variance(ones([1])), ValueError, /degrees of freedom/);
  });
  test('layer sizes', () => {
    throwsWith(() => new Linear(0, 3), ValueError, /Linear: inFeatures must be an integer >= 1, got 0/);
    throwsWith(() => new Conv2d(3, 2.5, 3), ValueError, /outChannels/, /2\.5/);
    throwsWith(() => new Conv2d(3, 6, 3, { kernel_size: 3 } as any), ValueError, /unknown option 'kernel_size'/);
  });
});

describe('optimizers', () => {
  const p = () => zeros([2], { requiresGrad: true });
  test('negative or non-finite learning rate', () => {
    throwsWith(() => new SGD([p()], { lr: -0.1 }), ValueError, /SGD: lr must be a finite number >= 0, got -0\.1/);
    throwsWith(() => new Adam([p()], { lr: NaN }), ValueError, /Adam: lr/, /NaN/);
  });
  test('other hyperparameters out of range', () => {
    throwsWith(() => new Adam([p()], { betas: [1, 0.999] }), ValueError, /betas\[0\] must be in \[0, 1\), got 1/);
    throwsWith(() => new AdamW([p()], { eps: -1 }), ValueError, /AdamW: eps/, /-1/);
    throwsWith(() => new SGD([p()], { lr: 0.1, momentum: -0.5 }), ValueError, /momentum/, /-0\.5/);
    throwsWith(() => new SGD([p()], { lr: 0.1, nesterov: true }), ValueError, /nesterov needs momentum > 0 and dampening 0/);
    throwsWith(() => new SGD([p()], { lr: 0.1, weight_decay: 0.1 } as any), ValueError, /unknown option 'weight_decay'/, /weightDecay/);
  });
  test('empty parameter lists and non-leaf parameters (frozen leaves are accepted, as in PyTorch)', () => {
    throwsWith(() => new SGD([], { lr: 0.1 }), ValueError, /empty parameter list/);
    const computed = zeros([3, 2], { requiresGrad: true }).mul(2);
    throwsWith(() => new SGD([computed], { lr: 0.1 }), ValueError, /parameter 0/, /\[3, 2\]/, /not a leaf/);
    const frozen = zeros([3, 2]);
    const opt = new SGD([frozen], { lr: 0.1 });
    opt.step();
    assert.deepEqual(Array.from(frozen.data), [0, 0, 0, 0, 0, 0]);
  });
});

describe('loadStateDict', () => {
  const make = () => new Sequential(new Linear(4, 3), new Linear(3, 2));
  test('missing and unexpected names are listed (strict), and strict: false loads the rest', () => {
    const model = make();
    const state = { ...make().stateDict() };
    delete (state as Record<string, unknown>)['1.bias'];
    (state as Record<string, unknown>)['2.weight'] = zeros([1]);
    throwsWith(() => model.loadStateDict(state), ValueError, /missing 1\.bias/, /unexpected 2\.weight/, /strict: false/);
    const result = model.loadStateDict(state, { strict: false });
    assert.deepEqual(result, { missing: ['1.bias'], unexpected: ['2.weight'] });
  });
  test('a shape mismatch names the entry and both shapes, even when not strict', () => {
    const model = make();
    const state = { ...make().stateDict(), '0.weight': zeros([3, 5]) };
    throwsWith(() => model.loadStateDict(state), ShapeError, /'0\.weight'/, /\[3, 5\]/, /\[3, 4\]/);
    throwsWith(() => model.loadStateDict(state, { strict: false }), ShapeError, /'0\.weight'/);
  });
  test('a value that is not a tensor', () => {
    const model = make();
    const state = { ...make().stateDict(), '0.bias': [1, 2, 3] as any };
    throwsWith(() => model.loadStateDict(state), ValueError, /'0\.bias' must be a Tensor/);
  });
});
