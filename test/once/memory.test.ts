/**
 * The memory estimate of a run (src/cli/memory.ts) against the peak resident
 * memory a real training run reaches, and the refusal of a run that does not
 * fit, with the largest batch that would.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { checkRunFits, estimateRunMemory } from '../../src/cli/memory.js';
import { createModel } from '../../src/index.js';
import { ValueError } from '../../src/errors.js';
import { runNode } from '../helpers/index.js';

/** Trains LeNet-5 one epoch on `n` random images in batches of `n`; prints the estimate made first and the peak resident set. */
const SCRIPT = (n: number) => `
import { Generator, Tensor, createModel, fitEpochs, optim } from './src/index-node.ts';
import { estimateRunMemory } from './src/cli/memory.ts';
const images = new Tensor(new Float32Array(${n} * 784), [${n}, 1, 28, 28]);
new Generator(1).fillUniform(images.data, 0, 1);
const labels = new Tensor(Float32Array.from({ length: ${n} }, (_, i) => i % 10), [${n}]);
const model = createModel('lenet5', { generator: new Generator(2) });
const estimate = estimateRunMemory(model, [1, 28, 28], ${n}, 'train', 1);
for (const _ of fitEpochs(model, { train: { images, labels }, epochs: 1, batchSize: ${n}, optimizer: new optim.SGD(model, { lr: 0.01, momentum: 0.9 }) }));
console.log(JSON.stringify({ estimate: estimate.total, peak: process.resourceUsage().maxRSS * 1024 }));
`;

describe('the memory a run needs', { timeout: 300_000 }, () => {
  test('the estimate of LeNet-5 training at batch 6,000 is within 0.8-1.5 times the peak resident memory the run reaches', async () => {
    const r = await runNode(['--import', 'tsx', '--input-type=module', '-e', SCRIPT(6000)], 240_000);
    assert.equal(r.code, 0, r.stderr);
    const { estimate, peak } = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    console.log(`estimate ${(estimate / 1e6).toFixed(0)} MB, peak ${(peak / 1e6).toFixed(0)} MB`);
    assert.ok(estimate >= 0.8 * peak && estimate <= 1.5 * peak, `estimate ${estimate} against a peak of ${peak}`);
  });

  test('a run that does not fit is refused with the largest batch that does', () => {
    const model = createModel('lenet5');
    const m = estimateRunMemory(model, [1, 28, 28], 100_000, 'train', 1);
    const room = m.held + m.perParameter + 1000.5 * m.perImage;
    assert.throws(() => checkRunFits('stride train', m, room), (e: unknown) => {
      assert.ok(e instanceof ValueError);
      assert.match(e.message, /^stride train needs about [\d.]+ GB \([\d.]+ MB held now, [\d.]+ GB for batches of 100000 images, [\d.]+ MB of gradients and optimizer state\) but this machine has about [\d.]+ MB for it; --batch-size 1000 or less would fit$/);
      return true;
    });
    checkRunFits('stride train', { ...m, batchSize: 1000, total: m.held + m.perParameter + 1000 * m.perImage }, room);
    // evaluation keeps no gradients: less per image, nothing per parameter
    const e = estimateRunMemory(model, [1, 28, 28], 100_000, 'eval');
    assert.equal(e.perParameter, 0);
    assert.ok(e.perImage < m.perImage);
    assert.throws(() => checkRunFits('stride eval', e, e.held), /no batch fits/);
  });
});
