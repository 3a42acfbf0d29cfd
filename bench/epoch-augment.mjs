#!/usr/bin/env node
/**
 * What augmentation costs a training epoch, and how much of it BatchPipeline's
 * workers take off the training thread. Two workloads, each the same model
 * from the same seed in every mode:
 *
 *   mnist  LeNet-5 on the first --examples MNIST training images, augment
 *          defaultAugment('mnist') (the spec `--augment` uses for MNIST),
 *          normalized by MNIST_MEAN/STD;
 *   cifar  a small CNN (conv 3->16, pool, conv 16->32, pool, linear) on
 *          synthetic 3x32x32 images, augment 'crop:4,flip', normalized by
 *          CIFAR10_MEAN/STD.
 *
 * Modes, alternating within every round (so a change of the machine's load
 * hits them alike):
 *
 *   none     DataLoader over images normalized once (no augmentation);
 *   thread   BatchPipeline with workers 0: augmentation in the training thread;
 *   workers  BatchPipeline with --workers workers (default 1), the kernels
 *            on all the cores meanwhile;
 *   train    what `stride train --augment` does: the same workers, the
 *            kernels on the cores they leave (cores - workers, at least 1)
 *            while the epoch trains (unless --threads fixes them);
 *   making   the in-thread pipeline's batches alone, no training: what the
 *            augmentation itself costs per epoch;
 *   fetching the workers' batches alone, no training: how fast they deliver.
 *
 * An epoch is --examples / --batch SGD steps (zeroGrad, forward,
 * cross-entropy, backward, step), timed from asking for the first batch to
 * the last step. Every mode's pipeline lives for the whole run, as in
 * training, and round 0 is a warm-up (worker start-up, JIT), not counted.
 * Prints per workload and mode the median epoch seconds over --rounds rounds,
 * and the ratio to `none` (the goal: augmentation within 10% of none, i.e.
 * a ratio <= 1.10), and the machine's load average before and after.
 *
 *   node --import tsx bench/epoch-augment.mjs [--rounds 5] [--examples 3200] [--batch 64]
 *       [--workers N] [--threads T] [--only mnist|cifar]
 *
 * --threads sets the native backend's threads (e.g. cores - workers, so that
 * the training thread's BLAS and the workers do not share cores).
 */
import os from 'node:os';
import {
  LeNet5, nn, optim, F, backward, Generator, Tensor, DataLoader, normalize, MNIST_MEAN, MNIST_STD, CIFAR10_MEAN, CIFAR10_STD, transforms, getBackend, setThreads,
} from '../src/index-node.ts';
import { loadMnist, BatchPipeline, nativeAvailable, setNativeThreads, getNativeThreads } from '../src/node.ts';
import { parseBenchOptions } from './options.mjs';

const { values: opts } = parseBenchOptions(import.meta.url, 'epoch-augment', {
  rounds: { type: 'string', default: '5' },
  examples: { type: 'string', default: '3200' },
  batch: { type: 'string', default: '64' },
  workers: { type: 'string' },
  only: { type: 'string' },
  threads: { type: 'string' },
});
const rounds = Number(opts.rounds);
const examples = Number(opts.examples);
const batchSize = Number(opts.batch);
const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
const workers = opts.workers === undefined ? 1 : Number(opts.workers);
for (const [name, v, min] of [['--rounds', rounds, 1], ['--examples', examples, 1], ['--batch', batchSize, 1], ['--workers', workers, 1]]) {
  if (!(Number.isInteger(v) && v >= min)) throw new Error(`${name} must be an integer >= ${min}, got ${v}`);
}
if (opts.only !== undefined && !['mnist', 'cifar'].includes(opts.only)) throw new Error(`--only must be mnist or cifar, got ${opts.only}`);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function mnistWorkload() {
  const train = await loadMnist({ split: 'train', limit: examples });
  return {
    name: 'mnist',
    title: 'LeNet-5 on MNIST',
    images: train.images,
    labels: train.labels,
    augment: transforms.defaultAugment('mnist', [1, 28, 28]).spec,
    norm: { mean: [MNIST_MEAN], std: [MNIST_STD] },
    model: () => new LeNet5({ generator: new Generator(0) }),
  };
}

function cifarWorkload() {
  const g = new Generator(7);
  const x = new Float32Array(examples * 3 * 32 * 32);
  g.fillUniform(x, 0, 1);
  const y = new Float32Array(examples);
  for (let i = 0; i < examples; i++) y[i] = g.randint(10);
  return {
    name: 'cifar',
    title: 'small CNN on synthetic 3x32x32',
    images: new Tensor(x, [examples, 3, 32, 32]),
    labels: new Tensor(y, [examples]),
    augment: 'crop:4,flip',
    norm: { mean: [...CIFAR10_MEAN], std: [...CIFAR10_STD] },
    model: () => {
      const gen = new Generator(0);
      return new nn.Sequential(
        new nn.Conv2d(3, 16, 3, { padding: 1, generator: gen }), new nn.ReLU(), new nn.MaxPool2d(2),
        new nn.Conv2d(16, 32, 3, { padding: 1, generator: gen }), new nn.ReLU(), new nn.MaxPool2d(2),
        new nn.Flatten(), new nn.Linear(32 * 8 * 8, 10, { generator: gen }),
      );
    },
  };
}

/** One epoch of SGD steps over `batches` (an iterable or async iterable of { x, y }); seconds. */
async function epoch(model, opt, batches) {
  const t0 = performance.now();
  for await (const { x, y } of batches) {
    opt.zeroGrad();
    backward(F.crossEntropy(model.forward(x), y));
    opt.step();
  }
  return (performance.now() - t0) / 1000;
}

/** Seconds to make one epoch's batches without training on them. */
async function batchesOnly(batches) {
  const t0 = performance.now();
  for await (const _ of batches) void _;
  return (performance.now() - t0) / 1000;
}

async function run(w) {
  const model = w.model();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const normalized = normalize(w.images, w.norm.mean, w.norm.std);
  const loader = new DataLoader({ images: normalized, labels: w.labels }, { batchSize, shuffle: true, generator: new Generator(1) });
  const common = { images: w.images, labels: w.labels, batchSize, augment: w.augment, normalize: w.norm, seed: 1, shuffle: true };
  const inThread = new BatchPipeline({ ...common, workers: 0 });
  const pooled = new BatchPipeline({ ...common, workers });
  const times = { none: [], thread: [], workers: [], train: [], making: [], fetching: [] };
  try {
    for (let r = 0; r <= rounds; r++) {
      const t = {
        none: await epoch(model, opt, loader),
        thread: await epoch(model, opt, inThread.epoch(r)),
        workers: await epoch(model, opt, pooled.epoch(r)),
        train: await withKernelThreads(() => epoch(model, opt, pooled.epoch(rounds + 1 + r))),
        making: await batchesOnly(inThread.epoch(r)),
        fetching: await batchesOnly(pooled.epoch(r)),
      };
      if (r > 0) for (const k of Object.keys(times)) times[k].push(t[k]);
    }
  } finally {
    await pooled.close();
    await inThread.close();
  }
  const base = median(times.none);
  console.log(`\n${w.title}: ${examples} examples, batch ${batchSize} (${Math.ceil(examples / batchSize)} steps), augment '${w.augment}', ${rounds} rounds after a warm-up`);
  console.log(`${'mode'.padEnd(32)}  median s   ratio to none   all (s)`);
  for (const [k, label] of [
    ['none', 'none (DataLoader)'], ['thread', 'augment, workers 0'], ['workers', `augment, workers ${workers}`], ['train', `augment, workers ${workers}, kernels ${kernelThreads ?? 'as set'}`],
    ['making', 'batches only, workers 0'], ['fetching', `batches only, workers ${workers}`],
  ]) {
    const m = median(times[k]);
    console.log(`${label.padEnd(32)} ${m.toFixed(3).padStart(9)}   ${(m / base).toFixed(3).padStart(13)}   ${times[k].map((v) => v.toFixed(2)).join(' ')}`);
  }
}

if (opts.threads !== undefined) {
  const t = Number(opts.threads);
  if (!(Number.isInteger(t) && t >= 1)) throw new Error(`--threads must be an integer >= 1, got ${opts.threads}`);
  if (nativeAvailable()) setNativeThreads(t);
}
/** The kernels' threads in the `train` mode: those the workers leave, unless --threads fixed them. */
const kernelThreads = opts.threads === undefined ? Math.max(1, cores - workers) : undefined;

/** Runs `f` with the kernels on kernelThreads threads, then puts them back. */
async function withKernelThreads(f) {
  if (kernelThreads === undefined) return f();
  setThreads(kernelThreads);
  try {
    return await f();
  } finally {
    setThreads(null);
  }
}
const load0 = os.loadavg();
console.log(`backend ${getBackend().name}${nativeAvailable() ? ` (${getNativeThreads()} threads)` : ''}, ${cores} cores, load average ${load0.map((v) => v.toFixed(2)).join(' ')} (1/5/15 min) at the start`);
if (opts.only !== 'cifar') await run(await mnistWorkload());
if (opts.only !== 'mnist') await run(cifarWorkload());
console.log(`\nload average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')} at the end`);
