import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { readCheckpoint } from '../../src/node.js';
import { dataThreads } from '../../src/cli/train.js';
import { ok, stride, writeFolderGratings } from '../helpers/index.js';

/** The weights of a checkpoint, each tensor's values as a plain array, by name. */
async function weights(dir: string): Promise<Record<string, number[]>> {
  const { state } = await readCheckpoint(dir);
  return Object.fromEntries(Object.entries(state).map(([k, t]) => [k, Array.from(t.data)]));
}

describe('stride train/eval --dataset folder', () => {
  let root: string;
  let data: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'stride-cli-folder-'));
    data = join(root, 'gratings');
    await writeFolderGratings(data, { perClass: 150, seed: 2024 });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('lenet5 learns a folder of PNG/JPEG gratings at 3x40x48 in two epochs; eval agrees, with the recorded normalization', async (t) => {
    const out = join(root, 'run');
    const args = ['--dataset', 'folder', '--data-dir', data, '--input', '3x40x48', '--epochs', '2', '--batch-size', '10', '--optimizer', 'adam', '--lr', '0.002', '--out', out, '--json'];
    const train = await stride('train', 'lenet5', ...args);
    assert.equal(train.code, 0, train.stderr);
    assert.match(train.stdout, /training lenet5 on folder: 480 training images, 120 test images/);
    const summary = JSON.parse(train.stdout.trim().split('\n').pop()!);
    t.diagnostic(`test accuracy ${summary.testAccuracy}`);
    ok(summary.testAccuracy >= 0.9, `test accuracy ${summary.testAccuracy}; expected >= 0.9`);

    const { header } = await readCheckpoint(out);
    const meta = header.meta as Record<string, any>;
    assert.deepEqual(header.modelOptions.inputShape, [3, 40, 48]);
    assert.equal(header.modelOptions.numClasses, 4);
    // The training images' per-channel statistics: three values each, std in (0, 0.5] for 0..1 images.
    assert.equal(meta.normalize.mean.length, 3);
    assert.equal(meta.normalize.std.length, 3);
    for (const s of meta.normalize.std) ok(s > 0.05 && s <= 0.5, `std ${s}`);
    for (const m of meta.normalize.mean) ok(m > 0.2 && m < 0.8, `mean ${m}`);

    const ev = await stride('eval', '--model', out, '--data-dir', data, '--confusion', '--json');
    assert.equal(ev.code, 0, ev.stderr);
    const evs = JSON.parse(ev.stdout.trim().split('\n').pop()!);
    assert.equal(evs.testAccuracy, summary.testAccuracy);
    assert.equal(evs.testImages, 120);
    assert.match(ev.stdout, /falling\s+horizontal\s+rising\s+vertical/);
  });

  test('the folder dataset says what it needs: --data-dir, --input, class folders', async () => {
    const noDir = await stride('train', 'lenet5', '--dataset', 'folder', '--input', '3x32x32', '--no-save');
    assert.equal(noDir.code, 2);
    assert.match(noDir.stderr, /the folder dataset needs --data-dir DIR/);
    const noInput = await stride('train', 'lenet5', '--dataset', 'folder', '--data-dir', data, '--no-save');
    assert.equal(noInput.code, 2);
    assert.match(noInput.stderr, /the folder dataset needs --input CxHxW/);
    const empty = join(root, 'empty');
    await mkdir(join(empty, 'notes'), { recursive: true });
    await writeFile(join(empty, 'notes', 'readme.txt'), 'no images');
    const noClasses = await stride('train', 'lenet5', '--dataset', 'folder', '--data-dir', empty, '--input', '3x32x32', '--no-save');
    assert.equal(noClasses.code, 2);
    assert.match(noClasses.stderr, /error: .*class folder notes \(it holds readme.txt\) .* has no images/);
    assert.equal(noClasses.stderr.split('\n').filter((l) => l.trim() !== '').length, 1, noClasses.stderr);
    const bare = join(root, 'bare');
    await mkdir(bare);
    const none = await stride('train', 'lenet5', '--dataset', 'folder', '--data-dir', bare, '--input', '3x32x32', '--no-save');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^error: .*class folder/);
  });

  test('the data folder is recorded in the checkpoint as an absolute path: eval and --resume find it; a moved folder says where it was looked for', async () => {
    const copy = join(root, 'gratings-copy');
    await cp(data, copy, { recursive: true });
    const out = join(root, 'recorded');
    const args = ['--dataset', 'folder', '--input', '3x24x24', '--limit', '40', '--test-limit', '20', '--batch-size', '20', '--lr-schedule', 'constant', '--out', out];
    // a relative --data-dir, resolved against the working directory
    const r = await stride('train', 'lenet5', ...args, '--data-dir', relative(process.cwd(), copy), '--epochs', '1', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await readCheckpoint(out)).header.meta.dataDir, copy);
    const ev = await stride('eval', '--model', out, '--test-limit', '20', '--json');
    assert.equal(ev.code, 0, ev.stderr);
    const resumed = await stride('train', '--resume', out, '--epochs', '2', '--json');
    assert.equal(resumed.code, 0, resumed.stderr);
    await rm(copy, { recursive: true });
    const moved = await stride('eval', '--model', out);
    assert.equal(moved.code, 2);
    assert.match(moved.stderr, new RegExp(`the data folder recorded in the checkpoint, ${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*; pass --data-dir DIR if the data has moved`));
    const elsewhere = await stride('eval', '--model', out, '--data-dir', data, '--test-limit', '20');
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
  });

  describe('--augment', () => {
    const base = (out: string, ...extra: string[]) => [
      'train', 'lenet5', '--dataset', 'folder', '--data-dir', data, '--input', '3x24x24', '--limit', '60', '--test-limit', '20',
      '--batch-size', '20', '--seed', '5', '--out', out, '--no-progress', ...extra,
    ];

    test('the same seed gives the same weights with augmentation; another augmentation (or none) other weights; the spec is recorded and printed', async () => {
      const [a, b, c, none, plain] = ['a', 'b', 'c', 'none', 'plain'].map((n) => join(root, `aug-${n}`));
      const runs = await Promise.all([
        stride(...base(a, '--augment')),
        stride(...base(b, '--augment', 'default')),
        stride(...base(c, '--augment', 'flip:1')),
        stride(...base(none, '--augment', 'none')),
        stride(...base(plain)),
      ]);
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
      const [ra, rb, , rn, rp] = runs;
      // --augment alone is --augment default: the folder recipe at 24x24 (a flip, a crop after reflect-padding by 24 / 8 = 3).
      assert.match(ra.stdout.split('\n')[0], /seed 5, augment flip,crop:padding=3\/mode=reflect, backend /);
      assert.equal(ra.stdout.split('\n')[0], rb.stdout.split('\n')[0]);
      // No augmentation prints the line it always printed.
      assert.doesNotMatch(rp.stdout.split('\n')[0], /augment/);
      assert.equal(rn.stdout.split('\n')[0], rp.stdout.split('\n')[0]);

      const [wa, wb, wc, wn, wp] = await Promise.all([a, b, c, none, plain].map(weights));
      assert.deepEqual(wa, wb);
      assert.deepEqual(wn, wp);
      assert.notDeepEqual(wa, wc);
      assert.notDeepEqual(wa, wn);
      assert.notDeepEqual(wc, wn);
      const meta = (await readCheckpoint(a)).header.meta as Record<string, unknown>;
      assert.equal(meta.augment, 'flip,crop:padding=3/mode=reflect');
      assert.equal((await readCheckpoint(none)).header.meta.augment, 'none');
      assert.equal((await readCheckpoint(plain)).header.meta.augment, 'none');
    });

    test('--resume continues an augmented run exactly: 1 epoch then 1 more gives the 2-epoch weights; another --augment is refused', async () => {
      // A constant rate: extending a decaying schedule by --epochs would stretch it, by design.
      const [whole, part] = ['whole', 'part'].map((n) => join(root, `aug-resume-${n}`));
      const [w, p] = await Promise.all([stride(...base(whole, '--augment', '--lr-schedule', 'constant', '--epochs', '2')), stride(...base(part, '--augment', '--lr-schedule', 'constant', '--epochs', '1'))]);
      assert.equal(w.code, 0, w.stderr);
      assert.equal(p.code, 0, p.stderr);
      const resumed = await stride('train', '--resume', part, '--epochs', '2', '--data-dir', data, '--input', '3x24x24', '--no-progress');
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /augment flip,crop:padding=3\/mode=reflect/);
      assert.deepEqual(await weights(part), await weights(whole));
      const other = await stride('train', '--resume', part, '--epochs', '3', '--data-dir', data, '--input', '3x24x24', '--augment', 'flip:1');
      assert.equal(other.code, 2);
      assert.match(other.stderr, /--augment flip:p=1 conflicts with the run's --augment flip,crop:padding=3\/mode=reflect/);
    });

    test('the batches are the same whoever makes them: --workers 0 and 2 train the same weights; the first line and --json say who made them', async () => {
      const [w0, w2] = ['w0', 'w2'].map((n) => join(root, `aug-workers-${n}`));
      const [r0, r2] = await Promise.all([
        // the same kernel threads in both: a different split of a sum rounds differently
        stride(...base(w0, '--augment', '--workers', '0', '--threads', '1', '--json')),
        stride(...base(w2, '--augment', '--workers', '2', '--threads', '1', '--json')),
      ]);
      assert.equal(r0.code, 0, r0.stderr);
      assert.equal(r2.code, 0, r2.stderr);
      assert.match(r0.stdout.split('\n')[0], /, batches made in the training thread$/);
      assert.match(r2.stdout.split('\n')[0], /, batches made by 2 worker threads beside 1 kernel thread$/);
      const j0 = JSON.parse(r0.stdout.trim().split('\n').at(-1)!);
      const j2 = JSON.parse(r2.stdout.trim().split('\n').at(-1)!);
      assert.equal(j0.workers, 0);
      assert.equal(j2.workers, 2);
      assert.equal(j2.threads, 1);
      assert.deepEqual(await weights(w0), await weights(w2));
      const bad = await stride(...base(join(root, 'aug-workers-bad'), '--augment', '--workers', '-1'));
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--workers/);
    });

    test('dataThreads: one worker beside the kernels when augmenting on 2+ cores, none otherwise; --threads and --workers are kept', () => {
      assert.deepEqual(dataThreads(true, undefined, undefined, 2), { workers: 1, kernelThreads: 1 });
      assert.deepEqual(dataThreads(true, undefined, undefined, 8), { workers: 1, kernelThreads: 7 });
      assert.deepEqual(dataThreads(true, undefined, undefined, 1), { workers: 0, kernelThreads: undefined });
      assert.deepEqual(dataThreads(false, undefined, undefined, 8), { workers: 0, kernelThreads: undefined });
      assert.deepEqual(dataThreads(false, 3, undefined, 8), { workers: 0, kernelThreads: undefined }, 'no augmentation, no workers');
      assert.deepEqual(dataThreads(true, undefined, 2, 2), { workers: 0, kernelThreads: undefined }, '--threads taking every core leaves none for a worker');
      assert.deepEqual(dataThreads(true, undefined, 1, 2), { workers: 1, kernelThreads: undefined }, '--threads is kept');
      assert.deepEqual(dataThreads(true, 3, undefined, 2), { workers: 3, kernelThreads: 1 }, 'the kernels keep at least one thread');
    });

    test('a malformed spec is exit 2 with the spec quoted and a caret under the mistake', async () => {
      const r = await stride(...base(join(root, 'bad'), '--augment', 'flip,rotat:10'));
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown step 'rotat'/);
      const lines = r.stderr.split('\n');
      const quoted = lines.findIndex((l) => l === '  flip,rotat:10');
      assert.ok(quoted >= 0, r.stderr);
      assert.equal(lines[quoted + 1], `  ${' '.repeat('flip,'.length)}^`);
    });
  });
});
