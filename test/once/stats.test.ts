/**
 * `stride stats` and `--normalize`: the per-channel mean and std of a split,
 * checked against the published MNIST values (0.1307, 0.3081, computed the
 * same way from the same images) and, on CIFAR-format files the test writes,
 * against sums taken here straight from the file bytes; --normalize is
 * parsed, checked against the channels, recorded in the checkpoint and reused
 * by eval and --resume.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readCheckpoint } from '../../src/node.js';
import { parseNormalization } from '../../src/cli/datasets.js';
import { ValueError } from '../../src/errors.js';
import { stride, throwsWith, writeCifarGratings } from '../helpers/index.js';

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

describe('stride stats', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stride-stats-'));
    await writeCifarGratings(join(dir, 'cifar'), { perBatch: 40, test: 30, seed: 3 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("MNIST's training images give the published 0.1307 and 0.3081; the last line is the --normalize that applies them", async () => {
    const r = await stride('stats', '--dataset', 'mnist');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^mnist train: 60000 images of 1x28x28 from .*, values in 0\.\.1$/);
    const [, mean, std] = lines[2].trim().split(/\s+/);
    assert.equal(lines[2].trim().split(/\s+/)[0], 'grey');
    assert.ok(Math.abs(Number(mean) - 0.1307) < 5e-5, `mean ${mean}`);
    assert.ok(Math.abs(Number(std) - 0.3081) < 5e-5, `std ${std}`);
    assert.match(lines.at(-1)!, /^--normalize 0\.1306\d*\/0\.3081\d*$/);
  });

  test('CIFAR-format files: each channel the mean and population std of its bytes / 255 over every image, as summed here from the files', async () => {
    const r = await stride('stats', '--dataset', 'cifar10', '--data-dir', join(dir, 'cifar'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = lastJson(r.stdout);
    assert.equal(s.images, 200);
    assert.deepEqual(s.inputShape, [3, 32, 32]);
    const sums = [0, 0, 0];
    const squares = [0, 0, 0];
    for (let b = 1; b <= 5; b++) {
      const bytes = await readFile(join(dir, 'cifar', `data_batch_${b}.bin`));
      for (let rec = 0; rec < 40; rec++) {
        for (let i = 0; i < 3072; i++) {
          const v = bytes[rec * 3073 + 1 + i] / 255;
          sums[Math.floor(i / 1024)] += v;
          squares[Math.floor(i / 1024)] += v * v;
        }
      }
    }
    const n = 200 * 1024;
    for (let c = 0; c < 3; c++) {
      const mean = sums[c] / n;
      const std = Math.sqrt(squares[c] / n - mean * mean);
      assert.ok(Math.abs(s.mean[c] - mean) < 1e-6, `mean[${c}] ${s.mean[c]} vs ${mean}`);
      assert.ok(Math.abs(s.std[c] - std) < 1e-6, `std[${c}] ${s.std[c]} vs ${std}`);
    }
    assert.equal(s.normalize, `${s.mean.join(',')}/${s.std.join(',')}`);
    // --split and --limit choose the images measured
    const t = lastJson((await stride('stats', '--dataset', 'cifar10', '--data-dir', join(dir, 'cifar'), '--split', 'test', '--limit', '7', '--json')).stdout);
    assert.equal(t.split, 'test');
    assert.equal(t.images, 7);
    assert.notDeepEqual(t.mean, s.mean);
  });

  test('the command line: --dataset is required; a dataset without its files says where to get them', async () => {
    const none = await stride('stats');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--dataset/);
    const cifar = await stride('stats', '--dataset', 'cifar10');
    assert.equal(cifar.code, 2);
    assert.match(cifar.stderr, /needs --data-dir DIR/);
  });
});

describe('--normalize', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stride-normalize-'));
    await writeCifarGratings(join(dir, 'cifar'), { perBatch: 40, test: 30, seed: 3 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('parseNormalization: one number or one per channel each side; malformed values say what was wrong', () => {
    assert.deepEqual(parseNormalization('0.1307/0.3081'), { mean: 0.1307, std: 0.3081 });
    assert.deepEqual(parseNormalization(' 0.5,0.4,0.3 / 0.2,0.2,0.25 '), { mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.25] });
    assert.deepEqual(parseNormalization('0.5/0.2,0.3,0.4'), { mean: 0.5, std: [0.2, 0.3, 0.4] });
    throwsWith(() => parseNormalization('0.5'), ValueError, "found no '/'");
    throwsWith(() => parseNormalization('0.5/0.2/0.1'), ValueError, "found 2 '/'");
    throwsWith(() => parseNormalization('0.5,x/0.2'), ValueError, "'x' in the mean is not a number");
    throwsWith(() => parseNormalization('0.5/0'), ValueError, 'a std must be > 0, got 0');
    throwsWith(() => parseNormalization('0.5,0.4/0.2,0.3,0.4'), ValueError, '2 means but 3 stds');
  });

  test('is recorded in the checkpoint and used by eval; a resumed run keeps it and refuses another', async () => {
    const out = join(dir, 'run');
    const common = ['--dataset', 'cifar10', '--data-dir', join(dir, 'cifar'), '--batch-size', '50', '--lr-schedule', 'constant'];
    const r = await stride('train', 'lenet5', ...common, '--normalize', '0.45,0.45,0.45/0.23,0.23,0.23', '--epochs', '1', '--out', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    const { header } = await readCheckpoint(out);
    assert.deepEqual(header.meta.normalize, { mean: [0.45, 0.45, 0.45], std: [0.23, 0.23, 0.23] });
    const ev = await stride('eval', '--model', out, '--json');
    assert.equal(ev.code, 0, ev.stderr);
    assert.equal(lastJson(ev.stdout).testAccuracy, lastJson(r.stdout).testAccuracy, 'eval normalizes as training did (and finds the data folder recorded in the checkpoint)');
    const other = await stride('train', '--resume', out, '--epochs', '2', '--normalize', '0.5/0.25');
    assert.equal(other.code, 2);
    assert.match(other.stderr, /--normalize 0\.5\/0\.25 conflicts with the run's 0\.45,0\.45,0\.45\/0\.23,0\.23,0\.23/);
    const resumed = await stride('train', '--resume', out, '--epochs', '2');
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual((await readCheckpoint(out)).header.meta.normalize, { mean: [0.45, 0.45, 0.45], std: [0.23, 0.23, 0.23] });
  });

  test('a malformed value or one with the wrong number of channels is refused before training', async () => {
    const bad = await stride('train', 'lenet5', '--dataset', 'mnist', '--normalize', '0.1/x', '--no-save');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /'x' in the std is not a number/);
    const channels = await stride('train', 'lenet5', '--dataset', 'cifar10', '--data-dir', join(dir, 'cifar'), '--normalize', '0.5,0.5/0.2', '--no-save');
    assert.equal(channels.code, 2);
    assert.match(channels.stderr, /--normalize gives 2 values of the mean, but cifar10's images have 3 channels; give one value or 3/);
  });
});
