/**
 * The `native` backend (OpenBLAS through koffi): its GEMM against a naive
 * triple loop written here, its convolution kernels against a naive direct
 * convolution written here and against the `ref` kernels (the oracle) over
 * strides, dilations, groups, asymmetric and oversized padding and chunking,
 * and the registration rules. Skipped, with the reason, where koffi or
 * OpenBLAS is missing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Conv2dGeometry } from '../../src/backends/backend.js';
import { getBackend, listBackends, preferBackend, setBackend } from '../../src/backends/index.js';
import { createNativeBackend, nativeAvailable, nativeBackend, nativeStatus, openBlasHandle, setNativeThreads, getNativeThreads } from '../../src/backends/native/index.js';
import { makeConvKernels } from '../../src/backends/native/conv.js';
import { ConvScratch, type ConvKernels } from '../../src/backends/native/conv-layout.js';
import { OPENBLAS_INSTALL_HINT, tryLoad } from '../../src/backends/native/openblas.js';
import { loadOneDnn, ONEDNN_INSTALL_HINT, tryLoadOneDnn } from '../../src/backends/native/onednn.js';
import { makeOneDnnConv } from '../../src/backends/native/onednn-conv.js';
import { makeOneDnnBatchNorm } from '../../src/backends/native/onednn-batch-norm.js';
import { makeOneDnnGemm } from '../../src/backends/native/onednn-matmul.js';
import { makeOneDnnReduction } from '../../src/backends/native/onednn-reduction.js';
import { makePlanCache, type Owned } from '../../src/backends/native/onednn-plan.js';
import { makeOneDnnEltwise, MIN_ELEMENTS } from '../../src/backends/native/onednn-elementwise.js';
import { registerNativeBackend } from '../../src/backends/native/register.js';
import { refBackend } from '../../src/backends/ref/index.js';
import { assertClose, naiveConv, uniformArray } from '../helpers/index.js';
import { reachedPadding } from '../../src/ops/conv2d.js';
import { LeNet5, backward, Generator, randn, tensor } from '../../src/index.js';
import { conv2d, crossEntropy } from '../../src/ops/index.js';

const available = nativeAvailable();
const skip = available ? false : nativeStatus(); // 'native backend unavailable: <why and how to install>'

/** Deterministic values in [-0.5, 0.5) from a seeded Generator. */
const values = (n: number, seed: number): Float32Array => uniformArray(n, seed, -0.5, 0.5);

/** C = alpha * op(A) op(B) + beta * C by the definition, in float64. */
function naiveGemm(
  tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, B: Float32Array, bOff: number, beta: number, C: Float32Array, cOff: number,
): Float64Array {
  const out = Float64Array.from(C);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = tA ? A[aOff + k * M + i] : A[aOff + i * K + k];
        const b = tB ? B[bOff + j * K + k] : B[bOff + k * N + j];
        s += a * b;
      }
      out[cOff + i * N + j] = alpha * s + (beta === 0 ? 0 : beta * C[cOff + i * N + j]);
    }
  }
  return out;
}

function geometry(
  batch: number, inC: number, inH: number, inW: number, outC: number, kH: number, kW: number,
  stride: [number, number], pad: [number, number, number, number], dilation: [number, number], groups: number,
  out?: [number, number],
): Conv2dGeometry {
  const [pT, pB, pL, pR] = pad;
  const [outH, outW] = out ?? [
    Math.floor((inH + pT + pB - dilation[0] * (kH - 1) - 1) / stride[0]) + 1,
    Math.floor((inW + pL + pR - dilation[1] * (kW - 1) - 1) / stride[1]) + 1,
  ];
  return {
    batch, inC, inH, inW, outC, kH, kW, strideH: stride[0], strideW: stride[1], padTop: pT, padLeft: pL,
    padBottom: reachedPadding(inH, kH, stride[0], pT, dilation[0], outH), padRight: reachedPadding(inW, kW, stride[1], pL, dilation[1], outW),
    dilationH: dilation[0], dilationW: dilation[1], groups, outH, outW,
  };
}

describe('native backend', { skip }, () => {
  const native = available ? nativeBackend()! : refBackend;
  const k = native.kernels;

  test('gemm matches the definition for odd sizes, every transpose, alpha, beta (1 accumulates on oneDNN) and offsets', () => {
    const sizes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [17, 13, 29], [64, 3, 1], [1, 40, 9], [33, 65, 130]];
    let seed = 1;
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        for (const [M, N, K] of sizes) {
          for (const [alpha, beta] of [[1, 0], [1, 1], [0.5, 1], [-2, 0.25]]) {
            const A = values(M * K + 3, seed++);
            const B = values(K * N + 2, seed++);
            const C = values(M * N + 5, seed++);
            const want = naiveGemm(tA, tB, M, N, K, alpha, A, 3, B, 2, beta, C, 5);
            k.gemm(tA, tB, M, N, K, alpha, A, 3, B, 2, beta, C, 5);
            assertClose(C, want, { atol: 1e-4 * Math.max(1, K) }, `gemm ${tA} ${tB} ${M}x${N}x${K} alpha ${alpha} beta ${beta}`);
          }
        }
      }
    }
  });

  test('gemm leaves values outside the target block alone and clears NaN with beta = 0', () => {
    const A = values(6, 1);
    const B = values(6, 2);
    const C = new Float32Array([7, NaN, NaN, NaN, NaN, 8]);
    k.gemm(false, false, 2, 2, 3, 1, A, 0, B, 0, 0, C, 1);
    const want = naiveGemm(false, false, 2, 2, 3, 1, A, 0, B, 0, 0, new Float32Array(6), 1);
    assert.equal(C[0], 7);
    assert.equal(C[5], 8);
    assertClose(C.subarray(1, 5), want.subarray(1, 5), { atol: 1e-6 });
  });

  test('gemm with K = 0 scales C by beta, and with alpha = 0 ignores A and B', () => {
    const C = new Float32Array([1, 2, 3, 4]);
    k.gemm(false, false, 2, 2, 0, 1, new Float32Array(0), 0, new Float32Array(0), 0, 0.5, C, 0);
    assert.deepEqual([...C], [0.5, 1, 1.5, 2]);
    const nanA = new Float32Array(4).fill(NaN);
    k.gemm(false, false, 2, 2, 2, 0, nanA, 0, nanA, 0, 2, C, 0);
    assert.deepEqual([...C], [1, 2, 3, 4]);
  });

  test('conv2d forward matches a direct convolution loop', () => {
    const g = geometry(2, 3, 6, 5, 4, 3, 2, [1, 1], [1, 0, 2, 1], [1, 2], 1);
    const x = values(g.batch * g.inC * g.inH * g.inW, 11);
    const w = values(g.outC * g.inC * g.kH * g.kW, 12);
    const b = values(g.outC, 13);
    const y = new Float32Array(g.batch * g.outC * g.outH * g.outW);
    k.conv2dForward(x, w, b, g, y);
    assertClose(y, naiveConv(x, w, b, g), { atol: 1e-5 });
  });

  const cases: [string, Conv2dGeometry][] = [
    ['3x3 pad 1', geometry(3, 4, 7, 6, 5, 3, 3, [1, 1], [1, 1, 1, 1], [1, 1], 1)],
    ['asymmetric padding, dilation, groups', geometry(3, 4, 9, 8, 6, 3, 2, [1, 1], [0, 2, 1, 0], [2, 1], 2)],
    ['1x1', geometry(2, 3, 5, 4, 2, 1, 1, [1, 1], [0, 0, 0, 0], [1, 1], 1)],
    ['stride 2', geometry(2, 3, 8, 7, 4, 3, 3, [2, 1], [1, 1, 1, 1], [1, 1], 1)],
    ['stride 2x3 with dilation', geometry(2, 2, 11, 12, 3, 2, 3, [2, 3], [1, 0, 2, 1], [2, 1], 1)],
    ['padding beyond the kernel', geometry(2, 2, 6, 6, 3, 3, 3, [1, 1], [3, 3, 4, 3], [1, 1], 1)],
    ['LeNet conv1 (1 -> 6, 5x5 pad 2)', geometry(3, 1, 28, 28, 6, 5, 5, [1, 1], [2, 2, 2, 2], [1, 1], 1)],
    ['LeNet conv2 (6 -> 16, 5x5)', geometry(3, 6, 14, 14, 16, 5, 5, [1, 1], [0, 0, 0, 0], [1, 1], 1)],
    ['depthwise', geometry(2, 4, 5, 5, 4, 3, 3, [1, 1], [1, 0, 0, 1], [1, 1], 4)],
    // convTranspose2d's geometry: the conv whose adjoint it is may never read the last rows / columns
    // of its input (outputPadding), i.e. outH and outW are smaller than the padding gives.
    ['output smaller than the padding gives (convTranspose2d outputPadding)', geometry(2, 2, 5, 6, 3, 2, 2, [1, 1], [0, 0, 1, 0], [2, 2], 1, [2, 3])],
    ['same width, dilated, uneven padding', geometry(2, 3, 6, 5, 4, 3, 3, [1, 1], [0, 2, 3, 1], [1, 2], 1)],
    ['same width, grouped, 2x4 kernel', geometry(2, 4, 5, 7, 6, 2, 4, [1, 1], [1, 0, 1, 2], [1, 1], 2)],
  ];

  // The convolution paths: oneDNN's primitives (when libdnnl is found) and the OpenBLAS layouts.
  const dnnlLoaded = available ? loadOneDnn() : null;
  const scratch = new ConvScratch();
  const convPaths: [string, (colBudget: number, flatMinMacs: number) => ConvKernels][] = available
    ? [['OpenBLAS', (colBudget, flatMinMacs) => makeConvKernels(openBlasHandle()!, scratch, { colBudget, flatMinMacs })]] : [];
  if (dnnlLoaded?.ok) {
    const onDnnl = makeOneDnnConv(dnnlLoaded.dnnl, refBackend.kernels).kernels;
    convPaths.push(['oneDNN', () => onDnnl]);
  }

  for (const [name, g] of cases) for (const [path, convKernels] of convPaths) {
    test(`conv2d kernels on ${path} match ref: ${name}; wide layout with the whole batch or one image per chunk, flat layout`, () => {
      const x = values(g.batch * g.inC * g.inH * g.inW, 21);
      const w = values((g.outC * g.inC / g.groups) * g.kH * g.kW, 22);
      const b = values(g.outC, 23);
      const gy = values(g.batch * g.outC * g.outH * g.outW, 24);
      const r = refBackend.kernels;
      const yRef = new Float32Array(gy.length);
      const gxRef = new Float32Array(x.length);
      const gwRef = new Float32Array(w.length);
      const gbRef = new Float32Array(g.outC);
      r.conv2dForward(x, w, b, g, yRef);
      r.conv2dBackwardInput(gy, w, g, gxRef);
      r.conv2dBackwardFilter(x, gy, g, gwRef, gbRef);
      try {
        for (const [budget, flatMin] of [[1, Infinity], [1 << 22, Infinity], [1 << 22, 0]]) {
          const kc = convKernels(budget, flatMin);
          // Outputs start as NaN: every element must be written.
          const y = new Float32Array(gy.length).fill(NaN);
          const gx = new Float32Array(x.length).fill(NaN);
          const gw = new Float32Array(w.length).fill(NaN);
          const gb = new Float32Array(g.outC).fill(NaN);
          kc.conv2dForward(x, w, b, g, y);
          kc.conv2dBackwardInput(gy, w, g, gx);
          kc.conv2dBackwardFilter(x, gy, g, gw, gb);
          assertClose(y, yRef, { atol: 1e-5 }, `forward, budget ${budget}`);
          assertClose(gx, gxRef, { atol: 1e-5 }, `backward input, budget ${budget}`);
          assertClose(gw, gwRef, { atol: 1e-4 }, `backward filter, budget ${budget}`);
          assertClose(gb, gbRef, { atol: 1e-4 }, `bias grad, budget ${budget}`);
          // Without bias the forward is the same minus b, and gb may be null.
          const y0 = new Float32Array(gy.length);
          kc.conv2dForward(x, w, null, g, y0);
          const ohw = g.outH * g.outW;
          assertClose(y0, yRef.map((v, i) => v - b[Math.floor(i / ohw) % g.outC]), { atol: 1e-5 });
          kc.conv2dBackwardFilter(x, gy, g, gw, null);
          assertClose(gw, gwRef, { atol: 1e-4 });
        }
      } finally {
        scratch.release();
      }
    });
  }

  test('relu and its gradient match ref bit for bit, NaN, infinities, signed zeros and denormals included', () => {
    const special = [1, -1, 0, -0, NaN, -NaN, Infinity, -Infinity, 1e-45, -1e-45, 3.4e38, -3.4e38];
    const x = Float32Array.from([...special, ...values(1000, 31)]);
    const gy = Float32Array.from([...special.map((_, i) => i - 5), ...values(1000, 32)]);
    const y1 = new Float32Array(x.length);
    const y2 = new Float32Array(x.length).fill(7);
    refBackend.kernels.unary('relu', x, y1, {});
    k.unary('relu', x, y2, {});
    assert.deepEqual([...y2], [...y1]);
    // By hand: positive values pass, everything else (NaN, -0, negatives) gives 0.
    assert.deepEqual([...y2.subarray(0, special.length)], [1, 0, 0, 0, 0, 0, Infinity, 0, Math.fround(1e-45), 0, Math.fround(3.4e38), 0]);
    assert.ok(Object.is(y2[3], 0), 'relu(-0) is +0, as the reference gives 0');
    const g1 = new Float32Array(x.length);
    const g2 = new Float32Array(x.length).fill(7);
    refBackend.kernels.unaryBackward('relu', x, y1, gy, g1, {});
    k.unaryBackward('relu', x, y2, gy, g2, {});
    assert.deepEqual([...g2], [...g1]);
    // Other ops still go to the base kernels.
    const e1 = new Float32Array(4);
    k.unary('exp', Float32Array.from([0, 1, -1, 2]), e1, {});
    assertClose(e1, [1, Math.E, 1 / Math.E, Math.E ** 2], { atol: 1e-6 });
  });

  test('2x2 stride-2 max pooling matches ref with ties, NaNs and odd sizes', () => {
    const inH = 7;
    const inW = 9;
    const planes = 3;
    const x = values(planes * inH * inW, 41).map((v) => Math.round(v * 4) / 4); // many ties
    x[0] = NaN;
    x[inW + 3] = NaN;
    x[2 * inW + 5] = Infinity;
    x[20] = -Infinity;
    const g = { planes, inH, inW, kH: 2, kW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: 3, outW: 4 };
    const y1 = new Float32Array(planes * 12);
    const y2 = new Float32Array(planes * 12);
    const a1 = new Int32Array(planes * 12);
    const a2 = new Int32Array(planes * 12);
    refBackend.kernels.maxPool2dForward(x, g, y1, a1);
    k.maxPool2dForward(x, g, y2, a2);
    assert.deepEqual([...y2], [...y1]);
    assert.deepEqual([...a2], [...a1]);
    assert.ok(Number.isNaN(y2[0]) && a2[0] === 0);
  });

  test('over a wasm base, single-input-channel convolutions and the non-BLAS kernels go to the base', () => {
    const calls: string[] = [];
    const kernels = { ...refBackend.kernels };
    for (const name of ['conv2dForward', 'conv2dBackwardInput', 'conv2dBackwardFilter', 'batchNorm2dForward'] as const) {
      const f = refBackend.kernels[name] as (...a: unknown[]) => void;
      (kernels as Record<string, unknown>)[name] = (...a: unknown[]) => {
        calls.push(name);
        f(...a);
      };
    }
    const composed = createNativeBackend(openBlasHandle()!, { backend: { name: 'wasm', kernels }, kernels, wasm: true });
    const single = geometry(2, 1, 6, 6, 3, 3, 3, [1, 1], [1, 1, 1, 1], [1, 1], 1);
    const multi = geometry(2, 2, 6, 6, 3, 3, 3, [1, 1], [1, 1, 1, 1], [1, 1], 1);
    for (const g of [single, multi]) {
      const x = values(g.batch * g.inC * 36, 51);
      const w = values(g.outC * g.inC * 9, 52);
      const y = new Float32Array(g.batch * g.outC * 36);
      composed.kernels.conv2dForward(x, w, null, g, y);
      composed.kernels.conv2dBackwardInput(y, w, g, new Float32Array(x.length));
      composed.kernels.conv2dBackwardFilter(x, y, g, new Float32Array(w.length), null);
    }
    // Only the single-channel layer's three passes reached the base.
    assert.deepEqual(calls, ['conv2dForward', 'conv2dBackwardInput', 'conv2dBackwardFilter']);
    const x = values(8, 53);
    composed.kernels.batchNorm2dForward(x, new Float32Array(2), new Float32Array([1, 1]), null, null, { batch: 1, channels: 2, spatial: 4 }, new Float32Array(8));
    assert.equal(calls[calls.length - 1], 'batchNorm2dForward');
  });

  test('small products run on one thread and leave the thread count as set', () => {
    const before = getNativeThreads();
    try {
      setNativeThreads(2);
      const A = values(12, 61);
      const C = new Float32Array(9);
      k.gemm(false, false, 3, 3, 4, 1, A, 0, A, 0, 0, C, 0);
      assert.equal(getNativeThreads(), 2);
      assertClose(C, naiveGemm(false, false, 3, 3, 4, 1, A, 0, A, 0, 0, new Float32Array(9), 0), { atol: 1e-6 });
    } finally {
      setNativeThreads(before);
    }
  });

  test('float64 arrays go to the reference kernels unchanged', () => {
    const A = Float64Array.from([1, 2, 3, 4]);
    const C = new Float64Array(4);
    k.gemm(false, false, 2, 2, 2, 1, A, 0, A, 0, 0, C, 0);
    assert.deepEqual([...C], [7, 10, 15, 22]);
  });

  test('a LeNet-5 training step on native gives the loss and gradients of ref', () => {
    const run = (backend: string) => {
      setBackend(backend);
      const model = new LeNet5({ generator: new Generator(5) });
      const x = randn([4, 1, 28, 28], { generator: new Generator(6) });
      const loss = crossEntropy(model.forward(x), tensor([1, 7, 3, 0]));
      backward(loss);
      return { loss: loss.item(), grads: model.parameters().map((p) => Float32Array.from(p.grad!.data)) };
    };
    const before = getBackend().name;
    try {
      registerNativeBackend({ makeDefault: false });
      const a = run('ref');
      const b = run('native');
      assert.ok(Math.abs(a.loss - b.loss) < 1e-5);
      a.grads.forEach((g, i) => assertClose(g, b.grads[i], { atol: 1e-4 }, `parameter ${i}`));
    } finally {
      setBackend(before);
    }
  });

  test('conv2d through the op gives the same values and gradients on native and ref', () => {
    const x = randn([2, 3, 9, 9], { generator: new Generator(1) }).requiresGrad_();
    const w = randn([4, 3, 3, 3], { generator: new Generator(2) }).requiresGrad_();
    const run = (backend: string) => {
      setBackend(backend);
      x.grad = null;
      w.grad = null;
      const y = conv2d(x, w, null, { padding: 1, stride: 2 });
      backward(y, randn(y.shape, { generator: new Generator(3) }));
      return [Float32Array.from(y.data), Float32Array.from(x.grad!.data), Float32Array.from(w.grad!.data)];
    };
    const before = getBackend().name;
    try {
      registerNativeBackend({ makeDefault: false });
      const a = run('ref');
      const b = run('native');
      a.forEach((v, i) => assertClose(v, b[i], { atol: 1e-4 }, `output ${i}`));
    } finally {
      setBackend(before);
    }
  });

  describe('convolution on oneDNN', { skip: dnnlLoaded?.ok ? false : `oneDNN not loaded: ${dnnlLoaded?.ok === false ? dnnlLoaded.reason : 'native backend unavailable'}` }, () => {
    const dnnl = dnnlLoaded?.ok ? dnnlLoaded.dnnl : null;

    test('every geometry of the kernel tests but one gets a oneDNN primitive in all three passes (none falls back silently)', () => {
      const conv = makeOneDnnConv(dnnl!, refBackend.kernels);
      // oneDNN 2.6 refuses a stride-1 geometry whose output ends before the padded input does
      // (negative right padding); that one goes to the fallback, which the cases above check.
      const refused = 'output smaller than the padding gives (convTranspose2d outputPadding)';
      for (const [name, g] of cases) {
        for (const pass of ['forward', 'backwardInput', 'backwardFilter'] as const) {
          const impl = conv.implementation(pass, g, pass !== 'backwardInput');
          if (name === refused) assert.equal(impl, null, `${name}: ${pass}`);
          else assert.ok(impl !== null && impl.length > 0, `${name}: ${pass} has no oneDNN primitive`);
        }
      }
      conv.release();
    });

    test('a ResNet-block convolution (64 -> 64, 3x3 pad 1, where oneDNN may pick Winograd) matches ref in all three passes', () => {
      const g = geometry(2, 64, 12, 12, 64, 3, 3, [1, 1], [1, 1, 1, 1], [1, 1], 1);
      const conv = makeOneDnnConv(dnnl!, refBackend.kernels);
      const x = values(g.batch * g.inC * g.inH * g.inW, 81);
      const w = values(g.outC * g.inC * 9, 82).map((v) => v / 8);
      const b = values(g.outC, 83);
      const gy = values(g.batch * g.outC * g.outH * g.outW, 84);
      const r = refBackend.kernels;
      const want = { y: new Float32Array(gy.length), gx: new Float32Array(x.length), gw: new Float32Array(w.length), gb: new Float32Array(g.outC) };
      r.conv2dForward(x, w, b, g, want.y);
      r.conv2dBackwardInput(gy, w, g, want.gx);
      r.conv2dBackwardFilter(x, gy, g, want.gw, want.gb);
      const got = { y: new Float32Array(gy.length).fill(NaN), gx: new Float32Array(x.length).fill(NaN), gw: new Float32Array(w.length).fill(NaN), gb: new Float32Array(g.outC).fill(NaN) };
      conv.kernels.conv2dForward(x, w, b, g, got.y);
      conv.kernels.conv2dBackwardInput(gy, w, g, got.gx);
      conv.kernels.conv2dBackwardFilter(x, gy, g, got.gw, got.gb);
      // sums of 576 products of values below 0.5 (y, gx) and of 288 (gw per image): float32 rounding ~1e-5
      assertClose(got.y, want.y, { atol: 1e-4 }, `forward (${conv.implementation('forward', g, true)})`);
      assertClose(got.gx, want.gx, { atol: 1e-4 }, `backward input (${conv.implementation('backwardInput', g, false)})`);
      assertClose(got.gw, want.gw, { atol: 1e-3 }, 'backward filter');
      assertClose(got.gb, want.gb, { atol: 1e-4 }, 'bias gradient');
      conv.release();
    });

    test('float64 arrays go to the fallback kernels, float32 ones do not', () => {
      const calls: string[] = [];
      const spy = {
        conv2dForward: (...a: Parameters<typeof refBackend.kernels.conv2dForward>) => { calls.push('forward'); refBackend.kernels.conv2dForward(...a); },
        conv2dForwardFused: (...a: Parameters<typeof refBackend.kernels.conv2dForwardFused>) => { calls.push('fused'); refBackend.kernels.conv2dForwardFused(...a); },
        conv2dBackwardInput: (...a: Parameters<typeof refBackend.kernels.conv2dBackwardInput>) => { calls.push('input'); refBackend.kernels.conv2dBackwardInput(...a); },
        conv2dBackwardFilter: (...a: Parameters<typeof refBackend.kernels.conv2dBackwardFilter>) => { calls.push('filter'); refBackend.kernels.conv2dBackwardFilter(...a); },
      };
      const conv = makeOneDnnConv(dnnl!, spy);
      const g = cases[0][1];
      const n = g.batch * g.inC * g.inH * g.inW;
      const x32 = values(n, 91);
      const w32 = values(g.outC * g.inC * g.kH * g.kW, 92);
      const y32 = new Float32Array(g.batch * g.outC * g.outH * g.outW);
      conv.kernels.conv2dForward(x32, w32, null, g, y32);
      assert.deepEqual(calls, []);
      const y64 = new Float64Array(y32.length);
      conv.kernels.conv2dForward(Float64Array.from(x32), Float64Array.from(w32), null, g, y64);
      assert.deepEqual(calls, ['forward']);
      assertClose(y64, y32, { atol: 1e-5 }, 'float64 fallback and float32 oneDNN agree');
      conv.release();
    });

    test('more geometries than the plan cache holds: evicted plans are rebuilt and results stay right', () => {
      const conv = makeOneDnnConv(dnnl!, refBackend.kernels);
      // 60 widths > 48 cached plans; each width is run twice, far apart, so the second run rebuilds it
      for (const round of [0, 1]) {
        for (let inW = 3; inW < 63; inW++) {
          const g = geometry(1, 2, 4, inW, 3, 3, 3, [1, 1], [1, 1, 1, 1], [1, 1], 1);
          const x = values(2 * 4 * inW, inW + round);
          const w = values(3 * 2 * 9, 7);
          const y = new Float32Array(3 * g.outH * g.outW).fill(NaN);
          conv.kernels.conv2dForward(x, w, null, g, y);
          assertClose(y, naiveConv(x, w, null, g), { atol: 1e-5 }, `width ${inW}, round ${round}`);
        }
      }
      conv.release();
    });

    test('batch norm on oneDNN matches ref on every path: binary maps and plane sums on NCHW, blocked and NCHW plans; statistics, forward with and without weight and bias, gradients with batch and running statistics', () => {
      const r = refBackend.kernels;
      // 64 channels: nChw16c; 24 and 5: blocked by 8, 5 padded to a block; a ResNet-sized one for the JIT kernels' full vectors
      const geometries = [{ batch: 3, channels: 5, spatial: 14 }, { batch: 2, channels: 24, spatial: 9 }, { batch: 4, channels: 64, spatial: 64 }];
      const variants = {
        'binary maps, blocked statistics': makeOneDnnBatchNorm(dnnl!, r),
        'blocked plans only': makeOneDnnBatchNorm(dnnl!, r, { binary: false }),
        'NCHW plans only': makeOneDnnBatchNorm(dnnl!, r, { binary: false, blocked: false }),
      };
      const fallbackRan = (name: string) => () => assert.fail(`the fallback ${name} ran`);
      const spy = makeOneDnnBatchNorm(dnnl!, { batchNormStats: fallbackRan('batchNormStats'), batchNorm2dForward: fallbackRan('batchNorm2dForward'), batchNorm2dBackward: fallbackRan('batchNorm2dBackward') });
      for (const [gi, g] of geometries.entries()) {
        const n = g.batch * g.channels * g.spatial;
        const C = g.channels;
        // an offset mean, so that statistics computed in one pass (sum of squares) would lose digits
        const x = values(n, 101 + gi).map((v) => 3 + 2 * v);
        const mean = values(C, 102).map((v) => 3 + v);
        const invstd = values(C, 103).map((v) => 1.5 + v); // 1..2
        const weight = values(C, 104).map((v) => 2 * v);
        const bias = values(C, 105);
        const gy = values(n, 106);
        assert.equal(variants['binary maps, blocked statistics'].layout(g), C % 16 === 0 ? 'nChw16c' : 'nChw8c', `channels ${C} get a blocked layout`);
        assert.equal(variants['NCHW plans only'].layout(g), 'nchw');
        const wantMean = new Float32Array(C);
        const wantVar = new Float32Array(C);
        r.batchNormStats(x, g, wantMean, wantVar);
        for (const [name, bn] of [...Object.entries(variants), ['no fallback', spy] as const]) {
          const k = bn.kernels;
          const what = `${name}, ${C} channels`;
          const gotMean = new Float32Array(C).fill(NaN);
          const gotVar = new Float32Array(C).fill(NaN);
          if (name !== 'NCHW plans only') {
            // NCHW plans leave the statistics to the fallback
            k.batchNormStats(x, g, gotMean, gotVar);
            assertClose(gotMean, wantMean, { atol: 1e-5 }, `mean, ${what}`);
            assertClose(gotVar, wantVar, { atol: 1e-5 }, `variance, ${what}`);
          }
          for (const [w, b] of [[weight, bias], [null, null], [weight, null], [null, bias]] as const) {
            const want = new Float32Array(n);
            const got = new Float32Array(n).fill(NaN);
            r.batchNorm2dForward(x, mean, invstd, w, b, g, want);
            k.batchNorm2dForward(x, mean, invstd, w, b, g, got);
            assertClose(got, want, { atol: 1e-5 }, `forward, weight ${w !== null}, bias ${b !== null}, ${what}`);
          }
          for (const training of [true, false]) {
            for (const params of [true, false]) {
              for (const w of [weight, null]) {
                const want = { gx: new Float32Array(n), gw: params ? new Float32Array(C) : null, gb: params ? new Float32Array(C) : null };
                const got = { gx: new Float32Array(n).fill(NaN), gw: params ? new Float32Array(C).fill(NaN) : null, gb: params ? new Float32Array(C).fill(NaN) : null };
                r.batchNorm2dBackward(x, gy, mean, invstd, w, g, training, want.gx, want.gw, want.gb);
                k.batchNorm2dBackward(x, gy, mean, invstd, w, g, training, got.gx, got.gw, got.gb);
                const about = `training ${training}, parameter gradients ${params}, weight ${w !== null}, ${what}`;
                assertClose(got.gx, want.gx, { atol: 1e-5 }, `gx, ${about}`);
                if (params) {
                  assertClose(got.gw!, want.gw!, { atol: 1e-4, rtol: 1e-5 }, `gweight, ${about}`);
                  assertClose(got.gb!, want.gb!, { atol: 1e-4, rtol: 1e-5 }, `gbias, ${about}`);
                }
              }
            }
          }
        }
      }
      for (const bn of [...Object.values(variants), spy]) bn.release();
    });

    test('global average pooling on oneDNN (a mean reduction) matches ref, its gradient (an outer product) bit for bit; other output sizes and small inputs go to the fallback', () => {
      const r = refBackend.kernels;
      const calls: string[] = [];
      const red = makeOneDnnReduction(dnnl!, {
        adaptiveAvgPool2dForward: (...a) => { calls.push('forward'); r.adaptiveAvgPool2dForward(...a); },
        adaptiveAvgPool2dBackward: (...a) => { calls.push('backward'); r.adaptiveAvgPool2dBackward(...a); },
      });
      const g = { planes: 2 * 67, inH: 31, inW: 33, outH: 1, outW: 1 }; // 1,023 values a plane, not a multiple of a vector
      assert.ok(red.implementation(g.planes, g.inH * g.inW)?.includes('jit'), 'a JIT kernel reduces the planes');
      const x = values(g.planes * g.inH * g.inW, 111).map((v) => 5 + v);
      const want = new Float32Array(g.planes);
      const got = new Float32Array(g.planes).fill(NaN);
      r.adaptiveAvgPool2dForward(x, g, want);
      red.kernels.adaptiveAvgPool2dForward(x, g, got);
      assertClose(got, want, { atol: 2e-6 }, 'plane means');
      const gy = values(g.planes, 112);
      const wantGx = new Float32Array(x.length);
      const gotGx = new Float32Array(x.length).fill(NaN);
      r.adaptiveAvgPool2dBackward(gy, g, wantGx);
      red.kernels.adaptiveAvgPool2dBackward(gy, g, gotGx);
      assert.deepEqual(gotGx, wantGx, 'gradient');
      assert.deepEqual(calls, []);
      red.kernels.adaptiveAvgPool2dForward(x, { ...g, outH: 2, outW: 2 }, new Float32Array(4 * g.planes));
      red.kernels.adaptiveAvgPool2dBackward(values(4 * g.planes, 113), { ...g, outH: 2, outW: 2 }, new Float32Array(x.length));
      const small = { planes: 2, inH: 8, inW: 8, outH: 1, outW: 1 };
      red.kernels.adaptiveAvgPool2dForward(x.subarray(0, 2 * 64), small, new Float32Array(2));
      red.kernels.adaptiveAvgPool2dBackward(gy.subarray(0, 2), small, new Float32Array(2 * 64));
      assert.deepEqual(calls, ['forward', 'backward', 'forward', 'backward']);
      red.release();
    });

    test('matrix products on oneDNN: every transpose Stride uses gets a primitive and matches the definition', () => {
      const mm = makeOneDnnGemm(dnnl!, () => assert.fail('the OpenBLAS fallback ran'));
      for (const [tA, tB] of [[false, true], [false, false], [true, false]] as const) {
        for (const [M, N, K] of [[64, 120, 400], [7, 3, 5], [1, 1, 1]]) {
          assert.ok(mm.implementation(tA, tB, M, N, K), `${tA} ${tB} ${M}x${N}x${K} has a primitive`);
          const A = values(M * K + 4, M + N);
          const B = values(K * N + 6, K);
          const C = new Float32Array(M * N + 2).fill(NaN);
          mm.gemm(tA, tB, M, N, K, 1, A, 4, B, 6, 0, C, 2);
          const want = naiveGemm(tA, tB, M, N, K, 1, A, 4, B, 6, 0, new Float32Array(M * N + 2), 2);
          assertClose(C.subarray(2), want.subarray(2), { atol: 1e-5 * Math.max(1, K) }, `${tA} ${tB} ${M}x${N}x${K}`);
          assert.ok(Number.isNaN(C[0]) && Number.isNaN(C[1]), 'values before the offset are left alone');
        }
      }
      mm.release();
    });

    test('ReLU, its gradient and same-shape addition on oneDNN match ref (bit for bit but the sign of zero gradients), NaN, infinities, signed zeros and denormals included', () => {
      const calls: string[] = [];
      const r = refBackend.kernels;
      const el = makeOneDnnEltwise(dnnl!, {
        unary: (...a) => { calls.push('unary'); r.unary(...a); },
        unaryBackward: (...a) => { calls.push('unaryBackward'); r.unaryBackward(...a); },
        binary: (...a) => { calls.push('binary'); r.binary(...a); },
      }).kernels;
      const special = [1, -1, 0, -0, NaN, -NaN, Infinity, -Infinity, 1e-45, -1e-45, 3.4e38, -3.4e38];
      // large enough for oneDNN, not a multiple of any vector width; specials at the start, in the middle and in the tail
      const n = MIN_ELEMENTS + 37;
      const x = values(n, 41);
      const gy = values(n, 42);
      for (const at of [0, 5000, n - special.length]) special.forEach((v, i) => { x[at + i] = v; gy[at + i] = i - 5; });
      const want = { y: new Float32Array(n), g: new Float32Array(n), s: new Float32Array(n) };
      const got = { y: new Float32Array(n).fill(7), g: new Float32Array(n).fill(7), s: new Float32Array(n).fill(7) };
      r.unary('relu', x, want.y, {});
      r.unaryBackward('relu', x, want.y, gy, want.g, {});
      r.binary('add', x, [n], gy, [n], want.s, [n]);
      el.unary('relu', x, got.y, {});
      el.unaryBackward('relu', x, got.y, gy, got.g, {});
      el.binary('add', x, [n], gy, [n], got.s, [n]);
      assert.deepEqual(calls, [], 'all three ran on oneDNN');
      for (const key of ['y', 'g', 's'] as const) {
        for (let i = 0; i < n; i++) {
          // the gradient's zeros are gy * 0 in oneDNN, so they carry gy's sign (-0 where gy < 0)
          const same = key === 'g' && got.g[i] === 0 ? want.g[i] === 0 : Object.is(got[key][i], want[key][i]);
          if (!same) assert.fail(`${key}[${i}]: oneDNN ${got[key][i]}, ref ${want[key][i]} (x ${x[i]}, gy ${gy[i]})`);
        }
      }
      // small arrays, broadcasting and other ops go to the fallback
      el.unary('relu', x.subarray(0, 100), new Float32Array(100), {});
      el.binary('add', x, [n], gy.subarray(0, 1), [1], new Float32Array(n), [n]);
      el.unary('exp', x, new Float32Array(n), {});
      assert.deepEqual(calls, ['unary', 'binary', 'unary']);
    });

    test('setNativeThreads sets the OpenMP threads oneDNN runs on', () => {
      const before = getNativeThreads();
      try {
        setNativeThreads(1);
        assert.equal(dnnl!.getThreads(), 1);
        setNativeThreads(2);
        assert.equal(dnnl!.getThreads(), 2);
      } finally {
        setNativeThreads(before);
      }
    });
  });

  test('registration makes native available and setNativeThreads sets the OpenBLAS thread count', () => {
    assert.equal(registerNativeBackend(), true);
    assert.ok(listBackends().includes('native'));
    const before = getNativeThreads();
    setNativeThreads(1);
    assert.equal(getNativeThreads(), 1);
    setNativeThreads(before);
    assert.equal(getNativeThreads(), before);
    assert.match(nativeStatus(), /OpenBLAS .* from .*, \d+ threads?/);
  });

  test('preferBackend does not override a backend chosen with setBackend', () => {
    const before = getBackend().name;
    try {
      registerNativeBackend({ makeDefault: false });
      setBackend('ref');
      assert.equal(preferBackend('native'), false);
      assert.equal(getBackend().name, 'ref');
      assert.equal(preferBackend('no-such-backend'), false);
    } finally {
      setBackend(before);
    }
  });
});

describe('native backend loading', () => {
  test('a missing oneDNN gives the reason and the command that installs it', () => {
    const r = tryLoadOneDnn(['/nonexistent/libdnnl.so.2']);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.match(r.reason, /libdnnl\.so\.2 not found/);
      assert.ok(r.reason.includes(ONEDNN_INSTALL_HINT), r.reason);
    }
  });

  test('a missing library gives the reason and the command that installs it', () => {
    const r = tryLoad(['/nonexistent/libopenblas.so.0', 'libstride-no-such-blas.so.9']);
    assert.equal(r.ok, false);
    if (r.ok) return;
    if (r.reason.includes('koffi')) {
      assert.match(r.reason, /npm install koffi/);
    } else {
      assert.match(r.reason, /libopenblas\.so\.0 not found/);
      assert.ok(r.reason.includes(OPENBLAS_INSTALL_HINT));
      assert.match(OPENBLAS_INSTALL_HINT, /apt-get install libopenblas0-pthread/);
    }
  });

  test('nativeStatus is one line either way', () => {
    const s = nativeStatus();
    assert.ok(!s.includes('\n'));
    if (!available) assert.match(s, /^native backend unavailable: /);
  });
});

describe('oneDNN plan cache', () => {
  /** A plan whose owned lists carry its name, so destroy() records which plan it freed. */
  const planOf = (name: string, owned: Owned) => {
    owned.descs.push(name as never);
    return { name, owned };
  };

  test('keeps the most recently used plans, destroys the oldest beyond its limit, and builds each key once', () => {
    const destroyed: string[] = [];
    const cache = makePlanCache<{ name: string; owned: Owned }>(2, (o) => destroyed.push(...(o.descs as unknown as string[])));
    let builds = 0;
    const get = (k: string) => cache.get(k, (owned) => (builds++, planOf(k, owned)))!.name;
    assert.equal(get('a'), 'a');
    assert.equal(get('b'), 'b');
    assert.equal(get('a'), 'a'); // a hit: 'a' is now the most recent, 'b' the oldest
    assert.equal(builds, 2);
    assert.equal(get('c'), 'c'); // evicts 'b', not 'a'
    assert.deepEqual(destroyed, ['b']);
    assert.equal(get('a'), 'a');
    assert.equal(builds, 3);
    cache.clear();
    assert.deepEqual(destroyed.sort(), ['a', 'b', 'c']);
  });

  test('a build that throws frees what it made, is remembered as null and is not retried', () => {
    const destroyed: string[] = [];
    const cache = makePlanCache<{ name: string; owned: Owned }>(4, (o) => destroyed.push(...(o.descs as unknown as string[])));
    let builds = 0;
    const refuse = (owned: Owned): { name: string; owned: Owned } => {
      builds++;
      owned.descs.push('half-built' as never);
      throw new Error('unimplemented');
    };
    assert.equal(cache.get('x', refuse), null);
    assert.deepEqual(destroyed, ['half-built']);
    assert.equal(cache.get('x', refuse), null);
    assert.equal(builds, 1);
  });
});
