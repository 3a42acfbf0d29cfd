/**
 * The worked examples of the lecture decks, as tests.
 * Each test names the deck it comes from (000 ... 004). The expected numbers
 * are the decks' own answers, or are computed here from the formulas the decks
 * state (output size, parameter counts); nothing is copied from a run of the
 * code under test.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, Tensor, tensor, zeros, ones, randn, rand, noGrad, LeNet5 } from '../../src/index.js';
import { sum, maximum, add, mul, conv2d, maxPool2d, avgPool2d, linear, softmax, logSoftmax, crossEntropy, reshape, slice, convOutputSize } from '../../src/ops/index.js';
import { Conv2d, Linear, MaxPool2d, ReLU, Flatten, Sequential } from '../../src/nn/index.js';
import { assertClose, ok } from '../helpers/index.js';

const gen = new Generator(7643);

/** [H, W] nested numbers -> [1, 1, H, W] tensor. */
const img = (rows: number[][]) => tensor(rows).reshape([1, 1, rows.length, rows[0].length]);
/** [1, 1, H, W] tensor -> nested rows. */
const rows = (t: Tensor) => (t.reshape([t.shape[t.ndim - 2], t.shape[t.ndim - 1]]).toArray() as number[][]);

/** The decks' output size: (N - F + 2P) / S + 1, floored as PyTorch and Torch do. */
const outSize = (n: number, f: number, s: number, p: number) => Math.floor((n - f + 2 * p) / s) + 1;

describe('pooling examples', () => {
  test('000/004: max pooling 2x2, stride 2 of the 4x4 slice -> [[6, 8], [3, 4]]', () => {
    const x = img([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]);
    assert.deepEqual(rows(maxPool2d(x, 2, { stride: 2 })), [[6, 8], [3, 4]]);
    assert.deepEqual(rows(new MaxPool2d(2).forward(x)), [[6, 8], [3, 4]]);
    // "Introduces zero parameters".
    assert.equal(new MaxPool2d(2).numParameters(), 0);
  });
  test('001: max pooling 2x2, stride 2 with a negative value -> [[6, 2], [7, 3]]', () => {
    const x = img([[6, 3, 1, -3], [4, 1, 2, 0], [3, 1, 3, 2], [7, 1, 1, 1]]);
    assert.deepEqual(rows(maxPool2d(x, 2, { stride: 2 })), [[6, 2], [7, 3]]);
  });
  test('001: average pooling 2x2, stride 2 -> [[4, 0], [3, 2]]', () => {
    const x = img([[6, 3, 1, -3], [4, 3, 2, 0], [3, 1, 5, 1], [7, 1, 1, 1]]);
    assert.deepEqual(rows(avgPool2d(x, 2, { stride: 2 })), [[4, 0], [3, 2]]);
  });
  test('001: pooling can be learned by a strided convolution; weights 1/4 reproduce the average pool', () => {
    const x = img([[6, 3, 1, -3], [4, 3, 2, 0], [3, 1, 5, 1], [7, 1, 1, 1]]);
    const w = tensor([0.25, 0.25, 0.25, 0.25], [1, 1, 2, 2]);
    assert.deepEqual(rows(conv2d(x, w, null, { stride: 2 })), [[4, 0], [3, 2]]);
  });
  test('001: max pooling is invariant to small shifts inside the window (three 2x2 windows, all -> 6)', () => {
    for (const win of [[[6, 3], [4, 1]], [[1, 5], [6, 3]], [[2, 6], [2, 4]]]) {
      assert.equal(maxPool2d(img(win), 2).item(), 6);
    }
  });
  test('002: overlapping pooling in AlexNet, 3x3 stride 2 on 55x55 -> 1 + (55 - 3) / 2 = 27, no parameters', () => {
    assert.equal(outSize(55, 3, 2, 0), 27);
    const pool = new MaxPool2d(3, { stride: 2 });
    const y = noGrad(() => pool.forward(randn([1, 96, 55, 55], { generator: gen })));
    assert.deepEqual(y.shape, [1, 96, 27, 27]);
    assert.equal(pool.numParameters(), 0);
  });
  test('000: pooling output size (W - F) / S + 1 for the common settings F=2,S=2 and F=3,S=2', () => {
    for (const [w, f, s] of [[32, 2, 2], [224, 2, 2], [55, 3, 2], [13, 3, 2]]) {
      assert.deepEqual(maxPool2d(zeros([1, 1, w, w]), f, { stride: s }).shape, [1, 1, outSize(w, f, s, 0), outSize(w, f, s, 0)]);
    }
  });
});

describe('convolution examples', () => {
  test('004: 5x5 image * 3x3 filter -> [[4, 3, 4], [2, 4, 3], [2, 3, 4]]', () => {
    const image = img([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]);
    const filter = tensor([[1, 0, 1], [0, 1, 0], [1, 0, 1]]).reshape([1, 1, 3, 3]);
    const y = conv2d(image, filter);
    assert.deepEqual(rows(y), [[4, 3, 4], [2, 4, 3], [2, 3, 4]]);
    // The first entry, written out as the deck does: the top-left 3x3 patch weighted by the filter.
    assert.equal(1 * 1 + 1 * 0 + 1 * 1 + 0 * 0 + 1 * 1 + 1 * 0 + 0 * 1 + 0 * 0 + 1 * 1, y.data[0]);
  });
  test('002: the operator is cross-correlation S(j,k) = sum K(m,n) I(j+m, k+n), not the flipped convolution', () => {
    const I = img([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    const K = tensor([[1, 0], [0, -1]]).reshape([1, 1, 2, 2]);
    // S(j,k) = I(j,k) - I(j+1,k+1) = -4 everywhere; a flipped kernel would give +4.
    assert.deepEqual(rows(conv2d(I, K)), [[-4, -4], [-4, -4]]);
  });
  test('000: 32x32x3 input, ten 5x5 filters, stride 1, pad 2 -> 32x32x10; 76 parameters per filter, 760 in all', () => {
    assert.equal(outSize(32, 5, 1, 2), 32);
    const layer = new Conv2d(3, 10, 5, { stride: 1, padding: 2 });
    const y = noGrad(() => layer.forward(randn([1, 3, 32, 32], { generator: gen })));
    assert.deepEqual(y.shape, [1, 10, 32, 32]);
    assert.equal(5 * 5 * 3 + 1, 76);
    assert.equal(layer.numParameters(), 76 * 10);
    assert.equal(layer.numParameters(), 760);
  });
  test('000: six 5x5x3 filters on a 32x32x3 image give a 28x28x6 volume; repeated 5x5 convs shrink 32 -> 28 -> 24', () => {
    const x = randn([1, 3, 32, 32], { generator: gen });
    const y = noGrad(() => new Conv2d(3, 6, 5).forward(x));
    assert.deepEqual(y.shape, [1, 6, 28, 28]);
    const z = noGrad(() => new Conv2d(6, 6, 5).forward(y));
    assert.deepEqual(z.shape, [1, 6, 24, 24]);
  });
  test('000: the summary formulas W2 = (W1 - F + 2P)/S + 1, D2 = K, (F*F*D1)*K weights and K biases', () => {
    const cases: [number, number, number, number, number, number][] = [
      // W1, D1, K, F, S, P
      [32, 3, 10, 5, 1, 2],
      [32, 3, 32, 3, 1, 1],
      [32, 16, 64, 5, 2, 2],
      [28, 8, 4, 1, 1, 0],
    ];
    for (const [w1, d1, k, f, s, p] of cases) {
      const layer = new Conv2d(d1, k, f, { stride: s, padding: p });
      const y = noGrad(() => layer.forward(zeros([1, d1, w1, w1])));
      const w2 = (w1 - f + 2 * p) / s + 1;
      assert.deepEqual(y.shape, [1, k, Math.floor(w2), Math.floor(w2)]);
      assert.equal(layer.weight.size, f * f * d1 * k);
      assert.equal(layer.bias!.size, k);
    }
  });
  test('000/004: 7x7 input, 3x3 filter: stride 1 -> 5x5, stride 2 -> 3x3', () => {
    const x = zeros([1, 1, 7, 7]);
    const w = ones([1, 1, 3, 3]);
    assert.equal((7 - 3) / 1 + 1, 5);
    assert.equal((7 - 3) / 2 + 1, 3);
    assert.deepEqual(conv2d(x, w, null, { stride: 1 }).shape, [1, 1, 5, 5]);
    assert.deepEqual(conv2d(x, w, null, { stride: 2 }).shape, [1, 1, 3, 3]);
  });
  test("000/004: stride 3 \"doesn't fit\" ((7 - 3)/3 + 1 = 2.33): Stride floors to 2x2 as PyTorch, and the last row and column are never seen", () => {
    ok(!Number.isInteger((7 - 3) / 3 + 1));
    const x = rand([1, 1, 7, 7], { generator: gen }).requiresGrad_();
    const w = ones([1, 1, 3, 3]);
    const y = conv2d(x, w, null, { stride: 3 });
    assert.deepEqual(y.shape, [1, 1, 2, 2]);
    assert.equal(convOutputSize(7, 3, 3, 0, 0, 1), 2);
    // Windows start at 0 and 3, covering rows/columns 0..5: row 6 and column 6 get no gradient.
    sum(y).backward();
    const g = rows(x.grad!);
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 7; j++) assert.equal(g[i][j], i === 6 || j === 6 ? 0 : 1, `grad at (${i}, ${j})`);
    }
  });
  test('000/004: zero padding 1 keeps a 7x7 input 7x7 under a 3x3 stride-1 filter; pad (F-1)/2 preserves size for F = 3, 5, 7', () => {
    for (const f of [3, 5, 7]) {
      const p = (f - 1) / 2;
      assert.deepEqual(conv2d(zeros([1, 1, 7, 7]), zeros([1, 1, f, f]), null, { padding: p }).shape, [1, 1, 7, 7]);
    }
  });
  test('000: common settings on a 32x32 input: F=3,S=1,P=1 and F=5,S=1,P=2 and F=1,S=1,P=0 keep 32; F=5,S=2 with P=2 halves it', () => {
    const shape = (f: number, s: number, p: number) => conv2d(zeros([1, 1, 32, 32]), zeros([1, 1, f, f]), null, { stride: s, padding: p }).shape;
    assert.deepEqual(shape(3, 1, 1), [1, 1, 32, 32]);
    assert.deepEqual(shape(5, 1, 2), [1, 1, 32, 32]);
    assert.deepEqual(shape(1, 1, 0), [1, 1, 32, 32]);
    assert.deepEqual(shape(5, 2, 2), [1, 1, outSize(32, 5, 2, 2), outSize(32, 5, 2, 2)]);
    assert.equal(outSize(32, 5, 2, 2), 16);
  });
  test('004: dilated convolution, 7x7 input, 3x3 filter, stride 1, dilation 2 -> 3x3 (the filter spans 5x5)', () => {
    const x = tensor(Array.from({ length: 49 }, (_, i) => i), [1, 1, 7, 7]);
    const w = ones([1, 1, 3, 3]);
    const y = conv2d(x, w, null, { dilation: 2 });
    assert.deepEqual(y.shape, [1, 1, 3, 3]);
    // Output (0, 0) sums rows/cols 0, 2, 4: sum over r,c in {0,2,4} of 7r + c.
    let s = 0;
    for (const r of [0, 2, 4]) for (const c of [0, 2, 4]) s += 7 * r + c;
    assert.equal(y.data[0], s);
  });
  test('002: stride example J=7, K=9, 3x3 filter, s=2 -> (1 + (7-3)/2) x (1 + (9-3)/2) = 3x4; 1 + L*M*N = 28 free parameters', () => {
    const layer = new Conv2d(3, 1, 3, { stride: 2 });
    const y = noGrad(() => layer.forward(zeros([1, 3, 7, 9])));
    assert.deepEqual(y.shape, [1, 1, 1 + (7 - 3) / 2, 1 + (9 - 3) / 2]);
    assert.equal(layer.numParameters(), 1 + 3 * 3 * 3);
  });
  test('003: Torch\'s SpatialConvolution size, floor((width + 2*padW - kW) / dW + 1)', () => {
    const torchSize = (w: number, k: number, d: number, p: number) => Math.floor((w + 2 * p - k) / d + 1);
    for (const [w, k, d, p] of [[7, 3, 3, 0], [28, 5, 2, 0], [224, 11, 4, 2], [10, 4, 3, 1]]) {
      assert.equal(conv2d(zeros([1, 1, w, w]), zeros([1, 1, k, k]), null, { stride: d, padding: p }).shape[2], torchSize(w, k, d, p));
    }
  });
});

describe('AlexNet conv1 (002)', () => {
  test('224x224x3, 96 11x11 filters, stride 4, pad 2 -> 55x55x96; 364 weights per neuron, 290,400 neurons, 105,705,600 connections, 34,944 parameters', () => {
    // (224 + 2*2 - 11) / 4 = 54.25 is not whole: the size floors to 1 + 54 = 55, as in PyTorch and Torch.
    assert.equal((224 + 2 * 2 - 11) / 4, 54.25);
    assert.equal(outSize(224, 11, 4, 2), 55);
    const conv1 = new Conv2d(3, 96, 11, { stride: 4, padding: 2, generator: gen });
    const y = noGrad(() => conv1.forward(randn([1, 3, 224, 224], { generator: gen })));
    assert.deepEqual(y.shape, [1, 96, 55, 55]);
    const perNeuron = 1 + 11 * 11 * 3;
    assert.equal(perNeuron, 364);
    assert.equal(y.size, 55 * 55 * 96);
    assert.equal(y.size, 290400);
    assert.equal(y.size * perNeuron, 105705600);
    assert.equal(conv1.numParameters(), 96 * perNeuron);
    assert.equal(conv1.numParameters(), 34944);
  });
});

describe('LeNet (002, 004) and LeNet-5', () => {
  test('002: first layer of a colour LeNet, 32x32x3 with six 5x5 filters: width 28, 76 weights per neuron, 4,704 neurons, 357,504 connections, 456 parameters', () => {
    assert.equal(32 + 1 - 5, 28);
    const layer = new Conv2d(3, 6, 5);
    const y = noGrad(() => layer.forward(zeros([1, 3, 32, 32])));
    assert.deepEqual(y.shape, [1, 6, 28, 28]);
    assert.equal(y.size, 4704);
    assert.equal(y.size * (1 + 5 * 5 * 3), 357504);
    assert.equal(layer.numParameters(), 456);
  });
  test('002: LeNet on 32x32 digits: 28x28 features, subsampled to 14x14, 10x10, then 5x5', () => {
    let h = noGrad(() => new Conv2d(1, 6, 5).forward(zeros([1, 1, 32, 32])));
    assert.deepEqual(h.shape.slice(2), [28, 28]);
    h = maxPool2d(h, 2);
    assert.deepEqual(h.shape.slice(2), [14, 14]);
    h = noGrad(() => new Conv2d(6, 16, 5).forward(h));
    assert.deepEqual(h.shape.slice(2), [10, 10]);
    h = maxPool2d(h, 2);
    assert.deepEqual(h.shape, [1, 16, 5, 5]);
  });
  test('LeNet-5 on 28x28 MNIST (conv1 padded by 2) has 61,706 parameters, counted layer by layer', () => {
    const conv = (inC: number, outC: number, k: number) => outC * (inC * k * k + 1);
    const fc = (i: number, o: number) => o * (i + 1);
    const expected = conv(1, 6, 5) + conv(6, 16, 5) + fc(16 * 5 * 5, 120) + fc(120, 84) + fc(84, 10);
    assert.equal(expected, 61706);
    const m = new LeNet5();
    assert.equal(m.numParameters(), expected);
    assert.deepEqual(noGrad(() => m.forward(zeros([2, 1, 28, 28]))).shape, [2, 10]);
  });
  test('004: the "draw your number" network (32x32 input; 6 and 16 5x5 filters, 2x2 pools; FC 120 and 100; 10 outputs)', () => {
    const net = new Sequential(
      new Conv2d(1, 6, 5), new ReLU(), new MaxPool2d(2),
      new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
      new Flatten(), new Linear(16 * 5 * 5, 120), new ReLU(), new Linear(120, 100), new ReLU(), new Linear(100, 10),
    );
    const y = noGrad(() => net.forward(zeros([1, 1, 32, 32])));
    assert.deepEqual(y.shape, [1, 10]);
    const expected = 6 * (25 + 1) + 16 * (6 * 25 + 1) + 120 * (400 + 1) + 100 * (120 + 1) + 10 * (100 + 1);
    assert.equal(net.numParameters(), expected);
    assert.equal(expected, 63802);
  });
});

describe('padding modes (001)', () => {
  test("'VALID' on a 4x4 input with a 3x3 filter gives 2x2; 'SAME' pads 1 and gives 4x4", () => {
    const x = img([[2, 0, 1, 3], [0, 1, 1, 0], [0, 0, 2, 0], [0, 1, 1, 1]]);
    const w = randn([1, 1, 3, 3], { generator: gen });
    assert.equal((4 - 3 + 2 * 0) / 1 + 1, 2);
    assert.deepEqual(conv2d(x, w, null, { padding: 'valid' }).shape, [1, 1, 2, 2]);
    const same = conv2d(x, w, null, { padding: 'same' });
    assert.deepEqual(same.shape, [1, 1, 4, 4]);
    assert.deepEqual(Array.from(same.data), Array.from(conv2d(x, w, null, { padding: 1 }).data));
  });
  test("'SAME' with stride 2 gives ceil(in / stride), as tf.nn.conv2d", () => {
    for (const n of [4, 5, 7, 28]) {
      const y = conv2d(zeros([1, 1, n, n]), zeros([1, 1, 3, 3]), null, { padding: 'same', stride: 2 });
      assert.deepEqual(y.shape, [1, 1, Math.ceil(n / 2), Math.ceil(n / 2)]);
    }
  });
  test('zero padding fills the border with zeros: a 1x1 identity filter with padding 1 shows the padded 5x5 image', () => {
    const im = [[2, 0, 3, 1, 1], [1, 1, 0, 0, 2], [4, 3, 2, 0, 1], [1, 0, 5, 2, 0], [0, 1, 0, 3, 0]];
    const y = rows(conv2d(img(im), ones([1, 1, 1, 1]), null, { padding: 1 }));
    const expected = [new Array(7).fill(0), ...im.map((r) => [0, ...r, 0]), new Array(7).fill(0)];
    assert.deepEqual(y, expected);
  });
  test('padding 2 around a 2x2 input gives 6x6', () => {
    const y = rows(conv2d(img([[2, 3], [9, 2]]), ones([1, 1, 1, 1]), null, { padding: 2 }));
    assert.equal(y.length, 6);
    assert.deepEqual(y[2], [0, 0, 2, 3, 0, 0]);
    assert.deepEqual(y[3], [0, 0, 9, 2, 0, 0]);
    assert.equal(y.flat().reduce((a, b) => a + b), 16);
  });
  test('the bias adds one number per output channel (tf.nn.bias_add); use_bias=False drops K parameters', () => {
    const x = randn([1, 3, 6, 6], { generator: gen });
    const w = randn([4, 3, 3, 3], { generator: gen });
    const b = tensor([1, -2, 0.5, 3]);
    const withBias = conv2d(x, w, b);
    const expected = add(conv2d(x, w), reshape(b, [1, 4, 1, 1]));
    withBias.data.forEach((v, i) => assertClose(v, expected.data[i], 1e-5));
    assert.equal(new Conv2d(3, 16, 3).numParameters() - new Conv2d(3, 16, 3, { bias: false }).numParameters(), 16);
  });
  test('multi-channel input: each output sums over all input channels (N channels to 1 output)', () => {
    const x = randn([1, 3, 5, 5], { generator: gen });
    const w = randn([1, 3, 3, 3], { generator: gen });
    const y = conv2d(x, w);
    let perChannel: Tensor | null = null;
    for (let c = 0; c < 3; c++) {
      const yc = conv2d(slice(x, 1, c, c + 1), slice(w, 1, c, c + 1));
      perChannel = perChannel ? add(perChannel, yc) : yc;
    }
    y.data.forEach((v, i) => assertClose(v, perChannel!.data[i], 1e-5));
  });
});

describe('image kernels (004)', () => {
  const kernels: Record<string, number[][]> = {
    edge4: [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    edge8: [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    emboss: [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    sharpen: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    box: [[1, 1, 1], [1, 1, 1], [1, 1, 1]].map((r) => r.map((v) => v / 9)),
    gaussian: [[1, 2, 1], [2, 4, 2], [1, 2, 1]].map((r) => r.map((v) => v / 16)),
  };
  test('on a constant image each kernel gives the constant times the sum of its weights (0 for edge detectors, 1 for the others)', () => {
    const c = 3;
    for (const [name, k] of Object.entries(kernels)) {
      const weightSum = k.flat().reduce((a, b) => a + b, 0);
      ok(name.startsWith('edge') ? Math.abs(weightSum) < 1e-12 : Math.abs(weightSum - 1) < 1e-12, name);
      const y = conv2d(mul(ones([1, 1, 6, 6]), c), tensor(k).reshape([1, 1, 3, 3]));
      for (const v of y.data) assertClose(v, c * weightSum, 1e-6);
    }
  });
  test('the edge detector responds only where a vertical step edge is', () => {
    const step = img(Array.from({ length: 6 }, () => [0, 0, 0, 1, 1, 1]));
    const y = rows(conv2d(step, tensor(kernels.edge4).reshape([1, 1, 3, 3])));
    // Output column j looks at input columns j..j+2; the centre column is j+1. The step is between 2 and 3.
    for (const r of y) assert.deepEqual(r, [0, 1, -1, 0]);
  });
});

describe('receptive fields and fully connected layers as convolutions (003)', () => {
  test('a KxK stride-1 conv followed by a PxP pool: each pooled unit sees a (P+K-1)x(P+K-1) patch', () => {
    for (const [K, P] of [[5, 2], [3, 3], [3, 2]]) {
      const x = rand([1, 1, 12, 12], { generator: gen }).requiresGrad_();
      const w = rand([1, 1, K, K], { generator: gen, low: 0.5, high: 1 });
      const pooled = avgPool2d(conv2d(x, w), P);
      // Backpropagate from the top-left pooled unit only.
      const g = zeros(pooled.shape);
      g.data[0] = 1;
      pooled.backward(g);
      const gr = rows(x.grad!);
      let seen = 0;
      for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) {
        const inside = i < P + K - 1 && j < P + K - 1;
        assert.equal(gr[i][j] !== 0, inside, `K ${K}, P ${P}: (${i}, ${j})`);
        if (inside) seen++;
      }
      assert.equal(seen, (P + K - 1) ** 2);
    }
  });
  test('an FC layer on a 5x5xN volume is a conv with 5x5 kernels; the next FC is a 1x1 conv', () => {
    const N = 4;
    const x = randn([1, N, 5, 5], { generator: gen });
    const w1 = randn([8, N * 25], { generator: gen });
    const b1 = randn([8], { generator: gen });
    const w2 = randn([3, 8], { generator: gen });
    const b2 = randn([3], { generator: gen });
    const fcOut = linear(linear(reshape(x, [1, N * 25]), w1, b1), w2, b2);
    const convOut = conv2d(conv2d(x, reshape(w1, [8, N, 5, 5]), b1), reshape(w2, [3, 8, 1, 1]), b2);
    assert.deepEqual(convOut.shape, [1, 3, 1, 1]);
    convOut.data.forEach((v, i) => assertClose(v, fcOut.data[i], 1e-4));
  });
  test('the convolutional form runs on a bigger image: a 7x7 input gives a 3x3 map of the FC outputs of each 5x5 crop', () => {
    const N = 2;
    const big = randn([1, N, 7, 7], { generator: gen });
    const w = randn([3, N * 25], { generator: gen });
    const b = randn([3], { generator: gen });
    const map = conv2d(big, reshape(w, [3, N, 5, 5]), b);
    assert.deepEqual(map.shape, [1, 3, 3, 3]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      const crop = slice(slice(big, 2, i, i + 5), 3, j, j + 5);
      const fc = linear(reshape(crop, [1, N * 25]), w, b);
      for (let o = 0; o < 3; o++) assertClose(map.data[(o * 3 + i) * 3 + j], fc.data[o], 1e-4);
    }
  });
  test('000: 1x1 convolutions make sense: 56x56x64 with 32 1x1 filters -> 56x56x32, a 64-dim dot product per pixel', () => {
    const x = randn([1, 64, 56, 56], { generator: gen });
    const layer = new Conv2d(64, 32, 1);
    const y = noGrad(() => layer.forward(x));
    assert.deepEqual(y.shape, [1, 32, 56, 56]);
    assert.equal(layer.numParameters(), 32 * (64 + 1));
    // Pixel (10, 20), filter 5.
    let s = layer.bias!.data[5];
    for (let c = 0; c < 64; c++) s += layer.weight.data[5 * 64 + c] * x.data[(c * 56 + 10) * 56 + 20];
    assertClose(y.data[(5 * 56 + 10) * 56 + 20], s, 1e-4);
  });
});

describe('softmax and cross-entropy (002)', () => {
  const z = tensor([[1.0, 3.0, 0.5, 2.0]]);
  test('Prob(i) = exp(z_i) / sum_j exp(z_j) and log Prob(i) = z_i - log sum_j exp(z_j)', () => {
    const zs = [1, 3, 0.5, 2];
    const denom = zs.reduce((a, v) => a + Math.exp(v), 0);
    const p = softmax(z, 1);
    const lp = logSoftmax(z, 1);
    zs.forEach((v, i) => {
      assertClose(p.data[i], Math.exp(v) / denom, 1e-6);
      assertClose(lp.data[i], v - Math.log(denom), 1e-6);
    });
  });
  test('the cost -log Prob(i) for the correct class i is the cross-entropy', () => {
    const zs = [1, 3, 0.5, 2];
    const denom = zs.reduce((a, v) => a + Math.exp(v), 0);
    for (let i = 0; i < 4; i++) assertClose(crossEntropy(z, [i]).item(), -(zs[i] - Math.log(denom)), 1e-6);
  });
  test('the gradient pushes the correct class up and mostly pushes down the wrong class with the highest activation', () => {
    const x = tensor([[1.0, 3.0, 0.5, 2.0]]).requiresGrad_();
    crossEntropy(x, [0]).backward();
    const g = Array.from(x.grad!.data);
    ok(g[0] < 0, 'descent raises z_0');
    const wrong = [1, 2, 3];
    for (const j of wrong) ok(g[j] > 0);
    // The largest push-down is on class 1 (activation 3, the highest wrong one).
    assert.equal(wrong.reduce((best, j) => (g[j] > g[best] ? j : best), wrong[0]), 1);
  });
});

describe('backprop patterns (003)', () => {
  test('add distributes, max routes, mul switches: f = 2 (x y + max(z, w)) at x=3, y=-4, z=2, w=-1', () => {
    const x = tensor([3]).requiresGrad_();
    const y = tensor([-4]).requiresGrad_();
    const zz = tensor([2]).requiresGrad_();
    const w = tensor([-1]).requiresGrad_();
    const f = mul(add(mul(x, y), maximum(zz, w)), 2);
    assert.equal(f.item(), 2 * (3 * -4 + 2));
    f.backward();
    // The 2 flows through the add to both branches; the mul gives x the value of y and y the value of x;
    // the max sends everything to z (the larger) and nothing to w.
    assert.equal(x.grad!.item(), 2 * -4);
    assert.equal(y.grad!.item(), 2 * 3);
    assert.equal(zz.grad!.item(), 2);
    assert.equal(w.grad!.item(), 0);
  });
});

describe('translation equivariance (001)', () => {
  test('shifting the input shifts the convolution output by the same amount', () => {
    const base = randn([1, 1, 8, 8], { generator: gen });
    // Zero a border so the shift does not push content off the image.
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) if (i > 5 || j > 5) base.data[i * 8 + j] = 0;
    const shifted = zeros([1, 1, 8, 8]);
    for (let i = 0; i < 7; i++) for (let j = 0; j < 7; j++) shifted.data[(i + 1) * 8 + (j + 1)] = base.data[i * 8 + j];
    const k = randn([1, 1, 3, 3], { generator: gen });
    const a = rows(conv2d(base, k));
    const b = rows(conv2d(shifted, k));
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) assertClose(b[i + 1][j + 1], a[i][j], 1e-5);
  });
  test('sum of the whole map is unchanged by the shift (a crude invariance)', () => {
    const x = zeros([1, 1, 6, 6]);
    x.data[7] = 1;
    const y = zeros([1, 1, 6, 6]);
    y.data[14] = 1;
    const k = randn([1, 1, 3, 3], { generator: gen });
    assertClose(sum(conv2d(x, k, null, { padding: 1 })).item(), sum(conv2d(y, k, null, { padding: 1 })).item(), 1e-5);
  });
});
