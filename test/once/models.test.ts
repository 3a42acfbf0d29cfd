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
import { Generator, createModel, models, nn, randn, noGrad } from '../../src/index.js';
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
