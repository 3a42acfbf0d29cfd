/**
 * The classic models as their papers publish them: lenet5-1998 (LeCun et al.,
 * 1998) with its layers (ScaledTanh, Subsampling2d, SparseConv2d,
 * EuclideanRBF), alexnet-2012 (Krizhevsky et al., 2012) and Rosenblatt's
 * perceptron. Expected values are the papers' counts and tables, hand
 * arithmetic, and PyTorch where it is installed (/usr/bin/python3; skipped with
 * the reason otherwise).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import {
  AlexNet2012, Generator, LENET5_C3_TABLE, LeNet1998, MNIST_MEAN, MNIST_STD, Perceptron, ShapeError, Tensor, ValueError, F, createModel, fit, lenet1998Centers,
  lenet1998Criterion, models, nn, noGrad, normalize, optim, tensor, trainPerceptron, zeros,
} from '../../src/index.js';
import { loadMnist } from '../../src/node.js';
import { isDescribedLayer } from '../../src/nn/describe.js';
import { assertClose, assertGradcheck, ok, seeded, stride, throwsWith } from '../helpers/index.js';

const { rn } = seeded(1998);

/**
 * Table I of the paper, as printed: row r is S2's map r, column c is C3's map
 * c, X where C3's map c takes S2's map r as input.
 */
const TABLE_I = [
  'X   XXX  XXXX XX',
  'XX   XXX  XXXX X',
  'XXX   XXX  X XXX',
  ' XXX  XXXX  X XX',
  '  XXX  XXXX XX X',
  '   XXX  XXXX XXX',
];

describe('lenet5-1998: LeNet-5 as published', () => {
  const model = new LeNet1998({ generator: new Generator(0) });

  test('60,000 trainable parameters: C1 156, S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164, the RBF output none', () => {
    const expected = { c1: 6 * 26, s2: 6 * 2, c3: 1516, s4: 16 * 2, c5: 120 * (16 * 25 + 1), f6: 84 * 121, output: 0 };
    for (const [name, n] of Object.entries(expected)) {
      const own = [...model.namedParameters()].filter(([key]) => key.startsWith(`${name}.`));
      assert.equal(own.reduce((s, [, p]) => s + p.size, 0), n, name);
    }
    assert.equal(model.numParameters(), 60_000);
    // The centres are a buffer: saved, not trained.
    ok('output.weight' in model.stateDict(), 'the RBF centres are in the state dict');
    ok(!model.parameters().includes(model.output.weight), 'the RBF centres are not a parameter');
    assert.deepEqual(model.output.weight.shape, [10, 84]);
    // The linear output option: 84 * 10 + 10 more.
    assert.equal(new LeNet1998({ output: 'linear', generator: new Generator(0) }).numParameters(), 60_850);
  });

  test("C3's connections are Table I's: the table, the kernels (60 of 5x5) and the zeros of the dense weight", () => {
    const fromPaper = Array.from({ length: 16 }, (_, c) => [0, 1, 2, 3, 4, 5].filter((r) => TABLE_I[r][c] === 'X'));
    assert.deepEqual(LENET5_C3_TABLE, fromPaper);
    assert.deepEqual(model.c3.table, fromPaper);
    assert.deepEqual(fromPaper.map((maps) => maps.length), [3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6]);
    assert.deepEqual(model.c3.weight.shape, [60, 5, 5]);
    const dense = model.c3.denseWeight();
    assert.deepEqual(dense.shape, [16, 6, 5, 5]);
    for (let c = 0; c < 16; c++) {
      for (let r = 0; r < 6; r++) {
        const kernel = dense.data.subarray((c * 6 + r) * 25, (c * 6 + r + 1) * 25);
        const connected = TABLE_I[r][c] === 'X';
        ok(connected ? kernel.some((v) => v !== 0) : kernel.every((v) => v === 0), `C3 map ${c} from S2 map ${r}: ${connected ? 'connected' : 'not connected'}`);
      }
    }
  });

  test('state-dict names are the paper\'s layer names', () => {
    assert.deepEqual(Object.keys(model.stateDict()), [
      'c1.weight', 'c1.bias', 's2.weight', 's2.bias', 'c3.weight', 'c3.bias', 's4.weight', 's4.bias',
      'c5.weight', 'c5.bias', 'f6.weight', 'f6.bias', 'output.weight',
    ]);
  });

  test("the paper's initialization: weights and biases uniform in +-2.4/F_in, F_in each unit's fan-in", () => {
    const within = (t: Tensor, start: number, end: number, fanIn: number, what: string) => {
      const values = [...t.data.subarray(start, end)];
      const bound = 2.4 / fanIn;
      ok(values.every((v) => Math.abs(v) <= bound), `${what}: inside +-2.4/${fanIn}`);
      if (values.length >= 100) ok(Math.max(...values.map(Math.abs)) > 0.9 * bound, `${what}: fills +-2.4/${fanIn}`);
    };
    within(model.c1.weight, 0, 150, 25, 'c1.weight');
    within(model.s2.weight, 0, 6, 4, 's2.weight');
    within(model.c3.weight, 0, 6 * 3 * 25, 75, 'c3 maps 0-5 (3 inputs)');
    within(model.c3.weight, 6 * 3 * 25, 6 * 3 * 25 + 9 * 4 * 25, 100, 'c3 maps 6-14 (4 inputs)');
    within(model.c3.weight, 1350, 1500, 150, 'c3 map 15 (6 inputs)');
    within(model.c5.weight, 0, 48_000, 400, 'c5.weight');
    within(model.c5.bias!, 0, 120, 400, 'c5.bias');
    within(model.f6.weight, 0, 10_080, 120, 'f6.weight');
  });

  test('the squashing function f(a) = 1.7159 tanh(2a/3): f(1) = 1.7159 tanh(2/3), odd, bounded by 1.7159', () => {
    const f = new nn.ScaledTanh();
    const y = f.forward(tensor([0, 1, -1, 0.5, 30]));
    assertClose(y, [0, 1.7159 * Math.tanh(2 / 3), -1.7159 * Math.tanh(2 / 3), 1.7159 * Math.tanh(1 / 3), 1.7159], 1e-6, 'f');
    assertClose(y.data[1], 1, 1e-4, 'f(1) is 1 to four decimals');
    throwsWith(() => new nn.ScaledTanh({ slope: 0 }), ValueError, /slope must be a finite non-zero number/);
  });

  test('subsampling by hand: each 2x2 window summed, times the map\'s coefficient, plus its bias', () => {
    const s = new nn.Subsampling2d(2);
    s.weight.data.set([0.5, -2]);
    s.bias.data.set([-1, 3]);
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, /* map 1 */ 1, 0, 0, 1, -1, 1, 2, 2], [1, 2, 2, 4]);
    // Map 0: windows 1+2+5+6 = 14 and 3+4+7+8 = 22 -> 0.5*14 - 1 = 6, 0.5*22 - 1 = 10.
    // Map 1: windows 1+0-1+1 = 1 and 0+1+2+2 = 5 -> -2*1 + 3 = 1, -2*5 + 3 = -7.
    assertClose(s.forward(x), tensor([6, 10, 1, -7], [1, 2, 1, 2]), 1e-6, 'subsampling');
    throwsWith(() => s.forward(zeros([1, 3, 4, 4])), ShapeError, /\[batch, 2, height, width\]/, /\[1, 3, 4, 4\]/);
  });

  test('the Euclidean RBF by hand: y_i = sum_j (x_j - w_ij)^2, negated with negate', () => {
    const centres = tensor([[1, -1, 1], [0, 2, -1]]);
    const x = tensor([[1, 1, 1], [0.5, 0, -2]]);
    // Sample 0: (0, 2, 0) -> 4; (1, -1, 2) -> 6. Sample 1: (-0.5, 1, -3) -> 10.25; (0.5, -2, -1) -> 5.25.
    assertClose(new nn.EuclideanRBF(centres).forward(x), tensor([[4, 6], [10.25, 5.25]]), 1e-6, 'distances');
    assertClose(new nn.EuclideanRBF(centres, { negate: true }).forward(x), tensor([[-4, -6], [-10.25, -5.25]]), 1e-6, 'negated');
    assert.equal(new nn.EuclideanRBF(centres, { trainable: true }).parameters().length, 1);
    assert.equal(new nn.EuclideanRBF(centres).parameters().length, 0);
    throwsWith(() => new nn.EuclideanRBF(centres).forward(zeros([2, 4])), ShapeError, /\[batch, 3\]/);
  });

  test('the RBF centres: -1/+1 codes, 42 of each per class, any two differing in exactly 42 places', () => {
    const c = lenet1998Centers(83);
    ok([...c.data].every((v) => v === 1 || v === -1), 'every component is -1 or +1');
    for (let i = 0; i < 83; i++) {
      const row = c.data.subarray(i * 84, (i + 1) * 84);
      assert.equal(row.filter((v) => v === 1).length, 42, `class ${i}: 42 components of +1`);
      for (let k = 0; k < i; k++) {
        const other = c.data.subarray(k * 84, (k + 1) * 84);
        assert.equal(row.filter((v, j) => v !== other[j]).length, 42, `classes ${k} and ${i}`);
      }
    }
    assert.deepEqual([...model.output.weight.data], [...c.data.subarray(0, 840)]);
    throwsWith(() => lenet1998Centers(84), ValueError, /at most 83 classes/, /'linear'/);
    throwsWith(() => new LeNet1998({ numClasses: 100 }), ValueError, /at most 83 classes/);
  });

  test("the paper's criterion (eq. 9) by hand, and cross-entropy on -y as its limit j -> infinity", () => {
    const y = [1, 2, 4];
    const scores = tensor([y.map((v) => -v)]);
    const j = 3;
    assertClose(lenet1998Criterion(scores, [0], { j }).item(), 1 + Math.log(Math.exp(-j) + Math.exp(-1) + Math.exp(-2) + Math.exp(-4)), 1e-6, 'eq. 9');
    const ce = 2 + Math.log(Math.exp(-1) + Math.exp(-2) + Math.exp(-4));
    assertClose(F.crossEntropy(scores, [1]).item(), ce, 1e-6, 'cross-entropy on -y = y_D + log sum e^-y');
    assertClose(lenet1998Criterion(scores, [1], { j: 60 }).item(), ce, 1e-6, 'eq. 9 with a large j');
    throwsWith(() => lenet1998Criterion(scores, [0], { j: 0 }), ValueError, /j must be a finite number > 0/);
  });

  test('forward: [N, 10] from the paper\'s 32x32 and, through the registry, from MNIST\'s 28x28 (zero-padded by 2)', () => {
    const x32 = rn([2, 1, 32, 32], { dtype: 'float32' });
    const y32 = noGrad(() => model.forward(x32));
    assert.deepEqual(y32.shape, [2, 10]);
    const mnistModel = createModel('lenet5-1998', { generator: new Generator(3) });
    assert.deepEqual(models['lenet5-1998'].inputShape, [1, 28, 28]);
    mnistModel.loadStateDict(model.stateDict());
    const x28 = rn([2, 1, 28, 28], { dtype: 'float32' });
    const y28 = noGrad(() => mnistModel.forward(x28));
    assert.deepEqual(y28.shape, [2, 10]);
    // The 28x28 model is the paper's on the digit centred in a 32x32 field of zeros.
    assertClose(y28, noGrad(() => model.forward(F.pad(x28, [2, 2, 2, 2]))), 1e-4, '28x28 = 32x32 zero-padded');
    throwsWith(() => model.forward(x28), ShapeError, /\[batch, 1, 32, 32\]/, /inputSize 28/);
  });

  test('the registry sizes it by the input: 32x32 builds the paper\'s (c1 unpadded), 3 channels for CIFAR-sized images; other sizes are refused', () => {
    const paper = createModel('lenet5-1998', { inputShape: [1, 32, 32], generator: new Generator(3) });
    paper.loadStateDict(model.stateDict());
    const x32 = rn([2, 1, 32, 32], { dtype: 'float32' });
    assertClose(noGrad(() => paper.forward(x32)), noGrad(() => model.forward(x32)), 0, 'the same network as new LeNet1998() on 32x32');
    const colour = createModel('lenet5-1998', { inputShape: [3, 32, 32], generator: new Generator(3) });
    assert.deepEqual(noGrad(() => colour.forward(rn([1, 3, 32, 32], { dtype: 'float32' }))).shape, [1, 10]);
    throwsWith(() => createModel('lenet5-1998', { inputShape: [1, 40, 40] }), ValueError, 'takes 28x28 images', 'or 32x32', 'got 40x40');
    throwsWith(() => createModel('lenet5-1998', { inputShape: [1, 32, 28] }), ValueError, 'got 32x28');
  });

  test('describeLayer: S2 5,880 connections, C3 151,600, S4 2,000, the RBF 840; C1 122,304 where Conv2d describes itself', (t) => {
    assert.equal(model.s2.describeLayer([6, 28, 28], [6, 14, 14]).connections, 5880);
    const c3 = model.c3.describeLayer([6, 14, 14], [16, 10, 10]);
    assert.equal(c3.connections, 151_600);
    assert.equal(c3.macs, 150_000);
    assert.deepEqual(c3.window, { kernel: [5, 5], stride: [1, 1], padding: [0, 0], dilation: [1, 1] });
    assert.deepEqual(model.s2.describeLayer([6, 28, 28], [6, 14, 14]).window, { kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1] });
    assert.equal(model.s4.describeLayer([16, 10, 10], [16, 5, 5]).connections, 2000);
    const output = model.output;
    assert.ok(output instanceof nn.EuclideanRBF);
    assert.deepEqual(output.describeLayer(), { connections: 840, macs: 840, global: true });
    const c1: unknown = model.c1;
    if (!isDescribedLayer(c1)) {
      t.skip('Conv2d does not implement describeLayer on this branch');
      return;
    }
    assert.equal(c1.describeLayer([1, 32, 32], [6, 28, 28]).connections, 122_304);
  });

  test('gradients of the new layers (gradcheck, float64)', () => {
    const sub = new nn.Subsampling2d(3, 2);
    assertGradcheck((x, w, b) => Object.assign(sub, { weight: w, bias: b }).forward(x), [rn([2, 3, 4, 6]), rn([3]), rn([3])], { what: 'Subsampling2d' });
    const sparse = new nn.SparseConv2d(3, [[0, 2], [1], [0, 1, 2]], 3, { padding: 1 });
    assertGradcheck((x, w, b) => Object.assign(sparse, { weight: w, bias: b }).forward(x), [rn([2, 3, 5, 5]), rn([6, 3, 3]), rn([3])], { what: 'SparseConv2d' });
    const rbf = new nn.EuclideanRBF(tensor([[1, -1, 1], [0, 2, -1]]), { negate: true });
    assertGradcheck((x, w) => Object.assign(rbf, { weight: w }).forward(x), [rn([4, 3]), rn([2, 3])], { what: 'EuclideanRBF' });
    assertGradcheck((x) => new nn.ScaledTanh().forward(x), [rn([3, 4])], { what: 'ScaledTanh' });
  });

  test('SparseConv2d checks its table', () => {
    throwsWith(() => new nn.SparseConv2d(6, [[0, 6]], 5), ValueError, /table\[0\] has 6/, /0 to 5/);
    throwsWith(() => new nn.SparseConv2d(6, [[1], []], 5), ValueError, /table\[1\] must be a non-empty array/);
    throwsWith(() => new nn.SparseConv2d(6, [[1, 1]], 5), ValueError, /lists input map 1 twice/);
  });

  test('learns: the loss falls over 40 steps on 256 MNIST digits', async () => {
    const { images, labels } = await loadMnist({ split: 'train', limit: 256 });
    const x = normalize(images, MNIST_MEAN, MNIST_STD);
    const net = createModel('lenet5-1998', { generator: new Generator(5) });
    const losses: number[] = [];
    fit(net, {
      train: { images: x, labels }, epochs: 5, batchSize: 32, generator: new Generator(6),
      optimizer: new optim.SGD(net, { lr: 0.01, momentum: 0.9 }), onBatch: (b) => losses.push(b.loss),
    });
    assert.equal(losses.length, 40);
    const mean = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;
    const first = mean(losses.slice(0, 5));
    const last = mean(losses.slice(-5));
    ok(last < 0.8 * first, `mean loss of the last 5 steps ${last.toFixed(3)} vs the first 5 ${first.toFixed(3)}`);
  });
});

describe('alexnet-2012: AlexNet as published', () => {
  // One model, built once: 61M parameters.
  let built: AlexNet2012 | undefined;
  const model = () => (built ??= createModel('alexnet-2012', { generator: new Generator(0) }) as AlexNet2012);

  /** Each layer's weights + biases, from the paper's figure 2 (two GPUs' halves added). */
  const conv = (outC: number, inPerGroup: number, k: number) => outC * inPerGroup * k * k + outC;
  const PAPER_LAYERS: [string, number[], number][] = [
    ['features.0', [96, 3, 11, 11], conv(96, 3, 11)],
    ['features.4', [256, 48, 5, 5], conv(256, 48, 5)], // each half of 128 kernels sees its GPU's 48 maps
    ['features.8', [384, 256, 3, 3], conv(384, 256, 3)], // sees all 256 maps
    ['features.10', [384, 192, 3, 3], conv(384, 192, 3)],
    ['features.12', [256, 192, 3, 3], conv(256, 192, 3)],
    ['classifier.0', [4096, 9216], 9216 * 4096 + 4096],
    ['classifier.3', [4096, 4096], 4096 * 4096 + 4096],
    ['classifier.6', [1000, 4096], 4096 * 1000 + 1000],
  ];

  test('60,965,224 parameters, layer by layer as the paper\'s figure 2', () => {
    const total = PAPER_LAYERS.reduce((s, [, , n]) => s + n, 0);
    assert.equal(total, 60_965_224);
    const state = model().stateDict();
    for (const [name, shape] of PAPER_LAYERS) assert.deepEqual(state[`${name}.weight`].shape, shape, name);
    assert.equal(model().numParameters(), 60_965_224);
    assert.deepEqual(Object.keys(state), PAPER_LAYERS.flatMap(([name]) => [`${name}.weight`, `${name}.bias`]));
  });

  test('the same layers written in PyTorch have the same state-dict keys, shapes and parameter count', (t) => {
    const script = [
      'import json, torch.nn as nn',
      'lrn = lambda: nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)',
      'm = nn.Module()',
      'm.features = nn.Sequential(nn.Conv2d(3, 96, 11, 4, 2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),',
      '  nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),',
      '  nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),',
      '  nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2))',
      'm.flatten = nn.Flatten()',
      'm.classifier = nn.Sequential(nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000))',
      'print(json.dumps({"keys": [[k, list(v.shape)] for k, v in m.state_dict().items()], "params": sum(p.numel() for p in m.parameters())}))',
    ].join('\n');
    const r = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      t.skip(`python3 with torch is not available (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`);
      return;
    }
    const theirs = JSON.parse(r.stdout) as { keys: [string, number[]][]; params: number };
    assert.equal(theirs.params, 60_965_224);
    assert.deepEqual(Object.entries(model().stateDict()).map(([k, v]) => [k, [...v.shape]]), theirs.keys);
  });

  test("the paper's initialization: weights N(0, 0.01); biases 1 in conv2, conv4, conv5 and the hidden linear layers, else 0", () => {
    const state = model().stateDict();
    const ones = new Set(['features.4', 'features.10', 'features.12', 'classifier.0', 'classifier.3']);
    for (const [name] of PAPER_LAYERS) {
      const b = state[`${name}.bias`].data;
      ok(b.every((v) => v === (ones.has(name) ? 1 : 0)), `${name}.bias is ${ones.has(name) ? 1 : 0}`);
    }
    const w = Array.from(state['classifier.3.weight'].data);
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    assertClose(std, 0.01, { atol: 1e-4 }, 'weight std');
    assertClose(mean, 0, { atol: 1e-4 }, 'weight mean');
  });

  test("local response normalization with the paper's constants: b = a / (2 + 1e-4 * sum over 5 maps of a^2)^0.75", () => {
    const lrn = model().features.at(2);
    const a = [30, -50, 80, 10, -100, 60, 20];
    const b = lrn.forward(tensor(a, [1, 7, 1, 1]));
    const expected = a.map((v, c) => {
      let s = 0;
      for (let j = Math.max(0, c - 2); j <= Math.min(6, c + 2); j++) s += a[j] ** 2;
      return v / (2 + 1e-4 * s) ** 0.75;
    });
    assertClose(b, expected, { rtol: 1e-5 }, 'LRN');
    assert.ok(model().features.at(6) instanceof nn.LocalResponseNorm);
  });

  test('dropout 0.5 after the two hidden linear layers; [1, 1000] from 224x224; other sizes refused', () => {
    const c = model().classifier;
    for (const i of [2, 5]) ok(c.at(i) instanceof nn.Dropout && (c.at(i) as nn.Dropout).p === 0.5, `classifier.${i} is dropout 0.5`);
    model().eval();
    const y = noGrad(() => model().forward(rn([1, 3, 224, 224], { dtype: 'float32' })));
    assert.deepEqual(y.shape, [1, 1000]);
    ok([...y.data].every(Number.isFinite), 'finite scores');
    throwsWith(() => model().forward(zeros([1, 3, 64, 64])), ShapeError, /224/, /\[1, 3, 64, 64\]/);
  });
});

describe("perceptron: Rosenblatt's rule", () => {
  test('the update rule by hand: w += lr (d - y) x, b += lr (d - y), nothing on a right answer', () => {
    const p = new Perceptron(2);
    // w = 0, b = 0: score 0, y = 0; d = 1 -> w = 0.5 (1, 2), b = 0.5.
    assert.equal(p.trainStep(tensor([1, 2]), 1, 0.5), 1);
    assert.deepEqual([...p.weight.data, ...p.bias.data], [0.5, 1, 0.5]);
    // score 0.5*2 + 1*(-1) + 0.5 = 0.5 > 0: y = 1; d = 0 -> w = (0.5, 1) - 0.5 (2, -1) = (-0.5, 1.5), b = 0.
    assert.equal(p.trainStep(tensor([2, -1]), 0, 0.5), -1);
    assert.deepEqual([...p.weight.data, ...p.bias.data], [-0.5, 1.5, 0]);
    // score -0.5*(-1) + 1.5*1 = 2 > 0 and d = 1: right, no change.
    assert.equal(p.trainStep(tensor([-1, 1]), 1, 0.5), 0);
    assert.deepEqual([...p.weight.data, ...p.bias.data], [-0.5, 1.5, 0]);
    assert.deepEqual([...p.score(tensor([[1, 1], [2, 0]])).data], [1, -1]);
    assert.deepEqual([...p.forward(tensor([[1, 1], [2, 0]])).data], [1, 0]);
    assert.deepEqual(p.predict(tensor([[1, 1], [2, 0]])), [1, 0]);
    throwsWith(() => p.trainStep(tensor([1, 2]), 2), ValueError, /desired output must be 0 or 1/);
    throwsWith(() => p.trainStep(tensor([1, 2]), 1, -1), ValueError, /lr must be a finite number > 0/);
    throwsWith(() => p.score(tensor([1, 2, 3])), ShapeError, /2 values per sample/);
  });

  test('AND converges, as the theorem says for separable data: mistakes per pass 1, 3, 3, 2, 1, 0 (hand trace)', () => {
    const p = new Perceptron(2);
    const r = p.fit(tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), [0, 0, 0, 1], { epochs: 100 });
    assert.deepEqual(r, { epochs: 6, mistakes: [1, 3, 3, 2, 1, 0], converged: true });
    assert.deepEqual([...p.weight.data, ...p.bias.data], [2, 1, -2]);
    assert.deepEqual(p.predict(tensor([[0, 0], [0, 1], [1, 0], [1, 1]])), [0, 0, 0, 1]);
  });

  test('XOR never converges: every pass makes a mistake (no line separates it) and the weights cycle', () => {
    const p = new Perceptron(2);
    const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const states: string[] = [];
    for (let pass = 0; pass < 50; pass++) {
      const r = p.fit(x, [0, 1, 1, 0], { epochs: 1 });
      ok(r.mistakes[0] > 0 && !r.converged, `pass ${pass + 1} makes a mistake`);
      states.push([...p.weight.data, ...p.bias.data].join());
    }
    ok(new Set(states).size < states.length, 'the weights at the end of a pass repeat');
  });

  test('MNIST digit 0 against digit 1: test accuracy >= 99%', async () => {
    const load = async (split: 'train' | 'test') => {
      const d = await loadMnist({ split });
      return { images: normalize(d.images, MNIST_MEAN, MNIST_STD), labels: d.labels };
    };
    const [train, testSplit] = await Promise.all([load('train'), load('test')]);
    const r = trainPerceptron(new Perceptron(784), { train, test: testSplit }, { epochs: 5, generator: new Generator(0) });
    // MNIST has 12,665 training and 2,115 test images of 0 and 1.
    assert.equal(r.trainImages, 12_665);
    assert.equal(r.testImages, 2115);
    ok(r.test.accuracy >= 0.99, `test accuracy ${r.test.accuracy}`);
    ok(r.history[0].trainLoss < 0.05, `first pass error rate ${r.history[0].trainLoss}`);
  });

  test('stride train perceptron trains by the rule on 0 against 1, and refuses the gradient options', async () => {
    const r = await stride('train', 'perceptron', '--dataset', 'mnist', '--limit', '3000', '--test-limit', '1000', '--no-save', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Rosenblatt's rule/);
    assert.match(r.stdout, /digit 0 \(output 0\) against digit 1 \(output 1\)/);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { testAccuracy: number; trainImages: number; batchSize: number };
    ok(summary.testAccuracy >= 0.99, `test accuracy ${summary.testAccuracy}`);
    assert.equal(summary.batchSize, 1);
    ok(summary.trainImages > 500 && summary.trainImages < 3000, `only the 0s and 1s of 3,000 images: ${summary.trainImages}`);
    const bad = await stride('train', 'perceptron', '--optimizer', 'adam', '--limit', '100', '--test-limit', '100', '--no-save');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Rosenblatt's rule, not by gradients: --optimizer do(es)? not apply/);
  });

  test('stride train lenet5-1998 --dataset mnist runs end to end', async () => {
    const r = await stride('train', 'lenet5-1998', '--dataset', 'mnist', '--limit', '128', '--test-limit', '128', '--lr', '0.01', '--no-save', '--json');
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { model: string; testImages: number };
    assert.equal(summary.model, 'lenet5-1998');
    assert.equal(summary.testImages, 128);
  });
});
