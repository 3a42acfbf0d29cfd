/**
 * Memory stays flat over training (the target: the resident set within 10%
 * from epoch 1 to epoch 3). The resident set itself depends on the garbage
 * collector's timing, so these tests check the deterministic causes of growth
 * instead: no autograd graph stays reachable from the model or the optimizer
 * after a step (a retained tape would hold every activation of every step),
 * and the wasm runtime's memory stops growing once a step's shapes have been
 * seen (an arena that is not reset per call grows with every step). The
 * per-epoch memory report of `stride train` is checked for its form.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, LeNet5, Tensor, getBackend, listBackends, setBackend } from '../../../src/index.js';
import { BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, type Module, ReLU, Sequential } from '../../../src/nn/index.js';
import { SGD, Adam } from '../../../src/optim/index.js';
import { createProgressReporter } from '../../../src/node.js';
import { fit, type EpochResult } from '../../../src/index.js';
import { wasmReady, wasmRuntime } from '../../../src/backends/wasm/index.js';
import { runTrain, trainJson } from '../../../src/cli/train.js';
import { memoryIO } from '../../../src/cli/io.js';

/** n images [n, 1, 28, 28] with values in [-1, 1) and labels 0..9, from a seeded generator. */
function images(n: number, seed: number): { images: Tensor; labels: Tensor } {
  const g = new Generator(seed);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = g.uniform(-1, 1);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = i % 10;
  return { images: new Tensor(x, [n, 1, 28, 28]), labels: new Tensor(y, [n]) };
}

/**
 * Every Tensor reachable from `roots` through object properties, arrays, Maps
 * and Sets, a tensor's grad, and a recorded op's inputs. Typed arrays and
 * functions are not walked (a closure's captures cannot be seen from JS; the
 * graph's tensors are reachable through gradFn.inputs).
 */
function reachableTensors(...roots: unknown[]): Tensor[] {
  const seen = new Set<unknown>();
  const tensors: Tensor[] = [];
  const stack = [...roots];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v) || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) continue;
    seen.add(v);
    if (v instanceof Tensor) {
      tensors.push(v);
      stack.push(v.grad);
      if (v.gradFn) stack.push(...v.gradFn.inputs);
      continue;
    }
    if (v instanceof Map) {
      for (const [k, x] of v) stack.push(k, x);
    } else if (v instanceof Set || Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else {
      for (const x of Object.values(v)) stack.push(x);
    }
  }
  return tensors;
}

/** The tensors reachable from the model and the optimizer that carry a recorded graph, described for a failure message. */
function retainedGraphs(model: Module, optimizer: object): string[] {
  return reachableTensors(model, optimizer)
    .filter((t) => t.gradFn !== null || (t.grad !== null && (t.grad.gradFn !== null || t.grad.requiresGrad)))
    .map((t) => (t.gradFn ? `a tensor ${JSON.stringify(t.shape)} made by ${t.gradFn.name}` : `the grad of a tensor ${JSON.stringify(t.shape)} records a graph`));
}

/** conv -> batch norm -> ReLU -> pool -> linear: batch norm's running statistics are buffers updated every step. */
function bnNet(seed: number): Sequential {
  const generator = new Generator(seed);
  return new Sequential({
    conv: new Conv2d(1, 4, 3, { padding: 1, generator }),
    bn: new BatchNorm2d(4),
    relu: new ReLU(),
    pool: new MaxPool2d(4),
    flatten: new Flatten(),
    fc: new Linear(4 * 7 * 7, 10, { generator }),
  });
}

describe('training keeps no graph alive between steps', () => {
  const cases: [string, () => Module, (m: Module) => SGD | Adam][] = [
    ['LeNet-5 with SGD momentum', () => new LeNet5({ generator: new Generator(1) }), (m) => new SGD(m, { lr: 0.01, momentum: 0.9 })],
    ['a batch-norm net with Adam', () => bnNet(2), (m) => new Adam(m, { lr: 0.001 })],
  ];
  for (const [name, makeModel, makeOptimizer] of cases) {
    test(`${name}: after every step no tensor reachable from the model or the optimizer has a gradFn`, () => {
      const model = makeModel();
      const optimizer = makeOptimizer(model);
      const params = model.parameters();
      const reachableCounts: number[] = [];
      const problems: string[] = [];
      fit(model, {
        train: images(40, 3), test: images(20, 4), epochs: 2, batchSize: 16, optimizer, generator: new Generator(5), evalBatchSize: 8,
        onBatch: (b) => {
          problems.push(...retainedGraphs(model, optimizer).map((p) => `epoch ${b.epoch} batch ${b.batch}: ${p}`));
          reachableCounts.push(reachableTensors(model, optimizer).length);
        },
      });
      assert.deepEqual(problems, [], `graphs retained after a step:\n${problems.slice(0, 5).join('\n')}`);
      assert.deepEqual(retainedGraphs(model, optimizer), [], 'after fit (evaluation included)');
      // 2 epochs of ceil(40 / 16) = 3 steps
      assert.equal(reachableCounts.length, 6);
      // Every step leaves the same tensors behind: the parameters, their grads, the buffers (none is added per step).
      assert.ok(reachableCounts.every((c) => c === reachableCounts[0]), `tensors reachable after each step: ${reachableCounts.join(', ')}`);
      assert.ok(reachableCounts[0] >= 2 * params.length, `${reachableCounts[0]} tensors reachable; expected at least every parameter and its grad (${2 * params.length})`);
      for (const p of params) assert.ok(p.grad instanceof Tensor && p.isLeaf && p.requiresGrad, 'parameters stay leaves that require grad and hold a grad');
    });
  }
});

const wasmAvailable = listBackends().includes('wasm');

describe('the wasm runtime memory', { skip: !wasmAvailable && 'WebAssembly SIMD is not available here' }, () => {
  test('stops growing once the shapes of a training step and of evaluation have been seen', async () => {
    const previous = getBackend().name;
    setBackend('wasm');
    try {
      // The worker threads start asynchronously; a job splits over the threads that are ready, and a
      // split takes more arena than a whole job, so the memory grows once more when they arrive.
      await wasmReady();
      const model = new LeNet5({ generator: new Generator(6) });
      const optimizer = new SGD(model, { lr: 0.01, momentum: 0.9 });
      // 50 examples in batches of 16: three full batches and one of 2, so two step shapes per epoch.
      const options = { train: images(50, 7), test: images(30, 8), batchSize: 16, optimizer, generator: new Generator(9), evalBatchSize: 30 };
      fit(model, { ...options, epochs: 1 });
      const rt = wasmRuntime();
      assert.ok(rt !== null, 'the wasm runtime ran');
      const bytes = rt.memory.buffer.byteLength;
      const jobs = rt.stats.jobs;
      const sizes: number[] = [];
      fit(model, { ...options, epochs: 4, onEpoch: () => void sizes.push(rt.memory.buffer.byteLength) });
      assert.ok(rt.stats.jobs > jobs, 'the kernels of the later epochs ran in wasm');
      assert.deepEqual(sizes, [bytes, bytes, bytes, bytes], `wasm memory after the first epoch: ${bytes} bytes; after each later one: ${sizes.join(', ')}`);
    } finally {
      setBackend(previous);
    }
  });
});

describe('stride train reports memory per epoch', () => {
  const epochResult = (epoch: number): EpochResult => ({
    epoch, epochs: 2, trainLoss: 0.5, trainAccuracy: 0.8, trainImages: 100, trainSeconds: 1, trainImagesPerSec: 100,
  });

  test('the progress reporter ends each epoch line with the resident set and heap, and keeps one sample per epoch', () => {
    const lines: string[] = [];
    const reporter = createProgressReporter({ log: (l) => void lines.push(l), bar: false });
    reporter.callbacks.onEpoch(epochResult(1));
    reporter.callbacks.onEpoch(epochResult(2));
    assert.equal(lines.length, 2);
    assert.equal(reporter.memory.length, 2);
    for (let i = 0; i < 2; i++) {
      const m = reporter.memory[i];
      assert.ok(Number.isInteger(m.rss) && m.rss > m.heapUsed && m.heapUsed > 0, `rss ${m.rss} > heapUsed ${m.heapUsed} > 0`);
      const mib = (b: number) => (b / 2 ** 20).toFixed(1);
      assert.ok(lines[i].startsWith(`epoch ${i + 1}/2: loss 0.5000, train accuracy 0.8000, 100 images in 1.0 s (100.0 images/s)`), lines[i]);
      assert.ok(lines[i].endsWith(`; rss ${mib(m.rss)} MiB, heap ${mib(m.heapUsed)} MiB`), lines[i]);
    }
  });

  test('with memory: false the line has no memory and nothing is sampled', () => {
    const lines: string[] = [];
    const reporter = createProgressReporter({ log: (l) => void lines.push(l), bar: false, memory: false });
    reporter.callbacks.onEpoch(epochResult(1));
    assert.equal(lines[0], 'epoch 1/2: loss 0.5000, train accuracy 0.8000, 100 images in 1.0 s (100.0 images/s)');
    assert.deepEqual(reporter.memory, []);
  });

  test('runTrain returns the samples and the --json line holds rssMiB and heapUsedMiB per epoch', async () => {
    const io = memoryIO();
    const s = await runTrain({ model: 'lenet5', dataset: 'mnist', limit: 128, testLimit: 100, epochs: 2, out: null }, io);
    assert.equal(s.memory.length, 2);
    const json = JSON.parse(trainJson(s)) as { rssMiB: number[]; heapUsedMiB: number[]; trainLoss: number[] };
    assert.equal(json.trainLoss.length, 2, 'the existing keys stay');
    assert.deepEqual(json.rssMiB, s.memory.map((m) => Number((m.rss / 2 ** 20).toFixed(1))));
    assert.deepEqual(json.heapUsedMiB, s.memory.map((m) => Number((m.heapUsed / 2 ** 20).toFixed(1))));
    const epochLines = io.lines.filter((l) => /^epoch \d\/2: loss/.test(l));
    assert.equal(epochLines.length, 2);
    epochLines.forEach((l, i) => assert.ok(l.endsWith(`; rss ${json.rssMiB[i].toFixed(1)} MiB, heap ${json.heapUsedMiB[i].toFixed(1)} MiB`), l));
  });
});
