/**
 * BatchPipeline (src/data/pipeline.ts): batches depend only on (seed, epoch,
 * batch index): byte-identical epochs with 0, 1 and 2 workers; the in-thread
 * path equals transformBatch with batchGenerator(seed, epoch, index) then
 * normalize, by definition; the shuffle is shuffleGenerator(seed, epoch)'s
 * permutation; the same seed gives the same bytes and another seed others.
 * Errors: bad options and specs fail at construction with parseAugment's
 * message; a transform that throws in a worker rejects the iteration with its
 * message; close() and abandoning an epoch end the workers. The timeouts are
 * liveness checks (no hang), not speed assertions.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { ValueError, ShapeError } from '../../src/errors.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/random.js';
import { BatchPipeline, batchGenerator, shuffleGenerator, type BatchPipelineOptions } from '../../src/data/pipeline.js';
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
    assert.equal(strideNode.batchGenerator, batchGenerator);
    assert.equal(strideNode.shuffleGenerator, shuffleGenerator);
  });
});
