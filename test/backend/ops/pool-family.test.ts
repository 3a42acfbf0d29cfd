/**
 * The pooling family beyond max/avg (LP pooling, adaptive and global pooling,
 * L2 pooling across channels, max pooling with indices and max unpooling) and
 * local response normalization. Expected values come from hand computation or
 * from naive loops written here from the definitions; gradients from gradcheck
 * (float64 central differences).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Tensor, ShapeError, ValueError, tensor, zeros, backward, nn, F } from '../../../src/index.js';
import { lpPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d, globalAvgPool2d, globalMaxPool2d, channelL2Pool, maxPool2d, maxPool2dWithIndices, maxUnpool2d, localResponseNorm } from '../../../src/ops/index.js';
import { LPPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, GlobalAvgPool2d, GlobalMaxPool2d, ChannelL2Pool, MaxUnpool2d, LocalResponseNorm } from '../../../src/nn/index.js';
import { assertClose, assertGradcheck, seeded, throwsWith } from '../../helpers/index.js';

const { rn, ru } = seeded(777);

/** Gradient of sum(op(x) * gy) with respect to x, float64. */
function gradOf(op: (x: Tensor) => Tensor, x: Tensor, gy: number[]): Float64Array | Float32Array {
  const xx = new Tensor(new Float64Array(x.data), x.shape);
  xx.requiresGrad = true;
  const y = op(xx);
  backward(y, new Tensor(Float64Array.from(gy), y.shape));
  return xx.grad!.data;
}

// ---------------------------------------------------------------------------

describe('lpPool2d', () => {
  /** Naive (sum over each full window of x^p)^(1/p), no ceilMode, from the definition. */
  function naiveLp(x: Tensor, p: number, kH: number, kW: number, sH: number, sW: number): number[] {
    const [n, c, h, w] = x.shape;
    const oh = Math.floor((h - kH) / sH) + 1;
    const ow = Math.floor((w - kW) / sW) + 1;
    const out: number[] = [];
    for (let pl = 0; pl < n * c; pl++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let s = 0;
          for (let a = 0; a < kH; a++) for (let b = 0; b < kW; b++) s += x.data[pl * h * w + (i * sH + a) * w + j * sW + b] ** p;
          out.push(s ** (1 / p));
        }
      }
    }
    return out;
  }

  test('p = 2 is the L2 norm of each window: [3, 4] -> 5, [5, 12] -> 13', () => {
    const x = tensor([[[[3, 4, 5, 12]]]]);
    const y = lpPool2d(x, 2, [1, 2]);
    assert.deepEqual(y.shape, [1, 1, 1, 2]);
    assert.deepEqual([...y.data], [5, 13]);
  });

  test('matches a naive loop for p = 2, 3 and 1.5, overlapping and strided windows', () => {
    const x = ru([2, 3, 7, 6], 0.1, 2);
    for (const p of [2, 3, 1.5]) {
      assertClose(lpPool2d(x, p, [3, 2], { stride: [2, 1] }).data, naiveLp(x, p, 3, 2, 2, 1), 1e-9);
      assertClose(lpPool2d(x, p, 2).data, naiveLp(x, p, 2, 2, 2, 2), 1e-9);
    }
  });

  test('p = 1 is sum pooling, also for negative values', () => {
    const y = lpPool2d(tensor([[[[-2, -3, 1, 4]]]]), 1, [1, 2]);
    assert.deepEqual([...y.data], [-5, 5]);
  });

  test('odd p with negative inputs: a negative power sum has no real root (NaN, as PyTorch); a positive one is fine', () => {
    // [-2, 1]: (-8 + 1)^(1/3) -> NaN; [-1, 2]: (-1 + 8)^(1/3) = 7^(1/3).
    const y = lpPool2d(tensor([[[[-2, 1, -1, 2]]]]), 3, [1, 2]);
    assert.ok(Number.isNaN(y.data[0]));
    assertClose([y.data[1]], [Math.cbrt(7)], 1e-6);
  });

  test('ceilMode: a cut-short window is its sum scaled by kH*kW / area (PyTorch avg_pool2d(x^p) * kH*kW)', () => {
    // Windows [3, 4] and [12] (cut to 1 of 2): sqrt(9 + 16) = 5 and sqrt(144 * 2/1) = 12*sqrt(2).
    const y = lpPool2d(tensor([[[[3, 4, 12]]]]), 2, [1, 2], { ceilMode: true });
    assert.deepEqual(y.shape, [1, 1, 1, 2]);
    assertClose(y.data, [5, 12 * Math.SQRT2], 1e-6);
    assert.deepEqual(lpPool2d(tensor([[[[3, 4, 12]]]]), 2, [1, 2]).shape, [1, 1, 1, 1]);
  });

  test('mean: true gives the power mean over the (clipped) window', () => {
    const y = lpPool2d(tensor([[[[3, 4, 12]]]]), 2, [1, 2], { ceilMode: true, mean: true });
    assertClose(y.data, [Math.sqrt(12.5), 12], 1e-6);
  });

  test('the gradient of a window whose power sum is 0 is 0, not NaN', () => {
    const g = gradOf((x) => lpPool2d(x, 2, 2), zeros([1, 1, 2, 2]), [1]);
    assert.deepEqual([...g], [0, 0, 0, 0]);
  });

  test('gradient by hand, p = 2: d||x||/dx = x / ||x||', () => {
    const g = gradOf((x) => lpPool2d(x, 2, [1, 2]), tensor([[[[3, 4]]]]), [2]);
    assertClose(g, [2 * 3 / 5, 2 * 4 / 5], 1e-9);
  });

  test('3-D input [C, H, W] works as a batch of one', () => {
    const x = ru([2, 4, 4], 0.1, 1);
    const y = lpPool2d(x, 2, 2);
    assert.deepEqual(y.shape, [2, 2, 2]);
    assertClose(y.data, lpPool2d(x.reshape([1, 2, 4, 4]), 2, 2).data, 1e-9);
  });

  test('gradcheck: p = 2, 3, 1.5 (positive inputs), overlapping windows', () => {
    for (const p of [2, 3, 1.5]) assertGradcheck((x) => lpPool2d(x, p, [3, 2], { stride: [2, 1] }), [ru([2, 2, 7, 5], 0.2, 1.5)]);
  });

  test('gradcheck: ceilMode windows cut short, with and without mean', () => {
    assertGradcheck((x) => lpPool2d(x, 2, 2, { stride: 2, ceilMode: true }), [ru([1, 2, 5, 5], 0.2, 1.5)]);
    assertGradcheck((x) => lpPool2d(x, 3, [2, 3], { stride: [2, 2], ceilMode: true, mean: true }), [ru([1, 1, 5, 6], 0.2, 1.5)]);
    assertGradcheck((x) => lpPool2d(x, 2.5, 3, { stride: 2, ceilMode: true }), [ru([2, 1, 6, 6], 0.2, 1.5)]);
  });

  test('errors: p <= 0, p not finite, wrong rank, window larger than the input, unknown option', () => {
    const x = ru([1, 1, 4, 4], 0.1, 1);
    throwsWith(() => lpPool2d(x, 0, 2), ValueError, /LP pooling needs p > 0, got p=0/);
    throwsWith(() => lpPool2d(x, -1, 2), ValueError, /LP pooling needs p > 0, got p=-1/);
    throwsWith(() => lpPool2d(x, NaN, 2), ValueError, /p must be a number > 0 \(p = 2 is L2 pooling\), got NaN/);
    throwsWith(() => lpPool2d(x, Infinity, 2), ValueError, /finite p, got p=Infinity.*maxPool2d/);
    throwsWith(() => lpPool2d(ru([4, 4], 0, 1), 2, 2), ShapeError, /4-D.*got shape \[4, 4\]/);
    throwsWith(() => lpPool2d(x, 2, 5), ShapeError, /window 5x5 is larger than the input 4x4/);
    throwsWith(() => lpPool2d(x, 2, 2, { padding: 1 } as any), ValueError, /unknown option 'padding'/);
  });
});

// ---------------------------------------------------------------------------

describe('adaptive and global pooling', () => {
  /** Naive adaptive pooling from the definition: start = floor(i*in/out), end = ceil((i+1)*in/out). */
  function naiveAdaptive(x: Tensor, oh: number, ow: number, kind: 'avg' | 'max'): number[] {
    const [n, c, h, w] = x.shape;
    const out: number[] = [];
    for (let pl = 0; pl < n * c; pl++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const vals: number[] = [];
          for (let a = Math.floor((i * h) / oh); a < Math.ceil(((i + 1) * h) / oh); a++) {
            for (let b = Math.floor((j * w) / ow); b < Math.ceil(((j + 1) * w) / ow); b++) vals.push(x.data[pl * h * w + a * w + b]);
          }
          out.push(kind === 'max' ? Math.max(...vals) : vals.reduce((s, v) => s + v, 0) / vals.length);
        }
      }
    }
    return out;
  }

  test('by hand: [1, 2, 3, 4, 5] to 3 uses windows [0,2), [1,4), [3,5)', () => {
    const x = tensor([[[[1, 2, 3, 4, 5]]]]);
    assert.deepEqual([...adaptiveAvgPool2d(x, [1, 3]).data], [1.5, 3, 4.5]);
    assert.deepEqual([...adaptiveMaxPool2d(x, [1, 3]).data], [2, 4, 5]);
  });

  test('non-divisible sizes and outputs larger than the input match the naive definition', () => {
    const x = rn([2, 3, 5, 7]);
    for (const [oh, ow] of [[3, 4], [2, 2], [5, 7], [7, 9], [1, 1]]) {
      assertClose(adaptiveAvgPool2d(x, [oh, ow]).data, naiveAdaptive(x, oh, ow, 'avg'), 1e-9);
      assertClose(adaptiveMaxPool2d(x, [oh, ow]).data, naiveAdaptive(x, oh, ow, 'max'), 1e-9);
    }
  });

  test('outputSize: a number for both axes, null keeps that axis', () => {
    const x = rn([1, 2, 6, 4]);
    assert.deepEqual(adaptiveAvgPool2d(x, 3).shape, [1, 2, 3, 3]);
    assert.deepEqual(adaptiveMaxPool2d(x, [null, 2]).shape, [1, 2, 6, 2]);
    assertClose(adaptiveAvgPool2d(x, [null, 2]).data, naiveAdaptive(x, 6, 2, 'avg'), 1e-9);
    assert.deepEqual(adaptiveAvgPool2d(rn([2, 6, 4]), [3, null]).shape, [2, 3, 4]);
  });

  test('adaptive max routes the gradient to each winner, summing where windows overlap', () => {
    // [1, 5, 2] to 2: windows [0,2) and [1,3) both pick 5 (index 1).
    const g = gradOf((x) => adaptiveMaxPool2d(x, [1, 2]), tensor([[[[1, 5, 2]]]]), [3, 4]);
    assert.deepEqual([...g], [0, 7, 0]);
  });

  test('global pooling: the mean / max of each plane, [N, C, 1, 1] or [N, C] with keepDims false', () => {
    const x = tensor([[[[1, 2], [3, 6]], [[-1, -2], [-3, -4]]]]);
    const a = globalAvgPool2d(x);
    assert.deepEqual(a.shape, [1, 2, 1, 1]);
    assert.deepEqual([...a.data], [3, -2.5]);
    const m = globalMaxPool2d(x, { keepDims: false });
    assert.deepEqual(m.shape, [1, 2]);
    assert.deepEqual([...m.data], [6, -1]);
    assert.deepEqual(globalAvgPool2d(rn([3, 4, 5]), { keepDims: false }).shape, [3]);
  });

  test('gradcheck: adaptive avg and max with non-divisible and enlarging sizes; global pools', () => {
    for (const size of [[3, 4], [2, 5], [7, 9]] as const) {
      assertGradcheck((x) => adaptiveAvgPool2d(x, size), [rn([2, 2, 5, 7])]);
      assertGradcheck((x) => adaptiveMaxPool2d(x, size), [rn([2, 2, 5, 7])]);
    }
    assertGradcheck((x) => globalAvgPool2d(x, { keepDims: false }), [rn([2, 3, 4, 3])]);
    assertGradcheck((x) => globalMaxPool2d(x), [rn([2, 3, 4, 3])]);
  });

  test('errors: rank, empty planes, outputSize form and value, global options', () => {
    throwsWith(() => adaptiveAvgPool2d(rn([4, 4]), 2), ShapeError, /4-D.*\[4, 4\]/);
    throwsWith(() => adaptiveMaxPool2d(zeros([1, 1, 0, 3]), 2), ShapeError, /non-empty/);
    throwsWith(() => adaptiveAvgPool2d(rn([1, 1, 4, 4]), [1, 2, 3] as any), ValueError, /outputSize must be a number or \[h, w\]/);
    throwsWith(() => adaptiveMaxPool2d(rn([1, 1, 4, 4]), 0), ValueError, /outputSize must be an integer >= 1, got 0/);
    throwsWith(() => globalAvgPool2d(rn([4, 4])), ShapeError, /globalAvgPool2d: input must be 4-D/);
    throwsWith(() => globalMaxPool2d(rn([1, 1, 4, 4]), { keepdim: true } as any), ValueError, /unknown option 'keepdim'/);
  });
});

// ---------------------------------------------------------------------------

describe('channelL2Pool', () => {
  test('by hand: channels (3, 4) -> 5 and (0, 0) -> 0; gradient x / y, and 0 where y = 0', () => {
    const x = tensor([[[3, 0]], [[4, 0]], [[1, 2]], [[2, 2]]]).reshape([1, 4, 1, 2]);
    const y = channelL2Pool(x, 2);
    assert.deepEqual(y.shape, [1, 2, 1, 2]);
    assertClose(y.data, [5, 0, Math.sqrt(5), Math.sqrt(8)], 1e-6);
    const g = gradOf((t) => channelL2Pool(t, 2), x, [1, 1, 1, 1]);
    assertClose(g, [3 / 5, 0, 4 / 5, 0, 1 / Math.sqrt(5), 2 / Math.sqrt(8), 2 / Math.sqrt(5), 2 / Math.sqrt(8)], 1e-9);
  });

  test('matches a naive loop for groupSize 3 on [2, 6, 3, 2] and on [N, C] input', () => {
    const x = rn([2, 6, 3, 2]);
    const y = channelL2Pool(x, 3);
    assert.deepEqual(y.shape, [2, 2, 3, 2]);
    const expected: number[] = [];
    for (let n = 0; n < 2; n++) for (let c = 0; c < 2; c++) for (let s = 0; s < 6; s++) {
      let sum = 0;
      for (let k = c * 3; k < c * 3 + 3; k++) sum += x.data[(n * 6 + k) * 6 + s] ** 2;
      expected.push(Math.sqrt(sum));
    }
    assertClose(y.data, expected, 1e-9);
    assertClose(channelL2Pool(tensor([[3, 4, 6, 8]]), 2).data, [5, 10], 1e-9);
  });

  test('gradcheck: groupSize 2 and 3', () => {
    assertGradcheck((x) => channelL2Pool(x, 2), [rn([2, 4, 3, 3])]);
    assertGradcheck((x) => channelL2Pool(x, 3), [rn([1, 6, 2, 3])]);
  });

  test('errors: channels not divisible, groupSize < 1, no channel dim', () => {
    throwsWith(() => channelL2Pool(rn([1, 5, 2, 2]), 2), ShapeError, /channels 5.*not divisible by groupSize 2/);
    throwsWith(() => channelL2Pool(rn([1, 4, 2, 2]), 0), ValueError, /groupSize must be an integer >= 1, got 0/);
    throwsWith(() => channelL2Pool(rn([4]), 2), ShapeError, /channel dimension.*\[4\]/);
  });
});

// ---------------------------------------------------------------------------

describe('maxPool2dWithIndices and maxUnpool2d', () => {
  const x4 = tensor([[[
    [1, 9, 2, 3],
    [4, 5, 8, 6],
    [7, 0, 1, 2],
    [3, 2, 4, 11],
  ]]]);

  test('indices are flat h*W + w in each input plane, as PyTorch', () => {
    const { values, indices } = maxPool2dWithIndices(x4, 2);
    assert.deepEqual([...values.data], [9, 8, 7, 11]);
    assert.deepEqual(indices.shape, [1, 1, 2, 2]);
    assert.deepEqual([...indices.data], [1, 6, 8, 15]);
    assert.deepEqual([...values.data], [...maxPool2d(x4, 2).data]);
  });

  test('indices with padding and a second plane restart at 0 per plane', () => {
    const x = tensor([[[[1, 2], [3, 4]], [[8, 7], [6, 5]]]]);
    const { indices } = maxPool2dWithIndices(x, 2, { stride: 1, padding: 1 });
    assert.deepEqual(indices.shape, [1, 2, 3, 3]);
    assert.deepEqual([...indices.data], [0, 1, 1, 2, 3, 3, 2, 3, 3, 0, 0, 1, 0, 0, 1, 2, 2, 3]);
  });

  test('maxUnpool2d puts each max back in place, zeros elsewhere', () => {
    const { values, indices } = maxPool2dWithIndices(x4, 2);
    const u = maxUnpool2d(values, indices, 2);
    assert.deepEqual(u.shape, [1, 1, 4, 4]);
    assert.deepEqual([...u.data], [0, 9, 0, 0, 0, 0, 8, 0, 7, 0, 0, 0, 0, 0, 0, 11]);
  });

  test('outputSize recovers the row and column a floor-mode pooling dropped', () => {
    const x = tensor([[[[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14, 15], [16, 17, 18, 19, 20], [21, 22, 23, 24, 25]]]]);
    const { values, indices } = maxPool2dWithIndices(x, 2);
    assert.deepEqual([...indices.data], [6, 8, 16, 18]);
    const u = maxUnpool2d(values, indices, 2, { outputSize: [5, 5] });
    assert.deepEqual(u.shape, [1, 1, 5, 5]);
    const expected = new Array(25).fill(0);
    expected[6] = 7; expected[8] = 9; expected[16] = 17; expected[18] = 19;
    assert.deepEqual([...u.data], expected);
    assert.deepEqual(maxUnpool2d(values, indices, 2, { outputSize: [1, 1, 5, 5] }).shape, [1, 1, 5, 5]);
  });

  test('backward gathers dL/dy at each index', () => {
    const idx = tensor([[[[1, 6], [8, 15]]]]);
    const gy = Array.from({ length: 16 }, (_, i) => 10 + i);
    const g = gradOf((t) => maxUnpool2d(t, idx, 2), tensor([[[[1, 2], [3, 4]]]]), gy);
    assert.deepEqual([...g], [11, 16, 18, 25]);
  });

  test('duplicate indices: the later value is kept and the overwritten one gets gradient 0', () => {
    const idx = tensor([[[[5, 5, 0]]]]);
    const x = tensor([[[[1, 2, 3]]]]);
    const u = maxUnpool2d(x, idx, [1, 4], { stride: 1 });
    assert.deepEqual([...u.data], [3, 0, 0, 0, 0, 2]);
    const g = gradOf((t) => maxUnpool2d(t, idx, [1, 4], { stride: 1 }), x, [10, 11, 12, 13, 14, 15]);
    assert.deepEqual([...g], [0, 15, 10]);
  });

  test('3-D input and the MaxUnpool2d layer (outputSize from a tensor)', () => {
    const x = rn([2, 5, 5]);
    const { values, indices } = maxPool2dWithIndices(x, 2);
    assert.deepEqual(indices.shape, [2, 2, 2]);
    const u = new MaxUnpool2d(2).forward(values, indices, x);
    assert.deepEqual(u.shape, [2, 5, 5]);
    for (let i = 0; i < 8; i++) assert.equal(u.data[Math.floor(i / 4) * 25 + indices.data[i]], values.data[i]);
  });

  test('gradcheck: maxUnpool2d with stride 2 and with overlapping-pool indices', () => {
    const xa = rn([2, 2, 6, 6]);
    const a = maxPool2dWithIndices(xa, 2);
    assertGradcheck((v) => maxUnpool2d(v, a.indices, 2), [rn([2, 2, 3, 3])]);
    const b = maxPool2dWithIndices(rn([1, 2, 7, 7]), 3, { stride: 2, padding: 1 });
    assertGradcheck((v) => maxUnpool2d(v, b.indices, 3, { stride: 2, padding: 1, outputSize: [7, 7] }), [rn([1, 2, 4, 4])]);
  });

  test('errors: indices shape, index range, outputSize out of reach or malformed, rank', () => {
    const v = rn([1, 1, 2, 2]);
    throwsWith(() => maxUnpool2d(v, tensor([[[[0, 1, 2, 3]]]]), 2), ShapeError, /indices must have the input's shape \[1, 1, 2, 2\], got \[1, 1, 1, 4\]/);
    throwsWith(() => maxUnpool2d(v, tensor([[[[0, 1], [2, 16]]]]), 2), ValueError, /index 16 .* outside the 4x4 output plane/);
    throwsWith(() => maxUnpool2d(v, tensor([[[[0, 1.5], [2, 3]]]]), 2), ValueError, /index 1.5/);
    throwsWith(() => maxUnpool2d(v, tensor([[[[0, 1], [2, 3]]]]), 2, { outputSize: [6, 4] }), ValueError, /outputSize height 6 .* between 2 and 6 \(exclusive\)/);
    throwsWith(() => maxUnpool2d(v, tensor([[[[0, 1], [2, 3]]]]), 2, { outputSize: [4] }), ValueError, /outputSize must be \[h, w\]/);
    throwsWith(() => maxUnpool2d(rn([2, 2]), rn([2, 2]), 2), ShapeError, /4-D/);
    throwsWith(() => maxUnpool2d(rn([1, 1, 1, 1]), zeros([1, 1, 1, 1]), 1, { padding: 1 }), ShapeError, /output would be -1x-1/);
  });
});

// ---------------------------------------------------------------------------

describe('localResponseNorm', () => {
  /** Naive LRN from the definition, channel window c - floor(size/2) .. c + floor((size-1)/2), zero-padded. */
  function naiveLrn(x: Tensor, size: number, alpha: number, beta: number, k: number): number[] {
    const [n, c] = x.shape;
    const inner = x.size / (n * c);
    const out: number[] = new Array(x.size);
    for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let s = 0; s < inner; s++) {
      let sum = 0;
      for (let j = ch - Math.floor(size / 2); j <= ch + Math.floor((size - 1) / 2); j++) {
        if (j >= 0 && j < c) sum += x.data[(b * c + j) * inner + s] ** 2;
      }
      const i = (b * c + ch) * inner + s;
      out[i] = x.data[i] / (k + (alpha / size) * sum) ** beta;
    }
    return out;
  }

  test('by hand: size 2 on channels (1, 2, 3), alpha 2, beta 1, k 1: window is (c-1, c)', () => {
    // scales: 1 + 1*(1) = 2, 1 + 1*(1 + 4) = 6, 1 + 1*(4 + 9) = 14.
    const y = localResponseNorm(tensor([1, 2, 3], [1, 3, 1]), 2, { alpha: 2, beta: 1, k: 1 });
    assertClose(y.data, [1 / 2, 2 / 6, 3 / 14], 1e-6);
  });

  test('matches a naive loop for odd and even sizes, size larger than C, PyTorch defaults', () => {
    const x = rn([2, 7, 3, 2]);
    for (const size of [1, 2, 3, 4, 5, 9]) assertClose(localResponseNorm(x, size, { alpha: 0.3, beta: 0.75, k: 2 }).data, naiveLrn(x, size, 0.3, 0.75, 2), 1e-9);
    assertClose(localResponseNorm(x, 5).data, naiveLrn(x, 5, 1e-4, 0.75, 1), 1e-9);
  });

  test('gradcheck: sizes 2, 3, 4, 5 with a large alpha so the cross-channel term matters', () => {
    for (const size of [2, 3, 4, 5]) assertGradcheck((x) => localResponseNorm(x, size, { alpha: 0.8, beta: 0.75, k: 1 }), [rn([2, 6, 2, 2])]);
    assertGradcheck((x) => localResponseNorm(x, 3, { alpha: 0.5, beta: 1.3, k: 2 }), [rn([1, 4, 5])]);
  });

  test('the LocalResponseNorm layer (AlexNet settings)', () => {
    const x = rn([1, 8, 3, 3]);
    const layer = new LocalResponseNorm(5, { alpha: 1e-4, beta: 0.75, k: 2 });
    assertClose(layer.forward(x).data, naiveLrn(x, 5, 1e-4, 0.75, 2), 1e-9);
    assert.equal(layer.toString(), 'LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2)');
    assert.equal(layer.numParameters(), 0);
  });

  test('errors: rank < 3, size < 1, alpha not finite, unknown option', () => {
    throwsWith(() => localResponseNorm(rn([2, 3]), 3), ShapeError, /at least 3-D.*\[2, 3\]/);
    throwsWith(() => localResponseNorm(rn([1, 3, 2]), 0), ValueError, /size must be an integer >= 1, got 0/);
    throwsWith(() => localResponseNorm(rn([1, 3, 2]), 3, { alpha: NaN }), ValueError, /alpha must be a finite number/);
    throwsWith(() => localResponseNorm(rn([1, 3, 2]), 3, { bias: 1 } as any), ValueError, /unknown option 'bias'/);
    throwsWith(() => new LocalResponseNorm(0), ValueError, /size must be an integer >= 1/);
  });
});

// ---------------------------------------------------------------------------

describe('pool-family layers', () => {
  test('each layer computes its functional op and prints its settings', () => {
    const x = ru([2, 4, 6, 5], 0.1, 1);
    const cases: [nn.Module, Tensor, string][] = [
      [new LPPool2d(2, 2, { ceilMode: true }), lpPool2d(x, 2, 2, { ceilMode: true }), 'LPPool2d(p=2, kernelSize=[2, 2], stride=[2, 2], ceilMode=true)'],
      [new AdaptiveAvgPool2d([3, null]), adaptiveAvgPool2d(x, [3, null]), 'AdaptiveAvgPool2d(outputSize=[3, null])'],
      [new AdaptiveMaxPool2d(2), adaptiveMaxPool2d(x, 2), 'AdaptiveMaxPool2d(outputSize=2)'],
      [new GlobalAvgPool2d({ keepDims: false }), globalAvgPool2d(x, { keepDims: false }), 'GlobalAvgPool2d(keepDims=false)'],
      [new GlobalMaxPool2d(), globalMaxPool2d(x), 'GlobalMaxPool2d(keepDims=true)'],
      [new ChannelL2Pool(2), channelL2Pool(x, 2), 'ChannelL2Pool(groupSize=2)'],
    ];
    for (const [layer, expected, repr] of cases) {
      const y = layer.forward(x);
      assert.deepEqual(y.shape, expected.shape);
      assertClose(y.data, expected.data, 1e-9);
      assert.equal(layer.toString(), repr);
      assert.equal(layer.numParameters(), 0);
    }
    assert.equal(new MaxUnpool2d(3, { stride: 2 }).toString(), 'MaxUnpool2d(kernelSize=[3, 3], stride=[2, 2], padding=[0, 0])');
  });

  test('functional forms are on F and the layers on nn', () => {
    assert.equal(F.lpPool2d, lpPool2d);
    assert.equal(F.localResponseNorm, localResponseNorm);
    assert.equal(nn.MaxUnpool2d, MaxUnpool2d);
    assert.equal(nn.LocalResponseNorm, LocalResponseNorm);
  });

  test('layer argument errors', () => {
    throwsWith(() => new LPPool2d(0, 2), ValueError, /LPPool2d: LP pooling needs p > 0, got p=0/);
    throwsWith(() => new LPPool2d(2, 2, { padding: 1 } as any), ValueError, /unknown option 'padding'/);
    throwsWith(() => new AdaptiveAvgPool2d([2, 0]), ValueError, /outputSize must be an integer >= 1, got 0/);
    throwsWith(() => new AdaptiveMaxPool2d('2' as any), ValueError, /outputSize must be a number or \[h, w\]/);
    throwsWith(() => new ChannelL2Pool(1.5), ValueError, /groupSize must be an integer >= 1, got 1.5/);
    throwsWith(() => new GlobalAvgPool2d({ keepDim: false } as any), ValueError, /unknown option 'keepDim'/);
    throwsWith(() => new MaxUnpool2d(2, { outputSize: [4, 4] } as any), ValueError, /unknown option 'outputSize'/);
  });
});
