/**
 * Processes end by themselves: no worker thread (the wasm backend's kernel
 * threads, a BatchPipeline's augmentation workers) keeps Node alive after the
 * work is done. A script that trains through the API ends without
 * process.exit, whether or not it closes its pipeline; and many short
 * `stride train` runs back to back, two at a time so that they load the
 * machine, each exit 0 on their own within a generous bound (a hang is
 * killed and reported, not waited for).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { runNode, withTempDir } from '../helpers/index.js';

/** A generous bound for one short run on a loaded 2-core machine: a hang, not slowness, is what it catches. */
const BOUND_MS = 180_000;

const SCRIPT = (backend: string, close: boolean) => `
import { Generator, Tensor, createModel, fitEpochsAsync, optim, setBackend } from './src/index-node.ts';
import { BatchPipeline } from './src/node.ts';
setBackend('${backend}', { threads: 2 });
const n = 96;
const images = new Tensor(new Float32Array(n * 28 * 28), [n, 1, 28, 28]);
new Generator(1).fillUniform(images.data, 0, 1);
const labels = new Tensor(Float32Array.from({ length: n }, (_, i) => i % 10), [n]);
const model = createModel('lenet5', { generator: new Generator(2) });
const pipeline = new BatchPipeline({ images, labels, batchSize: 32, augment: 'crop:2,flip', seed: 3, shuffle: true, workers: 1 });
for await (const e of fitEpochsAsync(model, { train: { images, labels }, epochs: 2, batchSize: 32, optimizer: new optim.SGD(model, { lr: 0.01 }), batchSource: pipeline })) {
  console.log('epoch', e.epoch, e.trainLoss.toFixed(4));
}
${close ? 'await pipeline.close();' : ''}
console.log('done');
`;

describe('processes end by themselves after training', { timeout: 900_000 }, () => {
  for (const backend of ['wasm', 'ref']) {
    for (const close of [true, false]) {
      test(`an API script on ${backend} with an augmentation worker, ${close ? 'closing' : 'not closing'} its pipeline`, async () => {
        const r = await runNode(['--import', 'tsx', '--input-type=module', '-e', SCRIPT(backend, close)], BOUND_MS);
        assert.ok(!r.timedOut, `still running after ${BOUND_MS / 1000} s: something keeps the process alive\\n${r.stdout}${r.stderr}`);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /epoch 2 .*\ndone\n$/);
      });
    }
  }

  test('8 short stride train runs, two at a time, with and without augmentation workers, on wasm and the default backend: each exits 0 by itself', async () => {
    await withTempDir('stride-shutdown-', async (dir) => {
      const runs = Array.from({ length: 8 }, (_, k) => [
        '--import', 'tsx', 'src/cli/main.ts', 'train', 'lenet5', '--limit', '640', '--test-limit', '320', '--epochs', '1', '--no-progress',
        '--out', join(dir, `run${k}`), ...(k % 2 === 0 ? ['--backend', 'wasm'] : []), ...(k % 4 < 2 ? ['--augment', 'crop:2', '--workers', '1'] : []),
      ]);
      const seconds: number[] = [];
      for (let k = 0; k < runs.length; k += 2) {
        const pair = await Promise.all(runs.slice(k, k + 2).map((args) => runNode(args, BOUND_MS)));
        for (const [j, r] of pair.entries()) {
          const what = runs[k + j].slice(3).join(' ');
          assert.ok(!r.timedOut, `${what}: still running after ${BOUND_MS / 1000} s\\n${r.stdout}${r.stderr}`);
          assert.equal(r.code, 0, `${what}: ${r.stderr}`);
          assert.match(r.stdout, /test accuracy/);
          seconds.push(r.seconds);
        }
      }
      console.log(`run times: ${seconds.map((s) => s.toFixed(1)).join(', ')} s`);
    });
  });
});
