/**
 * CIFAR-10/100 binary batches (parseCifarBatch, loadCifar10, loadCifar100):
 * the record layout by its definition (label bytes, then R, G, B planes
 * row-major), every malformed input a DataError naming the file; and the
 * command line on CIFAR-10-format files of a task a CNN can learn (oriented
 * gratings), through `stride train resnet20 --dataset cifar10 --data-dir`
 * and `stride eval`. The files are written here; nothing is downloaded.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DataError, ValueError, parseCifarBatch, CIFAR10_MEAN, CIFAR10_STD } from '../../src/index.js';
import { loadCifar10, loadCifar100, readCheckpoint } from '../../src/node.js';
import { normalizationFromMeta, openDataset } from '../../src/cli/datasets.js';
import { CIFAR_GRATING_CLASSES, rejectsWith, stride, throwsWith, withTempDir, writeCifarGratings } from '../helpers/index.js';

const PIXELS = 3 * 32 * 32;
const CLASSES10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Records of `labelBytes` label bytes each and pixels from pixel(record, byteIndex). */
function records(labels: readonly (readonly number[])[], pixel: (r: number, i: number) => number): Uint8Array {
  const size = labels[0].length + PIXELS;
  const out = new Uint8Array(labels.length * size);
  labels.forEach((ls, r) => {
    out.set(ls, r * size);
    for (let i = 0; i < PIXELS; i++) out[r * size + ls.length + i] = pixel(r, i);
  });
  return out;
}

/** Writes a CIFAR-10 folder: 5 training batches of `perBatch` records, a test batch, batches.meta.txt. */
async function writeCifar10(dir: string, perBatch: number, testCount: number, make: (split: string, n: number) => Uint8Array): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let b = 1; b <= 5; b++) await writeFile(join(dir, `data_batch_${b}.bin`), make(`train${b}`, perBatch));
  await writeFile(join(dir, 'test_batch.bin'), make('test', testCount));
  await writeFile(join(dir, 'batches.meta.txt'), CLASSES10.join('\n') + '\n\n');
}

describe('parseCifarBatch', () => {
  test('record layout: label byte, then the R, G, B planes row-major; x = byte / 255', () => {
    // Record r: label r; pixel (c, y, x) byte = (7 r + 50 c + 3 y + x) mod 256, a value that tells every index apart.
    const value = (r: number, i: number) => (7 * r + 50 * Math.floor(i / 1024) + 3 * Math.floor((i % 1024) / 32) + (i % 32)) % 256;
    const bytes = records([[3], [9], [0]], value);
    const { images, labels } = parseCifarBatch(bytes, { source: 'data_batch_1.bin' });
    assert.deepEqual(images.shape, [3, 3, 32, 32]);
    assert.equal(images.dtype, 'float32');
    assert.deepEqual(Array.from(labels.data), [3, 9, 0]);
    const x = images.data;
    for (const [r, c, y, xx] of [[0, 0, 0, 0], [1, 1, 5, 31], [2, 2, 31, 7], [1, 0, 17, 2]]) {
      const expected = Math.fround(((7 * r + 50 * c + 3 * y + xx) % 256) / 255);
      assert.equal(x[((r * 3 + c) * 32 + y) * 32 + xx], expected, `image ${r} channel ${c} (${y}, ${xx})`);
    }
  });

  test('CIFAR-100 records: coarse then fine label byte; fine by default, coarse on request', () => {
    const bytes = records([[4, 30], [19, 99], [0, 7]], (r, i) => (r * 11 + i) % 256);
    const fine = parseCifarBatch(bytes, { source: 'train.bin', labelBytes: 2 });
    const coarse = parseCifarBatch(bytes, { source: 'train.bin', labelBytes: 2, labels: 'coarse' });
    assert.deepEqual(Array.from(fine.labels.data), [30, 99, 7]);
    assert.deepEqual(Array.from(coarse.labels.data), [4, 19, 0]);
    // Pixels start after both label bytes.
    assert.equal(fine.images.data[PIXELS], Math.fround(((11 + 0) % 256) / 255));
    assert.equal(fine.images.data[5], Math.fround(5 / 255));
    assert.deepEqual(Array.from(fine.images.data), Array.from(coarse.images.data));
  });

  test('a length that is not a whole number of records is a DataError naming the file', () => {
    const bytes = records([[1], [2]], () => 0);
    throwsWith(() => parseCifarBatch(bytes.subarray(0, bytes.length - 100), { source: 'data_batch_3.bin' }), DataError,
      'data_batch_3.bin', '6046 bytes is not a whole number of 3073-byte records (1 records and 2973 bytes left over)');
    throwsWith(() => parseCifarBatch(new Uint8Array(0), { source: 'test_batch.bin' }), DataError, 'test_batch.bin', 'empty');
    // A CIFAR-100 file read as CIFAR-10: 3074-byte records are not 3073-byte ones.
    throwsWith(() => parseCifarBatch(records([[1, 2], [3, 4]], () => 0), { source: 'train.bin' }), DataError, 'train.bin', 'not a whole number of 3073-byte records');
  });

  test('labels out of range: >= 10, coarse >= 20, fine >= 100', () => {
    throwsWith(() => parseCifarBatch(records([[9], [10]], () => 0), { source: 'b.bin' }), DataError, 'b.bin', 'the label of record 1 (byte offset 3073) is 10', 'CIFAR-10 labels are 0..9');
    throwsWith(() => parseCifarBatch(records([[20, 5]], () => 0), { source: 'c.bin', labelBytes: 2, labels: 'fine' }), DataError, 'c.bin', 'coarse label of record 0', 'is 20', '0..19');
    throwsWith(() => parseCifarBatch(records([[2, 5], [3, 100]], () => 0), { source: 'f.bin', labelBytes: 2, labels: 'coarse' }), DataError, 'f.bin', 'fine label of record 1', 'is 100', '0..99');
  });

  test('arguments are checked', () => {
    const bytes = records([[1]], () => 0);
    throwsWith(() => parseCifarBatch(bytes, { source: '' }), ValueError, 'source must name the file');
    throwsWith(() => parseCifarBatch(bytes, { source: 'a', labelBytes: 3 as 1 }), ValueError, 'labelBytes must be 1 (CIFAR-10) or 2');
    throwsWith(() => parseCifarBatch(bytes, { source: 'a', labels: 'coarse' }), ValueError, 'a CIFAR-10 record (labelBytes 1) has one label');
    throwsWith(() => parseCifarBatch([1, 2] as unknown as Uint8Array, { source: 'a' }), ValueError, 'bytes must be a Uint8Array');
    throwsWith(() => parseCifarBatch(bytes, { source: 'a', label: 'fine' } as never), ValueError, "unknown option 'label'");
  });
});

describe('loadCifar10 and loadCifar100', () => {
  test('CIFAR-10: the five training batches in order, the test batch, the class names; limit keeps the first N', async () => {
    await withTempDir('stride-cifar10-', async (dir) => {
      // Training batch b, record r: label (b + r) % 10, every pixel byte 10 b + r.
      await writeCifar10(dir, 3, 2, (split, n) => {
        const b = split === 'test' ? 0 : Number(split.slice(5));
        return records(Array.from({ length: n }, (_, r) => [(b + r) % 10]), (r) => 10 * b + r);
      });
      const train = await loadCifar10({ dir, split: 'train' });
      assert.deepEqual(train.images.shape, [15, 3, 32, 32]);
      assert.deepEqual(Array.from(train.labels.data), [1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 6, 5, 6, 7]);
      assert.deepEqual(Array.from({ length: 15 }, (_, k) => Math.round(train.images.data[k * PIXELS + 1000] * 255)), [10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 52]);
      assert.deepEqual(train.classNames, CLASSES10);
      assert.equal(train.source, dir);
      const limited = await loadCifar10({ dir, split: 'train', limit: 4 });
      assert.deepEqual(Array.from(limited.labels.data), [1, 2, 3, 2]);
      assert.deepEqual(Array.from(limited.images.data), Array.from(train.images.data.subarray(0, 4 * PIXELS)));
      const testSplit = await loadCifar10({ dir, split: 'test' });
      assert.deepEqual(Array.from(testSplit.labels.data), [0, 1]);
    });
  });

  test('CIFAR-100: fine labels (100 names) by default, coarse (20 names) on request', async () => {
    await withTempDir('stride-cifar100-', async (dir) => {
      const labels = [[0, 0], [19, 99], [7, 42]];
      await writeFile(join(dir, 'train.bin'), records(labels, (r) => r));
      await writeFile(join(dir, 'test.bin'), records([[1, 2]], () => 255));
      await writeFile(join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `fine${i}`).join('\n') + '\n');
      await writeFile(join(dir, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `coarse${i}`).join('\r\n') + '\r\n');
      const fine = await loadCifar100({ dir, split: 'train' });
      assert.deepEqual(Array.from(fine.labels.data), [0, 99, 42]);
      assert.equal(fine.classNames.length, 100);
      assert.equal(fine.classNames[42], 'fine42');
      const coarse = await loadCifar100({ dir, split: 'train', labels: 'coarse' });
      assert.deepEqual(Array.from(coarse.labels.data), [0, 19, 7]);
      assert.deepEqual(coarse.classNames, Array.from({ length: 20 }, (_, i) => `coarse${i}`));
      const t = await loadCifar100({ dir, split: 'test', labels: 'coarse' });
      assert.deepEqual(Array.from(t.labels.data), [1]);
      assert.equal(t.images.data[0], 1);
      await writeFile(join(dir, 'test.bin'), records([[20, 2]], () => 0));
      await rejectsWith(loadCifar100({ dir, split: 'test', labels: 'fine' }), DataError, join(dir, 'test.bin'), 'coarse label', 'is 20');
    });
  });

  test('a missing file says where to get the data and what the folder must hold', async () => {
    await withTempDir('stride-cifar-missing-', async (dir) => {
      await rejectsWith(loadCifar10({ dir, split: 'train' }), DataError,
        join(dir, 'data_batch_1.bin'), 'is missing', 'https://www.cs.toronto.edu/~kriz/cifar.html', 'CIFAR-10 binary version (suitable for C programs)',
        'data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin, batches.meta.txt');
      await rejectsWith(loadCifar100({ dir, split: 'test' }), DataError,
        join(dir, 'test.bin'), 'CIFAR-100 binary version (suitable for C programs)', 'train.bin, test.bin, fine_label_names.txt, coarse_label_names.txt');
      // The parent of the extracted folder: the message names the folder to pass.
      await writeCifar10(join(dir, 'cifar-10-batches-bin'), 1, 1, (_s, n) => records(Array.from({ length: n }, () => [0]), () => 0));
      await rejectsWith(loadCifar10({ dir, split: 'test' }), DataError, `(${join(dir, 'cifar-10-batches-bin')} holds it: pass that folder)`);
    });
  });

  test('a truncated batch, a label out of range and a name file with the wrong count are DataErrors naming the file', async () => {
    await withTempDir('stride-cifar-bad-', async (dir) => {
      await writeCifar10(dir, 2, 2, (_s, n) => records(Array.from({ length: n }, () => [5]), () => 0));
      const batch4 = join(dir, 'data_batch_4.bin');
      const good = await readFile(batch4);
      // Checked whole even when limit asks for fewer records than the first file holds.
      await writeFile(batch4, good.subarray(0, good.length - 1));
      await rejectsWith(loadCifar10({ dir, split: 'train', limit: 1 }), DataError, batch4, 'not a whole number of 3073-byte records');
      const bad = Uint8Array.from(good);
      bad[3073] = 12;
      await writeFile(batch4, bad);
      await rejectsWith(loadCifar10({ dir, split: 'train' }), DataError, batch4, 'the label of record 1', 'is 12');
      await writeFile(batch4, good);
      await writeFile(join(dir, 'batches.meta.txt'), CLASSES10.slice(0, 9).join('\n'));
      await rejectsWith(loadCifar10({ dir, split: 'test' }), DataError, join(dir, 'batches.meta.txt'), 'holds 9 class names, expected 10');
    });
  });

  test('options are checked', async () => {
    await rejectsWith(loadCifar10({ dir: '/x', split: 'val' as 'train' }), ValueError, "split must be 'train' or 'test'");
    await rejectsWith(loadCifar10({ dir: '/x', split: 'train', limit: 0 }), ValueError, 'limit must be a positive integer');
    await rejectsWith(loadCifar10({ dir: '/x', split: 'train', labels: 'fine' } as never), ValueError, "unknown option 'labels'");
    await rejectsWith(loadCifar100({ dir: '/x', split: 'train', labels: 'super' as 'fine' }), ValueError, "labels must be 'fine'");
  });
});

describe('stride train and eval on CIFAR-10 files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stride-cifar-cli-'));
    await writeCifarGratings(join(dir, 'data'), { perBatch: 300, test: 1000, seed: 7 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('resnet20 learns the gratings in 2 epochs; the checkpoint records the per-channel normalization; eval agrees', async () => {
    const out = join(dir, 'run');
    const train = await stride('train', 'resnet20', '--dataset', 'cifar10', '--data-dir', join(dir, 'data'), '--epochs', '2', '--out', out, '--json');
    assert.equal(train.code, 0, train.stderr);
    const summary = JSON.parse(train.stdout.trim().split('\n').at(-1)!);
    assert.equal(summary.trainImages, 1500);
    assert.equal(summary.testImages, 1000);
    assert.ok(summary.testAccuracy >= 0.9, `test accuracy ${summary.testAccuracy} < 0.9`);
    const { header } = await readCheckpoint(out);
    assert.deepEqual((header.meta as Record<string, unknown>).normalize, { mean: [...CIFAR10_MEAN], std: [...CIFAR10_STD] });
    assert.equal((header.meta as Record<string, unknown>).dataset, 'cifar10');
    assert.deepEqual(header.modelOptions.inputShape, [3, 32, 32]);

    const ev = await stride('eval', '--model', out, '--data-dir', join(dir, 'data'), '--confusion', '--json');
    assert.equal(ev.code, 0, ev.stderr);
    const result = JSON.parse(ev.stdout.trim().split('\n').at(-1)!);
    assert.equal(result.testAccuracy, summary.testAccuracy);
    assert.equal(result.testImages, 1000);
    // The confusion matrix is labelled with the names read from batches.meta.txt.
    assert.match(ev.stdout, /0deg-wide.*36deg-wide.*144deg-fine/);
  });

  test('lenet5 is built for 3x32x32 (fc1 576 inputs) and trains on the same files', async () => {
    const r = await stride('train', 'lenet5', '--dataset', 'cifar10', '--data-dir', join(dir, 'data'), '--limit', '200', '--test-limit', '100', '--no-save', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)!).trainImages, 200);
  });

  test("the cifar10 dataset: names from batches.meta.txt, CIFAR-10's per-channel normalization; checkpoint meta read back, scalar or per channel", async () => {
    const spec = await openDataset('cifar10', { dataDir: join(dir, 'data') });
    assert.deepEqual(spec.classNames, CIFAR_GRATING_CLASSES);
    assert.equal(spec.numClasses, 10);
    assert.deepEqual(spec.inputShape, [3, 32, 32]);
    assert.deepEqual(spec.normalization, { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] });
    const test = await spec.load('test', 2, spec.normalization);
    // (byte / 255 - mean[c]) / std[c], channel by channel.
    const raw = await loadCifar10({ dir: join(dir, 'data'), split: 'test', limit: 2 });
    for (const i of [0, 1500, 2500, PIXELS + 3000]) {
      const c = Math.floor((i % PIXELS) / 1024);
      assert.ok(Math.abs(test.images.data[i] - (raw.images.data[i] - CIFAR10_MEAN[c]) / CIFAR10_STD[c]) < 1e-6, `element ${i}`);
    }
    assert.deepEqual(normalizationFromMeta({ normalize: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2] } }, spec, 'a.stride'), { mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2] });
    assert.deepEqual(normalizationFromMeta({ normalize: { mean: 0.1307, std: 0.3081 } }, spec, 'old.stride'), { mean: 0.1307, std: 0.3081 });
    assert.deepEqual(normalizationFromMeta({}, spec, 'a.stride'), spec.normalization);
    throwsWith(() => normalizationFromMeta({ normalize: { mean: [0.5, 0.4], std: 0.2 } }, spec, 'b.stride'), DataError, 'checkpoint b.stride', 'an array of 1 or 3 numbers');
    throwsWith(() => normalizationFromMeta({ normalize: { mean: 0.5, std: [1, 0, 1] } }, spec, 'c.stride'), DataError, 'std > 0');
  });

  test('a model that cannot take 3x32x32 images is refused before training, with the reason', async () => {
    const alex = await stride('train', 'alexnet', '--dataset', 'cifar10', '--data-dir', join(dir, 'data'), '--no-save');
    assert.equal(alex.code, 2);
    assert.match(alex.stderr, /model 'alexnet' cannot take cifar10's 3x32x32 images: /);
    assert.doesNotMatch(alex.stdout, /epoch 1/);
    const pattern = await stride('train', '[conv3-8-pool2]*6-fc10', '--dataset', 'cifar10', '--data-dir', join(dir, 'data'), '--no-save');
    assert.equal(pattern.code, 2);
    assert.match(pattern.stderr, /model '\[conv3-8-pool2\]\*6-fc10' cannot take cifar10's 3x32x32 images: .*below 1x1/);
  });

  test('without --data-dir, a wrong folder, or a different --input: refused with what to do', async () => {
    const none = await stride('train', 'resnet20', '--dataset', 'cifar10', '--no-save');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /the cifar10 dataset needs --data-dir DIR/);
    assert.match(none.stderr, /https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar\.html/);
    assert.match(none.stderr, /CIFAR-10 binary version \(suitable for C programs\)/);
    assert.match(none.stderr, /data_batch_1\.bin.*batches\.meta\.txt/);
    const input = await stride('train', 'lenet5', '--dataset', 'cifar10', '--data-dir', join(dir, 'data'), '--input', '3x40x48', '--no-save');
    assert.equal(input.code, 2);
    assert.match(input.stderr, /--input 3x40x48: cifar10's images are 3x32x32 and are not resized/);
    const missing = await stride('train', 'resnet20', '--dataset', 'cifar100', '--data-dir', join(dir, 'data'), '--no-save');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /train\.bin is missing.*CIFAR-100 binary version/);
  });
});
