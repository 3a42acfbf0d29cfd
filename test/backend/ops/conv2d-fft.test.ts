/**
 * FFT convolution: the FFT itself against a naive DFT, and conv2dFFT against
 * the direct conv2d (forward and every gradient) and a naive loop, gradcheck in
 * float64, and the errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import { Generator, ShapeError, Tensor, ValueError, backward, gradcheck, randn, tensor } from '../../../src/index.js';
import { Conv2d } from '../../../src/nn/index.js';
import { conv2d, conv2dFFT, type Conv2dFFTOptions } from '../../../src/ops/index.js';
import { fft, irfft2, isPowerOfTwo, nextPowerOfTwo, rfft2, rfft2Size } from '../../../src/backends/ref/fft.js';
import { assertClose, naiveConvTensor, throwsWith, type Tolerance } from '../../helpers/index.js';

const gen = new Generator(2014);

/** The DFT by its definition, X[k] = sum_n x[n] exp(-2 pi i k n / N), O(N^2). */
function naiveDft(re: number[], im: number[]): { re: number[]; im: number[] } {
  const n = re.length;
  const outRe: number[] = [];
  const outIm: number[] = [];
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      sr += re[t] * Math.cos(a) - im[t] * Math.sin(a);
      si += re[t] * Math.sin(a) + im[t] * Math.cos(a);
    }
    outRe.push(sr);
    outIm.push(si);
  }
  return { re: outRe, im: outIm };
}

function randomArray(n: number): number[] {
  return Array.from({ length: n }, () => gen.uniform(-1, 1));
}

describe('fft (radix-2, power-of-two lengths)', () => {
  test('isPowerOfTwo and nextPowerOfTwo', () => {
    assert.deepEqual([1, 2, 3, 4, 6, 8, 1024].map(isPowerOfTwo), [true, true, false, true, false, true, true]);
    assert.deepEqual([1, 2, 3, 5, 17, 64, 65, 130].map(nextPowerOfTwo), [1, 2, 4, 8, 32, 64, 128, 256]);
  });

  test('complex FFT equals the naive DFT for n = 1 .. 128, at an offset', () => {
    for (const n of [1, 2, 4, 8, 16, 128]) {
      const re = randomArray(n);
      const im = randomArray(n);
      const expected = naiveDft(re, im);
      // Surround the data with junk that must stay untouched.
      const bufRe = new Float64Array([7, ...re, 9]);
      const bufIm = new Float64Array([7, ...im, 9]);
      fft(bufRe, bufIm, 1, n, false);
      for (let k = 0; k < n; k++) {
        assert.ok(Math.abs(bufRe[1 + k] - expected.re[k]) < 1e-12 * n, `n ${n} re[${k}]`);
        assert.ok(Math.abs(bufIm[1 + k] - expected.im[k]) < 1e-12 * n, `n ${n} im[${k}]`);
      }
      assert.deepEqual([bufRe[0], bufRe[n + 1], bufIm[0], bufIm[n + 1]], [7, 9, 7, 9]);
    }
  });

  test('known transforms: a delta at 0 has a flat spectrum, a constant only a DC term; a delta at 1 gives exp(-2 pi i k / N)', () => {
    const n = 8;
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    re[0] = 1;
    fft(re, im, 0, n, false);
    assert.deepEqual([...re], new Array(n).fill(1));
    assert.ok([...im].every((v) => v === 0));
    re.fill(3);
    im.fill(0);
    fft(re, im, 0, n, false);
    assert.equal(re[0], 24);
    for (let k = 1; k < n; k++) assert.ok(Math.abs(re[k]) < 1e-14 && Math.abs(im[k]) < 1e-14);
    re.fill(0);
    im.fill(0);
    re[1] = 1;
    fft(re, im, 0, n, false);
    for (let k = 0; k < n; k++) {
      assert.ok(Math.abs(re[k] - Math.cos((2 * Math.PI * k) / n)) < 1e-15);
      assert.ok(Math.abs(im[k] + Math.sin((2 * Math.PI * k) / n)) < 1e-15);
    }
  });

  test('inverse (unscaled) undoes forward up to the factor N', () => {
    const n = 32;
    const re = randomArray(n);
    const im = randomArray(n);
    const r = new Float64Array(re);
    const i = new Float64Array(im);
    fft(r, i, 0, n, false);
    fft(r, i, 0, n, true);
    for (let k = 0; k < n; k++) {
      assert.ok(Math.abs(r[k] / n - re[k]) < 1e-14);
      assert.ok(Math.abs(i[k] / n - im[k]) < 1e-14);
    }
  });

  test('a length that is not a power of two is refused', () => {
    assert.throws(() => fft(new Float64Array(6), new Float64Array(6), 0, 6, false), /power of two, got 6/);
    assert.throws(() => rfft2Size(8, 12), /power-of-two sides/);
  });
});

describe('rfft2 / irfft2 (real 2-D transform, half spectrum)', () => {
  /** Naive 2-D DFT of the grid holding plane p (h x w) at (top, left), taps spaced by (rs, cs). */
  function naiveDft2(p: number[], h: number, w: number, top: number, left: number, rs: number, cs: number, PH: number, PW: number, k1: number, k2: number): [number, number] {
    let sr = 0;
    let si = 0;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const a = -2 * Math.PI * (((top + i * rs) * k1) / PH + ((left + j * cs) * k2) / PW);
        sr += p[i * w + j] * Math.cos(a);
        si += p[i * w + j] * Math.sin(a);
      }
    }
    return [sr, si];
  }

  const cases: [number, number, number, number, number, number, number, number][] = [
    // PH, PW, h, w, top, left, rowStep, colStep
    [8, 16, 5, 7, 2, 3, 1, 1],
    [16, 8, 16, 8, 0, 0, 1, 1],
    [1, 4, 1, 3, 0, 1, 1, 1],
    [4, 1, 3, 1, 1, 0, 1, 1],
    [2, 2, 1, 1, 1, 1, 1, 1],
    [16, 16, 3, 4, 0, 0, 3, 2], // a dilated 3x4 kernel: taps every 3rd row, every 2nd column
  ];

  test('rfft2 equals the naive 2-D DFT on columns 0 .. W/2, with placement and tap steps', () => {
    for (const [PH, PW, h, w, top, left, rs, cs] of cases) {
      const sz = rfft2Size(PH, PW);
      assert.equal(sz.half, Math.floor(PW / 2) + 1);
      const p = randomArray(h * w);
      const re = new Float64Array(sz.size + 2).fill(5);
      const im = new Float64Array(sz.size + 2).fill(5);
      rfft2(Float32Array.from(p), 0, h, w, top, left, sz, re, im, 1, rs, cs);
      const p32 = Array.from(Float32Array.from(p));
      for (let k1 = 0; k1 < PH; k1++) {
        for (let k2 = 0; k2 < sz.half; k2++) {
          const [er, ei] = naiveDft2(p32, h, w, top, left, rs, cs, PH, PW, k1, k2);
          assert.ok(Math.abs(re[1 + k1 * sz.half + k2] - er) < 1e-12, `${PH}x${PW} (${k1}, ${k2}) re`);
          assert.ok(Math.abs(im[1 + k1 * sz.half + k2] - ei) < 1e-12, `${PH}x${PW} (${k1}, ${k2}) im`);
        }
      }
      assert.equal(re[0], 5);
      assert.equal(re[sz.size + 1], 5);
    }
  });

  test('irfft2 of a naive half spectrum gives back the plane (with 1/(PH*PW)), and only the requested rows', () => {
    for (const [PH, PW, h, w, top, left] of cases.filter((c) => c[6] === 1 && c[7] === 1)) {
      const sz = rfft2Size(PH, PW);
      const p = randomArray(h * w);
      const re = new Float64Array(sz.size);
      const im = new Float64Array(sz.size);
      for (let k1 = 0; k1 < PH; k1++) {
        for (let k2 = 0; k2 < sz.half; k2++) [re[k1 * sz.half + k2], im[k1 * sz.half + k2]] = naiveDft2(p, h, w, top, left, 1, 1, PH, PW, k1, k2);
      }
      const keepRe = Float64Array.from(re);
      // Rows top .. top+h-1 only, written from out[0].
      const out = new Float64Array(h * PW + 1).fill(-3);
      irfft2(re, im, 0, sz, top, top + h, out, 0);
      for (let i = 0; i < h; i++) {
        for (let c = 0; c < PW; c++) {
          const j = c - left;
          const expected = j >= 0 && j < w ? p[i * w + j] : 0;
          assert.ok(Math.abs(out[i * PW + c] - expected) < 1e-12, `${PH}x${PW} row ${top + i} col ${c}`);
        }
      }
      assert.equal(out[h * PW], -3, 'nothing written past the requested rows');
      assert.deepEqual(re, keepRe, 'the spectrum is left unchanged');
    }
  });
});

// ---------------------------------------------------------------------------
// conv2dFFT


/**
 * The tolerance |actual - expected| <= rel * (|expected| + rms(expected)): relative
 * to the element, with the tensor's scale as a floor so that outputs that
 * cancel to nearly 0 are not judged by float32 rounding noise alone.
 */
function relToScale(rel: number, expected: ArrayLike<number>): Tolerance {
  let ss = 0;
  for (let i = 0; i < expected.length; i++) ss += expected[i] * expected[i];
  const rms = Math.sqrt(ss / Math.max(expected.length, 1));
  return { rtol: rel, atol: rel * rms };
}

interface Case {
  x: number[];
  w: number[];
  bias: boolean;
  options: Conv2dFFTOptions;
  /** Resolved [top, bottom, left, right] padding, for the naive loop. */
  pads: [number, number, number, number];
  dilation?: [number, number];
}

const CASES: Case[] = [
  { x: [2, 3, 7, 9], w: [4, 3, 3, 3], bias: true, options: {}, pads: [0, 0, 0, 0] },
  { x: [1, 2, 8, 8], w: [3, 2, 2, 2], bias: true, options: { padding: 1 }, pads: [1, 1, 1, 1] },
  { x: [3, 4, 10, 6], w: [6, 2, 3, 2], bias: true, options: { groups: 2, padding: [1, 2, 0, 3], dilation: [2, 1] }, pads: [1, 2, 0, 3], dilation: [2, 1] },
  // 'same' with even kernels: total padding 3, the odd unit after (top 1, bottom 2).
  { x: [2, 3, 5, 5], w: [2, 3, 4, 4], bias: false, options: { padding: 'same' }, pads: [1, 2, 1, 2] },
  { x: [1, 1, 1, 1], w: [1, 1, 1, 1], bias: true, options: {}, pads: [0, 0, 0, 0] },
  // depthwise, dilation 2, 'same': effective kernel 9x5, padding 4 / 2 on each side.
  { x: [2, 6, 17, 13], w: [6, 1, 5, 3], bias: true, options: { groups: 6, padding: 'same', dilation: 2 }, pads: [4, 4, 2, 2], dilation: [2, 2] },
  // kernel as large as the (power-of-two) input: one output pixel
  { x: [1, 3, 16, 16], w: [5, 3, 16, 16], bias: true, options: { padding: 'valid' }, pads: [0, 0, 0, 0] },
  { x: [2, 2, 9, 31], w: [3, 2, 1, 7], bias: false, options: { padding: [0, 3] }, pads: [0, 0, 3, 3] },
  { x: [4, 8, 12, 12], w: [8, 2, 3, 3], bias: true, options: { groups: 4, padding: 2 }, pads: [2, 2, 2, 2] },
  // padded size 35 -> a 64-row grid
  { x: [1, 2, 33, 7], w: [2, 2, 3, 3], bias: true, options: { padding: 'same' }, pads: [1, 1, 1, 1] },
  // more padding than the kernel needs: output larger than the input
  { x: [2, 1, 4, 5], w: [2, 1, 2, 3], bias: true, options: { padding: [3, 0, 1, 4] }, pads: [3, 0, 1, 4] },
];

function describeCase(c: Case): string {
  return `x ${JSON.stringify(c.x)} w ${JSON.stringify(c.w)} ${JSON.stringify(c.options)}${c.bias ? '' : ' no bias'}`;
}

describe('conv2dFFT', () => {
  test('forward equals a naive loop in float64 (within 1e-10 relative)', () => {
    for (const c of CASES) {
      const x = randn(c.x, { generator: gen, dtype: 'float64' });
      const w = randn(c.w, { generator: gen, dtype: 'float64' });
      const b = c.bias ? randn([c.w[0]], { generator: gen, dtype: 'float64' }) : null;
      const y = conv2dFFT(x, w, b, c.options);
      assert.equal(y.dtype, 'float64');
      const expected = naiveConvTensor(x, w, b, { pads: c.pads, dilation: c.dilation ?? [1, 1], groups: c.options.groups ?? 1 }).data;
      assertClose(y.data, expected, relToScale(1e-10, expected), describeCase(c));
    }
  });

  test('forward and dL/dx, dL/dw, dL/db equal the direct conv2d in float32 (within 1e-4 relative)', () => {
    for (const c of CASES) {
      const x = randn(c.x, { generator: gen, requiresGrad: true });
      const w = randn(c.w, { generator: gen, requiresGrad: true });
      const b = c.bias ? randn([c.w[0]], { generator: gen, requiresGrad: true }) : null;
      const yd = conv2d(x, w, b, c.options);
      const gy = randn(yd.shape, { generator: gen });
      backward(yd, gy);
      const direct = { gx: x.grad!.data, gw: w.grad!.data, gb: b ? b.grad!.data : null };
      x.grad = w.grad = null;
      if (b) b.grad = null;
      const yf = conv2dFFT(x, w, b, c.options);
      assert.deepEqual(yf.shape, yd.shape);
      assert.equal(yf.dtype, 'float32');
      assertClose(yf.data, yd.data, relToScale(1e-4, yd.data), `y, ${describeCase(c)}`);
      backward(yf, gy);
      assertClose(x.grad!.data, direct.gx, relToScale(1e-4, direct.gx), `gx, ${describeCase(c)}`);
      assertClose(w.grad!.data, direct.gw, relToScale(1e-4, direct.gw), `gw, ${describeCase(c)}`);
      if (b) assertClose(b.grad!.data, direct.gb!, relToScale(1e-4, direct.gb!), `gb, ${describeCase(c)}`);
    }
  });

  test('the gradients are right in float64 too (against the direct conv2d, 1e-10 relative)', () => {
    for (const c of CASES.slice(0, 6)) {
      const x = randn(c.x, { generator: gen, dtype: 'float64', requiresGrad: true });
      const w = randn(c.w, { generator: gen, dtype: 'float64', requiresGrad: true });
      const yd = conv2d(x, w, null, c.options);
      const gy = randn(yd.shape, { generator: gen, dtype: 'float64' });
      backward(yd, gy);
      const [gx, gw] = [x.grad!.data, w.grad!.data];
      x.grad = w.grad = null;
      backward(conv2dFFT(x, w, null, c.options), gy);
      assertClose(x.grad!.data, gx, relToScale(1e-10, gx), `gx, ${describeCase(c)}`);
      assertClose(w.grad!.data, gw, relToScale(1e-10, gw), `gw, ${describeCase(c)}`);
    }
  });

  test('only the inputs that require grad get one', () => {
    const x = randn([1, 2, 5, 5], { generator: gen });
    const w = randn([2, 2, 3, 3], { generator: gen, requiresGrad: true });
    const b = randn([2], { generator: gen });
    backward(conv2dFFT(x, w, b, { padding: 1 }), randn([1, 2, 5, 5], { generator: gen }));
    assert.equal(x.grad, null);
    assert.equal(b.grad, null);
    assert.ok(w.grad instanceof Tensor);
  });

  test('a 3-D input [C, H, W] gives a 3-D output', () => {
    const x = randn([3, 6, 5], { generator: gen });
    const w = randn([2, 3, 3, 3], { generator: gen });
    const y = conv2dFFT(x, w, null, { padding: 1 });
    assert.deepEqual(y.shape, [2, 6, 5]);
    const x4 = new Tensor(x.data, [1, 3, 6, 5]);
    const expected = naiveConvTensor(x4, w, null, { pads: [1, 1, 1, 1] }).data;
    assertClose(y.data, expected, relToScale(1e-5, expected), '3-D');
  });

  test('a worked example by hand: the 5x5 image and 3x3 filter of the lectures give [[4,3,4],[2,4,3],[2,3,4]]', () => {
    const img = tensor([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]).reshape([1, 1, 5, 5]);
    const k = tensor([[1, 0, 1], [0, 1, 0], [1, 0, 1]]).reshape([1, 1, 3, 3]);
    const y = conv2dFFT(img, k);
    assert.deepEqual(y.toFlatArray().map((v) => Math.round(v * 1e4) / 1e4), [4, 3, 4, 2, 4, 3, 2, 3, 4]);
  });

  test('gradcheck in float64: x, weight and bias, with padding, dilation and groups', () => {
    const cases: [number[], number[], Conv2dFFTOptions][] = [
      [[2, 2, 5, 4], [3, 2, 3, 2], { padding: [1, 0, 2, 1] }],
      [[1, 4, 6, 5], [4, 2, 2, 3], { groups: 2, dilation: [2, 1], padding: 'same' }],
    ];
    for (const [xs, ws, options] of cases) {
      const x = randn(xs, { generator: gen, dtype: 'float64', requiresGrad: true });
      const w = randn(ws, { generator: gen, dtype: 'float64', requiresGrad: true });
      const b = randn([ws[0]], { generator: gen, dtype: 'float64', requiresGrad: true });
      const report = gradcheck((xx, ww, bb) => conv2dFFT(xx, ww, bb, options), [x, w, b]);
      assert.equal(report.passed, true);
      assert.equal(report.inputs.length, 3);
    }
  });
});

describe('conv2dFFT errors', () => {
  const x = randn([1, 2, 6, 6], { generator: gen });
  const w = randn([3, 2, 3, 3], { generator: gen });

  test('stride other than 1', () => {
    throwsWith(() => conv2dFFT(x, w, null, { stride: 2 }), ValueError, /^conv2dFFT: algorithm 'fft' supports stride 1 only; got stride 2; use algorithm 'direct'/);
    throwsWith(() => conv2dFFT(x, w, null, { stride: [1, 3] }), ValueError, /supports stride 1 only; got stride \[1, 3\]/);
  });

  test('padding modes other than zeros', () => {
    throwsWith(() => conv2dFFT(x, w, null, { padding: 1, paddingMode: 'reflect' }), ValueError, /algorithm 'fft' supports paddingMode 'zeros' only; got paddingMode 'reflect'; use algorithm 'direct'/);
  });

  test("an algorithm other than 'fft'", () => {
    throwsWith(() => conv2dFFT(x, w, null, { algorithm: 'direct' } as any), ValueError, /conv2dFFT computes algorithm 'fft' only; got algorithm "direct"/);
  });

  test('the checks of conv2d apply, named conv2dFFT', () => {
    throwsWith(() => conv2dFFT(x, randn([3, 4, 3, 3], { generator: gen })), ShapeError, /^conv2dFFT: input has 2 channels but weight \[3, 4, 3, 3\]/);
    throwsWith(() => conv2dFFT(x, randn([1, 2, 9, 9], { generator: gen })), ShapeError, /^conv2dFFT: kernel 9x9 is larger than the padded input 6x6/);
    throwsWith(() => conv2dFFT(x, w, randn([2], { generator: gen })), ShapeError, /^conv2dFFT: bias must have shape \[3\]/);
    throwsWith(() => conv2dFFT(x, w, null, { kernel_size: 3 } as any), ValueError, /^conv2dFFT: unknown option 'kernel_size'/);
    throwsWith(() => conv2dFFT([1, 2] as any, w), ValueError, /^conv2dFFT: input must be a Tensor/);
  });
});

describe("conv2d(..., { algorithm: 'fft' })", () => {
  test('dispatches to the FFT op (recorded as conv2dFFT) and matches the direct algorithm', () => {
    for (const c of CASES) {
      const x = randn(c.x, { generator: gen, requiresGrad: true });
      const w = randn(c.w, { generator: gen, requiresGrad: true });
      const b = c.bias ? randn([c.w[0]], { generator: gen, requiresGrad: true }) : null;
      const yf = conv2d(x, w, b, { ...c.options, algorithm: 'fft' });
      assert.equal(yf.gradFn?.name, 'conv2dFFT', describeCase(c));
      const yd = conv2d(x, w, b, { ...c.options, algorithm: 'direct' });
      assert.equal(yd.gradFn?.name, 'conv2d');
      assertClose(yf.data, yd.data, relToScale(1e-4, yd.data), describeCase(c));
      assert.deepEqual(yf.toFlatArray(), conv2dFFT(x, w, b, c.options).toFlatArray());
    }
  });

  test("nn.Conv2d takes the option: { algorithm: 'fft' } computes the same layer by FFTs", () => {
    const layer = new Conv2d(3, 4, 5, { padding: 2, algorithm: 'fft', generator: new Generator(1) });
    const twin = new Conv2d(3, 4, 5, { padding: 2, generator: new Generator(1) });
    const x = randn([2, 3, 9, 8], { generator: gen });
    const y = layer.forward(x);
    assert.equal(y.gradFn?.name, 'conv2dFFT');
    const expected = twin.forward(x).data;
    assertClose(y.data, expected, relToScale(1e-4, expected), 'layer');
  });

  test('3-D input through conv2d with the fft algorithm', () => {
    const x = randn([2, 7, 6], { generator: gen });
    const w = randn([3, 2, 3, 3], { generator: gen });
    const y = conv2d(x, w, null, { padding: 'same', algorithm: 'fft' });
    assert.deepEqual(y.shape, [3, 7, 6]);
    const expected = conv2d(x, w, null, { padding: 'same' }).data;
    assertClose(y.data, expected, relToScale(1e-4, expected), '3-D');
  });

  test('errors name conv2d: stride, padding mode, unknown algorithm', () => {
    const x = randn([1, 2, 6, 6], { generator: gen });
    const w = randn([3, 2, 3, 3], { generator: gen });
    assert.throws(() => conv2d(x, w, null, { stride: 2, algorithm: 'fft' }), (e: unknown) => e instanceof ValueError
      && /^conv2d: algorithm 'fft' supports stride 1 only; got stride 2; use algorithm 'direct' for strided convolution$/.test(e.message));
    assert.throws(() => conv2d(x, w, null, { padding: 1, paddingMode: 'circular', algorithm: 'fft' }), (e: unknown) => e instanceof ValueError
      && /^conv2d: algorithm 'fft' supports paddingMode 'zeros' only; got paddingMode 'circular'/.test(e.message));
    assert.throws(() => conv2d(x, w, null, { algorithm: 'winograd' } as any), (e: unknown) => e instanceof ValueError
      && /^conv2d: algorithm must be 'direct' or 'fft', got "winograd"$/.test(e.message));
    assert.throws(() => conv2d(x, w, null, { algorithm: 'fft', kernelSize: 3 } as any), (e: unknown) => e instanceof ValueError
      && /^conv2d: unknown option 'kernelSize'/.test(e.message));
  });

  test("without conv2dFFT loaded, algorithm 'fft' says how to load it", () => {
    // A fresh process that imports conv2d.ts alone (not the package index).
    const script = `
      import { conv2d } from './src/ops/conv2d.ts';
      import { randn } from './src/tensor/tensor.ts';
      try { conv2d(randn([1, 1, 4, 4]), randn([1, 1, 3, 3]), null, { algorithm: 'fft' }); console.log('no error'); }
      catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('../../..', import.meta.url), encoding: 'utf8' });
    assert.equal(out.trim(), "ValueError: conv2d: algorithm 'fft' is not loaded; import conv2dFFT (src/ops/conv2d-fft.ts) or the package index, which loads it");
  });
});
