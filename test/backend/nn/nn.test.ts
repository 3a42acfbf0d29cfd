/**
 * Modules: PyTorch-style parameter names and order, state dicts, train/eval,
 * Dropout, default initialization bounds, printing, parameter counts.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, Tensor, ShapeError, ValueError, tensor, ones, randn, zeros, LeNet5 } from '../../../src/index.js';
import { Module, Sequential, Conv2d, Linear, MaxPool2d, AvgPool2d, ReLU, LeakyReLU, Flatten, Dropout, Softmax } from '../../../src/nn/index.js';
import { ok, throwsWith } from '../../helpers/index.js';

class Net extends Module {
  features = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Conv2d(4, 8, 3));
  classifier = new Sequential(new Flatten(), new Dropout(0.5), new Linear(8, 3));
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x));
  }
}

describe('named parameters', () => {
  test("Sequential children are named '0', '1', ...; layers without parameters are skipped", () => {
    const s = new Sequential(new Conv2d(1, 2, 3), new ReLU(), new Linear(4, 5));
    assert.deepEqual([...s.namedParameters()].map(([n]) => n), ['0.weight', '0.bias', '2.weight', '2.bias']);
  });
  test("nested modules give dotted names in registration order ('features.0.weight', ...)", () => {
    const net = new Net();
    const names = [...net.namedParameters()].map(([n]) => n);
    assert.deepEqual(names, [
      'features.0.weight', 'features.0.bias', 'features.3.weight', 'features.3.bias',
      'classifier.2.weight', 'classifier.2.bias',
    ]);
    // The tensors are the layers' own.
    const params = net.parameters();
    assert.equal(params[0], (net.features.at(0) as Conv2d).weight);
    assert.equal(params[5], (net.classifier.at(2) as Linear).bias);
    assert.equal(params.length, 6);
  });
  test('Sequential from an object uses its keys', () => {
    const s = new Sequential({ conv1: new Conv2d(1, 2, 3), act: new ReLU(), fc: new Linear(2, 2, { bias: false }) });
    assert.deepEqual([...s.namedParameters()].map(([n]) => n), ['conv1.weight', 'conv1.bias', 'fc.weight']);
    assert.equal(s.length, 3);
    ok(s.at(-1) instanceof Linear);
  });
  test('LeNet-5 uses the state-dict names of the PyTorch model', () => {
    const names = [...new LeNet5().namedParameters()].map(([n]) => n);
    assert.deepEqual(names, ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
  });
  test('namedModules lists every module with its path', () => {
    const names = [...new Net().namedModules()].map(([n]) => n);
    assert.deepEqual(names, ['', 'features', 'features.0', 'features.1', 'features.2', 'features.3', 'classifier', 'classifier.0', 'classifier.1', 'classifier.2']);
  });
  test('fields starting with _ and tensors that do not require grad are not parameters', () => {
    class M extends Module {
      w = zeros([2], { requiresGrad: true });
      _hidden = zeros([2], { requiresGrad: true });
      constant = ones([3]);
      forward(x: Tensor) { return x; }
    }
    assert.deepEqual([...new M().namedParameters()].map(([n]) => n), ['w']);
  });
});

describe('state dicts', () => {
  test('round trip: a freshly initialized model loaded with another one\'s state computes the same outputs', () => {
    const a = new Net();
    const b = new Net();
    const x = randn([2, 1, 6, 6], { generator: new Generator(1) });
    a.eval();
    b.eval();
    const ya = a.forward(x);
    assert.notDeepEqual(Array.from(b.forward(x).data), Array.from(ya.data));
    const res = b.loadStateDict(a.stateDict());
    assert.deepEqual(res, { missing: [], unexpected: [] });
    assert.deepEqual(Array.from(b.forward(x).data), Array.from(ya.data));
  });
  test('loading copies values: later changes to the source do not leak into the model', () => {
    const a = new Linear(3, 2);
    const b = new Linear(3, 2);
    b.loadStateDict(a.stateDict());
    a.weight.data[0] += 1;
    assert.notEqual(b.weight.data[0], a.weight.data[0]);
    // The model's own tensor objects are kept (an optimizer holding them still works).
    const w = b.weight;
    b.loadStateDict(new Linear(3, 2).stateDict());
    assert.equal(b.weight, w);
  });
  test('stateDict keys equal the parameter names; values are the live tensors', () => {
    const net = new Net();
    const sd = net.stateDict();
    assert.deepEqual(Object.keys(sd), [...net.namedParameters()].map(([n]) => n));
    assert.equal(sd['features.0.weight'], (net.features.at(0) as Conv2d).weight);
  });
  test('strict loading rejects missing and unexpected keys; non-strict reports them', () => {
    const net = new Net();
    const sd = { ...new Net().stateDict() };
    delete (sd as Record<string, Tensor>)['classifier.2.bias'];
    assert.throws(() => net.loadStateDict(sd), (e: unknown) => e instanceof ValueError && /classifier\.2\.bias/.test(e.message));
    const before = Array.from((net.features.at(0) as Conv2d).weight.data);
    assert.deepEqual(net.loadStateDict(sd, { strict: false }), { missing: ['classifier.2.bias'], unexpected: [] });
    assert.notDeepEqual(Array.from((net.features.at(0) as Conv2d).weight.data), before, 'the matching names were loaded');
  });
});

describe('frozen parameters', () => {
  // Fine-tuning freezes layers with requiresGrad_(false). In PyTorch a frozen parameter is still a
  // parameter: it stays in state_dict() (so checkpoints keep it) and in parameters().
  test('a frozen weight stays in the state dict, and the checkpoint loads strictly into a fresh model', () => {
    const make = () => new Sequential(new Linear(3, 2), new Linear(2, 2));
    const tuned = make();
    (tuned.at(0) as Linear).weight.requiresGrad_(false);
    assert.deepEqual(Object.keys(tuned.stateDict()), ['0.weight', '0.bias', '1.weight', '1.bias']);
    const fresh = make();
    fresh.loadStateDict(tuned.stateDict());
    assert.deepEqual(Array.from((fresh.at(0) as Linear).weight.data), Array.from((tuned.at(0) as Linear).weight.data));
  });
});

describe('train / eval', () => {
  test('eval() and train() reach every descendant', () => {
    const net = new Net();
    const all = () => [...net.namedModules()].map(([, m]) => m.training);
    ok(all().every((t) => t));
    assert.equal(net.eval(), net);
    ok(all().every((t) => !t));
    net.train();
    ok(all().every((t) => t));
    net.train(false);
    ok(all().every((t) => !t));
  });
  test('a nested Dropout is active in train mode and the identity in eval mode', () => {
    const s = new Sequential(new Sequential(new Dropout(0.5)));
    const x = ones([1000]);
    const yTrain = s.forward(x);
    ok(Array.from(yTrain.data).some((v) => v === 0));
    s.eval();
    assert.deepEqual(Array.from(s.forward(x).data), Array.from(x.data));
  });
});

describe('Dropout', () => {
  test('train mode: about p zeros, survivors scaled by 1 / (1 - p)', () => {
    for (const p of [0.1, 0.5, 0.75]) {
      const d = new Dropout(p, { generator: new Generator(3) });
      const y = d.forward(ones([20000]));
      let zeros = 0;
      for (const v of y.data) {
        if (v === 0) zeros++;
        else ok(Math.abs(v - 1 / (1 - p)) < 1e-6);
      }
      // Standard deviation of the count <= sqrt(20000 / 4) ~ 71; allow 5 of them.
      ok(Math.abs(zeros - p * 20000) < 355, `p ${p}: ${zeros} zeros`);
    }
  });
  test('the expected value is preserved', () => {
    const d = new Dropout(0.3, { generator: new Generator(4) });
    const y = d.forward(ones([20000]));
    const m = Array.from(y.data).reduce((a, b) => a + b) / y.size;
    ok(Math.abs(m - 1) < 0.03, `mean ${m}`);
  });
  test('eval mode passes values through unchanged', () => {
    const d = new Dropout(0.9).eval();
    const x = randn([50]);
    assert.deepEqual(Array.from(d.forward(x).data), Array.from(x.data));
  });
});

describe('default initialization (PyTorch: U(-1/sqrt(fanIn), 1/sqrt(fanIn)))', () => {
  function checkUniform(t: Tensor, bound: number, what: string): void {
    const v = Array.from(t.data);
    for (const x of v) ok(Math.abs(x) <= bound, `${what}: ${x} outside +-${bound}`);
    if (v.length < 1000) return;
    // Roughly uniform: mean ~0, variance ~bound^2 / 3, each quarter of the range holds ~1/4.
    const n = v.length;
    const mean = v.reduce((a, b) => a + b) / n;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    ok(Math.abs(mean) < 0.05 * bound, `${what}: mean ${mean}`);
    ok(Math.abs(variance / (bound * bound / 3) - 1) < 0.1, `${what}: variance ${variance}`);
    const bins = [0, 0, 0, 0];
    for (const x of v) bins[Math.min(3, Math.floor(((x + bound) / (2 * bound)) * 4))]++;
    for (const b of bins) ok(Math.abs(b / n - 0.25) < 0.03, `${what}: bins ${bins}`);
    ok(Math.max(...v.map(Math.abs)) > 0.95 * bound, `${what}: does not reach the bound`);
  }
  test('Conv2d: fanIn = inChannels/groups * kH * kW, for weight and bias', () => {
    const layers: [Conv2d, number][] = [
      [new Conv2d(3, 64, 5), 3 * 25],
      [new Conv2d(16, 32, [3, 1]), 16 * 3],
      [new Conv2d(8, 64, 3, { groups: 4 }), 2 * 9],
      [new Conv2d(1, 6, 5, { padding: 2 }), 25],
    ];
    for (const [c, fanIn] of layers) {
      const bound = 1 / Math.sqrt(fanIn);
      checkUniform(c.weight, bound, `conv weight fanIn ${fanIn}`);
      checkUniform(c.bias!, bound, `conv bias fanIn ${fanIn}`);
    }
  });
  test('Linear: fanIn = inFeatures', () => {
    const l = new Linear(100, 60);
    checkUniform(l.weight, 0.1, 'linear weight');
    checkUniform(l.bias!, 0.1, 'linear bias');
    checkUniform(new Linear(400, 120).weight, 0.05, 'fc1 weight');
  });
  test('every weight and bias of LeNet-5 is inside its bound', () => {
    const m = new LeNet5();
    const fanIns: Record<string, number> = { conv1: 25, conv2: 150, fc1: 400, fc2: 120, fc3: 84 };
    for (const [name, p] of m.namedParameters()) {
      const bound = 1 / Math.sqrt(fanIns[name.split('.')[0]]);
      for (const v of p.data) ok(Math.abs(v) <= bound, `${name}: ${v} outside +-${bound}`);
    }
  });
  test('a generator makes initialization repeatable', () => {
    const a = new Conv2d(2, 3, 3, { generator: new Generator(5) });
    const b = new Conv2d(2, 3, 3, { generator: new Generator(5) });
    assert.deepEqual(Array.from(a.weight.data), Array.from(b.weight.data));
    assert.deepEqual(Array.from(a.bias!.data), Array.from(b.bias!.data));
    assert.notDeepEqual(Array.from(new Conv2d(2, 3, 3, { generator: new Generator(6) }).weight.data), Array.from(a.weight.data));
  });
  test('parameters require grad and have PyTorch shapes', () => {
    const c = new Conv2d(6, 12, [3, 5], { groups: 3 });
    assert.deepEqual(c.weight.shape, [12, 2, 3, 5]);
    assert.deepEqual(c.bias!.shape, [12]);
    ok(c.weight.requiresGrad && c.bias!.requiresGrad);
    assert.deepEqual(new Linear(7, 4).weight.shape, [4, 7]);
    assert.equal(new Conv2d(3, 3, 3, { bias: false }).bias, null);
  });
});

describe('parameter counts', () => {
  test('Conv2d: outC * (inC/groups * kH * kW + 1), or without the +1 when bias is false', () => {
    const cases: [number, number, number | [number, number], object, number][] = [
      [3, 10, 5, {}, 10 * (3 * 5 * 5 + 1)],
      [3, 96, 11, { stride: 4, padding: 2 }, 96 * (3 * 11 * 11 + 1)],
      [8, 16, [3, 1], {}, 16 * (8 * 3 + 1)],
      [8, 16, 3, { groups: 4 }, 16 * (2 * 9 + 1)],
      [16, 16, 3, { groups: 16 }, 16 * (9 + 1)],
      [4, 6, 1, { bias: false }, 6 * 4],
    ];
    for (const [i, o, k, opts, n] of cases) assert.equal(new Conv2d(i, o, k, opts).numParameters(), n);
  });
  test('Linear: out * (in + 1); layers without parameters count 0', () => {
    assert.equal(new Linear(400, 120).numParameters(), 400 * 120 + 120);
    assert.equal(new Linear(5, 3, { bias: false }).numParameters(), 15);
    assert.equal(new Sequential(new ReLU(), new MaxPool2d(2), new Flatten(), new Dropout()).numParameters(), 0);
  });
});

describe('printing', () => {
  test('leaf layers print their settings on one line', () => {
    assert.equal(new Linear(4, 3).toString(), 'Linear(inFeatures=4, outFeatures=3, bias=true)');
    assert.equal(new Linear(4, 3, { bias: false }).toString(), 'Linear(inFeatures=4, outFeatures=3, bias=false)');
    assert.equal(new Conv2d(1, 6, 5, { padding: 2 }).toString(), 'Conv2d(1, 6, kernelSize=[5, 5], stride=[1, 1], padding=[2, 2])');
    assert.equal(new Conv2d(3, 8, [3, 1], { stride: 2, groups: 1, bias: false }).toString(), 'Conv2d(3, 8, kernelSize=[3, 1], stride=[2, 2], bias=false)');
    assert.equal(new ReLU().toString(), 'ReLU()');
    assert.equal(new LeakyReLU(0.2).toString(), 'LeakyReLU(negativeSlope=0.2)');
    assert.equal(new Dropout(0.25).toString(), 'Dropout(p=0.25)');
    assert.equal(new Softmax(1).toString(), 'Softmax(dim=1)');
    assert.equal(new MaxPool2d(2).toString(), 'MaxPool2d(kernelSize=[2, 2], stride=[2, 2], padding=0, dilation=1, ceilMode=false)');
    assert.equal(new AvgPool2d(3, { stride: 2 }).toString(), 'AvgPool2d(kernelSize=[3, 3], stride=2, padding=0, ceilMode=false, countIncludePad=true)');
  });
  test('containers print a tree, children indented by two spaces', () => {
    const s = new Sequential(new Conv2d(1, 2, 3), new ReLU(), new Sequential(new Flatten(), new Linear(8, 2)));
    assert.equal(s.toString(), [
      'Sequential(',
      '  (0): Conv2d(1, 2, kernelSize=[3, 3], stride=[1, 1])',
      '  (1): ReLU()',
      '  (2): Sequential(',
      '    (0): Flatten(startDim=1, endDim=-1)',
      '    (1): Linear(inFeatures=8, outFeatures=2, bias=true)',
      '  )',
      ')',
    ].join('\n'));
  });
  test('LeNet-5', () => {
    assert.equal(new LeNet5().toString(), [
      'LeNet5(',
      '  (conv1): Conv2d(1, 6, kernelSize=[5, 5], stride=[1, 1], padding=[2, 2])',
      '  (relu1): ReLU()',
      '  (pool1): MaxPool2d(kernelSize=[2, 2], stride=[2, 2], padding=0, dilation=1, ceilMode=false)',
      '  (conv2): Conv2d(6, 16, kernelSize=[5, 5], stride=[1, 1])',
      '  (relu2): ReLU()',
      '  (pool2): MaxPool2d(kernelSize=[2, 2], stride=[2, 2], padding=0, dilation=1, ceilMode=false)',
      '  (flatten): Flatten(startDim=1, endDim=-1)',
      '  (fc1): Linear(inFeatures=400, outFeatures=120, bias=true)',
      '  (relu3): ReLU()',
      '  (fc2): Linear(inFeatures=120, outFeatures=84, bias=true)',
      '  (relu4): ReLU()',
      '  (fc3): Linear(inFeatures=84, outFeatures=10, bias=true)',
      ')',
    ].join('\n'));
  });
  test('a module with both settings and children puts the settings on their own line, as PyTorch', () => {
    class Block extends Module {
      fc = new Linear(2, 2);
      override extraRepr() { return 'scale=2'; }
      forward(x: Tensor) { return this.fc.forward(x); }
    }
    assert.equal(new Block().toString(), 'Block(\n  scale=2\n  (fc): Linear(inFeatures=2, outFeatures=2, bias=true)\n)');
  });
});

describe('forward shapes', () => {
  test('LeNet-5 maps [N, 1, 28, 28] to [N, 10] logits', () => {
    const m = new LeNet5();
    assert.deepEqual(m.forward(zeros([3, 1, 28, 28])).shape, [3, 10]);
  });
  test('zeroGrad on a module clears every parameter gradient', () => {
    const l = new Linear(3, 2);
    l.forward(tensor([[1, 2, 3]])).sum().backward();
    ok(l.weight.grad && l.bias!.grad);
    l.zeroGrad();
    assert.equal(l.weight.grad, null);
    assert.equal(l.bias!.grad, null);
  });
});

describe('other arguments', () => {
  test('layer sizes', () => {
    throwsWith(() => new Linear(0, 3), ValueError, /Linear: inFeatures must be an integer >= 1, got 0/);
    throwsWith(() => new Conv2d(3, 2.5, 3), ValueError, /outChannels/, /2\.5/);
    throwsWith(() => new Conv2d(3, 6, 3, { kernel_size: 3 } as any), ValueError, /unknown option 'kernel_size'/);
  });
});

describe('loadStateDict', () => {
  const make = () => new Sequential(new Linear(4, 3), new Linear(3, 2));
  test('missing and unexpected names are listed (strict), and strict: false loads the rest', () => {
    const model = make();
    const state = { ...make().stateDict() };
    delete (state as Record<string, unknown>)['1.bias'];
    (state as Record<string, unknown>)['2.weight'] = zeros([1]);
    throwsWith(() => model.loadStateDict(state), ValueError, /missing 1\.bias/, /unexpected 2\.weight/, /strict: false/);
    const result = model.loadStateDict(state, { strict: false });
    assert.deepEqual(result, { missing: ['1.bias'], unexpected: ['2.weight'] });
  });
  test('a shape mismatch names the entry and both shapes, even when not strict', () => {
    const model = make();
    const state = { ...make().stateDict(), '0.weight': zeros([3, 5]) };
    throwsWith(() => model.loadStateDict(state), ShapeError, /'0\.weight'/, /\[3, 5\]/, /\[3, 4\]/);
    throwsWith(() => model.loadStateDict(state, { strict: false }), ShapeError, /'0\.weight'/);
  });
  test('a value that is not a tensor', () => {
    const model = make();
    const state = { ...make().stateDict(), '0.bias': [1, 2, 3] as any };
    throwsWith(() => model.loadStateDict(state), ValueError, /'0\.bias' must be a Tensor/);
  });
});
