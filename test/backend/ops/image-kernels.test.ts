/**
 * Classic image kernels: the preset values (as in the lectures), and their
 * effect on small hand-made images, every expected number computed by hand in
 * the comments.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, ShapeError, Tensor, ValueError, gradcheck, nn, randn, tensor } from '../../../src/index.js';
import { type ImageKernelName } from '../../../src/nn/index.js';
import { Conv2d, applyImageKernel, imageKernels, init, kernelTensor } from '../../../src/nn/index.js';
import { conv2d } from '../../../src/ops/index.js';
import { assertClose } from '../../helpers/index.js';

const gen = new Generator(4);

/** A 5x5 image, dark on the left (columns 0-1 = 0), bright on the right (columns 2-4 = 1): a vertical edge. */
const EDGE = [0, 1, 2, 3, 4].map(() => [0, 0, 1, 1, 1]);

function rows(t: Tensor): number[][] {
  return t.toArray() as number[][];
}

describe('imageKernels', () => {
  test('the presets hold the lectures\' values (and the standard Sobel pair)', () => {
    assert.deepEqual(imageKernels.identity, [[0, 0, 0], [0, 1, 0], [0, 0, 0]]);
    assert.deepEqual(imageKernels.edgeDetection4, [[0, 1, 0], [1, -4, 1], [0, 1, 0]]);
    assert.deepEqual(imageKernels.edgeDetection8, [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]);
    assert.deepEqual(imageKernels.sharpen, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]);
    assert.deepEqual(imageKernels.boxBlur, [[1 / 9, 1 / 9, 1 / 9], [1 / 9, 1 / 9, 1 / 9], [1 / 9, 1 / 9, 1 / 9]]);
    assert.deepEqual(imageKernels.gaussianBlur, [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]]);
    assert.deepEqual(imageKernels.emboss, [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]);
    assert.deepEqual(imageKernels.sobelX, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]);
    assert.deepEqual(imageKernels.sobelY, [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]);
    assert.equal(Object.keys(imageKernels).length, 9);
  });

  test('the presets cannot be changed by accident', () => {
    assert.ok(Object.isFrozen(imageKernels));
    assert.ok(Object.isFrozen(imageKernels.sharpen) && Object.isFrozen(imageKernels.sharpen[1]));
  });
});

describe('applyImageKernel', () => {
  test('identity returns the input exactly, for [H, W], [C, H, W] and [N, C, H, W]', () => {
    for (const shape of [[5, 5], [3, 4, 6], [2, 3, 5, 4]]) {
      const x = randn(shape, { generator: gen });
      const y = applyImageKernel(x, 'identity');
      assert.deepEqual(y.shape, shape);
      assert.deepEqual(y.toFlatArray(), x.toFlatArray());
    }
  });

  test('a vertical edge (dark left, bright right), valid padding: every kernel by hand', () => {
    // All rows are alike, so each output is sum over kernel columns of
    // (column sum of K) * x[j-1 + v], with x = 0, 0, 1, 1, 1 along a row and
    // centre columns j = 1, 2, 3:
    const expected: Record<ImageKernelName, number[]> = {
      identity: [0, 1, 1],
      // column sums (1, -2, 1): x[j-1] - 2x[j] + x[j+1] -> 0-0+1, 0-2+1, 1-2+1
      edgeDetection4: [1, -1, 0],
      // column sums (-3, 6, -3): -3x[j-1] + 6x[j] - 3x[j+1] -> -3, 3, 0
      edgeDetection8: [-3, 3, 0],
      // column sums (-1, 3, -1): -x[j-1] + 3x[j] - x[j+1] -> -1, 2, 1
      sharpen: [-1, 2, 1],
      // (x[j-1] + x[j] + x[j+1]) / 3 -> 1/3, 2/3, 1
      boxBlur: [1 / 3, 2 / 3, 1],
      // column sums (4, 8, 4) / 16 -> 4/16, 12/16, 16/16
      gaussianBlur: [0.25, 0.75, 1],
      // column sums (-3, 1, 3): -3x[j-1] + x[j] + 3x[j+1] -> 3, 4, 1
      emboss: [3, 4, 1],
      // column sums (-4, 0, 4): 4 (x[j+1] - x[j-1]) -> 4, 4, 0: positive, the image brightens to the right
      sobelX: [4, 4, 0],
      // row sums (-4, 0, 4) and rows are alike -> 0
      sobelY: [0, 0, 0],
    };
    const img = tensor(EDGE);
    for (const name of Object.keys(expected) as ImageKernelName[]) {
      const y = applyImageKernel(img, name, { padding: 'valid' });
      assert.deepEqual(y.shape, [3, 3]);
      assertClose((rows(y)).flat(), ([expected[name], expected[name], expected[name]]).flat(), { atol: 1e-6 }, name);
    }
  });

  test('Sobel signs: sobelX is negative for a bright-to-dark edge, sobelY responds to horizontal edges only', () => {
    const reversed = tensor(EDGE.map((r) => r.map((v) => 1 - v))); // bright left, dark right
    assert.deepEqual(rows(applyImageKernel(reversed, 'sobelX', { padding: 0 })), [[-4, -4, 0], [-4, -4, 0], [-4, -4, 0]]);
    const horizontal = tensor([0, 1, 2, 3, 4].map((i) => new Array(5).fill(i >= 2 ? 1 : 0))); // dark top, bright bottom
    // 4 (x[i+1] - x[i-1]) down the rows i = 1, 2, 3 -> 4, 4, 0
    assert.deepEqual(rows(applyImageKernel(horizontal, 'sobelY', { padding: 0 })), [[4, 4, 4], [4, 4, 4], [0, 0, 0]]);
    assert.deepEqual(rows(applyImageKernel(horizontal, 'sobelX', { padding: 0 })), [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  });

  test('a constant image: blurs, sharpen and emboss keep it, edge detectors give 0 inside; zero padding changes the border as computed by hand', () => {
    const c = 7;
    const img = tensor(new Array(5).fill(0).map(() => new Array(5).fill(c)));
    const inside = (t: Tensor) => rows(t).slice(1, 4).map((r) => r.slice(1, 4));
    const flat = (v: number) => [[v, v, v], [v, v, v], [v, v, v]];
    for (const name of ['boxBlur', 'gaussianBlur', 'sharpen', 'emboss', 'identity'] as const) {
      assertClose((inside(applyImageKernel(img, name))).flat(), (flat(c)).flat(), { atol: 1e-5 }, name);
    }
    for (const name of ['edgeDetection4', 'edgeDetection8', 'sobelX', 'sobelY'] as const) {
      assert.deepEqual(inside(applyImageKernel(img, name)), flat(0), name);
    }
    // Corners with zero padding: only the 2x2 block of taps at the kernel's bottom-right
    // (for the top-left corner) sees the image.
    const corner = (name: ImageKernelName) => rows(applyImageKernel(img, name))[0][0];
    assert.ok(Math.abs(corner('boxBlur') - (4 * c) / 9) < 1e-5); // 4 taps of 1/9
    assert.ok(Math.abs(corner('gaussianBlur') - ((4 + 2 + 2 + 1) * c) / 16) < 1e-5); // 63/16
    assert.equal(corner('edgeDetection8'), 8 * c - 3 * c); // 35
    assert.equal(corner('edgeDetection4'), -4 * c + 2 * c); // -14
    assert.equal(corner('sharpen'), 5 * c - 2 * c); // 21
    assert.equal(corner('sobelX'), (0 + 2 + 0 + 1) * c); // taps (1,1)=0 (1,2)=2 (2,1)=0 (2,2)=1 -> 21
    assert.equal(corner('emboss'), (1 + 1 + 1 + 2) * c); // 35
    // An edge (not corner) pixel of the box blur sees 6 of 9 taps.
    assert.ok(Math.abs(rows(applyImageKernel(img, 'boxBlur'))[0][2] - (6 * c) / 9) < 1e-5);
  });

  test("replicate padding keeps a constant image constant under blur everywhere; so does 'partial' (rescaled by 9 / taps inside)", () => {
    const img = tensor(new Array(4).fill(0).map(() => new Array(6).fill(2.5)));
    for (const paddingMode of ['replicate', 'partial'] as const) {
      const y = applyImageKernel(img, 'boxBlur', { paddingMode });
      assertClose((rows(y)).flat(), (new Array(4).fill(0).map(() => new Array(6).fill(2.5))).flat(), { atol: 1e-5 }, paddingMode);
    }
  });

  test('colour images are filtered channel by channel: channel c = (c+1) * edge gives (c+1) * 4 under sobelX', () => {
    const rgb = tensor([1, 2, 3].map((s) => EDGE.map((r) => r.map((v) => s * v))));
    const y = applyImageKernel(rgb, 'sobelX', { padding: 0 });
    assert.deepEqual(y.shape, [3, 3, 3]);
    const out = y.toArray() as number[][][];
    for (let ch = 0; ch < 3; ch++) assert.deepEqual(out[ch], [0, 1, 2].map(() => [4 * (ch + 1), 4 * (ch + 1), 0]));
    const batch = applyImageKernel(rgb.reshape([1, 3, 5, 5]), 'sobelX', { padding: 0 });
    assert.deepEqual(batch.shape, [1, 3, 3, 3]);
    assert.deepEqual(batch.toFlatArray(), y.toFlatArray());
  });

  test('gradcheck: differentiable in the image (zero and reflect padding)', () => {
    const img = randn([2, 4, 5], { generator: gen, dtype: 'float64' });
    assert.equal(gradcheck((x) => applyImageKernel(x, 'sharpen'), [img]).passed, true);
    assert.equal(gradcheck((x) => applyImageKernel(x, 'sobelX', { paddingMode: 'reflect' }), [img]).passed, true);
  });

  test('float64 images stay float64', () => {
    const y = applyImageKernel(tensor(EDGE, undefined, { dtype: 'float64' }), 'boxBlur', { padding: 0 });
    assert.equal(y.dtype, 'float64');
    assert.ok(Math.abs((y.toArray() as number[][])[0][0] - 1 / 3) < 1e-15);
  });
});

describe('kernelTensor', () => {
  test('default: every [o, c] slice holds the kernel; a conv sums the responses over the input channels', () => {
    const w = kernelTensor('sobelX', { inChannels: 3, outChannels: 2 });
    assert.deepEqual(w.shape, [2, 3, 3, 3]);
    for (const oc of w.toArray() as number[][][][]) for (const slice of oc) assert.deepEqual(slice, imageKernels.sobelX);
    // channels scaled 1, 2, 3: each output is 4 * (1 + 2 + 3) = 24 where the edge is
    const rgb = tensor([1, 2, 3].map((s) => EDGE.map((r) => r.map((v) => s * v))));
    const y = conv2d(rgb, w, null, { padding: 0 });
    assert.deepEqual(y.toArray(), [0, 1].map(() => [0, 1, 2].map(() => [24, 24, 0])));
  });

  test('perChannel: a diagonal weight, so a plain conv filters each channel on its own', () => {
    const w = kernelTensor('sharpen', { inChannels: 3, outChannels: 3, perChannel: true });
    const arr = w.toArray() as number[][][][];
    for (let o = 0; o < 3; o++) for (let c = 0; c < 3; c++) assert.deepEqual(arr[o][c], o === c ? imageKernels.sharpen : [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    const rgb = randn([3, 6, 6], { generator: gen });
    assert.deepEqual(conv2d(rgb, w, null, { padding: 1 }).toFlatArray(), applyImageKernel(rgb, 'sharpen').toFlatArray());
  });

  test('defaults to [1, 1, 3, 3]; dtype option', () => {
    const w = kernelTensor('gaussianBlur');
    assert.deepEqual(w.shape, [1, 1, 3, 3]);
    assert.equal(w.dtype, 'float32');
    assert.equal(kernelTensor('emboss', { dtype: 'float64' }).dtype, 'float64');
  });

  test('errors: unknown name lists the known ones; perChannel with unequal channels; bad channel counts; unknown option', () => {
    assert.throws(() => kernelTensor('blurr' as ImageKernelName), (e: unknown) => e instanceof ValueError
      && /^kernelTensor: unknown image kernel "blurr"; known kernels: identity, edgeDetection4, edgeDetection8, sharpen, boxBlur, gaussianBlur, emboss, sobelX, sobelY$/.test(e.message));
    assert.throws(() => kernelTensor('sobelX', { inChannels: 3, outChannels: 2, perChannel: true }), (e: unknown) => e instanceof ValueError
      && /perChannel needs inChannels === outChannels .* got 3 and 2; for a depthwise weight use \{ inChannels: 1, outChannels: 3 \}/.test(e.message));
    assert.throws(() => kernelTensor('sobelX', { inChannels: 0 }), (e: unknown) => e instanceof ValueError && /inChannels must be an integer >= 1, got 0/.test(e.message));
    assert.throws(() => kernelTensor('sobelX', { channels: 3 } as any), (e: unknown) => e instanceof ValueError && /unknown option 'channels'/.test(e.message));
  });
});

describe('applyImageKernel errors', () => {
  test('unknown kernel name and bad image rank', () => {
    assert.throws(() => applyImageKernel(tensor(EDGE), 'Sobel' as ImageKernelName), (e: unknown) => e instanceof ValueError
      && /^applyImageKernel: unknown image kernel "Sobel"; known kernels: identity, .*sobelY$/.test(e.message));
    assert.throws(() => applyImageKernel(tensor([1, 2, 3]), 'boxBlur'), (e: unknown) => e instanceof ShapeError
      && /image must be \[H, W\], \[C, H, W\] or \[N, C, H, W\], got shape \[3\]/.test(e.message));
    assert.throws(() => applyImageKernel(tensor(EDGE), 'boxBlur', { stride: 2 } as any), (e: unknown) => e instanceof ValueError && /unknown option 'stride'/.test(e.message));
  });
});

describe('init.imageKernel', () => {
  test('a Conv2d initialized with a preset computes that filter', () => {
    const layer = new Conv2d(1, 1, 3, { padding: 1, bias: false });
    const returned = init.imageKernel(layer.weight, 'sobelX');
    assert.equal(returned, layer.weight);
    assert.equal(layer.weight.requiresGrad, true, 'still a parameter');
    assert.deepEqual((layer.weight.toArray() as number[][][][])[0][0], imageKernels.sobelX);
    const img = randn([1, 1, 6, 7], { generator: gen });
    assert.deepEqual(layer.forward(img).toFlatArray(), applyImageKernel(img, 'sobelX').toFlatArray());
    assert.equal(nn.init.imageKernel, init.imageKernel);
  });

  test('perChannel fills the diagonal; a depthwise weight [C, 1, 3, 3] gets the kernel in every slice', () => {
    const w = randn([2, 2, 3, 3], { generator: gen });
    init.imageKernel(w, 'boxBlur', { perChannel: true });
    const arr = w.toArray() as number[][][][];
    assert.deepEqual([arr[0][1], arr[1][0]], [[[0, 0, 0], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [0, 0, 0]]]);
    assert.ok(Math.abs(arr[1][1][2][2] - 1 / 9) < 1e-7);
    const dw = randn([4, 1, 3, 3], { generator: gen });
    init.imageKernel(dw, 'emboss');
    for (const oc of dw.toArray() as number[][][][]) assert.deepEqual(oc[0], imageKernels.emboss);
  });

  test('errors: not a 3x3 weight, unknown name, perChannel on a non-square weight', () => {
    assert.throws(() => init.imageKernel(randn([1, 1, 5, 5]), 'sharpen'), (e: unknown) => e instanceof ShapeError
      && /^init.imageKernel: the image kernels are 3x3, so the weight must have shape \[outC, inC\/groups, 3, 3\], got \[1, 1, 5, 5\]/.test(e.message));
    assert.throws(() => init.imageKernel(randn([1, 1, 3, 3]), 'laplace' as ImageKernelName), (e: unknown) => e instanceof ValueError
      && /^init.imageKernel: unknown image kernel "laplace"; known kernels: /.test(e.message));
    assert.throws(() => init.imageKernel(randn([2, 3, 3, 3]), 'sharpen', { perChannel: true }), (e: unknown) => e instanceof ValueError
      && /perChannel needs as many output as input channels per group, weight has shape \[2, 3, 3, 3\]/.test(e.message));
  });
});
