import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Generator, Tensor, ValueError, tensor } from '../../../src/index.js';
import { Dropout, Linear, Module, Sequential } from '../../../src/nn/index.js';
import { SGD } from '../../../src/optim/index.js';
import { mul } from '../../../src/ops/index.js';
import { loadCheckpoint } from '../../../src/node.js';
import { RunningMean, accuracy, countCorrect, evaluate, fit, formatDuration, lrMultiplier, type BatchInfo, type EpochResult } from '../../../src/index.js';
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
