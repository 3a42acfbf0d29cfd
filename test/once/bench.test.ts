import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  WORKLOADS, WORKLOAD_NAMES, convLayerForwardFlopsPerImage, convMacs, lenet5ForwardFlopsPerImage, linearMacs, median,
  resnetBlockForwardFlopsPerImage,
} from '../../src/cli/bench.js';
import { main } from '../../src/cli/program.js';
import { memoryIO } from '../../src/cli/io.js';
import { getBackend, listBackends } from '../../src/index.js';
import { repoRoot, stride } from '../helpers/index.js';

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

  test('the workloads\' batches, and the peers read the same numbers (bench/workloads.json)', () => {
    const batches = Object.fromEntries(WORKLOAD_NAMES.map((n) => [n, WORKLOADS[n].batch]));
    assert.deepEqual(batches, { 'lenet5-train': 64, 'lenet5-infer': 256, 'resnet-block-train': 32, 'resnet-block-infer': 32, 'conv-fwd': 32, 'conv-fwdbwd': 32 });
    const peers = JSON.parse(readFileSync(join(repoRoot, 'bench', 'workloads.json'), 'utf8')) as Record<string, { batch: number; flopsPerIter: number }>;
    assert.deepEqual(Object.keys(peers), WORKLOAD_NAMES);
    for (const n of WORKLOAD_NAMES) {
      assert.equal(peers[n].batch, WORKLOADS[n].batch, `${n} batch`);
      assert.equal(peers[n].flopsPerIter, WORKLOADS[n].flopsPerIter, `${n} FLOPs`);
    }
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
    [['bench', 'conv-fwd', '--threads', '0'], /--threads.*'0'.*integer >= 1/],
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
