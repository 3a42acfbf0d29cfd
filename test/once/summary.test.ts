/**
 * summary() and `stride summary`: the lectures' counting exercises (LeNet's
 * first layer on 32x32x3, AlexNet's first layer, overlapping pooling, ten
 * 5x5 filters), receptive fields worked by hand (a chain, dilation, the
 * P + K - 1 rule, a residual block whose branches see different pixels,
 * ResNet-18's last convolution), grouped and transposed convolutions counted
 * by hand, torchvision's parameter totals, and multiply-accumulates compared
 * layer by layer with forward hooks on torchvision's models (generated here by
 * /usr/bin/python3; skipped with the reason when torch is not installed).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { F, Generator, ShapeError, ValueError, createModel, formatSummary, nn, summary, type LayerSummary, type ModelSummary } from '../../src/index.js';
import { saveCheckpoint } from '../../src/node.js';
import { stride, throwsWith, withTempDir } from '../helpers/index.js';

const g = () => new Generator(0);

/** The row of layer `name`. */
function row(s: ModelSummary, name: string): LayerSummary {
  const r = s.layers.find((l) => l.name === name);
  assert.ok(r, `no row '${name}' in ${s.layers.map((l) => l.name).join(', ')}`);
  return r;
}

/** The lectures' four answers for a layer. */
function lectureCounts(r: LayerSummary) {
  return { weightsPerNeuron: r.weightsPerNeuron, neurons: r.neurons, connections: r.connections, params: r.params };
}

describe("the lectures' counting exercises", () => {
  test('LeNet conv1 on 32x32x3, 6 filters 5x5: 76 weights per neuron, 4,704 neurons, 357,504 connections, 456 parameters', () => {
    const s = summary(new nn.Sequential(new nn.Conv2d(3, 6, 5, { generator: g() })), [3, 32, 32]);
    assert.deepEqual(row(s, '0').outputShape, [6, 28, 28]);
    assert.deepEqual(lectureCounts(row(s, '0')), { weightsPerNeuron: 76, neurons: 4704, connections: 357_504, params: 456 });
    assert.equal(s.totalParams, 456);
  });

  for (const [input, padding] of [[227, 0], [224, 2]] as const) {
    test(`AlexNet conv1 (96 filters 11x11 stride 4, ${input}x${input}x3, pad ${padding}): 364, 290,400, 105,705,600, 34,944; 3x3/2 pooling 55 -> 27, no parameters`, () => {
      const net = new nn.Sequential({ conv1: new nn.Conv2d(3, 96, 11, { stride: 4, padding, generator: g() }), pool1: new nn.MaxPool2d(3, { stride: 2 }) });
      const s = summary(net, [3, input, input]);
      assert.deepEqual(row(s, 'conv1').outputShape, [96, 55, 55]);
      assert.deepEqual(lectureCounts(row(s, 'conv1')), { weightsPerNeuron: 364, neurons: 290_400, connections: 105_705_600, params: 34_944 });
      assert.deepEqual(row(s, 'pool1').outputShape, [96, 27, 27]);
      assert.equal(row(s, 'pool1').params, 0);
      assert.equal(row(s, 'pool1').macs, 0);
      // Multiply-accumulates: 290,400 units x 363 weights, the bias not counted.
      assert.equal(row(s, 'conv1').macs, 290_400 * 363);
      assert.equal(row(s, 'conv1').flops, 2 * 290_400 * 363);
    });
  }

  test('ten 5x5 filters, stride 1, pad 2 on 32x32x3: 32x32x10 and 760 parameters', () => {
    const s = summary(new nn.Conv2d(3, 10, 5, { padding: 2, generator: g() }), [3, 32, 32]);
    assert.equal(s.layers.length, 1);
    assert.equal(s.layers[0].name, '');
    assert.deepEqual(s.layers[0].outputShape, [10, 32, 32]);
    assert.equal(s.layers[0].params, 760);
    assert.equal(s.totalParams, 760);
  });

  test('a pooling unit after a stride-1 KxK convolution sees (P + K - 1) x (P + K - 1) pixels', () => {
    for (const [k, p] of [[5, 2], [3, 2], [3, 3], [7, 4], [1, 2]]) {
      const s = summary(new nn.Sequential(new nn.Conv2d(1, 2, k, { generator: g() }), new nn.MaxPool2d(p)), [1, 24, 24]);
      assert.deepEqual(row(s, '1').receptiveField.size, [p + k - 1, p + k - 1], `K ${k}, P ${p}`);
    }
  });
});

describe('receptive fields by hand', () => {
  test('a chain: 3x3 pad 1, 3x3 stride 2 pad 1, 3x3 pad 0, 2x2 pooling', () => {
    const net = new nn.Sequential(
      new nn.Conv2d(1, 1, 3, { padding: 1, generator: g() }),
      new nn.Conv2d(1, 1, 3, { stride: 2, padding: 1, generator: g() }),
      new nn.Conv2d(1, 1, 3, { generator: g() }),
      new nn.MaxPool2d(2),
    );
    const s = summary(net, [1, 16, 16]);
    // size += (k-1)*jump, jump *= stride, start -= pad*jump:
    // 3, 1, -1; 3 + 2 = 5, 2, -2; 5 + 2*2 = 9, 2, -2; 9 + 1*2 = 11, 4, -2.
    const rf = s.layers.map((l) => [l.receptiveField.size[0], l.receptiveField.jump[0], l.receptiveField.start[0]]);
    assert.deepEqual(rf, [[3, 1, -1], [5, 2, -2], [9, 2, -2], [11, 4, -2]]);
  });

  test('dilation 2: a 3x3 filter spans 5x5 pixels; two of them 9x9 (11 -> 7 -> 3)', () => {
    const net = new nn.Sequential(new nn.Conv2d(1, 1, 3, { dilation: 2, generator: g() }), new nn.Conv2d(1, 1, 3, { dilation: 2, generator: g() }));
    const s = summary(net, [1, 11, 11]);
    assert.deepEqual(row(s, '0').outputShape, [1, 7, 7]);
    assert.deepEqual(row(s, '1').outputShape, [1, 3, 3]);
    assert.deepEqual(row(s, '0').receptiveField, { size: [5, 5], jump: [1, 1], start: [0, 0] });
    assert.deepEqual(row(s, '1').receptiveField, { size: [9, 9], jump: [1, 1], start: [0, 0] });
    // The lectures' 7x7 input: 3x3 output, still 9 weights per unit plus the bias.
    const lecture = summary(new nn.Conv2d(1, 1, 3, { dilation: 2, generator: g() }), [1, 7, 7]);
    assert.deepEqual(lecture.layers[0].outputShape, [1, 3, 3]);
    assert.equal(lecture.layers[0].weightsPerNeuron, 10);
  });

  // The body's first unit sees rows -2..0 (padding 2 before), the shortcut's 0..2 (padding 2 after):
  // each branch alone sees 3 pixels, their sum sees -2..2, 5 pixels starting at -2.
  const body = () => new nn.Conv2d(1, 1, 3, { padding: [2, 0, 2, 0], generator: g() });
  const shortcut = () => new nn.Conv2d(1, 1, 3, { padding: [0, 2, 0, 2], generator: g() });
  const merged = { size: [5, 5], jump: [1, 1], start: [-2, -2] };

  test('a residual block (functional add inside the block) merges both branches: 5 pixels from -2', () => {
    const s = summary(new nn.Sequential({ block: new nn.Residual(body(), shortcut()), relu: new nn.ReLU() }), [1, 8, 8]);
    assert.deepEqual(row(s, 'block.body').receptiveField, { size: [3, 3], jump: [1, 1], start: [-2, -2] });
    assert.deepEqual(row(s, 'block.shortcut').receptiveField, { size: [3, 3], jump: [1, 1], start: [0, 0] });
    assert.deepEqual(row(s, 'relu').receptiveField, merged);
    // The block's own output: the sum, before the ReLU; its parameters are both convolutions'.
    assert.deepEqual(s.blocks.map((b) => [b.name, b.type, b.params, b.layers]), [['block', 'Residual', 20, [0, 2]]]);
    assert.deepEqual(s.blocks[0].receptiveField, merged);
  });

  test('the same block as a Graph with an Add node', () => {
    const net = new nn.Graph({
      inputs: ['x'],
      nodes: { body: { module: body(), inputs: ['x'] }, shortcut: { module: shortcut(), inputs: ['x'] }, sum: { module: new nn.Add(), inputs: ['body', 'shortcut'] } },
      outputs: ['sum'],
    });
    assert.deepEqual(row(summary(net, [1, 8, 8]), 'sum').receptiveField, merged);
  });

  test('up-sampling: nearest x2 keeps the field, halves the jump; bilinear x2 sees one more input unit', () => {
    for (const [mode, size] of [['nearest', 3], ['bilinear', 4]] as const) {
      const s = summary(new nn.Sequential(new nn.Conv2d(1, 1, 3, { padding: 1, generator: g() }), new nn.Upsample({ scaleFactor: 2, mode })), [1, 6, 6]);
      // Bilinear output unit 1 (source 0.25) reads input units 0 and 1: 3 + 1 pixels.
      assert.deepEqual(row(s, '1').receptiveField.size, [size, size], mode);
      assert.deepEqual(row(s, '1').receptiveField.jump, [0.5, 0.5], mode);
    }
  });

  test('flattened and linear layers see the whole covered field', () => {
    const s = summary(createModel('lenet5'), [1, 28, 28]);
    // conv1 5x5 pad 2, pool 2, conv2 5x5, pool 2: 16 pixels, jump 4, from -2; 5 units: 4*4 + 16 = 32 pixels.
    assert.deepEqual(row(s, 'pool2').receptiveField, { size: [16, 16], jump: [4, 4], start: [-2, -2] });
    for (const name of ['flatten', 'fc1', 'fc3']) assert.deepEqual(row(s, name).receptiveField.size, [32, 32], name);
    assert.deepEqual(row(s, 'fc1').receptiveField.start, [-2, -2]);
  });
});

describe('grouped and transposed convolutions, counted by hand', () => {
  test('Conv2d(4, 6, 3, groups 2) on 4x8x8: 2*3*3 + 1 = 19 per unit, 216 units', () => {
    const r = summary(new nn.Conv2d(4, 6, 3, { groups: 2, generator: g() }), [4, 8, 8]).layers[0];
    assert.deepEqual(lectureCounts(r), { weightsPerNeuron: 19, neurons: 216, connections: 216 * 19, params: 6 * 18 + 6 });
    assert.equal(r.macs, 216 * 18);
  });

  test('depthwise Conv2d(8, 8, 3, groups 8, no bias) on 8x10x10: 9 per unit', () => {
    const r = summary(new nn.Conv2d(8, 8, 3, { groups: 8, bias: false, generator: g() }), [8, 10, 10]).layers[0];
    assert.deepEqual(lectureCounts(r), { weightsPerNeuron: 9, neurons: 512, connections: 4608, params: 72 });
  });

  test('ConvTranspose2d(2, 3, 3, stride 2) on 2x4x4: every input times the whole kernel, 32 * 3 * 9 = 864 MACs', () => {
    const r = summary(new nn.ConvTranspose2d(2, 3, 3, { stride: 2, generator: g() }), [2, 4, 4]).layers[0];
    assert.deepEqual(r.outputShape, [3, 9, 9]);
    assert.equal(r.macs, 864);
    assert.equal(r.connections, 864 + 243);
    assert.equal(r.params, 2 * 3 * 9 + 3);
    // Output unit o reads input i where o - 2i is a tap 0..2: unit 1 reads input 0 (tap 1), unit 2 inputs 1 (tap 0) and 0
    // (tap 2): 2 input units, half an input unit apart. Unit 0 reads input 0 (tap 0) and, as a padded window
    // would, the input -1 before the image (tap 2): the field starts at -1.
    assert.deepEqual(r.receptiveField, { size: [2, 2], jump: [0.5, 0.5], start: [-1, -1] });
  });

  test('ConvTranspose2d(2, 3, 3, stride 2, padding 1) on 2x4x4: the cropped taps are not counted', () => {
    const r = summary(new nn.ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1, generator: g() }), [2, 4, 4]).layers[0];
    assert.deepEqual(r.outputShape, [3, 7, 7]);
    // Per axis 4 inputs x 3 taps = 12 placements, of which 2i - 1 + k = -1 (i 0, k 0) and 7 (i 3, k 2) fall outside: 10.
    assert.equal(r.macs, 3 * 2 * 10 * 10);
  });
});

describe('memory, totals and the trace', () => {
  test('activation memory: each output in float32 bytes, the total their sum', () => {
    const s = summary(new nn.Sequential(new nn.Conv2d(1, 2, 3, { generator: g() }), new nn.ReLU(), new nn.Flatten()), [1, 5, 5]);
    assert.deepEqual(s.layers.map((l) => l.activationBytes), [72, 72, 72]);
    assert.equal(s.activationBytes, 216);
    assert.equal(s.inputBytes, 100);
  });

  test('a module called twice has two rows and its parameters once', () => {
    const conv = new nn.Conv2d(2, 2, 3, { padding: 1, generator: g() });
    const s = summary(new nn.Sequential(conv, new nn.ReLU(), conv), [2, 6, 6]);
    // Named where it is first found, as PyTorch's named_modules names a shared module.
    assert.deepEqual(s.layers.map((l) => [l.name, l.params]), [['0', 38], ['1', 0], ['0', 0]]);
    assert.equal(s.totalParams, 38);
    assert.equal(s.macs, 2 * 2 * 36 * 18);
    assert.deepEqual(s.layers[2].receptiveField.size, [5, 5]);
  });

  test('frozen parameters are counted but not as trainable', () => {
    const net = new nn.Sequential(new nn.Conv2d(1, 2, 3, { generator: g() }), new nn.Linear(2, 3, { generator: g() }));
    for (const p of net.at(0).parameters()) p.requiresGrad_(false);
    const s = summary(new nn.Sequential(net.at(0), new nn.GlobalAvgPool2d({ keepDims: false }), net.at(1)), [1, 5, 5]);
    assert.equal(s.totalParams, 20 + 9);
    assert.equal(s.trainableParams, 9);
    assert.equal(s.layers[0].trainableParams, 0);
  });

  test('the model is left as it was: training flags, running statistics, forward', () => {
    const bn = new nn.BatchNorm2d(2);
    const net = new nn.Sequential(new nn.Conv2d(1, 2, 3, { generator: g() }), bn, new nn.Dropout(0.5));
    summary(net, [1, 6, 6]);
    assert.equal(net.training, true);
    assert.equal(bn.training, true);
    assert.equal(bn.numBatchesTracked!.data[0], 0);
    assert.deepEqual([...bn.runningMean!.data], [0, 0]);
    for (const [, m] of net.namedModules()) assert.equal(Object.hasOwn(m, 'forward'), false);
    net.eval();
    summary(net, [1, 6, 6]);
    assert.equal(bn.training, false);
  });

  test('an undescribed layer that resizes the image is given the whole field, with a warning', () => {
    class HalfPool extends nn.Module {
      forward(x: import('../../src/index.js').Tensor) {
        return F.maxPool2d(x, 2);
      }
    }
    const s = summary(new nn.Sequential(new nn.Conv2d(1, 1, 3, { padding: 1, generator: g() }), new HalfPool()), [1, 8, 8]);
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0], /^1 \(HalfPool\) turns 8x8 units into 4x4/);
    // The conv's field is 3 pixels from -1, 8 units: the whole covered field is 10 pixels.
    assert.deepEqual(row(s, '1').receptiveField.size, [10, 10]);
  });

  test('bad arguments are named', () => {
    const conv = new nn.Conv2d(1, 1, 3, { generator: g() });
    throwsWith(() => summary(conv, [0, 5, 5]), ValueError, 'inputShape', '[0,5,5]');
    throwsWith(() => summary(conv, [1, 2, 3, 4]), ValueError, '[channels, height, width]');
    throwsWith(() => summary({} as never, [1, 5, 5]), ValueError, 'must be a Module');
    throwsWith(() => summary(conv, [2, 5, 5]), ShapeError, 'Conv2d does not run on one image of shape [2, 5, 5]');
    throwsWith(() => formatSummary({} as never), ValueError, 'summary() returns');
  });
});

/** Per model: parameters and, per conv/linear module name, MACs at 3x224x224 by forward hooks; or why not. */
async function torchvisionMacs(names: string[]): Promise<Record<string, { params: number; macs: Record<string, number> }> | string> {
  const script = [
    'import json, sys, torch, torchvision',
    'out = {}',
    'for name in sys.argv[1:]:',
    '    m = getattr(torchvision.models, name)().eval()',
    '    macs = {}',
    '    def hook(mod, inp, outp, key):',
    '        if isinstance(mod, torch.nn.Conv2d):',
    '            macs[key] = outp.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]',
    '        else:',
    '            macs[key] = mod.in_features * mod.out_features',
    '    for key, mod in m.named_modules():',
    '        if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):',
    '            mod.register_forward_hook(lambda mod, i, o, key=key: hook(mod, i, o, key))',
    '    with torch.no_grad():',
    '        m(torch.zeros(1, 3, 224, 224))',
    '    out[name] = {"params": sum(p.numel() for p in m.parameters()), "macs": macs}',
    'print(json.dumps(out))',
  ].join('\n');
  // Run alongside the models built here (torch takes seconds to start).
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }>((resolve) => {
    const child = spawn('/usr/bin/python3', ['-c', script, ...names], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => resolve({ code: null, stdout, stderr, error }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  if (r.error || r.code !== 0) return `python3 with torch and torchvision is not available (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`;
  return JSON.parse(r.stdout) as Record<string, { params: number; macs: Record<string, number> }>;
}

describe('torchvision models at 3x224x224', () => {
  // torchvision's documented parameter counts, and the multiply-accumulates worked out by hand
  // (ResNet-18's 1.814 G: conv1 118.0 M + four stages of 3x3 convolutions 462.4 M each, less where
  // strided, plus the 1x1 shortcuts and fc; AlexNet 0.714 G; VGG-16 15.47 G).
  const KNOWN = { alexnet: [61_100_840, '0.714'], vgg16: [138_357_544, '15.47'], resnet18: [11_689_512, '1.814'], resnet50: [25_557_032, '4.089'] } as const;
  const names = Object.keys(KNOWN) as (keyof typeof KNOWN)[];
  const torchvision = torchvisionMacs(names);
  const summaries = new Map<string, ModelSummary>();
  const of = (name: keyof typeof KNOWN) => {
    if (!summaries.has(name)) summaries.set(name, summary(createModel(name, { generator: g() }), [3, 224, 224]));
    return summaries.get(name)!;
  };

  for (const name of names) {
    test(`${name}: ${KNOWN[name][0].toLocaleString('en-US')} parameters and ${KNOWN[name][1]} G multiply-accumulates`, () => {
      const s = of(name);
      assert.equal(s.totalParams, KNOWN[name][0]);
      assert.equal(s.trainableParams, KNOWN[name][0]);
      assert.equal(s.layers.reduce((n, l) => n + l.params, 0), KNOWN[name][0], 'the rows hold every parameter once');
      const digits = KNOWN[name][1].split('.')[1].length;
      assert.equal((s.macs / 1e9).toFixed(digits), KNOWN[name][1]);
      assert.deepEqual(s.warnings, []);
    });
  }

  test('ResNet-18: the last convolution sees 435 pixels (hand: 7/2, pool 3/2, then +2 jumps per 3x3 conv)', () => {
    // conv1 7, jump 2, start -3; maxpool 11, 4, -5; layer1 four 3x3: 43, 4, -21;
    // layer2 (first stride 2): 51, 8, -25 and three more: 99, 8, -49; layer3: 115, 16, -57 ... 211, 16, -105;
    // layer4: 243, 32, -121 ... 435, 32, -217. The 1x1 shortcuts see less and change nothing.
    const s = of('resnet18');
    assert.deepEqual(row(s, 'layer4.1.conv2').receptiveField, { size: [435, 435], jump: [32, 32], start: [-217, -217] });
    assert.deepEqual(row(s, 'layer2.0.downsample.0').receptiveField, { size: [43, 43], jump: [8, 8], start: [-21, -21] });
    assert.deepEqual(row(s, 'layer1.1.conv1').receptiveField.size, [35, 35]);
    // Average pooling over the 7x7 units: 6*32 + 435 = 627 pixels from -217.
    assert.deepEqual(row(s, 'fc').receptiveField.size, [627, 627]);
    assert.deepEqual(row(s, 'fc').receptiveField.start, [-217, -217]);
    // The first basic block: two 3x3x64x64 convolutions and two batch norms; its output sees what its body sees, 11 + 2*8.
    const block = s.blocks.find((b) => b.name === 'layer1.0')!;
    assert.equal(block.params, 2 * 36_864 + 2 * 128);
    assert.equal(block.macs, 2 * 56 * 56 * 64 * 576);
    assert.deepEqual(block.receptiveField.size, [27, 27]);
  });

  test("per-layer multiply-accumulates equal those of torchvision's convolution and linear layers (forward hooks)", async (t) => {
    const theirs = await torchvision;
    if (typeof theirs === 'string') {
      t.skip(theirs);
      return;
    }
    for (const name of names) {
      const s = of(name);
      const ours = Object.fromEntries(s.layers.filter((l) => l.type === 'Conv2d' || l.type === 'Linear').map((l) => [l.name, l.macs]));
      assert.deepEqual(ours, theirs[name].macs, name);
      assert.equal(s.macs, Object.values(theirs[name].macs).reduce((a, b) => a + b, 0), name);
      assert.equal(s.totalParams, theirs[name].params, name);
    }
  });
});

describe('stride summary', () => {
  /** Column starts of the table's header, and the table's rows. */
  function table(text: string): { starts: number[]; rows: string[] } {
    const lines = text.split('\n');
    const rules = lines.flatMap((l, i) => (/^=+$/.test(l) ? [i] : []));
    const header = lines[rules[0] + 1];
    const starts = [...header.matchAll(/(?:^|\s{2})(\S)/g)].map((m) => m.index! + m[0].length - 1);
    return { starts, rows: lines.slice(rules[1] + 1, rules[2]) };
  }

  function assertAligned(text: string) {
    const { starts, rows } = table(text);
    assert.equal(starts.length, 12, 'twelve columns');
    assert.ok(rows.length > 0);
    for (const r of rows) {
      for (const at of starts) {
        assert.ok(r[at] !== undefined && r[at] !== ' ' && (at === 0 || r.slice(at - 2, at) === '  '), `column at ${at} does not start there in:\n${r}`);
      }
    }
  }

  test('lenet5 --json: one JSON line with the documented keys and the model\'s numbers', async () => {
    const r = await stride('summary', 'lenet5', '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    for (const key of ['model', 'input', 'layers', 'totalParams', 'trainableParams', 'macs']) assert.ok(key in s, `key ${key}`);
    assert.equal(s.model, 'lenet5');
    assert.deepEqual(s.input, [1, 28, 28]);
    // LeNet-5 here: 6@5x5 (156), 16@5x5x6 (2,416), 400-120 (48,120), 120-84 (10,164), 84-10 (850).
    assert.equal(s.totalParams, 156 + 2416 + 48_120 + 10_164 + 850);
    assert.equal(s.macs, 6 * 28 * 28 * 25 + 16 * 10 * 10 * 150 + 400 * 120 + 120 * 84 + 84 * 10);
    for (const l of s.layers) {
      for (const key of ['name', 'type', 'outputShape', 'params', 'trainableParams', 'neurons', 'weightsPerNeuron', 'connections', 'macs', 'receptiveField']) assert.ok(key in l, `layer key ${key}`);
      assert.deepEqual(Object.keys(l.receptiveField), ['size', 'jump', 'start']);
    }
    assert.deepEqual(s.layers.map((l: LayerSummary) => l.name), ['conv1', 'relu1', 'pool1', 'conv2', 'relu2', 'pool2', 'flatten', 'fc1', 'relu3', 'fc2', 'relu4', 'fc3']);
  });

  test('the table has aligned columns (every row starts each column where the header does)', async () => {
    const r = await stride('summary', 'lenet5');
    assert.equal(r.code, 0, r.stderr);
    assertAligned(r.stdout);
    assert.match(r.stdout, /Total params: 61,706/);
    // A model with dotted names and fractional counts formats the same way.
    const net = new nn.Sequential({ block: new nn.Residual(new nn.Sequential(new nn.Conv2d(2, 2, 3, { padding: 1, generator: g() }), new nn.BatchNorm2d(2))), up: new nn.ConvTranspose2d(2, 1, 3, { stride: 2, padding: 1, generator: g() }) });
    assertAligned(formatSummary(summary(net, [2, 5, 5])));
    // With blocks: a row for the residual block and one for its body, before their layers, names indented by depth.
    const lines = formatSummary(summary(net, [2, 5, 5]), { blocks: true }).split('\n');
    const names = lines.slice(lines.findIndex((l) => l.startsWith('Layer')) + 2).map((l) => /^( *\S+)/.exec(l)?.[1] ?? '');
    assert.deepEqual(names.slice(0, 5), ['block', '  block.body', '    block.body.0', '    block.body.1', 'up']);
  });

  test('--input and a checkpoint folder', async () => {
    const r = await stride('summary', 'resnet18', '--input', '1x64x64', '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.input, [1, 64, 64]);
    // One input channel: conv1 has 64*1*7*7 weights instead of 64*3*7*7.
    assert.equal(s.totalParams, 11_689_512 - 64 * 2 * 49);
    assert.deepEqual(s.layers.at(-1).outputShape, [1000]);
    await withTempDir('stride-summary-', async (dir) => {
      await saveCheckpoint(dir, createModel('lenet5', { numClasses: 10, inChannels: 1 }), { model: 'lenet5', modelOptions: { numClasses: 10, inChannels: 1 } });
      const c = await stride('summary', dir, '--json');
      assert.equal(c.code, 0, c.stderr);
      const cs = JSON.parse(c.stdout);
      assert.deepEqual(cs.input, [1, 28, 28]);
      assert.equal(cs.totalParams, 61_706);
      assert.equal(cs.model, dir);
    });
    const bad = await stride('summary', 'lenet5', '--input', '3x0x5');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /CxHxW/);
    const unknown = await stride('summary', join('no', 'such', 'model'));
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown model/);
  });
});
