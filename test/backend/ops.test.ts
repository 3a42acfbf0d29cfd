/**
 * Forward values of the neural-network ops against naive loops written here
 * from the definitions (cross-correlation with explicit zero padding, pooling
 * windows, softmax, cross-entropy), and against hand-computed cases.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  Generator, Tensor, tensor, randn, rand, ones, arange,
  conv2d, maxPool2d, avgPool2d, softmax, logSoftmax, crossEntropy, mseLoss, dropout, linear,
  relu, leakyRelu, sigmoid, tanh, clamp, exp, log, sqrt, abs, reciprocal, powScalar, neg, square, sign,
  maximum, minimum, pow, eq, ne, lt, le, gt, ge, sum,
  convOutputSize, poolOutputSize, samePadding, getBackend,
} from '../../src/index.js';

/**
 * assert.ok that always carries a message: when Node 20's assert.ok fails without one it
 * re-parses the TypeScript source to quote the expression and can loop forever (under tsx),
 * hanging the whole run instead of failing the test.
 */
function ok(value: unknown, message?: string): asserts value {
  if (!value) assert.fail(message ?? `expected a truthy value (${new Error().stack?.split('\n')[2]?.trim()})`);
}

const gen = new Generator(99);
const rn = (shape: number[]) => randn(shape, { generator: gen });

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    ok(Math.abs(a - e) <= tol * (1 + Math.abs(e)), `${what}[${i}]: got ${a}, expected ${e}`);
  }
}

/** The suites below run on the backend under test. */
function allSuites(backend: string): void {
  test('the backend under test is in use', () => assert.equal(getBackend().name, backend));

  // ---------------------------------------------------------------------------
  // Naive references, straight from the definitions.

  interface NaiveConv {
    stride: [number, number];
    pad: [number, number, number, number]; // top, bottom, left, right
    dilation: [number, number];
    groups: number;
  }

  /** y[n,o,i,j] = b[o] + sum_{c,u,v} w[o,c,u,v] x[n, g*Cg + c, i*sH - pT + u*dH, j*sW - pL + v*dW], zero outside. */
  function naiveConv2d(x: Tensor, w: Tensor, b: Tensor | null, o: NaiveConv): { data: number[]; shape: number[] } {
    const [N, C, H, W] = x.shape;
    const [O, Cg, KH, KW] = w.shape;
    const [sH, sW] = o.stride;
    const [pT, pB, pL, pR] = o.pad;
    const [dH, dW] = o.dilation;
    const OH = Math.floor((H + pT + pB - dH * (KH - 1) - 1) / sH) + 1;
    const OW = Math.floor((W + pL + pR - dW * (KW - 1) - 1) / sW) + 1;
    const outPerGroup = O / o.groups;
    const out: number[] = [];
    for (let n = 0; n < N; n++) {
      for (let oc = 0; oc < O; oc++) {
        const g = Math.floor(oc / outPerGroup);
        for (let i = 0; i < OH; i++) {
          for (let j = 0; j < OW; j++) {
            let s = b ? b.data[oc] : 0;
            for (let c = 0; c < Cg; c++) {
              const ic = g * Cg + c;
              for (let u = 0; u < KH; u++) {
                for (let v = 0; v < KW; v++) {
                  const ih = i * sH - pT + u * dH;
                  const iw = j * sW - pL + v * dW;
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                  s += w.data[((oc * Cg + c) * KH + u) * KW + v] * x.data[((n * C + ic) * H + ih) * W + iw];
                }
              }
            }
            out.push(s);
          }
        }
      }
    }
    return { data: out, shape: [N, O, OH, OW] };
  }

  describe('conv2d forward vs a naive loop', () => {
    const cases: [string, number[], number[], boolean, object, NaiveConv][] = [
      ['plain 3x3', [2, 3, 6, 5], [4, 3, 3, 3], true, {}, { stride: [1, 1], pad: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }],
      ['stride 2, padding 1', [1, 2, 7, 7], [3, 2, 3, 3], true, { stride: 2, padding: 1 }, { stride: [2, 2], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 }],
      ['stride [1, 3], padding [2, 0]', [1, 2, 6, 8], [2, 2, 3, 2], true, { stride: [1, 3], padding: [2, 0] }, { stride: [1, 3], pad: [2, 2, 0, 0], dilation: [1, 1], groups: 1 }],
      ['asymmetric padding [0, 2, 1, 3]', [1, 2, 5, 4], [2, 2, 3, 3], false, { padding: [0, 2, 1, 3] }, { stride: [1, 1], pad: [0, 2, 1, 3], dilation: [1, 1], groups: 1 }],
      ['dilation 2', [1, 1, 7, 7], [2, 1, 3, 3], true, { dilation: 2 }, { stride: [1, 1], pad: [0, 0, 0, 0], dilation: [2, 2], groups: 1 }],
      ['groups 2', [2, 4, 5, 5], [6, 2, 3, 3], true, { groups: 2 }, { stride: [1, 1], pad: [0, 0, 0, 0], dilation: [1, 1], groups: 2 }],
      ['depthwise', [1, 3, 5, 6], [3, 1, 3, 3], true, { groups: 3, padding: 1 }, { stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 3 }],
      // 'same' pads: total = max((ceil(in/s) - 1)*s + (k-1)*d + 1 - in, 0), the odd unit after.
      // H 5, k 4, s 1: total 3 -> [1, 2]; W 6, k 2, s 1: total 1 -> [0, 1].
      ["'same' stride 1, even kernels", [1, 2, 5, 6], [2, 2, 4, 2], true, { padding: 'same' }, { stride: [1, 1], pad: [1, 2, 0, 1], dilation: [1, 1], groups: 1 }],
      // H 7, k 3, s 2: out 4, total 2 -> [1, 1]; W 6, k 3, s 2: out 3, total 1 -> [0, 1].
      ["'same' stride 2 (TensorFlow's rule)", [1, 2, 7, 6], [3, 2, 3, 3], true, { padding: 'same', stride: 2 }, { stride: [2, 2], pad: [1, 1, 0, 1], dilation: [1, 1], groups: 1 }],
      ["'valid'", [1, 2, 6, 5], [2, 2, 3, 3], true, { padding: 'valid' }, { stride: [1, 1], pad: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }],
    ];
    for (const [name, xs, ws, withBias, options, naive] of cases) {
      test(name, () => {
        const x = rn(xs);
        const w = rn(ws);
        const b = withBias ? rn([ws[0]]) : null;
        const y = conv2d(x, w, b, options);
        const ref = naiveConv2d(x, w, b, naive);
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
      const ref = naiveConv2d(x.reshape([1, 2, 5, 5]), w, b, { stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 });
      assertClose(y3.data, ref.data);
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

  // ---------------------------------------------------------------------------

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
      assertClose(avgPool2d(x, 3, { stride: 2, padding: 1 }).data, [tl / 9, tr / 9, bl / 9, br / 9]);
      assertClose(avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }).data, [tl / 4, tr / 6, bl / 6, br / 9]);
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
      ]);
    });
    test('gradient spreads dL/dy / divisor over each window', () => {
      const xg = ones([1, 1, 4, 4]).requiresGrad_();
      sum(avgPool2d(xg, 3, { stride: 2, padding: 1, countIncludePad: false })).backward();
      // Element (r, c) receives 1/|window| from each window that contains it (sizes 4, 6, 6, 9 as above).
      const windows = [[[0, 1], [0, 1], 4], [[0, 1], [1, 3], 6], [[1, 3], [0, 1], 6], [[1, 3], [1, 3], 9]] as const;
      const expected = new Array(16).fill(0);
      for (const [[r0, r1], [c0, c1], n] of windows) for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) expected[r * 4 + c] += 1 / n;
      assertClose(xg.grad!.data, expected);
    });
  });

  // ---------------------------------------------------------------------------

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

  describe('crossEntropy and mseLoss', () => {
    /** -log softmax(row)[label], computed naively in float64. */
    function naiveCE(logits: number[][], labels: number[], eps = 0): number[] {
      return logits.map((row, i) => {
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        const logp = row.map((v) => v - lse);
        const K = row.length;
        // PyTorch: (1 - eps) * nll + eps * mean over classes of -log p.
        return (1 - eps) * -logp[labels[i]] + (eps / K) * logp.reduce((s, v) => s - v, 0);
      });
    }
    const logits = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-0.3, 0.2, 3.0], [1.0, 1.0, 1.0]];
    const labels = [0, 1, 1, 2];

    test('mean, sum and none match the naive per-sample loss', () => {
      const x = tensor(logits);
      const per = naiveCE(logits, labels);
      assertClose(crossEntropy(x, labels, { reduction: 'none' }).data, per);
      assert.deepEqual(crossEntropy(x, labels, { reduction: 'none' }).shape, [4]);
      assertClose([crossEntropy(x, labels, { reduction: 'sum' }).item()], [per.reduce((a, b) => a + b)]);
      const m = crossEntropy(x, labels);
      assert.deepEqual(m.shape, []);
      assertClose([m.item()], [per.reduce((a, b) => a + b) / 4]);
    });
    test('uniform logits give log(K)', () => {
      assertClose([crossEntropy(tensor([[3, 3, 3, 3, 3]]), [4]).item()], [Math.log(5)]);
    });
    test('label smoothing follows PyTorch: (1 - eps) nll + eps * mean_k(-log p_k)', () => {
      const x = tensor(logits);
      for (const eps of [0.1, 0.5, 1]) {
        assertClose(crossEntropy(x, labels, { labelSmoothing: eps, reduction: 'none' }).data, naiveCE(logits, labels, eps), 1e-5, `eps ${eps}`);
      }
    });
    test('labels as a tensor or a typed array give the same loss', () => {
      const x = tensor(logits);
      const a = crossEntropy(x, labels).item();
      assert.equal(crossEntropy(x, tensor(labels)).item(), a);
      assert.equal(crossEntropy(x, Int32Array.from(labels)).item(), a);
    });
    test('gradient of the mean loss is (softmax - onehot) / N', () => {
      const x = tensor(logits).requiresGrad_();
      crossEntropy(x, labels).backward();
      const s = softmax(tensor(logits), 1);
      const expected = Array.from(s.data, (v, i) => (v - (labels[Math.floor(i / 3)] === i % 3 ? 1 : 0)) / 4);
      assertClose(x.grad!.data, expected);
    });
    test('no overflow with huge logits', () => {
      const l = crossEntropy(tensor([[1000, 0], [0, 1000]]), [0, 0], { reduction: 'none' });
      ok(Math.abs(l.data[0]) < 1e-6);
      ok(Math.abs(l.data[1] - 1000) < 1e-3);
    });
    test('mseLoss: mean, sum, none', () => {
      const a = tensor([[1, 2], [3, 4]]);
      const b = tensor([[1.5, 0], [3, 7]]);
      const sq = [0.25, 4, 0, 9];
      assertClose(mseLoss(a, b, { reduction: 'none' }).data, sq);
      assertClose([mseLoss(a, b, { reduction: 'sum' }).item()], [13.25]);
      assertClose([mseLoss(a, b).item()], [13.25 / 4]);
    });
  });

  // ---------------------------------------------------------------------------

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
      assertClose(y.data, expected);
      const y0 = linear(x.reshape([6, 4]), w);
      assertClose(y0.data, expected.map((v, i) => v - b.data[i % 5]));
    });
  });

  describe('element-wise functions', () => {
    const xs = [-3, -1.5, -0.25, 0, 0.5, 2, 4];
    const x = tensor(xs);
    const cases: [string, (t: Tensor) => Tensor, (v: number) => number][] = [
      ['relu', relu, (v) => (v > 0 ? v : 0)],
      ['leakyRelu (default slope 0.01)', (t) => leakyRelu(t), (v) => (v > 0 ? v : 0.01 * v)],
      ['leakyRelu slope 0.2', (t) => leakyRelu(t, 0.2), (v) => (v > 0 ? v : 0.2 * v)],
      ['sigmoid', sigmoid, (v) => 1 / (1 + Math.exp(-v))],
      ['tanh', tanh, Math.tanh],
      ['exp', exp, Math.exp],
      ['neg', neg, (v) => -v],
      ['square', square, (v) => v * v],
      ['abs', abs, Math.abs],
      ['sign', sign, Math.sign],
      ['clamp(-1, 1)', (t) => clamp(t, -1, 1), (v) => Math.min(1, Math.max(-1, v))],
      ['powScalar 3', (t) => powScalar(t, 3), (v) => v * v * v],
    ];
    for (const [name, f, ref] of cases) {
      test(name, () => assertClose(f(x).data, xs.map(ref), 1e-6, name));
    }
    test('log, sqrt, reciprocal on positive values', () => {
      const p = tensor([0.25, 1, 2, 9]);
      assertClose(log(p).data, [Math.log(0.25), 0, Math.log(2), Math.log(9)]);
      assertClose(sqrt(p).data, [0.5, 1, Math.SQRT2, 3]);
      assertClose(reciprocal(p).data, [4, 1, 0.5, 1 / 9]);
    });
    test('sigmoid does not overflow for large |x|', () => {
      const y = sigmoid(tensor([-1000, 1000]));
      assert.deepEqual(Array.from(y.data), [0, 1]);
    });
    test('relu derivative at 0 is 0 and clamp passes the gradient on its bounds (as PyTorch)', () => {
      const t = tensor([0, -1, 1]).requiresGrad_();
      sum(relu(t)).backward();
      assert.deepEqual(Array.from(t.grad!.data), [0, 0, 1]);
      const c = tensor([-1, 0, 1, 2]).requiresGrad_();
      sum(clamp(c, -1, 1)).backward();
      assert.deepEqual(Array.from(c.grad!.data), [1, 1, 1, 0]);
    });
  });

  describe('pow', () => {
    test('d(a^b)/db = a^b ln a, taken as 0 where a = 0 and b >= 0 (as PyTorch), not NaN', () => {
      const a = tensor([0, 2, 0.5]);
      const b = tensor([2, 3, 0]).requiresGrad_();
      sum(pow(a, b)).backward();
      const g = Array.from(b.grad!.data);
      assert.equal(g[0], 0);
      ok(Math.abs(g[1] - 8 * Math.log(2)) < 1e-5);
      ok(Math.abs(g[2] - Math.log(0.5)) < 1e-6);
    });
    test('d(a^b)/da = b a^(b-1), including at a = 0, and 0 where b = 0 (a^0 is constant)', () => {
      const a = tensor([0, 2, -1.5, 0, 3]).requiresGrad_();
      sum(pow(a, tensor([2, 3, 2, 0, 0]))).backward();
      assert.deepEqual(Array.from(a.grad!.data), [0, 12, -3, 0, 0]);
      // With a broadcast exponent [0, 2] over rows of a [2, 2]: column 0 gets 0, column 1 gets 2a.
      const m = tensor([[0, 1], [2, 3]]).requiresGrad_();
      sum(pow(m, tensor([0, 2]))).backward();
      assert.deepEqual(Array.from(m.grad!.data), [0, 2, 0, 6]);
    });
  });

  describe('binary comparisons and extrema', () => {
    const a = tensor([1, 2, 3, 4]);
    const b = tensor([4, 2, 1, 4]);
    test('comparisons give 1 where true, 0 where false, and have no gradient', () => {
      assert.deepEqual(Array.from(eq(a, b).data), [0, 1, 0, 1]);
      assert.deepEqual(Array.from(ne(a, b).data), [1, 0, 1, 0]);
      assert.deepEqual(Array.from(lt(a, b).data), [1, 0, 0, 0]);
      assert.deepEqual(Array.from(le(a, b).data), [1, 1, 0, 1]);
      assert.deepEqual(Array.from(gt(a, b).data), [0, 0, 1, 0]);
      assert.deepEqual(Array.from(ge(a, b).data), [0, 1, 1, 1]);
      const r = tensor([1, 2]).requiresGrad_();
      assert.equal(gt(r, 1).requiresGrad, false);
    });
    test('maximum / minimum values, and a tie splits the gradient in half (as PyTorch)', () => {
      assert.deepEqual(Array.from(maximum(a, b).data), [4, 2, 3, 4]);
      assert.deepEqual(Array.from(minimum(a, b).data), [1, 2, 1, 4]);
      const p = tensor([1, 2, 3]).requiresGrad_();
      const q = tensor([3, 2, 1]).requiresGrad_();
      sum(maximum(p, q)).backward();
      assert.deepEqual(Array.from(p.grad!.data), [0, 0.5, 1]);
      assert.deepEqual(Array.from(q.grad!.data), [1, 0.5, 0]);
    });
  });

  describe('dropout forward', () => {
    test('about p of the values are zeroed and the rest scaled by 1 / (1 - p)', () => {
      const x = ones([100, 100]);
      for (const p of [0.2, 0.5, 0.8]) {
        const y = dropout(x, p, { generator: new Generator(5) });
        let zeros = 0;
        for (const v of y.data) {
          if (v === 0) zeros++;
          else ok(Math.abs(v - 1 / (1 - p)) < 1e-6);
        }
        // 10,000 Bernoulli(p) draws: standard deviation <= 50; allow 5 of them.
        ok(Math.abs(zeros - p * 10000) < 250, `p ${p}: ${zeros} zeros`);
      }
    });
    test('the same seed gives the same mask; a different seed a different one', () => {
      const x = rand([50], { generator: gen, low: 1, high: 2 });
      const a = dropout(x, 0.5, { generator: new Generator(11) });
      const b = dropout(x, 0.5, { generator: new Generator(11) });
      const c = dropout(x, 0.5, { generator: new Generator(12) });
      assert.deepEqual(Array.from(a.data), Array.from(b.data));
      assert.notDeepEqual(Array.from(a.data), Array.from(c.data));
    });
    test('p = 1 zeros everything; training false returns the input unchanged', () => {
      const x = rn([4, 4]);
      ok(Array.from(dropout(x, 1).data).every((v) => v === 0));
      assert.deepEqual(Array.from(dropout(x, 0.5, { training: false }).data), Array.from(x.data));
    });
  });

  describe('float32 gradients on this backend equal the float64 gradients (which gradcheck.test.ts checks)', () => {
    /** Gradients of sum(f(inputs) * r) w.r.t. every input, in the given dtype. */
    function grads(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], r: Tensor, dtype: 'float32' | 'float64'): number[][] {
      const xs = inputs.map((t) => tensor(t.data, t.shape, { dtype, requiresGrad: true }));
      const y = f(...xs);
      y.backward(tensor(r.data, r.shape, { dtype }));
      return xs.map((x) => Array.from(x.grad!.data));
    }
    function compare(name: string, f: (...xs: Tensor[]) => Tensor, shapes: number[][]): void {
      test(name, () => {
        const inputs = shapes.map((s) => rn(s));
        const outShape = f(...inputs).shape as number[];
        const r = rn(outShape);
        const g32 = grads(f, inputs, r, 'float32');
        const g64 = grads(f, inputs, r, 'float64');
        g32.forEach((g, i) => assertClose(g, g64[i], 1e-4, `${name}: input ${i}`));
      });
    }
    compare('conv2d, stride 2, padding 1, with bias', (x, w, b) => conv2d(x, w, b, { stride: 2, padding: 1 }), [[2, 3, 7, 6], [4, 3, 3, 3], [4]]);
    compare('conv2d, dilation 2, asymmetric padding', (x, w) => conv2d(x, w, null, { dilation: 2, padding: [1, 0, 2, 1] }), [[1, 2, 7, 7], [3, 2, 3, 3]]);
    compare('conv2d, groups 2', (x, w, b) => conv2d(x, w, b, { groups: 2, padding: 1 }), [[2, 4, 5, 5], [6, 2, 3, 3], [6]]);
    compare("conv2d, 'same' stride 2", (x, w) => conv2d(x, w, null, { padding: 'same', stride: 2 }), [[1, 2, 8, 7], [2, 2, 3, 3]]);
    compare('conv2d, 1x1', (x, w, b) => conv2d(x, w, b), [[2, 8, 4, 4], [5, 8, 1, 1], [5]]);
    compare('maxPool2d 3x3 stride 2 padding 1', (x) => maxPool2d(x, 3, { stride: 2, padding: 1 }), [[2, 3, 7, 7]]);
    compare('avgPool2d 3x3 stride 2 padding 1, ceilMode, countIncludePad false', (x) => avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [[2, 3, 6, 6]]);
    compare('linear on 3-D input', (x, w, b) => linear(x, w, b), [[2, 3, 6], [4, 6], [4]]);
    compare('softmax and logSoftmax', (x) => logSoftmax(softmax(x, 1), 0), [[4, 5]]);
  });
}

// The runner runs this file once per backend (STRIDE_BACKEND); the default backend otherwise.
allSuites(process.env.STRIDE_BACKEND ?? getBackend().name);
