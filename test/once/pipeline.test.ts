/**
 * BatchPipeline (src/data/pipeline.ts): batches depend only on (seed, epoch,
 * batch index): byte-identical epochs with 0, 1 and 2 workers; the in-thread
 * path equals transformBatch with batchGenerator(seed, epoch, index) then
 * normalize, by definition; the shuffle is shuffleGenerator(seed, epoch)'s
 * permutation; the same seed gives the same bytes and another seed others.
 * Errors: bad options and specs fail at construction with parseAugment's
 * message; a transform that throws in a worker rejects the iteration with its
 * message; close() and abandoning an epoch end the workers. fitEpochsAsync
 * with a pipeline as its batchSource trains on the examples fitEpochs'
 * DataLoader would give, in the same order: the same weights bit for bit when
 * the pipeline neither augments nor normalizes, and the same weights with 0
 * or 1 workers when it augments. The timeouts are liveness checks (no hang),
 * not speed assertions.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { DataError, ValueError, ShapeError } from '../../src/errors.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/random.js';
import { BatchPipeline, batchGenerator, sharedImages, shuffleGenerator, type BatchPipelineOptions } from '../../src/data/pipeline.js';
import { fitEpochs, fitEpochsAsync, type BatchSource, type FitOptions } from '../../src/train/fit.js';
import { nn, optim } from '../../src/index.js';
import { parseAugment, transformBatch } from '../../src/data/transforms/index.js';
import { normalize } from '../../src/data/mnist.js';
import * as strideNode from '../../src/node.js';
import { ok, rejectsWith, throwsWith } from '../helpers/index.js';

const N = 23;
const C = 3;
const H = 8;
const W = 8;

function dataset(seed = 5): { images: Tensor; labels: Tensor } {
  const g = new Generator(seed);
  const x = new Float32Array(N * C * H * W);
  for (let i = 0; i < x.length; i++) x[i] = g.random();
  const y = new Float32Array(N);
  for (let i = 0; i < N; i++) y[i] = i; // the label names the row, so the order can be read back
  return { images: new Tensor(x, [N, C, H, W]), labels: new Tensor(y, [N]) };
}

const SPEC = 'crop:2,flip,jitter:0.3/0.3,erase:0.5/value=random';
const NORM = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };

function pipeline(over: Partial<BatchPipelineOptions> = {}): BatchPipeline {
  return new BatchPipeline({ ...dataset(), batchSize: 5, augment: SPEC, normalize: NORM, seed: 11, shuffle: true, workers: 0, ...over });
}

interface Collected {
  x: Float32Array[];
  y: number[][];
  index: number[];
  shapes: string[];
}

async function collect(p: BatchPipeline, epoch: number): Promise<Collected> {
  const out: Collected = { x: [], y: [], index: [], shapes: [] };
  for await (const { x, y, index } of p.epoch(epoch)) {
    out.x.push(Float32Array.from(x.data));
    out.y.push(Array.from(y.data));
    out.index.push(index);
    out.shapes.push(x.shape.join('x'));
  }
  return out;
}

function sameBytes(a: Collected, b: Collected): boolean {
  if (a.x.length !== b.x.length) return false;
  return a.x.every((v, i) => Buffer.from(v.buffer).equals(Buffer.from(b.x[i].buffer))) && JSON.stringify(a.y) === JSON.stringify(b.y);
}

describe('BatchPipeline: determinism', { timeout: 120_000 }, () => {
  test('workers 0, 1 and 2 give byte-identical epochs, epoch after epoch', async () => {
    const runs: Collected[][] = [];
    for (const workers of [0, 1, 2]) {
      const p = pipeline({ workers, prefetch: 3 });
      try {
        runs.push([await collect(p, 0), await collect(p, 1)]);
      } finally {
        await p.close();
      }
    }
    for (const epoch of [0, 1]) {
      assert.deepEqual(runs[0][epoch].index, [0, 1, 2, 3, 4]);
      assert.deepEqual(runs[0][epoch].shapes, ['5x3x8x8', '5x3x8x8', '5x3x8x8', '5x3x8x8', '3x3x8x8']);
      ok(sameBytes(runs[0][epoch], runs[1][epoch]), `epoch ${epoch}: 1 worker differs from the in-thread batches`);
      ok(sameBytes(runs[0][epoch], runs[2][epoch]), `epoch ${epoch}: 2 workers differ from the in-thread batches`);
    }
    ok(!sameBytes(runs[0][0], runs[0][1]), 'epochs 0 and 1 must differ (a new shuffle and new draws)');
  });

  test('the in-thread path is transformBatch with batchGenerator(seed, epoch, index), then normalize; the order is shuffleGenerator(seed, epoch)', async () => {
    const { images, labels } = dataset();
    const p = pipeline();
    const epoch = 3;
    const order = Uint32Array.from({ length: N }, (_, i) => i);
    shuffleGenerator(11, epoch).shuffle(order);
    assert.deepEqual(Array.from(p.order(epoch)), Array.from(order));
    const { transform } = parseAugment(SPEC);
    const got = await collect(p, epoch);
    for (let b = 0; b < 5; b++) {
      const rows = order.subarray(b * 5, Math.min(N, (b + 1) * 5));
      const per = C * H * W;
      const gathered = new Float32Array(rows.length * per);
      rows.forEach((r, i) => gathered.set(images.data.subarray(r * per, (r + 1) * per), i * per));
      const expected = normalize(transformBatch(new Tensor(gathered, [rows.length, C, H, W]), transform, batchGenerator(11, epoch, b)), NORM.mean, NORM.std);
      ok(Buffer.from(got.x[b].buffer).equals(Buffer.from(Float32Array.from(expected.data).buffer)), `batch ${b} differs from transformBatch + normalize`);
      assert.deepEqual(got.y[b], Array.from(rows).map((r) => labels.data[r]));
    }
  });

  test('without shuffle the order is 0..N-1; with dropLast the short batch is skipped; float64 images stay float64', async () => {
    const { images, labels } = dataset();
    const p = pipeline({ shuffle: false, dropLast: true, augment: 'none', normalize: undefined });
    assert.equal(p.length, 4);
    const got = await collect(p, 0);
    assert.deepEqual(got.y.flat(), Array.from({ length: 20 }, (_, i) => i));
    ok(Buffer.from(got.x.map((a) => Buffer.from(a.buffer)).reduce((a, b) => Buffer.concat([a, b]))).equals(Buffer.from(images.data.buffer, 0, 20 * C * H * W * 4)), "'none' without normalize returns the rows unchanged");
    const p64 = new BatchPipeline({ images: new Tensor(Float64Array.from(images.data), images.shape), labels, batchSize: 8, augment: 'flip', seed: 1, workers: 1 });
    try {
      for await (const { x } of p64.epoch(0)) assert.equal(x.dtype, 'float64');
    } finally {
      await p64.close();
    }
  });

  test('an order given to epoch() replaces the shuffle; the augmentation still follows (seed, epoch, index)', async () => {
    const order = Uint32Array.from({ length: N }, (_, i) => (i * 7) % N);
    const p = pipeline();
    const given: Collected = { x: [], y: [], index: [], shapes: [] };
    for await (const { x, y } of p.epoch(2, order)) {
      given.x.push(Float32Array.from(x.data));
      given.y.push(Array.from(y.data));
    }
    assert.deepEqual(given.y.flat(), Array.from(order));
    // batch b is rows order[5b..] transformed by batchGenerator(11, 2, b), then normalized
    const { transform } = parseAugment(SPEC);
    const { images } = dataset();
    const per = C * H * W;
    for (let b = 0; b < 5; b++) {
      const rows = order.subarray(b * 5, Math.min(b * 5 + 5, N));
      const gathered = new Float32Array(rows.length * per);
      rows.forEach((r, i) => gathered.set(images.data.subarray(r * per, (r + 1) * per), i * per));
      const expected = normalize(transformBatch(new Tensor(gathered, [rows.length, C, H, W]), transform, batchGenerator(11, 2, b)), NORM.mean, NORM.std);
      ok(Buffer.from(given.x[b].buffer).equals(Buffer.from(Float32Array.from(expected.data).buffer)), `batch ${b} is rows order[${b * 5}..] augmented by batchGenerator(11, 2, ${b})`);
    }
    await assert.rejects(collect2(p.epoch(0, new Uint32Array(N - 1))), (e: unknown) => e instanceof ShapeError && /order holds 22 row indices, but the pipeline has 23 examples/.test(e.message));
    const bad = new Uint32Array(N);
    bad[4] = N;
    await rejectsWith(collect2(p.epoch(0, bad)), ValueError, 'order[4] is 23, but the rows are 0..22');
  });

  test('sharedImages moves the values to shared memory once; the workers read it in place with the same batches', async () => {
    const { images, labels } = dataset();
    const shared = sharedImages(images);
    ok(shared.data.buffer instanceof SharedArrayBuffer, 'the values are in a SharedArrayBuffer');
    assert.deepEqual(Array.from(shared.data), Array.from(images.data));
    assert.equal(sharedImages(shared), shared, 'a shared tensor is returned as it is');
    const a = pipeline({ workers: 1 });
    const b = new BatchPipeline({ images: shared, labels, batchSize: 5, augment: SPEC, normalize: NORM, seed: 11, shuffle: true, workers: 1 });
    try {
      ok(sameBytes(await collect(a, 3), await collect(b, 3)), 'the same batches from a shared tensor');
    } finally {
      await a.close();
      await b.close();
    }
    throwsWith(() => sharedImages([1, 2] as unknown as Tensor), ValueError, 'sharedImages: images must be a Tensor, got an array');
  });

  test('the same seed gives the same bytes; another seed other bytes', async () => {
    const a = await collect(pipeline({ seed: 11 }), 0);
    const b = await collect(pipeline({ seed: 11 }), 0);
    const c = await collect(pipeline({ seed: 12 }), 0);
    ok(sameBytes(a, b), 'seed 11 twice must give the same batches');
    ok(!sameBytes(a, c), 'seeds 11 and 12 must give different batches');
    ok(JSON.stringify(a.y) !== JSON.stringify(c.y), 'seeds 11 and 12 must shuffle differently');
  });

  test('batch generators of neighbouring (seed, epoch, index) are unrelated streams', () => {
    const first = (g: Generator) => g.nextUint32();
    const seen = new Set<number>();
    for (const [s, e, i] of [[0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0], [2 ** 32, 0, 0], [0, 2 ** 32, 0]]) seen.add(first(batchGenerator(s, e, i)));
    seen.add(first(shuffleGenerator(0, 0)));
    assert.equal(seen.size, 7);
    throwsWith(() => batchGenerator(-1, 0, 0), ValueError, 'seed must be an integer 0 <= seed < 2^53, got -1');
  });
});

describe('BatchPipeline: errors and ending', { timeout: 120_000 }, () => {
  test('a bad spec fails at construction with parseAugment\'s message', () => {
    let parseMessage = '';
    try {
      parseAugment('crop:4,flop');
    } catch (e) {
      parseMessage = (e as Error).message;
    }
    ok(parseMessage.length > 0, 'parseAugment rejects the spec');
    throwsWith(() => pipeline({ augment: 'crop:4,flop' }), ValueError, parseMessage);
    throwsWith(() => pipeline({ augment: ((x: Tensor) => x) as unknown as string }), ValueError, 'augment must be a parseAugment spec string', 'functions cannot cross');
  });

  test('bad options say what was wrong', () => {
    const { images, labels } = dataset();
    throwsWith(() => pipeline({ batchSize: 0 }), ValueError, 'batchSize must be a positive integer, got 0');
    throwsWith(() => pipeline({ seed: 1.5 }), ValueError, 'seed must be an integer');
    throwsWith(() => pipeline({ workers: -1 }), ValueError, 'workers must be an integer >= 0');
    throwsWith(() => pipeline({ prefetch: 0 }), ValueError, 'prefetch must be a positive integer');
    throwsWith(() => pipeline({ normalize: { mean: [0.5, 0.5], std: [1, 1] } }), ValueError, 'mean has 2 values', '3 channels');
    throwsWith(() => new BatchPipeline({ images: new Tensor(images.data, [N, C * H * W]), labels, batchSize: 4, augment: 'none', seed: 0 }), ShapeError, '[N, C, H, W]');
    throwsWith(() => new BatchPipeline({ images, labels: new Tensor(new Float32Array(3), [3]), batchSize: 4, augment: 'none', seed: 0 }), ShapeError, 'first dimensions must be equal');
    throwsWith(() => pipeline({ batchsize: 4 } as unknown as BatchPipelineOptions), ValueError, "unknown option 'batchsize'");
  });

  test('images holding NaN are refused at construction, naming the example and index; nonFinite zero makes batches with 0 there', async () => {
    const { images, labels } = dataset();
    const bad = new Tensor(images.data.slice(), images.shape);
    bad.data[6 * C * H * W + 2 * H * W + 3 * W + 4] = NaN; // example 6, index [2, 3, 4]
    throwsWith(() => new BatchPipeline({ images: bad, labels, batchSize: 5, augment: 'none', seed: 0, workers: 0 }), DataError, 'BatchPipeline: images hold a value that is not finite: NaN at example 6, index [2, 3, 4]');
    const cleaned = new BatchPipeline({ images: bad, labels, batchSize: N, augment: 'none', seed: 0, workers: 0, nonFinite: 'zero' });
    const [batch] = (await collect(cleaned, 0)).x;
    const expected = Float32Array.from(bad.data, (v) => (Number.isNaN(v) ? 0 : v));
    ok(Buffer.from(batch.buffer).equals(Buffer.from(expected.buffer)), 'the batch is the images with 0 in place of the NaN');
  });

  test('fitEpochsAsync checks the batches a source makes: a NaN in one is refused with its epoch and batch', async () => {
    const data = dataset();
    const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(C * H * W, N, { generator: new Generator(1) }));
    const source: BatchSource = {
      length: 5,
      *epoch(_epoch, order) {
        for (let b = 0; b < 5; b++) {
          const rows = order.subarray(b * 5, (b + 1) * 5);
          const x = new Tensor(new Float32Array(rows.length * C * H * W).fill(0.5), [rows.length, C, H, W]);
          if (b === 3) x.data[C * H * W + 7] = NaN;
          yield { x, y: new Tensor(Float32Array.from(rows), [rows.length]), index: b };
        }
      },
    };
    await rejectsWith(
      fitEpochsAsync(model, { train: data, epochs: 1, batchSize: 5, optimizer: new optim.SGD(model, { lr: 0.01 }), batchSource: source }).next(),
      DataError, 'fitEpochsAsync: at epoch 1, batch 4/5, the images the batch source made hold a value that is not finite: NaN at example 1, index [0, 0, 7]',
    );
  });

  test('a transform that throws in a worker rejects the iteration with its message; in this thread it throws the same', async () => {
    // a 20x20 crop of 8x8 images padded by 0: legal as a spec, impossible for these images
    const inThread = pipeline({ augment: 'crop:0/20' });
    let message = '';
    try {
      for await (const _ of inThread.epoch(0)) void _;
    } catch (e) {
      message = (e as Error).message;
    }
    ok(message.includes('randomCrop: the crop 20x20 is larger'), `in-thread error: ${message}`);
    const p = pipeline({ augment: 'crop:0/20', workers: 2 });
    try {
      await rejectsWith(collect(p, 0), ValueError, 'making batch 0 of epoch 0 failed in a worker', message);
      // the pipeline is usable again: the next epoch fails the same way, no hang
      await rejectsWith(collect(p, 1), ValueError, 'failed in a worker', 'randomCrop: the crop 20x20');
    } finally {
      await p.close();
    }
  });

  test('abandoning an epoch ends the workers and the next epoch starts new ones; close() ends them and rejects further epochs', async () => {
    const p = pipeline({ workers: 2, prefetch: 4 });
    const full = await collect(pipeline(), 0);
    for await (const { index } of p.epoch(0)) {
      if (index === 1) break;
    }
    const internals = p as unknown as { slots: unknown[]; pending: Map<number, unknown> };
    assert.equal(internals.slots.length, 0, 'no worker left after break');
    assert.equal(internals.pending.size, 0, 'no task left after break');
    ok(sameBytes(await collect(p, 0), full), 'the epoch after an abandoned one is whole and the same');
    await p.close();
    assert.equal(internals.slots.length, 0);
    await rejectsWith(collect(p, 0), ValueError, 'the pipeline is closed');
  });

  test('one epoch at a time', async () => {
    const p = pipeline();
    const it = p.epoch(0)[Symbol.asyncIterator]();
    await it.next();
    await rejectsWith(collect(p, 1), ValueError, 'another epoch is being iterated');
    await it.return(undefined);
    assert.equal((await collect(p, 1)).x.length, 5);
  });

  test('stride/node exports the pipeline', () => {
    assert.equal(strideNode.BatchPipeline, BatchPipeline);
    assert.equal(strideNode.sharedImages, sharedImages);
    assert.equal(strideNode.batchGenerator, batchGenerator);
    assert.equal(strideNode.shuffleGenerator, shuffleGenerator);
  });
});

async function collect2(batches: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of batches) n++;
  return n;
}

describe('fitEpochsAsync with a BatchPipeline as its batchSource', { timeout: 120_000 }, () => {
  function net(): nn.Sequential {
    const g = new Generator(3);
    return new nn.Sequential(new nn.Conv2d(C, 4, 3, { padding: 1, generator: g }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(4 * 4 * 4, N, { generator: g }));
  }
  function options(model: nn.Module, data: { images: Tensor; labels: Tensor }): FitOptions {
    return { train: data, epochs: 2, batchSize: 5, optimizer: new optim.SGD(model, { lr: 0.05, momentum: 0.9 }), generator: new Generator(9), lrSchedule: 'cosine' };
  }
  async function trained(source: (data: { images: Tensor; labels: Tensor }) => BatchSource | undefined): Promise<{ weights: Float32Array[]; losses: number[] }> {
    const data = dataset();
    const model = net();
    const batchSource = source(data);
    const losses: number[] = [];
    try {
      for await (const r of fitEpochsAsync(model, { ...options(model, data), ...(batchSource !== undefined ? { batchSource } : {}) })) losses.push(r.trainLoss);
    } finally {
      if (batchSource instanceof BatchPipeline) await batchSource.close();
    }
    return { weights: model.parameters().map((p) => Float32Array.from(p.data)), losses };
  }
  const same = (a: Float32Array[], b: Float32Array[]) => a.length === b.length && a.every((v, i) => Buffer.from(v.buffer).equals(Buffer.from(b[i].buffer)));

  test('without augmentation the pipeline gives the DataLoader\'s batches: the weights of fitEpochs, bit for bit; so does no batchSource', async () => {
    const data = dataset();
    const model = net();
    const losses: number[] = [];
    for (const r of fitEpochs(model, options(model, data))) losses.push(r.trainLoss);
    const plain = model.parameters().map((p) => Float32Array.from(p.data));
    const none = await trained((d) => new BatchPipeline({ ...d, batchSize: 5, augment: 'none', seed: 0, workers: 1 }));
    const bare = await trained(() => undefined);
    ok(same(none.weights, plain), 'pipeline with augment none: the fitEpochs weights');
    ok(same(bare.weights, plain), 'no batchSource: the fitEpochs weights');
    assert.deepEqual(none.losses, losses);
  });

  test('with augmentation, 0 and 1 workers train the same weights; another seed other weights', async () => {
    const make = (workers: number, seed: number) => (d: { images: Tensor; labels: Tensor }) => new BatchPipeline({ ...d, batchSize: 5, augment: SPEC, normalize: NORM, seed, workers });
    const [w0, w1, other] = [await trained(make(0, 4)), await trained(make(1, 4)), await trained(make(1, 5))];
    ok(same(w0.weights, w1.weights), 'workers 0 and 1: the same weights');
    ok(!same(w0.weights, other.weights), 'another augmentation seed: other weights');
  });

  test('a batch source of another length or one that ends early is refused, saying why', async () => {
    const data = dataset();
    const model = net();
    const short: BatchSource = { length: 4, epoch: () => [] };
    throwsWith(() => fitEpochsAsync(model, { ...options(model, data), batchSource: short }), ValueError, 'batchSource makes 4 batches per epoch, but 23 training examples in batches of 5 make 5');
    const early: BatchSource = { length: 5, epoch: () => [] };
    await rejectsWith(fitEpochsAsync(model, { ...options(model, data), batchSource: early }).next(), ValueError, 'batchSource gave 0 batches in epoch 1, but 23 examples in batches of 5 make 5');
    throwsWith(() => fitEpochsAsync(model, { ...options(model, data), batchSource: {} as BatchSource }), ValueError, 'batchSource must have length (batches per epoch) and epoch(epoch, order)');
    throwsWith(() => fitEpochsAsync(model, { ...options(model, data), batchSorce: short } as unknown as FitOptions), ValueError, "fitEpochsAsync: unknown option 'batchSorce'");
  });
});
