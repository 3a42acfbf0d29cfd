import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeNet5, Generator, ValueError, ShapeError, gradcheck, noGrad, randn } from '../../../src/index.js';
import { Add, BasicBlock, Conv2d, Flatten, Graph, Linear, MaxPool2d, ReLU, Residual, Sequential, Softmax, BatchNorm2d, toFullyConvolutional } from '../../../src/nn/index.js';
import { slice, add, relu } from '../../../src/ops/index.js';
import { assertClose } from '../../helpers/index.js';

test('Residual adds the identity: body that outputs zero gives back x', () => {
  const body = new Conv2d(3, 3, 3, { padding: 1 });
  body.weight.data.fill(0);
  body.bias!.data.fill(0);
  const x = randn([2, 3, 5, 5], { generator: new Generator(1) });
  const y = new Residual(body).forward(x);
  assertClose(y.data, x.data, 0);
});

test('Residual gradient reaches x through both paths (gradcheck)', () => {
  const g = new Generator(2);
  const w = randn([3, 3, 3, 3], { generator: g });
  gradcheck((x, wt) => add(relu(x.conv2d(wt, null, { padding: 1 })), x), [randn([1, 3, 4, 4], { generator: g }), w]);
});

test('Residual refuses branches of different shapes and says how to fix it', () => {
  const r = new Residual(new Conv2d(3, 4, 3, { padding: 1 }));
  assert.throws(() => r.forward(randn([1, 3, 5, 5])), (e: Error) => e instanceof ShapeError && /projection shortcut/.test(e.message) && /\[1, 4, 5, 5\]/.test(e.message));
});

test('BasicBlock: identity shortcut when the shape is kept, projection (1x1 conv stride s + BN) otherwise', () => {
  const same = new BasicBlock(8, 8);
  assert.equal(same.shortcut, null);
  const names = [...same.namedParameters()].map(([n]) => n);
  assert.deepEqual(names, ['conv1.weight', 'bn1.weight', 'bn1.bias', 'conv2.weight', 'bn2.weight', 'bn2.bias']);
  const down = new BasicBlock(8, 16, { stride: 2 });
  assert.deepEqual([...down.namedParameters()].map(([n]) => n).slice(-3), ['shortcut.0.weight', 'shortcut.1.weight', 'shortcut.1.bias']);
  assert.deepEqual(down.shortcut!.at(0) instanceof Conv2d && (down.shortcut!.at(0) as Conv2d).weight.shape, [16, 8, 1, 1]);
  const y = down.forward(randn([2, 8, 9, 9]));
  assert.deepEqual(y.shape, [2, 16, 5, 5]);
  assert.ok(y.data.every((v) => v >= 0), 'the block ends with ReLU');
  // Parameters: 2 convs 3x3 without bias + 2 BN (2 per channel) + shortcut 1x1 conv + BN.
  assert.equal(down.numParameters(), 16 * 8 * 9 + 2 * 16 + 16 * 16 * 9 + 2 * 16 + 16 * 8 + 2 * 16);
});

test('BasicBlock forward equals the formula relu(bn2(conv2(relu(bn1(conv1 x)))) + x) written out', () => {
  const block = new BasicBlock(4, 4, { generator: new Generator(3) });
  const x = randn([2, 4, 6, 6], { generator: new Generator(4) });
  const bn = (t: ReturnType<typeof randn>, m: BatchNorm2d) => m.forward(t);
  const expected = relu(add(bn(block.conv2.forward(relu(bn(block.conv1.forward(x), new BatchNorm2d(4)))), new BatchNorm2d(4)), x));
  assertClose(block.forward(x).data, expected.data, 1e-5);
});

test('Graph runs a DAG: a residual connection written as nodes equals the Residual module', () => {
  const conv = new Conv2d(3, 3, 3, { padding: 1, generator: new Generator(5) });
  const graph = new Graph({
    inputs: ['x'],
    nodes: {
      conv: { module: conv, inputs: ['x'] },
      act: { module: new ReLU(), inputs: ['conv'] },
      sum: { module: new Add(), inputs: ['act', 'x'] },
    },
    outputs: ['sum'],
  });
  assert.deepEqual([...graph.namedParameters()].map(([n]) => n), ['conv.weight', 'conv.bias']);
  const x = randn([2, 3, 4, 4], { generator: new Generator(6) });
  assertClose(graph.forward(x).data, new Residual(new Sequential(conv, new ReLU())).forward(x).data, 0);
  // Fan-out: x feeds two nodes, so dL/dx = dL/dy (identity path) + the conv path.
  const xg = x.detach().requiresGrad_();
  graph.forward(xg).sum().backward();
  const viaConvOnly = x.detach().requiresGrad_();
  relu(conv.forward(viaConvOnly)).sum().backward();
  assertClose(xg.grad!.data, viaConvOnly.grad!.data.map((v) => v + 1), 1e-6);
});

test('Graph rejects cycles, unknown inputs and dangling nodes with the names involved', () => {
  const r = () => new ReLU();
  assert.throws(() => new Graph({ inputs: ['x'], nodes: { a: { module: r(), inputs: ['b'] }, b: { module: r(), inputs: ['a'] } }, outputs: ['a'] }), (e: Error) => e instanceof ValueError && /cycle a -> b -> a/.test(e.message));
  assert.throws(() => new Graph({ inputs: ['x'], nodes: { a: { module: r(), inputs: ['y'] } }, outputs: ['a'] }), /reads 'y', which is neither a graph input/);
  assert.throws(() => new Graph({ inputs: ['x'], nodes: { a: { module: r(), inputs: ['x'] }, b: { module: r(), inputs: ['x'] } }, outputs: ['a'] }), /node\(s\) b do not lead to the output 'a'/);
});

test('toFullyConvolutional: LeNet-5 gives identical logits at 28x28, with fc layers as 5x5 and 1x1 convolutions', () => {
  const net = new LeNet5({ generator: new Generator(7) });
  const fcn = toFullyConvolutional(net, [1, 28, 28]);
  const fc1 = (fcn as any).fc1 as Conv2d;
  assert.ok(fc1 instanceof Conv2d);
  assert.deepEqual(fc1.weight.shape, [120, 16, 5, 5]);
  assert.deepEqual(((fcn as any).fc3 as Conv2d).weight.shape, [10, 84, 1, 1]);
  assert.equal(fcn.numParameters(), net.numParameters());
  const x = randn([3, 1, 28, 28], { generator: new Generator(8) });
  const [a, b] = noGrad(() => [net.forward(x), fcn.forward(x)]);
  assert.deepEqual(b.shape, [3, 10, 1, 1]);
  assertClose(b.data, a.data, 1e-5);
});

test('toFullyConvolutional: on a larger image each score-map position is the original net on its crop', () => {
  // No zero padding in the convolutions, so every crop is seen exactly as the original sees it.
  const g = new Generator(9);
  const net = new Sequential(
    new Conv2d(2, 4, 3, { generator: g }), new ReLU(), new MaxPool2d(2),
    new Conv2d(4, 6, 3, { generator: g }), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(6 * 2 * 2, 8, { generator: g }), new ReLU(), new Linear(8, 5, { generator: g }), new Softmax(),
  );
  // 14x14 -> conv 12 -> pool 6 -> conv 4 -> pool 2: the head sees 6x2x2; total stride 4.
  const fcn = toFullyConvolutional(net, [2, 14, 14]);
  const big = randn([2, 2, 22, 26], { generator: g });
  const map = noGrad(() => fcn.forward(big));
  const outH = (22 - 14) / 4 + 1;
  const outW = (26 - 14) / 4 + 1;
  assert.deepEqual(map.shape, [2, 5, outH, outW]);
  for (let i = 0; i < outH; i++) {
    for (let j = 0; j < outW; j++) {
      const crop = slice(slice(big, 2, 4 * i, 4 * i + 14), 3, 4 * j, 4 * j + 14);
      const scores = noGrad(() => net.forward(crop));
      for (let n = 0; n < 2; n++) {
        for (let k = 0; k < 5; k++) {
          const got = map.data[((n * 5 + k) * outH + i) * outW + j];
          assert.ok(Math.abs(got - scores.data[n * 5 + k]) < 1e-5, `position (${i}, ${j}), class ${k}: ${got} vs ${scores.data[n * 5 + k]}`);
        }
      }
    }
  }
});

test('toFullyConvolutional refuses what it cannot convert', () => {
  assert.throws(() => toFullyConvolutional(new LeNet5(), [1, 28]), /inputShape must be \[channels, height, width\]/);
  assert.throws(() => toFullyConvolutional(new Sequential(new Conv2d(1, 2, 3), new ReLU()), [1, 8, 8]), /no Linear layer/);
  assert.throws(() => toFullyConvolutional(new Sequential(new Conv2d(1, 2, 3), new Flatten(), new Linear(72, 3), new BatchNorm2d(3)), [1, 8, 8]), /BatchNorm2d\) in the fully connected head has no convolutional reading/);
});
