/**
 * dropout and channel dropout. dropout: about p of the values zeroed, the rest
 * scaled by 1/(1-p), the same mask for the same seed, its gradient by that
 * mask, the errors. dropout2d: whole [H, W] maps are zeroed or scaled by
 * 1/(1-p), one draw per (sample, channel); identity in eval mode; gradient by
 * the same mask.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, ShapeError, Tensor, ValueError, backward, gradcheck, ones, rand, randn } from '../../../src/index.js';
import { Dropout, Dropout2d } from '../../../src/nn/index.js';
import { dropout, dropout2d, sum } from '../../../src/ops/index.js';
import { ok, seeded, throwsWith } from '../../helpers/index.js';

/** For each of `planes` channels, whether it is kept: the generator's draws in order, kept when r >= p. */
function expectedKeep(seed: number, planes: number, p: number): boolean[] {
  const g = new Generator(seed);
  return Array.from({ length: planes }, () => g.random() >= p);
}

describe('dropout2d', () => {
  test('zeroes whole channels and scales the others by 1/(1-p), one draw per (sample, channel) in order', () => {
    const x = randn([3, 5, 2, 4], { generator: new Generator(1) });
    const p = 0.4;
    const y = dropout2d(x, p, { training: true, generator: new Generator(99) });
    const keep = expectedKeep(99, 15, p);
    let dropped = 0;
    for (let plane = 0; plane < 15; plane++) {
      for (let i = 0; i < 8; i++) {
        const k = plane * 8 + i;
        const want = keep[plane] ? x.data[k] / (1 - p) : 0;
        assert.ok(Math.abs(y.data[k] - want) <= 1e-6 * Math.abs(want), `plane ${plane}, element ${i}: ${y.data[k]} vs ${want}`);
      }
      if (!keep[plane]) dropped++;
    }
    // The seed gives a mix of dropped and kept channels, so both branches were checked.
    assert.ok(dropped > 0 && dropped < 15, `dropped ${dropped} of 15`);
  });
  test('every channel is either all zero or entirely kept (over many channels, about p of them dropped)', () => {
    const x = ones([20, 50, 3, 3]);
    const y = dropout2d(x, 0.3, { training: true, generator: new Generator(5) });
    let dropped = 0;
    for (let plane = 0; plane < 1000; plane++) {
      const vals = new Set(y.data.slice(plane * 9, plane * 9 + 9));
      assert.equal(vals.size, 1, `plane ${plane} mixes values ${[...vals]}`);
      const v = [...vals][0];
      assert.ok(v === 0 || Math.abs(v - 1 / 0.7) < 1e-6);
      if (v === 0) dropped++;
    }
    // Binomial(1000, 0.3): mean 300, sd 14.5; 6 sd either side.
    assert.ok(dropped > 213 && dropped < 387, `dropped ${dropped}`);
  });
  test('gradient is gy times the same channel mask', () => {
    const x = randn([2, 3, 2, 2], { generator: new Generator(2) });
    x.requiresGrad = true;
    const y = dropout2d(x, 0.5, { generator: new Generator(7) });
    const gy = randn([2, 3, 2, 2], { generator: new Generator(3) });
    backward(y, gy);
    const keep = expectedKeep(7, 6, 0.5);
    for (let k = 0; k < 24; k++) {
      const want = keep[Math.floor(k / 4)] ? gy.data[k] * 2 : 0;
      assert.ok(Math.abs(x.grad!.data[k] - want) < 1e-6);
    }
    // Finite differences with a fixed generator seed per call (the mask must not change between evaluations).
    const x64 = randn([2, 3, 2, 2], { generator: new Generator(4), dtype: 'float64' });
    assert.equal(gradcheck((t) => dropout2d(t, 0.5, { generator: new Generator(11) }), [x64]).passed, true);
  });
  test('identity in eval mode and for p = 0; all zeros for p = 1', () => {
    const x = randn([2, 3, 2, 2], { generator: new Generator(8) });
    assert.equal(dropout2d(x, 0.5, { training: false }), x);
    assert.deepEqual([...dropout2d(x, 0, { training: true }).data], [...x.data]);
    assert.ok(dropout2d(x, 1, { training: true }).data.every((v) => v === 0));
  });
  test('a 3-D input is one unbatched sample [C, H, W]: one draw per channel', () => {
    const x = ones([6, 2, 2]);
    const y = dropout2d(x, 0.5, { generator: new Generator(21) });
    const keep = expectedKeep(21, 6, 0.5);
    for (let c = 0; c < 6; c++) for (let i = 0; i < 4; i++) assert.equal(y.data[c * 4 + i], keep[c] ? 2 : 0);
  });
  test('errors: p outside [0, 1], input not 3-D or 4-D', () => {
    const x = ones([2, 3, 2, 2]);
    assert.throws(() => dropout2d(x, 1.5), (e: unknown) => e instanceof ValueError && /dropout2d: p must be a probability in \[0, 1\], got 1.5/.test(e.message));
    assert.throws(() => dropout2d(ones([4, 5]), 0.5),
      (e: unknown) => e instanceof ShapeError && /dropout2d: input must be 4-D \[batch, channels, height, width\] or 3-D \[channels, height, width\], got shape \[4, 5\]/.test(e.message));
    assert.throws(() => new Dropout2d(-0.1), (e: unknown) => e instanceof ValueError && /Dropout2d: p must be a probability in \[0, 1\], got -0.1/.test(e.message));
  });
});

describe('Dropout2d layer', () => {
  test('drops channels in training mode (with its generator), identity in eval mode', () => {
    const layer = new Dropout2d(0.25, { generator: new Generator(13) });
    const x = ones([4, 4, 1, 3]);
    const y = layer.forward(x);
    const keep = expectedKeep(13, 16, 0.25);
    for (let plane = 0; plane < 16; plane++) for (let i = 0; i < 3; i++) assert.ok(Math.abs(y.data[plane * 3 + i] - (keep[plane] ? 1 / 0.75 : 0)) < 1e-6);
    layer.eval();
    const z: Tensor = layer.forward(x);
    assert.deepEqual([...z.data], [...x.data]);
    assert.equal(layer.toString(), 'Dropout2d(p=0.25)');
  });
});

describe('dropout forward', () => {
  const { gen, rn } = seeded(99, 'float32');
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

describe('gradcheck: dropout (checked directly: the mask changes on every call)', () => {
  const { rn, awayFromZero } = seeded(20240611);
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

describe('other arguments', () => {
  test('probabilities and bounds', () => {
    throwsWith(() => dropout(ones([2]), 1.5), ValueError, /dropout: p must be a probability in \[0, 1\], got 1\.5/);
    throwsWith(() => new Dropout(-0.1), ValueError, /Dropout/, /-0\.1/);
  });
});
