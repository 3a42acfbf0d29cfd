/**
 * batchNorm2d and the BatchNorm2d layer: values against naive per-channel
 * loops written here, the running-statistics update rule (PyTorch momentum,
 * cumulative average, Keras convention), gradients by finite differences in
 * training and eval mode, buffers and state-dict names, argument errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, ShapeError, Tensor, ValueError, backward, gradcheck, ones, randn, zeros, tensor } from '../../../src/index.js';
import { BatchNorm2d, fromPytorchName, pytorchName, toPytorchStateDict, fromPytorchStateDict } from '../../../src/nn/index.js';
import { batchNorm2d } from '../../../src/ops/index.js';
import { assertClose } from '../../helpers/index.js';

const gen = new Generator(4242);

function rn(shape: number[], dtype: 'float32' | 'float64' = 'float64', mean = 0, std = 1): Tensor {
  return randn(shape, { generator: gen, dtype, mean, std });
}

/** Per-channel mean, biased and unbiased variance of x [N, C, H, W], by a naive loop. */
function naiveStats(x: Tensor): { mean: number[]; biased: number[]; unbiased: number[] } {
  const [n, c, h, w] = x.shape;
  const mean: number[] = [];
  const biased: number[] = [];
  const unbiased: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const vals: number[] = [];
    for (let b = 0; b < n; b++) for (let i = 0; i < h * w; i++) vals.push(x.data[(b * c + ch) * h * w + i]);
    const m = vals.reduce((s, v) => s + v, 0) / vals.length;
    const ss = vals.reduce((s, v) => s + (v - m) ** 2, 0);
    mean.push(m);
    biased.push(ss / vals.length);
    unbiased.push(ss / (vals.length - 1));
  }
  return { mean, biased, unbiased };
}

/** (x - mean[c]) / sqrt(var[c] + eps) * w[c] + b[c], by a naive loop. */
function naiveNormalize(x: Tensor, mean: number[], variance: number[], eps: number, w?: number[], b?: number[]): number[] {
  const [, c, h, wd] = x.shape;
  const out: number[] = [];
  for (let i = 0; i < x.size; i++) {
    const ch = Math.floor(i / (h * wd)) % c;
    out.push(((x.data[i] - mean[ch]) / Math.sqrt(variance[ch] + eps)) * (w ? w[ch] : 1) + (b ? b[ch] : 0));
  }
  return out;
}

describe('batchNorm2d (functional)', () => {
  test('training: normalizes with the batch mean and biased variance over (N, H, W), then scale and shift', () => {
    const x = rn([3, 2, 2, 3], 'float64', 1.5, 2);
    const w = tensor([0.5, -2], [2], { dtype: 'float64' });
    const b = tensor([0.1, 3], [2], { dtype: 'float64' });
    const s = naiveStats(x);
    const y = batchNorm2d(x, null, null, w, b, { training: true, eps: 1e-3 });
    assertClose(y.data, naiveNormalize(x, s.mean, s.biased, 1e-3, [0.5, -2], [0.1, 3]), { rtol: 1e-12, atol: 1e-12 });
  });
  test('training: updates the running stats in place with momentum and the UNBIASED variance', () => {
    const x = rn([2, 3, 2, 2]);
    const rm = tensor([0.5, -1, 2]);
    const rv = tensor([1, 2, 0.5]);
    const s = naiveStats(x);
    batchNorm2d(x, rm, rv, null, null, { training: true, momentum: 0.3 });
    assertClose(rm.data, [0.5, -1, 2].map((r, c) => 0.7 * r + 0.3 * s.mean[c]), { rtol: 1e-6, atol: 1e-7 });
    assertClose(rv.data, [1, 2, 0.5].map((r, c) => 0.7 * r + 0.3 * s.unbiased[c]), { rtol: 1e-6, atol: 1e-7 });
  });
  test('eval: normalizes with the running stats and leaves them unchanged', () => {
    const x = rn([2, 3, 2, 2]);
    const rm = tensor([0.5, -1, 2], [3], { dtype: 'float64' });
    const rv = tensor([1, 2, 0.5], [3], { dtype: 'float64' });
    const y = batchNorm2d(x, rm, rv, null, tensor([1, 2, 3], [3], { dtype: 'float64' }), { training: false });
    assertClose(y.data, naiveNormalize(x, [0.5, -1, 2], [1, 2, 0.5], 1e-5, undefined, [1, 2, 3]), { rtol: 1e-12, atol: 1e-12 });
    assert.deepEqual([...rm.data], [0.5, -1, 2]);
    assert.deepEqual([...rv.data], [1, 2, 0.5]);
  });
  test('training is false by default, as F.batch_norm', () => {
    const x = rn([2, 1, 2, 2]);
    const y = batchNorm2d(x, tensor([0]), tensor([1]));
    assertClose(y.data, [...x.data].map((v) => v / Math.sqrt(1 + 1e-5)), { rtol: 1e-7, atol: 1e-7 });
  });
  test('gradcheck, training mode: x, weight and bias (mean and variance depend on x)', () => {
    const x = rn([2, 3, 2, 3], 'float64', 0.5, 1.5);
    const w = rn([3]);
    const b = rn([3]);
    const report = gradcheck((xx, ww, bb) => batchNorm2d(xx, null, null, ww, bb, { training: true, eps: 1e-3 }), [x, w, b]);
    assert.equal(report.passed, true);
    assert.equal(report.inputs.length, 3);
    // Without affine parameters, and with running stats being updated on every call.
    const rm = zeros([3]);
    const rv = ones([3]);
    assert.equal(gradcheck((xx) => batchNorm2d(xx, rm, rv, null, null, { training: true }), [x]).passed, true);
  });
  test('gradcheck, eval mode: x, weight and bias (a per-channel affine map)', () => {
    const x = rn([2, 3, 2, 2]);
    const rm = tensor([0.2, -0.4, 1], [3], { dtype: 'float64' });
    const rv = tensor([0.8, 1.5, 0.3], [3], { dtype: 'float64' });
    const report = gradcheck((xx, ww, bb) => batchNorm2d(xx, rm, rv, ww, bb, { training: false }), [x, rn([3]), rn([3])]);
    assert.equal(report.passed, true);
    assert.equal(report.inputs.length, 3);
  });
  test('eval gradient is exactly weight / sqrt(runningVar + eps) * gy', () => {
    const x = rn([1, 2, 1, 2]);
    x.requiresGrad = true;
    const y = batchNorm2d(x, tensor([0, 0]), tensor([3, 0.25]), tensor([2, -1]), null, { eps: 1e-5 });
    backward(y, tensor([1, 2, 3, 4], [1, 2, 1, 2], { dtype: 'float64' }));
    const k0 = 2 / Math.sqrt(3 + 1e-5);
    const k1 = -1 / Math.sqrt(0.25 + 1e-5);
    assertClose(x.grad!.data, [k0, 2 * k0, 3 * k1, 4 * k1], { rtol: 1e-6, atol: 0 });
  });
  test('training gradient sums to 0 over each channel (shifting a channel does not change its output)', () => {
    const x = rn([2, 2, 3, 1]);
    x.requiresGrad = true;
    backward(batchNorm2d(x, null, null, tensor([1.5, 0.5], [2], { dtype: 'float64' }), null, { training: true }), rn([2, 2, 3, 1]));
    for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let n = 0; n < 2; n++) for (let i = 0; i < 3; i++) s += x.grad!.data[(n * 2 + c) * 3 + i];
      assert.ok(Math.abs(s) < 1e-12, `channel ${c}: sum ${s}`);
    }
  });
  test('errors: wrong channel count for running stats, eps <= 0, momentum outside [0, 1], and more', () => {
    const x = rn([2, 3, 2, 2]);
    const isErr = (cls: Function, re: RegExp) => (e: unknown) => e instanceof cls && re.test((e as Error).message);
    assert.throws(() => batchNorm2d(x, zeros([4]), ones([4]), null, null, { training: true }),
      isErr(ShapeError, /batchNorm2d: runningMean must have shape \[3\] \(one value per channel of the input \[2, 3, 2, 2\]\), got \[4\]/));
    assert.throws(() => batchNorm2d(x, zeros([3]), ones([2])), isErr(ShapeError, /batchNorm2d: runningVar must have shape \[3\].*got \[2\]/));
    assert.throws(() => batchNorm2d(x, zeros([3]), ones([3]), ones([2])), isErr(ShapeError, /batchNorm2d: weight must have shape \[3\].*got \[2\]/));
    assert.throws(() => batchNorm2d(x, zeros([3]), ones([3]), null, null, { eps: 0 }),
      isErr(ValueError, /batchNorm2d: eps must be a finite number > 0 \(it keeps 1\/sqrt\(var \+ eps\) finite\), got 0/));
    assert.throws(() => batchNorm2d(x, zeros([3]), ones([3]), null, null, { eps: -1e-5 }), isErr(ValueError, /eps must be a finite number > 0.*got -0.00001/));
    assert.throws(() => batchNorm2d(x, zeros([3]), ones([3]), null, null, { momentum: 1.5 }),
      isErr(ValueError, /batchNorm2d: momentum must be a number in \[0, 1\] \(the weight of the new batch in the running average\), got 1.5/));
    assert.throws(() => batchNorm2d(x, zeros([3]), ones([3]), null, null, { momentum: -0.1 }), isErr(ValueError, /momentum must be a number in \[0, 1\].*got -0.1/));
    assert.throws(() => batchNorm2d(x, zeros([3]), ones([3]), null, null, { momentum: null as never }), isErr(ValueError, /momentum must be a number in \[0, 1\].*got null; for a cumulative average use the BatchNorm2d layer/));
    assert.throws(() => batchNorm2d(x, null, null), isErr(ValueError, /batchNorm2d: eval mode \(training false\) normalizes with the running statistics, but runningMean and runningVar are null/));
    assert.throws(() => batchNorm2d(x, zeros([3]), null, null, null, { training: true }), isErr(ValueError, /give both runningMean and runningVar or neither/));
    assert.throws(() => batchNorm2d(rn([3, 2, 2]), null, null, null, null, { training: true }), isErr(ShapeError, /batchNorm2d: input must be 4-D \[batch, channels, height, width\], got shape \[3, 2, 2\]/));
    assert.throws(() => batchNorm2d(rn([1, 3, 1, 1]), null, null, null, null, { training: true }),
      isErr(ValueError, /batchNorm2d: training needs more than 1 value per channel to compute a variance, got input \[1, 3, 1, 1\] \(N\*H\*W = 1\)/));
    assert.throws(() => batchNorm2d(x, null, null, null, null, { training: true, mom: 0.1 } as never), isErr(ValueError, /batchNorm2d: unknown option 'mom'/));
  });
});

describe('BatchNorm2d layer', () => {
  test('parameters weight (ones) and bias (zeros); buffers runningMean, runningVar, numBatchesTracked', () => {
    const bn = new BatchNorm2d(4);
    assert.deepEqual(Object.keys(bn.stateDict()), ['weight', 'bias', 'runningMean', 'runningVar', 'numBatchesTracked']);
    assert.deepEqual([...bn.parameters()].map((p) => p.shape), [[4], [4]]);
    assert.deepEqual([...bn.weight!.data], [1, 1, 1, 1]);
    assert.deepEqual([...bn.bias!.data], [0, 0, 0, 0]);
    assert.deepEqual([...bn.runningMean!.data], [0, 0, 0, 0]);
    assert.deepEqual([...bn.runningVar!.data], [1, 1, 1, 1]);
    assert.deepEqual(bn.numBatchesTracked!.shape, []);
    assert.equal(bn.numBatchesTracked!.data[0], 0);
    assert.equal(bn.numParameters(), 8);
    const plain = new BatchNorm2d(4, { affine: false, trackRunningStats: false });
    assert.deepEqual(Object.keys(plain.stateDict()), []);
    assert.equal(bn.toString(), 'BatchNorm2d(4, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)');
  });
  test('running stats over 3 training steps follow running = (1 - m) running + m batch (unbiased var), by a naive loop', () => {
    const bn = new BatchNorm2d(3, { momentum: 0.1 });
    const mean = [0, 0, 0];
    const variance = [1, 1, 1];
    for (let step = 0; step < 3; step++) {
      const x = rn([4, 3, 2, 2], 'float32', step, 1 + step);
      const s = naiveStats(x);
      for (let c = 0; c < 3; c++) {
        mean[c] = 0.9 * mean[c] + 0.1 * s.mean[c];
        variance[c] = 0.9 * variance[c] + 0.1 * s.unbiased[c];
      }
      const y = bn.forward(x);
      // Training output uses the batch's own statistics (biased variance).
      assertClose(y.data, naiveNormalize(x, s.mean, s.biased, 1e-5), { rtol: 1e-4, atol: 1e-5 });
    }
    assertClose(bn.runningMean!.data, mean, { rtol: 1e-5, atol: 1e-6 });
    assertClose(bn.runningVar!.data, variance, { rtol: 1e-5, atol: 1e-6 });
    assert.equal(bn.numBatchesTracked!.data[0], 3);
  });
  test('eval mode uses the running stats and does not update them or the batch count', () => {
    const bn = new BatchNorm2d(2);
    bn.runningMean!.data.set([1, -1]);
    bn.runningVar!.data.set([4, 0.25]);
    bn.weight!.data.set([2, 3]);
    bn.bias!.data.set([0.5, 0]);
    bn.eval();
    const x = rn([2, 2, 2, 2], 'float32');
    const y = bn.forward(x);
    assertClose(y.data, naiveNormalize(x, [1, -1], [4, 0.25], 1e-5, [2, 3], [0.5, 0]), { rtol: 1e-5, atol: 1e-5 });
    assert.deepEqual([...bn.runningMean!.data], [1, -1]);
    assert.equal(bn.numBatchesTracked!.data[0], 0);
  });
  test('momentum null: the running stats are the plain average of all batches so far', () => {
    const bn = new BatchNorm2d(2, { momentum: null });
    const means: number[][] = [];
    const vars: number[][] = [];
    for (let step = 0; step < 3; step++) {
      const x = rn([3, 2, 2, 2], 'float32', 2 * step - 1, 0.5 + step);
      const s = naiveStats(x);
      means.push(s.mean);
      vars.push(s.unbiased);
      bn.forward(x);
    }
    assertClose(bn.runningMean!.data, [0, 1].map((c) => (means[0][c] + means[1][c] + means[2][c]) / 3), { rtol: 1e-5, atol: 1e-6 });
    assertClose(bn.runningVar!.data, [0, 1].map((c) => (vars[0][c] + vars[1][c] + vars[2][c]) / 3), { rtol: 1e-5, atol: 1e-6 });
    assert.equal(bn.numBatchesTracked!.data[0], 3);
  });
  test("Keras convention: momentum 0.99 ('keras') equals 0.01 ('pytorch'): running = 0.99 running + 0.01 batch", () => {
    const keras = new BatchNorm2d(2, { momentum: 0.99, momentumConvention: 'keras' });
    const torch = new BatchNorm2d(2, { momentum: 0.01 });
    const mean = [0, 0];
    for (let step = 0; step < 3; step++) {
      const x = rn([2, 2, 3, 3], 'float32', 3, 2);
      const s = naiveStats(x);
      for (let c = 0; c < 2; c++) mean[c] = 0.99 * mean[c] + 0.01 * s.mean[c];
      keras.forward(x);
      torch.forward(x);
    }
    assertClose(keras.runningMean!.data, torch.runningMean!.data, { rtol: 1e-6, atol: 1e-7 });
    assertClose(keras.runningVar!.data, torch.runningVar!.data, { rtol: 1e-6, atol: 1e-7 });
    assertClose(keras.runningMean!.data, mean, { rtol: 1e-5, atol: 1e-7 });
    assert.equal(keras.pytorchMomentum, 1 - 0.99);
    // Keras' default momentum is 0.99.
    assert.equal(new BatchNorm2d(2, { momentumConvention: 'keras' }).momentum, 0.99);
  });
  test('trackRunningStats false: batch statistics in eval mode too, no buffers', () => {
    const bn = new BatchNorm2d(2, { trackRunningStats: false });
    bn.eval();
    const x = rn([2, 2, 2, 2], 'float32', 5, 3);
    const s = naiveStats(x);
    assertClose(bn.forward(x).data, naiveNormalize(x, s.mean, s.biased, 1e-5), { rtol: 1e-4, atol: 1e-5 });
    assert.equal(bn.runningMean, null);
    assert.deepEqual(Object.keys(bn.stateDict()), ['weight', 'bias']);
  });
  test('gradients reach weight and bias through the layer', () => {
    const bn = new BatchNorm2d(2);
    const x = rn([2, 2, 1, 2], 'float32');
    const gy = rn([2, 2, 1, 2], 'float32');
    backward(bn.forward(x), gy);
    // dbias = sum(gy) per channel.
    const sums = [0, 1].map((c) => gy.data[c * 2] + gy.data[c * 2 + 1] + gy.data[4 + c * 2] + gy.data[4 + c * 2 + 1]);
    assertClose(bn.bias!.grad!.data, sums, { rtol: 1e-5, atol: 1e-6 });
    assert.ok(bn.weight!.grad);
  });
  test('errors: numFeatures, input channels, eps <= 0, momentum outside [0, 1], convention', () => {
    const isErr = (cls: Function, re: RegExp) => (e: unknown) => e instanceof cls && re.test((e as Error).message);
    assert.throws(() => new BatchNorm2d(3).forward(rn([2, 4, 2, 2], 'float32')),
      isErr(ShapeError, /BatchNorm2d: input has 4 channels \(shape \[2, 4, 2, 2\]\) but the layer was built for numFeatures 3/));
    assert.throws(() => new BatchNorm2d(3).forward(rn([4, 3], 'float32')), isErr(ShapeError, /BatchNorm2d: input must be 4-D \[batch, channels, height, width\], got shape \[4, 3\]/));
    assert.throws(() => new BatchNorm2d(0), isErr(ValueError, /BatchNorm2d: numFeatures must be an integer >= 1, got 0/));
    assert.throws(() => new BatchNorm2d(3, { eps: 0 }), isErr(ValueError, /BatchNorm2d: eps must be a finite number > 0.*got 0/));
    assert.throws(() => new BatchNorm2d(3, { momentum: 1.01 }), isErr(ValueError, /BatchNorm2d: momentum must be a number in \[0, 1\] or null \(cumulative average\), got 1.01/));
    assert.throws(() => new BatchNorm2d(3, { momentumConvention: 'tf' as never }), isErr(ValueError, /BatchNorm2d: momentumConvention must be 'pytorch' or 'keras', got "tf"/));
    assert.throws(() => new BatchNorm2d(3, { running: true } as never), isErr(ValueError, /BatchNorm2d: unknown option 'running'/));
  });
});

describe('PyTorch state-dict names', () => {
  test('camelCase <-> snake_case per dotted segment', () => {
    assert.equal(pytorchName('bn1.runningMean'), 'bn1.running_mean');
    assert.equal(pytorchName('layer1.0.bn2.numBatchesTracked'), 'layer1.0.bn2.num_batches_tracked');
    assert.equal(pytorchName('conv1.weight'), 'conv1.weight');
    assert.equal(fromPytorchName('layer1.0.bn1.running_var'), 'layer1.0.bn1.runningVar');
    assert.equal(fromPytorchName('features.0.bias'), 'features.0.bias');
    assert.equal(fromPytorchName('downsample.1.num_batches_tracked'), 'downsample.1.numBatchesTracked');
  });
  test('a BatchNorm2d state dict round-trips through PyTorch names', () => {
    const bn = new BatchNorm2d(2);
    const torchState = toPytorchStateDict(bn.stateDict());
    assert.deepEqual(Object.keys(torchState), ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    const other = new BatchNorm2d(2);
    torchState.running_mean.data.set([3, 4]);
    other.loadStateDict(fromPytorchStateDict(torchState));
    assert.deepEqual([...other.runningMean!.data], [3, 4]);
  });
});
