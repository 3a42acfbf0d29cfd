/**
 * Image folders as datasets (src/data/image-folder.ts): both layouts, the
 * order of classes and files, the seeded stratified split, `limit`, the
 * errors, and a LeNet-5-sized network trained with `fit` on a folder of PNG
 * and JPEG gratings of varied sizes, brought to 3x40x48.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';

import { DataError, ValueError } from '../../src/errors.js';
import { Generator } from '../../src/tensor/random.js';
import { encodePng, type FloatImage } from '../../src/data/image.js';
import { loadImageFolder, listImageFolder } from '../../src/data/image-folder.js';
import { normalize } from '../../src/data/mnist.js';
import { buildModelFromPattern } from '../../src/models/pattern.js';
import { Adam } from '../../src/optim/index.js';
import { fit } from '../../src/train/fit.js';
import { assertClose, ok, rejectsWith, withTempDir, writeFolderGratings } from '../helpers/index.js';

/** A constant-colour RGB image: every pixel (r, g, b). */
function flat(r: number, g: number, b: number, height = 6, width = 9): FloatImage {
  const n = height * width;
  const data = new Float32Array(3 * n);
  data.fill(r, 0, n);
  data.fill(g, n, 2 * n);
  data.fill(b, 2 * n);
  return { data, channels: 3, height, width };
}

async function put(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, bytes);
}

/** Writes DIR/<class>/<file> for each entry; each image's colour says which it is (red: class / 10, green: file number / 100). */
async function writeClasses(root: string, classes: Record<string, string[]>): Promise<void> {
  const names = Object.keys(classes);
  for (const [ci, name] of names.entries()) {
    for (const [fi, file] of classes[name].entries()) await put(join(root, name, file), await encodePng(flat(ci / 10, fi / 100, 0.5)));
  }
}

describe('loadImageFolder: layouts and order', () => {
  test('DIR/train/<class> + DIR/test/<class>: sorted classes, sorted files (any-case extensions, sub-folders), others ignored', async () => {
    await withTempDir('stride-folder-', async (dir) => {
      await writeClasses(join(dir, 'train'), { zebra: ['b.png', 'a.PNG', 'c.jpeg'], ant: ['x.png', 'deep/y.png'], moth: ['m.Jpg'] });
      await writeClasses(join(dir, 'test'), { ant: ['t.png'], moth: ['u.png'], zebra: ['v.png'] });
      // The JPEG-named files hold PNG bytes: the format is read from the bytes.
      await writeFile(join(dir, 'train', 'zebra', 'notes.txt'), 'not an image');
      await writeFile(join(dir, 'train', 'ant', '.DS_Store'), 'x');
      const train = await loadImageFolder({ dir, inputShape: [3, 4, 5] });
      assert.equal(train.layout, 'train-test');
      assert.equal(train.split, 'train');
      assert.deepEqual(train.classNames, ['ant', 'moth', 'zebra']);
      const rel = train.files.map((f) => f.slice(dir.length + 1));
      assert.deepEqual(rel, [
        join('train', 'ant', 'x.png'), join('train', 'ant', 'deep', 'y.png'), join('train', 'moth', 'm.Jpg'),
        join('train', 'zebra', 'a.PNG'), join('train', 'zebra', 'b.png'), join('train', 'zebra', 'c.jpeg'),
      ]);
      assert.deepEqual(Array.from(train.labels.data), [0, 0, 1, 2, 2, 2]);
      assert.deepEqual(train.images.shape, [6, 3, 4, 5]);
      // writeClasses coloured each file by its class order there (ant was written 2nd: red 0.1) and file number.
      const expected: [number, number][] = [[0.1, 0], [0.1, 0.01], [0.2, 0], [0, 0.01], [0, 0], [0, 0.02]];
      expected.forEach(([r, g], i) => {
        const px = train.images.data.subarray(i * 60, (i + 1) * 60);
        assertClose(px.subarray(0, 20), new Array(20).fill(r), { atol: 0.5 / 255 + 1e-6 }, `${rel[i]} red`);
        assertClose(px.subarray(20, 40), new Array(20).fill(g), { atol: 0.5 / 255 + 1e-6 }, `${rel[i]} green`);
        assertClose(px.subarray(40), new Array(20).fill(0.5), { atol: 0.5 / 255 + 1e-6 }, `${rel[i]} blue`);
      });
      const test = await loadImageFolder({ dir, split: 'test', inputShape: [1, 4, 4] });
      assert.deepEqual(test.classNames, ['ant', 'moth', 'zebra']);
      assert.deepEqual(Array.from(test.labels.data), [0, 1, 2]);
      assert.deepEqual(test.images.shape, [3, 1, 4, 4]);
      // Grey is the 601-2 luma of (red, green 0, blue 0.5); ant was written first there (red 0), moth second (red 0.1).
      assertClose(test.images.data.subarray(0, 16), new Array(16).fill(0.5 * 0.114), { atol: 0.5 / 255 + 1e-6 });
      assertClose(test.images.data.subarray(16, 32), new Array(16).fill(0.1 * 0.299 + 0.5 * 0.114), { atol: 0.5 / 255 + 1e-6 });
    });
  });

  test('DIR/<class> with a symbolic-linked class folder; images of different sizes all come out [C, H, W]', async () => {
    await withTempDir('stride-folder-', async (dir) => {
      await writeClasses(join(dir, 'data'), { cat: ['1.png', '2.png', '3.png', '4.png', '5.png'] });
      await writeClasses(join(dir, 'elsewhere'), { dog: ['1.png', '2.png', '3.png', '4.png', '5.png'] });
      await symlink(join(dir, 'elsewhere', 'dog'), join(dir, 'data', 'dog'));
      await put(join(dir, 'data', 'cat', '6.png'), await encodePng(flat(0, 0, 0, 50, 20)));
      const all = [...(await loadImageFolder({ dir: join(dir, 'data'), inputShape: [3, 8, 8] })).files, ...(await listImageFolder({ dir: join(dir, 'data'), split: 'test' })).files];
      assert.equal(all.length, 11);
      const train = await loadImageFolder({ dir: join(dir, 'data'), inputShape: [3, 8, 8] });
      assert.equal(train.layout, 'classes');
      assert.deepEqual(train.classNames, ['cat', 'dog']);
      assert.deepEqual(train.images.shape, [train.files.length, 3, 8, 8]);
    });
  });
});

describe('loadImageFolder: the DIR/<class> split', () => {
  const classes = { a: Array.from({ length: 10 }, (_, i) => `${i}.png`), b: Array.from({ length: 7 }, (_, i) => `${i}.png`), c: ['only.png'], d: ['0.png', '1.png'] };

  test('stratified, disjoint, complete; the same seed gives the same files; another seed others', async () => {
    await withTempDir('stride-split-', async (dir) => {
      await writeClasses(dir, classes);
      const list = (split: 'train' | 'test', seed?: number, testFraction?: number) => listImageFolder({ dir, split, seed, testFraction });
      const train = await list('train');
      const test = await list('test');
      const count = (l: { labels: number[] }, c: number) => l.labels.filter((x) => x === c).length;
      // round(n * 0.2), at least 1 and at most n - 1 for n >= 2; a single file stays in train.
      assert.deepEqual([0, 1, 2, 3].map((c) => count(test, c)), [2, 1, 0, 1]);
      assert.deepEqual([0, 1, 2, 3].map((c) => count(train, c)), [8, 6, 1, 1]);
      assert.equal(new Set([...train.files, ...test.files]).size, 20);
      assert.deepEqual((await list('test')).files, test.files);
      assert.deepEqual((await list('train', 0)).files, train.files);
      const others = await Promise.all([1, 2, 3].map((s) => list('test', s)));
      ok(others.some((o) => o.files.join() !== test.files.join()), 'another seed moves some files');
      const half = await list('test', 0, 0.5);
      assert.deepEqual([0, 1, 2, 3].map((c) => count(half, c)), [5, 4, 0, 1]);
      // Files stay in sorted order within a class, in both sets.
      for (const l of [train, test]) for (let i = 1; i < l.files.length; i++) if (l.labels[i] === l.labels[i - 1]) ok(l.files[i - 1] < l.files[i], 'sorted within a class');
    });
  });

  test("adding a class leaves the other classes' split as it was", async () => {
    await withTempDir('stride-split-', async (dir) => {
      await writeClasses(dir, classes);
      const before = await listImageFolder({ dir, split: 'test', seed: 5 });
      await writeClasses(dir, { aa: ['0.png', '1.png', '2.png'] });
      const after = await listImageFolder({ dir, split: 'test', seed: 5 });
      const aaFiles = after.files.filter((f) => f.includes(`${join(dir, 'aa')}/`));
      assert.deepEqual(after.files.filter((f) => !aaFiles.includes(f)), before.files);
      assert.deepEqual(after.classNames, ['a', 'aa', 'b', 'c', 'd']);
    });
  });

  test('limit takes the classes in turn, keeping the order', async () => {
    await withTempDir('stride-limit-', async (dir) => {
      await writeClasses(dir, classes);
      const all = await listImageFolder({ dir });
      const some = await listImageFolder({ dir, limit: 6 });
      assert.deepEqual(some.labels, [0, 0, 1, 1, 2, 3]);
      const firsts = (c: number, k: number) => all.files.filter((_, i) => all.labels[i] === c).slice(0, k);
      assert.deepEqual(some.files, [...firsts(0, 2), ...firsts(1, 2), ...firsts(2, 1), ...firsts(3, 1)]);
      const loaded = await loadImageFolder({ dir, limit: 3, inputShape: [3, 2, 2] });
      assert.deepEqual(loaded.images.shape, [3, 3, 2, 2]);
      assert.deepEqual(Array.from(loaded.labels.data), [0, 1, 2]);
      assert.equal((await listImageFolder({ dir, limit: 1000 })).files.length, all.files.length);
    });
  });
});

describe('loadImageFolder: errors', () => {
  test('missing folder, a file, no class folders, a class without images', async () => {
    await withTempDir('stride-errors-', async (dir) => {
      const shape = [3, 8, 8];
      await rejectsWith(loadImageFolder({ dir: join(dir, 'nope'), inputShape: shape }), DataError, `the folder ${join(dir, 'nope')} does not exist`);
      await writeFile(join(dir, 'file.png'), 'x');
      await rejectsWith(loadImageFolder({ dir: join(dir, 'file.png'), inputShape: shape }), DataError, 'is a file, not a folder');
      await rejectsWith(loadImageFolder({ dir, inputShape: shape }), DataError, `${dir} has no class folders`, '<class>');
      await writeClasses(dir, { cat: ['1.png'] });
      await mkdir(join(dir, 'dog'));
      await writeFile(join(dir, 'dog', 'readme.txt'), '');
      await mkdir(join(dir, 'emu'));
      await rejectsWith(loadImageFolder({ dir, inputShape: shape }), DataError, 'class folders dog (it holds readme.txt); emu (it is empty)', 'have no images', '.png, .jpg, .jpeg');
    });
  });

  test('train/ and test/ with different classes; a class folder holding folders only', async () => {
    await withTempDir('stride-errors-', async (dir) => {
      await writeClasses(join(dir, 'train'), { cat: ['1.png'], dog: ['1.png'], emu: ['1.png'] });
      await writeClasses(join(dir, 'test'), { cat: ['1.png'], dog: ['1.png'], fox: ['1.png'] });
      await rejectsWith(loadImageFolder({ dir, inputShape: [3, 8, 8] }), DataError, 'train/ and test/ must hold the same class folders', 'only train/ has emu and only test/ has fox');
    });
    await withTempDir('stride-errors-', async (dir) => {
      // train/ without test/: read as DIR/<class>, and 'train' holds no images of its own.
      await mkdir(join(dir, 'train', 'cat'), { recursive: true });
      await rejectsWith(loadImageFolder({ dir, inputShape: [3, 8, 8] }), DataError, 'class folder train (it holds cat/)', 'needs both train/ and test/');
    });
  });

  test('an image that does not decode names the file', async () => {
    await withTempDir('stride-errors-', async (dir) => {
      // dog's only file: a single file stays in 'train'.
      await writeClasses(dir, { cat: ['1.png', '2.png'] });
      await mkdir(join(dir, 'dog'));
      const good = await encodePng(flat(0, 0, 0));
      await writeFile(join(dir, 'dog', '2.png'), good.subarray(0, good.length - 20));
      await rejectsWith(loadImageFolder({ dir, inputShape: [3, 8, 8] }), DataError, `${join(dir, 'dog', '2.png')}: truncated PNG`);
      await writeFile(join(dir, 'dog', '2.png'), 'GIF89a....');
      await rejectsWith(loadImageFolder({ dir, inputShape: [3, 8, 8] }), DataError, join(dir, 'dog', '2.png'), 'GIF');
    });
  });

  test('options', async () => {
    const dir = '.';
    await rejectsWith(loadImageFolder({ dir, inputShape: [3, 8] }), ValueError, 'inputShape must be one image');
    await rejectsWith(loadImageFolder({ dir, inputShape: [2, 8, 8] }), ValueError, 'inputShape[0] is the channel count', 'got 2');
    await rejectsWith(loadImageFolder({ dir, inputShape: [3, 8, 8], testFraction: 1 }), ValueError, 'testFraction must be a number between 0 and 1');
    await rejectsWith(loadImageFolder({ dir, inputShape: [3, 8, 8], seed: -1 }), ValueError, 'seed must be a whole number >= 0');
    await rejectsWith(loadImageFolder({ dir, inputShape: [3, 8, 8], limit: 0 }), ValueError, 'limit must be a positive integer');
    await rejectsWith(loadImageFolder({ dir, inputShape: [3, 8, 8], split: 'val' as 'test' }), ValueError, "split must be 'train' or 'test'");
    await rejectsWith(loadImageFolder({ dir, inputShape: [3, 8, 8], shuffle: true } as never), ValueError, "unknown option 'shuffle'");
    await rejectsWith(loadImageFolder(null as never), ValueError, 'expected an options object');
  });
});

test('a LeNet-5-sized network learns a folder of PNG and JPEG gratings (3x40x48 from varied sizes) in two epochs', async (t) => {
  await withTempDir('stride-gratings-', async (dir) => {
    await writeFolderGratings(dir, { perClass: 150, seed: 2024 });
    const inputShape = [3, 40, 48];
    const train = await loadImageFolder({ dir, split: 'train', inputShape, testFraction: 0.25, seed: 1 });
    const test = await loadImageFolder({ dir, split: 'test', inputShape, testFraction: 0.25, seed: 1 });
    assert.deepEqual(train.images.shape, [448, 3, 40, 48]);
    assert.deepEqual(test.images.shape, [152, 3, 40, 48]);
    assert.deepEqual(train.classNames, ['falling', 'horizontal', 'rising', 'vertical']);
    const model = buildModelFromPattern('conv5-6-relu-pool2-conv5-16-relu-pool2-fc120-relu-fc84-relu-fc4', { inputShape, generator: new Generator(3) });
    const result = fit(model, {
      train: { images: normalize(train.images, 0.5, 0.25), labels: train.labels },
      test: { images: normalize(test.images, 0.5, 0.25), labels: test.labels },
      epochs: 2,
      batchSize: 10,
      optimizer: new Adam(model, { lr: 2e-3 }),
      generator: new Generator(4),
    });
    const accuracy = result.test!.accuracy;
    t.diagnostic(`test accuracy by epoch: ${result.history.map((h) => h.test!.accuracy.toFixed(3)).join(', ')}`);
    ok(accuracy >= 0.9, `test accuracy after two epochs is ${accuracy}; expected >= 0.9`);
  });
});
