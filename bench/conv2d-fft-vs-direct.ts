/**
 * Direct (im2col + GEMM) vs FFT convolution, by default on the ref backend.
 *   node --import tsx bench/conv2d-fft-vs-direct.ts [--quick] [--runs N] [--backend native|wasm]
 * 16 -> 16 channels, batch 4, stride 1, 'same' padding, kernel sizes 3, 5, 7,
 * 11, 15 on 64x64 and 128x128 images, float32. Prints a Markdown table of the
 * best of three wall times (ms; the minimum is the run least disturbed by other
 * processes) of the forward pass and of forward + backward (dL/dx, dL/dw,
 * dL/db), and the ratio direct / fft (> 1: FFT is faster).
 * --quick: one timed run per cell instead of three (for a smoke test); --runs N: N.
 * --backend: another backend for the direct algorithm (the FFT kernels of the
 * fast backends are, for now, the ref ones), to see how the crossover moves.
 */
import { backward } from '../src/autograd/backward.js';
import { getBackend, listBackends, setBackend } from '../src/backends/index.js';
import { conv2d } from '../src/ops/conv2d.js';
import { conv2dFFT } from '../src/ops/conv2d-fft.js';
import { Generator } from '../src/tensor/random.js';
import { Tensor, randn } from '../src/tensor/tensor.js';

type Conv = (x: Tensor, w: Tensor, b: Tensor) => Tensor;

const backendArg = process.argv.indexOf('--backend');
const backendName = backendArg >= 0 ? process.argv[backendArg + 1] : 'ref';
if (backendName !== 'ref' && !listBackends().includes(backendName)) await import('../src/node.js'); // registers native (and what else Node offers)
setBackend(backendName);
const quick = process.argv.includes('--quick');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : quick ? 1 : 3;
const sizes = [64, 128];
const kernels = [3, 5, 7, 11, 15];
const batch = 4;
const channels = 16;

/** Best (minimum) ms of `runs` calls of fn after one warm-up call. */
function time(fn: () => void): number {
  fn();
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return Math.min(...ms);
}

const direct: Conv = (x, w, b) => conv2d(x, w, b, { padding: 'same' });
const fft: Conv = (x, w, b) => conv2dFFT(x, w, b, { padding: 'same' });

function forward(conv: Conv, x: Tensor, w: Tensor, b: Tensor): void {
  conv(x.detach(), w.detach(), b.detach());
}

function training(conv: Conv, x: Tensor, w: Tensor, b: Tensor, gy: Tensor): void {
  x.grad = w.grad = b.grad = null;
  backward(conv(x, w, b), gy);
}

const gen = new Generator(0);
const fmt = (ms: number) => ms.toFixed(ms < 100 ? 1 : 0);
console.log(`backend ${getBackend().name}; ${channels} -> ${channels} channels, batch ${batch}, stride 1, padding 'same', float32; best of ${runs} run(s), ms\n`);
console.log('| image | k | direct fwd | fft fwd | direct/fft | direct fwd+bwd | fft fwd+bwd | direct/fft |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const size of sizes) {
  for (const k of kernels) {
    const x = randn([batch, channels, size, size], { generator: gen, requiresGrad: true });
    const w = randn([channels, channels, k, k], { generator: gen, std: 1 / Math.sqrt(channels * k * k), requiresGrad: true });
    const b = randn([channels], { generator: gen, requiresGrad: true });
    const gy = randn([batch, channels, size, size], { generator: gen });
    const dF = time(() => forward(direct, x, w, b));
    const fF = time(() => forward(fft, x, w, b));
    const dT = time(() => training(direct, x, w, b, gy));
    const fT = time(() => training(fft, x, w, b, gy));
    console.log(`| ${size}x${size} | ${k} | ${fmt(dF)} | ${fmt(fF)} | ${(dF / fF).toFixed(2)} | ${fmt(dT)} | ${fmt(fT)} | ${(dT / fT).toFixed(2)} |`);
  }
}
