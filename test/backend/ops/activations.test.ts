/**
 * elu, softplus, gelu (erf and tanh forms), silu: values from the formulas
 * written out here (and, for erf, an independent Taylor series and the
 * asymptotic tail series), gradients by finite differences, argument errors,
 * and the layer forms.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, Tensor, ValueError, backward, randn, tensor } from '../../../src/index.js';
import { ELU, GELU, SiLU, Softplus } from '../../../src/nn/index.js';
import { elu, gelu, silu, softplus } from '../../../src/ops/index.js';
import { erf, erfc } from '../../../src/backends/ref/erf.js';
import { assertClose, assertGradcheck } from '../../helpers/index.js';

const gen = new Generator(77);

function f64(values: number[]): Tensor {
  return tensor(values, [values.length], { dtype: 'float64' });
}

function rn(shape: number[], std = 1): Tensor {
  return randn(shape, { generator: gen, dtype: 'float64', std });
}

/** erf by its Maclaurin series 2/sqrt(pi) sum (-1)^n z^(2n+1) / (n! (2n+1)); fine in float64 for |z| <= 3. */
function erfSeries(z: number): number {
  let term = z; // (-1)^n z^(2n+1) / n!
  let sum = 0;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-z * z) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** Phi(-x) for large x by the asymptotic series phi(x)/x * (1 - 1/x^2 + 3/x^4 - 15/x^6 + ...), summed while terms shrink. */
function normalTail(x: number): number {
  const phi = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 40; k++) {
    const next = (-term * (2 * k - 1)) / (x * x);
    if (Math.abs(next) >= Math.abs(term)) break;
    term = next;
    sum += term;
  }
  return (phi / x) * sum;
}

describe('erf (Cody 1969 rational approximations)', () => {
  test('matches published values: erf(0.5), erf(1), erf(2) (Abramowitz & Stegun table 7.1)', () => {
    assertClose([erf(0.5), erf(1), erf(2)], [0.5204998778130465, 0.8427007929497149, 0.9953222650189527], { rtol: 1e-14 });
  });
  test('matches the Maclaurin series on [-3, 3] to 1e-12 relative, across the 0.46875 and 4 breakpoints', () => {
    for (let z = -3; z <= 3; z += 0.0371) {
      const e = erfSeries(z);
      assert.ok(Math.abs(erf(z) - e) <= 1e-12 * Math.abs(e) + 1e-300, `erf(${z}) = ${erf(z)}, series ${e}`);
      assert.ok(Math.abs(erfc(z) - (1 - e)) <= 1e-12, `erfc(${z})`);
    }
  });
  test('erfc is accurate in relative terms far into the tail (no 1 - erf cancellation)', () => {
    // erfc(z) = 2 Phi(-z sqrt 2).
    // (The asymptotic series is good to far better than 1e-9 from x = z sqrt 2 > 8 on.)
    for (const z of [6, 7.5, 9, 15, 25]) {
      const expected = 2 * normalTail(z * Math.SQRT2);
      assert.ok(Math.abs(erfc(z) - expected) <= 1e-9 * expected, `erfc(${z}) = ${erfc(z)}, tail series ${expected}`);
    }
  });
  test('symmetries: erf(-x) = -erf(x), erfc(x) + erfc(-x) = 2', () => {
    for (const x of [0.1, 0.46875, 0.7, 3.9, 4.1, 8]) {
      assert.equal(erf(-x), -erf(x));
      assert.ok(Math.abs(erfc(x) + erfc(-x) - 2) < 1e-15);
    }
  });
});

describe('elu', () => {
  test('x for x > 0, alpha (e^x - 1) otherwise', () => {
    const xs = [-3, -1, -0.25, 0, 0.5, 2];
    const y = elu(f64(xs), 1.5);
    assertClose(y.data, xs.map((v) => (v > 0 ? v : 1.5 * (Math.exp(v) - 1))), { rtol: 1e-14 });
    assertClose(elu(f64(xs)).data, xs.map((v) => (v > 0 ? v : Math.exp(v) - 1)), { rtol: 1e-14 });
  });
  test('gradient 1 for x > 0 and alpha e^x for x <= 0 (alpha at 0, as PyTorch)', () => {
    const x = f64([-2, 0, 1]);
    x.requiresGrad = true;
    backward(elu(x, 0.5), f64([1, 1, 1]));
    assertClose(x.grad!.data, [0.5 * Math.exp(-2), 0.5, 1], { rtol: 1e-14 });
  });
  test('gradcheck, alpha 1 and 0.3, away from the kink at 0', () => {
    const x = f64([-4, -1.3, -0.4, -0.1, 0.2, 0.9, 2.5]);
    assertGradcheck((t) => elu(t), [x], { maxError: 1e-6 });
    assertGradcheck((t) => elu(t, 0.3), [x], { maxError: 1e-6 });
  });
  test('alpha must be a finite number', () => {
    assert.throws(() => elu(f64([1]), NaN), (e: unknown) => e instanceof ValueError && /elu: alpha must be a finite number, got NaN/.test(e.message));
  });
});

describe('softplus', () => {
  test('log(1 + e^(beta x)) / beta below the threshold', () => {
    const xs = [-30, -3, -0.5, 0, 0.7, 4, 19.5];
    assertClose(softplus(f64(xs)).data, xs.map((v) => Math.log1p(Math.exp(v))), { rtol: 1e-13, atol: 1e-300 });
    assertClose(softplus(f64(xs.slice(0, 5)), { beta: 2 }).data, xs.slice(0, 5).map((v) => Math.log1p(Math.exp(2 * v)) / 2), { rtol: 1e-13, atol: 1e-300 });
  });
  test('exactly x where beta * x > threshold (PyTorch linear region), and not just below it', () => {
    // log(1 + e^25) = 25 + 1.4e-11, which float64 distinguishes from 25.
    const y = softplus(f64([25, 10.5, 6]), { beta: 2 });
    assert.equal(y.data[0], 25);
    assert.equal(y.data[1], 10.5);
    assert.notEqual(y.data[2], 6); // beta x = 12 < 20: still the log form
    assertClose([y.data[2]], [Math.log(1 + Math.exp(12)) / 2], { rtol: 1e-14 });
    const t = softplus(f64([4]), { threshold: 3 });
    assert.equal(t.data[0], 4);
    const noThreshold = softplus(f64([25]), { threshold: Infinity });
    assertClose(noThreshold.data, [25 + Math.log1p(Math.exp(-25))], { rtol: 1e-15 });
    assert.notEqual(noThreshold.data[0], 25);
  });
  test('gradient is sigmoid(beta x) below the threshold and exactly 1 above', () => {
    const x = f64([-1, 2, 11]);
    x.requiresGrad = true;
    backward(softplus(x, { beta: 2 }), f64([1, 1, 1]));
    assertClose(x.grad!.data.slice(0, 2), [1 / (1 + Math.exp(2)), 1 / (1 + Math.exp(-4))], { rtol: 1e-14 });
    assert.equal(x.grad!.data[2], 1);
  });
  test('gradcheck: default beta, beta 2 with threshold 3 on both sides of it, and beyond the default threshold', () => {
    assertGradcheck((t) => softplus(t), [rn([3, 4], 3)], { maxError: 1e-6 });
    assertGradcheck((t) => softplus(t, { beta: 2, threshold: 3 }), [f64([-2, -0.3, 0.4, 1.2, 1.9, 2.5, 4])], { maxError: 1e-6 });
    assertGradcheck((t) => softplus(t), [f64([21, 25, 40, 19, -25])], { maxError: 1e-6 });
  });
  test('invalid beta, threshold and options are errors', () => {
    assert.throws(() => softplus(f64([1]), { beta: 0 }), (e: unknown) => e instanceof ValueError && /softplus: beta must be a finite non-zero number, got 0/.test(e.message));
    assert.throws(() => softplus(f64([1]), { threshold: NaN }), (e: unknown) => e instanceof ValueError && /softplus: threshold must be a number, got NaN/.test(e.message));
    assert.throws(() => softplus(f64([1]), { Beta: 2 } as never), (e: unknown) => e instanceof ValueError && /softplus: unknown option 'Beta'; did you mean 'beta'\? The options are beta, threshold/.test(e.message));
    assert.throws(() => new Softplus({ beta: Infinity }), (e: unknown) => e instanceof ValueError && /Softplus: beta must be a finite non-zero number, got Infinity/.test(e.message));
  });
});

describe('gelu', () => {
  test("'none' is x * Phi(x) with Phi from the erf series", () => {
    const xs = [-4, -2.2, -1, -0.3, 0, 0.25, 1, 3.5];
    const expected = xs.map((v) => v * 0.5 * (1 + erfSeries(v / Math.SQRT2)));
    // The series loses ~1e-14 absolute to cancellation at |x| ~ 4, hence atol 1e-13.
    assertClose(gelu(f64(xs)).data, expected, { rtol: 1e-12, atol: 1e-13 });
    assertClose(gelu(f64(xs), { approximate: 'none' }).data, expected, { rtol: 1e-12, atol: 1e-13 });
  });
  test("'none' keeps relative accuracy for large negative x (gelu(-10) = -10 Phi(-10) ~ -7.6e-23)", () => {
    const y = gelu(f64([-10, -7]));
    assertClose(y.data, [-10 * normalTail(10), -7 * normalTail(7)], { rtol: 1e-9 });
    assert.ok(y.data[0] < 0);
  });
  test("'tanh' is x/2 (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))", () => {
    const xs = [-3, -1, -0.2, 0, 0.6, 2.4];
    const k = Math.sqrt(2 / Math.PI);
    const expected = xs.map((v) => 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v ** 3))));
    const y = gelu(f64(xs), { approximate: 'tanh' });
    assertClose(y.data, expected, { rtol: 1e-14 });
    // The two forms differ (by up to ~5e-4 around |x| ~ 2), so the option is honoured.
    assert.ok(Math.abs(y.data[5] - gelu(f64([2.4])).data[0]) > 1e-5);
  });
  test('gradient of the erf form is Phi(x) + x phi(x)', () => {
    const xs = [-1.5, 0, 0.8];
    const x = f64(xs);
    x.requiresGrad = true;
    backward(gelu(x), f64([1, 1, 1]));
    const phi = (v: number) => Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
    assertClose(x.grad!.data, xs.map((v) => 0.5 * (1 + erfSeries(v / Math.SQRT2)) + v * phi(v)), { rtol: 1e-12, atol: 1e-15 });
  });
  test('gradcheck, both forms, including large magnitudes', () => {
    assertGradcheck((t) => gelu(t), [rn([3, 4], 2)], { maxError: 1e-6 });
    assertGradcheck((t) => gelu(t, { approximate: 'tanh' }), [rn([3, 4], 2)], { maxError: 1e-6 });
    assertGradcheck((t) => gelu(t), [f64([-9, -5.5, 5, 8])], { maxError: 1e-6 });
    assertGradcheck((t) => gelu(t, { approximate: 'tanh' }), [f64([-9, -5.5, 5, 8])], { maxError: 1e-6 });
  });
  test('approximate must be none or tanh', () => {
    assert.throws(() => gelu(f64([1]), { approximate: 'fast' as never }), (e: unknown) => e instanceof ValueError && /gelu: approximate must be 'none' or 'tanh', got "fast"/.test(e.message));
    assert.throws(() => new GELU({ approximate: 'erf' as never }), (e: unknown) => e instanceof ValueError && /GELU: approximate must be 'none' or 'tanh', got "erf"/.test(e.message));
  });
});

describe('silu', () => {
  test('x * sigmoid(x), also for large |x|', () => {
    const xs = [-800, -20, -2, -0.5, 0, 1, 3, 800];
    const y = silu(f64(xs));
    assertClose(y.data.slice(1, 7), xs.slice(1, 7).map((v) => v / (1 + Math.exp(-v))), { rtol: 1e-14 });
    assert.equal(y.data[7], 800);
    assert.ok(Number.isFinite(y.data[0]) && y.data[0] <= 0 && y.data[0] > -1e-300);
  });
  test('gradient s(x)(1 + x(1 - s(x)))', () => {
    const xs = [-2, 0, 1.5];
    const x = f64(xs);
    x.requiresGrad = true;
    backward(silu(x), f64([1, 1, 1]));
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    assertClose(x.grad!.data, xs.map((v) => s(v) * (1 + v * (1 - s(v)))), { rtol: 1e-14 });
  });
  test('gradcheck', () => {
    assertGradcheck((t) => silu(t), [rn([3, 5], 3)], { maxError: 1e-6 });
  });
});

describe('activation layers', () => {
  test('ELU, Softplus, GELU, SiLU apply their functional forms with their options', () => {
    const x = f64([-3, -0.5, 0.5, 12]);
    const expectedElu = [-3, -0.5].map((v) => 0.7 * (Math.exp(v) - 1)).concat([0.5, 12]);
    assertClose(new ELU(0.7).forward(x).data, expectedElu, { rtol: 1e-14 });
    const sp = new Softplus({ beta: 2, threshold: 10 }).forward(x).data;
    assert.equal(sp[3], 12); // 2 * 12 > 10: linear
    assertClose(sp.slice(0, 3), [-3, -0.5, 0.5].map((v) => Math.log1p(Math.exp(2 * v)) / 2), { rtol: 1e-14 });
    assertClose(new GELU({ approximate: 'tanh' }).forward(x).data, gelu(x, { approximate: 'tanh' }).data, { rtol: 0 });
    assertClose(new GELU().forward(x).data, [-3, -0.5, 0.5, 12].map((v) => (v > 10 ? v : v * 0.5 * (1 + erfSeries(v / Math.SQRT2)))), { rtol: 1e-12, atol: 1e-13 });
    assertClose(new SiLU().forward(x).data, [-3, -0.5, 0.5, 12].map((v) => v / (1 + Math.exp(-v))), { rtol: 1e-14 });
    assert.equal(new ELU().numParameters(), 0);
    assert.equal(new Softplus().toString(), 'Softplus(beta=1, threshold=20)');
  });
  test('ELU rejects a non-finite alpha', () => {
    assert.throws(() => new ELU(Infinity), (e: unknown) => e instanceof ValueError && /ELU: alpha must be a finite number, got Infinity/.test(e.message));
  });
});
