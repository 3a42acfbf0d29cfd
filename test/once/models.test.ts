/**
 * The torchvision models (AlexNet, VGG, ResNet): parameter counts as
 * torchvision's documentation gives them, and, where Python with torch and
 * torchvision is installed, the same state-dict keys and shapes as the model
 * torchvision builds (generated here by /usr/bin/python3; skipped with the
 * reason otherwise). Structure only: the forward pass runs on a small input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { Generator, LeNet5, createModel, models, nn, randn, noGrad } from '../../src/index.js';
import { runTorch } from '../helpers/index.js';
import type { Module } from '../../src/nn/index.js';

/** torchvision's documented parameter counts (1,000 classes). */
const TORCHVISION_PARAMS: Record<string, number> = {
  alexnet: 61_100_840,
  vgg11: 132_863_336,
  vgg11_bn: 132_868_840,
  vgg13: 133_047_848,
  vgg13_bn: 133_053_736,
  vgg16: 138_357_544,
  vgg16_bn: 138_365_992,
  vgg19: 143_667_240,
  vgg19_bn: 143_678_248,
  resnet18: 11_689_512,
  resnet34: 21_797_672,
  resnet50: 25_557_032,
  resnet101: 44_549_160,
};

/**
 * Built here: a VGG takes seconds to initialize (133-144M parameters), so one
 * stands for the VGG family (vgg11_bn: convolutions, batch norms, classifier).
 */
const BUILT = ['alexnet', 'vgg11_bn', 'resnet18', 'resnet34', 'resnet50', 'resnet101'];

const built = new Map<string, Module>();
function model(name: string): Module {
  let m = built.get(name);
  if (!m) built.set(name, (m = createModel(name, { generator: new Generator(0) })));
  return m;
}

/** name -> [key, shape][] of torchvision's state dict, or the reason it could not be read. */
function torchvisionStateDicts(names: string[]): Record<string, [string, number[]][]> | string {
  const script = [
    'import json, sys, torch, torchvision',
    'out = {}',
    'for name in sys.argv[1:]:',
    '    m = getattr(torchvision.models, name)()',
    '    out[name] = [[k, list(v.shape)] for k, v in m.state_dict().items()]',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script, ...names], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) return `python3 with torch and torchvision is not available (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`;
  return JSON.parse(r.stdout) as Record<string, [string, number[]][]>;
}

describe('torchvision models', () => {
  test('every torchvision model is registered by its torchvision name', () => {
    for (const name of Object.keys(TORCHVISION_PARAMS)) assert.ok(name in models, `${name} is not in the model registry`);
  });

  for (const name of BUILT) {
    test(`${name}: ${TORCHVISION_PARAMS[name].toLocaleString('en-US')} parameters, as torchvision's`, () => {
      assert.equal(model(name).parameters().reduce((s, p) => s + p.size, 0), TORCHVISION_PARAMS[name]);
    });
  }

  test('state-dict keys and shapes equal torchvision\'s (alexnet, vgg11_bn, resnet18, resnet50)', (t) => {
    const names = ['alexnet', 'vgg11_bn', 'resnet18', 'resnet50'];
    const theirs = torchvisionStateDicts(names);
    if (typeof theirs === 'string') {
      t.skip(theirs);
      return;
    }
    for (const name of names) {
      const ours = new Map(Object.entries(nn.toPytorchStateDict(model(name).stateDict())).map(([k, v]): [string, number[]] => [k, [...v.shape]]));
      // PyTorch stores num_batches_tracked as a 0-d tensor, as Stride does.
      assert.deepEqual(ours, new Map(theirs[name]), `${name}: state dict differs from torchvision's`);
    }
  });

  test('resnet18 and alexnet map a 2x3x64x64 batch to 2x10 scores (adaptive pooling takes sizes other than 224)', () => {
    const x = randn([2, 3, 64, 64], { generator: new Generator(1) });
    for (const name of ['resnet18', 'alexnet']) {
      const m = createModel(name, { numClasses: 10, generator: new Generator(2) });
      m.eval();
      const y = noGrad(() => m.forward(x));
      assert.deepEqual(y.shape, [2, 10], name);
      assert.ok([...y.data].every(Number.isFinite), `${name}: non-finite scores`);
    }
  });
});

describe('LeNet-5 sized for its input', () => {
  test("1x28x28 keeps MNIST's layout and names: fc1 400 inputs, 61,706 parameters", () => {
    const plain = createModel('lenet5');
    const sized = createModel('lenet5', { inputShape: [1, 28, 28] });
    const shapes = (m: Module) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape]));
    assert.deepEqual(shapes(sized), shapes(plain));
    assert.deepEqual(Object.keys(sized.stateDict()), ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
    assert.equal(sized.numParameters(), 61_706);
  });

  test('fc1 takes 16 * floor((floor(H/2) - 4) / 2) * floor((floor(W/2) - 4) / 2) inputs: 576 for 3x32x32, 1,280 for 3x40x48', () => {
    for (const [shape, inputs] of [[[3, 32, 32], 576], [[3, 40, 48], 1280], [[1, 12, 13], 16]] as const) {
      const m = createModel('lenet5', { inputShape: shape, numClasses: 7, generator: new Generator(0) });
      assert.deepEqual(m.stateDict()['fc1.weight'].shape, [120, inputs], `inputShape ${shape.join('x')}`);
      assert.deepEqual(m.stateDict()['conv1.weight'].shape, [6, shape[0], 5, 5]);
      assert.deepEqual(noGrad(() => m.eval().forward(randn([2, ...shape]))).shape, [2, 7]);
    }
    // conv1 6*3*25+6, conv2 16*6*25+16, fc1 576*120+120, fc2 120*84+84, fc3 84*10+10.
    assert.equal(createModel('lenet5', { inputShape: [3, 32, 32] }).numParameters(), 456 + 2416 + 69_240 + 10_164 + 850);
  });

  test('the same network in PyTorch gives the same scores on a 3x40x48 image', (t) => {
    const m = createModel('lenet5', { inputShape: [3, 40, 48], generator: new Generator(3) }).eval();
    const x = randn([2, 3, 40, 48], { generator: new Generator(4) });
    const ours = noGrad(() => m.forward(x));
    const state = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, [[...v.shape], Array.from(v.data)]]));
    const r = runTorch<number[]>(`
import json, sys, torch
from torch import nn
inp = json.load(sys.stdin)
net = nn.Sequential()
for name, layer in [('conv1', nn.Conv2d(3, 6, 5, padding=2)), ('relu1', nn.ReLU()), ('pool1', nn.MaxPool2d(2)), ('conv2', nn.Conv2d(6, 16, 5)), ('relu2', nn.ReLU()),
                    ('pool2', nn.MaxPool2d(2)), ('flatten', nn.Flatten()), ('fc1', nn.Linear(16 * 8 * 10, 120)), ('relu3', nn.ReLU()), ('fc2', nn.Linear(120, 84)),
                    ('relu4', nn.ReLU()), ('fc3', nn.Linear(84, 10))]:
    net.add_module(name, layer)
net.load_state_dict({k: torch.tensor(v[1], dtype=torch.float32).reshape(v[0]) for k, v in inp['state'].items()})
x = torch.tensor(inp['x'], dtype=torch.float32).reshape(2, 3, 40, 48)
print(json.dumps(net(x).detach().flatten().tolist()))
`, { state, x: Array.from(x.data) });
    if (!r.ok) return t.skip(r.reason);
    assert.equal(r.value.length, 20);
    r.value.forEach((v, i) => assert.ok(Math.abs(v - ours.data[i]) <= 1e-4 * (1 + Math.abs(v)), `score ${i}: ${ours.data[i]} vs PyTorch ${v}`));
  });

  test('an image below 12x12, or inChannels that disagree with inputShape, is refused with the reason', () => {
    assert.throws(() => createModel('lenet5', { inputShape: [3, 11, 32] }), /LeNet5: a 11x32 image is too small: .*at least 12x12/);
    assert.throws(() => new LeNet5({ inputShape: [3, 32, 32], inChannels: 1 }), /LeNet5: inChannels 1 disagrees with inputShape \[3, 32, 32\]/);
    assert.throws(() => new LeNet5({ inputShape: [3, 32] }), /LeNet5: inputShape must be one image's \[C, H, W\]/);
  });
});
