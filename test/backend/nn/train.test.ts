import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DataError, Generator, LeNet5, MNIST_MEAN, MNIST_STD, Tensor, ValueError, backward, normalize, tensor } from '../../../src/index.js';
import { Dropout, Linear, Module, Sequential } from '../../../src/nn/index.js';
import { Adam, SGD } from '../../../src/optim/index.js';
import { crossEntropy, mul, relu, sqrt, square } from '../../../src/ops/index.js';
import { loadCheckpoint, loadMnist } from '../../../src/node.js';
import { RunningMean, accuracy, countCorrect, evaluate, fit, formatDuration, lrMultiplier, type BatchInfo, type EpochResult } from '../../../src/index.js';
import { throwsWith } from '../../helpers/index.js';
import { runTrain } from '../../../src/cli/train.js';
import { memoryIO } from '../../../src/cli/io.js';

/** 2-D points, class 0 where x0 > 0 and class 1 where x0 < 0, with a margin. */
function separable(n: number, seed = 0): { images: Tensor; labels: Tensor } {
  const g = new Generator(seed);
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    x[2 * i] = (cls === 0 ? 1 : -1) * (0.5 + g.random());
    x[2 * i + 1] = g.uniform(-1, 1);
    y[i] = cls;
  }
  return { images: new Tensor(x, [n, 2]), labels: new Tensor(y, [n]) };
}

class Tiny extends Module {
  fc: Linear;
  constructor(seed = 0) {
    super();
    this.fc = new Linear(2, 2, { generator: new Generator(seed) });
  }
  forward(x: Tensor): Tensor {
    return this.fc.forward(x);
  }
}

describe('metrics', () => {
  test('countCorrect / accuracy take the argmax of each row', () => {
    const logits = tensor([[0.1, 0.9], [2, 1], [0, 0], [-1, -3]]);
    const labels = tensor([1, 1, 0, 0]);
    assert.equal(countCorrect(logits, labels), 3);
    assert.equal(accuracy(logits, labels), 0.75);
    assert.throws(() => countCorrect(logits, tensor([1, 0])), /labels must be \[N\] with N = 4/);
  });

  test('RunningMean weights values; formatDuration reads well', () => {
    const m = new RunningMean();
    assert.ok(Number.isNaN(m.mean));
    m.add(1, 3);
    m.add(3, 1);
    assert.equal(m.mean, 1.5);
    assert.equal(m.count, 4);
    assert.equal(formatDuration(12.34), '12.3 s');
    assert.equal(formatDuration(125), '2m 05s');
    assert.equal(formatDuration(3725), '1h 02m');
  });
});

describe('evaluate', () => {
  test('accuracy 1.0 on a trivially separable dataset, in eval mode, without gradients, mode restored', () => {
    const model = new Tiny();
    model.fc.weight.data.set([1, 0, -1, 0]);
    model.fc.bias!.data.set([0, 0]);
    const data = separable(23);
    const r = evaluate(model, data, 4); // 23 = 5 full batches + 3
    assert.equal(r.accuracy, 1);
    assert.equal(r.correct, 23);
    assert.equal(r.total, 23);
    assert.ok(Number.isFinite(r.loss) && r.loss > 0 && r.loss < 0.5, `loss ${r.loss}`);
    assert.equal(model.training, true, 'training mode restored');
    assert.equal(model.fc.weight.grad, null, 'no gradients');
    model.eval();
    evaluate(model, data, 100);
    assert.equal(model.training, false, 'eval mode restored');
  });

  test('dropout is off during evaluation', () => {
    const fc = new Linear(2, 2, { generator: new Generator(0) });
    fc.weight.data.set([1, 0, -1, 0]);
    fc.bias!.data.set([0, 0]);
    const model = new Sequential(new Dropout(0.9, { generator: new Generator(1) }), fc);
    assert.equal(evaluate(model, separable(50)).accuracy, 1);
    assert.equal(model.training, true);
  });

  test('rejects bad arguments', () => {
    const model = new Tiny();
    assert.throws(() => evaluate(model, separable(4), 0), /batchSize must be a positive integer/);
    assert.throws(() => evaluate(model, { images: tensor([[1, 2]]), labels: tensor([0, 1]) }), /same number of examples/);
    assert.throws(() => evaluate(model, { images: new Tensor(new Float32Array(0), [0, 2]), labels: new Tensor(new Float32Array(0), [0]) }), /empty/);
  });
});

describe('fit', () => {
  test('learns a separable dataset; callbacks see every batch; results repeat with the same seed', () => {
    const run = () => {
      const model = new Tiny(3);
      const events: string[] = [];
      const batches: BatchInfo[] = [];
      const epochs: EpochResult[] = [];
      const result = fit(model, {
        train: separable(40, 1), test: separable(20, 2), epochs: 5, batchSize: 16,
        optimizer: new SGD(model, { lr: 0.2, momentum: 0.5 }), generator: new Generator(9),
        onEpochStart: (i) => events.push(`start ${i.epoch}/${i.epochs} ${i.batches} ${i.images}`),
        onBatch: (b) => batches.push(b),
        onEvaluateStart: (i) => events.push(`eval ${i.epoch} ${i.images}`),
        onEpoch: (e) => { events.push(`end ${e.epoch}`); epochs.push(e); },
      });
      return { model, events, batches, epochs, result };
    };
    const a = run();
    assert.deepEqual(a.events.slice(0, 4), ['start 1/5 3 40', 'eval 1 20', 'end 1', 'start 2/5 3 40']);
    assert.equal(a.batches.length, 15);
    const last = a.batches[2];
    assert.deepEqual([last.batch, last.batches, last.seen, last.images], [3, 3, 40, 40]);
    assert.ok(last.imagesPerSec > 0 && last.seconds >= 0);
    assert.equal(a.result.history.length, 5);
    assert.ok(a.result.history[4].trainLoss < a.result.history[0].trainLoss, 'loss decreases');
    assert.equal(a.result.test!.accuracy, 1);
    assert.ok(a.result.trainImagesPerSec > 0);
    assert.equal(a.model.training, true);
    const b = run();
    assert.deepEqual(b.result.history.map((h) => h.trainLoss), a.result.history.map((h) => h.trainLoss));
    assert.deepEqual(b.model.fc.weight.data, a.model.fc.weight.data);
  });

  test('learning-rate schedules: cosine and linear decay per step, and the optimizer lr is restored', () => {
    assert.equal(lrMultiplier('constant')(5, 10), 1);
    assert.equal(lrMultiplier('linear')(5, 10), 0.5);
    assert.equal(lrMultiplier('cosine')(0, 10), 1);
    assert.ok(Math.abs(lrMultiplier('cosine')(5, 10) - 0.5) < 1e-12);
    assert.throws(() => lrMultiplier('step' as any), /lrSchedule must be constant, linear, cosine/);
    const model = new Tiny();
    const optimizer = new SGD(model, { lr: 0.4 });
    const lrs: number[] = [];
    fit(model, { train: separable(16), epochs: 2, batchSize: 4, optimizer, lrSchedule: 'cosine', onBatch: (b) => lrs.push(b.lr) });
    assert.equal(lrs.length, 8);
    assert.equal(lrs[0], 0.4);
    for (let i = 0; i < 8; i++) assert.ok(Math.abs(lrs[i] - 0.2 * (1 + Math.cos((Math.PI * i) / 8))) < 1e-12);
    assert.equal(optimizer.lr, 0.4);
    assert.throws(() => fit(model, { train: separable(8), epochs: 1, batchSize: 4, optimizer, lrSchedule: () => -1 }), /lrSchedule returned -1/);
  });

  test('a loss that becomes NaN stops training with a clear error', () => {
    const model = new Tiny();
    assert.throws(
      () => fit(model, { train: separable(8), epochs: 1, batchSize: 4, optimizer: new SGD(model, { lr: 0.1 }), lossFn: (out) => mul(out.sum(), NaN) }),
      (err: unknown) => err instanceof ValueError && /became NaN at epoch 1, batch 1\/2/.test(err.message) && /learning rate/.test(err.message),
    );
  });

  test('rejects bad options', () => {
    const model = new Tiny();
    const optimizer = new SGD(model, { lr: 0.1 });
    const train = separable(8);
    assert.throws(() => fit(model, { train, epochs: 0, batchSize: 4, optimizer }), /epochs must be a positive integer, got 0/);
    assert.throws(() => fit(model, { train, epochs: 1.5, batchSize: 4, optimizer }), /epochs/);
    assert.throws(() => fit(model, { train, epochs: 1, batchSize: -1, optimizer }), /batchSize/);
    assert.throws(() => fit(model, { train, epochs: 1, batchSize: 4, optimizer: {} as any }), /optimizer must be an Optimizer/);
    assert.throws(() => fit(model, { train, epochs: 1, batchSize: 4, optimizer, lr: 0.1 } as any), /unknown option 'lr'/);
  });
});

describe('end to end', () => {
  test('LeNet-5 learns MNIST from 600 images with the CLI training function, and the checkpoint reloads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stride-train-'));
    try {
      const io = memoryIO();
      const s = await runTrain(
        { model: 'lenet5', dataset: 'mnist', limit: 600, testLimit: 500, epochs: 3, batchSize: 32, optimizer: 'adam', lr: 0.002, lrSchedule: 'constant', seed: 0, out: dir },
        io,
      );
      assert.equal(s.trainImages, 600);
      assert.equal(s.testImages, 500);
      assert.ok(s.testAccuracy > 0.6, `test accuracy ${s.testAccuracy} should be well above chance (0.1)`);
      assert.ok(s.trainLoss[2] < s.trainLoss[0], `training loss should fall: ${s.trainLoss.join(', ')}`);
      assert.ok(io.lines.includes(`test accuracy: ${s.testAccuracy.toFixed(4)}`), io.lines.join('\n'));
      assert.equal(io.lines.filter((l) => /^epoch \d\/3: loss/.test(l)).length, 3, 'one line per epoch');
      const { model, header } = await loadCheckpoint(dir);
      assert.equal(header.meta.testAccuracy, s.testAccuracy);
      assert.deepEqual(header.meta.normalize, { mean: 0.1307, std: 0.3081 });
      assert.equal(model.numParameters(), 61706);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Whether every value of `t` is a finite number (the tests' own loop, not the library's scan). */
const allFinite = (t: Tensor) => Array.from(t.data).every((v) => Number.isFinite(v));

/** The first `n` MNIST training images, normalized, and their labels. */
async function mnist(n: number): Promise<{ images: Tensor; labels: Tensor }> {
  const data = await loadMnist({ split: 'train', limit: n });
  return { images: normalize(data.images, MNIST_MEAN, MNIST_STD), labels: data.labels };
}

describe('bad numbers stop training', () => {
  test('a NaN pixel in the training data is refused, naming the example and index; nonFinite zero trains as on the data with a 0 there', async () => {
    const { images, labels } = await mnist(128);
    const poisoned = new Tensor(images.data.slice(), images.shape);
    poisoned.data[17 * 784 + 13 * 28 + 14] = NaN;
    const run = (train: { images: Tensor; labels: Tensor }, nonFinite?: 'zero') => {
      const model = new LeNet5({ generator: new Generator(0) });
      fit(model, { train, epochs: 1, batchSize: 64, optimizer: new SGD(model, { lr: 0.05, momentum: 0.9 }), generator: new Generator(1), ...(nonFinite ? { nonFinite } : {}) });
      return model;
    };
    throwsWith(() => run({ images: poisoned, labels }), DataError, 'fit: the train images hold a value that is not finite: NaN at example 17, index [0, 13, 14] (1 NaN in 1 of 128 examples)', "nonFinite: 'zero'");
    const cleaned = run({ images: poisoned, labels }, 'zero');
    const zeroed = new Tensor(images.data.slice(), images.shape);
    zeroed.data[17 * 784 + 13 * 28 + 14] = 0;
    const reference = run({ images: zeroed, labels });
    for (const [name, p] of cleaned.namedParameters()) {
      assert.ok(allFinite(p), `${name} is finite`);
      assert.deepEqual(Array.from(p.data), Array.from(reference.stateDict()[name].data), `${name}: trained as on the data with 0 in place of the NaN`);
    }
    assert.ok(Number.isNaN(poisoned.data[17 * 784 + 13 * 28 + 14]), "the caller's tensor is not changed");
    // A NaN label has no stand-in: refused even with nonFinite 'zero'.
    const badLabels = new Tensor(labels.data.slice(), labels.shape);
    badLabels.data[5] = NaN;
    throwsWith(() => run({ images, labels: badLabels }, 'zero'), DataError, 'the train labels hold a value that is not finite: NaN at example 5', 'does not apply');
    // A batch made after the check (batchTransform) is checked as it comes.
    const model = new LeNet5({ generator: new Generator(0) });
    const batchTransform = (x: Tensor, info: { batch: number }) => {
      if (info.batch === 2) x.data[3 * 784 + 5] = Infinity;
      return x;
    };
    throwsWith(
      () => fit(model, { train: { images, labels }, epochs: 1, batchSize: 64, optimizer: new SGD(model, { lr: 0.05 }), shuffle: false, batchTransform }),
      DataError, 'fit: at epoch 1, batch 2/2, the images batchTransform made hold a value that is not finite: +Infinity at example 3, index [0, 0, 5]',
    );
  });

  test('learning rate 1e6 on LeNet-5 stops at the first bad batch, naming the epoch, the batch, the layer and the learning rate', async () => {
    const { images, labels } = await mnist(640);
    const batchSize = 64;
    // The first batch at which the loss, a gradient or a weight is not finite, found by a plain training loop.
    const model = new LeNet5({ generator: new Generator(0) });
    const optimizer = new SGD(model, { lr: 1e6 });
    const parameters = [...model.namedParameters()];
    let expected: { batch: number; parts: string[] } | null = null;
    for (let b = 0; b < 10 && expected === null; b++) {
      const x = images.slice(0, b * batchSize, (b + 1) * batchSize);
      const y = labels.slice(0, b * batchSize, (b + 1) * batchSize);
      optimizer.zeroGrad();
      const loss = crossEntropy(model.forward(x), y);
      if (!Number.isFinite(loss.item())) {
        // The first layer whose output is not finite, walking LeNet-5's layers in order.
        let h = x;
        let lastWithParameters = '';
        for (const [name, layer] of model.namedChildren()) {
          h = layer.forward(h);
          if (layer.parameters().length > 0) lastWithParameters = name;
          if (!allFinite(h)) {
            const place = layer.parameters().length > 0 ? `(layer ${name})` : `(after layer ${lastWithParameters})`;
            expected = { batch: b + 1, parts: [`the loss became ${loss.item()} at epoch 1, batch ${b + 1}/10`, `${place} produced a non-finite value in the forward pass`] };
            break;
          }
        }
        assert.ok(expected !== null, 'a non-finite loss comes from a non-finite layer output');
        break;
      }
      backward(loss);
      const badGradient = parameters.find(([, p]) => p.grad !== null && !allFinite(p.grad));
      if (badGradient) {
        expected = { batch: b + 1, parts: [`a gradient became non-finite at epoch 1, batch ${b + 1}/10`, `The first layer in model order whose gradient went bad: ${badGradient[0]},`] };
        break;
      }
      optimizer.step();
      const badParameter = parameters.find(([, p]) => !allFinite(p));
      if (badParameter) expected = { batch: b + 1, parts: [`the optimizer step made the parameters non-finite at epoch 1, batch ${b + 1}/10: the first in model order is ${badParameter[0]},`] };
    }
    assert.ok(expected !== null, 'lr 1e6 makes LeNet-5 diverge within 10 batches');
    assert.ok(expected.batch > 1, `the first batch trains (the first bad one is batch ${expected.batch})`);

    const fitted = new LeNet5({ generator: new Generator(0) });
    const seen: number[] = [];
    throwsWith(
      () => fit(fitted, { train: { images, labels }, epochs: 1, batchSize, optimizer: new SGD(fitted, { lr: 1e6 }), shuffle: false, onBatch: (info) => seen.push(info.batch) }),
      ValueError, ...expected.parts, 'Lower the learning rate (now 1000000)', "This batch's inputs lie in [",
    );
    assert.deepEqual(seen, Array.from({ length: expected.batch - 1 }, (_, i) => i + 1), 'every batch before the bad one trained, none after');
  });

  test('a gradient that is not finite stops training before the step, naming the first layer in model order and the op that made it', () => {
    // sqrt(x^2) at x = 0: the loss is finite, but d sqrt/dx is infinite there and the chain rule gives Infinity * 0 = NaN.
    class Net extends Module {
      fc1 = new Linear(2, 3, { generator: new Generator(0) });
      fc2 = new Linear(3, 2, { generator: new Generator(1) });
      forward(x: Tensor): Tensor {
        return this.fc2.forward(sqrt(square(this.fc1.forward(x))));
      }
    }
    const model = new Net();
    model.fc1.weight.data.fill(0, 2, 4); // unit 1 of fc1 is 0 for every input
    model.fc1.bias!.data[1] = 0;
    const before = Array.from(model.fc1.weight.data);
    let caught: unknown = null;
    try {
      fit(model, { train: separable(8), epochs: 1, batchSize: 4, optimizer: new SGD(model, { lr: 0.1 }), shuffle: false });
    } catch (err) {
      caught = err;
    }
    throwsWith(
      () => {
        throw caught;
      },
      ValueError,
      /a gradient became non-finite at epoch 1, batch 1\/2 \(the loss was [\d.]+\)/,
      "The first layer in model order whose gradient went bad: fc1.weight, whose gradient holds 2 NaN of 6 values (the first at [1, 0]); 2 of 4 parameters' gradients are bad: fc1.weight, fc1.bias",
      /the backward of sqrt \(after layer fc1\) produced a non-finite value in the backward pass: the gradient of its input 0 \[4, 3\] holds [^;]* of 12 values \(the first at \[0, 1\]\)/,
      'Lower the learning rate (now 0.1)',
    );
    // Column 1 of sqrt's input gradient, one value per example, is +-Infinity (the sign is the upstream gradient's); nothing else is.
    const held = /input 0 \[4, 3\] holds (.*?) of 12 values/.exec((caught as Error).message)![1];
    const counts = [...held.matchAll(/(\d+) ([+-]Infinity|NaN)/g)];
    assert.ok(counts.every((c) => c[2] !== 'NaN'), held);
    assert.equal(counts.reduce((n, c) => n + Number(c[1]), 0), 4, held);
    assert.deepEqual(Array.from(model.fc1.weight.data), before, 'the step was not taken');
  });

  test('a NaN that the step puts behind a ReLU is caught by the parameter check', () => {
    // fc1's unit 2 is dead (weights 0, bias -1): its gradient is exactly 0, and Adam with eps 0 makes 0 / 0 = NaN of it.
    // fc2 is frozen, so the NaN never reaches the loss: the ReLU turns it into 0 and passes it no gradient.
    const build = () => {
      class Net extends Module {
        fc1 = new Linear(2, 3, { generator: new Generator(0) });
        fc2 = new Linear(3, 2, { generator: new Generator(1) });
        forward(x: Tensor): Tensor {
          return this.fc2.forward(relu(this.fc1.forward(x)));
        }
      }
      const model = new Net();
      model.fc1.weight.data.fill(0, 4, 6);
      model.fc1.bias!.data[2] = -1;
      model.fc2.weight.requiresGrad_(false);
      model.fc2.bias!.requiresGrad_(false);
      return { model, optimizer: new Adam([model.fc1.weight, model.fc1.bias!], { lr: 0.01, eps: 0 }) };
    };
    const train = separable(16, 3);
    // What a loop that watches only the loss and the gradients sees: every loss and gradient finite, the weights NaN.
    const plain = build();
    for (let b = 0; b < 4; b++) {
      plain.optimizer.zeroGrad();
      const loss = crossEntropy(plain.model.forward(train.images.slice(0, 4 * b, 4 * b + 4)), train.labels.slice(0, 4 * b, 4 * b + 4));
      assert.ok(Number.isFinite(loss.item()), `batch ${b + 1}: the loss is finite`);
      backward(loss);
      assert.ok(allFinite(plain.model.fc1.weight.grad!) && allFinite(plain.model.fc1.bias!.grad!), `batch ${b + 1}: the gradients are finite`);
      plain.optimizer.step();
    }
    assert.ok(!allFinite(plain.model.fc1.weight), 'yet fc1.weight holds NaN');

    const { model, optimizer } = build();
    throwsWith(
      () => fit(model, { train, epochs: 1, batchSize: 4, optimizer, shuffle: false }),
      ValueError,
      'the optimizer step made the parameters non-finite at epoch 1, batch 1/4: the first in model order is fc1.weight, which holds',
      '2 of 4 parameters are bad: fc1.weight, fc1.bias',
      'every gradient were finite, so the update made them: Adam with learning rate 0.01; eps 0 divides 0 by 0',
      'a NaN weight feeding a ReLU gives 0 and no gradient',
    );
  });

  test('detectAnomaly: true names the first op that made a non-finite value, with its layer', () => {
    class Net extends Module {
      fc1 = new Linear(2, 3, { generator: new Generator(0) });
      forward(x: Tensor): Tensor {
        return this.fc1.forward(x).log();
      }
    }
    const model = new Net();
    throwsWith(
      () => fit(model, { train: separable(8), epochs: 1, batchSize: 4, optimizer: new SGD(model, { lr: 0.1 }), shuffle: false, detectAnomaly: true }),
      ValueError,
      'fit: anomaly mode stopped training at epoch 1, batch 1/2: log (after layer fc1) produced a non-finite value in the forward pass: its output [4, 3] holds',
      'input shapes [4, 3]. Its inputs were all finite, so log made them',
    );
  });

  test('evaluate refuses weights holding NaN or an infinity, naming each tensor and the count', () => {
    const model = new Tiny();
    model.fc.bias!.data[1] = NaN;
    model.fc.weight.data[0] = -Infinity;
    model.fc.weight.data[3] = Infinity;
    throwsWith(
      () => evaluate(model, separable(8)),
      ValueError,
      "evaluate: the model's weights hold values that are not finite, in 2 of its 2 tensors: fc.weight holds 1 +Infinity and 1 -Infinity of 4 values (the first at [0, 0]); fc.bias holds 1 NaN of 2 values (the first at [1])",
    );
    throwsWith(() => fit(model, { train: separable(8), epochs: 1, batchSize: 4, optimizer: new SGD(model, { lr: 0.1 }) }), ValueError, "fit: before training: the model's weights hold values that are not finite");
  });
});

