/**
 * Quick speed check of a backend (default: wasm) on the benchmark workloads:
 *   lenet5-train     LeNet-5 training step (forward, cross-entropy, backward, SGD), batch 64: images/s
 *   lenet5-infer     LeNet-5 forward without grad, batch 256: images/s
 *   conv-fwd         conv 64->64 3x3 pad 1 on 32x32, batch 32: ms
 *   conv-fwdbwd      the same, forward + backward (input and weight gradients): ms
 *   resnet-train     the ResNet-block net (conv 3->64, BN, ReLU, 2 basic blocks, global avg pool, linear), batch 32: images/s
 *   resnet-infer     its forward without grad (eval mode): images/s
 *   gemm             1024^3 GEMM on 1 and on 2 threads: GFLOPS
 * Each workload runs `--reps` timed repetitions after warm-up; the median and
 * the best are printed.
 *
 *   node --import tsx bench/wasm-quick.ts [--backend wasm] [--threads N] [--only a,b] [--reps 7]
 */
import { parseArgs } from 'node:util';
import '../src/backends/wasm/node.js';
import '../src/tensor/node.js';
import { Generator, LeNet5, Tensor, backendInfo, getBackend, noGrad, randn, setBackend, setThreads } from '../src/index.js';
import { SGD } from '../src/optim/index.js';
import { conv2d } from '../src/ops/index.js';
import { wasmRuntime } from '../src/backends/wasm/index.js';
import { labels, median, resnetBlockNet, trainStep } from './quick-workloads.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string' },
    only: { type: 'string' },
    reps: { type: 'string', default: '7' },
  },
});

setBackend(values.backend!);
if (values.threads) setThreads(Number(values.threads));
const reps = Number(values.reps);
const only = values.only ? values.only.split(',') : null;
const gen = new Generator(1);

async function settle(): Promise<void> {
  // the wasm workers start asynchronously: wait until they all take work
  const rt = getBackend().name === 'wasm' ? wasmRuntime() : null;
  const t0 = Date.now();
  while (rt && rt.readyWorkers() < rt.threads - 1 && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Runs fn `warm` times untimed, then `reps * repScale` times timed (sorted ms). LeNet-5 iterations
 * take milliseconds and the first ~20 are slower (JIT, heap growth), so they warm up longer and
 * repeat more.
 */
function time(fn: () => void, warm = 2, repScale = 1): number[] {
  for (let i = 0; i < warm; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < reps * repScale; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

const results: Record<string, unknown> = {};

function report(name: string, ms: number[], per: (ms: number) => [number, string]): void {
  const [med, unit] = per(median(ms));
  const [best] = per(ms[0]);
  results[name] = { median: +med.toFixed(2), best: +best.toFixed(2), unit, msMedian: +median(ms).toFixed(2) };
  console.log(`${name.padEnd(14)} ${med.toFixed(1).padStart(9)} ${unit} (best ${best.toFixed(1)}; median ${median(ms).toFixed(2)} ms per iteration)`);
}

function want(name: string): boolean {
  return !only || only.includes(name);
}

async function main(): Promise<void> {
  await settle();
  const info = backendInfo();
  console.log(`backend ${info.name}, ${info.threads} thread(s), SIMD ${info.simd}; Node ${process.version}`);

  if (want('lenet5-train')) {
    const net = new LeNet5({ generator: gen });
    const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
    const x = randn([64, 1, 28, 28], { generator: gen });
    const ms = time(trainStep(net, opt, x, labels(64)), 30, 4);
    report('lenet5-train', ms, (t) => [64 / (t / 1000), 'img/s']);
  }
  if (want('lenet5-infer')) {
    const net = new LeNet5({ generator: gen });
    const x = randn([256, 1, 28, 28], { generator: gen });
    const ms = time(() => noGrad(() => net.forward(x)), 30, 4);
    report('lenet5-infer', ms, (t) => [256 / (t / 1000), 'img/s']);
  }
  if (want('conv-fwd') || want('conv-fwdbwd')) {
    const x = randn([32, 64, 32, 32], { generator: gen });
    const w = randn([64, 64, 3, 3], { generator: gen });
    w.data.forEach((v, i) => (w.data[i] = v * 0.05));
    if (want('conv-fwd')) {
      const ms = time(() => noGrad(() => conv2d(x, w, null, { padding: 1 })));
      report('conv-fwd', ms, (t) => [t, 'ms']);
    }
    if (want('conv-fwdbwd')) {
      const xg = new Tensor(x.data, x.shape).requiresGrad_();
      const wg = new Tensor(w.data, w.shape).requiresGrad_();
      const ms = time(() => {
        xg.grad = null;
        wg.grad = null;
        conv2d(xg, wg, null, { padding: 1 }).sum().backward();
      });
      report('conv-fwdbwd', ms, (t) => [t, 'ms']);
    }
  }
  if (want('resnet-train')) {
    const net = resnetBlockNet(gen);
    const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
    const x = randn([32, 3, 32, 32], { generator: gen });
    const ms = time(trainStep(net, opt, x, labels(32)), 2);
    report('resnet-train', ms, (t) => [32 / (t / 1000), 'img/s']);
  }
  if (want('resnet-infer')) {
    const net = resnetBlockNet(gen);
    net.eval();
    const x = randn([32, 3, 32, 32], { generator: gen });
    const ms = time(() => noGrad(() => net.forward(x)), 2);
    report('resnet-infer', ms, (t) => [32 / (t / 1000), 'img/s']);
  }
  if (want('gemm')) {
    // 1024^3 on one thread, then on two (the caller and one worker)
    const n = 1024;
    const a = randn([n, n], { generator: gen }).data;
    const b = randn([n, n], { generator: gen }).data;
    const c = new Float32Array(n * n);
    const k = getBackend().kernels;
    for (const t of [1, 2]) {
      setThreads(t);
      await settle();
      const ms = time(() => k.gemm(false, false, n, n, n, 1, a, 0, b, 0, 0, c, 0), 2);
      report(`gemm-${t}t`, ms, (x) => [(2 * n ** 3) / (x * 1e6), 'GFLOPS']);
    }
    setThreads(values.threads ? Number(values.threads) : null);
  }
  console.log(JSON.stringify({ backend: info.name, threads: info.threads, simd: info.simd, results }));
}

await main();
