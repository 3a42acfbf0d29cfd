import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  WORKLOADS, WORKLOAD_NAMES, alexnetForwardFlopsPerImage, convLayerForwardFlopsPerImage, convMacs, lenet5ForwardFlopsPerImage, linearMacs, median,
  resnet18ForwardFlopsPerImage, resnetBlockForwardFlopsPerImage, vgg16ForwardFlopsPerImage, resnetBlockNet, type WorkloadName,
} from '../../src/cli/workloads.js';
import { main } from '../../src/cli/program.js';
import { memoryIO } from '../../src/cli/io.js';
import { Generator, LeNet5, createModel, getBackend, getModelSpec, listBackends, nn, noGrad, zeros, type Tensor } from '../../src/index.js';
import type { Module } from '../../src/nn/index.js';
import { repoRoot, stride } from '../helpers/index.js';

type Pair = number | readonly number[] | string | undefined;
/** A Conv2d option as [height, width]; the models of the benchmarks give numbers or pairs. */
function pairOf(v: Pair, fallback: number): [number, number] {
  if (v === undefined) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  if (typeof v === 'string') throw new Error(`padding '${v}' is not traced here`);
  return [v[0], v[1]];
}

/**
 * The multiply-adds of one image in a model's Conv2d and Linear layers, as the
 * model runs: every Conv2d and Linear gets a forward that adds its MACs and
 * returns zeros of its output shape (PyTorch's output size
 * floor((in + 2p - d(k-1) - 1) / s) + 1), while every other layer (pooling,
 * batch norm, residual additions, flatten) runs for real and so decides the
 * shapes the next layers see. No convolution is computed.
 */
function tracedMacs(model: Module, image: readonly number[]): { conv: number; linear: number; convLayers: number; linearLayers: number } {
  const count = { conv: 0, linear: 0, convLayers: 0, linearLayers: 0 };
  for (const [, m] of model.namedModules()) {
    if (m instanceof nn.Conv2d) {
      m.forward = (x: Tensor): Tensor => {
        const [n, c, h, w] = x.shape;
        assert.equal(c, m.inChannels, 'input channels');
        const [kH, kW] = m.kernelSize;
        const [sH, sW] = pairOf(m.options.stride, 1);
        const [pH, pW] = pairOf(m.options.padding, 0);
        const [dH, dW] = pairOf(m.options.dilation, 1);
        const outH = Math.floor((h + 2 * pH - dH * (kH - 1) - 1) / sH) + 1;
        const outW = Math.floor((w + 2 * pW - dW * (kW - 1) - 1) / sW) + 1;
        count.conv += m.outChannels * outH * outW * (m.inChannels / (m.options.groups ?? 1)) * kH * kW;
        count.convLayers++;
        return zeros([n, m.outChannels, outH, outW]);
      };
    } else if (m instanceof nn.Linear) {
      m.forward = (x: Tensor): Tensor => {
        assert.equal(x.shape[1], m.inFeatures, 'input features');
        count.linear += m.inFeatures * m.outFeatures;
        count.linearLayers++;
        return zeros([x.shape[0], m.outFeatures]);
      };
    }
  }
  model.eval();
  noGrad(() => model.forward(zeros([1, ...image])));
  return count;
}

/** The model each workload runs (the conv-* workloads are one layer, counted by hand above), and its image. */
function workloadModel(name: WorkloadName): { model: Module; image: readonly number[] } | null {
  const generator = new Generator(0);
  const base = name.replace(/-(train|infer)$/, '');
  if (base === 'lenet5') return { model: new LeNet5({ generator }), image: [1, 28, 28] };
  if (base === 'resnet-block') return { model: resnetBlockNet(generator), image: [3, 32, 32] };
  if (base.startsWith('conv')) return null;
  return { model: createModel(base, { generator }), image: getModelSpec(base).inputShape };
}

describe('bench FLOP counts (by hand)', () => {
  test('conv and linear MACs', () => {
    // 3 output channels of 4x5, each a sum over 2 input channels x 3x3 taps: 3*4*5*2*9.
    assert.equal(convMacs(2, 3, 3, 4, 5), 1080);
    // groups 2: each output sees 4/2 = 2 input channels: 4*2*2*2*9.
    assert.equal(convMacs(4, 4, 3, 2, 2, 2), 288);
    assert.equal(linearMacs(400, 120), 48000);
  });

  test('LeNet-5: 416,520 MACs per image', () => {
    // conv1 6*28*28*1*25 = 117,600; conv2 16*10*10*6*25 = 240,000;
    // fc 400*120 + 120*84 + 84*10 = 48,000 + 10,080 + 840 = 58,920.
    // 117,600 + 240,000 + 58,920 = 416,520 MACs = 833,040 FLOPs.
    assert.equal(lenet5ForwardFlopsPerImage(), 833_040);
    // Training: 3 x forward, batch 64: 833,040 * 3 * 64 = 159,943,680.
    assert.equal(WORKLOADS['lenet5-train'].flopsPerIter, 159_943_680);
    // Inference, batch 256: 833,040 * 256 = 213,258,240.
    assert.equal(WORKLOADS['lenet5-infer'].flopsPerIter, 213_258_240);
  });

  test('ResNet-block net: 152,765,056 MACs per image', () => {
    // stem 64*1024*3*9 = 1,769,472; four 64->64 convs 4*64*1024*64*9 = 150,994,944; linear 640.
    // Sum 152,765,056 MACs = 305,530,112 FLOPs.
    assert.equal(resnetBlockForwardFlopsPerImage(), 305_530_112);
    assert.equal(WORKLOADS['resnet-block-infer'].flopsPerIter, 305_530_112 * 32); // 9,776,963,584
    assert.equal(WORKLOADS['resnet-block-train'].flopsPerIter, 29_330_890_752); // 305,530,112 * 3 * 32
  });

  test('conv 64->64 3x3 on 32x32: 37,748,736 MACs per image', () => {
    // 64*32*32*64*9 = 37,748,736 MACs = 75,497,472 FLOPs.
    assert.equal(convLayerForwardFlopsPerImage(), 75_497_472);
    assert.equal(WORKLOADS['conv-fwd'].flopsPerIter, 2_415_919_104); // * 32
    assert.equal(WORKLOADS['conv-fwdbwd'].flopsPerIter, 7_247_757_312); // * 3 * 32
  });

  test('AlexNet: 714,188,480 MACs per image on 3x224x224', () => {
    // conv 64*55*55*3*121 = 70,276,800; 192*27*27*64*25 = 223,948,800; 384*13*13*192*9 = 112,140,288;
    // 256*13*13*384*9 = 149,520,384; 256*13*13*256*9 = 99,680,256 (655,566,528 in all);
    // linear 9216*4096 + 4096*4096 + 4096*1000 = 58,621,952. Sum 714,188,480 MACs.
    assert.equal(alexnetForwardFlopsPerImage(), 2 * 714_188_480);
    assert.equal(WORKLOADS['alexnet-infer'].flopsPerIter, 16 * 1_428_376_960); // 22,854,031,360
  });

  test('VGG-16: 15,470,264,320 MACs per image on 3x224x224', () => {
    // A 3x3 conv C->C' at S x S: C'*S*S*C*9. 224: 3->64 86,704,128, 64->64 1,849,688,064;
    // 112: 924,844,032 + 1,849,688,064; 56: 924,844,032 + 2 * 1,849,688,064;
    // 28: the same; 14: 3 * 462,422,016. Conv sum 15,346,630,656.
    // linear 25088*4096 + 4096*4096 + 4096*1000 = 123,633,664.
    assert.equal(vgg16ForwardFlopsPerImage(), 2 * 15_470_264_320);
    assert.equal(WORKLOADS['vgg16-infer'].flopsPerIter, 8 * 30_940_528_640); // 247,524,229,120
  });

  test('ResNet-18: 1,814,073,344 MACs per image on 3x224x224', () => {
    // stem 64*112*112*3*49 = 118,013,952; layer1 4 * 64*56*56*64*9 = 462,422,016;
    // layers 2-4 each 57,802,752 + 3 * 115,605,504 + 6,422,528 (1x1 downsample) = 411,041,792;
    // conv sum 1,813,561,344; fc 512*1000 = 512,000.
    assert.equal(resnet18ForwardFlopsPerImage(), 2 * 1_814_073_344);
    assert.equal(WORKLOADS['resnet18-infer'].flopsPerIter, 16 * 3_628_146_688); // 58,050,347,008
    assert.equal(WORKLOADS['resnet18-train'].flopsPerIter, 3 * 16 * 3_628_146_688); // 174,151,041,024
  });

  test('the workloads\' batches, and the peers read the same table (bench/workloads.json)', () => {
    const batches = Object.fromEntries(WORKLOAD_NAMES.map((n) => [n, WORKLOADS[n].batch]));
    assert.deepEqual(batches, {
      'lenet5-train': 64, 'lenet5-infer': 256, 'resnet-block-train': 32, 'resnet-block-infer': 32, 'conv-fwd': 32, 'conv-fwdbwd': 32,
      'resnet18-train': 16, 'resnet18-infer': 16, 'vgg16-infer': 8, 'alexnet-infer': 16,
    });
    type Entry = { batch: number; flopsPerIter: number; iterations: number; warmup: number; description: string };
    const peers = JSON.parse(readFileSync(join(repoRoot, 'bench', 'workloads.json'), 'utf8')) as Record<string, Entry>;
    assert.deepEqual(Object.keys(peers), WORKLOAD_NAMES);
    for (const n of WORKLOAD_NAMES) {
      const { batch, flopsPerIter, iterations, warmup, description } = WORKLOADS[n];
      assert.deepEqual(peers[n], { batch, flopsPerIter, iterations, warmup, description }, n);
    }
  });

  // Each model is traced once (VGG-16 takes seconds to initialize; nothing is convolved).
  const traced = new Map<string, ReturnType<typeof tracedMacs>>();
  const trace = (name: WorkloadName) => {
    const base = name.replace(/-(train|infer)$/, '');
    if (!traced.has(base)) {
      const w = workloadModel(name);
      assert.ok(w, `${name} runs no model`);
      traced.set(base, tracedMacs(w.model, w.image));
    }
    return { ...traced.get(base)!, train: name.endsWith('-train') };
  };
  for (const name of WORKLOAD_NAMES.filter((n) => !n.startsWith('conv'))) {
    test(`${name}: FLOPs per iteration = batch x 2 x the MACs of the model's conv and linear layers${name.endsWith('-train') ? ' x 3' : ''}`, () => {
      const t = trace(name);
      const expected = WORKLOADS[name].batch * 2 * (t.conv + t.linear) * (t.train ? 3 : 1);
      assert.equal(WORKLOADS[name].flopsPerIter, expected);
    });
  }

  test('the layers traced: ResNet-18 20 convolutions (3 downsample) and 1 linear; VGG-16 13 and 3; AlexNet 5 and 3', () => {
    const layers = (n: WorkloadName) => {
      const t = trace(n);
      return [t.convLayers, t.linearLayers];
    };
    assert.deepEqual(layers('resnet18-infer'), [20, 1]);
    assert.deepEqual(layers('vgg16-infer'), [13, 3]);
    assert.deepEqual(layers('alexnet-infer'), [5, 3]);
  });

  test('the zoo FLOPs equal those counted on torchvision\'s models with forward hooks (bench/flops.py)', (t) => {
    const r = spawnSync('/usr/bin/python3', [join(repoRoot, 'bench', 'flops.py'), 'resnet18', 'vgg16', 'alexnet'], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
    if (r.error || r.status !== 0) {
      t.skip(`python3 with torch and torchvision is not available (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`);
      return;
    }
    const theirs = JSON.parse(r.stdout) as Record<string, { forwardFlops: number }>;
    assert.equal(resnet18ForwardFlopsPerImage(), theirs.resnet18.forwardFlops);
    assert.equal(vgg16ForwardFlopsPerImage(), theirs.vgg16.forwardFlops);
    assert.equal(alexnetForwardFlopsPerImage(), theirs.alexnet.forwardFlops);
  });

  test('median: middle value, mean of the two middle values for an even count', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });
});

describe('stride bench and stride info', () => {
  test('stride bench lenet5-infer --iterations 1 --warmup 0 --json --backend ref: the last line is the JSON summary', async () => {
    const r = await stride('bench', 'lenet5-infer', '--iterations', '1', '--warmup', '0', '--json', '--backend', 'ref');
    assert.equal(r.code, 0, r.stderr);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    const s = JSON.parse(last) as Record<string, unknown>;
    for (const k of ['workload', 'backend', 'threads', 'imagesPerSec', 'msPerIter', 'gflops']) assert.ok(k in s, `missing key ${k} in ${last}`);
    assert.equal(s.workload, 'lenet5-infer');
    assert.equal(s.backend, 'ref');
    assert.equal(s.threads, 1);
    assert.equal(s.iterations, 1);
    const ms = s.msPerIter as number;
    assert.ok(ms > 0, `msPerIter ${ms}`);
    // images/s = 256 images / (ms / 1000); GFLOPS = 213,258,240 FLOPs / (ms * 1e6); both rounded to 2-3 digits.
    assert.ok(Math.abs((s.imagesPerSec as number) - 256_000 / ms) < 0.01 * (256_000 / ms), `imagesPerSec ${s.imagesPerSec} vs ${256_000 / ms}`);
    assert.ok(Math.abs((s.gflops as number) - 213.25824 / ms) < 0.002 + 0.01 * (213.25824 / ms), `gflops ${s.gflops} vs ${213.25824 / ms}`);
  });

  test('stride info prints the backend in use, threads, SIMD and OpenBLAS', async () => {
    const io = memoryIO();
    assert.equal(await main(['info', '--json'], io), 0, io.errors.join('\n'));
    assert.match(io.lines[0], new RegExp(`^backend:\\s+${getBackend().name}\\b`));
    assert.ok(io.lines.some((l) => /^threads:\s+\d+/.test(l)), io.lines.join('\n'));
    assert.ok(io.lines.some((l) => /^SIMD:\s+\S/.test(l)), io.lines.join('\n'));
    assert.ok(io.lines.some((l) => /^OpenBLAS:\s+(found|not found)/.test(l)), io.lines.join('\n'));
    const s = JSON.parse(io.lines[io.lines.length - 1]) as { backend: string; backends: string[]; openblas: boolean; openblasStatus: string };
    assert.equal(s.backend, getBackend().name);
    assert.deepEqual(s.backends, listBackends());
    // native is registered only when OpenBLAS loads; without it the status names the command that installs it.
    if (listBackends().includes('native')) assert.equal(s.openblas, true);
    if (!s.openblas) assert.match(s.openblasStatus, /install/);
  });

  test('stride info --backend ref: ref, one thread, no SIMD', async () => {
    const before = getBackend().name;
    const io = memoryIO();
    try {
      assert.equal(await main(['info', '--backend', 'ref', '--json'], io), 0, io.errors.join('\n'));
    } finally {
      (await import('../../src/index.js')).setBackend(before);
    }
    const s = JSON.parse(io.lines[io.lines.length - 1]) as { backend: string; threads: number; simd: string };
    assert.deepEqual([s.backend, s.threads, s.simd], ['ref', 1, 'none']);
  });

  const bad: [string[], RegExp][] = [
    [['bench', 'alexnet-train'], /'alexnet-train'.*workload.*available: lenet5-train, lenet5-infer/],
    [['bench', 'conv-fwd', '--threads', '0'], /--threads.*'0'.*integer from 1 to \d+ \(this machine's logical cores\)/],
    [['bench', 'conv-fwd', '--iterations', '0'], /--iterations.*'0'/],
    [['bench', 'conv-fwd', '--warmup', '-1'], /--warmup.*'-1'/],
    [['bench', 'conv-fwd', '--backend', 'cuda'], /--backend.*cuda/],
    [['info', '--threads', 'two'], /--threads.*'two'/],
    [['train', 'lenet5', '--threads', '1.5'], /--threads.*'1\.5'/],
  ];
  for (const [args, message] of bad) {
    test(`stride ${args.join(' ')}: exit 2 naming the option`, async () => {
      const io = memoryIO();
      const write = process.stderr.write;
      let stderr = '';
      // commander writes its own errors to process.stderr
      process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
      let code: number;
      try {
        code = await main(args, io);
      } finally {
        process.stderr.write = write;
      }
      assert.equal(code, 2);
      assert.match(stderr + io.errors.join('\n'), message);
    });
  }
});

describe('the bench scripts\' options (bench/options.mjs)', () => {
  // [script, node flags]: the .mjs scripts that import TypeScript run under tsx
  const scripts: [string, string[]][] = [
    ['run.mjs', []], ['browser/run.mjs', []], ['epoch-vs-torch.mjs', []], ['memory-vs-torch.mjs', []], ['native-vs-torch.mjs', []], ['soak.mjs', []],
    ['epoch-augment.mjs', ['--import', 'tsx']], ['finite-checks.mjs', ['--import', 'tsx']],
  ];
  const run = (flags: string[], script: string, args: string[]) =>
    spawnSync(process.execPath, [...flags, join(repoRoot, 'bench', script), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });

  for (const [script, flags] of scripts) {
    test(`bench/${script} --help prints its usage line and exits 0 without measuring`, () => {
      const r = run(flags, script, ['--help']);
      assert.equal(r.status, 0, r.stderr);
      // the usage line of the header names the script itself, e.g. "node bench/run.mjs [--rounds 3]"
      assert.match(r.stdout, new RegExp(`bench/${script.replace('.', '\\.')}`));
      assert.doesNotMatch(r.stdout, /^\s*\*/m, 'comment markers are stripped');
    });

    test(`bench/${script} --round 5 (misspelt): exit 2 naming the option, before any run`, () => {
      const r = run(flags, script, ['--round', '5']);
      assert.equal(r.status, 2, `status ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /Unknown option '--round'/);
      assert.match(r.stderr, /the options are --\w/);
      assert.equal(r.stdout, '');
    });
  }

  test('bench/run.mjs refuses an engine id it does not have and a --rounds without its value', () => {
    const engines = run([], 'run.mjs', ['--engines', 'stride-wsam']);
    assert.equal(engines.status, 2);
    assert.match(engines.stderr, /unknown engine 'stride-wsam'; one of stride-wasm, stride-native, pytorch/);
    const rounds = run([], 'run.mjs', ['--rounds']);
    assert.equal(rounds.status, 2);
    assert.match(rounds.stderr, /--rounds <value>' argument missing/);
  });
});
