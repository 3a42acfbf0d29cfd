/**
 * Quick timing of the benchmark workloads on one backend (default `native`):
 *   lenet5-train        LeNet-5, batch 64 of 1x28x28, SGD step            (images/s)
 *   resnet-block-train  conv 3->64 + BN + ReLU, two BasicBlocks(64), global
 *                       average pool, linear 64->10; batch 32 of 3x32x32  (images/s)
 *   conv-fwd            conv 64->64 3x3 pad 1, 32x32, batch 32, forward   (ms)
 *   conv-fwdbwd         the same, forward + backward (x, w and b grads)   (ms)
 * Each workload runs `--reps` timed rounds after a warm-up and reports the
 * median. bench/native-quick.py runs the same workloads in PyTorch.
 *
 *   node --import tsx bench/native-quick.ts [--backend native|ref|...] [--threads 2] [--reps 7] [--json] [workload ...]
 */
import { Generator, LeNet5, backward, listBackends, randn, setBackend, tensor } from '../src/index.js';
import { SGD } from '../src/optim/index.js';
import { conv2d } from '../src/ops/index.js';
import { nativeStatus, setNativeThreads } from '../src/backends/native/index.js';
import { registerNativeBackend } from '../src/backends/native/register.js';
// the Node entry: loads the wasm backend, so that native's non-BLAS kernels come from wasm as in the CLI
import '../src/node.js';
import { labels, median, resnetBlockNet, trainStep } from './quick-workloads.js';

const args = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
}
const backendName = option('backend', 'native');
const threads = Number(option('threads', '2'));
const reps = Number(option('reps', '7'));
const json = args.includes('--json');
const workloads = args.filter((a) => !a.startsWith('--'));

registerNativeBackend();
if (!listBackends().includes(backendName)) {
  console.error(`backend '${backendName}' is not available (${listBackends().join(', ')}); ${nativeStatus()}`);
  process.exit(1);
}
setBackend(backendName);
setNativeThreads(threads);

const gen = new Generator(1);

/** Runs `step` `warm` times, then `reps` rounds of `iters` steps; returns the median ms per step. */
function time(step: () => void, iters: number, warm = 2): number {
  for (let i = 0; i < warm; i++) step();
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    for (let i = 0; i < iters; i++) step();
    ms.push((performance.now() - t) / iters);
  }
  return median(ms);
}

const results: { workload: string; msPerIter: number; imagesPerSec: number }[] = [];
function report(workload: string, msPerIter: number, batch: number): void {
  const imagesPerSec = (batch * 1000) / msPerIter;
  results.push({ workload, msPerIter, imagesPerSec });
  if (!json) console.log(`${workload.padEnd(20)} ${msPerIter.toFixed(2).padStart(9)} ms/iter ${imagesPerSec.toFixed(0).padStart(8)} img/s`);
}

const all: Record<string, () => void> = {
  'lenet5-train': () => {
    const model = new LeNet5({ generator: gen });
    const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const x = randn([64, 1, 28, 28], { generator: gen });
    report('lenet5-train', time(trainStep(model, opt, x, tensor(labels(64))), 20, 5), 64);
  },
  'resnet-block-train': () => {
    const model = resnetBlockNet(gen);
    const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const x = randn([32, 3, 32, 32], { generator: gen });
    report('resnet-block-train', time(trainStep(model, opt, x, tensor(labels(32))), 2, 1), 32);
  },
  'conv-fwd': () => {
    const x = randn([32, 64, 32, 32], { generator: gen });
    const w = randn([64, 64, 3, 3], { generator: gen, std: 0.05 });
    const b = randn([64], { generator: gen });
    report('conv-fwd', time(() => conv2d(x, w, b, { padding: 1 }), 5), 32);
  },
  'conv-fwdbwd': () => {
    const x = randn([32, 64, 32, 32], { generator: gen }).requiresGrad_();
    const w = randn([64, 64, 3, 3], { generator: gen, std: 0.05 }).requiresGrad_();
    const b = randn([64], { generator: gen }).requiresGrad_();
    const gy = randn([32, 64, 32, 32], { generator: gen });
    report('conv-fwdbwd', time(() => {
      x.grad = null;
      w.grad = null;
      b.grad = null;
      backward(conv2d(x, w, b, { padding: 1 }), gy);
    }, 3), 32);
  },
};

if (!json) console.log(`backend ${backendName}, ${threads} threads; ${nativeStatus()}`);
for (const name of workloads.length ? workloads : Object.keys(all)) {
  const run = all[name];
  if (!run) {
    console.error(`unknown workload '${name}'; one of ${Object.keys(all).join(', ')}`);
    process.exit(1);
  }
  run();
}
if (json) console.log(JSON.stringify({ backend: backendName, threads, results }));
