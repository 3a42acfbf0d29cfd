/**
 * Finite-difference checks (float64, central differences) of the analytic
 * gradient of every differentiable op, with the options that change the
 * backward pass. Inputs are drawn from a seeded generator and kept away from
 * kinks (relu at 0, abs at 0, clamp bounds, ties of max/maximum) where the
 * derivative does not exist.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  Generator, Tensor, ValueError, gradcheck, tensor, randn, rand, zeros,
  add, sub, mul, div, pow, maximum, minimum,
  neg, exp, log, sqrt, abs, square, reciprocal, powScalar, clamp, relu, leakyRelu, sigmoid, tanh,
  sum, mean, max, min, variance,
  reshape, flatten, squeeze, unsqueeze, permute, transpose, slice, concat, stack,
  matmul, linear, conv2d, maxPool2d, avgPool2d, softmax, logSoftmax, crossEntropy, mseLoss, dropout,
  type Conv2dOptions,
} from '../../src/index.js';
import { record } from '../../src/autograd/index.js';

/**
 * assert.ok that always carries a message: when Node 20's assert.ok fails without one it
 * re-parses the TypeScript source to quote the expression and can loop forever (under tsx),
 * hanging the whole run instead of failing the test.
 */
function ok(value: unknown, message?: string): asserts value {
  if (!value) assert.fail(message ?? `expected a truthy value (${new Error().stack?.split('\n')[2]?.trim()})`);
}

const gen = new Generator(20240611);

/** Standard normal values, float64. */
function rn(shape: number[]): Tensor {
  return randn(shape, { generator: gen, dtype: 'float64' });
}

/** Uniform on [lo, hi), float64. */
function ru(shape: number[], lo: number, hi: number): Tensor {
  return rand(shape, { generator: gen, dtype: 'float64', low: lo, high: hi });
}

/** Values with |v| in [lo, hi] and a random sign: kept away from 0. */
function awayFromZero(shape: number[], lo = 0.2, hi = 1.5): Tensor {
  const t = ru(shape, lo, hi);
  for (let i = 0; i < t.size; i++) if (gen.random() < 0.5) t.data[i] = -t.data[i];
  return t;
}

/** Runs gradcheck and asserts that it passed and that `nChecked` inputs were checked. */
function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], nChecked = inputs.length): void {
  const report = gradcheck(fn, inputs);
  assert.equal(report.passed, true);
  assert.equal(report.inputs.length, nChecked);
  for (const r of report.inputs) ok(r.maxAbsError < 1e-5, `input ${r.index}: max error ${r.maxAbsError}`);
}

describe('gradcheck: binary ops with broadcasting (both operands)', () => {
  test('add: [2,3,4] + [3,1], and [4] + [2,1,4]', () => {
    check((a, b) => add(a, b), [rn([2, 3, 4]), rn([3, 1])]);
    check((a, b) => add(a, b), [rn([4]), rn([2, 1, 4])]);
  });
  test('add with a number operand', () => {
    check((a) => add(a, 2.5), [rn([3, 2])]);
    check((a) => add(1.5, a), [rn([3, 2])]);
  });
  test('sub: [2,3,4] - [4], and [1,3] - [2,1]', () => {
    check((a, b) => sub(a, b), [rn([2, 3, 4]), rn([4])]);
    check((a, b) => sub(a, b), [rn([1, 3]), rn([2, 1])]);
    check((a) => sub(3, a), [rn([2, 2])]);
  });
  test('mul: [2,3,4] * [2,1,4], and [3] * [2,3]', () => {
    check((a, b) => mul(a, b), [rn([2, 3, 4]), rn([2, 1, 4])]);
    check((a, b) => mul(a, b), [rn([3]), rn([2, 3])]);
  });
  test('div: [2,3] / [3] and [3,1] / [2,3,4]-shaped denominators away from zero', () => {
    check((a, b) => div(a, b), [rn([2, 3]), awayFromZero([3])]);
    check((a, b) => div(a, b), [rn([3, 1]), awayFromZero([2, 3, 4])]);
    check((a) => div(2, a), [awayFromZero([5])]);
  });
  test('pow: positive base [2,3] ^ exponent [3], and [3,1] ^ [1,4]', () => {
    check((a, b) => pow(a, b), [ru([2, 3], 0.5, 2), ru([3], -1.5, 2)]);
    check((a, b) => pow(a, b), [ru([3, 1], 0.5, 2), ru([1, 4], -1, 3)]);
  });
  test('maximum / minimum (no ties) with broadcasting', () => {
    const b = rn([1, 4]);
    const a = awayFromZero([3, 4], 0.1, 1);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) a.data[i * 4 + j] += b.data[j];
    check((x, y) => maximum(x, y), [a, b]);
    check((x, y) => minimum(x, y), [a, b]);
  });
});

describe('gradcheck: element-wise functions', () => {
  test('neg, exp, square', () => {
    check((x) => neg(x), [rn([2, 3])]);
    check((x) => exp(x), [rn([2, 3])]);
    check((x) => square(x), [rn([2, 3])]);
  });
  test('log, sqrt on positive inputs', () => {
    check((x) => log(x), [ru([2, 3], 0.3, 3)]);
    check((x) => sqrt(x), [ru([2, 3], 0.3, 3)]);
  });
  test('abs and reciprocal away from 0', () => {
    check((x) => abs(x), [awayFromZero([2, 4])]);
    check((x) => reciprocal(x), [awayFromZero([2, 4], 0.3, 2)]);
  });
  test('powScalar: integer, fractional and negative exponents', () => {
    check((x) => powScalar(x, 3), [rn([2, 3])]);
    check((x) => powScalar(x, 2.5), [ru([2, 3], 0.3, 2)]);
    check((x) => powScalar(x, -1.5), [ru([2, 3], 0.3, 2)]);
    check((x) => x.pow(2), [rn([4])]);
  });
  test('clamp with both bounds, only min, only max (values away from the bounds)', () => {
    const x = tensor([-2, -0.9, -0.3, 0.1, 0.45, 0.7, 1.3, 3], [8], { dtype: 'float64' });
    check((t) => clamp(t, -0.5, 0.5), [x]);
    check((t) => clamp(t, 0), [x]);
    check((t) => clamp(t, null, 0.2), [x]);
  });
  test('relu and leakyRelu away from 0', () => {
    check((x) => relu(x), [awayFromZero([3, 4])]);
    check((x) => leakyRelu(x), [awayFromZero([3, 4])]);
    check((x) => leakyRelu(x, 0.2), [awayFromZero([3, 4])]);
  });
  test('sigmoid and tanh, including large magnitudes', () => {
    check((x) => sigmoid(x), [rn([3, 4])]);
    check((x) => tanh(x), [rn([3, 4])]);
    const big = tensor([-8, -3, 0.5, 4, 9], [5], { dtype: 'float64' });
    check((x) => sigmoid(x), [big]);
  });
});

describe('gradcheck: reductions', () => {
  test('sum over one dim, several dims with keepDims, and all', () => {
    check((x) => sum(x, 1), [rn([2, 3, 4])]);
    check((x) => sum(x, [0, 2], { keepDims: true }), [rn([2, 3, 4])]);
    check((x) => sum(x, -1, { keepDims: true }), [rn([2, 3, 4])]);
    check((x) => sum(x), [rn([2, 3, 4])]);
  });
  test('mean over dims with keepDims, and all', () => {
    check((x) => mean(x, 0), [rn([2, 3, 4])]);
    check((x) => mean(x, [1, 2], { keepDims: true }), [rn([2, 3, 4])]);
    check((x) => mean(x), [rn([2, 3, 4])]);
  });
  test('max and min over a dim (keepDims) and over all (random values have no ties)', () => {
    check((x) => max(x, 1), [rn([2, 3, 4])]);
    check((x) => max(x, [0, 2], { keepDims: true }), [rn([2, 3, 4])]);
    check((x) => max(x), [rn([2, 3, 4])]);
    check((x) => min(x, -1, { keepDims: true }), [rn([2, 3, 4])]);
    check((x) => min(x), [rn([3, 4])]);
  });
  test('variance: unbiased and population, over dims, keepDims', () => {
    check((x) => variance(x, 1), [rn([2, 5, 3])]);
    check((x) => variance(x, [0, 2], { keepDims: true, correction: 0 }), [rn([2, 5, 3])]);
    check((x) => variance(x), [rn([4, 3])]);
  });
});

describe('gradcheck: shape ops', () => {
  test('reshape (with -1), flatten, squeeze, unsqueeze', () => {
    const k46 = rn([4, 6]);
    check((x) => mul(reshape(x, [4, -1]), k46), [rn([2, 3, 4])]);
    check((x) => flatten(x, 1), [rn([2, 3, 2, 2])]);
    check((x) => squeeze(x), [rn([2, 1, 3, 1])]);
    check((x) => squeeze(x, 1), [rn([2, 1, 3])]);
    const k233 = rn([2, 3, 3]);
    check((x) => mul(unsqueeze(x, 1), k233), [rn([2, 3])]);
  });
  test('permute and transpose', () => {
    check((x) => permute(x, [2, 0, 1]), [rn([2, 3, 4])]);
    check((x) => transpose(x, 0, 2), [rn([2, 3, 4])]);
    check((x) => transpose(x), [rn([3, 5])]);
  });
  test('slice with start/end/step, negative start, on inner and outer dims', () => {
    check((x) => slice(x, 1, 1, 7, 2), [rn([2, 8, 3])]);
    check((x) => slice(x, -1, -3), [rn([2, 3, 5])]);
    check((x) => slice(x, 0, 0, 5, 3), [rn([5, 2])]);
  });
  test('concat of three tensors (all checked) along dim 1 and dim 0', () => {
    check((a, b, c) => concat([a, b, c], 1), [rn([2, 1, 3]), rn([2, 4, 3]), rn([2, 2, 3])]);
    check((a, b) => concat([a, b], 0), [rn([1, 3]), rn([2, 3])]);
  });
  test('stack along a middle and the last dim', () => {
    check((a, b, c) => stack([a, b, c], 1), [rn([2, 3]), rn([2, 3]), rn([2, 3])]);
    check((a, b) => stack([a, b], -1), [rn([4]), rn([4])]);
  });
});

describe('gradcheck: matmul and linear', () => {
  test('matmul 2-D x 2-D', () => check((a, b) => matmul(a, b), [rn([3, 4]), rn([4, 2])]));
  test('matmul with 1-D operands: vector-matrix, matrix-vector, dot', () => {
    check((a, b) => matmul(a, b), [rn([4]), rn([4, 3])]);
    check((a, b) => matmul(a, b), [rn([3, 4]), rn([4])]);
    check((a, b) => matmul(a, b), [rn([5]), rn([5])]);
  });
  test('batched matmul with broadcast batch dims', () => {
    check((a, b) => matmul(a, b), [rn([2, 1, 3, 4]), rn([3, 4, 2])]);
    check((a, b) => matmul(a, b), [rn([2, 3, 4]), rn([4, 5])]);
    check((a, b) => matmul(a, b), [rn([3, 4]), rn([2, 4, 2])]);
  });
  test('linear with bias, without bias, and on 3-D input', () => {
    check((x, w, b) => linear(x, w, b), [rn([3, 4]), rn([5, 4]), rn([5])]);
    check((x, w) => linear(x, w), [rn([3, 4]), rn([5, 4])]);
    check((x, w, b) => linear(x, w, b), [rn([2, 3, 4]), rn([2, 4]), rn([2])]);
  });
});

describe('gradcheck: conv2d', () => {
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
      check((x, w, b) => conv2d(x, w, b ?? null, options), inputs);
    });
  }
  test('3-D (unbatched) input', () => {
    check((x, w, b) => conv2d(x, w, b, { padding: 1 }), [rn([2, 4, 4]), rn([3, 2, 3, 3]), rn([3])]);
  });
});

describe('gradcheck: pooling', () => {
  test('maxPool2d: default stride, explicit stride, padding, dilation, ceilMode', () => {
    check((x) => maxPool2d(x, 2), [rn([2, 2, 4, 6])]);
    check((x) => maxPool2d(x, 3, { stride: 2 }), [rn([1, 2, 7, 7])]);
    check((x) => maxPool2d(x, 3, { stride: 2, padding: 1 }), [rn([1, 2, 6, 5])]);
    check((x) => maxPool2d(x, 2, { stride: 1, dilation: 2 }), [rn([1, 1, 5, 6])]);
    check((x) => maxPool2d(x, 2, { ceilMode: true }), [rn([1, 2, 5, 5])]);
    check((x) => maxPool2d(x, [3, 2], { stride: [2, 1], padding: [1, 0], ceilMode: true }), [rn([1, 1, 6, 5])]);
  });
  test('maxPool2d on 3-D input', () => {
    check((x) => maxPool2d(x, 2), [rn([3, 4, 4])]);
  });
  test('avgPool2d: plain, overlapping, padding with countIncludePad true/false, ceilMode', () => {
    check((x) => avgPool2d(x, 2), [rn([2, 2, 4, 4])]);
    check((x) => avgPool2d(x, 3, { stride: 2 }), [rn([1, 2, 7, 7])]);
    check((x) => avgPool2d(x, 3, { stride: 2, padding: 1 }), [rn([1, 2, 6, 5])]);
    check((x) => avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }), [rn([1, 2, 6, 5])]);
    check((x) => avgPool2d(x, 2, { ceilMode: true }), [rn([1, 1, 5, 5])]);
    check((x) => avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [rn([1, 1, 6, 6])]);
    check((x) => avgPool2d(x, [2, 3], { stride: [1, 2] }), [rn([3, 5, 7])]);
  });
});

describe('gradcheck: softmax and losses', () => {
  test('softmax and logSoftmax over each dim of a 3-D tensor', () => {
    for (const d of [0, 1, 2, -1]) {
      check((x) => softmax(x, d), [rn([2, 3, 4])]);
      check((x) => logSoftmax(x, d), [rn([2, 3, 4])]);
    }
  });
  test('crossEntropy: mean, sum, none', () => {
    const labels = [2, 0, 3];
    check((x) => crossEntropy(x, labels), [rn([3, 4])]);
    check((x) => crossEntropy(x, labels, { reduction: 'sum' }), [rn([3, 4])]);
    check((x) => crossEntropy(x, labels, { reduction: 'none' }), [rn([3, 4])]);
  });
  test('crossEntropy with label smoothing (all reductions), labels given as a tensor', () => {
    const labels = tensor([1, 1, 4, 0]);
    check((x) => crossEntropy(x, labels, { labelSmoothing: 0.1 }), [rn([4, 5])]);
    check((x) => crossEntropy(x, labels, { labelSmoothing: 0.3, reduction: 'sum' }), [rn([4, 5])]);
    check((x) => crossEntropy(x, labels, { labelSmoothing: 0.2, reduction: 'none' }), [rn([4, 5])]);
  });
  test('mseLoss: both operands, all reductions', () => {
    check((a, b) => mseLoss(a, b), [rn([3, 4]), rn([3, 4])]);
    check((a, b) => mseLoss(a, b, { reduction: 'sum' }), [rn([3, 4]), rn([3, 4])]);
    check((a, b) => mseLoss(a, b, { reduction: 'none' }), [rn([2, 3]), rn([2, 3])]);
  });
});

describe('gradcheck: compositions', () => {
  test('fan-out: x used by several ops', () => {
    check((x) => add(mul(x, x), mul(exp(x), sum(x))), [rn([3, 2])]);
  });
  test('a small CNN: conv -> relu -> maxpool -> flatten -> linear -> crossEntropy, w.r.t. every weight', () => {
    const x = rn([2, 1, 6, 6]);
    const labels = [1, 2];
    const fn = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) => {
      const h = maxPool2d(relu(conv2d(x, w1, b1, { padding: 1 })), 2);
      return crossEntropy(linear(flatten(h, 1), w2, b2), labels);
    };
    const inputs = [rn([2, 1, 3, 3]), rn([2]), rn([3, 18]), rn([3])];
    for (const t of inputs) t.requiresGrad = true;
    check(fn, inputs);
  });
  test('only the inputs marked requiresGrad are checked', () => {
    const a = rn([2, 2]).requiresGrad_();
    const b = rn([2, 2]);
    const report = gradcheck((p, q) => mul(p, q), [a, b]);
    assert.equal(report.passed, true);
    assert.deepEqual(report.inputs.map((r) => r.index), [0]);
  });
});

describe('gradcheck: dropout (checked directly: the mask changes on every call)', () => {
  test('dx = dy * mask / (1 - p) where the output is kept, 0 where it was dropped', () => {
    const p = 0.3;
    const x = awayFromZero([40, 25]).requiresGrad_();
    const y = dropout(x, p, { generator: new Generator(7) });
    const gy = rn([40, 25]);
    y.backward(gy);
    const gx = x.grad!;
    let dropped = 0;
    for (let i = 0; i < x.size; i++) {
      if (y.data[i] === 0) {
        dropped++;
        ok(gx.data[i] === 0, `gx[${i}] = ${gx.data[i]} where the output was dropped`);
      } else {
        ok(Math.abs(y.data[i] - x.data[i] / (1 - p)) < 1e-12);
        ok(Math.abs(gx.data[i] - gy.data[i] / (1 - p)) < 1e-12);
      }
    }
    // 1000 Bernoulli(0.3) draws: the count is within 5 standard deviations (~72) of 300.
    ok(Math.abs(dropped - 300) < 75, `dropped ${dropped} of 1000`);
  });
  test('training false and p = 0 are the identity, with gradient 1', () => {
    const x = rn([3, 3]).requiresGrad_();
    sum(dropout(x, 0.5, { training: false })).backward();
    assert.deepEqual(Array.from(x.grad!.data), new Array(9).fill(1));
  });
});

describe('gradcheck itself', () => {
  /** x^2 with a deliberately wrong derivative (x instead of 2x). */
  function badSquare(x: Tensor): Tensor {
    const out = new Tensor(new Float64Array(x.size), x.shape);
    for (let i = 0; i < x.size; i++) out.data[i] = x.data[i] * x.data[i];
    return record(out, 'badSquare', [x], (g) => [mul(g, x)]);
  }
  /** The same op with the right derivative, to show the harness accepts a correct custom op. */
  function goodSquare(x: Tensor): Tensor {
    const out = new Tensor(new Float64Array(x.size), x.shape);
    for (let i = 0; i < x.size; i++) out.data[i] = x.data[i] * x.data[i];
    return record(out, 'goodSquare', [x], (g) => [mul(g, mul(x, 2))]);
  }

  test('fails (throws ValueError naming the input and element) for a wrong backward', () => {
    assert.throws(() => gradcheck(badSquare, [awayFromZero([3])]), (err: unknown) => {
      ok(err instanceof ValueError);
      assert.match(err.message, /input 0/);
      assert.match(err.message, /element \d/);
      assert.match(err.message, /analytic gradient .* finite differences give/);
      return true;
    });
  });
  test('reports passed false with the worst element when not throwing', () => {
    const x = tensor([0.01, -0.02, 3], [3], { dtype: 'float64' });
    const report = gradcheck(badSquare, [x], { throwOnFailure: false });
    assert.equal(report.passed, false);
    const worst = report.inputs[0].worst!;
    // The analytic gradient is r*x but the true one is 2*r*x: the worst error is at |x| = 3.
    assert.equal(worst.element, 2);
    ok(Math.abs(worst.numeric - 2 * worst.analytic) < 1e-6);
  });
  test('passes for the correct custom op', () => {
    check(goodSquare, [rn([4])]);
  });
  test('a backward that drops the gradient of one input is caught', () => {
    const wrong = (a: Tensor, b: Tensor) => {
      const out = new Tensor(new Float64Array(a.size), a.shape);
      for (let i = 0; i < a.size; i++) out.data[i] = a.data[i] * b.data[i];
      return record(out, 'mulMissingB', [a, b], (g) => [mul(g, b), null]);
    };
    const report = gradcheck(wrong, [rn([3]), rn([3])], { throwOnFailure: false });
    assert.equal(report.passed, false);
    assert.equal(report.inputs[0].worst, null);
    assert.notEqual(report.inputs[1].worst, null);
  });
  test('rejects a function that ignores its inputs', () => {
    assert.throws(() => gradcheck(() => zeros([2]), [rn([2])]), ValueError);
  });
});
