/**
 * Element-wise ops: unary functions against Math, pow's derivatives at 0,
 * comparisons and maximum / minimum (ties), gradchecks of the unary functions
 * and of the binary ops with broadcasting, and the argument errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, ValueError, tensor, ones } from '../../../src/index.js';
import { relu, leakyRelu, sigmoid, tanh, clamp, exp, log, sqrt, abs, reciprocal, powScalar, neg, square, sign, add, sub, mul, div, maximum, minimum, pow, eq, ne, lt, le, gt, ge, sum } from '../../../src/ops/index.js';
import { assertClose, assertGradcheck, ok, seeded, throwsWith } from '../../helpers/index.js';

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
    assertClose(log(p).data, [Math.log(0.25), 0, Math.log(2), Math.log(9)], 1e-5);
    assertClose(sqrt(p).data, [0.5, 1, Math.SQRT2, 3], 1e-5);
    assertClose(reciprocal(p).data, [4, 1, 0.5, 1 / 9], 1e-5);
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

describe('gradcheck: binary ops with broadcasting (both operands)', () => {
  const { rn, ru, awayFromZero } = seeded(20240611);
  test('add: [2,3,4] + [3,1], and [4] + [2,1,4]', () => {
    assertGradcheck((a, b) => add(a, b), [rn([2, 3, 4]), rn([3, 1])]);
    assertGradcheck((a, b) => add(a, b), [rn([4]), rn([2, 1, 4])]);
  });
  test('add with a number operand', () => {
    assertGradcheck((a) => add(a, 2.5), [rn([3, 2])]);
    assertGradcheck((a) => add(1.5, a), [rn([3, 2])]);
  });
  test('sub: [2,3,4] - [4], and [1,3] - [2,1]', () => {
    assertGradcheck((a, b) => sub(a, b), [rn([2, 3, 4]), rn([4])]);
    assertGradcheck((a, b) => sub(a, b), [rn([1, 3]), rn([2, 1])]);
    assertGradcheck((a) => sub(3, a), [rn([2, 2])]);
  });
  test('mul: [2,3,4] * [2,1,4], and [3] * [2,3]', () => {
    assertGradcheck((a, b) => mul(a, b), [rn([2, 3, 4]), rn([2, 1, 4])]);
    assertGradcheck((a, b) => mul(a, b), [rn([3]), rn([2, 3])]);
  });
  test('div: [2,3] / [3] and [3,1] / [2,3,4]-shaped denominators away from zero', () => {
    assertGradcheck((a, b) => div(a, b), [rn([2, 3]), awayFromZero([3])]);
    assertGradcheck((a, b) => div(a, b), [rn([3, 1]), awayFromZero([2, 3, 4])]);
    assertGradcheck((a) => div(2, a), [awayFromZero([5])]);
  });
  test('pow: positive base [2,3] ^ exponent [3], and [3,1] ^ [1,4]', () => {
    assertGradcheck((a, b) => pow(a, b), [ru([2, 3], 0.5, 2), ru([3], -1.5, 2)]);
    assertGradcheck((a, b) => pow(a, b), [ru([3, 1], 0.5, 2), ru([1, 4], -1, 3)]);
  });
  test('maximum / minimum (no ties) with broadcasting', () => {
    const b = rn([1, 4]);
    const a = awayFromZero([3, 4], 0.1, 1);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) a.data[i * 4 + j] += b.data[j];
    assertGradcheck((x, y) => maximum(x, y), [a, b]);
    assertGradcheck((x, y) => minimum(x, y), [a, b]);
  });
});

describe('gradcheck: element-wise functions', () => {
  const { rn, ru, awayFromZero } = seeded(20240611);
  test('neg, exp, square', () => {
    assertGradcheck((x) => neg(x), [rn([2, 3])]);
    assertGradcheck((x) => exp(x), [rn([2, 3])]);
    assertGradcheck((x) => square(x), [rn([2, 3])]);
  });
  test('log, sqrt on positive inputs', () => {
    assertGradcheck((x) => log(x), [ru([2, 3], 0.3, 3)]);
    assertGradcheck((x) => sqrt(x), [ru([2, 3], 0.3, 3)]);
  });
  test('abs and reciprocal away from 0', () => {
    assertGradcheck((x) => abs(x), [awayFromZero([2, 4])]);
    assertGradcheck((x) => reciprocal(x), [awayFromZero([2, 4], 0.3, 2)]);
  });
  test('powScalar: integer, fractional and negative exponents', () => {
    assertGradcheck((x) => powScalar(x, 3), [rn([2, 3])]);
    assertGradcheck((x) => powScalar(x, 2.5), [ru([2, 3], 0.3, 2)]);
    assertGradcheck((x) => powScalar(x, -1.5), [ru([2, 3], 0.3, 2)]);
    assertGradcheck((x) => x.pow(2), [rn([4])]);
  });
  test('clamp with both bounds, only min, only max (values away from the bounds)', () => {
    const x = tensor([-2, -0.9, -0.3, 0.1, 0.45, 0.7, 1.3, 3], [8], { dtype: 'float64' });
    assertGradcheck((t) => clamp(t, -0.5, 0.5), [x]);
    assertGradcheck((t) => clamp(t, 0), [x]);
    assertGradcheck((t) => clamp(t, null, 0.2), [x]);
  });
  test('relu and leakyRelu away from 0', () => {
    assertGradcheck((x) => relu(x), [awayFromZero([3, 4])]);
    assertGradcheck((x) => leakyRelu(x), [awayFromZero([3, 4])]);
    assertGradcheck((x) => leakyRelu(x, 0.2), [awayFromZero([3, 4])]);
  });
  test('sigmoid and tanh, including large magnitudes', () => {
    assertGradcheck((x) => sigmoid(x), [rn([3, 4])]);
    assertGradcheck((x) => tanh(x), [rn([3, 4])]);
    const big = tensor([-8, -3, 0.5, 4, 9], [5], { dtype: 'float64' });
    assertGradcheck((x) => sigmoid(x), [big]);
  });
});

describe('other arguments', () => {
  test('probabilities and bounds', () => {
    throwsWith(() => clamp(ones([2]), 1, 0), ValueError, /min 1 is greater than max 0/);
    throwsWith(() => leakyRelu(ones([2]), NaN), ValueError, /negativeSlope/);
  });
});
