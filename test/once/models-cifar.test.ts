/**
 * The CIFAR-10 ResNets (He et al., 2015, section 4.2): parameter counts by
 * hand arithmetic, the option-A shortcut's values and gradient, shapes
 * through the stages, names, initialization, and, where PyTorch is
 * installed, the same function as the widely used PyTorch implementation
 * (github.com/akamaster/pytorch_resnet_cifar10, its layout written out in the
 * script below) with Stride's weights loaded into it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CifarResNet, Generator, ShapeError, ValueError, ZeroPadShortcut, arange, createModel, getModelSpec, nn, noGrad, randn, tensor } from '../../src/index.js';
import { assertClose, assertGradcheck, ok, runTorch, seeded, stateDictJson, throwsWith } from '../helpers/index.js';

/**
 * Parameters of the 6n+2 network at 10 classes and c input channels, counted
 * layer by layer (3x3 convolutions without bias; a batch norm has 2 per channel):
 *   conv1 c*16*9, bn1 2*16, linear 64*10 + 10 = 650;
 *   stage 1: n blocks of 2 convs 16*16*9 = 2,304 and 2 bns of 32:      4,672 each;
 *   stage 2: first 16*32*9 + 32*32*9 + 2*64 = 4,608 + 9,216 + 128 = 13,952,
 *            then (n-1) x (2*9,216 + 128) = 18,560;
 *   stage 3: first 32*64*9 + 64*64*9 + 2*128 = 18,432 + 36,864 + 256 = 55,552,
 *            then (n-1) x (2*36,864 + 256) = 73,984.
 */
function handCount(n: number, c = 3): number {
  return c * 16 * 9 + 32 + 650 + n * 4_672 + 13_952 + (n - 1) * 18_560 + 55_552 + (n - 1) * 73_984;
}

const DEPTHS = { resnet20: 3, resnet32: 5, resnet44: 7, resnet56: 9, resnet110: 18 } as const;

describe('CIFAR ResNets', () => {
  test('the hand count gives the paper-size figures: resnet20 269,722 (0.27M), resnet110 1,727,962 (1.7M)', () => {
    assert.equal(handCount(3), 269_722);
    assert.equal(handCount(5), 464_154);
    assert.equal(handCount(7), 658_586);
    assert.equal(handCount(9), 853_018);
    assert.equal(handCount(18), 1_727_962);
  });

  for (const [name, n] of Object.entries(DEPTHS)) {
    test(`${name}: depth 6*${n}+2 = ${6 * n + 2}, ${handCount(n).toLocaleString('en-US')} parameters, ${n} blocks per stage`, () => {
      const m = createModel(name, { generator: new Generator(0) }) as CifarResNet;
      assert.equal(m.numParameters(), handCount(n));
      const weighted = m.parameters().filter((p) => p.ndim > 1).length; // convolutions and the linear layer
      assert.equal(weighted, 6 * n + 2);
      for (const stage of [m.layer1, m.layer2, m.layer3]) assert.equal(stage.length, n);
    });
  }

  test('inChannels 1 (MNIST) and inputShape [1, 28, 28] take 16*9*2 = 288 parameters off conv1', () => {
    assert.equal(createModel('resnet20', { inChannels: 1 }).numParameters(), handCount(3, 1));
    assert.equal(createModel('resnet20', { inputShape: [1, 28, 28] }).numParameters(), 269_722 - 288);
    assert.equal(createModel('resnet20', { numClasses: 100 }).numParameters(), 269_722 + 90 * 65);
    throwsWith(() => createModel('resnet20', { inChannels: 3, inputShape: [1, 28, 28] }), ValueError, 'inChannels 3 disagrees with inputShape [1, 28, 28]');
    throwsWith(() => createModel('resnet20', { inputShape: [1, 28] }), ValueError, 'resnet20: inputShape must be', '[1,28]');
    throwsWith(() => new CifarResNet('resnet21' as 'resnet20'), ValueError, 'depth must be one of resnet20, resnet32, resnet44, resnet56, resnet110', '"resnet21"');
    throwsWith(() => new CifarResNet('resnet20', { classes: 10 } as object), ValueError, "unknown option 'classes'");
    assert.deepEqual(getModelSpec('resnet56').inputShape, [3, 32, 32]);
  });

  test('state-dict names as the PyTorch implementation: conv1, bn1, layerS.B.{conv1,bn1,conv2,bn2}, linear; shortcuts without parameters', () => {
    const m = createModel('resnet20');
    const keys = Object.keys(nn.toPytorchStateDict(m.stateDict()));
    const bn = (p: string) => ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((k) => `${p}.${k}`);
    const expected = [...bn('bn1'), 'conv1.weight'];
    for (const s of [1, 2, 3]) for (let b = 0; b < 3; b++) expected.push(`layer${s}.${b}.conv1.weight`, ...bn(`layer${s}.${b}.bn1`), `layer${s}.${b}.conv2.weight`, ...bn(`layer${s}.${b}.bn2`));
    expected.push('linear.weight', 'linear.bias');
    assert.deepEqual([...keys].sort(), expected.sort());
    assert.deepEqual(m.stateDict()['layer2.0.conv1.weight'].shape, [32, 16, 3, 3]);
    assert.deepEqual(m.stateDict()['linear.weight'].shape, [10, 64]);
  });

  test('shapes: 2x3x32x32 -> 16x32x32, 32x16x16, 64x8x8 -> 2x10; 1x28x28 -> 28, 14, 7 -> 2x10', () => {
    const m = createModel('resnet20', { generator: new Generator(1) }) as CifarResNet;
    m.eval();
    let x = randn([2, 3, 32, 32], { generator: new Generator(2) });
    x = noGrad(() => m.relu.forward(m.bn1.forward(m.conv1.forward(x))));
    const shapes: number[][] = [];
    for (const stage of [m.layer1, m.layer2, m.layer3]) {
      x = noGrad(() => stage.forward(x));
      shapes.push([...x.shape]);
    }
    assert.deepEqual(shapes, [[2, 16, 32, 32], [2, 32, 16, 16], [2, 64, 8, 8]]);
    const y = noGrad(() => m.forward(randn([2, 3, 32, 32], { generator: new Generator(3) })));
    assert.deepEqual(y.shape, [2, 10]);
    const mnist = createModel('resnet20', { inputShape: [1, 28, 28] }).eval();
    const z = noGrad(() => mnist.forward(randn([2, 1, 28, 28], { generator: new Generator(4) })));
    assert.deepEqual(z.shape, [2, 10]);
    ok([...z.data].every(Number.isFinite), 'finite scores');
  });

  test('initialization: convolutions N(0, 2 / (9 * outChannels)) (fan-out), batch norm weight 1 and bias 0', () => {
    const m = createModel('resnet20', { generator: new Generator(5) });
    const w = m.stateDict()['layer3.1.conv2.weight']; // 36,864 values, expected std sqrt(2 / 576) = 0.0589
    const values = Array.from(w.data);
    const mean = values.reduce((s, v) => s + v, 0) / w.size;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / w.size);
    ok(Math.abs(std / Math.sqrt(2 / 576) - 1) < 0.03, `std ${std}, expected ${Math.sqrt(2 / 576)}`);
    ok(Math.abs(mean) < 0.002, `mean ${mean}`);
    const bn = m.stateDict();
    assert.ok([...bn['layer2.0.bn2.weight'].data].every((v) => v === 1));
    assert.ok([...bn['layer2.0.bn2.bias'].data].every((v) => v === 0));
  });
});

describe('ZeroPadShortcut (option A)', () => {
  test('2 -> 4 channels, stride 2, on a 1x2x4x4 ramp: zeros, x[0,0,::2,::2], x[0,1,::2,::2], zeros', () => {
    const x = arange(0, 32).reshape([1, 2, 4, 4]);
    const y = new ZeroPadShortcut(2, 4, 2).forward(x);
    assert.deepEqual(y.shape, [1, 4, 2, 2]);
    // Channel 0 of x holds 0..15 row by row: rows 0 and 2, columns 0 and 2 are 0, 2, 8, 10; channel 1 adds 16.
    assert.deepEqual([...y.data], [0, 0, 0, 0, 0, 2, 8, 10, 16, 18, 24, 26, 0, 0, 0, 0]);
  });

  test('an odd number of new channels puts the extra one after; stride 2 of 3 rows keeps rows 0 and 2; stride 1 only pads', () => {
    const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
    const y = new ZeroPadShortcut(1, 4, 2).forward(x);
    assert.deepEqual(y.shape, [1, 4, 2, 2]);
    assert.deepEqual([...y.data], [0, 0, 0, 0, 1, 3, 7, 9, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(new ZeroPadShortcut(1, 4, 2).padding, [1, 2]);
    const same = new ZeroPadShortcut(1, 2, 1).forward(x);
    assert.deepEqual([...same.data], [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test('gradient: gradcheck passes, and dL/dx is dL/dy at the kept channels and positions, 0 elsewhere', () => {
    const { rn } = seeded(11);
    const shortcut = new ZeroPadShortcut(2, 5, 2);
    assertGradcheck((x) => shortcut.forward(x), [rn([2, 2, 5, 5])], { what: 'ZeroPadShortcut' });
    const x = rn([1, 1, 2, 2]);
    x.requiresGrad = true;
    const y = new ZeroPadShortcut(1, 3, 2).forward(x); // [1, 3, 1, 1]: zero, x[0,0,0,0], zero
    y.backward(tensor([5, 7, 11], [1, 3, 1, 1], { dtype: 'float64' }));
    assert.deepEqual([...x.grad!.data], [7, 0, 0, 0]);
  });

  test('checks: fewer output than input channels, the wrong input; counts for summary()', () => {
    throwsWith(() => new ZeroPadShortcut(4, 2, 2), ValueError, 'outChannels must be an integer >= 4, got 2');
    throwsWith(() => new ZeroPadShortcut(2, 4, 0), ValueError, 'stride must be an integer >= 1');
    throwsWith(() => new ZeroPadShortcut(2, 4, 2).forward(randn([1, 3, 4, 4])), ShapeError, 'expected [N, 2, H, W], got [1, 3, 4, 4]');
    // 16 -> 32 channels at 16x16: each of the 16 * 8 * 8 copied outputs reads one input; nothing is multiplied.
    const counts = new ZeroPadShortcut(16, 32, 2).describeLayer([16, 16, 16], [32, 8, 8]);
    assert.equal(counts.connections, 16 * 8 * 8);
    assert.equal(counts.macs, 0);
    assert.deepEqual(counts.window?.stride, [2, 2]);
  });
});

/** The PyTorch implementation's layout (akamaster/pytorch_resnet_cifar10, option A), run with the given weights. */
const TORCH_CIFAR_RESNET = String.raw`
import json, sys, torch
import torch.nn as nn
import torch.nn.functional as F

class Block(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.planes = planes
        self.option_a = stride != 1 or cin != planes
    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        sc = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.planes // 4, self.planes // 4), "constant", 0) if self.option_a else x
        return F.relu(out + sc)

class Net(nn.Module):
    def __init__(self, n, cin, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, c = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for i in range(n):
                blocks.append(Block(c, planes, stride if i == 0 else 1))
                c = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, classes)
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size()[3])
        return self.linear(out.view(out.size(0), -1))

inp = json.load(sys.stdin)
net = Net(inp["n"], 3, 10)
keys = [[k, list(v.shape)] for k, v in net.state_dict().items()]
params = sum(p.numel() for p in net.parameters())
state = {k: torch.tensor(v[1], dtype=torch.float32).reshape(v[0]) for k, v in inp["state"].items()}
state = {k: (v.long() if k.endswith("num_batches_tracked") else v) for k, v in state.items()}
net.load_state_dict(state)
net.eval()
x = torch.tensor(inp["x"][1], dtype=torch.float32).reshape(inp["x"][0])
with torch.no_grad():
    y = net(x)
print(json.dumps({"keys": keys, "params": params, "y": y.flatten().tolist()}))
`;

describe('against PyTorch', () => {
  test('resnet20: the same state-dict keys, shapes and parameter count, and with Stride\'s weights the same scores', (t) => {
    const m = createModel('resnet20', { generator: new Generator(7) });
    // Non-trivial running statistics, so that eval mode's batch norms are not the identity.
    const g = new Generator(8);
    for (const [name, buf] of Object.entries(m.stateDict())) {
      if (name.endsWith('runningMean')) for (let i = 0; i < buf.size; i++) buf.data[i] = g.uniform(-0.2, 0.2);
      if (name.endsWith('runningVar')) for (let i = 0; i < buf.size; i++) buf.data[i] = g.uniform(0.5, 1.5);
    }
    m.eval();
    const x = randn([2, 3, 32, 32], { generator: new Generator(9) });
    const theirs = runTorch<{ keys: [string, number[]][]; params: number; y: number[] }>(TORCH_CIFAR_RESNET, {
      n: 3, state: stateDictJson(nn.toPytorchStateDict(m.stateDict())), x: [x.shape, Array.from(x.data)],
    });
    if (!theirs.ok) {
      t.skip(theirs.reason);
      return;
    }
    const ours = Object.entries(nn.toPytorchStateDict(m.stateDict())).map(([k, v]): [string, number[]] => [k, [...v.shape]]);
    assert.deepEqual(new Map(ours), new Map(theirs.value.keys));
    assert.equal(theirs.value.params, 269_722);
    const y = noGrad(() => m.forward(x));
    assertClose(y.data, theirs.value.y, { atol: 1e-4, rtol: 1e-3 }, 'scores');
  });
});
